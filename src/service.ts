// The whole service: the instance wired by the composition root (src/compose.ts: configuration → store → validator and
// tables → one platform client per facility → sync runner), then the HTTP app, the schedule and the shutdown. With no facilities configured it runs in sandbox-simulator mode: the bundled SATUSEHAT
// simulator on loopback with a sample facility, said loudly at start. A configured facility whose secret is missing
// stops the start (never a silent fallback to the simulator).
import { createApp } from './api/app.js';
import { listen, type RunningServer } from './api/server.js';
import { visitsRouter } from './api/visits.js';
import { IngestQuota } from './api/ingest-quota.js';
import { syncRouter } from './api/sync.js';
import { queriesRouter } from './api/queries.js';
import { consoleRouter, type ConsoleRouter } from './console/router.js';
import { createValidationPool, type ValidationPool } from './api/validation-pool.js';
import { metricsAccessFromEnv, metricsRouter, type MetricsAccess } from './api/metrics.js';
import { hashApiKey, type Principal } from './api/auth.js';
import { AuthThrottle } from './api/auth-throttle.js';
import { ConfigError, SIMULATOR_FACILITIES_FILE } from './config/index.js';
import type { MappingTables } from './mapping/index.js';
import type { FacilityConfig } from './platform/types.js';
import type { RetentionResult } from './store/types.js';
import { createDiskFloor, type StatFs } from './api/disk-floor.js';
import { storeWriteCheck } from './api/store-readiness.js';
import type { Store } from './store/types.js';
import type { RunningSimulator } from './simulator/server.js';
import type { SyncRunner, TickSummary } from './sync/runner.js';
import { startSchedule, type SyncSchedule } from './sync/schedule.js';
import type { FacilityProbes } from './sync/probe.js';
import type { Logger } from './util/logger.js';
import type { ServiceMetrics } from './util/metrics.js';
import { collectProblems, composeInstance, limiterOf, settleWithin, type CompositionOverrides } from './compose.js';

export { SIMULATOR_FACILITIES_FILE };
/** Well-known API keys of sandbox-simulator mode only; held in memory, never stored. */
export const DEMO_FACILITY_KEY = 'demo-facility-key';
export const DEMO_ADMIN_KEY = 'demo-admin-key';

export interface ServiceOverrides extends CompositionOverrides {
  /** Do not listen on HTTP. */
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

export async function startService(env: NodeJS.ProcessEnv = process.env, overrides: ServiceOverrides = {}): Promise<RunningService> {
  let metricsAccess: MetricsAccess | undefined;
  // The HTTP layer's own setting joins the configuration check, so that every mistake is said at once.
  const parts = await composeInstance(env, overrides, (problems) => {
    metricsAccess = collectProblems(problems, () => metricsAccessFromEnv(env));
  });
  const { cfg, mode, facilities, simulator, store, logger, now, metrics, runtimes, runner, probes, probed, kit, hmacKey, maintain, drain } = parts;
  const { validator, tables, mapper } = kit;
  let pool: ValidationPool | undefined;
  try {
    const staticKeys = new Map<string, Principal>();
    let adminKeyHash = cfg.adminApiKey ? hashApiKey(cfg.adminApiKey) : undefined;
    if (mode === 'simulator') {
      staticKeys.set(hashApiKey(DEMO_FACILITY_KEY), { role: 'facility', organizationId: facilities[0]!.organizationId, label: 'demo (simulator mode)' });
      adminKeyHash ??= hashApiKey(DEMO_ADMIN_KEY);
    }

    if (mode === 'simulator') {
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
      const diskFloor = createDiskFloor({ dir: parts.dbDir, floorBytes: cfg.diskFreeFloorMb * 1024 * 1024, now, ...(overrides.statfs ? { statfs: overrides.statfs } : {}) });
      consoleApp = consoleRouter({
        store, clock, facilities, adminKeyHash, staticKeys, throttle, logger, probe: (org) => probes.probe(org),
        imports: {
          validator, mapper, logger, idKey: hmacKey,
          weighingOf: kit.weighingOf(hmacKey), rejectionsRetentionDays: cfg.rejectionsRetentionDays,
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
              store, validator, mapper, clock, logger,
              maxRecords: cfg.ingestMaxRecords, organizations, locations, adminKeyHash, staticKeys, throttle, onIngest, metrics,
              weighingOf: kit.weighingOf(hmacKey), rejectionsRetentionDays: cfg.rejectionsRetentionDays,
              quota: new IngestQuota({ recordsPerMinute: cfg.ingestRecordsPerMinute, maxQueuedPerFacility: cfg.ingestMaxQueuedPerFacility, pendingCount: (org) => store.pendingCount(org) }),
            }),
          },
          { path: '/', router: queriesRouter({ store, clock, facilities, adminKeyHash, staticKeys }) },
          {
            path: '/',
            capability: { documentation: SYNC_DOCUMENTATION },
            router: syncRouter({
              store, runner, facilities, clock, logger, adminKeyHash, staticKeys, throttle, probes,
              facilityStats: (org) => {
                const limiter = limiterOf(runtimes.get(org));
                return limiter ? { limiter: limiter.stats() } : undefined;
              },
            }),
          },
        ],
        readiness: [
          storeWriteCheck(store, { now }),
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
      logger.info({ url, facilities: facilities.length, mode }, `ilp-adapter ready on ${url}`);
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
        clearInterval(maintenance);
        await schedule?.halt();
        const sync = await parts.stopWork(graceLeft);
        await http?.close(graceLeft());
        // A console import still running commits batch by batch: what it committed stays (a re-upload finds it unchanged).
        if (consoleApp?.imports) await settleWithin(consoleApp.imports.jobs.drain(), graceLeft());
        consoleApp?.imports?.spool.dispose();
        await pool?.close(); // after HTTP: no request is left waiting on a worker
        await parts.release();
        logger.info({ ms: Date.now() - startedAt, deliveriesAbandoned: sync.abandoned }, 'ilp-adapter stopped');
      })());
    return { url, mode, store, runner, facilities, probes, probed, ...(simulator ? { simulator } : {}), ...(pool ? { validationPool: pool } : {}), logger, metrics, maintain, drain, close };
  } catch (e) {
    await pool?.close();
    await parts.release();
    throw e;
  }
}

export { ConfigError };
