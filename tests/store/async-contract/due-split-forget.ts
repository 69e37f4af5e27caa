// dueSplit (a facility's unfinished visits, due now vs later) and forgetPlatformIds (async Store contract).
import { freshStore, type MakeStore } from './harness.js';

const ORG = '10000004';
const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);
const err = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'transient' as const }] };

export function dueSplitAndForgetContract(makeStore: MakeStore): void {
  const t = freshStore(makeStore);

  it('dueSplit counts due and later visits of one facility, with the earliest later time; final states are not counted', async () => {
    expect(await t.store.dueSplit(ORG, T0)).toEqual({ dueNow: 0, later: 0 });
    await t.store.ingest(['A', 'B', 'C', 'D', 'E'].map((visitId) => ({ organizationId: ORG, visitId, record: {}, contentHash: visitId })), T0);
    await t.store.ingest([{ organizationId: 'other', visitId: 'X', record: {}, contentHash: 'x' }], T0);
    const [a, b, c, d] = await t.store.claimDue(ORG, T0, 4, 60_000);
    await t.store.markRetry(a!.claim, T0 + 5_000, err, T0);
    await t.store.markRetry(b!.claim, T0 + 9_000, err, T0);
    await t.store.markFinal(c!.claim, 'blocked', err, T0);
    // d stays `sending` under its lease (due again at T0 + 60 s); E is queued and due.
    expect(d!.state).toBe('sending');
    expect(await t.store.dueSplit(ORG, T0)).toEqual({ dueNow: 1, later: 3, nextDueAt: T0 + 5_000 });
    expect(await t.store.dueSplit(ORG, T0 + 9_000)).toEqual({ dueNow: 3, later: 1, nextDueAt: T0 + 60_000 });
    expect(await t.store.dueSplit(ORG, T0 + 60_000)).toEqual({ dueNow: 4, later: 0 });
    expect(await t.store.pendingCount(ORG)).toBe(4);
    expect(await t.store.pendingCount('other')).toBe(1);
  });

  it('forgetPlatformIds forgets the identity cache and ledger of one organization only, and leaves the outbox alone', async () => {
    for (const org of ['A1', 'B2']) {
      await t.store.putIdentity({ kind: 'patient', organizationId: org, keyHash: 'k1', satusehatId: `P-${org}`, updatedAt: 1 });
      await t.store.putIdentity({ kind: 'location', organizationId: org, keyHash: 'k2', satusehatId: `L-${org}`, updatedAt: 1 });
      await t.store.putLedger([{ organizationId: org, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: `E-${org}`, contentHash: 'h', updatedAt: 1 }]);
      await t.store.ingest([{ organizationId: org, visitId: 'V1', record: { x: 1 }, contentHash: 'c' }], 1);
    }
    expect(await t.store.forgetPlatformIds('A1')).toEqual({ identities: 2, ledger: 1 });
    expect(await t.store.getIdentity('patient', 'A1', 'k1')).toBeUndefined();
    expect(await t.store.getLedger('A1', 'visit/V1/encounter')).toBeUndefined();
    expect((await t.store.getVisit('A1', 'V1'))?.state).toBe('queued');
    expect((await t.store.getIdentity('patient', 'B2', 'k1'))?.satusehatId).toBe('P-B2');
    expect((await t.store.getLedger('B2', 'visit/V1/encounter'))?.satusehatId).toBe('E-B2');
    expect(await t.store.forgetPlatformIds('A1')).toEqual({ identities: 0, ledger: 0 });
    await expect(t.store.forgetPlatformIds('')).rejects.toThrow(TypeError);
  });

  it('probeWrite commits (when the store has it)', async () => {
    await expect(t.store.probeWrite?.(T0)).resolves.toBeUndefined();
  });
}
