// The composition root wires and decides nothing: one client per facility with the limiter it is given (or its own),
// a wrapped client for the runner beside the client as built, one mapping kit per process, the sync run's drain.
import { createMappingKit, limiterOf, mappingKit, platformRuntimes } from '../src/compose.js';
import { createFacilityLimiter } from '../src/platform/limiter.js';
import type { FacilityConfig, PlatformClient } from '../src/platform/types.js';
import { drainDue } from '../src/app/sync-run.js';
import { openStore } from '../src/store/index.js';
import type { TickSummary } from '../src/sync/runner.js';

const facility = (organizationId: string, quotaPerMinute = 120): FacilityConfig => ({
  organizationId, environment: 'simulator', authBaseUrl: 'http://127.0.0.1:9/oauth2/v1', fhirBaseUrl: 'http://127.0.0.1:9/fhir-r4/v1',
  clientId: 'c', clientSecret: 's', timezone: 'Asia/Jakarta', quotaPerMinute, locations: {},
});

describe('composition root', () => {
  it('builds one client per facility: the given limiter or its own with the facility quota, wrapped for the runner', () => {
    const shared = createFacilityLimiter('A', { quotaPerMinute: 7 });
    const wrapped: string[] = [];
    const runtimes = platformRuntimes([facility('A'), facility('B', 42)], {
      limiterFor: (f) => (f.organizationId === 'A' ? shared : undefined),
      wrap: (client: PlatformClient, f) => {
        wrapped.push(f.organizationId);
        return Object.create(client) as PlatformClient;
      },
    });
    try {
      expect([...runtimes.keys()]).toEqual(['A', 'B']);
      expect(wrapped).toEqual(['A', 'B']);
      expect(runtimes.get('A')!.platform.limiter).toBe(shared);
      expect(limiterOf(runtimes.get('B'))!.stats().quotaPerMinute).toBe(42);
      expect(runtimes.get('A')!.client).not.toBe(runtimes.get('A')!.platform);
      expect(runtimes.get('B')!.config.organizationId).toBe('B');
    } finally {
      for (const rt of runtimes.values()) rt.platform.limiter.close();
    }
  });

  it('builds the mapping kit once per process; a fresh one on request', () => {
    const kit = mappingKit();
    expect(mappingKit()).toBe(kit);
    const mapped = kit.mapper({ not: 'a visit' }, new Date('2026-11-20T03:00:00Z'));
    expect(mapped.bundle).toBeUndefined();
    expect(mapped.issues.length).toBeGreaterThan(0);
    expect(createMappingKit()).not.toBe(kit);
  });

  it('drains: ticks until nothing is due for a delivered facility, summing the ticks', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    const tick = (sent: number): TickSummary => ({ sent, retried: 0, needsCorrection: 0, blocked: 0, deadLetter: 0, skipped: 0, unrecorded: 0, facilities: 1, durationMs: 5, stoppedBy: 'drained' });
    const ticks = [tick(2), tick(1), tick(0)];
    let calls = 0;
    try {
      // Due work of a facility this instance does not deliver for does not keep the run going.
      await store.ingest([{ organizationId: 'OTHER', visitId: 'V1', record: { a: 1 }, contentHash: 'h1' }], 1_000);
      const first = await drainDue({ runner: { tick: async () => ticks[calls++]! }, store, now: () => 2_000, delivered: new Set(['A']) }, 10);
      expect(calls).toBe(1);
      expect(first).toMatchObject({ sent: 2, durationMs: 5, stoppedBy: 'drained' });
      calls = 0;
      const all = await drainDue({ runner: { tick: async () => ticks[calls++]! }, store, now: () => 2_000, delivered: new Set(['OTHER']) }, 10);
      expect(calls).toBe(3); // the third tick changed nothing
      expect(all).toMatchObject({ sent: 3, durationMs: 15, facilities: 1 });
    } finally {
      await store.close();
    }
  });
});
