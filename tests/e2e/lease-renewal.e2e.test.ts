// A claimed visit's lease is renewed while its delivery runs: a delivery of several slow platform calls can outlast
// the lease, and a second runner on the same database must not claim (and send) the visit meanwhile. Time is
// virtual (harness.ts): runner A's delivery is held at its transaction while the test moves the shared clock past
// the first lease end, lets A's renewal timer act, and has runner B tick at that moment. No step depends on speed.
import type { PlatformClient } from '../../src/platform/types.js';
import type { Store, VisitRow } from '../../src/store/types.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { clientsFor, core, createLogger, facilityConfig, ingestAll, openStore, orgs, runnerFor, simulatorFor, syncUntilSettled, tempDb, virtualClock, type VirtualClock } from './harness.js';
import { captureLines, makeVisit } from './fixtures.js';
import { eventually, gate } from '../helpers/eventually.js';

const ENC = (org: string) => `http://sys-ids.kemkes.go.id/encounter/${org}`;
/** Virtual ms; renewed every LEASE_MS/3, which the runner checks every 50 ms of real time. */
const LEASE_MS = 300;
const RENEW_EVERY = LEASE_MS / 3;
const RENEWALS = 3;

/** Holds every `transaction` call of the client until the gate opens. */
const holdTransactions = (g: ReturnType<typeof gate>) => (c: PlatformClient): PlatformClient =>
  new Proxy(c, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (prop !== 'transaction' || typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        await g.arrive();
        return (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });

describe('lease renewal during a slow delivery', () => {
  const list = orgs(1);
  const org = list[0]!.organizationId;
  let clock: VirtualClock;
  let sim: RunningSimulator;
  let db: { url: string };
  let storeA: Store;
  let storeB: Store;
  beforeAll(() => void core());
  beforeEach(async () => {
    clock = virtualClock();
    sim = await simulatorFor(list, { clock });
    db = tempDb();
    storeA = await openStore({ url: db.url });
    storeB = await openStore({ url: db.url }); // a second runner (another process) on the same database file
  });
  afterEach(async () => {
    await storeA.close();
    await storeB.close();
    await sim.close();
  });

  /** Runner A starts a tick and is held at its transaction; returns the controls of that moment. */
  async function startHeldDelivery(logA: ReturnType<typeof createLogger>) {
    const held = gate();
    let claimA: VisitRow | undefined;
    const runnerA = runnerFor(storeA, clientsFor([facilityConfig(list[0]!, sim)], clock, logA, holdTransactions(held)), clock, logA, undefined, {
      settings: { leaseMs: LEASE_MS }, onClaim: (row) => void (claimA = row),
    });
    const tickA = runnerA.tick();
    await held.reached;
    return { claimA: claimA!, tickA, release: held.open };
  }

  it('keeps the lease alive across a delivery longer than the lease: a second runner never claims the visit', async () => {
    const visit = { ...makeVisit(1, { organizationId: org }), visitId: 'V-LEASE' };
    await ingestAll(storeA, [visit], clock());
    const logs = captureLines();
    const silent = createLogger({ level: 'silent' });
    const claimsB: VisitRow[] = [];
    const runnerB = runnerFor(storeB, clientsFor([facilityConfig(list[0]!, sim)], clock, silent), clock, silent, undefined, {
      settings: { leaseMs: LEASE_MS }, onClaim: (row) => void claimsB.push(row),
    });
    const { claimA, tickA, release } = await startHeldDelivery(createLogger({ level: 'info', destination: logs.stream }));
    const firstLeaseEnd = claimA.leaseUntil!;
    expect(firstLeaseEnd).toBe(clock() + LEASE_MS);

    // Each round: time moves on by two renewal periods; A's timer renews the lease; B looks for due work.
    for (let round = 1; round <= RENEWALS; round++) {
      clock.advance(2 * RENEW_EVERY);
      const expected = clock() + LEASE_MS;
      await eventually(async () => (await storeB.getVisit(org, visit.visitId))!.leaseUntil === expected, `lease renewal ${round} to ${expected}`, 30_000);
      const summaryB = await runnerB.tick();
      expect(summaryB.sent + summaryB.retried).toBe(0);
    }
    // The scenario really happened: B looked when A's first lease (and the next ones) had long run out.
    expect(clock()).toBeGreaterThanOrEqual(firstLeaseEnd + LEASE_MS);
    expect(claimsB).toEqual([]);

    release();
    const summaryA = await tickA;
    expect(summaryA.sent).toBe(1);
    const row = (await storeA.getVisit(org, visit.visitId))!;
    expect(row).toMatchObject({ state: 'sent', attempts: 1 });
    expect(row.leaseUntil).toBeUndefined(); // renewal stopped with the delivery: the recorded outcome cleared it
    expect(sim.state.findByIdentifier('Encounter', ENC(org), visit.visitId)).toHaveLength(1);
    expect(logs.lines.filter((l) => l.includes('could not be renewed'))).toEqual([]);
  });

  it('a renewal that fails (a newer revision arrived mid-delivery) is logged, and the newer revision is sent afterwards', async () => {
    const visit = { ...makeVisit(2, { organizationId: org }), visitId: 'V-LEASE' };
    await ingestAll(storeA, [visit], clock());
    const logs = captureLines();
    let renewalTries = 0;
    const renewLease = storeA.renewLease.bind(storeA);
    storeA.renewLease = (...args) => (renewalTries++, renewLease(...args));
    const { tickA, release } = await startHeldDelivery(createLogger({ level: 'info', destination: logs.stream }));
    const changed = { ...visit, measurements: [{ code: 'body-weight', value: 77, unit: 'kg' }] };
    await ingestAll(storeB, [changed], clock());
    clock.advance(RENEW_EVERY); // A's next renewal is due and must fail: the row holds revision 2 now
    const warnings = () => logs.lines.map((l) => JSON.parse(l) as { msg: string; visit?: string; revision?: number }).filter((l) => l.msg.includes('could not be renewed'));
    await eventually(() => warnings().length > 0, 'the failed renewal to be logged', 30_000);
    // Logged once, not at every later renewal: let A try once more before it finishes.
    const triesBefore = renewalTries;
    clock.advance(RENEW_EVERY);
    await eventually(() => renewalTries > triesBefore, 'another renewal attempt', 30_000);

    release();
    const summaryA = await tickA;
    expect(summaryA.sent).toBe(0); // revision 1 reached the platform, but the row now holds revision 2
    expect(warnings()).toEqual([expect.objectContaining({ visit: visit.visitId, revision: 1 })]);
    // Revision 2 is delivered as an update of the same Encounter.
    const silent = createLogger({ level: 'silent' });
    const runner = runnerFor(storeA, clientsFor([facilityConfig(list[0]!, sim)], clock, silent), clock, silent, undefined, { settings: { leaseMs: LEASE_MS } });
    await syncUntilSettled(runner, storeA, [{ organizationId: org, visitId: visit.visitId }], clock, 5);
    expect(await storeA.getVisit(org, visit.visitId)).toMatchObject({ state: 'sent', revision: 2 });
    expect(sim.state.findByIdentifier('Encounter', ENC(org), visit.visitId)).toHaveLength(1);
  });
});
