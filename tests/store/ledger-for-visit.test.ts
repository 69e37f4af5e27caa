import { openSqliteStore } from '../../src/store/sqlite.js';
import { RETRACTED_HASH, visitLedgerPrefix, type LedgerEntry, type Store } from '../../src/store/types.js';

const ORG = '10000004';
const OTHER = '10000005';

const entry = (localKey: string, org = ORG, over: Partial<LedgerEntry> = {}): LedgerEntry =>
  ({ organizationId: org, localKey, resourceType: 'Observation', satusehatId: `id-${org}-${localKey}`, contentHash: 'h', updatedAt: 1, ...over });

describe('SQLite store: ledgerForVisit', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore({ file: ':memory:' });
  });
  afterEach(() => store.close());

  it("returns exactly one visit's entries of one organization, ordered by key, retracted ones included", () => {
    const mine = [
      entry('visit/V1/encounter', ORG, { resourceType: 'Encounter' }),
      entry('visit/V1/observation/body-weight.1'),
      entry('visit/V1/observation/systolic-bp.1', ORG, { contentHash: RETRACTED_HASH }),
      entry('visit/V1/immunization/BCG.1', ORG, { resourceType: 'Immunization' }),
    ];
    store.putLedger([
      ...mine,
      // Neighbours in key order that must not match: a longer visit id, one sharing the prefix without '/', another org.
      entry('visit/V10/encounter', ORG, { resourceType: 'Encounter' }),
      entry('visit/V1.2/encounter', ORG, { resourceType: 'Encounter' }),
      entry('visit/V1-x/encounter', ORG, { resourceType: 'Encounter' }),
      entry('visit/V/encounter', ORG, { resourceType: 'Encounter' }),
      entry('visit/V1/observation/body-weight.1', OTHER),
      entry('visit/V0/encounter', ORG, { resourceType: 'Encounter' }),
    ]);
    const got = store.ledgerForVisit(ORG, 'V1');
    expect(got).toEqual([...mine].sort((a, b) => (a.localKey < b.localKey ? -1 : 1)));
    expect(got.every((e) => e.localKey.startsWith(visitLedgerPrefix('V1')))).toBe(true);
    expect(got.find((e) => e.localKey.endsWith('systolic-bp.1'))!.contentHash).toBe(RETRACTED_HASH);
    expect(store.ledgerForVisit(OTHER, 'V1')).toEqual([entry('visit/V1/observation/body-weight.1', OTHER)]);
    expect(store.ledgerForVisit(ORG, 'V10').map((e) => e.localKey)).toEqual(['visit/V10/encounter']);
  });

  it('is empty for a visit or organization with no entries', () => {
    store.putLedger([entry('visit/V1/encounter')]);
    expect(store.ledgerForVisit(ORG, 'V2')).toEqual([]);
    expect(store.ledgerForVisit('99999999', 'V1')).toEqual([]);
  });

  it('reflects a later putLedger (retraction marks the entry, keeps its id)', () => {
    const e = entry('visit/V1/observation/body-weight.1');
    store.putLedger([e]);
    store.putLedger([{ ...e, contentHash: RETRACTED_HASH, updatedAt: 2 }]);
    expect(store.ledgerForVisit(ORG, 'V1')).toEqual([{ ...e, contentHash: RETRACTED_HASH, updatedAt: 2 }]);
  });

  it("rejects a visit id that is empty, not a string or contains '/' (it would widen the key range)", () => {
    store.putLedger([entry('visit/V1/x/encounter')]);
    expect(() => store.ledgerForVisit(ORG, '')).toThrow(TypeError);
    expect(() => store.ledgerForVisit(ORG, 'V1/x')).toThrow(TypeError);
    expect(() => store.ledgerForVisit(ORG, 42 as unknown as string)).toThrow(TypeError);
  });
});
