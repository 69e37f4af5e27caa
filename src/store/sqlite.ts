// The embedded store: one SQLite file (better-sqlite3), WAL, every state change one IMMEDIATE transaction.
// Synchronous inside, Promise outside: each method is `async` only to fit the Store contract; a transaction never spans an await.
// Durability: with WAL + synchronous=NORMAL a committed transaction survives kill -9 of the process; after an OS crash or
// power loss the last few commits may be rolled back (synchronous 'FULL' closes that gap: measured ~2x slower autocommit, ~1.3x slower batches).
import { statSync, unlinkSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { OperationOutcome } from 'fhir/r4.js';
import type {
  ApiKeyImport, ApiKeyRow, ImportJobStore, ConsoleSessionStore, BodyKeyCounts, QuotaAnswer, SharedTokenState, SharedTokenUpdate, Claim, ClaimedVisit, Counts, ReencryptBatch, RetentionCutoffs, RetentionPreview, RetentionResult, DueSplit, EarlierWeighing, FacilityFacts, FacilityState, IdentityEntry, IngestItem, IngestStatus, LedgerEntry, RejectionEntry, RejectionIssue, RejectionListFilter, Store, StoredRejection, VisitEvent, VisitListFilter, VisitRow, VisitState, VisitSummary,
} from './types.js';
import { visitLedgerPrefix } from './types.js';
import { latestSchemaVersion, migrations } from './migrations.js';
import { assertOurDatabase, corruptDatabase, inspectDatabaseFile, integrityProblems, prepareDatabaseFile, schemaTooNew, StoreSchemaError } from './open-checks.js';
import { toStorageError, withStorageErrors } from './storage-error.js';
import { plainRecordCodec, recordAad, sealedKeyId, type RecordCodec } from './record-codec.js';
import * as atRest from './sqlite-at-rest.js';
import { sharedStateOf } from './sqlite-shared-state.js';
import { importJobsOf } from './sqlite-import-jobs.js';
import { consoleSessionsOf } from './sqlite-console-sessions.js';
import {
  assertClaim, assertLimit, assertTime, checkedIngestItem, FINAL_STATES, listColumns, nonEmpty, STATES, summarise, summaryIssues, toApiKeyRow,
  toFacilityState, toLedgerEntry, toSummary, toVisitEvent, toVisitRow, unreadableOutcome, type DbApiKey, type DbEvent, type DbFacilityState, type DbSummary, type DbVisitOf,
} from './shared.js';

export { StoreSchemaError } from './open-checks.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:' (tests). */
  file: string;
  /** 'NORMAL' (default) survives process crashes; 'FULL' also survives power loss, at a write-speed cost. */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for another connection's lock before failing (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** State-change events kept per visit (older ones are pruned). Default 50. */
  historyPerVisit?: number;
  /** `PRAGMA quick_check` of an existing file before use (default true); a damaged file is refused. */
  quickCheck?: boolean;
  /** Seals record bodies at rest (default: stored plain, for tests; the service passes its data keyring). */
  codec?: RecordCodec;
}


/** SQLite's row: JSON columns as text, and the id of the key that sealed the body. */
type DbVisit = DbVisitOf<string> & { record_key: string | null };

const parseJson = (text: string): unknown => JSON.parse(text);

/** WHERE clause and its parameters, built from the filters present (the SQL text is then one of few shapes, cached). */
class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];
  add(sql: string, ...params: unknown[]): void {
    this.parts.push(sql);
    this.params.push(...params);
  }
  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** The list order: updatedAt, then organization, then visitId, all descending (as the SQL ORDER BY, binary collation). */
function newestFirst(a: VisitSummary, b: VisitSummary): number {
  if (a.updatedAt !== b.updatedAt) return b.updatedAt - a.updatedAt;
  if (a.organizationId !== b.organizationId) return a.organizationId < b.organizationId ? 1 : -1;
  return a.visitId === b.visitId ? 0 : a.visitId < b.visitId ? 1 : -1;
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const current = () => (db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  const apply = db.transaction(() => {
    const have = current();
    if (have > latestSchemaVersion) {
      throw schemaTooNew(have, latestSchemaVersion, 'sqlite');
    }
    const insert = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= have) continue;
      db.exec(m.sql);
      insert.run(m.version, m.name, Date.now());
    }
  });
  // IMMEDIATE: two processes opening the same fresh file cannot both apply migration 1.
  apply.immediate();
}

export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const historyPerVisit = opts.historyPerVisit ?? 50;
  const inMemory = opts.file === ':memory:' || opts.file === '';
  const created = inMemory ? true : prepareDatabaseFile(opts.file).created;
  let db: Database.Database;
  try {
    db = new Database(opts.file);
  } catch (e) {
    throw refusalFor(e, opts.file) ?? toStorageError(e) ?? e;
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
    if (!created) {
      assertOurDatabase(db, opts.file);
      if (opts.quickCheck !== false) {
        const problems = integrityProblems(db, 'quick_check', 5);
        if (problems.length) throw corruptDatabase(opts.file, problems);
      }
    }
    // Takes effect only when the file is created: ~2 KB records fit three to an 8 KB page but one to a 4 KB page
    // (measured: 100k visits 278 MB instead of 409 MB, batched ingest ~15% faster).
    db.pragma('page_size = 8192');
    if (!db.memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not switch the database to WAL mode (got ${String(mode)})`);
    }
    db.pragma(`synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    // The WAL file keeps its high-water size after checkpoints unless capped.
    db.pragma('journal_size_limit = 67108864');
    db.pragma('foreign_keys = ON');
    // Freed cells and pages are zeroed: a revised, re-encrypted or purged body leaves no old copy in the file.
    db.pragma('secure_delete = ON');
    migrate(db);
    atRest.assertKeysAvailable(atRest.atRestStatements(db), opts.codec ?? plainRecordCodec, opts.file);
  } catch (e) {
    db.close();
    // A file we created and never wrote to would be refused as "empty" at the next start.
    if (created && !inMemory) removeIfEmpty(opts.file);
    throw refusalFor(e, opts.file) ?? toStorageError(e) ?? e;
  }
  return withStorageErrors<Store>(new SqliteStore(db, historyPerVisit, opts.codec ?? plainRecordCodec));
}

