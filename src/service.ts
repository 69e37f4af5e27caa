// The whole service: configuration → store → validator and tables → one platform client per facility → sync runner
// and schedule → HTTP app. With no facilities configured it runs in sandbox-simulator mode: the bundled SATUSEHAT
// simulator on loopback with a sample facility, said loudly at start. A configured facility whose secret is missing
// stops the start (never a silent fallback to the simulator).
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { createApp } from './api/app.js';
import { listen, type RunningServer } from './api/server.js';
import { visitsRouter } from './api/visits.js';
import { IngestQuota } from './api/ingest-quota.js';
import { syncRouter } from './api/sync.js';
import { queriesRouter } from './api/queries.js';
import { consoleRouter, type ConsoleRouter } from './console/router.js';
import { GrantHistory } from './app/quota.js';
import { BackgroundRotation, purgeExpired, type RetentionSettings } from './app/retention.js';
import { createValidationPool, type ValidationPool } from './api/validation-pool.js';
import { metricsAccessFromEnv, metricsRouter, type MetricsAccess } from './api/metrics.js';
import { hashApiKey, type Principal } from './api/auth.js';
import { AuthThrottle } from './api/auth-throttle.js';
import {
  BUNDLED_SIMULATOR, ConfigError, demoKeysExposure, loadHmacKey, readServiceConfig, parseApiKeysFile, parseFacilities, parseSecrets, readJsonFile, resolveFacilities, storeOptionsOf,
  type ConfigProblem, type FacilityEntry, type SecretsMap, type ServiceConfig,
} from './config/index.js';
import { loadMappingTables, mapVisit, checkVisit, type MappingTables, type VisitRecord } from './mapping/index.js';
import { createValidator } from './validation/index.js';
import { createPlatformClient, idsFromTransactionResponse } from './platform/client.js';
import { createFacilityLimiter, grantLimit, storeBudget } from './platform/limiter.js';
import { sharedTokenKey } from './platform/token.js';
import type { FacilityConfig } from './platform/types.js';
import { companionFiles, DataKeyConfigError, loadDataKeys, looseModes, openStore, sqliteFileOf, type RecordKeyring } from './store/index.js';
import type { RetentionResult } from './store/types.js';
import { createDiskFloor, type StatFs } from './api/disk-floor.js';
import { storeWriteCheck } from './api/store-readiness.js';
import type { Store } from './store/types.js';
import { startSimulator, type RunningSimulator } from './simulator/server.js';
import { DEMO_CLIENT, type SimulatorOptions } from './simulator/options.js';
import { IdentityResolver } from './sync/identity.js';
import { SyncRunner, type TickSummary } from './sync/runner.js';
import { startSchedule, type SyncSchedule } from './sync/schedule.js';
import { FacilityProbes, type ProbeTarget } from './sync/probe.js';
import { defaultRetryPolicy, type RetryPolicy } from './sync/policy.js';
import type { FacilityRuntime } from './sync/deliver.js';
import type { MappingApi } from './sync/contracts.js';
import { earlierWeighingOf, weighingFact } from './sync/weighings.js';
import { createLogger, type Logger } from './util/logger.js';
import { createMetrics, type LimiterStatsView, type ServiceMetrics } from './util/metrics.js';
import { packageRoot } from './util/paths.js';

/** The sample facility of sandbox-simulator mode (documented in the README). */
export const SIMULATOR_FACILITIES_FILE = path.join(packageRoot, 'config', 'facilities.simulator.json');
/** Well-known API keys of sandbox-simulator mode only; held in memory, never stored. */
export const DEMO_FACILITY_KEY = 'demo-facility-key';
export const DEMO_ADMIN_KEY = 'demo-admin-key';

export interface ServiceOverrides {
  /** Where log lines go (tests capture them). */
  logDestination?: DestinationStream;
  logger?: Logger;
  /** Epoch-ms clock for the sync job and ingest (tests shift it to expire leases). */
  clock?: () => number;
  /** Options for the bundled simulator (tests inject faults and small quotas). */
  simulator?: Partial<SimulatorOptions>;
  policy?: Partial<RetryPolicy>;
  /** Per-request timeout of platform calls. */
  platformTimeoutMs?: number;
  /** Do not listen on HTTP (CLI `sync --once`). */
  noHttp?: boolean;
  /** Free-space source of the disk floor (tests fake a full disk). */
  statfs?: StatFs;
}

