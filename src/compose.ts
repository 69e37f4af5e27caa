// The composition root: the one place that builds the parts and plugs them together (configuration → store → mapping
// tables and validator → one platform client and limiter per facility → sync runner and probes → use cases). It decides
// nothing itself. The service (src/service.ts adds HTTP and the schedule), the CLI, the end-to-end harness and the
// benchmarks all wire through here, so that a new dependency of the runner or the client is added once.
// Nothing here imports src/api: the CLI uses this file, and the CLI never reaches the HTTP layer.
import path from 'node:path';
import type { DestinationStream } from 'pino';
import {
  BUNDLED_SIMULATOR, ConfigError, demoKeysExposure, loadHmacKey, readServiceConfig, parseFacilities, parseSecrets, readJsonFile, resolveFacilities,
  SIMULATOR_FACILITIES_FILE, storeOptionsOf, type ConfigProblem, type FacilityEntry, type SecretsMap, type ServiceConfig,
} from './config/index.js';
import { loadMappingTables, mapVisit, checkVisit, type MappingTables, type VisitRecord } from './mapping/index.js';
import { createValidator, type Validator } from './validation/index.js';
import { createPlatformClient, idsFromTransactionResponse, type PlatformClientDeps, type SatusehatClient } from './platform/client.js';
import { createFacilityLimiter, grantLimit, storeBudget, type FacilityLimiter } from './platform/limiter.js';
import { sharedTokenKey } from './platform/token.js';
import type { FacilityConfig, PlatformClient } from './platform/types.js';
import { companionFiles, DataKeyConfigError, loadDataKeys, looseModes, openStore, sqliteFileOf, type RecordKeyring } from './store/index.js';
import type { ClaimedVisit, RetentionResult, Store, WeighingFact } from './store/types.js';
import { startSimulator, type RunningSimulator } from './simulator/server.js';
import { DEMO_CLIENT, type SimulatorOptions } from './simulator/options.js';
import { IdentityResolver } from './sync/identity.js';
import { SyncRunner, type RunnerSettings, type TickSummary } from './sync/runner.js';
import { FacilityProbes, type ProbeTarget } from './sync/probe.js';
import { defaultRetryPolicy, type RetryPolicy } from './sync/policy.js';
import type { FacilityRuntime } from './sync/deliver.js';
import type { MappingApi } from './sync/contracts.js';
import { earlierWeighingOf, weighingFact } from './sync/weighings.js';
import type { Mapper } from './app/dry-run.js';
import { importKeysFile } from './app/keys.js';
import { maintenanceStep, type RetentionSettings } from './app/retention.js';
import { drainDue } from './app/sync-run.js';
import { createLogger, type Logger } from './util/logger.js';
import { createMetrics, type LimiterStatsView, type ServiceMetrics } from './util/metrics.js';

export { SIMULATOR_FACILITIES_FILE };

// ── The pure parts: mapping tables, validator, mapper ──────────────────────────────────────────────────────────────

/** Everything mapping and validation need, built once (reading the tables and compiling the validator take a while). */
export interface MappingKit {
  tables: MappingTables;
  validator: Validator;
  /** The dry run's mapper (ingest, $map, the CLI, the import). */
  mapper: Mapper;
  /** The runner's view of the mapping module. */
  mapping: MappingApi<MappingTables>;
  /** The child's weighing kept with an accepted record, for the next visit's weight-gain status. */
  weighingOf: (hmacKey: Buffer) => (record: VisitRecord) => WeighingFact | undefined;
}

/** The runner's view of the mapping module (pure functions; the tables travel with each call). */
export const mappingApi: MappingApi<MappingTables> = {
  checkVisit: (record, tables, opts) => checkVisit(record, tables, opts),
  mapVisit: (record, tables, opts) => mapVisit(record, tables, opts),
};

