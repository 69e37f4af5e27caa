// Service settings from the environment, checked at start-up: one clear line per mistake, secrets kept out of messages.
import net from 'node:net';
import path from 'node:path';
import cron from 'node-cron';
import { ConfigError, configProblem as cp, type ConfigProblem } from './errors.js';
import { isValidTimezone } from './facilities.js';
import { keyWeakness } from './key-strength.js';

export interface SyncSettings {
  /**
   * SYNC_CONCURRENCY: visits in flight at once across all facilities (a global cap). Every facility with due work is
   * served at the same time (each has its own credential and quota), so throughput grows with the number of
   * facilities up to this cap; free slots go round-robin between facilities.
   */
  concurrency: number;
  /** SYNC_FACILITY_CONCURRENCY: visits in flight at once for one facility (they share its quota anyway). */
  perFacilityConcurrency: number;
  /** SYNC_BATCH_SIZE: visits of one facility per turn (between turns its due work and status are looked at again). */
  batchSize: number;
  /**
   * SYNC_LEASE_MS: a claimed record belongs to its claimer this long; renewed every third of it while its delivery
   * runs, so after a crash it is due again at most one lease later.
   */
  leaseMs: number;
  /** A tick stops claiming after this long (in-flight deliveries finish). */
  timeBudgetMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  authProbeDelayMs: number;
}