function removeIfEmpty(file: string): void {
  try {
    if (statSync(file).size === 0) unlinkSync(file);
  } catch {
    // best effort: the error that stopped the open is the one to report
  }
}

/**
 * `ilp-adapter store check`: the full PRAGMA integrity_check of an existing database file, without migrating or
 * writing anything. Problems found (at most `maxProblems`; [] = sound); StoreSchemaError when the file is not an
 * ilp-adapter database at all (empty, not SQLite, another application's).
 */
export function checkDatabaseFile(file: string, maxProblems = 100): string[] {
  inspectDatabaseFile(file);
  const db = new Database(file, { fileMustExist: true });
  // Damage can stop a check half-way (SQLITE_CORRUPT): that is a finding, not a failure to check.
  const findings = (kind: 'integrity_check' | 'quick_check', max: number): string[] | Error => {
    try {
      return integrityProblems(db, kind, max);
    } catch (e) {
      if (toStorageError(e)?.fault === 'corrupt') return e as Error;
      throw e;
    }
  };
  try {
    assertOurDatabase(db, file);
    // A check asked for fewer problems stops earlier, often before the damage that stops the full one.
    const quick = findings('quick_check', 5);
    const full = findings('integrity_check', maxProblems);
    if (Array.isArray(full)) return full;
    return Array.isArray(quick) && quick.length ? quick : [`the database cannot be read: ${full.message}`];
  } catch (e) {
    if (toStorageError(e)?.fault === 'corrupt') return [`the database cannot be read: ${(e as Error).message}`];
    throw e;
  } finally {
    db.close();
  }
}

/** A damaged file found while opening (SQLite reads pages lazily, so a bad page may show before quick_check). */
function refusalFor(err: unknown, file: string): StoreSchemaError | undefined {
  if (err instanceof StoreSchemaError) return err;
  const fault = toStorageError(err);
  return fault?.fault === 'corrupt' ? corruptDatabase(file, []) : undefined;
}

