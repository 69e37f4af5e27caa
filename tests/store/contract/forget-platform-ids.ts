// forgetPlatformIds: one organization's identity cache and ledger, the outbox untouched.
import { type MakeStore } from './harness.js';

export function forgetPlatformIdsContract(make: MakeStore): void {
  describe('Store.forgetPlatformIds', () => {
    it('forgets the identity cache and ledger of one organization only, and leaves the outbox alone', async () => {
      const { store, cleanup } = await make();
      try {
        for (const org of ['A1', 'B2']) {
          await store.putIdentity({ kind: 'patient', organizationId: org, keyHash: 'k1', satusehatId: `P-${org}`, updatedAt: 1 });
          await store.putIdentity({ kind: 'location', organizationId: org, keyHash: 'k2', satusehatId: `L-${org}`, updatedAt: 1 });
          await store.putLedger([{ organizationId: org, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: `E-${org}`, contentHash: 'h', updatedAt: 1 }]);
          await store.ingest([{ organizationId: org, visitId: 'V1', record: { x: 1 }, contentHash: 'c' }], 1);
        }
        expect(await store.forgetPlatformIds('A1')).toEqual({ identities: 2, ledger: 1 });
        expect(await store.getIdentity('patient', 'A1', 'k1')).toBeUndefined();
        expect(await store.getLedger('A1', 'visit/V1/encounter')).toBeUndefined();
        expect((await store.getVisit('A1', 'V1'))?.state).toBe('queued');
        expect((await store.getIdentity('patient', 'B2', 'k1'))?.satusehatId).toBe('P-B2');
        expect((await store.getLedger('B2', 'visit/V1/encounter'))?.satusehatId).toBe('E-B2');
        expect(await store.forgetPlatformIds('A1')).toEqual({ identities: 0, ledger: 0 });
        await expect(store.forgetPlatformIds('')).rejects.toThrow(TypeError);
      } finally {
        await cleanup();
      }
    });
  });
}
