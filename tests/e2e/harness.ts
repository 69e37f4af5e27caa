// Wires the real modules for the end-to-end tests: SQLite store on a file, the real mapping tables and validator,
// the real platform client over HTTP to the bundled simulator, the sync runner.
//
// Time dilation: the simulator's quota window, token expiry and auth lockout run on a clock `SCALE`× faster than the
// wall clock, and so do the runner (backoff, leases, Retry-After as facility notBefore) and the platform client's
// pauses. A Retry-After of 60 s therefore costs 60/SCALE s of test time, and everything stays consistent because
// both sides agree on the same clock. Latency and HTTP timeouts stay real.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { loadMappingTables, mapVisit, checkVisit, type MappingTables } from '../../src/mapping/index.js';
import { createValidator, type Validator } from '../../src/validation/index.js';
import { createPlatformClient, idsFromTransactionResponse } from '../../src/platform/client.js';
import { createFacilityLimiter, type FacilityLimiter } from '../../src/platform/limiter.js';
import type { FacilityConfig, PlatformClient } from '../../src/platform/types.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { SimulatorOptions } from '../../src/simulator/options.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { SyncRunner, type RunnerSettings, type TickSummary } from '../../src/sync/runner.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../src/sync/policy.js';
import type { FacilityRuntime } from '../../src/sync/deliver.js';
import type { MappingApi } from '../../src/sync/contracts.js';
import { contentHash } from '../../src/sync/hash.js';
import { createLogger, type Logger } from '../../src/util/logger.js';
import { LOCATION } from './fixtures.js';

export const SCALE = 20;

/** A clock SCALE× faster than Date.now, starting at the wall clock now (+ offset). */
export function fastClock(offsetMs = 0): () => number {
  const t0 = Date.now();
  return () => t0 + offsetMs + (Date.now() - t0) * SCALE;
}

let shared: { tables: MappingTables; validator: Validator } | undefined;
export function core(): { tables: MappingTables; validator: Validator } {
  shared ??= { tables: loadMappingTables(), validator: createValidator() };
  return shared;
}

export const mappingApi: MappingApi<MappingTables> = {
  checkVisit: (r, t, o) => checkVisit(r, t, o),
  mapVisit: (r, t, o) => mapVisit(r, t, o),
};

export interface Org {
  organizationId: string;
  clientId: string;
  clientSecret: string;
}

export const orgs = (n: number): Org[] =>
  Array.from({ length: n }, (_, i) => ({ organizationId: `1000010${i + 1}`, clientId: `client-${i + 1}`, clientSecret: `secret-${i + 1}-x9`, }));

/**
 * The simulator's documented variants where its recorded defaults need what the service does not do yet: the platform
 * client does not parse the recorded `Patient ID:` body, the mapping sends no diagnosis (rule 10457), and identity
 * matches newborns by birth order from the search result (ids-only hides it). These suites test other things; drop
 * this once the service handles the recorded answers (issue 7).
 */
export const DOCUMENTED_VARIANTS: Partial<SimulatorOptions> = Object.freeze({
  patientCreateBody: 'documented',
  requireDiagnosis: false,
  patientSearchView: 'full',
});

export async function simulatorFor(list: Org[], opts: Partial<SimulatorOptions> & { clock: () => number }): Promise<RunningSimulator> {
  // E2E_SEED=n re-runs the suite with other fault patterns (the default seeds keep runs reproducible).
  const seed = process.env.E2E_SEED ? Number(process.env.E2E_SEED) : (opts.seed ?? 7);
  return startSimulator({ port: 0, clients: list, latencyMs: 1, ...DOCUMENTED_VARIANTS, ...opts, seed });
}

export function facilityConfig(o: Org, sim: RunningSimulator, quotaPerMinute = 100_000): FacilityConfig {
  return {
    organizationId: o.organizationId,
    name: `Puskesmas ${o.organizationId}`,
    environment: 'simulator',
    authBaseUrl: sim.authBaseUrl,
    fhirBaseUrl: sim.fhirBaseUrl,
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    timezone: 'Asia/Jakarta',
    quotaPerMinute,
    locations: { [LOCATION]: { name: 'Posyandu Uji', physicalType: 'si' } },
  };
}