export function createMappingKit(): MappingKit {
  const tables = loadMappingTables();
  return {
    tables,
    validator: createValidator(),
    mapper: (record, now) => mapVisit(record, tables, { now }),
    mapping: mappingApi,
    weighingOf: (hmacKey) => (record) => weighingFact(record, tables, hmacKey),
  };
}

let sharedKit: MappingKit | undefined;
/** One kit per process, built on first use (the CLI's `--help` and `simulator` never pay for it). */
export const mappingKit = (): MappingKit => (sharedKit ??= createMappingKit());

// ── Platform clients and the runner ────────────────────────────────────────────────────────────────────────────────

export interface PlatformWiring extends Omit<PlatformClientDeps, 'limiter'> {
  /** The facility's limiter; default: the client's own (createFacilityLimiter with the facility's quota). */
  limiterFor?: (facility: FacilityConfig) => FacilityLimiter | undefined;
  /** Wraps each client (tests count or fail calls). */
  wrap?: (client: PlatformClient, facility: FacilityConfig) => PlatformClient;
}

/** A facility's runtime for the runner, with the client as built (its token provider and limiter) beside a wrapped one. */
export interface PlatformRuntime extends FacilityRuntime {
  platform: SatusehatClient;
}

/** One platform client per facility, keyed by organizationId. */
export function platformRuntimes(facilities: readonly FacilityConfig[], wiring: PlatformWiring = {}): Map<string, PlatformRuntime> {
  const { limiterFor, wrap, ...deps } = wiring;
  const runtimes = new Map<string, PlatformRuntime>();
  for (const f of facilities) {
    const limiter = limiterFor?.(f);
    const platform = createPlatformClient(f, { ...deps, ...(limiter ? { limiter } : {}) });
    runtimes.set(f.organizationId, { config: f, client: wrap ? wrap(platform, f) : platform, platform });
  }
  return runtimes;
}

type CountingLimiter = { stats(): LimiterStatsView & { granted: number } };
/** The limiter a client was built with, for its figures (absent when the client brought none). */
export const limiterOf = (rt: PlatformRuntime | undefined): CountingLimiter | undefined => (rt?.platform as { limiter?: CountingLimiter } | undefined)?.limiter;

export interface RunnerWiring {
  store: Store;
  kit: MappingKit;
  facilities: Map<string, FacilityRuntime>;
  /** Key of the identity cache's HMACs (NIK → IHS number). */
  hmacKey: Buffer;
  now: () => number;
  logger: Logger;
  settings: RunnerSettings;
  policy: RetryPolicy;
  metrics?: ServiceMetrics;
  /** Look up the child's earlier weighing in the store (weight-gain status). */
  weightGain?: boolean;
  sleep?: (ms: number) => Promise<void>;
  onClaim?: (row: ClaimedVisit) => void | Promise<void>;
}

export function createRunner(w: RunnerWiring): SyncRunner<MappingTables> {
  const { tables, validator, mapping } = w.kit;
  return new SyncRunner<MappingTables>({
    store: w.store,
    mapping,
    tables,
    validator,
    identity: new IdentityResolver({ store: w.store, hmacKey: w.hmacKey, now: w.now }),
    now: w.now,
    logger: w.logger,
    idsFromTransactionResponse,
    ...(w.weightGain ? { earlierWeighing: (record) => earlierWeighingOf(w.store, record as VisitRecord, tables, w.hmacKey) } : {}),
    facilities: w.facilities,
    settings: w.settings,
    policy: w.policy,
    ...(w.metrics ? { metrics: w.metrics } : {}),
    ...(w.sleep ? { sleep: w.sleep } : {}),
    ...(w.onClaim ? { onClaim: w.onClaim } : {}),
  });
}

// ── The whole instance from its environment ────────────────────────────────────────────────────────────────────────

export interface CompositionOverrides {
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
  /** No HTTP will be served (CLI `sync --once`): no process metrics, and the demo keys cannot be exposed. */
  noHttp?: boolean;
}

interface FacilitySetup {
  mode: 'simulator' | 'configured';
  entries: FacilityEntry[];
  secrets?: SecretsMap;
}

