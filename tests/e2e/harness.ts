// Wires the real modules for the end-to-end tests through the composition root (src/compose.ts): SQLite store on a
// file, the real mapping tables and validator, the real platform client over HTTP to the bundled simulator, the sync runner.
//
// Virtual time: the simulator (quota window, token expiry, auth lockout), the runner (backoff, leases, Retry-After as
// facility notBefore, time budget), the identity resolver and the platform client all read one `virtualClock()`, which
// stands still unless something advances it: the runner waiting out a Retry-After (its injected `sleep`), or the test
// between ticks (`syncUntilSettled`). Nothing therefore depends on how fast the machine runs: a quota of N requests
// per minute is exhausted after exactly N requests, a lease ends only when the test moves time past it. Latency and
// HTTP timeouts stay real, and only bound hangs (CLIENT_TIMEOUT_MS: no simulator here is set to hang).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import type { MappingTables } from '../../src/mapping/index.js';
import type { Validator } from '../../src/validation/index.js';
import { createRunner, mappingKit, platformRuntimes } from '../../src/compose.js';
export { mappingApi } from '../../src/compose.js';
import { createFacilityLimiter, type FacilityLimiter } from '../../src/platform/limiter.js';
import type { FacilityConfig, PlatformClient } from '../../src/platform/types.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { SimulatorOptions } from '../../src/simulator/options.js';
import type { SyncRunner, RunnerSettings, TickSummary } from '../../src/sync/runner.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../src/sync/policy.js';
import type { FacilityRuntime } from '../../src/sync/deliver.js';
import { contentHash } from '../../src/sync/hash.js';
import { createLogger, type Logger } from '../../src/util/logger.js';
import { LOCATION } from './fixtures.js';

/** Epoch ms that move only when advanced; callable like Date.now. */
export interface VirtualClock {
  (): number;
  advance(ms: number): void;
  /** The runner's wait: moves time forward at once, then yields to pending I/O. */
  sleep(ms: number): Promise<void>;
}

export function virtualClock(start = Date.UTC(2026, 11, 1, 8)): VirtualClock {
  let t = start;
  const advance = (ms: number) => {
    t += ms;
  };
  return Object.assign(() => t, {
    advance,
    sleep: async (ms: number) => {
      advance(ms);
      await new Promise((r) => setImmediate(r));
    },
  });
}

const isVirtual = (clock: () => number): clock is VirtualClock => typeof (clock as Partial<VirtualClock>).sleep === 'function';

/** The process's mapping tables and validator (built once: compiling the validator takes a while). */
export function core(): { tables: MappingTables; validator: Validator } {
  return mappingKit();
}

export interface Org {
  organizationId: string;
  clientId: string;
  clientSecret: string;
}

export const orgs = (n: number): Org[] =>
  Array.from({ length: n }, (_, i) => ({ organizationId: `1000010${i + 1}`, clientId: `client-${i + 1}`, clientSecret: `secret-${i + 1}-x9`, }));