export interface RunningService {
  url: string;
  mode: 'simulator' | 'configured';
  store: Store;
  runner: SyncRunner<MappingTables>;
  facilities: FacilityConfig[];
  simulator?: RunningSimulator;
  logger: Logger;
  /** This instance's Prometheus registry and hooks (served on GET /metrics). */
  metrics: ServiceMetrics;
  /** Token probe per facility (start-up and resume). */
  probes: FacilityProbes;
  /** Worker threads for large $validate bodies (absent with VALIDATE_WORKERS=0 or without HTTP). */
  validationPool?: ValidationPool;
  /** Settles when the start-up probe of every facility has answered. */
  probed: Promise<void>;
  /**
   * What the schedule runs besides delivery: one bounded batch of retention (sent bodies, history, rejections) and of
   * background re-encryption. Tests call it with their clock.
   */
  maintain(): Promise<{ purged: RetentionResult; reencrypted: number }>;
  /** Runs ticks until nothing is due now (or `maxTicks`), for `sync --once`. */
  drain(maxTicks?: number): Promise<TickSummary>;
  close(): Promise<void>;
}

/** Retention and re-encryption cadence when the sync schedule (which also runs them) is off. */
const MAINTENANCE_INTERVAL_MS = 10 * 60_000;

/** What /fhir/metadata says about the non-FHIR endpoints of a running service (the base statement covers $validate / $map). */
const VISITS_DOCUMENTATION =
  'Ingest (facility API key): `POST /ilp/visits` takes one ILP visit record or up to INGEST_MAX_RECORDS; each is checked, ' +
  'mapped and validated like $map, then committed to a durable outbox before the answer (202, 207 for mixed batches, 422 at ' +
  'source fields; 429 with Retry-After, nothing stored, over the facility\'s INGEST_RECORDS_PER_MINUTE or INGEST_MAX_QUEUED_PER_FACILITY). Idempotent on (organizationId, visitId); changed content is a revision. `GET /ilp/visits/{organizationId}/{visitId}` ' +
  'shows the delivery state, its explanation, attempts, the last error at source fields and the SATUSEHAT ids. Operators page through ' +
  '`GET /ilp/visits` (filters state, setting, locationCode, from, to, updatedSince, q; keyset cursor), `GET /ilp/rejections` (records ' +
  'refused at push: their issues, never their content) and `GET /ilp/facilities[/{organizationId}]`, as JSON or CSV.';
const SYNC_DOCUMENTATION =
  'Delivery: a scheduled job (SYNC_CRON, and about 2 s after a push) sends each visit to SATUSEHAT as one transaction Bundle ' +
  '(Encounter, its diagnosis Condition, Observations, Immunizations; the Patient is resolved or created first), exactly once, ' +
  'within each facility\'s quota, retrying temporary failures with backoff. `GET /sync/status` (admin or facility key) shows ' +
  'counts, facility status and each facility\'s token probe; `POST /sync/run`, `/sync/visits/{org}/{visitId}/requeue` and ' +
  '`/sync/facilities/{org}/pause|resume` need the admin key.';

const mappingApi: MappingApi<MappingTables> = {
  checkVisit: (record, tables, opts) => checkVisit(record, tables, opts),
  mapVisit: (record, tables, opts) => mapVisit(record, tables, opts),
};

interface FacilitySetup {
  mode: 'simulator' | 'configured';
  entries: FacilityEntry[];
  secrets?: SecretsMap;
}

function facilitySetup(cfg: ServiceConfig): FacilitySetup {
  if (!cfg.facilitiesFile) {
    const entries = parseFacilities(readJsonFile(SIMULATOR_FACILITIES_FILE, 'sample facilities file'), SIMULATOR_FACILITIES_FILE);
    // The sample facility signs in with the simulator's documented demo client.
    const secrets: SecretsMap = Object.fromEntries(entries.map((e) => [e.organizationId, { clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_CLIENT.clientSecret }]));
    return { mode: 'simulator', entries, secrets };
  }
  // Facilities and secrets are read independently so that mistakes in both files are reported together.
  const problems: ConfigProblem[] = [];
  const entries = collectProblems(problems, () => parseFacilities(readJsonFile(cfg.facilitiesFile!, 'FACILITIES_FILE'), cfg.facilitiesFile));
  const secrets = cfg.secretsFile ? collectProblems(problems, () => parseSecrets(readJsonFile(cfg.secretsFile!, 'SATUSEHAT_SECRETS_FILE'), cfg.secretsFile)) : undefined;
  if (problems.length) throw new ConfigError(problems);
  return { mode: 'configured', entries: entries!, ...(secrets ? { secrets } : {}) };
}