/** An instance's parts, wired; HTTP and the schedule are the service's (src/service.ts). */
export interface Composition {
  cfg: ServiceConfig;
  mode: 'simulator' | 'configured';
  facilities: FacilityConfig[];
  simulator?: RunningSimulator;
  store: Store;
  /** Folder of the database (the disk floor watches it): the SQLite file's, else DATA_DIR. */
  dbDir: string;
  hmacKey: Buffer;
  dataKeys: RecordKeyring;
  kit: MappingKit;
  logger: Logger;
  now: () => number;
  metrics: ServiceMetrics;
  runtimes: Map<string, PlatformRuntime>;
  policy: RetryPolicy;
  runner: SyncRunner<MappingTables>;
  probes: FacilityProbes;
  /** Settles when the start-up probe of every facility has answered. */
  probed: Promise<void>;
  maintain(): Promise<{ purged: RetentionResult; reencrypted: number }>;
  drain(maxTicks?: number): Promise<TickSummary>;
  /**
   * Stops ticks and claims and gives in-flight deliveries, then the start-up probes, what is left of the grace. A
   * delivery still running then keeps its lease (said in the log): it is reconciled after a restart.
   */
  stopWork(graceLeft: () => number): Promise<{ settled: boolean; abandoned: number }>;
  /** Closes the store and the bundled simulator (after stopWork, when nothing uses the store any more). */
  release(): Promise<void>;
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
export function collectProblems<T>(problems: ConfigProblem[], step: () => T): T | undefined {
  try {
    return step();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.refs);
    return undefined;
  }
}

/**
 * Every configuration mistake at once (environment, facilities file, secrets, credentials variables, and what
 * `extraChecks` adds: the HTTP layer's own settings), or one ConfigError.
 */
function checkConfiguration(env: NodeJS.ProcessEnv, noHttp: boolean, extraChecks: (problems: ConfigProblem[]) => void): { cfg: ServiceConfig; setup: FacilitySetup; needsBundled: boolean } {
  const { config: cfg, problems } = readServiceConfig(env);
  extraChecks(problems);
  const setup = collectProblems(problems, () => facilitySetup(cfg));
  // The demo keys are public knowledge: never let them be reachable from the network.
  const exposure = setup?.mode === 'simulator' && !noHttp ? demoKeysExposure(cfg.host) : undefined;
  if (exposure) problems.push(exposure);
  const needsBundled = !!setup?.entries.some((e) => e.environment === 'simulator' && e.simulatorUrl === BUNDLED_SIMULATOR);
  // A missing credential variable must stop the start, not fall back to the simulator.
  if (setup) collectProblems(problems, () => resolveFacilities(setup.entries, env, setup.secrets, needsBundled ? 'http://127.0.0.1:0' : undefined));
  if (problems.length) throw new ConfigError(problems);
  return { cfg, setup: setup!, needsBundled };
}

/**
 * One instance from its environment: the configuration checked, the bundled simulator started when a facility asks
 * for it, the store opened (and API_KEYS_FILE imported), the kit, one client per facility, the runner and the probes
 * (started), retention and drain as use cases. Throws ConfigError with every mistake at once.
 */
