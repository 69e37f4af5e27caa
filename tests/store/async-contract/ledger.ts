// ledgerForVisit (async Store contract; from the SQLite store tests, with outcomes addressed by their claim).
import { RETRACTED_HASH, visitLedgerPrefix, type LedgerEntry } from '../../../src/store/types.js';
import { freshStore, type MakeStore } from './harness.js';

const ORG = '10000004';
const OTHER = '10000005';

const entry = (localKey: string, org = ORG, over: Partial<LedgerEntry> = {}): LedgerEntry =>
  ({ organizationId: org, localKey, resourceType: 'Observation', satusehatId: `id-${org}-${localKey}`, contentHash: 'h', updatedAt: 1, ...over });

export function ledgerContract(makeStore: MakeStore): void {
  const t = freshStore(makeStore);

  describe('ledgerForVisit', () => {
    it("returns exactly one visit's entries of one organization, ordered by key, retracted ones included", async () => {
      const mine = [
        entry('visit/V1/encounter', ORG, { resourceType: 'Encounter' }),
        entry('visit/V1/observation/body-weight.1'),
        entry('visit/V1/observation/systolic-bp.1', ORG, { contentHash: RETRACTED_HASH }),
        entry('visit/V1/immunization/BCG.1', ORG, { resourceType: 'Immunization' }),
      ];
      await t.store.putLedger([
        ...mine,
        // Neighbours in key order that must not match: a longer visit id, one sharing the prefix without '/', another org.
        entry('visit/V10/encounter', ORG, { resourceType: 'Encounter' }),
        entry('visit/V1.2/encounter', ORG, { resourceType: 'Encounter' }),
        entry('visit/V1-x/encounter', ORG, { resourceType: 'Encounter' }),
        entry('visit/V/encounter', ORG, { resourceType: 'Encounter' }),
        entry('visit/V1/observation/body-weight.1', OTHER),
        entry('visit/V0/encounter', ORG, { resourceType: 'Encounter' }),
      ]);
      const got = await t.store.ledgerForVisit(ORG, 'V1');
      expect(got).toEqual([...mine].sort((a, b) => (a.localKey < b.localKey ? -1 : 1)));
      expect(got.every((e) => e.localKey.startsWith(visitLedgerPrefix('V1')))).toBe(true);
      expect(got.find((e) => e.localKey.endsWith('systolic-bp.1'))!.contentHash).toBe(RETRACTED_HASH);
      expect(await t.store.ledgerForVisit(OTHER, 'V1')).toEqual([entry('visit/V1/observation/body-weight.1', OTHER)]);
      expect((await t.store.ledgerForVisit(ORG, 'V10')).map((e) => e.localKey)).toEqual(['visit/V10/encounter']);
    });

    it('is empty for a visit or organization with no entries', async () => {
      await t.store.putLedger([entry('visit/V1/encounter')]);
      expect(await t.store.ledgerForVisit(ORG, 'V2')).toEqual([]);
      expect(await t.store.ledgerForVisit('99999999', 'V1')).toEqual([]);
    });

    it('reflects a later putLedger (retraction marks the entry, keeps its id)', async () => {
      const e = entry('visit/V1/observation/body-weight.1');
      await t.store.putLedger([e]);
      await t.store.putLedger([{ ...e, contentHash: RETRACTED_HASH, updatedAt: 2 }]);
      expect(await t.store.ledgerForVisit(ORG, 'V1')).toEqual([{ ...e, contentHash: RETRACTED_HASH, updatedAt: 2 }]);
    });

    it('rejects a visit id that is empty or not a string', async () => {
      await expect(t.store.ledgerForVisit(ORG, '')).rejects.toThrow(TypeError);
      await expect(t.store.ledgerForVisit(ORG, 42 as unknown as string)).rejects.toThrow(TypeError);
    });

    it("keeps visits whose ids contain '/' apart: \"2026\" never sees \"2026/10/0001\"'s entries, nor the reverse", async () => {
      const key = (visitId: string, rest: string) => `${visitLedgerPrefix(visitId)}${rest}`;
      const short = [entry(key('2026', 'encounter'), ORG, { resourceType: 'Encounter' })];
      const long = [entry(key('2026/10/0001', 'encounter'), ORG, { resourceType: 'Encounter' }), entry(key('2026/10/0001', 'observation/body-weight.1'))];
      const middle = [entry(key('2026/10', 'encounter'), ORG, { resourceType: 'Encounter' })];
      await t.store.putLedger([...short, ...long, ...middle]);
      expect(await t.store.ledgerForVisit(ORG, '2026')).toEqual(short);
      expect(await t.store.ledgerForVisit(ORG, '2026/10')).toEqual(middle);
      expect((await t.store.ledgerForVisit(ORG, '2026/10/0001')).map((e) => e.localKey)).toEqual(long.map((e) => e.localKey).sort());
    });

    it('leaves the keys of ids without / or % as they were (no migration of existing ledger keys)', async () => {
      expect(visitLedgerPrefix('PSY-MAWAR-2026-10-0141')).toBe('visit/PSY-MAWAR-2026-10-0141/');
      expect(visitLedgerPrefix('A.b_c:d-1')).toBe('visit/A.b_c:d-1/');
      expect(visitLedgerPrefix('2026/10/0001')).toBe('visit/2026%2F10%2F0001/');
      // Injective: an id holding the escape text itself cannot collide with one holding '/'.
      expect(visitLedgerPrefix('a%2Fb')).not.toBe(visitLedgerPrefix('a/b'));
    });
  });
}