/** Runs one configuration step; its ConfigError problems join `problems` (undefined is returned) instead of stopping the check. */
function collectProblems<T>(problems: ConfigProblem[], step: () => T): T | undefined {
  try {
    return step();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.refs);
    return undefined;
  }
}

/** Every configuration mistake at once (environment, facilities file, secrets, credentials variables), or one ConfigError. */
function checkConfiguration(env: NodeJS.ProcessEnv, noHttp: boolean): { cfg: ServiceConfig; setup: FacilitySetup; needsBundled: boolean; metricsAccess: MetricsAccess } {
  const { config: cfg, problems } = readServiceConfig(env);
  const metricsAccess = collectProblems(problems, () => metricsAccessFromEnv(env));
  const setup = collectProblems(problems, () => facilitySetup(cfg));
  // The demo keys are public knowledge: never let them be reachable from the network.
  const exposure = setup?.mode === 'simulator' && !noHttp ? demoKeysExposure(cfg.host) : undefined;
  if (exposure) problems.push(exposure);
  const needsBundled = !!setup?.entries.some((e) => e.environment === 'simulator' && e.simulatorUrl === BUNDLED_SIMULATOR);
  // A missing credential variable must stop the start, not fall back to the simulator.
  if (setup) collectProblems(problems, () => resolveFacilities(setup.entries, env, setup.secrets, needsBundled ? 'http://127.0.0.1:0' : undefined));
  if (problems.length) throw new ConfigError(problems);
  return { cfg, setup: setup!, needsBundled, metricsAccess: metricsAccess! };
}