export async function composeInstance(env: NodeJS.ProcessEnv, overrides: CompositionOverrides = {}, extraChecks: (problems: ConfigProblem[]) => void = () => undefined): Promise<Composition> {
  const { cfg, setup, needsBundled } = checkConfiguration(env, !!overrides.noHttp, extraChecks);
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

  let simulator: RunningSimulator | undefined;
  let store: Store | undefined;
  try {
    const bundled = needsBundled ? setup.entries.filter((e) => e.environment === 'simulator' && e.simulatorUrl === BUNDLED_SIMULATOR) : [];
    if (needsBundled) {
      const clients = resolveFacilities(bundled, env, setup.secrets, 'http://127.0.0.1:0').map((f) => ({
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
    for (const e of bundled) {
      const forgot = await openedStore.forgetPlatformIds(e.organizationId);
      const credentials = facilities.find((f) => f.organizationId === e.organizationId);
      if (credentials) await openedStore.dropSharedToken(sharedTokenKey(credentials)); // issued by the simulator of that run
      if (forgot.identities + forgot.ledger) logger.info({ organizationId: e.organizationId, ...forgot }, 'bundled simulator starts empty: forgot the SATUSEHAT ids remembered from an earlier run');
    }
    await importKeysFile(openedStore, cfg.apiKeysFile, now(), logger);

    const kit = mappingKit();
    // Process metrics only when serving HTTP (a `sync --once` run is never scraped).
    const metrics = createMetrics({ defaultMetrics: !overrides.noHttp });
    metrics.watchStore(openedStore);
    // The quota and the token are the store's: every instance on the database shares one budget and one token per facility.
    const runtimes = platformRuntimes(facilities, {
      limiterFor: (f) => createFacilityLimiter(f.organizationId, {
        quotaPerMinute: f.quotaPerMinute,
        budget: storeBudget(openedStore, f.organizationId, grantLimit(f.quotaPerMinute, cfg.quotaGrantPercent), 60_000),
      }),
      sharedTokens: openedStore,
      logger: logger.child({ component: 'platform' }), metrics, ...(overrides.platformTimeoutMs ? { timeoutMs: overrides.platformTimeoutMs } : {}),
    });
    const probeTargets = new Map<string, ProbeTarget>();
    for (const [org, rt] of runtimes) {
      probeTargets.set(org, { authBaseUrl: rt.config.authBaseUrl, requestToken: () => rt.platform.tokens.get() });
      const limiter = limiterOf(rt);
      metrics.watchFacility(org, limiter ? { limiter: () => limiter.stats() } : {});
    }
    const policy: RetryPolicy = {
      ...defaultRetryPolicy,
      maxAttempts: cfg.sync.maxAttempts,
      baseDelayMs: cfg.sync.backoffBaseMs,
      maxDelayMs: cfg.sync.backoffMaxMs,
      authProbeDelayMs: cfg.sync.authProbeDelayMs,
      ...overrides.policy,
    };
    const runner = createRunner({
      store: openedStore, kit, facilities: runtimes, hmacKey: hmac.key, now, logger: logger.child({ component: 'sync' }),
      settings: cfg.sync, policy, metrics, weightGain: true,
    });
    const probes = new FacilityProbes({ facilities: probeTargets, store: openedStore, now, logger: logger.child({ component: 'probe' }), authProbeDelayMs: policy.authProbeDelayMs });
    // One token probe per facility at start-up, in the background: /ready and /sync/status show `pending` until it answers.
    const probed = probes.probeAll();

    const maintain = maintenanceStep({ store: openedStore, now, retention, logger, currentKeyId: dataKeys.currentKeyId });
    const drain = (maxTicks?: number) => drainDue({ runner, store: openedStore, now, delivered: runtimes, probed }, maxTicks);
    const stopWork = async (graceLeft: () => number) => {
      const sync = await runner.stop(graceLeft());
      if (!sync.settled) logger.warn({ abandoned: sync.abandoned, graceMs: cfg.shutdownGraceMs }, 'shutdown grace over: deliveries still in flight keep their lease and are reconciled after a restart');
      await settleWithin(probed, graceLeft()); // a token probe is one request; it is not waited for beyond the grace
      return sync;
    };
    const release = async () => {
      await openedStore.close();
      await simulator?.close();
    };
    return {
      cfg, mode: setup.mode, facilities, ...(simulator ? { simulator } : {}), store: openedStore, dbDir, hmacKey: hmac.key, dataKeys, kit, logger, now,
      metrics, runtimes, policy, runner, probes, probed, maintain, drain, stopWork, release,
    };
  } catch (e) {
    await store?.close();
    await simulator?.close();
    throw e;
  }
}

/** Waits for `p` (its failure ignored), at most `ms`. */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
