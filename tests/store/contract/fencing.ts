// Fenced claims: every outcome and renewal names its claim, and only the claim that holds the row now may record.
// A claimer whose lease ran out and was taken over must not record over the new owner, nor move the row at all.
import type { Claim, Store } from '../../../src/store/types.js';
import { freshStorePerTest, item, LEASE, oo, ORG, T0, type MakeStore } from './harness.js';

export function fencingContract(make: MakeStore): void {
  describe('fenced claims', () => {
    let store: Store;
    freshStorePerTest(make, (s) => (store = s));

    /** V1 claimed at T0 (claimer A), its lease run out, claimed again (claimer B): both claims. */
    const takenOver = async (): Promise<{ a: Claim; b: Claim }> => {
      await store.ingest([item('V1', 'h1')], T0);
      const [a] = await store.claimDue(ORG, T0, 1, LEASE);
      const [b] = await store.claimDue(ORG, T0 + LEASE, 1, LEASE);
      return { a: a!.claim, b: b!.claim };
    };

    it('hands out a claim naming the row, with a sequence that grows by one per claim', async () => {
      const { a, b } = await takenOver();
      expect(a).toEqual({ organizationId: ORG, visitId: 'V1', revision: 1, claimSeq: 1 });
      expect(b).toEqual({ organizationId: ORG, visitId: 'V1', revision: 1, claimSeq: 2 });
    });

    it.each([
      ['markSent', (s: Store, c: Claim) => s.markSent(c, { encounter: 'Encounter/stale' }, T0 + LEASE + 1)],
      ['markRetry', (s: Store, c: Claim) => s.markRetry(c, T0 + 10 * LEASE, oo('stale timeout'), T0 + LEASE + 1)],
      ['markRetry with refund', (s: Store, c: Claim) => s.markRetry(c, T0 + 10 * LEASE, oo('stale 429'), T0 + LEASE + 1, { refundAttempt: true })],
      ['markFinal', (s: Store, c: Claim) => s.markFinal(c, 'dead-letter', oo('stale'), T0 + LEASE + 1)],
      ['renewLease', (s: Store, c: Claim) => s.renewLease(c, T0 + 10 * LEASE)],
    ] as const)('refuses %s from a claimer whose lease was taken over, and changes nothing', async (_name, act) => {
      const { a, b } = await takenOver();
      const before = await store.getVisit(ORG, 'V1');
      const historyBefore = await store.visitHistory?.(ORG, 'V1');
      expect(await act(store, a)).toBe(false);
      expect(await store.getVisit(ORG, 'V1')).toEqual(before);
      expect(await store.visitHistory?.(ORG, 'V1')).toEqual(historyBefore);
      // The new owner still holds the row and records its own outcome.
      expect(await store.renewLease(b, T0 + 2 * LEASE + 1)).toBe(true);
      expect(await store.markSent(b, { encounter: 'Encounter/e1' }, T0 + LEASE + 2)).toBe(true);
      expect(await store.getVisit(ORG, 'V1')).toMatchObject({ state: 'sent', resourceIds: { encounter: 'Encounter/e1' } });
    });

    it('refuses a stale outcome after the new owner recorded its own: a sent row stays sent', async () => {
      const { a, b } = await takenOver();
      expect(await store.markRetry(b, T0 + 5 * LEASE, oo('503'), T0 + LEASE + 1)).toBe(true);
      // Queued again for a retry: the old claimer's late success must not mark it sent (nor its retry move it).
      expect(await store.markSent(a, { encounter: 'Encounter/stale' }, T0 + LEASE + 2)).toBe(false);
      expect(await store.markRetry(a, T0, oo('stale'), T0 + LEASE + 2)).toBe(false);
      expect(await store.getVisit(ORG, 'V1')).toMatchObject({ state: 'queued', nextAttemptAt: T0 + 5 * LEASE, lastError: oo('503') });
      // A claim that never existed (a later sequence) is refused too.
      expect(await store.markFinal({ ...b, claimSeq: b.claimSeq + 1 }, 'blocked', oo('forged'), T0 + LEASE + 3)).toBe(false);
    });

    it('answers claimedBefore: false on the first claim, true on every later one', async () => {
      await store.ingest([item('V1', 'h1'), item('V2', 'h1')], T0);
      const first = await store.claimDue(ORG, T0, 2, LEASE);
      expect(first.map((r) => [r.visitId, r.claimedBefore])).toEqual([['V1', false], ['V2', false]]);
      // V1: retried; V2: lease ran out (a crash).
      await store.markRetry(first[0]!.claim, T0 + 1, oo('503'), T0 + 1);
      const second = await store.claimDue(ORG, T0 + LEASE, 2, LEASE);
      expect(second.map((r) => [r.visitId, r.claimedBefore, r.claim.claimSeq])).toEqual([['V1', true, 2], ['V2', true, 2]]);
      // After an operator's requeue attempts restart at 0, but the visit was claimed before.
      await store.markFinal(second[0]!.claim, 'dead-letter', oo('gave up'), T0 + LEASE + 1);
      await store.requeue(ORG, 'V1', T0 + LEASE + 2);
      const [requeued] = await store.claimDue(ORG, T0 + LEASE + 2, 1, LEASE);
      expect(requeued).toMatchObject({ visitId: 'V1', attempts: 1, claimedBefore: true, claim: { claimSeq: 3 } });
    });

    it('keeps the claim sequence across revisions: a revision of a visit claimed before was claimed before', async () => {
      await store.ingest([item('V1', 'h1'), item('V2', 'h1')], T0);
      const [v1] = await store.claimDue(ORG, T0, 1, LEASE);
      await store.markSent(v1!.claim, {}, T0 + 1);
      await store.ingest([item('V1', 'h2')], T0 + 2);
      // V2 is revised before it was ever claimed: its first claim is still a first.
      await store.ingest([item('V2', 'h2')], T0 + 2);
      const claims = await store.claimDue(ORG, T0 + 3, 2, LEASE);
      expect(claims.map((r) => [r.visitId, r.revision, r.attempts, r.claim.claimSeq, r.claimedBefore]))
        .toEqual([['V1', 2, 1, 2, true], ['V2', 2, 1, 1, false]]);
    });

    it('a stale claimer does not release a newer revision held for the new owner; the new owner does', async () => {
      const { a, b } = await takenOver();
      await store.ingest([item('V1', 'h2')], T0 + LEASE + 1);
      // Held until B's lease ends: B's attempt on revision 1 still runs.
      expect(await store.getVisit(ORG, 'V1')).toMatchObject({ revision: 2, state: 'queued', nextAttemptAt: T0 + 2 * LEASE });
      expect(await store.markSent(a, {}, T0 + LEASE + 2)).toBe(false);
      expect(await store.renewLease(a, T0 + 5 * LEASE)).toBe(false);
      expect((await store.getVisit(ORG, 'V1'))!.nextAttemptAt).toBe(T0 + 2 * LEASE);
      // B renews while its attempt runs (the newer revision stays held with it), then reports: revision 2 is due now.
      expect(await store.renewLease(b, T0 + 3 * LEASE)).toBe(false);
      expect((await store.getVisit(ORG, 'V1'))!.nextAttemptAt).toBe(T0 + 3 * LEASE);
      expect(await store.markSent(b, {}, T0 + LEASE + 3)).toBe(false);
      expect((await store.getVisit(ORG, 'V1'))!.nextAttemptAt).toBe(T0 + LEASE + 3);
      const [next] = await store.claimDue(ORG, T0 + LEASE + 3, 1, LEASE);
      expect(next).toMatchObject({ revision: 2, claimedBefore: true, claim: { claimSeq: 3 } });
    });

    it('a claim with the right sequence but another revision, visit or organization is not the claim', async () => {
      await store.ingest([item('V1', 'h1'), item('V2', 'h1')], T0);
      const [v1] = await store.claimDue(ORG, T0, 1, LEASE);
      expect(await store.markSent({ ...v1!.claim, revision: 2 }, {}, T0 + 1)).toBe(false);
      expect(await store.markSent({ ...v1!.claim, visitId: 'V2' }, {}, T0 + 1)).toBe(false);
      expect(await store.markSent({ ...v1!.claim, organizationId: '10000005' }, {}, T0 + 1)).toBe(false);
      expect(await store.getVisit(ORG, 'V2')).toMatchObject({ state: 'queued' });
      expect(await store.markSent(v1!.claim, {}, T0 + 1)).toBe(true);
    });

    it('rejects a malformed claim', async () => {
      await store.ingest([item('V1', 'h1')], T0);
      const [v] = await store.claimDue(ORG, T0, 1, LEASE);
      for (const bad of [{ ...v!.claim, claimSeq: 0 }, { ...v!.claim, claimSeq: 1.5 }, { ...v!.claim, revision: 0 }, { ...v!.claim, visitId: '' }, null]) {
        await expect(store.markSent(bad as Claim, {}, T0)).rejects.toThrow(TypeError);
      }
      expect((await store.getVisit(ORG, 'V1'))!.state).toBe('sending');
    });
  });
}
