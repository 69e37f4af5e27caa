// Weighings kept for the next visit (async Store contract; from the SQLite store tests, with outcomes addressed by their claim).
import type { IngestItem, WeighingFact } from '../../../src/store/types.js';
import { freshStore, type MakeStore } from './harness.js';

const ORG = '10000004';
const OTHER = '10000005';
const CHILD = 'c'.repeat(64);

const item = (visitId: string, hash: string, weighing?: WeighingFact, org = ORG): IngestItem =>
  ({ organizationId: org, visitId, record: { visitId }, contentHash: hash, ...(weighing ? { weighing } : {}) });
const w = (measuredOn: string, weightGrams: number, childKey = CHILD): WeighingFact => ({ childKey, measuredOn, weightGrams });

export function weighingsContract(makeStore: MakeStore): void {
  const t = freshStore(makeStore);

  describe('weighings kept for the next visit', () => {
    it('finds the latest earlier weighing of the same child, never this visit, another child or another facility', async () => {
      await t.store.ingest([
        item('V1', 'h1', w('2026-08-10', 9000)),
        item('V2', 'h2', w('2026-09-11', 9400)),
        item('V3', 'h3', w('2026-10-12', 9500)),
        item('X1', 'x1', w('2026-10-01', 5000, 'd'.repeat(64))),
      ], 1);
      await t.store.ingest([item('O1', 'o1', w('2026-10-05', 12000), OTHER)], 2);
      expect(await t.store.earlierWeighing(ORG, CHILD, '2026-10-12', 'V3')).toEqual({ visitId: 'V2', measuredOn: '2026-09-11', weightGrams: 9400 });
      expect(await t.store.earlierWeighing(ORG, CHILD, '2026-09-11', 'V2')).toEqual({ visitId: 'V1', measuredOn: '2026-08-10', weightGrams: 9000 });
      expect(await t.store.earlierWeighing(ORG, CHILD, '2026-08-10', 'V1')).toBeUndefined();
      // The same day is not "earlier": two weighings on one date compare nothing.
      expect(await t.store.earlierWeighing(ORG, CHILD, '2026-10-12', 'V9')).toEqual({ visitId: 'V2', measuredOn: '2026-09-11', weightGrams: 9400 });
      expect(await t.store.earlierWeighing(OTHER, CHILD, '2026-12-01', 'Z')).toEqual({ visitId: 'O1', measuredOn: '2026-10-05', weightGrams: 12000 });
      expect(await t.store.earlierWeighing(ORG, 'e'.repeat(64), '2026-12-01', 'Z')).toBeUndefined();
    });

    it('a revision replaces the weighing (corrected or removed); an unchanged push keeps it', async () => {
      await t.store.ingest([item('V1', 'h1', w('2026-09-10', 9000))], 1);
      expect(await t.store.ingest([item('V1', 'h1', w('2026-09-10', 1))], 2)).toEqual(['unchanged']);
      expect((await t.store.earlierWeighing(ORG, CHILD, '2026-10-01', 'V2'))?.weightGrams).toBe(9000);
      expect(await t.store.ingest([item('V1', 'h1b', w('2026-09-10', 9100))], 3)).toEqual(['revised']);
      expect((await t.store.earlierWeighing(ORG, CHILD, '2026-10-01', 'V2'))?.weightGrams).toBe(9100);
      expect(await t.store.ingest([item('V1', 'h1c')], 4)).toEqual(['revised']);
      expect(await t.store.earlierWeighing(ORG, CHILD, '2026-10-01', 'V2')).toBeUndefined();
    });

    it('refuses a malformed weighing and stores nothing of the batch', async () => {
      await expect(t.store.ingest([item('V1', 'h1', w('2026-09-10', 9000)), item('V2', 'h2', w('10/09/2026', 9000))], 1)).rejects.toThrow(/weighing/);
      await expect(t.store.ingest([item('V3', 'h3', w('2026-09-10', 0))], 1)).rejects.toThrow(/weighing/);
      await expect(t.store.ingest([item('V4', 'h4', w('2026-09-10', 9.5))], 1)).rejects.toThrow(/weighing/);
      expect(await t.store.getVisit(ORG, 'V1')).toBeUndefined();
      expect(await t.store.earlierWeighing(ORG, CHILD, '2026-12-01', 'Z')).toBeUndefined();
    });
  });
}
