// Throughput scales with facilities: each Puskesmas has its own credential and quota, so every facility with due
// work is served at the same time (each capped at its per-facility concurrency) under a global cap on visits in
// flight. Observed through the claim hook: a claim that waits in the hook keeps its visit in flight, so when every
// facility has reached the hook while the others still wait there, all of them had work in flight together.
import { defaultSyncSettings } from '../../src/config/service.js';
import type { RunnerSettings } from '../../src/sync/runner.js';
import type { Store, VisitRow } from '../../src/store/types.js';
import {
  clientsFor, core, createLogger, facilityConfig, ingestAll, openStore, orgs, runnerFor, simulatorFor, syncUntilSettled, virtualClock,
} from './harness.js';
import { makeVisit } from './fixtures.js';

const ENC = (org: string) => `http://sys-ids.kemkes.go.id/encounter/${org}`;

/**
 * A claim hook that holds every claim until `n` distinct facilities have claimed (or a deadlock guard fires), and
 * records, at each claim, how many visits are `sending` overall and per facility.
 */
function barrier(store: Store, n: number) {
  const seen = new Set<string>();
  let open!: () => void;
  const allIn = new Promise<void>((r) => (open = r));
  const observed = { together: false, orgsSendingAtOnce: 0, maxSending: 0, maxSendingPerOrg: 0 };
  const hook = async (row: VisitRow) => {
    const sending = (await store.counts()).byState.sending;
    observed.maxSending = Math.max(observed.maxSending, sending);
    observed.maxSendingPerOrg = Math.max(observed.maxSendingPerOrg, (await store.counts(row.organizationId)).byState.sending);
    seen.add(row.organizationId);
    if (seen.size === n && !observed.together) {
      observed.together = true;
      for (const org of seen) if ((await store.counts(org)).byState.sending > 0) observed.orgsSendingAtOnce++;
      open();
    }
    // Deadlock guard only (a runner serving fewer facilities at once never opens the barrier); not a timing assertion.
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([allIn, new Promise<void>((r) => (guard = setTimeout(r, 4_000)))]);
    clearTimeout(guard);
  };
  return { hook, observed };
}

describe('sync runner: facilities served at once', () => {
  beforeAll(() => void core());

  async function run(facilityCount: number, settings: Partial<RunnerSettings>) {
    const clock = virtualClock();
    const list = orgs(facilityCount);
    const sim = await simulatorFor(list, { clock, latencyMs: 15 });
    const logger = createLogger({ level: 'silent' });
    const store = await openStore({ url: 'sqlite::memory:' });
    try {
      const { hook, observed } = barrier(store, facilityCount);
      const runner = runnerFor(store, clientsFor(list.map((o) => facilityConfig(o, sim)), clock, logger), clock, logger, undefined, {
        onClaim: hook, settings,
      });
      const visits = list.flatMap((o, k) => Array.from({ length: 3 }, (_, i) => makeVisit(k * 10 + i, { organizationId: o.organizationId })));
      await ingestAll(store, visits, clock());
      const first = await runner.tick();
      await syncUntilSettled(runner, store, visits.map((v) => ({ organizationId: String(v.organizationId), visitId: v.visitId })), clock);
      for (const v of visits) {
        const org = String(v.organizationId);
        expect({ visit: v.visitId, state: (await store.getVisit(org, v.visitId))!.state }).toEqual({ visit: v.visitId, state: 'sent' });
        expect(sim.state.findByIdentifier('Encounter', ENC(org), v.visitId)).toHaveLength(1);
      }
      return { observed, first };
    } finally {
      await store.close();
      await sim.close();
    }
  }

  it('with the default settings, six facilities all have visits in flight during the same tick', async () => {
    const { observed, first } = await run(6, {
      concurrency: defaultSyncSettings.concurrency,
      perFacilityConcurrency: defaultSyncSettings.perFacilityConcurrency,
      batchSize: defaultSyncSettings.batchSize,
    });
    expect(observed.together).toBe(true);
    expect(observed.orgsSendingAtOnce).toBe(6);
    expect(first.facilities).toBe(6);
    expect(first.sent).toBe(18); // the whole backlog in one tick
    expect(observed.maxSendingPerOrg).toBeLessThanOrEqual(defaultSyncSettings.perFacilityConcurrency);
    expect(observed.maxSending).toBeLessThanOrEqual(defaultSyncSettings.concurrency);
  });

  it('a global cap below facilities × per-facility concurrency still reaches every facility (round-robin), never exceeding the cap', async () => {
    // 8 slots for 6 facilities × 4: the first round gives each facility one, before any facility gets a second.
    const { observed } = await run(6, { concurrency: 8, perFacilityConcurrency: 4, batchSize: 8 });
    expect(observed.together).toBe(true);
    expect(observed.orgsSendingAtOnce).toBe(6);
    expect(observed.maxSending).toBeLessThanOrEqual(8);
    expect(observed.maxSendingPerOrg).toBeLessThanOrEqual(4);
  });

  it('the global cap holds: with 3 slots, never more than 3 visits in flight, whatever the number of facilities', async () => {
    const clock = virtualClock();
    const list = orgs(6);
    const sim = await simulatorFor(list, { clock, latencyMs: 5 });
    const logger = createLogger({ level: 'silent' });
    const store = await openStore({ url: 'sqlite::memory:' });
    try {
      let maxSending = 0;
      const claimedOrgs: string[] = [];
      const runner = runnerFor(store, clientsFor(list.map((o) => facilityConfig(o, sim)), clock, logger), clock, logger, undefined, {
        onClaim: async (row) => {
          claimedOrgs.push(row.organizationId);
          maxSending = Math.max(maxSending, (await store.counts()).byState.sending);
        },
        settings: { concurrency: 3, perFacilityConcurrency: 4, batchSize: 8 },
      });
      const visits = list.flatMap((o, k) => Array.from({ length: 4 }, (_, i) => makeVisit(k * 10 + i, { organizationId: o.organizationId })));
      await ingestAll(store, visits, clock());
      await syncUntilSettled(runner, store, visits.map((v) => ({ organizationId: String(v.organizationId), visitId: v.visitId })), clock);
      expect(maxSending).toBe(3);
      // Round-robin: the first six claims are one per facility.
      expect(new Set(claimedOrgs.slice(0, 6)).size).toBe(6);
    } finally {
      await store.close();
      await sim.close();
    }
  });
});
