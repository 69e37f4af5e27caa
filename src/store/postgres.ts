// The shared store for several service instances: PostgreSQL through node-postgres (pg), a connection pool, one
// transaction per state change, claims with FOR UPDATE SKIP LOCKED and fenced by claim_seq.
//
// Clock: lease expiry and due comparisons (next_attempt_at, lease_until) run on the database server's clock
// (clock_timestamp() in epoch ms), so instances whose clocks drift apart still agree on when a lease has ended. Times the
// caller passes for those columns (markRetry's nextAttemptAt, renewLease's leaseUntil) are moved onto the server clock by
// the difference between the server's now and the caller's now; record timestamps (createdAt, updatedAt, sentAt, the
// history) keep the caller's `now`. A `clock` option replaces the server clock: `(callerNow) => callerNow` makes the
// store follow the `now` arguments exactly as the SQLite store does (the contract tests), a fixed function fakes time.
//
// Connections: an idle connection the server drops (restart, failover) is discarded by the pool and the next call opens
// a new one; a call that failed because its connection died throws StorageError (fault 'io', retryable), as SQLite's
// I/O faults do.
//
// Record bodies go through the codec of record-codec.ts (the keyring every instance must share); a body that cannot be
// opened is held (blocked) when due, never delivered, and open refuses a keyring lacking a key the bodies need.
import pg from 'pg';
import type { OperationOutcome } from 'fhir/r4.js';
import type {
  ApiKeyImport, ApiKeyRow, ApiKeySource, BodyKeyCounts, Claim, ClaimedVisit, Counts, DueSplit, EarlierWeighing, FacilityFacts,
  FacilityState, IdentityEntry, IngestItem, IngestStatus, LedgerEntry, RejectionEntry, RejectionIssue, RejectionListFilter, Store,
  QuotaAnswer, ReencryptBatch, RetentionCutoffs, SharedTokenState, SharedTokenUpdate, RetentionPreview, RetentionResult, StoredRejection, VisitEvent, VisitListFilter, VisitRow, VisitState,
  VisitSummary,
} from './types.js';
import { QUOTA_MINUTES_KEPT_MS, type ConsoleSessionRecord, type ImportJobRecord, type ImportJobReservation, type ImportJobUpdate } from './types.js';
import { dropJob, finishJob, forgetJobs, getJob, reserveJob, updateJob } from './pg-import-jobs.js';
import { createSession } from './pg-console-sessions.js';
import { assertSessionArgs, CONSOLE_SESSION_COLUMNS, sessionStep, toConsoleSession, type DbConsoleSession } from './console-session-rows.js';
import { assertJobArgs, assertNewJob } from './import-job-rows.js';
import { visitLedgerPrefix } from './types.js';
import {
  assertClaim, assertLimit, assertTime, checkedIngestItem, FINAL_STATES, listColumns, nonEmpty, STATES, summarise, summaryIssues, unreadableOutcome, toApiKeyRow, toLedgerEntry,
  toFacilityState, toSummary, toVisitEvent, toVisitRow, type DbApiKey, type DbEvent, type DbFacilityState, type DbLedger, type DbSummary, type DbVisitOf,
} from './shared.js';
import { latestPgSchemaVersion, pgMigrations } from './pg-migrations.js';
import { assertDuration, assertLeaseArgs, assertQuotaArgs, minuteOf, quotaDecision, quotaUseSince, tokenColumns, tokenHash, toSharedTokenState, type DbTokenRow } from './shared-state.js';
import { schemaTooNew, StoreSchemaError, storeRefusal } from './open-checks.js';
import { StorageError, type StorageFault } from './storage-error.js';
import { currentKeyIdOf, plainRecordCodec, recordAad, RecordKeyring, RecordSealError, sealedKeyId, type RecordCodec } from './record-codec.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (never logged or echoed). */
  url: string;
  /** Connections in the pool (DATABASE_POOL_MAX). Default 10. */
  poolMax?: number;
  /** statement_timeout of every connection, ms (DATABASE_STATEMENT_TIMEOUT_MS); 0 = none. Default 30000. */
  statementTimeoutMs?: number;
  /** How long a call waits for a connection (pool exhausted or server unreachable), ms. Default 10000. */
  connectTimeoutMs?: number;
  /** State-change events kept per visit (older ones are pruned). Default 50. */
  historyPerVisit?: number;
  /** Replaces the server clock for lease and due comparisons; receives the caller's `now` (see the file comment). */
  clock?: (callerNow: number) => number;
  /** Seals the `record` column (src/store/record-codec.ts); plain by default. Every instance must share the keyring. */
  codec?: RecordCodec;
}

const DUE = `state IN ('queued','sending')`; // must match the visits_due partial index
/** Key of the advisory lock migrations run under (any constant shared by every instance; "ilp-sts" in ASCII). */
const MIGRATION_LOCK = 0x696c702d737473n;
const SERVER_NOW = 'floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint';
/** The same as one uncorrelated subquery: evaluated once per statement, and usable as an index bound. */
const SERVER_NOW_ONCE = `(SELECT ${SERVER_NOW})`;

// BIGINT (epoch ms, counts) as a JS number: every value this schema holds is far below 2^53.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

type Queryable = Pick<pg.PoolClient, 'query'>;

/** PostgreSQL's row: JSONB columns arrive parsed. */
type DbVisit = DbVisitOf<unknown>;

const VISIT_COLUMNS = `rid, org, visit_id, revision, content_hash, record, state, attempts, claim_seq, next_attempt_at, lease_until,
  last_error, resource_ids, created_at, updated_at, sent_at, record_purged_at`;

function sameClaim(v: DbVisit, claim: Claim): boolean {
  return v.state === 'sending' && v.revision === claim.revision && v.claim_seq === claim.claimSeq;
}

/** SQLSTATE (or its class, two characters) → storage fault; anything else (constraints, syntax) is not a storage fault. */
const PG_FAULTS: ReadonlyArray<{ code: string; fault: StorageFault; retryable: boolean }> = [
  { code: '08', fault: 'io', retryable: true }, // connection exception
  { code: '57P01', fault: 'io', retryable: true }, // admin_shutdown (server stopped or restarted)
  { code: '57P02', fault: 'io', retryable: true }, // crash_shutdown
  { code: '57P03', fault: 'io', retryable: true }, // cannot_connect_now (starting up, in recovery)
  { code: '53300', fault: 'busy', retryable: true }, // too_many_connections
  { code: '57014', fault: 'busy', retryable: true }, // query_canceled: statement_timeout
  { code: '55P03', fault: 'busy', retryable: true }, // lock_not_available
  { code: '40001', fault: 'busy', retryable: true }, // serialization_failure
  { code: '40P01', fault: 'busy', retryable: true }, // deadlock_detected
  { code: '53100', fault: 'full', retryable: true }, // disk_full
  { code: '53200', fault: 'io', retryable: true }, // out_of_memory
  { code: '58030', fault: 'io', retryable: true }, // io_error
  { code: '25006', fault: 'readonly', retryable: false }, // read_only_sql_transaction (a standby)
  { code: 'XX001', fault: 'corrupt', retryable: false }, // data_corrupted
  { code: 'XX002', fault: 'corrupt', retryable: false }, // index_corrupted
];
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The StorageError for a pg / socket error, or undefined when `err` is not a storage fault. */
export function pgStorageError(err: unknown): StorageError | undefined {
  if (err instanceof StorageError) return err;
  // Duck-typed, not instanceof Error: socket errors may come from another realm (vm contexts, jest).
  if (!err || typeof err !== 'object') return undefined;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return new StorageError(code, 'io', true);
    const hit = PG_FAULTS.find((f) => code === f.code || (f.code.length === 2 && code.startsWith(f.code)));
    if (hit) return new StorageError(code, hit.fault, hit.retryable);
    return undefined;
  }
  // pg's own errors for a connection that ended or never came carry no code, only these messages.
  if (typeof message === 'string' && /^Connection terminated|^timeout exceeded when trying to connect|^Client has encountered a connection error|connection is closed/i.test(message)) {
    return new StorageError('PG_CONNECTION_LOST', 'io', true);
  }
  return undefined;
}

