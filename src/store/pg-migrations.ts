// PostgreSQL schema as numbered migrations (its own sequence, independent of SQLite's), applied in order at open under
// an advisory lock. Never edit a released migration: append a new one. The tables mirror the SQLite schema: times are
// epoch milliseconds (BIGINT), the record body is TEXT (it may be sealed by the record codec), other JSON is JSONB.
// Text keys use COLLATE "C" so ordering and paging are by code point, as in SQLite, whatever the database's locale.

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: 'outbox (with claim_seq), history, ledger, identities, facilities, api keys, weighings, rejections, probe',
    sql: `
CREATE TABLE visits (
  rid             BIGINT  GENERATED ALWAYS AS IDENTITY UNIQUE,
  org             TEXT    COLLATE "C" NOT NULL,
  visit_id        TEXT    COLLATE "C" NOT NULL,
  revision        INTEGER NOT NULL CHECK (revision >= 1),
  content_hash    TEXT    NOT NULL,
  record          TEXT    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN ('queued','sending','sent','needs-correction','blocked','dead-letter')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  -- Claims of this visit over all revisions, never reset: the fence every outcome is checked against.
  claim_seq       INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT  NOT NULL,
  lease_until     BIGINT,
  last_error      JSONB,
  resource_ids    JSONB,
  created_at      BIGINT  NOT NULL,
  updated_at      BIGINT  NOT NULL,
  sent_at         BIGINT,
  setting         TEXT    COLLATE "C",
  location_code   TEXT    COLLATE "C",
  visit_start     BIGINT,
  PRIMARY KEY (org, visit_id)
);
-- Due work: only queued/sending rows, by due time (a sending row's next_attempt_at is its lease expiry).
CREATE INDEX visits_due ON visits (org, next_attempt_at, rid) WHERE state IN ('queued','sending');
CREATE INDEX visits_org_state ON visits (org, state);
CREATE INDEX visits_org_updated ON visits (org, updated_at, visit_id);
CREATE INDEX visits_updated ON visits (updated_at, org, visit_id);
CREATE INDEX visits_waiting_since ON visits (org, created_at) WHERE state IN ('queued','sending');
CREATE INDEX visits_sent_at ON visits (org, sent_at) WHERE sent_at IS NOT NULL;

CREATE TABLE visit_events (
  id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org        TEXT    COLLATE "C" NOT NULL,
  visit_id   TEXT    COLLATE "C" NOT NULL,
  revision   INTEGER NOT NULL,
  from_state TEXT,
  to_state   TEXT    NOT NULL,
  at         BIGINT  NOT NULL,
  attempts   INTEGER NOT NULL,
  error      TEXT,
  FOREIGN KEY (org, visit_id) REFERENCES visits (org, visit_id) ON DELETE CASCADE
);
CREATE INDEX visit_events_visit ON visit_events (org, visit_id, id);

CREATE TABLE ledger (
  org           TEXT   COLLATE "C" NOT NULL,
  local_key     TEXT   COLLATE "C" NOT NULL,
  resource_type TEXT   NOT NULL,
  satusehat_id  TEXT   NOT NULL,
  content_hash  TEXT   NOT NULL,
  updated_at    BIGINT NOT NULL,
  PRIMARY KEY (org, local_key)
);

CREATE TABLE identities (
  kind         TEXT   NOT NULL CHECK (kind IN ('patient','practitioner','location')),
  org          TEXT   COLLATE "C" NOT NULL,
  key_hash     TEXT   NOT NULL,
  satusehat_id TEXT   NOT NULL,
  updated_at   BIGINT NOT NULL,
  PRIMARY KEY (kind, org, key_hash)
);
CREATE INDEX identities_org ON identities (org);

CREATE TABLE facility_state (
  org        TEXT   COLLATE "C" PRIMARY KEY,
  status     TEXT   NOT NULL CHECK (status IN ('active','paused','auth-failed','config-error')),
  cause      TEXT   CHECK (cause IS NULL OR cause IN ('credentials','url','access','operator')),
  reason     TEXT,
  not_before BIGINT,
  updated_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
  key_hash   TEXT PRIMARY KEY,
  org        TEXT,
  role       TEXT NOT NULL CHECK (role IN ('facility','admin')),
  label      TEXT,
  source     TEXT NOT NULL DEFAULT 'cli' CHECK (source IN ('cli','file')),
  created_at BIGINT,
  revoked_at BIGINT,
  CHECK ((role = 'admin' AND org IS NULL) OR (role = 'facility' AND org IS NOT NULL))
);

CREATE TABLE weighings (
  org         TEXT    COLLATE "C" NOT NULL,
  visit_id    TEXT    COLLATE "C" NOT NULL,
  child_key   TEXT    NOT NULL,
  measured_on TEXT    COLLATE "C" NOT NULL,
  weight_g    INTEGER NOT NULL CHECK (weight_g > 0),
  PRIMARY KEY (org, visit_id)
);
CREATE INDEX weighings_child ON weighings (org, child_key, measured_on);

CREATE TABLE rejections (
  id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org      TEXT   COLLATE "C" NOT NULL,
  visit_id TEXT   COLLATE "C",
  at       BIGINT NOT NULL,
  issues   JSONB  NOT NULL
);
CREATE INDEX rejections_org_at ON rejections (org, at, id);
CREATE INDEX rejections_at ON rejections (at, id);

CREATE TABLE store_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at BIGINT NOT NULL);
`,
  },
  {
    version: 2,
    name: 'health data at rest: the data key of each record body, purge of sent bodies, history by time',
    sql: `
-- The key id a body is sealed under (NULL: plain, or purged); record_purged_at: the body of a sent record removed by
-- retention (record = ''), the row, its content hash and the ledger kept.
ALTER TABLE visits ADD COLUMN record_key TEXT COLLATE "C";
ALTER TABLE visits ADD COLUMN record_purged_at BIGINT;
CREATE INDEX visits_record_key ON visits (record_key) WHERE record_purged_at IS NULL;
CREATE INDEX visits_purgeable ON visits (sent_at) WHERE state = 'sent' AND record_purged_at IS NULL;
CREATE INDEX visit_events_at ON visit_events (at, id);
`,
  },
  {
    version: 3,
    name: 'facility_state: reason_message (catalogue key and parameters of the reason), so it is said in the reader\'s language',
    sql: `
ALTER TABLE facility_state ADD COLUMN reason_message JSONB;
`,
  },
  {
    version: 4,
    name: 'several instances: the sliding-window quota per credential, the shared token cache, named leases',
    sql: `
-- Times on the database server's clock (epoch ms). quota_state is row-locked by every grant of its credential.
CREATE TABLE quota_state (credential TEXT COLLATE "C" PRIMARY KEY, paused_until BIGINT NOT NULL DEFAULT 0);
CREATE TABLE quota_grants (credential TEXT COLLATE "C" NOT NULL, at BIGINT NOT NULL);
CREATE INDEX quota_grants_credential_at ON quota_grants (credential, at);
CREATE TABLE platform_tokens (
  credential    TEXT COLLATE "C" PRIMARY KEY,
  token         TEXT,
  token_hash    TEXT,
  expires_at    BIGINT,
  refresh_at    BIGINT,
  blocked_until BIGINT,
  blocked_state TEXT CHECK (blocked_state IS NULL OR blocked_state IN ('auth-failed','rate-limited','unavailable')),
  blocked_error JSONB,
  updated_at    BIGINT NOT NULL
);
CREATE TABLE leases (name TEXT COLLATE "C" PRIMARY KEY, holder TEXT NOT NULL, until BIGINT NOT NULL);
`,
  },
  {
    version: 5,
    name: 'visit_events.error_messages: the issues of each history entry with their catalogue messages, so older entries are said in the reader\'s language too',
    sql: `
ALTER TABLE visit_events ADD COLUMN error_messages JSONB;
`,
  },
  {
    version: 6,
    name: 'quota_minutes: platform points granted per credential and minute, by every instance (the overview\'s quota use over the last hour)',
    sql: `
-- minute: epoch ms of the minute's start (database clock). One upsert per grant; rows older than two hours are pruned by the grants.
CREATE TABLE quota_minutes (credential TEXT COLLATE "C" NOT NULL, minute BIGINT NOT NULL, granted INTEGER NOT NULL, PRIMARY KEY (credential, minute));
`,
  },
  {
    version: 7,
    name: 'import_jobs: the console\'s background imports, so every instance answers a job\'s page and a dead instance\'s job shows as interrupted',
    sql: `
CREATE TABLE import_jobs (
  id          TEXT COLLATE "C" PRIMARY KEY,
  org         TEXT COLLATE "C" NOT NULL,
  template    TEXT NOT NULL,
  dry_run     BOOLEAN NOT NULL,
  locale      TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('running','done','failed')),
  holder      TEXT NOT NULL,
  lease_until BIGINT NOT NULL,
  started_at  BIGINT NOT NULL,
  finished_at BIGINT,
  progress    JSONB,
  errors      JSONB NOT NULL DEFAULT '[]',
  more_errors INTEGER NOT NULL DEFAULT 0,
  file_error  JSONB
);
CREATE INDEX import_jobs_running ON import_jobs (org) WHERE state = 'running';
`,
  },
  {
    version: 8,
    name: 'console_sessions: operator console sessions, so a session holds on every instance and through a restart',
    sql: `
-- id_hash: sha256 of the cookie value (a reader of the database cannot take a session over); key_hash: sha256 of the API key.
-- last_seen: epoch ms (database clock) of the last use, rewritten at most every ~30 s; flash: the next page's one message.
CREATE TABLE console_sessions (
  id_hash   TEXT COLLATE "C" PRIMARY KEY,
  key_hash  TEXT COLLATE "C" NOT NULL,
  csrf      TEXT NOT NULL,
  last_seen BIGINT NOT NULL,
  flash     TEXT
);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
`,
  },
];

export const latestPgSchemaVersion = pgMigrations.reduce((m, x) => Math.max(m, x.version), 0);
