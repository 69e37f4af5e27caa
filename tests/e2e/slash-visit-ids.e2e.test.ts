// visitIds with '/' (register numbers) end to end against the bundled simulator: a visit "2026" and a visit
// "2026/10/0001" of the same facility are delivered exactly once each (lost responses reconciled by identifier), and a
// revision of "2026" that drops a measurement retracts only its own resource, never the other visit's.
import { mapVisit } from '../../src/mapping/index.js';
import { visitLedgerPrefix } from '../../src/store/types.js';
import { contentHash } from '../../src/sync/hash.js';
import {
  clientsFor, core, createLogger, facilityConfig, ingestAll, openStore, orgs, runnerFor, simulatorFor, syncUntilSettled, tempDb, virtualClock,
} from './harness.js';
import { makeVisit } from './fixtures.js';

const OBS = (org: string) => `http://sys-ids.kemkes.go.id/observation/${org}`;
const ENC = (org: string) => `http://sys-ids.kemkes.go.id/encounter/${org}`;

describe("visitIds with '/'", () => {
  beforeAll(() => void core());

  it('deliver, reconcile and retract per visit: "2026" never touches "2026/10/0001"', async () => {
    const clock = virtualClock();
    const list = orgs(1);
    const org = list[0]!.organizationId;
    const sim = await simulatorFor(list, { clock, dropAfterCommitRate: 0.5, seed: 5 });
    const logger = createLogger({ level: 'silent' });
    const db = tempDb();
    const store = await openStore({ url: db.url });
    try {
      const runner = runnerFor(store, clientsFor([facilityConfig(list[0]!, sim)], clock, logger), clock, logger);
      // Adults: body weight and blood pressure (three Observations each).
      const short = { ...makeVisit(1, { organizationId: org }), visitId: '2026' };
      const long = { ...makeVisit(4, { organizationId: org }), visitId: '2026/10/0001' };
      const mapped = (v: typeof short) => mapVisit(v, core().tables, { now: new Date(clock()) });
      expect(mapped(short).entries.filter((e) => e.key.startsWith('observation/'))).toHaveLength(3);
      // Distinct deterministic fullUrls: the ids are not confused inside the mapping either.
      const urls = (v: typeof short) => new Set(mapped(v).bundle!.entry!.map((e) => e.fullUrl));
      expect([...urls(short)].some((u) => urls(long).has(u))).toBe(false);

      await ingestAll(store, [short, long], clock());
      await syncUntilSettled(runner, store, [short, long].map((v) => ({ organizationId: org, visitId: v.visitId })), clock);
      for (const v of [short, long]) {
        expect((await store.getVisit(org, v.visitId))!.state).toBe('sent');
        expect(sim.state.findByIdentifier('Encounter', ENC(org), v.visitId)).toHaveLength(1);
        expect(sim.state.findByIdentifier('Observation', OBS(org), `${v.visitId}.body-weight.1`)).toHaveLength(1);
      }
      expect(sim.state.stats().faults.dropAfterCommit).toBeGreaterThan(0);
      const ledgerShort = await store.ledgerForVisit(org, '2026');
      const ledgerLong = await store.ledgerForVisit(org, '2026/10/0001');
      // Every resource of the visit except the Patient (an identity, cached apart from the ledger).
      const keysOf = (v: typeof short) => mapped(v).entries.map((e) => e.key).filter((k) => k !== 'patient').map((k) => `${visitLedgerPrefix(v.visitId)}${k}`).sort();
      expect(ledgerShort.map((e) => e.localKey)).toEqual(keysOf(short));
      expect(ledgerLong.map((e) => e.localKey)).toEqual(keysOf(long));
      expect(ledgerLong.every((e) => e.localKey.startsWith(visitLedgerPrefix('2026/10/0001')) && e.localKey.startsWith('visit/2026%2F10%2F0001/'))).toBe(true);

      // Revision of "2026" without its blood pressure: its two BP Observations are retracted, the other visit's stay.
      const measurements = (short as unknown as { measurements: { code: string }[] }).measurements;
      const revised = { ...short, measurements: measurements.filter((m) => m.code === 'body-weight') };
      await store.ingest([{ organizationId: org, visitId: '2026', record: revised, contentHash: contentHash(revised) }], clock());
      await syncUntilSettled(runner, store, [{ organizationId: org, visitId: '2026' }], clock);
      const status = (visitId: string, code: string) => sim.state.findByIdentifier('Observation', OBS(org), `${visitId}.${code}.1`).map((r) => r.status);
      expect(status('2026', 'systolic-bp')).toEqual(['entered-in-error']);
      expect(status('2026', 'body-weight')).toEqual(['final']);
      for (const code of ['body-weight', 'systolic-bp', 'diastolic-bp']) expect(status('2026/10/0001', code)).toEqual(['final']);
      expect(await store.ledgerForVisit(org, '2026/10/0001')).toEqual(ledgerLong);
    } finally {
      await store.close();
      await sim.close();
    }
  }, 60_000);
});