export async function startService(env: NodeJS.ProcessEnv = process.env, overrides: ServiceOverrides = {}): Promise<RunningService> {
  const { cfg, setup, needsBundled, metricsAccess } = checkConfiguration(env, !!overrides.noHttp);
  const logger = overrides.logger ?? createLogger({ level: cfg.logLevel, ...(overrides.logDestination ? { destination: overrides.logDestination } : {}) });
  const now = overrides.clock ?? Date.now;

  const hmac = loadHmacKey(cfg.hmacKey, cfg.dataDir);
  if (hmac.origin === 'generated') logger.warn({ file: hmac.file }, 'generated a new identity HMAC key; back it up with the database (losing it only costs identity cache misses)');
  let dataKeys: RecordKeyring;
  try {
    const loaded = loadDataKeys(env, cfg.dataDir);
    dataKeys = loaded.keyring;
    if (loaded.origin === 'generated') {
      logger.warn({ file: loaded.file, keyId: dataKeys.currentKeyId },
        'generated a data key for record bodies at rest beside the database; in production keep the key apart from the database ' +
          '(DATA_KEYS from a secret store, or DATA_KEY_FILE on another volume) and back it up: without it the stored records cannot be read');
    }
  } catch (e) {
    if (e instanceof DataKeyConfigError) throw new ConfigError([e.ref ?? e.message]);
    throw e;
  }
  const retention: RetentionSettings = { sentDays: cfg.retentionSentDays, historyDays: cfg.historyRetentionDays, rejectionsDays: cfg.rejectionsRetentionDays };
  const rotation = new BackgroundRotation();

  let simulator: RunningSimulator | undefined;
  let store: Store | undefined;
  let pool: ValidationPool | undefined;
  try {
    if (needsBundled) {
      const clients = resolveFacilities(setup.entries.filter((e) => e.environment === 'simulator' && e.simulatorUrl === BUNDLED_SIMULATOR), env, setup.secrets, 'http://127.0.0.1:0').map((f) => ({
        clientId: f.clientId, clientSecret: f.clientSecret, organizationId: f.organizationId,
      }));
      simulator = await startSimulator({ port: 0, host: '127.0.0.1', clients, ...overrides.simulator });
    }
    const facilities = resolveFacilities(setup.entries, env, setup.secrets, simulator?.url);

    const storeOptions = storeOptionsOf(cfg);
    const openedStore = await openStore({ ...storeOptions, codec: dataKeys });
    store = openedStore;
    const dbFile = sqliteFileOf(storeOptions);
    const dbDir = dbFile && dbFile !== ':memory:' ? path.dirname(path.resolve(dbFile)) : cfg.dataDir;
    // The SQLite file and its companions are checked only on SQLite (PostgreSQL's files are the server's); the HMAC key file always.
    const sqliteFiles = dbFile && dbFile !== ':memory:' ? companionFiles(path.resolve(dbFile)) : [];
    const privateFiles = [...sqliteFiles, ...(hmac.file ? [hmac.file] : [])];
    const loose = privateFiles.length ? looseModes(privateFiles) : [];
    if (loose.length) logger.warn({ files: loose }, 'data files or their folder are readable by other local users (they hold NIKs): chmod 700 the folder and 600 the files');
    // The bundled simulator starts empty: ids remembered from an earlier run would point at nothing (20007).
    for (const e of needsBundled ? setup.entries.filter((x) => x.environment === 'simulator' && x.simulatorUrl === BUNDLED_SIMULATOR) : []) {
      const forgot = await store.forgetPlatformIds(e.organizationId);
      const credentials = facilities.find((f) => f.organizationId === e.organizationId);
      if (credentials) await store.dropSharedToken(sharedTokenKey(credentials)); // issued by the simulator of that run
      if (forgot.identities + forgot.ledger) logger.info({ organizationId: e.organizationId, ...forgot }, 'bundled simulator starts empty: forgot the SATUSEHAT ids remembered from an earlier run');
    }
    await importKeysFile(store, cfg.apiKeysFile, now(), logger);

    const staticKeys = new Map<string, Principal>();
    let adminKeyHash = cfg.adminApiKey ? hashApiKey(cfg.adminApiKey) : undefined;
    if (setup.mode === 'simulator') {
      staticKeys.set(hashApiKey(DEMO_FACILITY_KEY), { role: 'facility', organizationId: facilities[0]!.organizationId, label: 'demo (simulator mode)' });
      adminKeyHash ??= hashApiKey(DEMO_ADMIN_KEY);
    }

    const validator = createValidator();
    const tables = loadMappingTables();

    // Process metrics only when serving HTTP (a `sync --once` run is never scraped).
    const metrics = createMetrics({ defaultMetrics: !overrides.noHttp });
    metrics.watchStore(store);
    const platformLogger = logger.child({ component: 'platform' });
    const runtimes = new Map<string, FacilityRuntime>();
    const probeTargets = new Map<string, ProbeTarget>();
    for (const f of facilities) {
      // The quota and the token are the store's: every instance on the database shares one budget and one token per facility.
      const limiter = createFacilityLimiter(f.organizationId, {
        quotaPerMinute: f.quotaPerMinute,
        budget: storeBudget(openedStore, f.organizationId, grantLimit(f.quotaPerMinute, cfg.quotaGrantPercent), 60_000),
      });
      const client = createPlatformClient(f, {
        limiter, sharedTokens: openedStore, logger: platformLogger, metrics, ...(overrides.platformTimeoutMs ? { timeoutMs: overrides.platformTimeoutMs } : {}),
      });
      runtimes.set(f.organizationId, { config: f, client });
      probeTargets.set(f.organizationId, { authBaseUrl: f.authBaseUrl, requestToken: () => client.tokens.get() });
    }
    const limiters = new Map<string, { stats(): LimiterStatsView & { granted: number } }>();
    for (const [org, rt] of runtimes) {
      const limiter = (rt.client as { limiter?: { stats(): LimiterStatsView & { granted: number } } }).limiter;
      metrics.watchFacility(org, limiter ? { limiter: () => limiter.stats() } : {});
      if (limiter) limiters.set(org, limiter);
    }
    // Quota use over the last hour (GET /ilp/facilities): the limiter's running count, sampled once a minute.
    const grants = new Map([...limiters.keys()].map((org) => [org, new GrantHistory()]));
    const sampleGrants = () => {
      for (const [org, limiter] of limiters) grants.get(org)!.sample(now(), limiter.stats().granted);
    };
    sampleGrants();
    const grantSampler = setInterval(sampleGrants, 60_000);
    grantSampler.unref();
    const quotaUse = (org: string) => {
      const limiter = limiters.get(org);
      const stats = limiter?.stats();
      return stats ? grants.get(org)!.use(now(), stats.granted, stats.quotaPerMinute) : undefined;
    };
    const policy: RetryPolicy = {
      ...defaultRetryPolicy,
      maxAttempts: cfg.sync.maxAttempts,
      baseDelayMs: cfg.sync.backoffBaseMs,
      maxDelayMs: cfg.sync.backoffMaxMs,
      authProbeDelayMs: cfg.sync.authProbeDelayMs,
      ...overrides.policy,
    };
    const runner = new SyncRunner<MappingTables>({
      store,
      mapping: mappingApi,
      tables,
      validator,
      identity: new IdentityResolver({ store, hmacKey: hmac.key, now }),
      now,
      logger: logger.child({ component: 'sync' }),
      idsFromTransactionResponse,
      earlierWeighing: (record) => earlierWeighingOf(openedStore, record as VisitRecord, tables, hmac.key),
      facilities: runtimes,
      settings: cfg.sync,
      policy,
      metrics,
    });

    const probes = new FacilityProbes({ facilities: probeTargets, store, now, logger: logger.child({ component: 'probe' }), authProbeDelayMs: policy.authProbeDelayMs });
    // One token probe per facility at start-up, in the background: /ready and /sync/status show `pending` until it answers.
    const probed = probes.probeAll();

    const openStoreRef = store;
    const maintain = async () => {
      const purged = await purgeExpired(openStoreRef, now(), retention, { maxBatches: 1 });
      if (purged.sentBodies + purged.visitEvents + purged.rejections) logger.info({ purged }, 'removed records past retention');
      const rotated = await rotation.step(openStoreRef);
      if (rotated?.passDone) {
        const { reencrypted, unreadable } = rotated.passDone;
        (unreadable ? logger.warn.bind(logger) : logger.info.bind(logger))({ reencrypted, unreadable, keyId: dataKeys.currentKeyId },
          unreadable ? 're-encryption pass over record bodies done; some bodies cannot be opened (their visits are held when due)' : 're-encryption pass over record bodies done');
      }
      return { purged, reencrypted: rotated?.reencrypted ?? 0 };
    };
    const drain = async (maxTicks = 1000): Promise<TickSummary> => {
      await probed; // a facility held for credentials in an earlier run is lifted first if they work now
      const total: TickSummary = { sent: 0, retried: 0, needsCorrection: 0, blocked: 0, deadLetter: 0, skipped: 0, unrecorded: 0, facilities: 0, durationMs: 0, stoppedBy: 'drained' };
      for (let i = 0; i < maxTicks; i++) {
        const s = await runner.tick();
        for (const k of ['sent', 'retried', 'needsCorrection', 'blocked', 'deadLetter', 'unrecorded'] as const) total[k] += s[k];
        total.skipped = s.skipped;
        total.facilities = Math.max(total.facilities, s.facilities);
        total.durationMs += s.durationMs;
        total.stoppedBy = s.stoppedBy;
        const dueNow = (await openStoreRef.facilitiesWithDueWork(now())).filter((org) => runtimes.has(org));
        if (s.stoppedBy === 'stopped' || dueNow.length === 0 || (s.sent + s.retried + s.needsCorrection + s.blocked + s.deadLetter === 0)) break;
      }
      return total;
    };

    if (setup.mode === 'simulator') {
      logger.warn(
        { simulator: simulator?.url, organizationId: facilities[0]?.organizationId },
        'SANDBOX-SIMULATOR MODE: no FACILITIES_FILE is configured, so visits are delivered to the bundled SATUSEHAT simulator on loopback ' +
          '(development only; nothing reaches SATUSEHAT). Demo API keys are active (see README, "Try it"). To deliver to SATUSEHAT, set FACILITIES_FILE ' +
          '(see config/facilities.example.json) and the credential variables it names.',
      );
    } else {
      logger.info({ facilities: facilities.map((f) => ({ organizationId: f.organizationId, environment: f.environment })) }, 'facilities configured');
    }

    let schedule: SyncSchedule | undefined;
    let nudge: NodeJS.Timeout | undefined;
    const onIngest = () => {
      if (nudge || !cfg.syncEnabled || !cfg.syncOnIngest) return;
      // A push triggers a run soon (debounced) besides the schedule; the outbox stays the source of truth.
      nudge = setTimeout(() => {
        nudge = undefined;
        runner.tick().catch((err) => logger.error({ err }, 'sync run after ingest failed'));
      }, 2_000);
      nudge.unref();
    };

    let url = '';
    let http: RunningServer | undefined;
    let consoleApp: ConsoleRouter | undefined;
    if (!overrides.noHttp) {
      pool = cfg.validation.workers > 0 ? createValidationPool({ ...cfg.validation, onError: (err) => logger.error({ err }, 'validation worker failed') }) : undefined;
      const clock = () => new Date(now());
      const organizations = new Set(facilities.map((f) => f.organizationId));
      const locations = new Map(facilities.map((f) => [f.organizationId, new Set(Object.keys(f.locations))]));
      // One throttle for every router that authenticates, so that a guesser has one budget, not one per router.
      const throttle = new AuthThrottle({}, logger.child({ component: 'auth' }));
      const diskFloor = createDiskFloor({ dir: dbDir, floorBytes: cfg.diskFreeFloorMb * 1024 * 1024, now, ...(overrides.statfs ? { statfs: overrides.statfs } : {}) });
      consoleApp = consoleRouter({
        store, clock, facilities, adminKeyHash, staticKeys, throttle, quota: quotaUse, logger, probe: (org) => probes.probe(org),
        imports: {
          validator, mapper: (record, at) => mapVisit(record, tables, { now: at }), logger, idKey: hmac.key,
          weighingOf: (record) => weighingFact(record, tables, hmac.key), rejectionsRetentionDays: cfg.rejectionsRetentionDays,
          maxUploadBytes: cfg.consoleUploadMaxMb * 1024 * 1024,
        },
      });
      const app = createApp({
        validator,
        tables,
        clock,
        logger,
        perAddress: cfg.openEndpoints,
        ...(pool ? { pool } : {}),
        htmlRouters: [consoleApp.router],
        metricsRouter: metricsRouter({ metrics, ...metricsAccess, store, adminKeyHash, staticKeys, throttle, logger }),
        routers: [
          { path: '/', router: diskFloor.ingestRouter },
          {
            path: '/',
            capability: { documentation: VISITS_DOCUMENTATION },
            router: visitsRouter({
              store, validator, mapper: (record, at) => mapVisit(record, tables, { now: at }), clock, logger,
              maxRecords: cfg.ingestMaxRecords, organizations, locations, adminKeyHash, staticKeys, throttle, onIngest, metrics,
              weighingOf: (record) => weighingFact(record, tables, hmac.key), rejectionsRetentionDays: cfg.rejectionsRetentionDays,
              quota: new IngestQuota({ recordsPerMinute: cfg.ingestRecordsPerMinute, maxQueuedPerFacility: cfg.ingestMaxQueuedPerFacility, pendingCount: (org) => openStoreRef.pendingCount(org) }),
            }),
          },
          { path: '/', router: queriesRouter({ store, clock, facilities, adminKeyHash, staticKeys, quota: quotaUse }) },
          {
            path: '/',
            capability: { documentation: SYNC_DOCUMENTATION },
            router: syncRouter({
              store, runner, facilities, clock, logger, adminKeyHash, staticKeys, throttle, probes,
              facilityStats: (org) => {
                const c = runtimes.get(org)?.client as { limiter?: { stats(): object } } | undefined;
                return c?.limiter ? { limiter: c.limiter.stats() } : undefined;
              },
            }),
          },
        ],
        readiness: [
          storeWriteCheck(openStoreRef, { now }),
          diskFloor.readiness,
          {
            name: 'facilities',
            check: () => true,
            details: () => Object.fromEntries(facilities.map((f) => [f.organizationId, { tokenProbe: probes.result(f.organizationId)?.status ?? 'pending' }])),
          },
        ],
      });
      http = await listen(app, { host: cfg.host, port: cfg.port, logger, shutdownGraceMs: cfg.shutdownGraceMs });
      url = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${http.address.port}`;
      logger.info({ url, facilities: facilities.length, mode: setup.mode }, `ilp-adapter ready on ${url}`);
    }
    // Without the sync schedule, retention still runs (an instance that only takes pushes still holds rejections and history).
    let maintenance: NodeJS.Timeout | undefined;
    if (!cfg.syncEnabled && !overrides.noHttp) {
      maintenance = setInterval(() => {
        maintain().catch((err: unknown) => logger.error({ err }, 'could not purge records past retention or re-encrypt record bodies'));
      }, MAINTENANCE_INTERVAL_MS);
      maintenance.unref();
    }
    if (cfg.syncEnabled && !overrides.noHttp) {
      schedule = startSchedule({
        expression: cfg.syncCron, timezone: cfg.syncTimezone, logger,
        run: async () => {
          // Retention and re-encryption go a bounded batch per tick, also when no push brings new work.
          try {
            await maintain();
          } catch (err) {
            logger.error({ err }, 'could not purge records past retention or re-encrypt record bodies');
          }
          return runner.tick();
        },
      });
    }

    let closing: Promise<void> | undefined;
    // Shutdown within SHUTDOWN_GRACE_MS of real time: drain HTTP (503), stop ticks and claims, give in-flight deliveries
    // and requests what is left of the grace, then close the store. A delivery still running then keeps its lease:
    // its outcome cannot be recorded into the closed store (the runner counts it `unrecorded`), and after a restart
    // the visit is due again when the lease ends and is reconciled with what SATUSEHAT already holds.
    const close = () =>
      (closing ??= (async () => {
        const startedAt = Date.now();
        const graceLeft = () => Math.max(0, cfg.shutdownGraceMs - (Date.now() - startedAt));
        http?.drain(Math.ceil(cfg.shutdownGraceMs / 1000) + 1);
        if (nudge) clearTimeout(nudge);
        clearInterval(grantSampler);
        clearInterval(maintenance);
        await schedule?.halt();
        const sync = await runner.stop(graceLeft());
        if (!sync.settled) logger.warn({ abandoned: sync.abandoned, graceMs: cfg.shutdownGraceMs }, 'shutdown grace over: deliveries still in flight keep their lease and are reconciled after a restart');
        await settleWithin(probed, graceLeft()); // a token probe is one request; it is not waited for beyond the grace
        await http?.close(graceLeft());
        // A console import still running commits batch by batch: what it committed stays (a re-upload finds it unchanged).
        if (consoleApp?.imports) await settleWithin(consoleApp.imports.jobs.drain(), graceLeft());
        consoleApp?.imports?.spool.dispose();
        await pool?.close(); // after HTTP: no request is left waiting on a worker
        await openStoreRef.close();
        await simulator?.close();
        logger.info({ ms: Date.now() - startedAt, deliveriesAbandoned: sync.abandoned }, 'ilp-adapter stopped');
      })());
    return { url, mode: setup.mode, store, runner, facilities, probes, probed, ...(simulator ? { simulator } : {}), ...(pool ? { validationPool: pool } : {}), logger, metrics, maintain, drain, close };
  } catch (e) {
    await pool?.close();
    await store?.close();
    await simulator?.close();
    throw e;
  }
}

/**
 * API_KEYS_FILE is an import: its keys are stored with source `file`, and a key imported earlier that the file no longer
 * lists is revoked. Without the variable the keys imported earlier are left as they are (an unset variable is more
 * likely a deployment slip than a wish to lock every facility out), and that is said.
 */
async function importKeysFile(store: Store, file: string | undefined, at: number, logger: Logger): Promise<void> {
  if (!file) {
    const active = (await store.listApiKeys()).filter((k) => k.source === 'file' && k.revokedAt === undefined).length;
    if (active) logger.warn({ keys: active }, 'API_KEYS_FILE is not set: keys imported from it earlier keep working until revoked (ilp-adapter keys revoke)');
    return;
  }
  const result = await store.importApiKeys(parseApiKeysFile(readJsonFile(file, 'API_KEYS_FILE'), file), at);
  logger.info({ file, ...result }, 'imported API_KEYS_FILE');
  if (result.stillRevoked) logger.warn({ keys: result.stillRevoked }, 'API_KEYS_FILE lists revoked keys: they stay revoked (make a new key)');
}

/** Waits for `p` (its failure ignored), at most `ms`. */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export { ConfigError };
