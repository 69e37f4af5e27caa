// The sync runner and the real platform client against the bundled simulator, with metrics attached: outcomes,
// platform exchanges and quota use agree with what the store and the simulator saw.
import fs from 'node:fs';
import type { MappingTables } from '../../src/mapping/index.js';
import { SyncRunner } from '../../src/sync/runner.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import type { FacilityRuntime } from '../../src/sync/deliver.js';
import type { Store } from '../../src/store/types.js';
import { createMetrics, type ServiceMetrics } from '../../src/util/metrics.js';
import { createPlatformClient, idsFromTransactionResponse } from '../../src/platform/client.js';
import type { FacilityLimiter } from '../../src/platform/limiter.js';
import type { SimulatorOptions } from '../../src/simulator/options.js';
import {
  clientsFor, core, createLogger, facilityConfig, ingestAll, mappingApi, openStore, orgs, simulatorFor, syncUntilSettled, virtualClock,
  tempDb, testPolicy, testSettings, CLIENT_TIMEOUT_MS, type VirtualClock,
} from '../e2e/harness.js';
import { makeVisit } from '../e2e/fixtures.js';
import { parseMetrics, select, sumOf, valueOf } from './helpers.js';
import { eventually } from '../helpers/eventually.js';

const logger = createLogger({ level: 'silent' });

function runnerWith(store: Store, facilities: Map<string, FacilityRuntime>, clock: VirtualClock, metrics: ServiceMetrics, maxAttempts = testPolicy.maxAttempts) {
  const { tables, validator } = core();
  return new SyncRunner<MappingTables>({
    store, mapping: mappingApi, tables, validator, identity: new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 5), now: clock }), now: clock, logger,
    idsFromTransactionResponse, facilities, settings: testSettings, policy: { ...testPolicy, maxAttempts }, metrics, sleep: clock.sleep,
  });
}

/** Platform clients with the metrics hook (the harness builds them without). */
async function setup(simOpts: Partial<SimulatorOptions>, count = 1) {
  const clock = virtualClock();
  const list = orgs(count);
  const sim = await simulatorFor(list, { clock, ...simOpts });
  const configs = list.map((o) => facilityConfig(o, sim));
  const metrics = createMetrics({ defaultMetrics: false });
  const runtimes = clientsFor(configs, clock, logger);
  // Rebuild each client with metrics, keeping the harness's limiter.
  for (const [org, rt] of runtimes) {
    const limiter = (rt.client as unknown as { limiter: FacilityLimiter }).limiter;
    runtimes.set(org, { config: rt.config, client: createPlatformClient(rt.config, { limiter, logger, timeoutMs: CLIENT_TIMEOUT_MS, now: clock, metrics }) });
    metrics.watchFacility(org, { limiter: () => limiter.stats() });
  }
  const db = tempDb();
  const store = await openStore({ url: db.url });
  metrics.watchStore(store);
  const cleanup = async () => {
    await store.close();
    for (const rt of runtimes.values()) (rt.client as unknown as { limiter: { close(): void } }).limiter.close();
    await sim.close();
    fs.rmSync(db.dir, { recursive: true, force: true });
  };
  /** Waits until no platform request is in flight, so every exchange has been reported. */
  const quiet = () =>
    eventually(() => [...runtimes.values()].every((rt) => (rt.client as unknown as { limiter: FacilityLimiter }).limiter.inFlight() === 0), 'platform requests in flight to end');
  return { clock, list, sim, metrics, runtimes, store, cleanup, quiet };
}

