// SQLite schema as numbered migrations, applied in order at open. Never edit a released migration: append a new one.
// Times are epoch milliseconds (INTEGER); JSON columns hold TEXT produced by JSON.stringify.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'outbox, history, ledger, identities, facilities, api keys',
    sql: `
CREATE TABLE visits (
  org             TEXT    NOT NULL,
  visit_id        TEXT    NOT NULL,
  revision        INTEGER NOT NULL CHECK (revision >= 1),
  content_hash    TEXT    NOT NULL,
  record          TEXT    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN ('queued','sending','sent','needs-correction','blocked','dead-letter')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until     INTEGER,
  last_error      TEXT,
  resource_ids    TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  sent_at         INTEGER,
  PRIMARY KEY (org, visit_id)
);
-- Due work: only queued/sending rows are in this index, ordered by due time, so claiming N rows reads N index entries
-- however large the backlog (a sending row's next_attempt_at is its lease expiry).
CREATE INDEX visits_due ON visits (org, next_attempt_at) WHERE state IN ('queued','sending');
-- Counts per facility and state without touching the table.
CREATE INDEX visits_org_state ON visits (org, state);

-- Append-only history of state changes; bounded per visit by the store (see HISTORY_PER_VISIT).
CREATE TABLE visit_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  org        TEXT    NOT NULL,
  visit_id   TEXT    NOT NULL,
  revision   INTEGER NOT NULL,
  from_state TEXT,
  to_state   TEXT    NOT NULL,
  at         INTEGER NOT NULL,
  attempts   INTEGER NOT NULL,
  error      TEXT,
  FOREIGN KEY (org, visit_id) REFERENCES visits (org, visit_id) ON DELETE CASCADE
);
CREATE INDEX visit_events_visit ON visit_events (org, visit_id, id);

CREATE TABLE ledger (
  org           TEXT    NOT NULL,
  local_key     TEXT    NOT NULL,
  resource_type TEXT    NOT NULL,
  satusehat_id  TEXT    NOT NULL,
  content_hash  TEXT    NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (org, local_key)
);

CREATE TABLE identities (
  kind         TEXT    NOT NULL CHECK (kind IN ('patient','practitioner','location')),
  org          TEXT    NOT NULL,
  key_hash     TEXT    NOT NULL,
  satusehat_id TEXT    NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (kind, org, key_hash)
);

CREATE TABLE facility_state (
  org        TEXT    PRIMARY KEY,
  status     TEXT    NOT NULL CHECK (status IN ('active','paused','auth-failed','config-error')),
  reason     TEXT,
  not_before INTEGER,
  updated_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  key_hash TEXT PRIMARY KEY,
  org      TEXT,
  role     TEXT NOT NULL CHECK (role IN ('facility','admin')),
  label    TEXT,
  CHECK ((role = 'admin' AND org IS NULL) OR (role = 'facility' AND org IS NOT NULL))
);
`,
  },
  {
    version: 2,
    name: 'facility_state.cause: which check put a facility on hold, so the check that passes again can lift it',
    sql: `
ALTER TABLE facility_state ADD COLUMN cause TEXT CHECK (cause IS NULL OR cause IN ('credentials','url','access','operator'));
`,
  },
  {
    version: 3,
    name: 'store_probe: one row that readiness rewrites to prove the store can still commit',
    sql: `
CREATE TABLE store_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
`,
  },
  {
    version: 4,
    name: 'weighings: one row per visit that weighed a child, for the weight-gain status of the next visit',
    sql: `
CREATE TABLE weighings (
  org         TEXT    NOT NULL,
  visit_id    TEXT    NOT NULL,
  child_key   TEXT    NOT NULL,
  measured_on TEXT    NOT NULL,
  weight_g    INTEGER NOT NULL CHECK (weight_g > 0),
  PRIMARY KEY (org, visit_id)
);
CREATE INDEX weighings_child ON weighings (org, child_key, measured_on);
`,
  },
  {
    version: 5,
    name: 'queries: setting, location_code, visit_start on visits (back-filled from the record), list indexes; rejections kept from pushes',
    sql: `
ALTER TABLE visits ADD COLUMN setting TEXT;
ALTER TABLE visits ADD COLUMN location_code TEXT;
ALTER TABLE visits ADD COLUMN visit_start INTEGER;
-- julianday() reads ISO 8601 with an offset (+07:00, Z); a record without a readable start keeps NULL.
UPDATE visits SET
  setting = CASE WHEN json_valid(record) AND json_type(record, '$.setting') = 'text' THEN json_extract(record, '$.setting') END,
  location_code = CASE WHEN json_valid(record) AND json_type(record, '$.locationCode') = 'text' THEN json_extract(record, '$.locationCode') END,
  visit_start = CASE WHEN json_valid(record) AND json_type(record, '$.start') = 'text'
    THEN CAST(round((julianday(json_extract(record, '$.start')) - 2440587.5) * 86400000) AS INTEGER) END;
-- Newest first per facility, keyset-paged on (updated_at, visit_id).
CREATE INDEX visits_org_updated ON visits (org, updated_at, visit_id);
-- Oldest waiting record and last delivery per facility without walking its rows.
CREATE INDEX visits_waiting_since ON visits (org, created_at) WHERE state IN ('queued','sending');
CREATE INDEX visits_sent_at ON visits (org, sent_at) WHERE sent_at IS NOT NULL;

-- A record refused at push: who, which visit (when its id was well-formed), when, and the issues as answered
-- (expressions, codes, diagnostics: PII-free by contract). Never the record itself.
CREATE TABLE rejections (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  org      TEXT    NOT NULL,
  visit_id TEXT,
  at       INTEGER NOT NULL,
  issues   TEXT    NOT NULL
);
CREATE INDEX rejections_org_at ON rejections (org, at, id);
CREATE INDEX rejections_at ON rejections (at);
`,
  },
  {
    version: 6,
    name: 'api_keys: source (cli or file), created_at, revoked_at, so a key can be listed, revoked, and dropped from the file',
    sql: `
ALTER TABLE api_keys ADD COLUMN source TEXT NOT NULL DEFAULT 'cli' CHECK (source IN ('cli','file'));
ALTER TABLE api_keys ADD COLUMN created_at INTEGER;
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
`,
  },
  {
    version: 7,
    name: 'facility_state: reason_message (catalogue key and parameters of the reason, JSON), so it is said in the reader\'s language',
    sql: `
ALTER TABLE facility_state ADD COLUMN reason_message TEXT;
`,
  },
  {
    version: 8,
    name: 'health data at rest: the data key of each record body, purge of sent bodies, history by time',
    sql: `
-- The key id a body is sealed under (NULL: plain, written before encryption, or purged); record_purged_at: the body of a
-- sent record removed by retention (record = ''), the row, its content hash and the ledger kept.
ALTER TABLE visits ADD COLUMN record_key TEXT;
ALTER TABLE visits ADD COLUMN record_purged_at INTEGER;
CREATE INDEX visits_record_key ON visits (record_key) WHERE record_purged_at IS NULL;
CREATE INDEX visits_purgeable ON visits (sent_at) WHERE state = 'sent' AND record_purged_at IS NULL;
CREATE INDEX visit_events_at ON visit_events (at);
`,
  },
  {
    version: 10,
    name: 'visits.claim_seq: the fence of every outcome, and the answer to "was this visit ever claimed before"',
    // Back-fill: the number of claims the history still shows, at least 1 for a row that was claimed at all (sending,
    // sent, attempts counted, ids recorded) or whose history was pruned (its first event is gone): a row claimed before
    // must never look new, or its next attempt would skip the platform search and could create a duplicate.
    // A row left `sending` by the process that was upgraded takes that count as its current claim: its claimer is gone
    // (the old version stopped), and the expired lease makes the row due again, when it is claimed as count + 1.
    sql: `
ALTER TABLE visits ADD COLUMN claim_seq INTEGER NOT NULL DEFAULT 0 CHECK (claim_seq >= 0);
UPDATE visits SET claim_seq = max(
  (SELECT count(*) FROM visit_events e WHERE e.org = visits.org AND e.visit_id = visits.visit_id AND e.to_state = 'sending'),
  CASE WHEN state IN ('sending','sent') OR attempts > 0 OR resource_ids IS NOT NULL THEN 1 ELSE 0 END,
  CASE WHEN NOT EXISTS (SELECT 1 FROM visit_events e WHERE e.org = visits.org AND e.visit_id = visits.visit_id AND e.from_state IS NULL)
    THEN 1 ELSE 0 END
);
`,
  },
  {
    version: 11,
    name: 'several instances: the sliding-window quota per credential, the shared token cache, named leases',
    sql: `
-- One row per credential: locked (written) by every grant, so grants of all instances are counted one at a time; the
-- Retry-After pause every instance honours.
CREATE TABLE quota_state (credential TEXT PRIMARY KEY, paused_until INTEGER NOT NULL DEFAULT 0);
-- The grant log: one row per point granted, pruned when it leaves the window.
CREATE TABLE quota_grants (credential TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX quota_grants_credential_at ON quota_grants (credential, at);
-- The token of a credential sealed by the record codec (never in clear), its sha256 for compare-and-delete after a 401,
-- and a failed request's block (the auth lockout) with the failure as JSON (secret-free).
CREATE TABLE platform_tokens (
  credential    TEXT PRIMARY KEY,
  token         TEXT,
  token_hash    TEXT,
  expires_at    INTEGER,
  refresh_at    INTEGER,
  blocked_until INTEGER,
  blocked_state TEXT CHECK (blocked_state IS NULL OR blocked_state IN ('auth-failed','rate-limited','unavailable')),
  blocked_error TEXT,
  updated_at    INTEGER NOT NULL
);
-- Who does a one-off job (a token fetch, registering one identity) until when; names hold hashes, never a NIK.
CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until INTEGER NOT NULL);
`,
  },
  {
    version: 12,
    name: 'visit_events.error_messages: the issues of each history entry with their catalogue messages (JSON), so older entries are said in the reader\'s language too',
    sql: `
ALTER TABLE visit_events ADD COLUMN error_messages TEXT;
`,
  },
  {
    version: 13,
    name: 'quota_minutes: platform points granted per credential and minute, by every instance (the overview\'s quota use over the last hour)',
    sql: `
-- minute: epoch ms of the minute's start. One upsert per grant; rows older than two hours are pruned by the grants.
CREATE TABLE quota_minutes (credential TEXT NOT NULL, minute INTEGER NOT NULL, granted INTEGER NOT NULL, PRIMARY KEY (credential, minute)) WITHOUT ROWID;
`,
  },
  {
    version: 14,
    name: 'import_jobs: the console\'s background imports, so every instance answers a job\'s page and a dead instance\'s job shows as interrupted',
    sql: `
-- holder: the instance running the job; lease_until: its heartbeat (a running job past it was cut off with its instance).
-- progress, errors (capped), file_error: JSON, PII-free (counts; row errors name rows, columns and rules).
CREATE TABLE import_jobs (
  id          TEXT PRIMARY KEY,
  org         TEXT NOT NULL,
  template    TEXT NOT NULL,
  dry_run     INTEGER NOT NULL,
  locale      TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('running','done','failed')),
  holder      TEXT NOT NULL,
  lease_until INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  progress    TEXT,
  errors      TEXT NOT NULL DEFAULT '[]',
  more_errors INTEGER NOT NULL DEFAULT 0,
  file_error  TEXT
);
CREATE INDEX import_jobs_running ON import_jobs (org) WHERE state = 'running';
`,
  },
  {
    version: 15,
    name: 'console_sessions: operator console sessions, so a session holds on every instance and through a restart',
    sql: `
-- id_hash: sha256 of the cookie value (a reader of the file cannot take a session over); key_hash: sha256 of the API key.
-- last_seen: epoch ms of the last use, rewritten at most every ~30 s; flash: the next page's one message.
CREATE TABLE console_sessions (
  id_hash   TEXT PRIMARY KEY,
  key_hash  TEXT NOT NULL,
  csrf      TEXT NOT NULL,
  last_seen INTEGER NOT NULL,
  flash     TEXT
) WITHOUT ROWID;
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
`,
  },
];

export const latestSchemaVersion = migrations.reduce((m, x) => Math.max(m, x.version), 0);
