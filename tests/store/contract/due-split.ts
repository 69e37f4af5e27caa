// dueSplit: a facility's unfinished visits, due now vs later (backoff, a live lease).
import { ORG, type MakeStore } from './harness.js';

const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);
const err = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'transient' as const }] };

export function dueSplitContract(make: MakeStore): void {
  it('counts due and later visits of one facility, with the earliest later time; final states are not counted', async () => {
    const { store, cleanup } = await make();
    try {
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
    } finally {
      await cleanup();
    }
  });

  it('probeWrite commits (when the store has it)', async () => {
    const { store, cleanup } = await make();
    try {
      await expect(store.probeWrite?.(T0)).resolves.toBeUndefined();
    } finally {
      await cleanup();
    }
  });
}