function prepareStatements(db: Database.Database, historyPerVisit: number) {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  const DUE = `state IN ('queued','sending')`; // must match the visits_due partial index
  return {
    visitByKey: p<DbVisit>('SELECT rowid AS rid, * FROM visits WHERE org = ? AND visit_id = ?'),
    insertVisit: p(`INSERT INTO visits (org, visit_id, revision, content_hash, record, record_key, state, attempts, next_attempt_at, created_at, updated_at,
                    setting, location_code, visit_start) VALUES (?, ?, 1, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?)`),
    reviseVisit: p(`UPDATE visits SET revision = revision + 1, content_hash = ?, record = ?, record_key = ?, record_purged_at = NULL, state = 'queued', attempts = 0,
                    next_attempt_at = ?, last_error = NULL, updated_at = ?, setting = ?, location_code = ?, visit_start = ? WHERE rowid = ?`),
    dueRows: p<DbVisit>(`SELECT rowid AS rid, * FROM visits INDEXED BY visits_due WHERE org = ? AND ${DUE} AND next_attempt_at <= ?
                         ORDER BY next_attempt_at, rowid LIMIT ?`),
    claim: p(`UPDATE visits SET state = 'sending', attempts = attempts + 1, claim_seq = claim_seq + 1, lease_until = ?, next_attempt_at = ?,
              updated_at = ? WHERE rowid = ?`),
    // Skip-scan over the partial index: one seek per facility with queued/sending rows, however many rows each has
    // (INDEXED BY: the (org, state) index would walk every sent row of a facility instead).
    dueOrgs: p<{ org: string }>(`
      WITH RECURSIVE o(org) AS (
        SELECT (SELECT min(org) FROM visits INDEXED BY visits_due WHERE ${DUE})
        UNION ALL
        SELECT (SELECT min(org) FROM visits INDEXED BY visits_due WHERE ${DUE} AND org > o.org) FROM o WHERE o.org IS NOT NULL
      )
      SELECT org FROM o WHERE org IS NOT NULL
        AND EXISTS (SELECT 1 FROM visits v WHERE v.org = o.org AND v.${DUE} AND v.next_attempt_at <= ?)`),
    // The lease expiry doubles as the due time (see claimDue): both move together.
    renew: p(`UPDATE visits SET lease_until = ?, next_attempt_at = ? WHERE rowid = ?`),
    setSent: p(`UPDATE visits SET state = 'sent', resource_ids = ?, sent_at = ?, last_error = NULL, lease_until = NULL, updated_at = ? WHERE rowid = ?`),
    setRetry: p(`UPDATE visits SET state = 'queued', attempts = max(0, attempts - ?), next_attempt_at = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE rowid = ?`),
    setFinal: p(`UPDATE visits SET state = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE rowid = ?`),
    release: p(`UPDATE visits SET next_attempt_at = ? WHERE rowid = ?`),
    requeue: p(`UPDATE visits SET state = 'queued', attempts = 0, next_attempt_at = ?, last_error = NULL, lease_until = NULL, updated_at = ? WHERE rowid = ?`),
    countsAll: p<{ state: VisitState; n: number }>('SELECT state, count(*) AS n FROM visits GROUP BY state'),
    countsOrg: p<{ state: VisitState; n: number }>('SELECT state, count(*) AS n FROM visits WHERE org = ? GROUP BY state'),
    // Two ranges of the visits_org_state index: cheap per push however many visits were sent before.
    pendingOrg: p<{ n: number }>(`SELECT count(*) AS n FROM visits WHERE org = ? AND state IN ('queued','sending')`),
    dueSplit: p<{ due: number | null; later: number | null; next: number | null }>(`
      SELECT sum(next_attempt_at <= ?) AS due, sum(next_attempt_at > ?) AS later, min(CASE WHEN next_attempt_at > ? THEN next_attempt_at END) AS next
      FROM visits INDEXED BY visits_due WHERE org = ? AND state IN ('queued','sending')`),
    insertEvent: p(`INSERT INTO visit_events (org, visit_id, revision, from_state, to_state, at, attempts, error, error_messages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    pruneEvents: p(`DELETE FROM visit_events WHERE org = ? AND visit_id = ? AND id <= (
                      SELECT id FROM visit_events WHERE org = ? AND visit_id = ? ORDER BY id DESC LIMIT 1 OFFSET ${Math.max(1, Math.trunc(historyPerVisit))})`),
    events: p<DbEvent<string>>(
      'SELECT revision, from_state, to_state, at, attempts, error, error_messages FROM visit_events WHERE org = ? AND visit_id = ? ORDER BY id'),
    getLedger: p<{ org: string; local_key: string; resource_type: string; satusehat_id: string; content_hash: string; updated_at: number }>(
      'SELECT * FROM ledger WHERE org = ? AND local_key = ?'),
    // A key range on the primary key (org, local_key): [prefix, prefix with its last character incremented).
    ledgerRange: p<{ org: string; local_key: string; resource_type: string; satusehat_id: string; content_hash: string; updated_at: number }>(
      'SELECT * FROM ledger WHERE org = ? AND local_key >= ? AND local_key < ? ORDER BY local_key'),
    putLedger: p(`INSERT INTO ledger (org, local_key, resource_type, satusehat_id, content_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                  ON CONFLICT (org, local_key) DO UPDATE SET resource_type = excluded.resource_type, satusehat_id = excluded.satusehat_id,
                  content_hash = excluded.content_hash, updated_at = excluded.updated_at`),
    forgetLedger: p('DELETE FROM ledger WHERE org = ?'),
    forgetIdentities: p('DELETE FROM identities WHERE org = ?'),
    getIdentity: p<{ kind: IdentityEntry['kind']; org: string; key_hash: string; satusehat_id: string; updated_at: number }>(
      'SELECT * FROM identities WHERE kind = ? AND org = ? AND key_hash = ?'),
    putIdentity: p(`INSERT INTO identities (kind, org, key_hash, satusehat_id, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (kind, org, key_hash) DO UPDATE SET satusehat_id = excluded.satusehat_id, updated_at = excluded.updated_at`),
    getFacility: p<DbFacilityState<string>>(
      'SELECT * FROM facility_state WHERE org = ?'),
    putFacility: p(`INSERT INTO facility_state (org, status, cause, reason, reason_message, not_before, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (org) DO UPDATE SET status = excluded.status, cause = excluded.cause, reason = excluded.reason, reason_message = excluded.reason_message,
                    not_before = excluded.not_before, updated_at = excluded.updated_at`),
    // created_at and revoked_at survive an update: re-importing a file neither renews a key's age nor lifts a revocation.
    putApiKey: p(`INSERT INTO api_keys (key_hash, org, role, label, source, created_at) VALUES (?, ?, ?, ?, ?, ?)
                  ON CONFLICT (key_hash) DO UPDATE SET org = excluded.org, role = excluded.role, label = excluded.label,
                  source = excluded.source, created_at = coalesce(api_keys.created_at, excluded.created_at)`),
    listApiKeys: p<DbApiKey>('SELECT * FROM api_keys ORDER BY coalesce(created_at, 0), key_hash'),
    revokeApiKey: p('UPDATE api_keys SET revoked_at = ? WHERE key_hash = ? AND revoked_at IS NULL'),
    fileApiKeys: p<DbApiKey>("SELECT * FROM api_keys WHERE source = 'file'"),
    dropWeighing: p('DELETE FROM weighings WHERE org = ? AND visit_id = ?'),
    putWeighing: p('INSERT INTO weighings (org, visit_id, child_key, measured_on, weight_g) VALUES (?, ?, ?, ?, ?)'),
    earlierWeighing: p<{ visit_id: string; measured_on: string; weight_g: number }>(
      `SELECT visit_id, measured_on, weight_g FROM weighings WHERE org = ? AND child_key = ? AND measured_on < ? AND visit_id <> ?
       ORDER BY measured_on DESC, visit_id DESC LIMIT 1`),
    waitingSince: p<{ t: number | null }>(`SELECT min(created_at) AS t FROM visits INDEXED BY visits_waiting_since WHERE org = ? AND state IN ('queued','sending')`),
    lastSent: p<{ t: number | null }>('SELECT max(sent_at) AS t FROM visits INDEXED BY visits_sent_at WHERE org = ? AND sent_at IS NOT NULL'),
    // Skip-scan of the (org, state) index: one seek per organization, however many visits each has.
    visitOrgs: p<{ org: string }>(`
      WITH RECURSIVE o(org) AS (
        SELECT (SELECT min(org) FROM visits)
        UNION ALL
        SELECT (SELECT min(org) FROM visits WHERE org > o.org) FROM o WHERE o.org IS NOT NULL
      )
      SELECT org FROM o WHERE org IS NOT NULL`),
    facilityOrgs: p<{ org: string }>('SELECT org FROM facility_state'),
    insertRejection: p('INSERT INTO rejections (org, visit_id, at, issues) VALUES (?, ?, ?, ?)'),
    purgeRejections: p('DELETE FROM rejections WHERE id IN (SELECT id FROM rejections INDEXED BY rejections_at WHERE at < ? ORDER BY at LIMIT ?)'),
    probe: p('INSERT INTO store_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
    findApiKey: p<DbApiKey>('SELECT * FROM api_keys WHERE key_hash = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** Every state-changing operation as one better-sqlite3 transaction function (run with .immediate()). */
function makeTransactions(db: Database.Database, s: Statements, codec: RecordCodec) {
  const event = (v: { org: string; visit_id: string }, revision: number, from: VisitState | null, to: VisitState,
    at: number, attempts: number, error: OperationOutcome | null) => {
    const issues = summaryIssues(error ?? undefined);
    s.insertEvent.run(v.org, v.visit_id, revision, from, to, at, attempts, summarise(error ?? undefined), issues && JSON.stringify(issues));
    s.pruneEvents.run(v.org, v.visit_id, v.org, v.visit_id);
  };

  // The in-flight attempt of an older revision has ended: the newer revision it was holding back is due now. Only when
  // nobody claimed the visit since (same claim_seq): otherwise the wait is someone else's (their lease, their backoff).
  const releaseIfHeld = (v: DbVisit, c: Claim, now: number) => {
    if (v.revision > c.revision && v.claim_seq === c.claimSeq && v.state === 'queued' && v.attempts === 0 && v.next_attempt_at > now) {
      s.release.run(now, v.rid);
    }
  };

  /** The row while `c` still holds it (sending, same revision, same claim); otherwise undefined, releasing a held newer revision. */
  const heldBy = (c: Claim, now: number): DbVisit | undefined => {
    const v = s.visitByKey.get(c.organizationId, c.visitId);
    if (!v) return undefined;
    if (v.revision === c.revision && v.claim_seq === c.claimSeq && v.state === 'sending') return v;
    releaseIfHeld(v, c, now);
    return undefined;
  };

  return {
    ingest: db.transaction((items: IngestItem[], now: number): IngestStatus[] => {
      const out: IngestStatus[] = [];
      items.forEach((it, i) => {
        const json = checkedIngestItem(it, i);
        const w = it.weighing;
        const cur = s.visitByKey.get(it.organizationId, it.visitId);
        const sealed = () => {
          const stored = codec.seal(json, recordAad(it.organizationId, it.visitId));
          return [stored, sealedKeyId(stored) ?? null] as const;
        };
        if (!cur || cur.content_hash !== it.contentHash) {
          // A revision replaces the weighing (it may have been corrected or removed).
          s.dropWeighing.run(it.organizationId, it.visitId);
          if (w) s.putWeighing.run(it.organizationId, it.visitId, w.childKey, w.measuredOn, w.weightGrams);
        }
        if (!cur) {
          s.insertVisit.run(it.organizationId, it.visitId, it.contentHash, ...sealed(), now, now, now, ...listColumns(it.record));
          event({ org: it.organizationId, visit_id: it.visitId }, 1, null, 'queued', now, 0, null);
          out.push('created');
        } else if (cur.content_hash === it.contentHash) {
          out.push('unchanged');
        } else {
          // An attempt on the old revision is in flight: hold the new one until that attempt reports (or its lease ends),
          // so two attempts for one visit never run at the same time.
          const due = cur.state === 'sending' && cur.lease_until !== null && cur.lease_until > now ? cur.lease_until : now;
          s.reviseVisit.run(it.contentHash, ...sealed(), due, now, ...listColumns(it.record), cur.rid);
          event(cur, cur.revision + 1, cur.state, 'queued', now, 0, null);
          out.push('revised');
        }
      });
      return out;
    }),
    claimDue: db.transaction((org: string, now: number, limit: number, leaseMs: number): ClaimedVisit[] => {
      const rows = s.dueRows.all(org, now, limit);
      const leaseUntil = now + leaseMs;
      const claimed: ClaimedVisit[] = [];
      for (const r of rows) {
        const row = toVisitRow({ ...r, state: 'sending', attempts: r.attempts + 1, lease_until: leaseUntil, next_attempt_at: leaseUntil, updated_at: now }, codec, parseJson);
        if (row.recordUnreadable !== undefined) {
          // Never delivered, never claimed again until an operator acts: held with the reason (which key, what failed).
          const why = unreadableOutcome(row.recordUnreadable, row.recordUnreadableRef);
          s.setFinal.run('blocked', JSON.stringify(why), now, r.rid);
          event(r, r.revision, r.state, 'blocked', now, r.attempts, why);
          continue;
        }
        // The lease expiry doubles as the due time, so an abandoned claim shows up in the same index range as queued work.
        s.claim.run(leaseUntil, leaseUntil, now, r.rid);
        event(r, r.revision, r.state, 'sending', now, r.attempts + 1, null);
        const claimSeq = r.claim_seq + 1;
        claimed.push({ ...row, claim: { organizationId: r.org, visitId: r.visit_id, revision: r.revision, claimSeq }, claimedBefore: claimSeq > 1 });
      }
      return claimed;
    }),
    markSent: db.transaction((c: Claim, ids: Record<string, string>, now: number): boolean => {
      const v = heldBy(c, now);
      if (!v) return false;
      s.setSent.run(JSON.stringify(ids), now, now, v.rid);
      event(v, v.revision, v.state, 'sent', now, v.attempts, null);
      return true;
    }),
    markRetry: db.transaction((c: Claim, next: number, error: OperationOutcome, now: number, refund: boolean): boolean => {
      const v = heldBy(c, now);
      if (!v) return false;
      const refunded = refund && v.attempts > 0 ? 1 : 0;
      s.setRetry.run(refunded, next, JSON.stringify(error), now, v.rid);
      event(v, v.revision, v.state, 'queued', now, v.attempts - refunded, error);
      return true;
    }),
    markFinal: db.transaction((c: Claim, state: VisitState, error: OperationOutcome, now: number): boolean => {
      const v = heldBy(c, now);
      if (!v) return false;
      s.setFinal.run(state, JSON.stringify(error), now, v.rid);
      event(v, v.revision, v.state, state, now, v.attempts, error);
      return true;
    }),
    renewLease: db.transaction((c: Claim, until: number): boolean => {
      const v = s.visitByKey.get(c.organizationId, c.visitId);
      if (!v) return false;
      if (v.revision === c.revision && v.claim_seq === c.claimSeq && v.state === 'sending') {
        s.renew.run(until, until, v.rid);
        return true;
      }
      // A newer revision arrived during this attempt (ingest holds it back until the attempt reports or its lease ends):
      // the attempt still runs, so keep holding it — two attempts of one visit must never run at once.
      if (v.revision > c.revision && v.claim_seq === c.claimSeq && v.state === 'queued' && v.attempts === 0 && v.next_attempt_at < until) {
        s.release.run(until, v.rid);
      }
      return false;
    }),
    requeue: db.transaction((org: string, visitId: string, now: number): boolean => {
      const v = s.visitByKey.get(org, visitId);
      if (!v || !FINAL_STATES.has(v.state)) return false;
      s.requeue.run(now, now, v.rid);
      event(v, v.revision, v.state, 'queued', now, 0, null);
      return true;
    }),
    forgetPlatformIds: db.transaction((org: string) => ({
      identities: s.forgetIdentities.run(org).changes,
      ledger: s.forgetLedger.run(org).changes,
    })),
    importApiKeys: db.transaction((rows: ApiKeyRow[], now: number): ApiKeyImport => {
      const listed = new Set(rows.map((r) => r.keyHash));
      let revoked = 0;
      for (const old of s.fileApiKeys.all()) {
        if (!listed.has(old.key_hash)) revoked += s.revokeApiKey.run(now, old.key_hash).changes;
      }
      let stillRevoked = 0;
      for (const r of rows) {
        s.putApiKey.run(r.keyHash, r.organizationId, r.role, r.label ?? null, 'file', now);
        if (s.findApiKey.get(r.keyHash)?.revoked_at != null) stillRevoked++;
      }
      return { imported: rows.length, revoked, stillRevoked };
    }),
    addRejections: db.transaction((entries: RejectionEntry[]) => {
      for (const e of entries) s.insertRejection.run(e.organizationId, e.visitId ?? null, e.at, JSON.stringify(e.issues));
    }),
    putLedger: db.transaction((entries: LedgerEntry[]) => {
      for (const e of entries) {
        s.putLedger.run(e.organizationId, e.localKey, e.resourceType, e.satusehatId, e.contentHash, e.updatedAt);
      }
    }),
  };
}

class SqliteStore implements Store {
  private readonly s: Statements;
  private readonly rest: atRest.AtRestStatements;
  private readonly tx: ReturnType<typeof makeTransactions>;
  private readonly shared: ReturnType<typeof sharedStateOf>;
  private readonly jobs: ImportJobStore;
  private readonly consoleSessions: ConsoleSessionStore;
  /** Prepared list queries by SQL text: the filters combine into few shapes. */
  private readonly listStatements = new Map<string, Database.Statement<unknown[]>>();

  constructor(private readonly db: Database.Database, historyPerVisit: number, private readonly codec: RecordCodec) {
    this.s = prepareStatements(db, historyPerVisit);
    this.rest = atRest.atRestStatements(db);
    this.tx = makeTransactions(db, this.s, codec);
    this.shared = sharedStateOf(db, codec);
    this.jobs = importJobsOf(db);
    this.consoleSessions = consoleSessionsOf(db);
  }

  // Console sessions every process on the file sees: see sqlite-console-sessions.ts.
  createConsoleSession(...a: Parameters<ConsoleSessionStore['createConsoleSession']>) {
    return this.consoleSessions.createConsoleSession(...a);
  }

  getConsoleSession(...a: Parameters<ConsoleSessionStore['getConsoleSession']>) {
    return this.consoleSessions.getConsoleSession(...a);
  }

  setConsoleFlash(...a: Parameters<ConsoleSessionStore['setConsoleFlash']>) {
    return this.consoleSessions.setConsoleFlash(...a);
  }

  clearConsoleFlash(...a: Parameters<ConsoleSessionStore['clearConsoleFlash']>) {
    return this.consoleSessions.clearConsoleFlash(...a);
  }

  deleteConsoleSession(...a: Parameters<ConsoleSessionStore['deleteConsoleSession']>) {
    return this.consoleSessions.deleteConsoleSession(...a);
  }

  countConsoleSessions(...a: Parameters<ConsoleSessionStore['countConsoleSessions']>) {
    return this.consoleSessions.countConsoleSessions(...a);
  }

  // Import jobs every process on the file sees: see sqlite-import-jobs.ts.
  reserveImportJob(...a: Parameters<ImportJobStore['reserveImportJob']>) {
    return this.jobs.reserveImportJob(...a);
  }

  updateImportJob(...a: Parameters<ImportJobStore['updateImportJob']>) {
    return this.jobs.updateImportJob(...a);
  }

  finishImportJob(...a: Parameters<ImportJobStore['finishImportJob']>) {
    return this.jobs.finishImportJob(...a);
  }

  getImportJob(...a: Parameters<ImportJobStore['getImportJob']>) {
    return this.jobs.getImportJob(...a);
  }

  dropImportJob(...a: Parameters<ImportJobStore['dropImportJob']>) {
    return this.jobs.dropImportJob(...a);
  }

  forgetImportJobs(...a: Parameters<ImportJobStore['forgetImportJobs']>) {
    return this.jobs.forgetImportJobs(...a);
  }

  // Quota, token and leases shared with other processes on the same file: see sqlite-shared-state.ts.
  takeQuotaPoint(credential: string, limit: number, windowMs: number, now: number): Promise<QuotaAnswer> {
    return this.shared.takeQuotaPoint(credential, limit, windowMs, now);
  }

  quotaUse(credential: string, windowMs: number, now: number): Promise<{ requests: number; since: number }> {
    return this.shared.quotaUse(credential, windowMs, now);
  }

  pauseQuota(credential: string, ms: number, now: number): Promise<void> {
    return this.shared.pauseQuota(credential, ms, now);
  }

  getSharedToken(credential: string, now: number): Promise<SharedTokenState> {
    return this.shared.getSharedToken(credential, now);
  }

  putSharedToken(credential: string, update: SharedTokenUpdate, holder: string, now: number): Promise<void> {
    return this.shared.putSharedToken(credential, update, holder, now);
  }

  dropSharedToken(credential: string, value?: string): Promise<void> {
    return this.shared.dropSharedToken(credential, value);
  }

  tryLease(name: string, holder: string, ms: number, now: number): Promise<boolean> {
    return this.shared.tryLease(name, holder, ms, now);
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.shared.releaseLease(name, holder);
  }

  async ingest(items: IngestItem[], now: number): Promise<IngestStatus[]> {
    if (!Array.isArray(items)) throw new TypeError('ingest expects an array of items');
    assertTime('now', now);
    return this.tx.ingest.immediate(items, now);
  }

  async earlierWeighing(organizationId: string, childKey: string, before: string, exceptVisitId: string): Promise<EarlierWeighing | undefined> {
    const r = this.s.earlierWeighing.get(organizationId, childKey, before, exceptVisitId);
    return r ? { visitId: r.visit_id, measuredOn: r.measured_on, weightGrams: r.weight_g } : undefined;
  }

  async getVisit(organizationId: string, visitId: string): Promise<VisitRow | undefined> {
    const r = this.s.visitByKey.get(organizationId, visitId);
    return r ? toVisitRow(r, this.codec, parseJson) : undefined;
  }

  async facilitiesWithDueWork(now: number): Promise<string[]> {
    assertTime('now', now);
    return this.s.dueOrgs.all(now).map((r) => r.org);
  }

  async claimDue(organizationId: string, now: number, limit: number, leaseMs: number): Promise<ClaimedVisit[]> {
    assertTime('now', now);
    if (!Number.isInteger(limit) || limit < 0) throw new TypeError('limit must be a non-negative integer');
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new TypeError('leaseMs must be a positive number');
    if (limit === 0) return [];
    return this.tx.claimDue.immediate(organizationId, now, limit, leaseMs);
  }

  async renewLease(claim: Claim, leaseUntil: number): Promise<boolean> {
    assertClaim(claim);
    assertTime('leaseUntil', leaseUntil);
    return this.tx.renewLease.immediate(claim, leaseUntil);
  }

  async markSent(claim: Claim, resourceIds: Record<string, string>, now: number): Promise<boolean> {
    assertClaim(claim);
    assertTime('now', now);
    return this.tx.markSent.immediate(claim, resourceIds, now);
  }

  async markRetry(claim: Claim, nextAttemptAt: number, error: OperationOutcome, now: number, opts?: { refundAttempt?: boolean }): Promise<boolean> {
    assertClaim(claim);
    assertTime('now', now);
    assertTime('nextAttemptAt', nextAttemptAt);
    return this.tx.markRetry.immediate(claim, nextAttemptAt, error, now, opts?.refundAttempt === true);
  }

  async markFinal(claim: Claim, state: 'needs-correction' | 'blocked' | 'dead-letter', error: OperationOutcome, now: number): Promise<boolean> {
    assertClaim(claim);
    assertTime('now', now);
    if (!FINAL_STATES.has(state)) throw new TypeError(`markFinal: ${String(state)} is not a final state`);
    return this.tx.markFinal.immediate(claim, state, error, now);
  }

  async requeue(organizationId: string, visitId: string, now: number): Promise<boolean> {
    assertTime('now', now);
    return this.tx.requeue.immediate(organizationId, visitId, now);
  }

  async counts(organizationId?: string): Promise<Counts> {
    const byState = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<VisitState, number>;
    const rows = organizationId === undefined ? this.s.countsAll.all() : this.s.countsOrg.all(organizationId);
    for (const r of rows) byState[r.state] = r.n;
    return { byState };
  }

  private query<R>(sql: string, params: unknown[]): R[] {
    let st = this.listStatements.get(sql);
    if (!st) {
      st = this.db.prepare<unknown[]>(sql);
      this.listStatements.set(sql, st);
    }
    return st.all(...params) as R[];
  }

  async listVisits(f: VisitListFilter): Promise<VisitSummary[]> {
    assertLimit(f.limit);
    if (f.organizationId === undefined) {
      // Every facility: one page per facility from its (org, updated_at) index range, merged — cheaper than sorting the
      // whole table (100,000 visits of 39 facilities: measured ~155 ms for the sort), and no extra index to keep up on writes.
      const pages = this.visitOrganizations().flatMap((organizationId) => this.listVisitsOf({ ...f, organizationId }));
      return pages.sort(newestFirst).slice(0, f.limit);
    }
    return this.listVisitsOf(f);
  }

  private listVisitsOf(f: VisitListFilter): VisitSummary[] {
    const w = new Where();
    if (f.organizationId !== undefined) w.add('org = ?', f.organizationId);
    if (f.states?.length) w.add(`state IN (${f.states.map(() => '?').join(', ')})`, ...f.states);
    if (f.setting !== undefined) w.add('setting = ?', f.setting);
    if (f.locationCode !== undefined) w.add('location_code = ?', f.locationCode);
    if (f.from !== undefined) w.add('visit_start >= ?', f.from);
    if (f.to !== undefined) w.add('visit_start < ?', f.to);
    if (f.updatedSince !== undefined) w.add('updated_at >= ?', f.updatedSince);
    if (f.visitIdPrefix) w.add('substr(visit_id, 1, ?) = ?', f.visitIdPrefix.length, f.visitIdPrefix);
    if (f.after) w.add('(updated_at, org, visit_id) < (?, ?, ?)', f.after.updatedAt, f.after.organizationId, f.after.visitId);
    const sql = `SELECT org, visit_id, revision, state, attempts, next_attempt_at, updated_at, setting, location_code, visit_start
                 FROM visits ${w.sql} ORDER BY updated_at DESC, org DESC, visit_id DESC LIMIT ?`;
    return this.query<DbSummary>(sql, [...w.params, f.limit]).map(toSummary);
  }

  async facilityFacts(organizationId: string): Promise<FacilityFacts> {
    const facts: FacilityFacts = {};
    const waiting = this.s.waitingSince.get(organizationId)?.t;
    const sent = this.s.lastSent.get(organizationId)?.t;
    if (waiting !== null && waiting !== undefined) facts.oldestWaitingSince = waiting;
    if (sent !== null && sent !== undefined) facts.lastSentAt = sent;
    return facts;
  }

  private visitOrganizations(): string[] {
    return this.s.visitOrgs.all().map((r) => r.org);
  }

  async organizations(): Promise<string[]> {
    return [...new Set([...this.visitOrganizations(), ...this.s.facilityOrgs.all().map((r) => r.org)])].sort();
  }

  async addRejections(entries: RejectionEntry[]): Promise<void> {
    for (const e of entries) {
      if (!nonEmpty(e.organizationId)) throw new TypeError('rejection: organizationId must be a non-empty string');
      assertTime('rejection at', e.at);
      if (!Array.isArray(e.issues)) throw new TypeError('rejection: issues must be an array');
    }
    if (entries.length) this.tx.addRejections.immediate(entries);
  }

  async purgeRejections(before: number, limit: number): Promise<number> {
    assertTime('before', before);
    assertLimit(limit);
    return this.s.purgeRejections.run(before, limit).changes;
  }

  async listRejections(f: RejectionListFilter): Promise<StoredRejection[]> {
    assertLimit(f.limit);
    const w = new Where();
    if (f.organizationId !== undefined) w.add('org = ?', f.organizationId);
    if (f.since !== undefined) w.add('at >= ?', f.since);
    if (f.until !== undefined) w.add('at < ?', f.until);
    if (f.visitIdPrefix) w.add('substr(visit_id, 1, ?) = ?', f.visitIdPrefix.length, f.visitIdPrefix);
    if (f.after) w.add('(at, id) < (?, ?)', f.after.at, f.after.id);
    const sql = `SELECT id, org, visit_id, at, issues FROM rejections ${w.sql} ORDER BY at DESC, id DESC LIMIT ?`;
    return this.query<{ id: number; org: string; visit_id: string | null; at: number; issues: string }>(sql, [...w.params, f.limit]).map((r) => ({
      id: r.id, organizationId: r.org, ...(r.visit_id !== null ? { visitId: r.visit_id } : {}), at: r.at, issues: JSON.parse(r.issues) as RejectionIssue[],
    }));
  }

  async pendingCount(organizationId: string): Promise<number> {
    return this.s.pendingOrg.get(organizationId)?.n ?? 0;
  }

  async dueSplit(organizationId: string, now: number): Promise<DueSplit> {
    assertTime('now', now);
    const r = this.s.dueSplit.get(now, now, now, organizationId);
    return { dueNow: r?.due ?? 0, later: r?.later ?? 0, ...(r?.next != null ? { nextDueAt: r.next } : {}) };
  }

  async visitHistory(organizationId: string, visitId: string): Promise<VisitEvent[]> {
    return this.s.events.all(organizationId, visitId).map((e) => toVisitEvent(e, parseJson));
  }

  async getLedger(organizationId: string, localKey: string): Promise<LedgerEntry | undefined> {
    const r = this.s.getLedger.get(organizationId, localKey);
    return r && toLedgerEntry(r);
  }

  async ledgerForVisit(organizationId: string, visitId: string): Promise<LedgerEntry[]> {
    if (!nonEmpty(visitId)) throw new TypeError('visitId must be a non-empty string');
    // The prefix's visit segment has no '/' (ledgerVisitSegment), so this range never reaches a longer id's keys.
    const prefix = visitLedgerPrefix(visitId);
    const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.s.ledgerRange.all(organizationId, prefix, upper).map(toLedgerEntry);
  }

  async putLedger(entries: LedgerEntry[]): Promise<void> {
    if (entries.length) this.tx.putLedger.immediate(entries);
  }

  async forgetPlatformIds(organizationId: string): Promise<{ identities: number; ledger: number }> {
    if (!nonEmpty(organizationId)) throw new TypeError('organizationId must be a non-empty string');
    return this.tx.forgetPlatformIds.immediate(organizationId);
  }

  async getIdentity(kind: IdentityEntry['kind'], organizationId: string, keyHash: string): Promise<IdentityEntry | undefined> {
    const r = this.s.getIdentity.get(kind, organizationId, keyHash);
    return r && { kind: r.kind, organizationId: r.org, keyHash: r.key_hash, satusehatId: r.satusehat_id, updatedAt: r.updated_at };
  }

  async putIdentity(e: IdentityEntry): Promise<void> {
    this.s.putIdentity.run(e.kind, e.organizationId, e.keyHash, e.satusehatId, e.updatedAt);
  }

  async getFacilityState(organizationId: string): Promise<FacilityState | undefined> {
    const r = this.s.getFacility.get(organizationId);
    return r && toFacilityState(r, parseJson);
  }

  async putFacilityState(st: FacilityState): Promise<void> {
    this.s.putFacility.run(st.organizationId, st.status, st.cause ?? null, st.reason ?? null, st.reasonMessage ? JSON.stringify(st.reasonMessage) : null, st.notBefore ?? null, st.updatedAt);
  }

  async putApiKey(row: ApiKeyRow): Promise<void> {
    this.s.putApiKey.run(row.keyHash, row.organizationId, row.role, row.label ?? null, row.source ?? 'cli', row.createdAt ?? null);
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRow | undefined> {
    const r = this.s.findApiKey.get(keyHash);
    return r && toApiKeyRow(r);
  }

  async listApiKeys(): Promise<ApiKeyRow[]> {
    return this.s.listApiKeys.all().map(toApiKeyRow);
  }

  async revokeApiKey(keyHash: string, now: number): Promise<boolean> {
    assertTime('now', now);
    return this.s.revokeApiKey.run(now, keyHash).changes === 1;
  }

  async importApiKeys(rows: ApiKeyRow[], now: number): Promise<ApiKeyImport> {
    assertTime('now', now);
    return this.tx.importApiKeys.immediate(rows, now);
  }

  async probeWrite(now: number): Promise<void> {
    assertTime('now', now);
    this.s.probe.run(now);
  }

  async bodyKeyCounts(): Promise<BodyKeyCounts> {
    return atRest.bodyKeyCounts(this.rest, this.codec);
  }

  async hasStaleBodies(): Promise<boolean> {
    return atRest.hasStaleBodies(this.rest, this.codec);
  }

  async reencryptBodies(limit: number, after: number): Promise<ReencryptBatch> {
    assertLimit(limit);
    if (!Number.isInteger(after) || after < 0) throw new TypeError('after must be a non-negative integer');
    return atRest.reencryptBatch(this.db, this.rest, this.codec, limit, after);
  }

  async retentionPreview(cutoffs: RetentionCutoffs): Promise<RetentionPreview> {
    for (const [k, v] of Object.entries(cutoffs)) assertTime(k, v);
    return atRest.retentionPreview(this.rest, cutoffs);
  }

  async purgeExpired(cutoffs: RetentionCutoffs, limit: number, now: number): Promise<RetentionResult> {
    for (const [k, v] of Object.entries(cutoffs)) assertTime(k, v);
    assertLimit(limit);
    assertTime('now', now);
    return atRest.purgeBatch(this.rest, cutoffs, limit, now);
  }

  async compactLog(): Promise<void> {
    atRest.checkpoint(this.db);
  }

  async integrityCheck(maxProblems?: number): Promise<string[]> {
    return integrityProblems(this.db, 'integrity_check', maxProblems);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }
}
