// A claimed visit's lease is renewed while its delivery runs: a delivery of several slow platform calls can outlast
// the lease, and a second runner on the same database must not claim (and send) the visit meanwhile. Real clock,
// short lease (300 ms, renewed every 100 ms), slow simulator (150 ms per request, ~5 requests per cold visit).
import type { Store, VisitRow } from '../../src/store/types.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import type { TickSummary } from '../../src/sync/runner.js';
import { clientsFor, core, createLogger, facilityConfig, ingestAll, openStore, orgs, runnerFor, simulatorFor, tempDb } from './harness.js';
import { captureLines, makeVisit } from './fixtures.js';

const ENC = (org: string) => `http://sys-ids.kemkes.go.id/encounter/${org}`;
const LEASE_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lease renewal during a slow delivery', () => {
  const list = orgs(1);
  const org = list[0]!.organizationId;
  let sim: RunningSimulator;
  let db: { url: string };
  let storeA: Store;
  let storeB: Store;
  beforeAll(() => void core(), 30_000);
  beforeEach(async () => {
    sim = await simulatorFor(list, { clock: Date.now, latencyMs: 150 });
    db = tempDb();
    storeA = openStore({ url: db.url });
    storeB = openStore({ url: db.url }); // a second runner (another process) on the same database file
  });
  afterEach(async () => {
    storeA.close();
    storeB.close();
    await sim.close();
  });

  /** Runs runner A's tick while runner B ticks over and over on the same database; returns B's claims. */
  async function raceTwoRunners(logA: ReturnType<typeof createLogger>, duringA?: () => void) {
    const silent = createLogger({ level: 'silent' });
    const settings = { leaseMs: LEASE_MS, timeBudgetMs: 60_000 };
    let firstLeaseEnd = Infinity;
    const runnerA = runnerFor(storeA, clientsFor([facilityConfig(list[0]!, sim)], Date.now, logA), Date.now, logA, undefined, {
      settings, onClaim: (row) => void (firstLeaseEnd = Math.min(firstLeaseEnd, row.leaseUntil!)),
    });
    const claimsB: VisitRow[] = [];
    const runnerB = runnerFor(storeB, clientsFor([facilityConfig(list[0]!, sim)], Date.now, silent), Date.now, silent, undefined, {
      settings, onClaim: (row) => void claimsB.push(row),
    });
    let aDone = false;
    let ticksBAfterFirstLease = 0;
    const a = runnerA.tick().finally(() => (aDone = true));
    let hooked = false;
    while (!aDone) {
      await sleep(40);
      if (!hooked && storeB.getVisit(org, 'V-LEASE')?.state === 'sending') {
        hooked = true;
        duringA?.();
      }
      const t = Date.now();
      await runnerB.tick();
      if (t > firstLeaseEnd && !aDone) ticksBAfterFirstLease++;
    }
    return { summaryA: (await a) as TickSummary, claimsB, ticksBAfterFirstLease };
  }

  it('keeps the lease alive across a delivery longer than the lease: a second runner never claims the visit', async () => {
    const visit = { ...makeVisit(1, { organizationId: org }), visitId: 'V-LEASE' };
    ingestAll(storeA, [visit], Date.now());
    const logs = captureLines();
    const { summaryA, claimsB, ticksBAfterFirstLease } = await raceTwoRunners(createLogger({ level: 'info', destination: logs.stream }));

    expect(claimsB).toEqual([]);
    // The scenario really happened: A was still delivering after its first lease had run out, and B looked then.
    expect(ticksBAfterFirstLease).toBeGreaterThan(0);
    expect(summaryA.sent).toBe(1);
    const row = storeA.getVisit(org, visit.visitId)!;
    expect(row).toMatchObject({ state: 'sent', attempts: 1 });
    expect(row.leaseUntil).toBeUndefined(); // renewal stopped with the delivery: the recorded outcome cleared it
    expect(sim.state.findByIdentifier('Encounter', ENC(org), visit.visitId)).toHaveLength(1);
    expect(logs.lines.filter((l) => l.includes('could not be renewed'))).toEqual([]);
  }, 30_000);

  it('a renewal that fails (a newer revision arrived mid-delivery) is logged, and the newer revision is sent afterwards', async () => {
    const visit = { ...makeVisit(2, { organizationId: org }), visitId: 'V-LEASE' };
    ingestAll(storeA, [visit], Date.now());
    const logs = captureLines();
    const changed = { ...visit, measurements: [{ code: 'body-weight', value: 77, unit: 'kg' }] };
    const { summaryA } = await raceTwoRunners(createLogger({ level: 'info', destination: logs.stream }), () => ingestAll(storeB, [changed], Date.now()));

    expect(summaryA.sent).toBe(0); // revision 1 reached the platform, but the row now holds revision 2
    const warned = logs.lines.map((l) => JSON.parse(l) as { msg: string; visit?: string; revision?: number }).filter((l) => l.msg.includes('could not be renewed'));
    expect(warned).toEqual([expect.objectContaining({ visit: visit.visitId, revision: 1 })]);
    // Revision 2 is delivered (by either runner) as an update of the same Encounter.
    const silent = createLogger({ level: 'silent' });
    const runner = runnerFor(storeA, clientsFor([facilityConfig(list[0]!, sim)], Date.now, silent), Date.now, silent, undefined, { settings: { leaseMs: LEASE_MS } });
    for (let i = 0; i < 50 && storeA.getVisit(org, visit.visitId)!.state !== 'sent'; i++) {
      await runner.tick();
      await sleep(50);
    }
    expect(storeA.getVisit(org, visit.visitId)).toMatchObject({ state: 'sent', revision: 2 });
    expect(sim.state.findByIdentifier('Encounter', ENC(org), visit.visitId)).toHaveLength(1);
  }, 30_000);
});