export async function simulatorFor(list: Org[], opts: Partial<SimulatorOptions> & { clock: () => number }): Promise<RunningSimulator> {
  // E2E_SEED=n re-runs the suite with other fault patterns (the default seeds keep runs reproducible).
  const seed = process.env.E2E_SEED ? Number(process.env.E2E_SEED) : (opts.seed ?? 7);
  return startSimulator({ port: 0, clients: list, latencyMs: 1, ...opts, seed });
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

/**
 * The real limiter (its pauses run on the wall clock), with Retry-After pauses shortened 1000×: the runner already
 * waits them out in virtual time; the limiter only has to hold its queue back briefly, not for a real minute.
 */
function shortPauseLimiter(key: string, quotaPerMinute: number): FacilityLimiter {
  const inner = createFacilityLimiter(key, { quotaPerMinute, maxConcurrent: 4 });
  return Object.assign(Object.create(inner) as FacilityLimiter, {
    acquire: inner.acquire.bind(inner),
    schedule: inner.schedule.bind(inner),
    pauseFor: (ms: number) => inner.pauseFor(Math.ceil(ms / 1000)),
    pausedUntil: inner.pausedUntil.bind(inner),
    pending: inner.pending.bind(inner),
    inFlight: inner.inFlight.bind(inner),
    stats: inner.stats.bind(inner),
    close: inner.close.bind(inner),
  });
}

/** The client's HTTP timeout in these runs: long, so that a slow machine is never mistaken for a platform timeout (a retry). */
export const CLIENT_TIMEOUT_MS = 60_000;

export function clientsFor(facilities: FacilityConfig[], clock: () => number, logger: Logger, wrap?: (c: PlatformClient) => PlatformClient): Map<string, FacilityRuntime> {
  return platformRuntimes(facilities, {
    limiterFor: (f) => shortPauseLimiter(f.organizationId, f.quotaPerMinute), logger, timeoutMs: CLIENT_TIMEOUT_MS, now: clock, ...(wrap ? { wrap } : {}),
  });
}

export const testSettings: RunnerSettings = {
  concurrency: 12,
  perFacilityConcurrency: 4,
  batchSize: 8,
  leaseMs: 10 * 60_000,
  timeBudgetMs: 30 * 60_000,
};

export const testPolicy: RetryPolicy = {
  ...defaultRetryPolicy,
  // The fault-injection runs inject 5xx/drops on ~15% of calls: with 8 attempts an unlucky visit could dead-letter
  // (seen about once in eight runs). These tests are about exactly-once delivery, so give retries ample room.
  maxAttempts: 20,
  baseDelayMs: 2_000,
  maxDelayMs: 20_000,
  minDelayMs: 200,
  authProbeDelayMs: 120_000,
};

export function runnerFor(
  store: Store, facilities: Map<string, FacilityRuntime>, clock: () => number, logger: Logger, hmacKey = Buffer.alloc(32, 3),
  extra: { onClaim?: (row: import('../../src/store/types.js').VisitRow) => void | Promise<void>; settings?: Partial<RunnerSettings> } = {},
): SyncRunner<MappingTables> {
  return createRunner({
    store,
    kit: mappingKit(),
    hmacKey,
    now: clock,
    logger,
    facilities,
    settings: { ...testSettings, ...extra.settings },
    policy: testPolicy,
    ...(isVirtual(clock) ? { sleep: clock.sleep } : {}),
    ...(extra.onClaim ? { onClaim: extra.onClaim } : {}),
  });
}

export function tempDb(): { url: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-e2e-'));
  return { url: `sqlite:${path.join(dir, 'e2e.db')}`, dir };
}

export async function ingestAll(store: Store, records: Array<Record<string, unknown>>, now: number): Promise<void> {
  const items = records.map((r) => ({ organizationId: String(r.organizationId), visitId: String(r.visitId), record: r, contentHash: contentHash(r) }));
  for (let i = 0; i < items.length; i += 100) await store.ingest(items.slice(i, i + 100), now);
}

const FINAL = new Set(['sent', 'needs-correction', 'blocked', 'dead-letter']);

/** Virtual time between two ticks: past the simulator's 60 s quota window, any backoff (testPolicy.maxDelayMs) and auth probe. */
export const TICK_STEP_MS = 2 * 60_000 + 1_000;

/**
 * Runs ticks until every listed visit is in a final state, moving the virtual clock one step between ticks so that
 * retries and quota windows come due. Bounded by a number of ticks, not by time: a run that does not settle within
 * `maxTicks` is a failure whatever the machine's speed.
 */
export async function syncUntilSettled(
  runner: SyncRunner<MappingTables>,
  store: Store,
  keys: Array<{ organizationId: string; visitId: string }>,
  clock: VirtualClock,
  maxTicks = 60,
): Promise<TickSummary[]> {
  const summaries: TickSummary[] = [];
  for (;;) {
    summaries.push(await runner.tick());
    const open = [];
    for (const k of keys) if (!FINAL.has((await store.getVisit(k.organizationId, k.visitId))!.state)) open.push(k);
    if (!open.length) return summaries;
    if (summaries.length >= maxTicks) throw new Error(`not settled after ${maxTicks} ticks: ${open.length} visits open`);
    clock.advance(TICK_STEP_MS);
  }
}

export { createLogger, openStore };