describe('runner metrics against the simulator', () => {
  it('sent, blocked and needs-correction are counted per facility; every platform exchange is a quota point; no NIK or name in the output', async () => {
    const org = orgs(1)[0]!.organizationId;
    const good = [makeVisit(1, { organizationId: org }), makeVisit(2, { organizationId: org })];
    const unknown = makeVisit(3, { organizationId: org });
    const rejected = makeVisit(4, { organizationId: org, practitionerIhs: '10099999999' }); // not in the Nakes index
    const t = await setup({ unknownNiks: [unknown.patient.nik] });
    try {
      const visits = [...good, unknown, rejected];
      await ingestAll(t.store, visits, t.clock());
      const runner = runnerWith(t.store, t.runtimes, t.clock, t.metrics);
      await syncUntilSettled(runner, t.store, visits.map((v) => ({ organizationId: org, visitId: v.visitId })), t.clock);
      await t.quiet();

      const text = await t.metrics.metrics();
      const s = parseMetrics(text);
      expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: org, outcome: 'sent' })).toBe(2);
      expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: org, outcome: 'blocked' })).toBe(1);
      expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: org, outcome: 'needs-correction' })).toBe(1);
      expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: org, outcome: 'dead-letter' })).toBeUndefined();
      expect(valueOf(s, 'ilp_visits_by_state', { organization: org, state: 'sent' })).toBe(2);
      expect(valueOf(s, 'ilp_visits_by_state', { organization: org, state: 'blocked' })).toBe(1);
      expect(valueOf(s, 'ilp_visits_by_state', { organization: org, state: 'needs-correction' })).toBe(1);
      expect(valueOf(s, 'ilp_visits_by_state', { organization: org, state: 'queued' })).toBe(0);
      expect(valueOf(s, 'ilp_facility_status', { organization: org, status: 'active' })).toBe(1);

      expect(valueOf(s, 'ilp_platform_requests_total', { organization: org, operation: 'token', status_class: '2xx' })).toBe(1);
      expect(valueOf(s, 'ilp_platform_requests_total', { organization: org, operation: 'transaction', status_class: '2xx' })).toBe(2);
      // The platform refused the transaction of the visit with an unknown practitioner.
      expect(valueOf(s, 'ilp_platform_requests_total', { organization: org, operation: 'transaction', status_class: '4xx' })).toBe(1);
      // Every exchange (token included) took exactly one quota point.
      const exchanges = sumOf(s, 'ilp_platform_requests_total', { organization: org });
      expect(valueOf(s, 'ilp_platform_quota_granted_total', { organization: org })).toBe(exchanges);
      expect(sumOf(s, 'ilp_platform_request_duration_seconds_count', { organization: org })).toBe(exchanges);
      // ...and the simulator saw as many requests, with the same status classes.
      const log = t.sim.state.requestLog();
      expect(exchanges).toBe(log.length);
      expect(sumOf(s, 'ilp_platform_requests_total', { organization: org, status_class: '4xx' })).toBe(log.filter((e) => e.status >= 400 && e.status < 500).length);
      expect(sumOf(s, 'ilp_sync_tick_duration_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(select(s, 'ilp_sync_tick_duration_seconds_count', { stopped_by: 'drained' }).length).toBe(1);

      for (const v of visits) {
        expect(text).not.toContain(v.patient.nik);
        expect(text).not.toContain(v.patient.name);
        expect(text).not.toContain(v.visitId);
      }
      expect(text).not.toMatch(/(?<![\d.])\d{16}/); // a NIK-like run (fractions of duration sums excepted)
    } finally {
      await t.cleanup();
    }
  });

  it('a platform answering 5xx: retried then dead-letter, with the 5xx exchanges counted', async () => {
    const org = orgs(1)[0]!.organizationId;
    const visits = [makeVisit(10, { organizationId: org }), makeVisit(11, { organizationId: org })];
    const t = await setup({ errorRate5xx: 1 });
    try {
      await ingestAll(t.store, visits, t.clock());
      const runner = runnerWith(t.store, t.runtimes, t.clock, t.metrics, 2);
      await syncUntilSettled(runner, t.store, visits.map((v) => ({ organizationId: org, visitId: v.visitId })), t.clock);
      // A visit fails at its first 5xx while a sibling lookup of the same attempt may still be on the wire.
      await t.quiet();
      const s = parseMetrics(await t.metrics.metrics());
      expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: org, outcome: 'retried' })).toBe(2);
      expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: org, outcome: 'dead-letter' })).toBe(2);
      expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: org, outcome: 'sent' })).toBeUndefined();
      expect(valueOf(s, 'ilp_visits_by_state', { organization: org, state: 'dead-letter' })).toBe(2);
      // Each of the 2 × 2 attempts failed at a 5xx (identity lookups of one attempt may run side by side, hence ≥).
      const fiveXx = sumOf(s, 'ilp_platform_requests_total', { organization: org, status_class: '5xx' });
      expect(fiveXx).toBeGreaterThanOrEqual(4);
      expect(fiveXx).toBe(t.sim.state.requestLog().filter((e) => e.status >= 500).length);
      expect(select(s, 'ilp_platform_requests_total', { organization: org, status_class: '2xx' }).map((x) => [x.labels.operation, x.value])).toEqual([['token', 1]]); // faults spare the token
    } finally {
      await t.cleanup();
    }
  });
});
