// dueSplit (a facility's unfinished visits, due now vs later) and forgetPlatformIds (async Store contract).
import type { Store } from '../../../src/store/async-types.js';
import type { MadeStore, MakeStore } from './harness.js';

const ORG = '10000004';
const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);
const err = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'transient' as const }] };

export function dueSplitAndForgetContract(makeStore: MakeStore): void {
  let made: MadeStore;
  let store: Store;
  beforeEach(async () => {
    made = await makeStore();
    store = made.store;
  });
  afterEach(() => made.cleanup());

  it('dueSplit counts due and later visits of one facility, with the earliest later time; final states are not counted', async () => {
    expect(await store.dueSplit(ORG, T0)).toEqual({ dueNow: 0, later: 0 });
    await store.ingest(['A', 'B', 'C', 'D', 'E'].map((visitId) => ({ organizationId: ORG, visitId, record: {}, contentHash: visitId })), T0);
    await store.ingest([{ organizationId: 'other', visitId: 'X', record: {}, contentHash: 'x' }], T0);
    const [a, b, c, d] = await store.claimDue(ORG, T0, 4, 60_000);
    await store.markRetry(a!.claim, T0 + 5_000, err, T0);
    await store.markRetry(b!.claim, T0 + 9_000, err, T0);
    await store.markFinal(c!.claim, 'blocked', err, T0);
    // d stays `sending` under its lease (due again at T0 + 60 s); E is queued and due.
    expect(d!.state).toBe('sending');
    expect(await store.dueSplit(ORG, T0)).toEqual({ dueNow: 1, later: 3, nextDueAt: T0 + 5_000 });
    expect(await store.dueSplit(ORG, T0 + 9_000)).toEqual({ dueNow: 3, later: 1, nextDueAt: T0 + 60_000 });
    expect(await store.dueSplit(ORG, T0 + 60_000)).toEqual({ dueNow: 4, later: 0 });
    expect(await store.pendingCount(ORG)).toBe(4);
    expect(await store.pendingCount('other')).toBe(1);
  });

  it('forgetPlatformIds forgets the identity cache and ledger of one organization only, and leaves the outbox alone', async () => {
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
  });

  it('probeWrite commits (when the store has it)', async () => {
    await expect(store.probeWrite?.(T0)).resolves.toBeUndefined();
  });
}
