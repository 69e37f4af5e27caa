import { openStore } from '../../src/store/index.js';

describe('Store.forgetPlatformIds', () => {
  it('forgets the identity cache and ledger of one organization only, and leaves the outbox alone', () => {
    const store = openStore({ url: 'sqlite::memory:' });
    try {
      for (const org of ['A1', 'B2']) {
        store.putIdentity({ kind: 'patient', organizationId: org, keyHash: 'k1', satusehatId: `P-${org}`, updatedAt: 1 });
        store.putIdentity({ kind: 'location', organizationId: org, keyHash: 'k2', satusehatId: `L-${org}`, updatedAt: 1 });
        store.putLedger([{ organizationId: org, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: `E-${org}`, contentHash: 'h', updatedAt: 1 }]);
        store.ingest([{ organizationId: org, visitId: 'V1', record: { x: 1 }, contentHash: 'c' }], 1);
      }
      expect(store.forgetPlatformIds('A1')).toEqual({ identities: 2, ledger: 1 });
      expect(store.getIdentity('patient', 'A1', 'k1')).toBeUndefined();
      expect(store.getLedger('A1', 'visit/V1/encounter')).toBeUndefined();
      expect(store.getVisit('A1', 'V1')?.state).toBe('queued');
      expect(store.getIdentity('patient', 'B2', 'k1')?.satusehatId).toBe('P-B2');
      expect(store.getLedger('B2', 'visit/V1/encounter')?.satusehatId).toBe('E-B2');
      expect(store.forgetPlatformIds('A1')).toEqual({ identities: 0, ledger: 0 });
      expect(() => store.forgetPlatformIds('')).toThrow(TypeError);
    } finally {
      store.close();
    }
  });
});