/** Runs the numbered migrations not yet applied, in one transaction under an advisory lock (instances may start at once). */
async function migrate(pool: pg.Pool): Promise<void> {
  let c: pg.PoolClient;
  try {
    c = await pool.connect();
  } catch (e) {
    throw pgStorageError(e) ?? e;
  }
  // As in PostgresStore.tx: a connection dying while checked out must not end the process.
  const onError = () => undefined;
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const have = (await c.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations')).rows[0]!.v;
    if (have > latestPgSchemaVersion) {
      throw schemaTooNew(have, latestPgSchemaVersion, 'postgres');
    }
    for (const m of [...pgMigrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= have) continue;
      await c.query(m.sql);
      await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
    await c.query('COMMIT');
    c.off('error', onError);
    c.release();
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    c.off('error', onError);
    c.release(true);
    throw pgStorageError(e) ?? e;
  }
}

/** Opens the pool, applies pending migrations and returns the store; the caller closes it. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  if (!/^postgres(ql)?:\/\//i.test(opts.url)) throw new TypeError('PostgreSQL store URL must start with postgres:// or postgresql://');
  const poolMax = opts.poolMax ?? 10;
  if (!Number.isInteger(poolMax) || poolMax < 1) throw new TypeError('poolMax must be a positive integer');
  const statementTimeoutMs = opts.statementTimeoutMs ?? 30_000;
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 0) throw new TypeError('statementTimeoutMs must be a non-negative integer');
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: poolMax,
    statement_timeout: statementTimeoutMs,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    // A transaction left open by a bug would hold its row locks forever.
    idle_in_transaction_session_timeout: Math.max(statementTimeoutMs, 60_000),
    application_name: 'ilp-adapter',
    types: pgTypes,
  });
  // An idle connection killed by the server emits 'error' on the pool; unhandled it would end the process. The pool
  // has already dropped that connection, and the next call opens a fresh one.
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  const store = new PostgresStore(pool, opts);
  try {
    await store.assertKeysAvailable();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
  return store;
}

export class PostgresStore implements Store {
  private readonly codec: RecordCodec;
  private readonly clock: ((callerNow: number) => number) | undefined;
  private readonly historyPerVisit: number;
  private closed = false;

  constructor(private readonly pool: pg.Pool, opts: Pick<PostgresStoreOptions, 'codec' | 'clock' | 'historyPerVisit'> = {}) {
    this.codec = opts.codec ?? plainRecordCodec;
    this.clock = opts.clock;
    this.historyPerVisit = Math.max(1, Math.trunc(opts.historyPerVisit ?? 50));
  }

  // ---- plumbing -------------------------------------------------------------------------------------------------

  /** One statement outside a transaction (reads, single-row upserts). */
  private async q<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (e) {
      throw pgStorageError(e) ?? e;
    }
  }

  /** `fn` inside BEGIN … COMMIT on one connection; rolled back on any error. A connection that failed is discarded. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw pgStorageError(e) ?? e;
    }
    // A connection that dies while checked out also emits 'error' (the pool listens only while it is idle); unheard,
    // that would end the process. The failing query reports the fault; this only keeps the process alive.
    let lost = false;
    const onError = () => {
      lost = true;
    };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      const fault = pgStorageError(e);
      if (fault) lost = true;
      if (!lost) {
        await c.query('ROLLBACK').catch(() => {
          lost = true;
        });
      }
      throw fault ?? e;
    } finally {
      c.off('error', onError);
      c.release(lost ? true : undefined);
    }
  }

  /** The lease/due clock: the caller's now mapped by `clock`, else the server's. */
  private async storeNow(c: Queryable, callerNow: number): Promise<number> {
    if (this.clock) return this.clock(callerNow);
    return (await c.query<{ now: number }>(`SELECT ${SERVER_NOW} AS now`)).rows[0]!.now;
  }


  private toVisitRow(r: DbVisit): VisitRow {
    return toVisitRow(r, this.codec, (parsed) => parsed);
  }

  private async lockVisit(c: Queryable, org: string, visitId: string): Promise<DbVisit | undefined> {
    return (await c.query<DbVisit>(`SELECT ${VISIT_COLUMNS} FROM visits WHERE org = $1 AND visit_id = $2 FOR UPDATE`, [org, visitId])).rows[0];
  }

  /** Appends one history event and prunes that visit's history to the newest `historyPerVisit`, in one statement. */
  private async event(c: Queryable, v: { org: string; visit_id: string }, revision: number, from: VisitState | null, to: VisitState,
    at: number, attempts: number, error: OperationOutcome | null): Promise<void> {
    const issues = summaryIssues(error ?? undefined);
    // The DELETE does not see the row the INSERT adds (one snapshot), so it keeps one fewer of the older ones.
    await c.query(`
      WITH added AS (
        INSERT INTO visit_events (org, visit_id, revision, from_state, to_state, at, attempts, error, error_messages)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10)
      )
      DELETE FROM visit_events WHERE org = $1 AND visit_id = $2 AND id <= (
        SELECT id FROM visit_events WHERE org = $1 AND visit_id = $2 ORDER BY id DESC LIMIT 1 OFFSET $9)`,
    [v.org, v.visit_id, revision, from, to, at, attempts, summarise(error ?? undefined), this.historyPerVisit - 1, issues && JSON.stringify(issues)]);
  }

  /**
   * The attempt of this claim on an older revision has ended: the newer revision it was holding back is due now. Only
   * the latest claim held it, so an outcome of a taken-over claim releases nothing.
   */
  private async releaseIfHeld(c: Queryable, v: DbVisit, claim: Claim, dueAt: number): Promise<void> {
    if (v.revision > claim.revision && v.claim_seq === claim.claimSeq && v.state === 'queued' && v.attempts === 0 && v.next_attempt_at > dueAt) {
      await c.query('UPDATE visits SET next_attempt_at = $1 WHERE rid = $2', [dueAt, v.rid]);
    }
  }

  /**
   * Opening refuses a database holding bodies under a key the keyring does not have, or under a key id whose key does
   * not open them (a few bodies per key are tried; one damaged body alone does not stop the store, it is held when due):
   * every read of them would fail. With several instances this is what stops one started with another key file.
   */
  async assertKeysAvailable(): Promise<void> {
    const ids = (await this.q<{ k: string }>('SELECT DISTINCT record_key AS k FROM visits WHERE record_purged_at IS NULL AND record_key IS NOT NULL'))
      .rows.map((r) => r.k);
    const shown = (keys: string[]) => keys.map((k) => `"${k.replace(/[^\w-]/g, '?')}"`).join(', ');
    const missing = ids.filter((k) => !(this.codec instanceof RecordKeyring && this.codec.has(k)));
    if (missing.length) {
      throw new StoreSchemaError(
        `the PostgreSQL database holds record bodies sealed under data key(s) ${shown(missing)}, which DATA_KEYS / the data key file ` +
          'does not have. Give every instance the same keyring (newest first; older keys still open), or restore the key file from ' +
          'backup. The store does not start: those records could neither be delivered nor shown.',
        'STORE_DATA_KEY_MISSING',
        storeRefusal('data-key-missing', { keys: shown(missing) }),
      );
    }
    const wrong: string[] = [];
    for (const k of ids) {
      const sample = (await this.q<{ org: string; visit_id: string; record: string }>(
        'SELECT org, visit_id, record FROM visits WHERE record_purged_at IS NULL AND record_key = $1 LIMIT 3', [k])).rows;
      if (sample.length && sample.every((r) => !this.opens(r.record, recordAad(r.org, r.visit_id)))) wrong.push(k);
    }
    if (wrong.length) {
      throw new StoreSchemaError(
        `the PostgreSQL database holds record bodies under data key id(s) ${shown(wrong)}, but the key(s) of that id in DATA_KEYS / ` +
          'the data key file do not open them (another key under the same id?). Restore the right key file; the store does not start.',
        'STORE_DATA_KEY_MISSING',
        storeRefusal('data-key-wrong', { keys: shown(wrong) }),
      );
    }
  }

  private opens(stored: string, aad: string): boolean {
    try {
      this.codec.open(stored, aad);
      return true;
    } catch (e) {
      if (e instanceof RecordSealError) return false;
      throw e;
    }
  }

  // ---- outbox ---------------------------------------------------------------------------------------------------

  async ingest(items: IngestItem[], now: number): Promise<IngestStatus[]> {
    if (!Array.isArray(items)) throw new TypeError('ingest expects an array of items');
    assertTime('now', now);
    const bodies = items.map((it, i) => checkedIngestItem(it, i));
    return this.tx(async (c) => {
      const due = await this.storeNow(c, now);
      const out: IngestStatus[] = new Array<IngestStatus>(items.length);
      // Rows are locked in key order (repeats of one visit keep their batch order), so two instances taking the same
      // visits in other orders wait for each other instead of deadlocking.
      for (const i of inKeyOrder(items, (it) => [it.organizationId, it.visitId])) {
        const it = items[i]!;
        const sealed = this.codec.seal(bodies[i]!, recordAad(it.organizationId, it.visitId));
        const cols = listColumns(it.record);
        let cur = await this.lockVisit(c, it.organizationId, it.visitId);
        if (!cur) {
          // Another instance may insert the same new visit at the same moment: then this is a revision of its row.
          const inserted = await c.query(`
            INSERT INTO visits (org, visit_id, revision, content_hash, record, record_key, state, attempts, next_attempt_at, created_at, updated_at,
              setting, location_code, visit_start) VALUES ($1, $2, 1, $3, $4, $10, 'queued', 0, $5, $6, $6, $7, $8, $9)
            ON CONFLICT (org, visit_id) DO NOTHING`, [it.organizationId, it.visitId, it.contentHash, sealed, due, now, ...cols, sealedKeyId(sealed) ?? null]);
          if (inserted.rowCount === 1) {
            await this.replaceWeighing(c, it, true);
            await this.event(c, { org: it.organizationId, visit_id: it.visitId }, 1, null, 'queued', now, 0, null);
            out[i] = 'created';
            continue;
          }
          cur = await this.lockVisit(c, it.organizationId, it.visitId);
          if (!cur) throw new Error('visit vanished during ingest');
        }
        if (cur.content_hash === it.contentHash) {
          out[i] = 'unchanged';
          continue;
        }
        await this.replaceWeighing(c, it, false);
        // An attempt on the old revision is in flight: hold the new one until that attempt reports (or its lease ends),
        // so two attempts for one visit never run at the same time.
        const dueAt = cur.state === 'sending' && cur.lease_until !== null && cur.lease_until > due ? cur.lease_until : due;
        await c.query(`
          UPDATE visits SET revision = revision + 1, content_hash = $1, record = $2, record_key = $9, record_purged_at = NULL, state = 'queued',
            attempts = 0, next_attempt_at = $3, last_error = NULL, updated_at = $4, setting = $5, location_code = $6, visit_start = $7 WHERE rid = $8`,
        [it.contentHash, sealed, dueAt, now, ...cols, cur.rid, sealedKeyId(sealed) ?? null]);
        await this.event(c, cur, cur.revision + 1, cur.state, 'queued', now, 0, null);
        out[i] = 'revised';
      }
      return out;
    });
  }

  /** A created or revised record replaces the visit's weighing (it may have been corrected or removed). */
  private async replaceWeighing(c: Queryable, it: IngestItem, isNew: boolean): Promise<void> {
    const w = it.weighing;
    if (w) {
      await c.query(`INSERT INTO weighings (org, visit_id, child_key, measured_on, weight_g) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (org, visit_id) DO UPDATE SET child_key = excluded.child_key, measured_on = excluded.measured_on, weight_g = excluded.weight_g`,
      [it.organizationId, it.visitId, w.childKey, w.measuredOn, w.weightGrams]);
    } else if (!isNew) {
      await c.query('DELETE FROM weighings WHERE org = $1 AND visit_id = $2', [it.organizationId, it.visitId]);
    }
  }

  async earlierWeighing(organizationId: string, childKey: string, before: string, exceptVisitId: string): Promise<EarlierWeighing | undefined> {
    const r = (await this.q<{ visit_id: string; measured_on: string; weight_g: number }>(`
      SELECT visit_id, measured_on, weight_g FROM weighings WHERE org = $1 AND child_key = $2 AND measured_on < $3 AND visit_id <> $4
      ORDER BY measured_on DESC, visit_id DESC LIMIT 1`, [organizationId, childKey, before, exceptVisitId])).rows[0];
    return r ? { visitId: r.visit_id, measuredOn: r.measured_on, weightGrams: r.weight_g } : undefined;
  }

  async getVisit(organizationId: string, visitId: string): Promise<VisitRow | undefined> {
    const r = (await this.q<DbVisit>(`SELECT ${VISIT_COLUMNS} FROM visits WHERE org = $1 AND visit_id = $2`, [organizationId, visitId])).rows[0];
    return r ? this.toVisitRow(r) : undefined;
  }

  async facilitiesWithDueWork(now: number): Promise<string[]> {
    assertTime('now', now);
    const at = this.clock ? `$1::bigint` : SERVER_NOW_ONCE;
    // Skip-scan over the partial index: one probe per facility with queued/sending rows, however many rows each has.
    const rows = (await this.q<{ org: string }>(`
      WITH RECURSIVE o(org) AS (
        SELECT (SELECT min(org) FROM visits WHERE ${DUE})
        UNION ALL
        SELECT (SELECT min(org) FROM visits WHERE ${DUE} AND org > o.org) FROM o WHERE o.org IS NOT NULL
      )
      SELECT org FROM o WHERE org IS NOT NULL
        AND EXISTS (SELECT 1 FROM visits v WHERE v.org = o.org AND v.${DUE} AND v.next_attempt_at <= ${at})`,
    this.clock ? [this.clock(now)] : [])).rows;
    return rows.map((r) => r.org);
  }

  async claimDue(organizationId: string, now: number, limit: number, leaseMs: number): Promise<ClaimedVisit[]> {
    assertTime('now', now);
    if (!Number.isInteger(limit) || limit < 0) throw new TypeError('limit must be a non-negative integer');
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new TypeError('leaseMs must be a positive number');
    if (limit === 0) return [];
    return this.tx(async (c) => {
      const at = await this.storeNow(c, now);
      // SKIP LOCKED: rows another instance is claiming right now are passed over, never handed out twice.
      const due = (await c.query<DbVisit>(`
        SELECT ${VISIT_COLUMNS} FROM visits WHERE org = $1 AND ${DUE} AND next_attempt_at <= $2
        ORDER BY next_attempt_at, rid LIMIT $3 FOR UPDATE SKIP LOCKED`, [organizationId, at, limit])).rows;
      if (!due.length) return [];
      const leaseUntil = at + leaseMs;
      const claimed: ClaimedVisit[] = [];
      for (const r of due) {
        const row = this.toVisitRow({ ...r, state: 'sending', attempts: r.attempts + 1, lease_until: leaseUntil, next_attempt_at: leaseUntil, updated_at: now });
        if (row.recordUnreadable !== undefined) {
          // Never delivered, never claimed again until an operator acts: held with the reason (which key, what failed).
          const why = unreadableOutcome(row.recordUnreadable, row.recordUnreadableRef);
          await c.query(`UPDATE visits SET state = 'blocked', last_error = $1, lease_until = NULL, updated_at = $2 WHERE rid = $3`, [JSON.stringify(why), now, r.rid]);
          await this.event(c, r, r.revision, r.state, 'blocked', now, r.attempts, why);
          continue;
        }
        await this.event(c, r, r.revision, r.state, 'sending', now, r.attempts + 1, null);
        const claimSeq = r.claim_seq + 1;
        claimed.push({ ...row, claim: { organizationId: r.org, visitId: r.visit_id, revision: r.revision, claimSeq }, claimedBefore: claimSeq > 1 });
      }
      // The lease expiry doubles as the due time, so an abandoned claim shows up in the same index range as queued work.
      await c.query(`UPDATE visits SET state = 'sending', attempts = attempts + 1, claim_seq = claim_seq + 1, lease_until = $1,
        next_attempt_at = $1, updated_at = $2 WHERE org = $3 AND visit_id = ANY($4::text[])`, [leaseUntil, now, organizationId, claimed.map((r) => r.visitId)]);
      return claimed;
    });
  }

  async renewLease(claim: Claim, leaseUntil: number): Promise<boolean> {
    assertClaim(claim);
    assertTime('leaseUntil', leaseUntil);
    return this.tx(async (c) => {
      // leaseUntil is on the caller's clock (its Date.now() + lease): keep the same remaining time on the store's clock.
      const callerNow = Date.now();
      const until = (await this.storeNow(c, callerNow)) + (leaseUntil - callerNow);
      const v = await this.lockVisit(c, claim.organizationId, claim.visitId);
      if (!v) return false;
      if (sameClaim(v, claim)) {
        await c.query('UPDATE visits SET lease_until = $1, next_attempt_at = $1 WHERE rid = $2', [until, v.rid]);
        return true;
      }
      // A newer revision arrived during this attempt (ingest holds it back until the attempt reports or its lease ends):
      // the attempt still runs, so keep holding it — two attempts of one visit must never run at once.
      if (v.revision > claim.revision && v.claim_seq === claim.claimSeq && v.state === 'queued' && v.attempts === 0 && v.next_attempt_at < until) {
        await c.query('UPDATE visits SET next_attempt_at = $1 WHERE rid = $2', [until, v.rid]);
      }
      return false;
    });
  }

  /**
   * One outcome of an attempt, in one transaction: `record` runs only while `claim` is still the row's current claim
   * (sending, same revision, same claim_seq). Otherwise nothing is recorded, a newer revision this claim held back is
   * released (see releaseIfHeld), and the answer is false.
   */
  private async outcome(claim: Claim, now: number, record: (c: pg.PoolClient, v: DbVisit, storeNow: number) => Promise<void>): Promise<boolean> {
    return this.tx(async (c) => {
      const at = await this.storeNow(c, now);
      const v = await this.lockVisit(c, claim.organizationId, claim.visitId);
      if (!v) return false;
      if (!sameClaim(v, claim)) {
        await this.releaseIfHeld(c, v, claim, at);
        return false;
      }
      await record(c, v, at);
      return true;
    });
  }

  async markSent(claim: Claim, resourceIds: Record<string, string>, now: number): Promise<boolean> {
    assertClaim(claim);
    assertTime('now', now);
    return this.outcome(claim, now, async (c, v) => {
      await c.query(`UPDATE visits SET state = 'sent', resource_ids = $1, sent_at = $2, last_error = NULL, lease_until = NULL, updated_at = $2
        WHERE rid = $3`, [JSON.stringify(resourceIds), now, v.rid]);
      await this.event(c, v, v.revision, v.state, 'sent', now, v.attempts, null);
    });
  }

  async markRetry(claim: Claim, nextAttemptAt: number, error: OperationOutcome, now: number, opts?: { refundAttempt?: boolean }): Promise<boolean> {
    assertClaim(claim);
    assertTime('now', now);
    assertTime('nextAttemptAt', nextAttemptAt);
    return this.outcome(claim, now, async (c, v, at) => {
      const refunded = opts?.refundAttempt === true && v.attempts > 0 ? 1 : 0;
      await c.query(`UPDATE visits SET state = 'queued', attempts = greatest(0, attempts - $1), next_attempt_at = $2, last_error = $3,
        lease_until = NULL, updated_at = $4 WHERE rid = $5`, [refunded, at + (nextAttemptAt - now), JSON.stringify(error), now, v.rid]);
      await this.event(c, v, v.revision, v.state, 'queued', now, v.attempts - refunded, error);
    });
  }

  async markFinal(claim: Claim, state: 'needs-correction' | 'blocked' | 'dead-letter', error: OperationOutcome, now: number): Promise<boolean> {
    assertClaim(claim);
    assertTime('now', now);
    if (!FINAL_STATES.has(state)) throw new TypeError(`markFinal: ${String(state)} is not a final state`);
    return this.outcome(claim, now, async (c, v) => {
      await c.query('UPDATE visits SET state = $1, last_error = $2, lease_until = NULL, updated_at = $3 WHERE rid = $4',
        [state, JSON.stringify(error), now, v.rid]);
      await this.event(c, v, v.revision, v.state, state, now, v.attempts, error);
    });
  }

  async requeue(organizationId: string, visitId: string, now: number): Promise<boolean> {
    assertTime('now', now);
    return this.tx(async (c) => {
      const v = await this.lockVisit(c, organizationId, visitId);
      if (!v || !FINAL_STATES.has(v.state)) return false;
      const due = await this.storeNow(c, now);
      await c.query(`UPDATE visits SET state = 'queued', attempts = 0, next_attempt_at = $1, last_error = NULL, lease_until = NULL, updated_at = $2
        WHERE rid = $3`, [due, now, v.rid]);
      await this.event(c, v, v.revision, v.state, 'queued', now, 0, null);
      return true;
    });
  }

  async counts(organizationId?: string): Promise<Counts> {
    const byState = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<VisitState, number>;
    const rows = organizationId === undefined
      ? (await this.q<{ state: VisitState; n: number }>('SELECT state, count(*)::int AS n FROM visits GROUP BY state')).rows
      : (await this.q<{ state: VisitState; n: number }>('SELECT state, count(*)::int AS n FROM visits WHERE org = $1 GROUP BY state', [organizationId])).rows;
    for (const r of rows) byState[r.state] = r.n;
    return { byState };
  }

  async listVisits(f: VisitListFilter): Promise<VisitSummary[]> {
    assertLimit(f.limit);
    const w = new Where();
    if (f.organizationId !== undefined) w.add('org = ?', f.organizationId);
    if (f.states?.length) w.add('state = ANY(?::text[])', [...f.states]);
    if (f.setting !== undefined) w.add('setting = ?', f.setting);
    if (f.locationCode !== undefined) w.add('location_code = ?', f.locationCode);
    if (f.from !== undefined) w.add('visit_start >= ?', f.from);
    if (f.to !== undefined) w.add('visit_start < ?', f.to);
    if (f.updatedSince !== undefined) w.add('updated_at >= ?', f.updatedSince);
    if (f.visitIdPrefix) w.add('starts_with(visit_id, ?)', f.visitIdPrefix);
    if (f.after) w.add('(updated_at, org, visit_id) < (?, ?, ?)', f.after.updatedAt, f.after.organizationId, f.after.visitId);
    const sql = `SELECT org, visit_id, revision, state, attempts, next_attempt_at, updated_at, setting, location_code, visit_start
                 FROM visits ${w.sql} ORDER BY updated_at DESC, org DESC, visit_id DESC LIMIT ${w.next()}`;
    return (await this.q<DbSummary>(sql, [...w.params, f.limit])).rows.map(toSummary);
  }

  async facilityFacts(organizationId: string): Promise<FacilityFacts> {
    const r = (await this.q<{ waiting: number | null; sent: number | null }>(`
      SELECT (SELECT min(created_at) FROM visits WHERE org = $1 AND ${DUE}) AS waiting,
             (SELECT max(sent_at) FROM visits WHERE org = $1 AND sent_at IS NOT NULL) AS sent`, [organizationId])).rows[0];
    const facts: FacilityFacts = {};
    if (r?.waiting != null) facts.oldestWaitingSince = r.waiting;
    if (r?.sent != null) facts.lastSentAt = r.sent;
    return facts;
  }

  async organizations(): Promise<string[]> {
    // Skip-scan of the primary key for visits: one probe per organization, however many visits each has.
    const rows = (await this.q<{ org: string }>(`
      WITH RECURSIVE o(org) AS (
        SELECT (SELECT min(org) FROM visits)
        UNION ALL
        SELECT (SELECT min(org) FROM visits WHERE org > o.org) FROM o WHERE o.org IS NOT NULL
      )
      SELECT org FROM o WHERE org IS NOT NULL UNION SELECT org FROM facility_state`)).rows;
    return [...new Set(rows.map((r) => r.org))].sort();
  }

  async addRejections(entries: RejectionEntry[]): Promise<void> {
    for (const e of entries) {
      if (!nonEmpty(e.organizationId)) throw new TypeError('rejection: organizationId must be a non-empty string');
      assertTime('rejection at', e.at);
      if (!Array.isArray(e.issues)) throw new TypeError('rejection: issues must be an array');
    }
    if (!entries.length) return;
    // One statement: the batch is kept whole or not at all. Ids follow the batch order (WITH ORDINALITY).
    await this.q(`
      INSERT INTO rejections (org, visit_id, at, issues)
      SELECT org, visit_id, at, issues FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[]) WITH ORDINALITY AS e(org, visit_id, at, issues, n)
      ORDER BY n`,
    [entries.map((e) => e.organizationId), entries.map((e) => e.visitId ?? null), entries.map((e) => e.at), entries.map((e) => JSON.stringify(e.issues))]);
  }

  async purgeRejections(before: number, limit: number): Promise<number> {
    assertTime('before', before);
    assertLimit(limit);
    return (await this.q('DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE at < $1 ORDER BY at, id LIMIT $2)', [before, limit])).rowCount ?? 0;
  }

  async listRejections(f: RejectionListFilter): Promise<StoredRejection[]> {
    assertLimit(f.limit);
    const w = new Where();
    if (f.organizationId !== undefined) w.add('org = ?', f.organizationId);
    if (f.since !== undefined) w.add('at >= ?', f.since);
    if (f.until !== undefined) w.add('at < ?', f.until);
    if (f.visitIdPrefix) w.add('starts_with(visit_id, ?)', f.visitIdPrefix);
    if (f.after) w.add('(at, id) < (?, ?)', f.after.at, f.after.id);
    const sql = `SELECT id, org, visit_id, at, issues FROM rejections ${w.sql} ORDER BY at DESC, id DESC LIMIT ${w.next()}`;
    const rows = (await this.q<{ id: number; org: string; visit_id: string | null; at: number; issues: RejectionIssue[] }>(sql, [...w.params, f.limit])).rows;
    return rows.map((r) => ({ id: r.id, organizationId: r.org, ...(r.visit_id !== null ? { visitId: r.visit_id } : {}), at: r.at, issues: r.issues }));
  }

  async pendingCount(organizationId: string): Promise<number> {
    return (await this.q<{ n: number }>(`SELECT count(*)::int AS n FROM visits WHERE org = $1 AND ${DUE}`, [organizationId])).rows[0]?.n ?? 0;
  }

  async dueSplit(organizationId: string, now: number): Promise<DueSplit> {
    assertTime('now', now);
    const at = this.clock ? '$2::bigint' : SERVER_NOW_ONCE;
    const r = (await this.q<{ due: number; later: number; next: number | null }>(`
      WITH t AS (SELECT ${at} AS now)
      SELECT count(*) FILTER (WHERE next_attempt_at <= t.now)::int AS due, count(*) FILTER (WHERE next_attempt_at > t.now)::int AS later,
             min(next_attempt_at) FILTER (WHERE next_attempt_at > t.now) AS next
      FROM visits, t WHERE org = $1 AND ${DUE}`, this.clock ? [organizationId, this.clock(now)] : [organizationId])).rows[0];
    return { dueNow: r?.due ?? 0, later: r?.later ?? 0, ...(r?.next != null ? { nextDueAt: r.next } : {}) };
  }

  async visitHistory(organizationId: string, visitId: string): Promise<VisitEvent[]> {
    const rows = (await this.q<DbEvent<unknown>>(
      'SELECT revision, from_state, to_state, at, attempts, error, error_messages FROM visit_events WHERE org = $1 AND visit_id = $2 ORDER BY id',
      [organizationId, visitId])).rows;
    return rows.map((e) => toVisitEvent(e, (v) => v));
  }

  // ---- ledger and identities ------------------------------------------------------------------------------------

  async getLedger(organizationId: string, localKey: string): Promise<LedgerEntry | undefined> {
    const r = (await this.q<DbLedger>('SELECT * FROM ledger WHERE org = $1 AND local_key = $2', [organizationId, localKey])).rows[0];
    return r && toLedgerEntry(r);
  }

  async ledgerForVisit(organizationId: string, visitId: string): Promise<LedgerEntry[]> {
    if (!nonEmpty(visitId)) throw new TypeError('visitId must be a non-empty string');
    // The prefix's visit segment has no '/' (ledgerVisitSegment), so this range never reaches a longer id's keys.
    const prefix = visitLedgerPrefix(visitId);
    const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return (await this.q<DbLedger>('SELECT * FROM ledger WHERE org = $1 AND local_key >= $2 AND local_key < $3 ORDER BY local_key',
      [organizationId, prefix, upper])).rows.map(toLedgerEntry);
  }

  async putLedger(entries: LedgerEntry[]): Promise<void> {
    if (!entries.length) return;
    await this.tx(async (c) => {
      for (const e of inKeyOrder(entries, (x) => [x.organizationId, x.localKey]).map((i) => entries[i]!)) {
        await c.query(`INSERT INTO ledger (org, local_key, resource_type, satusehat_id, content_hash, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
          ON CONFLICT (org, local_key) DO UPDATE SET resource_type = excluded.resource_type, satusehat_id = excluded.satusehat_id,
          content_hash = excluded.content_hash, updated_at = excluded.updated_at`,
        [e.organizationId, e.localKey, e.resourceType, e.satusehatId, e.contentHash, e.updatedAt]);
      }
    });
  }

  async forgetPlatformIds(organizationId: string): Promise<{ identities: number; ledger: number }> {
    if (!nonEmpty(organizationId)) throw new TypeError('organizationId must be a non-empty string');
    return this.tx(async (c) => ({
      identities: (await c.query('DELETE FROM identities WHERE org = $1', [organizationId])).rowCount ?? 0,
      ledger: (await c.query('DELETE FROM ledger WHERE org = $1', [organizationId])).rowCount ?? 0,
    }));
  }

  async getIdentity(kind: IdentityEntry['kind'], organizationId: string, keyHash: string): Promise<IdentityEntry | undefined> {
    const r = (await this.q<{ kind: IdentityEntry['kind']; org: string; key_hash: string; satusehat_id: string; updated_at: number }>(
      'SELECT * FROM identities WHERE kind = $1 AND org = $2 AND key_hash = $3', [kind, organizationId, keyHash])).rows[0];
    return r && { kind: r.kind, organizationId: r.org, keyHash: r.key_hash, satusehatId: r.satusehat_id, updatedAt: r.updated_at };
  }

  async putIdentity(e: IdentityEntry): Promise<void> {
    await this.q(`INSERT INTO identities (kind, org, key_hash, satusehat_id, updated_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (kind, org, key_hash) DO UPDATE SET satusehat_id = excluded.satusehat_id, updated_at = excluded.updated_at`,
    [e.kind, e.organizationId, e.keyHash, e.satusehatId, e.updatedAt]);
  }

  // ---- facilities -----------------------------------------------------------------------------------------------

  async getFacilityState(organizationId: string): Promise<FacilityState | undefined> {
    const r = (await this.q<DbFacilityState<unknown>>(
      'SELECT * FROM facility_state WHERE org = $1', [organizationId])).rows[0];
    return r && toFacilityState(r, (parsed) => parsed);
  }

  async putFacilityState(st: FacilityState): Promise<void> {
    await this.q(`INSERT INTO facility_state (org, status, cause, reason, reason_message, not_before, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (org) DO UPDATE SET status = excluded.status, cause = excluded.cause, reason = excluded.reason,
      reason_message = excluded.reason_message, not_before = excluded.not_before, updated_at = excluded.updated_at`,
    [st.organizationId, st.status, st.cause ?? null, st.reason ?? null, st.reasonMessage ? JSON.stringify(st.reasonMessage) : null, st.notBefore ?? null, st.updatedAt]);
  }

  // ---- api keys -------------------------------------------------------------------------------------------------

  private async upsertApiKey(c: Queryable, row: ApiKeyRow, source: ApiKeySource, createdAt: number | null): Promise<void> {
    // created_at and revoked_at survive an update: re-importing a file neither renews a key's age nor lifts a revocation.
    await c.query(`INSERT INTO api_keys (key_hash, org, role, label, source, created_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (key_hash) DO UPDATE SET org = excluded.org, role = excluded.role, label = excluded.label,
      source = excluded.source, created_at = coalesce(api_keys.created_at, excluded.created_at)`,
    [row.keyHash, row.organizationId, row.role, row.label ?? null, source, createdAt]);
  }

  async putApiKey(row: ApiKeyRow): Promise<void> {
    await this.upsertApiKey(this.pool, row, row.source ?? 'cli', row.createdAt ?? null).catch((e: unknown) => {
      throw pgStorageError(e) ?? e;
    });
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRow | undefined> {
    const r = (await this.q<DbApiKey>('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash])).rows[0];
    return r && toApiKeyRow(r);
  }

  async listApiKeys(): Promise<ApiKeyRow[]> {
    return (await this.q<DbApiKey>('SELECT * FROM api_keys ORDER BY coalesce(created_at, 0), key_hash COLLATE "C"')).rows.map(toApiKeyRow);
  }

  async revokeApiKey(keyHash: string, now: number): Promise<boolean> {
    assertTime('now', now);
    return (await this.q('UPDATE api_keys SET revoked_at = $1 WHERE key_hash = $2 AND revoked_at IS NULL', [now, keyHash])).rowCount === 1;
  }

  async importApiKeys(rows: ApiKeyRow[], now: number): Promise<ApiKeyImport> {
    assertTime('now', now);
    return this.tx(async (c) => {
      const listed = new Set(rows.map((r) => r.keyHash));
      const earlier = (await c.query<{ key_hash: string }>("SELECT key_hash FROM api_keys WHERE source = 'file' FOR UPDATE")).rows;
      let revoked = 0;
      for (const old of earlier) {
        if (listed.has(old.key_hash)) continue;
        revoked += (await c.query('UPDATE api_keys SET revoked_at = $1 WHERE key_hash = $2 AND revoked_at IS NULL', [now, old.key_hash])).rowCount ?? 0;
      }
      let stillRevoked = 0;
      for (const r of rows) {
        await this.upsertApiKey(c, r, 'file', now);
        const after = (await c.query<{ revoked_at: number | null }>('SELECT revoked_at FROM api_keys WHERE key_hash = $1', [r.keyHash])).rows[0];
        if (after?.revoked_at != null) stillRevoked++;
      }
      return { imported: rows.length, revoked, stillRevoked };
    });
  }

  // ---- health data at rest --------------------------------------------------------------------------------------

  async bodyKeyCounts(): Promise<BodyKeyCounts> {
    const r = (await this.q<{ counts: Array<{ k: string | null; n: number }> | null; purged: number }>(`
      SELECT (SELECT json_agg(json_build_object('k', k, 'n', n)) FROM (
                SELECT record_key AS k, count(*)::int AS n FROM visits WHERE record_purged_at IS NULL GROUP BY record_key) c) AS counts,
             (SELECT count(*)::int FROM visits WHERE record_purged_at IS NOT NULL) AS purged`)).rows[0];
    // fromEntries defines own properties: a key id read from the database can never reach a prototype.
    const byKey = Object.fromEntries((r?.counts ?? []).map((x) => [x.k ?? 'plain', x.n]));
    const current = currentKeyIdOf(this.codec);
    return { byKey, purged: r?.purged ?? 0, ...(current !== undefined ? { currentKeyId: current } : {}) };
  }

  async hasStaleBodies(): Promise<boolean> {
    const current = currentKeyIdOf(this.codec);
    if (current === undefined) return false; // no keyring: bodies are stored plain on purpose
    // Three ranges of the partial index (NULL, below, above the current key), each stopping at its first entry.
    const r = (await this.q<{ stale: boolean }>(`SELECT
      EXISTS (SELECT 1 FROM visits WHERE record_purged_at IS NULL AND record_key IS NULL)
      OR EXISTS (SELECT 1 FROM visits WHERE record_purged_at IS NULL AND record_key < $1)
      OR EXISTS (SELECT 1 FROM visits WHERE record_purged_at IS NULL AND record_key > $1) AS stale`, [current])).rows[0];
    return r?.stale === true;
  }

  /**
   * Re-encrypts up to `limit` bodies not under the current key (plain ones included), rows after `after` (a row-id
   * cursor: a body that cannot be opened is counted and passed, never retried in a loop). One transaction per batch;
   * rows another instance holds are skipped for this pass.
   */
  async reencryptBodies(limit: number, after: number): Promise<ReencryptBatch> {
    assertLimit(limit);
    if (!Number.isInteger(after) || after < 0) throw new TypeError('after must be a non-negative integer');
    const current = currentKeyIdOf(this.codec);
    if (current === undefined) return { reencrypted: 0, unreadable: [], done: true, next: after };
    return this.tx(async (c) => {
      const rows = (await c.query<{ rid: number; org: string; visit_id: string; record: string }>(`
        SELECT rid, org, visit_id, record FROM visits WHERE rid > $1 AND record_purged_at IS NULL AND record_key IS DISTINCT FROM $2
        ORDER BY rid LIMIT $3 FOR UPDATE SKIP LOCKED`, [after, current, limit])).rows;
      const out: ReencryptBatch = { reencrypted: 0, unreadable: [], done: rows.length < limit, next: rows.at(-1)?.rid ?? after };
      for (const r of rows) {
        const aad = recordAad(r.org, r.visit_id);
        let plain: string;
        try {
          plain = this.codec.open(r.record, aad);
        } catch (e) {
          if (!(e instanceof RecordSealError)) throw e;
          out.unreadable.push({ organizationId: r.org, visitId: r.visit_id, keyId: e.keyId ?? sealedKeyId(r.record) ?? 'plain', fault: e.fault });
          continue;
        }
        const sealed = this.codec.seal(plain, aad);
        out.reencrypted += (await c.query('UPDATE visits SET record = $1, record_key = $2 WHERE rid = $3', [sealed, sealedKeyId(sealed) ?? null, r.rid])).rowCount ?? 0;
      }
      return out;
    });
  }

  async retentionPreview(cutoffs: RetentionCutoffs): Promise<RetentionPreview> {
    assertCutoffs(cutoffs);
    const r = (await this.q<{ bn: number; bo: number | null; en: number; eo: number | null; rn: number; ro: number | null }>(`
      SELECT b.n AS bn, b.oldest AS bo, e.n AS en, e.oldest AS eo, r.n AS rn, r.oldest AS ro FROM
        (SELECT count(*)::int AS n, min(sent_at) AS oldest FROM visits WHERE state = 'sent' AND record_purged_at IS NULL AND sent_at < $1) b,
        (SELECT count(*)::int AS n, min(at) AS oldest FROM visit_events WHERE at < $2) e,
        (SELECT count(*)::int AS n, min(at) AS oldest FROM rejections WHERE at < $3) r`,
    [cutoffs.sentBodiesBefore, cutoffs.visitEventsBefore, cutoffs.rejectionsBefore])).rows[0]!;
    const kind = (n: number, oldest: number | null) => ({ count: n, ...(oldest !== null ? { oldest } : {}) });
    return { sentBodies: kind(r.bn, r.bo), visitEvents: kind(r.en, r.eo), rejections: kind(r.rn, r.ro) };
  }

  /** One bounded batch per kind (`limit` rows at most each), each its own statement (a transaction of its own). */
  async purgeExpired(cutoffs: RetentionCutoffs, limit: number, now: number): Promise<RetentionResult> {
    assertCutoffs(cutoffs);
    assertLimit(limit);
    assertTime('now', now);
    // The body goes, the row stays: its content hash, state and the ledger keep a resend `unchanged` and let a revision
    // be delivered over the same SATUSEHAT ids.
    const bodies = await this.q(`UPDATE visits SET record = '', record_key = NULL, record_purged_at = $1 WHERE rid IN (
      SELECT rid FROM visits WHERE state = 'sent' AND record_purged_at IS NULL AND sent_at < $2 ORDER BY sent_at LIMIT $3 FOR UPDATE SKIP LOCKED)`,
    [now, cutoffs.sentBodiesBefore, limit]);
    const events = await this.q('DELETE FROM visit_events WHERE id IN (SELECT id FROM visit_events WHERE at < $1 ORDER BY at, id LIMIT $2)',
      [cutoffs.visitEventsBefore, limit]);
    const rejections = await this.q('DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE at < $1 ORDER BY at, id LIMIT $2)',
      [cutoffs.rejectionsBefore, limit]);
    return { sentBodies: bodies.rowCount ?? 0, visitEvents: events.rowCount ?? 0, rejections: rejections.rowCount ?? 0 };
  }

  /** SQLite truncates its write-ahead log here; PostgreSQL's autovacuum reclaims the old row versions itself. */
  async compactLog(): Promise<void> {
    return Promise.resolve();
  }

  // ---- state shared by instances: quota, token, leases ----------------------------------------------------------

  /**
   * One transaction per point: the upsert row-locks the credential's quota_state row (instances granting for the same
   * credential queue there, others do not wait), and the clock is read after the lock, so the grant log only grows in time.
   */
  async takeQuotaPoint(credential: string, limit: number, windowMs: number, now: number): Promise<QuotaAnswer> {
    assertQuotaArgs(credential, limit, windowMs);
    assertTime('now', now);
    return this.tx(async (c) => {
      const r = (await c.query<{ paused_until: number; now: number }>(`INSERT INTO quota_state (credential) VALUES ($1)
        ON CONFLICT (credential) DO UPDATE SET paused_until = quota_state.paused_until RETURNING paused_until, ${SERVER_NOW} AS now`, [credential])).rows[0]!;
      const at = this.clock ? this.clock(now) : r.now;
      const cut = at - windowMs;
      const nth = (await c.query<{ at: number }>(`WITH gone AS (DELETE FROM quota_grants WHERE credential = $1 AND at <= $2)
        SELECT at FROM quota_grants WHERE credential = $1 AND at > $2 ORDER BY at DESC OFFSET $3 LIMIT 1`, [credential, cut, limit - 1])).rows[0];
      const wait = quotaDecision(at, r.paused_until, nth?.at, windowMs);
      if (wait) return wait;
      // The grant and the overview's count of its minute in one round trip; the first grant of a minute prunes the
      // minutes older than the kept hours.
      const counted = await c.query<{ granted: number }>(`WITH g AS (INSERT INTO quota_grants (credential, at) VALUES ($1, $2))
        INSERT INTO quota_minutes (credential, minute, granted) VALUES ($1, $3, 1)
        ON CONFLICT (credential, minute) DO UPDATE SET granted = quota_minutes.granted + 1 RETURNING granted`, [credential, at, minuteOf(at)]);
      if (counted.rows[0]!.granted === 1) await c.query('DELETE FROM quota_minutes WHERE credential = $1 AND minute < $2', [credential, at - QUOTA_MINUTES_KEPT_MS]);
      return { granted: true, at };
    });
  }

  // ---- console sessions shared by instances (pg-console-sessions.ts): times on the store's clock -----------------

  async createConsoleSession(idHash: string, session: Pick<ConsoleSessionRecord, 'keyHash' | 'csrf'>, idleMs: number, maxSessions: number, now: number): Promise<void> {
    assertSessionArgs(idHash, now, idleMs, maxSessions);
    await this.tx(async (c) => createSession(c, idHash, session, idleMs, maxSessions, await this.storeNow(c, now)));
  }

  /** One round trip for most requests (the row and the database clock); a write only to expire or to restart the idle clock. */
  async getConsoleSession(idHash: string, idleMs: number, touchMs: number, now: number): Promise<ConsoleSessionRecord | undefined> {
    assertSessionArgs(idHash, now, idleMs, touchMs);
    const r = (await this.q<DbConsoleSession & { now: string }>(`SELECT ${CONSOLE_SESSION_COLUMNS}, ${SERVER_NOW} AS now FROM console_sessions WHERE id_hash = $1`, [idHash])).rows[0];
    if (!r) return undefined;
    const at = this.clock ? this.clock(now) : Number(r.now);
    const step = sessionStep(Number(r.last_seen), idleMs, touchMs, at);
    if (step === 'expired') {
      await this.q('DELETE FROM console_sessions WHERE id_hash = $1 AND last_seen = $2', [idHash, r.last_seen]);
      return undefined;
    }
    if (step === 'touch') await this.q('UPDATE console_sessions SET last_seen = $1 WHERE id_hash = $2 AND last_seen < $1', [at, idHash]);
    return { ...toConsoleSession(r), ...(step === 'touch' ? { lastSeen: at } : {}) };
  }

  async setConsoleFlash(idHash: string, flash: string): Promise<void> {
    await this.q('UPDATE console_sessions SET flash = $1 WHERE id_hash = $2', [flash, idHash]);
  }

  async clearConsoleFlash(idHash: string, flash: string): Promise<void> {
    await this.q('UPDATE console_sessions SET flash = NULL WHERE id_hash = $1 AND flash = $2', [idHash, flash]);
  }

  async deleteConsoleSession(idHash: string): Promise<void> {
    await this.q('DELETE FROM console_sessions WHERE id_hash = $1', [idHash]);
  }

  async countConsoleSessions(idleMs: number, now: number): Promise<number> {
    assertTime('now', now);
    const at = await this.storeNow(this.pool, now).catch((e: unknown) => Promise.reject(pgStorageError(e) ?? e));
    return Number((await this.q<{ n: string }>('SELECT count(*) AS n FROM console_sessions WHERE last_seen >= $1', [at - idleMs])).rows[0]!.n);
  }

  // ---- import jobs shared by instances (pg-import-jobs.ts): times on the store's clock ---------------------------

  async reserveImportJob(job: Pick<ImportJobRecord, 'id' | 'organizationId' | 'template' | 'dryRun' | 'locale'>, holder: string, maxRunning: number, leaseMs: number, now: number): Promise<ImportJobReservation> {
    assertJobArgs(job.id, holder, now);
    assertNewJob(job, maxRunning, leaseMs);
    return this.tx(async (c) => reserveJob(c, job, holder, maxRunning, leaseMs, await this.storeNow(c, now)));
  }

  async updateImportJob(id: string, holder: string, update: ImportJobUpdate, leaseMs: number, now: number): Promise<boolean> {
    assertJobArgs(id, holder, now);
    return this.tx(async (c) => updateJob(c, id, holder, update, leaseMs, await this.storeNow(c, now)));
  }

  async finishImportJob(id: string, holder: string, end: ImportJobUpdate & { state: 'done' | 'failed'; fileError?: ImportJobRecord['fileError'] }, now: number): Promise<void> {
    assertJobArgs(id, holder, now);
    await this.tx(async (c) => finishJob(c, id, holder, end, await this.storeNow(c, now)));
  }

  async getImportJob(id: string, now: number): Promise<ImportJobRecord | undefined> {
    assertTime('now', now);
    return this.tx(async (c) => getJob(c, id, await this.storeNow(c, now)));
  }

  async dropImportJob(id: string, holder: string): Promise<void> {
    await this.tx((c) => dropJob(c, id, holder));
  }

  async forgetImportJobs(before: number, maxKept: number, now: number): Promise<number> {
    assertTime('before', before);
    assertTime('now', now);
    // `before` is on the caller's clock: the same distance back on the store's.
    return this.tx(async (c) => {
      const at = await this.storeNow(c, now);
      return forgetJobs(c, at - (now - before), maxKept, at);
    });
  }

  async quotaUse(credential: string, windowMs: number, now: number): Promise<{ requests: number; since: number }> {
    assertQuotaArgs(credential, 1, windowMs);
    assertTime('now', now);
    const at = await this.storeNow(this.pool, now).catch((e: unknown) => Promise.reject(pgStorageError(e) ?? e));
    const since = quotaUseSince(at, windowMs);
    const r = await this.q<{ requests: string }>('SELECT coalesce(sum(granted), 0) AS requests FROM quota_minutes WHERE credential = $1 AND minute >= $2', [credential, since]);
    return { requests: Number(r.rows[0]!.requests), since };
  }

  async pauseQuota(credential: string, ms: number, now: number): Promise<void> {
    assertQuotaArgs(credential, 1, 1);
    assertDuration('ms', ms);
    assertTime('now', now);
    const at = await this.storeNow(this.pool, now).catch((e: unknown) => Promise.reject(pgStorageError(e) ?? e));
    await this.q(`INSERT INTO quota_state (credential, paused_until) VALUES ($1, $2)
      ON CONFLICT (credential) DO UPDATE SET paused_until = greatest(quota_state.paused_until, excluded.paused_until)`, [credential, at + Math.ceil(ms)]);
  }

  async getSharedToken(credential: string, now: number): Promise<SharedTokenState> {
    assertTime('now', now);
    const r = (await this.q<DbTokenRow & { now: number }>(`SELECT token, expires_at, refresh_at, blocked_until, blocked_state, blocked_error, ${SERVER_NOW} AS now
      FROM platform_tokens WHERE credential = $1`, [credential])).rows[0];
    return toSharedTokenState(r, credential, r ? (this.clock ? this.clock(now) : r.now) : now, this.codec, (v) => v);
  }

  async putSharedToken(credential: string, update: SharedTokenUpdate, holder: string, now: number): Promise<void> {
    assertLeaseArgs(credential, holder);
    assertTime('now', now);
    await this.tx(async (c) => {
      const at = await this.storeNow(c, now);
      const cols = tokenColumns(credential, update, at, this.codec);
      if (cols.token) {
        await c.query(`INSERT INTO platform_tokens (credential, token, token_hash, expires_at, refresh_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
          ON CONFLICT (credential) DO UPDATE SET token = excluded.token, token_hash = excluded.token_hash, expires_at = excluded.expires_at,
          refresh_at = excluded.refresh_at, blocked_until = NULL, blocked_state = NULL, blocked_error = NULL, updated_at = excluded.updated_at`,
        [credential, cols.token.sealed, cols.token.hash, cols.token.expiresAt, cols.token.refreshAt, at]);
      }
      if (cols.block) {
        await c.query(`INSERT INTO platform_tokens (credential, blocked_until, blocked_state, blocked_error, updated_at) VALUES ($1, $2, $3, $4, $5)
          ON CONFLICT (credential) DO UPDATE SET blocked_until = excluded.blocked_until, blocked_state = excluded.blocked_state,
          blocked_error = excluded.blocked_error, updated_at = excluded.updated_at`, [credential, cols.block.until, cols.block.state, cols.block.error, at]);
      }
      await c.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [`token:${credential}`, holder]);
    });
  }

  async dropSharedToken(credential: string, value?: string): Promise<void> {
    const clear = 'UPDATE platform_tokens SET token = NULL, token_hash = NULL, expires_at = NULL, refresh_at = NULL WHERE credential = $1';
    if (value === undefined) await this.q(clear, [credential]);
    else await this.q(`${clear} AND token_hash = $2`, [credential, tokenHash(value)]);
  }

  async tryLease(name: string, holder: string, ms: number, now: number): Promise<boolean> {
    assertLeaseArgs(name, holder);
    assertDuration('ms', ms);
    assertTime('now', now);
    const at = this.clock ? `$4::bigint` : SERVER_NOW_ONCE;
    const r = await this.q(`INSERT INTO leases (name, holder, until) VALUES ($1, $2, ${at} + $3::bigint)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until WHERE leases.until <= ${at} OR leases.holder = excluded.holder`,
    this.clock ? [name, holder, Math.ceil(ms), this.clock(now)] : [name, holder, Math.ceil(ms)]);
    return r.rowCount === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    assertLeaseArgs(name, holder);
    await this.q('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  // ---- health ---------------------------------------------------------------------------------------------------

  async probeWrite(now: number): Promise<void> {
    assertTime('now', now);
    await this.q('INSERT INTO store_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at', [now]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** Indexes of `items` ordered by key (the same order in every instance); equal keys keep their order (a stable sort). */
function inKeyOrder<T>(items: readonly T[], keyOf: (item: T) => [string, string]): number[] {
  const keys = items.map(keyOf);
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return items.map((_, i) => i).sort((a, b) => cmp(keys[a]![0], keys[b]![0]) || cmp(keys[a]![1], keys[b]![1]));
}

function assertCutoffs(c: RetentionCutoffs): void {
  if (!c || typeof c !== 'object') throw new TypeError('retention cutoffs must be an object');
  assertTime('sentBodiesBefore', c.sentBodiesBefore);
  assertTime('visitEventsBefore', c.visitEventsBefore);
  assertTime('rejectionsBefore', c.rejectionsBefore);
}

/** WHERE clause with numbered placeholders, built from the filters present (`?` in each part becomes $n). */
class Where {
  private readonly parts: string[] = [];
  readonly params: unknown[] = [];
  add(sql: string, ...params: unknown[]): void {
    let i = 0;
    this.parts.push(sql.replace(/\?/g, () => `$${this.params.length + ++i}`));
    this.params.push(...params);
  }
  /** The placeholder of the next parameter (the LIMIT). */
  next(): string {
    return `$${this.params.length + 1}`;
  }
  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