export interface ServiceConfig {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<file>` / `sqlite::memory:`; absent ⇒ `<dataDir>/ilp-adapter.db`. */
  databaseUrl?: string;
  /** DATABASE_POOL_MAX: PostgreSQL connections per instance (default 10). */
  databasePoolMax: number;
  /** DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL statement_timeout per connection (default 30000; 0 = none). */
  databaseStatementTimeoutMs: number;
  syncCron: string;
  syncTimezone: string;
  /** false ⇒ no scheduler (only POST /sync/run and `ilp-adapter sync --once`). */
  syncEnabled: boolean;
  /** A push that stores new work also starts a sync run about 2 s later (besides the schedule). */
  syncOnIngest: boolean;
  facilitiesFile?: string;
  secretsFile?: string;
  apiKeysFile?: string;
  /** ADMIN_API_KEY itself, kept only to hash it at start-up; never logged. */
  adminApiKey?: string;
  /** ILP_HMAC_KEY (hex or base64, ≥ 32 bytes); absent ⇒ generated once under dataDir. */
  hmacKey?: string;
  logLevel: string;
  ingestMaxRecords: number;
  /** REJECTIONS_RETENTION_DAYS: how long a record refused at push is kept as a rejection entry (its issues, never its content). */
  rejectionsRetentionDays: number;
  /** RETENTION_SENT_DAYS: days after delivery (sentAt) the body of a sent record is purged (the row, hash, ledger stay). */
  retentionSentDays: number;
  /** HISTORY_RETENTION_DAYS: days a visit's state-change history entry is kept. */
  historyRetentionDays: number;
  /** CONSOLE_UPLOAD_MAX_MB: the size cap of one spreadsheet uploaded in the console, enforced while it streams in. */
  consoleUploadMaxMb: number;
  /** DISK_FREE_FLOOR_MB: below this much free space in the data folder ingest answers 507 and /ready fails; 0 = off. */
  diskFreeFloorMb: number;
  /** INGEST_RECORDS_PER_MINUTE: records one facility may push per minute (valid or not; each costs a check and a mapping). */
  ingestRecordsPerMinute: number;
  /** INGEST_MAX_QUEUED_PER_FACILITY: records of one facility waiting for delivery (queued or sending) beyond which a push is refused whole. */
  ingestMaxQueuedPerFacility: number;
  /**
   * PLATFORM_QUOTA_GRANT_PERCENT: the share of each facility's quotaPerMinute the service grants in any sliding minute,
   * across every instance on the database (requests granted in order may arrive out of order). Default 95.
   */
  quotaGrantPercent: number;
  /** SHUTDOWN_GRACE_MS: on SIGTERM/SIGINT, how long in-flight deliveries and requests may take before the process exits anyway. */
  shutdownGraceMs: number;
  sync: SyncSettings;
  /** Per-client-address limits of the unauthenticated $validate and $map. */
  openEndpoints: { perMinute: number; concurrent: number };
  validation: ValidationPoolSettings;
}

export const DEFAULT_DISK_FREE_FLOOR_MB = 200;
/** PLATFORM_QUOTA_GRANT_PERCENT's default: a 5% margin for requests that reach the platform in another order than granted. */
export const DEFAULT_QUOTA_GRANT_PERCENT = 95;
export const DEFAULT_REJECTIONS_RETENTION_DAYS = 30;
export const DEFAULT_RETENTION_SENT_DAYS = 30;
export const DEFAULT_HISTORY_RETENTION_DAYS = 90;
export const DEFAULT_CONSOLE_UPLOAD_MAX_MB = 32;
export const DEFAULT_INGEST_RECORDS_PER_MINUTE = 6_000;
export const DEFAULT_INGEST_MAX_QUEUED_PER_FACILITY = 100_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export interface ValidationPoolSettings {
  /** VALIDATE_WORKERS: worker threads for large $validate payloads; 0 ⇒ every payload is validated inline. */
  workers: number;
  /** VALIDATE_QUEUE: large payloads that may wait for a worker; beyond workers + queue the answer is 503 + Retry-After. */
  queue: number;
  /** VALIDATE_WORKER_MIN_BYTES: bodies at least this large go to a worker; smaller ones are cheaper inline. */
  minBytes: number;
}

export const defaultValidationPool: ValidationPoolSettings = { workers: 1, queue: 8, minBytes: 64 * 1024 };
/** OPEN_RATE_PER_MINUTE and OPEN_CONCURRENCY, per client address. */
export const defaultOpenEndpoints = { perMinute: 120, concurrent: 2 };

export const DEFAULT_SYNC_CRON = '*/5 * * * *';
export const DEFAULT_SYNC_TIMEZONE = 'Asia/Jakarta';

export const defaultSyncSettings: SyncSettings = {
  // 32 in flight: e.g. 8 facilities at full per-facility concurrency, or 32 facilities with one visit each.
  concurrency: 32,
  perFacilityConcurrency: 4,
  batchSize: 8,
  leaseMs: 120_000,
  timeBudgetMs: 240_000,
  maxAttempts: 8,
  backoffBaseMs: 30_000,
  backoffMaxMs: 3_600_000,
  authProbeDelayMs: 600_000,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the service configuration; throws one ConfigError listing every problem. */
/** How the service, the CLI and the benchmarks open the store of this configuration (openStore's options). */
export function storeOptionsOf(cfg: Pick<ServiceConfig, 'databaseUrl' | 'dataDir' | 'databasePoolMax' | 'databaseStatementTimeoutMs'>): {
  url?: string; dataDir: string; poolMax: number; statementTimeoutMs: number;
} {
  return { ...(cfg.databaseUrl ? { url: cfg.databaseUrl } : {}), dataDir: cfg.dataDir, poolMax: cfg.databasePoolMax, statementTimeoutMs: cfg.databaseStatementTimeoutMs };
}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServiceConfig {
  const { config, problems } = readServiceConfig(env, cwd);
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/**
 * The configuration with defaults in place of every unusable value, and the problems found: start-up goes on to check
 * the facility files too, so that an operator sees every mistake in one go.
 */
export function readServiceConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { config: ServiceConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const str = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (k: string, dflt: number, min: number, max: number): number => {
    const v = str(k);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(cp('env.int-range', { name: k, min, max, value: v }));
      return dflt;
    }
    return n;
  };

  const host = str('HOST') ?? '127.0.0.1';
  const port = int('PORT', 8080, 0, 65535);
  const dataDir = path.resolve(cwd, str('DATA_DIR') ?? 'data');
  const databaseUrl = str('DATABASE_URL');
  // Only the rule is echoed, never the value: a database URL may carry a password.
  if (databaseUrl !== undefined && !/^(sqlite:|postgres(ql)?:\/\/)/i.test(databaseUrl)) {
    problems.push(cp('env.database-url'));
  }
  const syncCron = str('SYNC_CRON') ?? DEFAULT_SYNC_CRON;
  if (!cron.validate(syncCron)) problems.push(cp('env.sync-cron', { value: syncCron }));
  const syncTimezone = str('SYNC_TIMEZONE') ?? DEFAULT_SYNC_TIMEZONE;
  if (!isValidTimezone(syncTimezone)) problems.push(cp('env.timezone', { name: 'SYNC_TIMEZONE', value: syncTimezone }));
  const enabled = (str('SYNC_ENABLED') ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(enabled)) problems.push(cp('env.boolean', { name: 'SYNC_ENABLED' }));
  const onIngest = (str('SYNC_ON_INGEST') ?? 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(onIngest)) problems.push(cp('env.boolean', { name: 'SYNC_ON_INGEST' }));

  const adminApiKey = str('ADMIN_API_KEY');
  const adminWeakness = adminApiKey === undefined ? undefined : keyWeakness(adminApiKey);
  if (adminWeakness) problems.push({ key: `keys.weak.${adminWeakness}`, params: { name: 'ADMIN_API_KEY' } });
  const hmacKey = str('ILP_HMAC_KEY');
  if (hmacKey !== undefined && decodeKey(hmacKey) === undefined) {
    problems.push(cp('env.hmac-key'));
  }
  const logLevel = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(cp('env.log-level', { levels: LOG_LEVELS.join(', ') }));

  const d = defaultSyncSettings;
  const sync: SyncSettings = {
    concurrency: int('SYNC_CONCURRENCY', d.concurrency, 1, 256),
    perFacilityConcurrency: int('SYNC_FACILITY_CONCURRENCY', d.perFacilityConcurrency, 1, 64),
    batchSize: int('SYNC_BATCH_SIZE', d.batchSize, 1, 500),
    leaseMs: int('SYNC_LEASE_MS', d.leaseMs, 1_000, 3_600_000),
    timeBudgetMs: int('SYNC_TIME_BUDGET_MS', d.timeBudgetMs, 1_000, 86_400_000),
    maxAttempts: int('SYNC_MAX_ATTEMPTS', d.maxAttempts, 1, 100),
    backoffBaseMs: int('SYNC_BACKOFF_BASE_MS', d.backoffBaseMs, 1, 86_400_000),
    backoffMaxMs: int('SYNC_BACKOFF_MAX_MS', d.backoffMaxMs, 1, 7 * 86_400_000),
    authProbeDelayMs: int('SYNC_AUTH_PROBE_MS', d.authProbeDelayMs, 60_000, 86_400_000),
  };
  if (sync.backoffMaxMs < sync.backoffBaseMs) problems.push(cp('env.backoff'));

  const file = (k: string): string | undefined => {
    const v = str(k);
    return v === undefined ? undefined : path.resolve(cwd, v);
  };
  const cfg: ServiceConfig = {
    host,
    port,
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    databasePoolMax: int('DATABASE_POOL_MAX', 10, 1, 500),
    databaseStatementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000),
    syncCron,
    syncTimezone,
    syncEnabled: enabled === 'true' || enabled === '1',
    syncOnIngest: onIngest === 'true' || onIngest === '1',
    ...(file('FACILITIES_FILE') ? { facilitiesFile: file('FACILITIES_FILE') } : {}),
    ...(file('SATUSEHAT_SECRETS_FILE') ? { secretsFile: file('SATUSEHAT_SECRETS_FILE') } : {}),
    ...(file('API_KEYS_FILE') ? { apiKeysFile: file('API_KEYS_FILE') } : {}),
    ...(adminApiKey ? { adminApiKey } : {}),
    ...(hmacKey ? { hmacKey } : {}),
    logLevel,
    ingestMaxRecords: int('INGEST_MAX_RECORDS', 500, 1, 5_000),
    rejectionsRetentionDays: int('REJECTIONS_RETENTION_DAYS', DEFAULT_REJECTIONS_RETENTION_DAYS, 1, 3_650),
    retentionSentDays: int('RETENTION_SENT_DAYS', DEFAULT_RETENTION_SENT_DAYS, 1, 3_650),
    historyRetentionDays: int('HISTORY_RETENTION_DAYS', DEFAULT_HISTORY_RETENTION_DAYS, 1, 3_650),
    consoleUploadMaxMb: int('CONSOLE_UPLOAD_MAX_MB', DEFAULT_CONSOLE_UPLOAD_MAX_MB, 1, 1_024),
    diskFreeFloorMb: int('DISK_FREE_FLOOR_MB', DEFAULT_DISK_FREE_FLOOR_MB, 0, 10_000_000),
    ingestRecordsPerMinute: int('INGEST_RECORDS_PER_MINUTE', DEFAULT_INGEST_RECORDS_PER_MINUTE, 1, 10_000_000),
    ingestMaxQueuedPerFacility: int('INGEST_MAX_QUEUED_PER_FACILITY', DEFAULT_INGEST_MAX_QUEUED_PER_FACILITY, 1, 100_000_000),
    shutdownGraceMs: int('SHUTDOWN_GRACE_MS', DEFAULT_SHUTDOWN_GRACE_MS, 0, 600_000),
    quotaGrantPercent: int('PLATFORM_QUOTA_GRANT_PERCENT', DEFAULT_QUOTA_GRANT_PERCENT, 50, 100),
    sync,
    openEndpoints: {
      perMinute: int('OPEN_RATE_PER_MINUTE', defaultOpenEndpoints.perMinute, 1, 1_000_000),
      concurrent: int('OPEN_CONCURRENCY', defaultOpenEndpoints.concurrent, 1, 64),
    },
    validation: {
      workers: int('VALIDATE_WORKERS', defaultValidationPool.workers, 0, 16),
      queue: int('VALIDATE_QUEUE', defaultValidationPool.queue, 0, 1_000),
      minBytes: int('VALIDATE_WORKER_MIN_BYTES', defaultValidationPool.minBytes, 0, 64 * 1024 * 1024),
    },
  };
  return { config: cfg, problems };
}

/** Decodes a key given as hex or base64; undefined when it is shorter than 32 bytes or not decodable. */
export function decodeKey(text: string): Buffer | undefined {
  const t = text.trim();
  const buf = /^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0 ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/=_-]+$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  return buf && buf.length >= 32 ? buf : undefined;
}

/** True when HOST only accepts connections from this machine (127.0.0.0/8, ::1, localhost). '0.0.0.0' and '::' are not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^(0{0,4}:){5}ffff:127\./.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/** Why sandbox-simulator mode refuses to listen on HOST (undefined when it may). */
export function demoKeysExposure(host: string): ConfigProblem | undefined {
  if (isLoopbackHost(host)) return undefined;
  return cp('env.demo-keys-exposed', { host });
}
