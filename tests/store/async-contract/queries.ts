// Visit list, facility facts, rejections (async Store contract; from the SQLite store tests, with outcomes addressed by their claim).
import type { OperationOutcome } from 'fhir/r4.js';
import type { IngestItem, VisitListFilter } from '../../../src/store/types.js';
import { freshStore, type MakeStore } from './harness.js';
// The store's query side: the visit list (filters, newest first, keyset pages), facility facts, organizations,
// rejections (kept, listed, purged in bounded steps) and migration 5's back-fill of the list columns.

const ORG = '10000004';
const OTHER = '10000005';
const T0 = 1_750_000_000_000;
const oo: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', diagnostics: 'x' }] };

const visit = (visitId: string, over: Record<string, unknown> = {}, org = ORG): IngestItem => {
  const record = { organizationId: org, visitId, setting: 'posyandu', locationCode: 'POSY-01', start: '2026-10-05T08:30:00+07:00', ...over };
  return { organizationId: org, visitId, record, contentHash: JSON.stringify(record) };
};

export function queriesContract(makeStore: MakeStore): void {
  const t = freshStore(makeStore);
  const { claimDue, claimOf } = t;

  describe('visit list', () => {
    const ids = async (f: Partial<VisitListFilter>) => (await t.store.listVisits({ limit: 100, ...f })).map((v) => `${v.organizationId}/${v.visitId}`);

    it('lists newest change first with the list columns taken from the record, never the record itself', async () => {
      await t.store.ingest([visit('A')], T0);
      await t.store.ingest([visit('B', { setting: 'pustu', locationCode: 'PUSTU-2', start: '2026-10-06T10:00:00+08:00' })], T0 + 10);
      await t.store.ingest([visit('C')], T0 + 20);
      const rows = await t.store.listVisits({ organizationId: ORG, limit: 10 });
      expect(rows.map((r) => r.visitId)).toEqual(['C', 'B', 'A']);
      expect(rows[1]).toEqual({
        organizationId: ORG, visitId: 'B', revision: 1, state: 'queued', attempts: 0, nextAttemptAt: T0 + 10, updatedAt: T0 + 10,
        setting: 'pustu', locationCode: 'PUSTU-2', visitStart: Date.parse('2026-10-06T02:00:00Z'),
      });
      expect(Object.keys(rows[0]!)).not.toContain('record');
      // A change moves a visit to the front.
      await claimDue(ORG, T0 + 30, 1, 60_000); // claims A (due first)
      expect((await t.store.listVisits({ organizationId: ORG, limit: 10 })).map((r) => r.visitId)).toEqual(['A', 'C', 'B']);
    });

    it('filters by organization, state, setting, locationCode, visit start, updatedSince and visitId prefix', async () => {
      await t.store.ingest([
        visit('2026/10/0001', { start: '2026-10-01T08:00:00+07:00' }),
        visit('2026/10/0002', { setting: 'puskesmas', locationCode: 'POLI-UMUM', start: '2026-10-02T08:00:00+07:00' }),
        visit('2026/11/0001', { start: '2026-11-01T08:00:00+07:00' }),
        visit('X-1', {}, OTHER),
      ], T0);
      await t.store.ingest([visit('2026/10/0003', { start: '2026-10-03T08:00:00+07:00' })], T0 + 100);
      const [claimed] = await claimDue(ORG, T0 + 200, 1, 60_000);
      await t.store.markFinal(claimOf(ORG, claimed!.visitId, 1), 'needs-correction', oo, T0 + 300);

      expect(await ids({})).toHaveLength(5);
      expect(await ids({ organizationId: OTHER })).toEqual([`${OTHER}/X-1`]);
      expect(await ids({ organizationId: ORG, states: ['needs-correction'] })).toEqual([`${ORG}/${claimed!.visitId}`]);
      expect(await ids({ organizationId: ORG, states: ['queued', 'needs-correction'] })).toHaveLength(4);
      expect(await ids({ setting: 'puskesmas' })).toEqual([`${ORG}/2026/10/0002`]);
      expect(await ids({ locationCode: 'POLI-UMUM' })).toEqual([`${ORG}/2026/10/0002`]);
      expect(await ids({ from: Date.parse('2026-10-02T00:00:00+07:00'), to: Date.parse('2026-10-03T00:00:00+07:00') })).toEqual([`${ORG}/2026/10/0002`]);
      expect(await ids({ updatedSince: T0 + 100 })).toHaveLength(2);
      expect((await ids({ visitIdPrefix: '2026/10/' })).sort()).toEqual([`${ORG}/2026/10/0001`, `${ORG}/2026/10/0002`, `${ORG}/2026/10/0003`]);
      // A prefix is literal: LIKE wildcards match nothing special.
      expect(await ids({ visitIdPrefix: '2026_' })).toEqual([]);
      expect(await ids({ visitIdPrefix: '%' })).toEqual([]);
    });

    it('pages with a keyset position: every row once, in order, even when rows share updatedAt across organizations', async () => {
      const batch = Array.from({ length: 7 }, (_, i) => visit(`V${i}`));
      await t.store.ingest([...batch, visit('V3', {}, OTHER)], T0); // all the same updatedAt
      await t.store.ingest([visit('W')], T0 + 1);
      const all = await t.store.listVisits({ limit: 100 });
      const seen: string[] = [];
      let after: VisitListFilter['after'];
      for (let i = 0; i < 10; i++) {
        const page = await t.store.listVisits({ limit: 3, ...(after ? { after } : {}) });
        seen.push(...page.map((v) => `${v.organizationId}/${v.visitId}`));
        if (page.length < 3) break;
        const last = page[page.length - 1]!;
        after = { updatedAt: last.updatedAt, organizationId: last.organizationId, visitId: last.visitId };
      }
      expect(seen).toEqual(all.map((v) => `${v.organizationId}/${v.visitId}`));
      expect(new Set(seen).size).toBe(9);
      expect(seen[0]).toBe(`${ORG}/W`);
    });

    it('refuses a limit that is not a positive integer', async () => {
      await expect(t.store.listVisits({ limit: 0 })).rejects.toThrow(TypeError);
      await expect(t.store.listVisits({ limit: 1.5 })).rejects.toThrow(TypeError);
    });

    it('keeps the list columns current on a revision', async () => {
      await t.store.ingest([visit('A')], T0);
      await t.store.ingest([visit('A', { setting: 'home-visit', locationCode: 'RUMAH', start: '2026-10-09T09:00:00+09:00' })], T0 + 5);
      expect((await t.store.listVisits({ limit: 5 }))[0]).toMatchObject({ revision: 2, setting: 'home-visit', locationCode: 'RUMAH', visitStart: Date.parse('2026-10-09T00:00:00Z') });
    });
  });

  describe('facility facts and organizations', () => {
    it('gives the oldest waiting record, the last delivery, and every organization the store knows', async () => {
      expect(await t.store.facilityFacts(ORG)).toEqual({});
      await t.store.ingest([visit('A')], T0);
      await t.store.ingest([visit('B')], T0 + 1_000);
      expect(await t.store.facilityFacts(ORG)).toEqual({ oldestWaitingSince: T0 });
      await claimDue(ORG, T0 + 2_000, 1, 60_000);
      await t.store.markSent(claimOf(ORG, 'A', 1), {}, T0 + 3_000);
      expect(await t.store.facilityFacts(ORG)).toEqual({ oldestWaitingSince: T0 + 1_000, lastSentAt: T0 + 3_000 });
      await t.store.putFacilityState({ organizationId: '10000009', status: 'paused', updatedAt: T0 });
      await t.store.ingest([visit('Z', {}, OTHER)], T0);
      expect(await t.store.organizations()).toEqual([ORG, OTHER, '10000009']);
    });
  });

  describe('rejections', () => {
    const issue = { severity: 'error', code: 'value', expression: ['measurements[0].unit'], diagnostics: "unit 'lbs' is not accepted" };

    it('keeps, lists newest first with paging and filters, and purges at most `limit` old entries per call', async () => {
      await t.store.addRejections([
        { organizationId: ORG, visitId: 'V1', at: T0, issues: [issue] },
        { organizationId: ORG, at: T0 + 10, issues: [issue] },
        { organizationId: OTHER, visitId: 'V1', at: T0 + 20, issues: [issue] },
        { organizationId: ORG, visitId: '2026/10/0001', at: T0 + 30, issues: [issue, issue] },
      ]);
      const mine = await t.store.listRejections({ organizationId: ORG, limit: 10 });
      expect(mine.map((r) => r.at)).toEqual([T0 + 30, T0 + 10, T0]);
      expect(mine[0]).toMatchObject({ organizationId: ORG, visitId: '2026/10/0001', issues: [issue, issue] });
      expect(mine[1]).not.toHaveProperty('visitId');
      const first = await t.store.listRejections({ limit: 2 });
      const rest = await t.store.listRejections({ limit: 10, after: { at: first[1]!.at, id: first[1]!.id } });
      expect([...first, ...rest].map((r) => r.at)).toEqual([T0 + 30, T0 + 20, T0 + 10, T0]);
      expect((await t.store.listRejections({ since: T0 + 10, until: T0 + 30, limit: 10 })).map((r) => r.at)).toEqual([T0 + 20, T0 + 10]);
      expect(await t.store.listRejections({ visitIdPrefix: '2026/', limit: 10 })).toHaveLength(1);

      expect(await t.store.purgeRejections(T0 + 25, 2)).toBe(2);
      expect(await t.store.purgeRejections(T0 + 25, 2)).toBe(1);
      expect(await t.store.purgeRejections(T0 + 25, 2)).toBe(0);
      expect((await t.store.listRejections({ limit: 10 })).map((r) => r.at)).toEqual([T0 + 30]);
    });

    it('refuses an entry without organization or time, storing nothing of the batch', async () => {
      await expect(t.store.addRejections([{ organizationId: ORG, at: T0, issues: [] }, { organizationId: '', at: T0, issues: [] }])).rejects.toThrow(TypeError);
      await expect(t.store.addRejections([{ organizationId: ORG, at: Number.NaN, issues: [] }])).rejects.toThrow(TypeError);
      expect(await t.store.listRejections({ limit: 10 })).toEqual([]);
    });
  });
}