/** The real limiter, with Retry-After pauses dilated like the rest of the test clock. */
function dilatedLimiter(key: string, quotaPerMinute: number): FacilityLimiter {
  const inner = createFacilityLimiter(key, { quotaPerMinute, maxConcurrent: 4 });
  return Object.assign(Object.create(inner) as FacilityLimiter, {
    acquire: inner.acquire.bind(inner),
    schedule: inner.schedule.bind(inner),
    pauseFor: (ms: number) => inner.pauseFor(Math.ceil(ms / SCALE)),
    pausedUntil: inner.pausedUntil.bind(inner),
    pending: inner.pending.bind(inner),
    inFlight: inner.inFlight.bind(inner),
    stats: inner.stats.bind(inner),
    close: inner.close.bind(inner),
  });
}

export function clientsFor(facilities: FacilityConfig[], clock: () => number, logger: Logger, wrap?: (c: PlatformClient) => PlatformClient): Map<string, FacilityRuntime> {
  const m = new Map<string, FacilityRuntime>();
  for (const f of facilities) {
    const client = createPlatformClient(f, { limiter: dilatedLimiter(f.organizationId, f.quotaPerMinute), logger, timeoutMs: 5_000, now: clock });
    m.set(f.organizationId, { config: f, client: wrap ? wrap(client) : client });
  }
  return m;
}

export const testSettings: RunnerSettings = {
  concurrency: 12,
  perFacilityConcurrency: 4,
  batchSize: 8,
  leaseMs: 10 * 60_000, // dilated: 30 s of test time
  timeBudgetMs: 30 * 60_000,
};

export const testPolicy: RetryPolicy = {
  ...defaultRetryPolicy,
  // The fault-injection runs inject 5xx/drops on ~15% of calls: with 8 attempts an unlucky visit could dead-letter
  // (seen about once in eight runs). These tests are about exactly-once delivery, so give retries ample room.
  maxAttempts: 20,
  baseDelayMs: 2_000, // dilated: 0.1 s
  maxDelayMs: 20_000,
  minDelayMs: 200,
  authProbeDelayMs: 120_000,
};

export function runnerFor(
  store: Store, facilities: Map<string, FacilityRuntime>, clock: () => number, logger: Logger, hmacKey = Buffer.alloc(32, 3),
  extra: { onClaim?: (row: import('../../src/store/types.js').VisitRow) => void; settings?: Partial<RunnerSettings> } = {},
): SyncRunner<MappingTables> {
  const { tables, validator } = core();
  return new SyncRunner<MappingTables>({
    store,
    mapping: mappingApi,
    tables,
    validator,
    identity: new IdentityResolver({ store, hmacKey, now: clock }),
    now: clock,
    logger,
    idsFromTransactionResponse,
    facilities,
    settings: { ...testSettings, ...extra.settings },
    policy: testPolicy,
    ...(extra.onClaim ? { onClaim: extra.onClaim } : {}),
  });
}

export function tempDb(): { url: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-e2e-'));
  return { url: `sqlite:${path.join(dir, 'e2e.db')}`, dir };
}

export function ingestAll(store: Store, records: Array<Record<string, unknown>>, now: number): void {
  const items = records.map((r) => ({ organizationId: String(r.organizationId), visitId: String(r.visitId), record: r, contentHash: contentHash(r) }));
  for (let i = 0; i < items.length; i += 100) store.ingest(items.slice(i, i + 100), now);
}

const FINAL = new Set(['sent', 'needs-correction', 'blocked', 'dead-letter']);

/** Runs ticks until every listed visit is in a final state (bounded by `maxMs` of wall time). */
export async function syncUntilSettled(
  runner: SyncRunner<MappingTables>,
  store: Store,
  keys: Array<{ organizationId: string; visitId: string }>,
  maxMs = 40_000,
): Promise<TickSummary[]> {
  const started = Date.now();
  const summaries: TickSummary[] = [];
  for (;;) {
    summaries.push(await runner.tick());
    const open = keys.filter((k) => !FINAL.has(store.getVisit(k.organizationId, k.visitId)!.state));
    if (!open.length) return summaries;
    if (Date.now() - started > maxMs) throw new Error(`not settled after ${maxMs} ms: ${open.length} visits open`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export { createLogger, openStore };
