// The outbox part of the Store contract: ingest, claims and leases, outcomes, the revision race, history and counts.
import type { Claim, IngestItem, Store } from '../../../src/store/types.js';
import type { OperationOutcome } from 'fhir/r4.js';
import { freshStorePerTest, item, LEASE, oo, ORG, OTHER, T0, type MakeStore } from './harness.js';

export function outboxContract(make: MakeStore): void {
  describe('outbox, ledger, identities, facilities, keys', () => {
    let store: Store;
    freshStorePerTest(make, (s) => (store = s));

    describe('ingest', () => {
      it('is idempotent: the same content twice gives one row at revision 1 and no new work', async () => {
        expect(await store.ingest([item('V1', 'h1')], T0)).toEqual(['created']);
        const claimed = await store.claimDue(ORG, T0, 10, LEASE);
        expect(claimed).toHaveLength(1);
        expect(await store.markSent(claimed[0]!.claim, { encounter: 'Encounter/e1' }, T0 + 1)).toBe(true);

        expect(await store.ingest([item('V1', 'h1')], T0 + 10)).toEqual(['unchanged']);
        const row = (await store.getVisit(ORG, 'V1'))!;
        expect(row.revision).toBe(1);
        expect(row.state).toBe('sent');
        expect(row.resourceIds).toEqual({ encounter: 'Encounter/e1' });
        expect((await store.counts()).byState).toEqual({ queued: 0, sending: 0, sent: 1, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
        expect(await store.facilitiesWithDueWork(T0 + 10_000_000)).toEqual([]);
      });

      it('stores the record and timestamps as accepted', async () => {
        const record = { visitId: 'V1', nested: { list: [1, 'two', null], ok: true } };
        await store.ingest([item('V1', 'h1', ORG, record)], T0);
        const row = (await store.getVisit(ORG, 'V1'))!;
        expect(row).toEqual({
          organizationId: ORG, visitId: 'V1', revision: 1, contentHash: 'h1', record, state: 'queued', attempts: 0,
          nextAttemptAt: T0, createdAt: T0, updatedAt: T0,
        });
        expect(await store.getVisit(ORG, 'nope')).toBeUndefined();
        expect(await store.getVisit(OTHER, 'V1')).toBeUndefined();
      });

      it('queues a revision when the content changes, resetting attempts and error', async () => {
        await store.ingest([item('V1', 'h1')], T0);
        const [c] = await store.claimDue(ORG, T0, 10, LEASE);
        await store.markFinal(c!.claim, 'needs-correction', oo('bad weight'), T0 + 1);

        expect(await store.ingest([item('V1', 'h2', ORG, { changed: true })], T0 + 5)).toEqual(['revised']);
        const row = (await store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ revision: 2, contentHash: 'h2', record: { changed: true }, state: 'queued', attempts: 0, nextAttemptAt: T0 + 5, createdAt: T0, updatedAt: T0 + 5 });
        expect(row.lastError).toBeUndefined();
        expect(await store.ingest([item('V1', 'h3')], T0 + 6)).toEqual(['revised']);
        expect((await store.getVisit(ORG, 'V1'))!.revision).toBe(3);
      });

      it('keys visits by (organization, visit id)', async () => {
        expect(await store.ingest([item('V1', 'h1', ORG), item('V1', 'h1', OTHER)], T0)).toEqual(['created', 'created']);
        expect((await store.counts(ORG)).byState.queued).toBe(1);
        expect((await store.counts(OTHER)).byState.queued).toBe(1);
        expect((await store.counts()).byState.queued).toBe(2);
      });

      it('treats repeats inside one batch in order', async () => {
        expect(await store.ingest([item('V1', 'h1'), item('V1', 'h1'), item('V1', 'h2')], T0)).toEqual(['created', 'unchanged', 'revised']);
        expect((await store.getVisit(ORG, 'V1'))!.revision).toBe(2);
      });

      it('is atomic: a batch with one bad item writes nothing', async () => {
        await store.ingest([item('V0', 'h0')], T0);
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        const bad: unknown[] = [
          [item('V1', 'h1'), item('V0', 'changed'), item('V2', 'h2', ORG, circular)],
          [item('V1', 'h1'), { organizationId: ORG, visitId: 'V2', contentHash: 'h2', record: undefined }],
          [item('V1', 'h1'), { organizationId: ORG, visitId: 'V2', contentHash: 'h2', record: () => 1 }],
          [item('V1', 'h1'), item('V2', 'h2', ORG, { n: 10n })],
          [item('V1', 'h1'), { ...item('V2', 'h2'), organizationId: '' }],
          [item('V1', 'h1'), { ...item('V2', 'h2'), visitId: 42 }],
          [item('V1', 'h1'), { ...item('V2', 'h2'), contentHash: undefined }],
          [item('V1', 'h1'), null],
        ];
        for (const batch of bad) {
          await expect(store.ingest(batch as IngestItem[], T0 + 1)).rejects.toThrow(TypeError);
        }
        expect(await store.getVisit(ORG, 'V1')).toBeUndefined();
        expect(await store.getVisit(ORG, 'V2')).toBeUndefined();
        expect(await store.getVisit(ORG, 'V0')).toMatchObject({ revision: 1, contentHash: 'h0' });
        expect((await store.counts()).byState.queued).toBe(1);
        expect(await store.visitHistory!(ORG, 'V0')).toHaveLength(1);
      });

      it('rejects a non-array batch and a bad clock value', async () => {
        await expect(store.ingest(item('V1', 'h1') as unknown as IngestItem[], T0)).rejects.toThrow(TypeError);
        await expect(store.ingest([item('V1', 'h1')], Number.NaN)).rejects.toThrow(TypeError);
        expect(await store.getVisit(ORG, 'V1')).toBeUndefined();
      });

      it('does not echo record content in its errors', async () => {
        const secret = { nik: '3171234567890123', name: 'Siti' , bad: 1n };
        try {
          await store.ingest([item('V1', 'h1', ORG, secret)], T0);
          throw new Error('expected ingest to throw');
        } catch (e) {
          expect(String((e as Error).message)).not.toMatch(/3171234567890123|Siti/);
        }
      });

      it('accepts an empty batch', async () => {
        expect(await store.ingest([], T0)).toEqual([]);
      });
    });

    describe('claiming and leases', () => {
      it('claims due rows oldest first, up to the limit, and sets state sending with a lease', async () => {
        await store.ingest([item('A', 'h')], T0 + 2);
        await store.ingest([item('B', 'h')], T0);
        await store.ingest([item('C', 'h')], T0 + 1);
        await store.ingest([item('D', 'h')], T0 + 500); // not due yet at T0+100
        const got = await store.claimDue(ORG, T0 + 100, 2, LEASE);
        expect(got.map((r) => r.visitId)).toEqual(['B', 'C']);
        for (const r of got) {
          expect(r).toMatchObject({ state: 'sending', attempts: 1, leaseUntil: T0 + 100 + LEASE, updatedAt: T0 + 100 });
          const { claim, claimedBefore, ...row } = r;
          expect(await store.getVisit(ORG, r.visitId)).toEqual(row);
          expect({ claim, claimedBefore }).toEqual({ claim: { organizationId: ORG, visitId: r.visitId, revision: 1, claimSeq: 1 }, claimedBefore: false });
        }
        expect((await store.claimDue(ORG, T0 + 100, 10, LEASE)).map((r) => r.visitId)).toEqual(['A']);
        expect(await store.claimDue(ORG, T0 + 100, 10, LEASE)).toEqual([]);
        expect((await store.counts(ORG)).byState).toMatchObject({ queued: 1, sending: 3 });
      });

      it('only claims rows of the given facility', async () => {
        await store.ingest([item('A', 'h', ORG), item('B', 'h', OTHER)], T0);
        expect((await store.claimDue(OTHER, T0, 10, LEASE)).map((r) => [r.organizationId, r.visitId])).toEqual([[OTHER, 'B']]);
        expect((await store.getVisit(ORG, 'A'))!.state).toBe('queued');
      });

      it('makes an expired lease due again (crash recovery) and counts the attempt', async () => {
        await store.ingest([item('A', 'h')], T0);
        expect(await store.claimDue(ORG, T0, 10, LEASE)).toHaveLength(1);
        expect(await store.facilitiesWithDueWork(T0 + LEASE - 1)).toEqual([]);
        expect(await store.claimDue(ORG, T0 + LEASE - 1, 10, LEASE)).toEqual([]);
        expect(await store.facilitiesWithDueWork(T0 + LEASE)).toEqual([ORG]);
        const again = await store.claimDue(ORG, T0 + LEASE, 10, LEASE);
        expect(again).toHaveLength(1);
        expect(again[0]).toMatchObject({ state: 'sending', attempts: 2, leaseUntil: T0 + 2 * LEASE });
        expect(await store.markSent(again[0]!.claim, {}, T0 + LEASE + 1)).toBe(true);
      });

      it('lists facilities with due work, and only those', async () => {
        expect(await store.facilitiesWithDueWork(T0)).toEqual([]);
        await store.ingest([item('A', 'h', 'org-b'), item('B', 'h', 'org-a'), item('C', 'h', 'org-c')], T0);
        await store.ingest([item('D', 'h', 'org-d')], T0 + 1000);
        expect(await store.facilitiesWithDueWork(T0)).toEqual(['org-a', 'org-b', 'org-c']);
        expect(await store.facilitiesWithDueWork(T0 + 1000)).toEqual(['org-a', 'org-b', 'org-c', 'org-d']);
        const [b] = await store.claimDue('org-b', T0, 10, LEASE);
        await store.markSent(b!.claim, {}, T0);
        await store.claimDue('org-c', T0, 10, LEASE); // sending with a live lease: not due
        expect(await store.facilitiesWithDueWork(T0 + 1000)).toEqual(['org-a', 'org-d']);
        expect(await store.facilitiesWithDueWork(T0 + LEASE)).toEqual(['org-a', 'org-c', 'org-d']);
      });

      it('renews the lease of a claim still in progress: not due meanwhile, due again when the renewed lease ends', async () => {
        await store.ingest([item('A', 'h')], T0);
        const [claimed] = await store.claimDue(ORG, T0, 1, LEASE);
        expect(await store.renewLease(claimed!.claim, T0 + 2 * LEASE)).toBe(true);
        expect(await store.getVisit(ORG, 'A')).toMatchObject({ state: 'sending', attempts: 1, leaseUntil: T0 + 2 * LEASE });
        // The first lease has ended but the renewed one holds: nobody else may claim the row.
        expect(await store.facilitiesWithDueWork(T0 + LEASE)).toEqual([]);
        expect(await store.claimDue(ORG, T0 + LEASE, 10, LEASE)).toEqual([]);
        expect(await store.claimDue(ORG, T0 + 2 * LEASE - 1, 10, LEASE)).toEqual([]);
        expect(await store.claimDue(ORG, T0 + 2 * LEASE, 10, LEASE)).toHaveLength(1);
      });

      it('does not renew a claim that is no longer ours: taken over, recorded, a newer revision, or unknown', async () => {
        await store.ingest([item('A', 'h'), item('B', 'h'), item('C', 'h')], T0);
        const first = new Map((await store.claimDue(ORG, T0, 3, LEASE)).map((r) => [r.visitId, r.claim]));
        // A: the lease ran out and another runner claimed it (attempt 2); the first claimer's renewal must fail.
        const second = await store.claimDue(ORG, T0 + LEASE, 10, LEASE);
        expect(second.map((r) => r.visitId)).toEqual(['A', 'B', 'C']);
        const now = new Map(second.map((r) => [r.visitId, r.claim]));
        expect(await store.renewLease(first.get('A')!, T0 + 3 * LEASE)).toBe(false);
        expect((await store.getVisit(ORG, 'A'))!.leaseUntil).toBe(T0 + 2 * LEASE);
        expect(await store.renewLease(now.get('A')!, T0 + 3 * LEASE)).toBe(true);
        // B: the outcome is recorded (sent): the renewal must not put a lease back on it.
        expect(await store.markSent(now.get('B')!, {}, T0 + LEASE + 1)).toBe(true);
        expect(await store.renewLease(now.get('B')!, T0 + 3 * LEASE)).toBe(false);
        expect(await store.getVisit(ORG, 'B')).toMatchObject({ state: 'sent' });
        expect((await store.getVisit(ORG, 'B'))!.leaseUntil).toBeUndefined();
        // C: a newer revision arrived meanwhile (queued, held back until the running attempt's lease ends). Renewing
        // revision 1 fails, but the attempt still runs: revision 2 stays held (never two attempts at once) until then.
        await store.ingest([item('C', 'h2')], T0 + LEASE + 2);
        expect(await store.getVisit(ORG, 'C')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 2 * LEASE });
        expect(await store.renewLease(now.get('C')!, T0 + 3 * LEASE)).toBe(false);
        expect(await store.getVisit(ORG, 'C')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 3 * LEASE });
        expect(await store.claimDue(ORG, T0 + 2 * LEASE, 10, LEASE)).toEqual([]); // A renewed by its new claimer; C held
        // The old attempt reports: revision 2 is due at once.
        expect(await store.markSent(now.get('C')!, {}, T0 + 2 * LEASE + 5)).toBe(false);
        expect((await store.getVisit(ORG, 'C'))!.nextAttemptAt).toBe(T0 + 2 * LEASE + 5);
        expect(await store.renewLease({ ...now.get('C')!, revision: 2 }, T0 + 3 * LEASE)).toBe(false); // queued, not sending
        expect(await store.renewLease({ ...now.get('A')!, visitId: 'nope' }, T0 + 3 * LEASE)).toBe(false);
        expect(await store.renewLease({ ...now.get('A')!, organizationId: OTHER }, T0 + 3 * LEASE)).toBe(false);
        await expect(store.renewLease(now.get('A')!, Number.NaN)).rejects.toThrow(TypeError);
        await expect(store.renewLease({ ...now.get('A')!, revision: 0 }, T0)).rejects.toThrow(TypeError);
        await expect(store.renewLease({ ...now.get('A')!, claimSeq: 0 }, T0)).rejects.toThrow(TypeError);
      });

      it('validates its arguments', async () => {
        await expect(store.claimDue(ORG, T0, -1, LEASE)).rejects.toThrow(TypeError);
        await expect(store.claimDue(ORG, T0, 1.5, LEASE)).rejects.toThrow(TypeError);
        await expect(store.claimDue(ORG, T0, 1, 0)).rejects.toThrow(TypeError);
        expect(await store.claimDue(ORG, T0, 0, LEASE)).toEqual([]);
      });
    });

    describe('attempt outcomes', () => {
      let claim: Claim;
      beforeEach(async () => {
        await store.ingest([item('V1', 'h1')], T0);
        [{ claim }] = await store.claimDue(ORG, T0, 10, LEASE);
      });

      it('markSent records ids and time and ends the lease', async () => {
        expect(await store.markSent(claim, { encounter: 'Encounter/e1', 'observation/bw.1': 'Observation/o1' }, T0 + 5)).toBe(true);
        const row = (await store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ state: 'sent', sentAt: T0 + 5, updatedAt: T0 + 5, resourceIds: { encounter: 'Encounter/e1', 'observation/bw.1': 'Observation/o1' } });
        expect(row.leaseUntil).toBeUndefined();
        expect(await store.facilitiesWithDueWork(T0 + 10 * LEASE)).toEqual([]);
        // A sent row is not sent again, and a stale retry cannot reopen it.
        expect(await store.markRetry(claim, T0 + 6, oo('late'), T0 + 6)).toBe(false);
        expect(await store.markFinal(claim, 'dead-letter', oo('late'), T0 + 6)).toBe(false);
        expect((await store.getVisit(ORG, 'V1'))!.state).toBe('sent');
      });

      it('markRetry queues the row for later with the error', async () => {
        expect(await store.markRetry(claim, T0 + 30_000, oo('HTTP 503'), T0 + 5)).toBe(true);
        const row = (await store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ state: 'queued', attempts: 1, nextAttemptAt: T0 + 30_000, lastError: oo('HTTP 503') });
        expect(row.leaseUntil).toBeUndefined();
        expect(await store.claimDue(ORG, T0 + 29_999, 10, LEASE)).toEqual([]);
        const [again] = await store.claimDue(ORG, T0 + 30_000, 10, LEASE);
        expect(again).toMatchObject({ attempts: 2 });
        expect(await store.markRetry(again!.claim, T0, oo('x'), T0 + 30_001)).toBe(true);
        // A second report for the same attempt finds the row queued, not sending: refused.
        expect(await store.markRetry(again!.claim, T0, oo('x'), T0 + 30_002)).toBe(false);
      });

      it('markFinal parks the row with its outcome; requeue puts it back with attempts reset', async () => {
        expect(await store.markFinal(claim, 'blocked', oo('no IHS number for the NIK'), T0 + 5)).toBe(true);
        expect(await store.getVisit(ORG, 'V1')).toMatchObject({ state: 'blocked', lastError: oo('no IHS number for the NIK') });
        expect(await store.facilitiesWithDueWork(T0 + 10 * LEASE)).toEqual([]);
        expect(await store.requeue(ORG, 'V1', T0 + 100)).toBe(true);
        const row = (await store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ state: 'queued', attempts: 0, nextAttemptAt: T0 + 100, revision: 1 });
        expect(row.lastError).toBeUndefined();
        expect(await store.claimDue(ORG, T0 + 100, 10, LEASE)).toHaveLength(1);
      });

      it.each(['needs-correction', 'blocked', 'dead-letter'] as const)('requeue works from %s', async (state) => {
        await store.markFinal(claim, state, oo(state), T0 + 1);
        expect(await store.requeue(ORG, 'V1', T0 + 2)).toBe(true);
        expect((await store.getVisit(ORG, 'V1'))!.state).toBe('queued');
      });

      it('requeue refuses rows that are queued, sending, sent or unknown', async () => {
        expect(await store.requeue(ORG, 'V1', T0 + 1)).toBe(false); // sending
        expect((await store.getVisit(ORG, 'V1'))!.state).toBe('sending');
        await store.markSent(claim, {}, T0 + 2);
        expect(await store.requeue(ORG, 'V1', T0 + 3)).toBe(false);
        await store.ingest([item('V2', 'h')], T0);
        expect(await store.requeue(ORG, 'V2', T0 + 3)).toBe(false);
        expect(await store.requeue(ORG, 'nope', T0 + 3)).toBe(false);
      });

      it('rejects a non-final state in markFinal and unknown visits everywhere', async () => {
        await expect(store.markFinal(claim, 'sent' as 'blocked', oo('x'), T0)).rejects.toThrow(TypeError);
        expect((await store.getVisit(ORG, 'V1'))!.state).toBe('sending');
        expect(await store.markSent({ ...claim, visitId: 'nope' }, {}, T0)).toBe(false);
        expect(await store.markRetry({ ...claim, visitId: 'nope' }, T0, oo('x'), T0)).toBe(false);
        expect(await store.markFinal({ ...claim, visitId: 'nope' }, 'blocked', oo('x'), T0)).toBe(false);
        expect(await store.markSent({ ...claim, organizationId: OTHER }, {}, T0)).toBe(false);
        expect(await store.getVisit(ORG, 'nope')).toBeUndefined();
      });
    });

    describe('revision race', () => {
      it('an old attempt cannot overwrite a newer revision (markSent)', async () => {
        await store.ingest([item('V1', 'h1')], T0);
        const [old] = await store.claimDue(ORG, T0, 10, LEASE);
        expect(old!.revision).toBe(1);
        expect(await store.ingest([item('V1', 'h2')], T0 + 10)).toEqual(['revised']);
        // While the rev-1 attempt is in flight the new revision is held back, so two attempts never overlap.
        expect(await store.claimDue(ORG, T0 + 20, 10, LEASE)).toEqual([]);
        expect(await store.markSent(old!.claim, { encounter: 'Encounter/old' }, T0 + 30)).toBe(false);
        const row = (await store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ revision: 2, contentHash: 'h2', state: 'queued', attempts: 0 });
        expect(row.resourceIds).toBeUndefined();
        expect(row.sentAt).toBeUndefined();
        // The old attempt has reported: the new revision is due at once.
        const next = await store.claimDue(ORG, T0 + 30, 10, LEASE);
        expect(next.map((r) => [r.visitId, r.revision])).toEqual([['V1', 2]]);
        expect(await store.markSent(next[0]!.claim, { encounter: 'Encounter/e1' }, T0 + 40)).toBe(true);
      });

      it.each(['retry', 'final'] as const)('an old attempt cannot overwrite a newer revision (%s)', async (kind) => {
        await store.ingest([item('V1', 'h1')], T0);
        const [old] = await store.claimDue(ORG, T0, 10, LEASE);
        await store.ingest([item('V1', 'h2')], T0 + 10);
        const ok = kind === 'retry'
          ? await store.markRetry(old!.claim, T0 + 99_999, oo('503'), T0 + 20)
          : await store.markFinal(old!.claim, 'needs-correction', oo('rule'), T0 + 20);
        expect(ok).toBe(false);
        expect(await store.getVisit(ORG, 'V1')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 20 });
        expect((await store.getVisit(ORG, 'V1'))!.lastError).toBeUndefined();
      });

      it('a held revision becomes due when the old lease expires even if the old attempt never reports', async () => {
        await store.ingest([item('V1', 'h1')], T0);
        await store.claimDue(ORG, T0, 10, LEASE);
        await store.ingest([item('V1', 'h2')], T0 + 10);
        expect((await store.getVisit(ORG, 'V1'))!.nextAttemptAt).toBe(T0 + LEASE);
        expect((await store.claimDue(ORG, T0 + LEASE, 10, LEASE)).map((r) => r.revision)).toEqual([2]);
      });

      it('a revision of a row whose lease already expired is due at once', async () => {
        await store.ingest([item('V1', 'h1')], T0);
        await store.claimDue(ORG, T0, 10, LEASE);
        await store.ingest([item('V1', 'h2')], T0 + LEASE + 5);
        expect((await store.getVisit(ORG, 'V1'))!.nextAttemptAt).toBe(T0 + LEASE + 5);
      });

      it('a stale retry from an expired lease is refused; the new claimer records the outcome', async () => {
        await store.ingest([item('V1', 'h1')], T0);
        const [a] = await store.claimDue(ORG, T0, 10, LEASE); // worker A
        const [b] = await store.claimDue(ORG, T0 + LEASE, 10, LEASE); // lease expired, worker B
        expect(await store.markRetry(a!.claim, T0 + 5 * LEASE, oo('timeout'), T0 + LEASE + 1)).toBe(false); // A reports late: fenced
        // B's attempt keeps the row: still sending, attempt 2, under B's lease.
        expect(await store.getVisit(ORG, 'V1')).toMatchObject({ state: 'sending', attempts: 2, leaseUntil: T0 + 2 * LEASE });
        expect(await store.markSent(b!.claim, { encounter: 'Encounter/e1' }, T0 + LEASE + 2)).toBe(true); // B succeeded
        expect(await store.getVisit(ORG, 'V1')).toMatchObject({ state: 'sent', resourceIds: { encounter: 'Encounter/e1' } });
      });
    });

    describe('history', () => {
      it('records every state change with revision, attempts and an error summary', async () => {
        await store.ingest([item('V1', 'h1')], T0);
        const [first] = await store.claimDue(ORG, T0 + 1, 10, LEASE);
        await store.markRetry(first!.claim, T0 + 2, oo('HTTP 503 from platform'), T0 + 2);
        const [second] = await store.claimDue(ORG, T0 + 3, 10, LEASE);
        await store.markFinal(second!.claim, 'needs-correction', oo('Wrong organization ID (RuleNumber: 10117)'), T0 + 4);
        await store.ingest([item('V1', 'h2')], T0 + 5);
        expect(await store.visitHistory!(ORG, 'V1')).toEqual([
          { revision: 1, toState: 'queued', at: T0, attempts: 0 },
          { revision: 1, fromState: 'queued', toState: 'sending', at: T0 + 1, attempts: 1 },
          { revision: 1, fromState: 'sending', toState: 'queued', at: T0 + 2, attempts: 1, error: 'error/value: HTTP 503 from platform' },
          { revision: 1, fromState: 'queued', toState: 'sending', at: T0 + 3, attempts: 2 },
          { revision: 1, fromState: 'sending', toState: 'needs-correction', at: T0 + 4, attempts: 2, error: 'error/value: Wrong organization ID (RuleNumber: 10117)' },
          { revision: 2, fromState: 'needs-correction', toState: 'queued', at: T0 + 5, attempts: 0 },
        ]);
        expect(await store.visitHistory!(ORG, 'nope')).toEqual([]);
      });

      it('keeps each entry\'s issues with their extensions (catalogue messages), only where one has them', async () => {
        await store.ingest([item('V1', 'h1')], T0);
        const message = { url: 'urn:ilp-adapter:message', extension: [{ url: 'key', valueString: 'sync.practitioner.not-found' }, { url: 'params', valueString: '{}' }] };
        const withMessage: OperationOutcome = { resourceType: 'OperationOutcome', issue: [
          { severity: 'error', code: 'not-found', diagnostics: 'No SATUSEHAT practitioner', extension: [message] },
          { severity: 'warning', code: 'value', diagnostics: 'platform text (RuleNumber: 10117)', details: { text: 'platform text (RuleNumber: 10117)' } },
        ] };
        const [first] = await store.claimDue(ORG, T0 + 1, 10, LEASE);
        await store.markRetry(first!.claim, T0 + 2, withMessage, T0 + 2);
        const [second] = await store.claimDue(ORG, T0 + 3, 10, LEASE);
        await store.markFinal(second!.claim, 'blocked', oo('HTTP 503 from platform'), T0 + 4);
        const errors = (await store.visitHistory!(ORG, 'V1')).filter((e) => e.error !== undefined);
        expect(errors).toEqual([
          {
            revision: 1, fromState: 'sending', toState: 'queued', at: T0 + 2, attempts: 1,
            error: 'error/not-found: No SATUSEHAT practitioner; warning/value: platform text (RuleNumber: 10117)',
            errorIssues: [
              { severity: 'error', code: 'not-found', text: 'No SATUSEHAT practitioner', extension: [message] },
              { severity: 'warning', code: 'value', text: 'platform text (RuleNumber: 10117)' },
            ],
          },
          // No issue with an extension: the English summary is all there is to say.
          { revision: 1, fromState: 'sending', toState: 'blocked', at: T0 + 4, attempts: 2, error: 'error/value: HTTP 503 from platform' },
        ]);
      });

      it('keeps only the latest events per visit', async () => {
        const small = await make({ historyPerVisit: 5 });
        try {
          for (let i = 1; i <= 12; i++) await small.store.ingest([item('V1', `h${i}`)], T0 + i);
          const h = await small.store.visitHistory!(ORG, 'V1');
          expect(h.map((e) => e.revision)).toEqual([8, 9, 10, 11, 12]);
        } finally {
          await small.cleanup();
        }
      });
    });

    describe('counts', () => {
      it('counts every state, per facility and overall, with zeros', async () => {
        await store.ingest(['a', 'b', 'c', 'd', 'e'].map((v) => item(v, 'h')), T0);
        await store.ingest([item('x', 'h', OTHER)], T0);
        const [a, b, c] = await store.claimDue(ORG, T0, 4, LEASE);
        await store.markSent(a!.claim, {}, T0);
        await store.markFinal(b!.claim, 'blocked', oo('b'), T0);
        await store.markFinal(c!.claim, 'dead-letter', oo('c'), T0);
        expect((await store.counts(ORG)).byState).toEqual({ queued: 1, sending: 1, sent: 1, 'needs-correction': 0, blocked: 1, 'dead-letter': 1 });
        expect((await store.counts(OTHER)).byState).toEqual({ queued: 1, sending: 0, sent: 0, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
        expect((await store.counts('unknown')).byState).toEqual({ queued: 0, sending: 0, sent: 0, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
        expect((await store.counts()).byState.queued).toBe(2);
      });
    });

    describe('ledger, identities, facilities, api keys', () => {
      it('round-trips and upserts ledger entries', async () => {
        expect(await store.getLedger(ORG, 'visit/V1/encounter')).toBeUndefined();
        const e1 = { organizationId: ORG, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: 'e-1', contentHash: 'c1', updatedAt: T0 };
        const e2 = { organizationId: ORG, localKey: 'visit/V1/observation/body-weight.1', resourceType: 'Observation', satusehatId: 'o-1', contentHash: 'c2', updatedAt: T0 };
        await store.putLedger([e1, e2]);
        expect(await store.getLedger(ORG, e1.localKey)).toEqual(e1);
        expect(await store.getLedger(ORG, e2.localKey)).toEqual(e2);
        expect(await store.getLedger(OTHER, e1.localKey)).toBeUndefined();
        await store.putLedger([{ ...e1, contentHash: 'c1b', updatedAt: T0 + 1 }]);
        expect(await store.getLedger(ORG, e1.localKey)).toEqual({ ...e1, contentHash: 'c1b', updatedAt: T0 + 1 });
        await store.putLedger([]);
      });

      it('writes a ledger batch atomically', async () => {
        const good = { organizationId: ORG, localKey: 'k1', resourceType: 'Encounter', satusehatId: 'e', contentHash: 'c', updatedAt: T0 };
        const bad = { ...good, localKey: 'k2', satusehatId: null as unknown as string };
        await expect(store.putLedger([good, bad])).rejects.toHaveProperty('message');
        expect(await store.getLedger(ORG, 'k1')).toBeUndefined();
      });

      it('round-trips identities by kind, facility and key hash', async () => {
        const p = { kind: 'patient' as const, organizationId: ORG, keyHash: 'hmac-1', satusehatId: 'P0001', updatedAt: T0 };
        await store.putIdentity(p);
        expect(await store.getIdentity('patient', ORG, 'hmac-1')).toEqual(p);
        expect(await store.getIdentity('practitioner', ORG, 'hmac-1')).toBeUndefined();
        expect(await store.getIdentity('patient', OTHER, 'hmac-1')).toBeUndefined();
        await store.putIdentity({ ...p, satusehatId: 'P0002', updatedAt: T0 + 1 });
        expect(await store.getIdentity('patient', ORG, 'hmac-1')).toMatchObject({ satusehatId: 'P0002', updatedAt: T0 + 1 });
        await expect(store.putIdentity({ ...p, kind: 'doctor' as 'patient' })).rejects.toHaveProperty('message');
      });

      it('round-trips facility state, clearing optional fields', async () => {
        expect(await store.getFacilityState(ORG)).toBeUndefined();
        await store.putFacilityState({ organizationId: ORG, status: 'auth-failed', reason: 'invalid_client', notBefore: T0 + 60_000, updatedAt: T0 });
        expect(await store.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'auth-failed', reason: 'invalid_client', notBefore: T0 + 60_000, updatedAt: T0 });
        // Our reason as a catalogue message too (said in the reader's language), parameters kept as they were.
        const reasonMessage = { key: 'facility.auth.lockout', params: { minutes: 1, code: 'invalid_client' } };
        await store.putFacilityState({ organizationId: ORG, status: 'auth-failed', reason: 'locked out', reasonMessage, updatedAt: T0 + 1 });
        expect(await store.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'auth-failed', reason: 'locked out', reasonMessage, updatedAt: T0 + 1 });
        await store.putFacilityState({ organizationId: ORG, status: 'active', updatedAt: T0 + 1 });
        expect(await store.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'active', updatedAt: T0 + 1 });
        await expect(store.putFacilityState({ organizationId: ORG, status: 'sleeping' as 'active', updatedAt: T0 })).rejects.toHaveProperty('message');
      });

      it('round-trips api keys and enforces admin/facility shape', async () => {
        await store.putApiKey({ keyHash: 'k-admin', organizationId: null, role: 'admin', label: 'ops' });
        await store.putApiKey({ keyHash: 'k-fac', organizationId: ORG, role: 'facility' });
        expect(await store.findApiKey('k-admin')).toEqual({ keyHash: 'k-admin', organizationId: null, role: 'admin', label: 'ops', source: 'cli' });
        expect(await store.findApiKey('k-fac')).toEqual({ keyHash: 'k-fac', organizationId: ORG, role: 'facility', source: 'cli' });
        expect(await store.findApiKey('nope')).toBeUndefined();
        await expect(store.putApiKey({ keyHash: 'k2', organizationId: null, role: 'facility' })).rejects.toHaveProperty('message');
        await expect(store.putApiKey({ keyHash: 'k3', organizationId: ORG, role: 'admin' })).rejects.toHaveProperty('message');
        expect(await store.findApiKey('k2')).toBeUndefined();
      });
    });
  });
}
