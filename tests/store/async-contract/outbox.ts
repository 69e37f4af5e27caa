// Outbox, history, counts, ledger, identities, facilities, keys (async Store contract; from the SQLite store tests, with outcomes addressed by their claim).
import type { OperationOutcome } from 'fhir/r4.js';
import type { IngestItem } from '../../../src/store/types.js';
import { freshStore, type MakeStore } from './harness.js';

const ORG = '10000004';
const OTHER = '10000005';
const T0 = 1_750_000_000_000;
const LEASE = 60_000;

const item = (visitId: string, hash: string, org = ORG, record: unknown = { visitId, v: hash }): IngestItem =>
  ({ organizationId: org, visitId, record, contentHash: hash });

const oo = (text: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'value', diagnostics: text, details: { text } }],
});

export function outboxContract(makeStore: MakeStore): void {
  const t = freshStore(makeStore);
  const { claimDue, claimOf } = t;

    describe('ingest', () => {
      it('is idempotent: the same content twice gives one row at revision 1 and no new work', async () => {
        expect(await t.store.ingest([item('V1', 'h1')], T0)).toEqual(['created']);
        const claimed = await claimDue(ORG, T0, 10, LEASE);
        expect(claimed).toHaveLength(1);
        expect(await t.store.markSent(claimOf(ORG, 'V1', 1), { encounter: 'Encounter/e1' }, T0 + 1)).toBe(true);

        expect(await t.store.ingest([item('V1', 'h1')], T0 + 10)).toEqual(['unchanged']);
        const row = (await t.store.getVisit(ORG, 'V1'))!;
        expect(row.revision).toBe(1);
        expect(row.state).toBe('sent');
        expect(row.resourceIds).toEqual({ encounter: 'Encounter/e1' });
        expect((await t.store.counts()).byState).toEqual({ queued: 0, sending: 0, sent: 1, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
        expect(await t.store.facilitiesWithDueWork(T0 + 10_000_000)).toEqual([]);
      });

      it('stores the record and timestamps as accepted', async () => {
        const record = { visitId: 'V1', nested: { list: [1, 'two', null], ok: true } };
        await t.store.ingest([item('V1', 'h1', ORG, record)], T0);
        const row = (await t.store.getVisit(ORG, 'V1'))!;
        expect(row).toEqual({
          organizationId: ORG, visitId: 'V1', revision: 1, contentHash: 'h1', record, state: 'queued', attempts: 0,
          nextAttemptAt: T0, createdAt: T0, updatedAt: T0,
        });
        expect(await t.store.getVisit(ORG, 'nope')).toBeUndefined();
        expect(await t.store.getVisit(OTHER, 'V1')).toBeUndefined();
      });

      it('queues a revision when the content changes, resetting attempts and error', async () => {
        await t.store.ingest([item('V1', 'h1')], T0);
        await claimDue(ORG, T0, 10, LEASE);
        await t.store.markFinal(claimOf(ORG, 'V1', 1), 'needs-correction', oo('bad weight'), T0 + 1);

        expect(await t.store.ingest([item('V1', 'h2', ORG, { changed: true })], T0 + 5)).toEqual(['revised']);
        const row = (await t.store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ revision: 2, contentHash: 'h2', record: { changed: true }, state: 'queued', attempts: 0, nextAttemptAt: T0 + 5, createdAt: T0, updatedAt: T0 + 5 });
        expect(row.lastError).toBeUndefined();
        expect(await t.store.ingest([item('V1', 'h3')], T0 + 6)).toEqual(['revised']);
        expect((await t.store.getVisit(ORG, 'V1'))!.revision).toBe(3);
      });

      it('keys visits by (organization, visit id)', async () => {
        expect(await t.store.ingest([item('V1', 'h1', ORG), item('V1', 'h1', OTHER)], T0)).toEqual(['created', 'created']);
        expect((await t.store.counts(ORG)).byState.queued).toBe(1);
        expect((await t.store.counts(OTHER)).byState.queued).toBe(1);
        expect((await t.store.counts()).byState.queued).toBe(2);
      });

      it('treats repeats inside one batch in order', async () => {
        expect(await t.store.ingest([item('V1', 'h1'), item('V1', 'h1'), item('V1', 'h2')], T0)).toEqual(['created', 'unchanged', 'revised']);
        expect((await t.store.getVisit(ORG, 'V1'))!.revision).toBe(2);
      });

      it('is atomic: a batch with one bad item writes nothing', async () => {
        await t.store.ingest([item('V0', 'h0')], T0);
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
          await expect(t.store.ingest(batch as IngestItem[], T0 + 1)).rejects.toThrow(TypeError);
        }
        expect(await t.store.getVisit(ORG, 'V1')).toBeUndefined();
        expect(await t.store.getVisit(ORG, 'V2')).toBeUndefined();
        expect(await t.store.getVisit(ORG, 'V0')).toMatchObject({ revision: 1, contentHash: 'h0' });
        expect((await t.store.counts()).byState.queued).toBe(1);
        expect(await t.store.visitHistory!(ORG, 'V0')).toHaveLength(1);
      });

      it('rejects a non-array batch and a bad clock value', async () => {
        await expect(t.store.ingest(item('V1', 'h1') as unknown as IngestItem[], T0)).rejects.toThrow(TypeError);
        await expect(t.store.ingest([item('V1', 'h1')], Number.NaN)).rejects.toThrow(TypeError);
        expect(await t.store.getVisit(ORG, 'V1')).toBeUndefined();
      });

      it('does not echo record content in its errors', async () => {
        const secret = { nik: '3171234567890123', name: 'Siti' , bad: 1n };
        try {
          await t.store.ingest([item('V1', 'h1', ORG, secret)], T0);
          throw new Error('expected ingest to throw');
        } catch (e) {
          expect(String((e as Error).message)).not.toMatch(/3171234567890123|Siti/);
        }
      });

      it('accepts an empty batch', async () => {
        expect(await t.store.ingest([], T0)).toEqual([]);
      });
    });

    describe('claiming and leases', () => {
      it('claims due rows oldest first, up to the limit, and sets state sending with a lease', async () => {
        await t.store.ingest([item('A', 'h')], T0 + 2);
        await t.store.ingest([item('B', 'h')], T0);
        await t.store.ingest([item('C', 'h')], T0 + 1);
        await t.store.ingest([item('D', 'h')], T0 + 500); // not due yet at T0+100
        const got = await claimDue(ORG, T0 + 100, 2, LEASE);
        expect(got.map((r) => r.visitId)).toEqual(['B', 'C']);
        for (const r of got) {
          expect(r).toMatchObject({ state: 'sending', attempts: 1, leaseUntil: T0 + 100 + LEASE, updatedAt: T0 + 100 });
          const { claim: _claim, claimedBefore: _before, ...row } = r;
          expect(await t.store.getVisit(ORG, r.visitId)).toEqual(row);
        }
        expect((await claimDue(ORG, T0 + 100, 10, LEASE)).map((r) => r.visitId)).toEqual(['A']);
        expect(await claimDue(ORG, T0 + 100, 10, LEASE)).toEqual([]);
        expect((await t.store.counts(ORG)).byState).toMatchObject({ queued: 1, sending: 3 });
      });

      it('only claims rows of the given facility', async () => {
        await t.store.ingest([item('A', 'h', ORG), item('B', 'h', OTHER)], T0);
        expect((await claimDue(OTHER, T0, 10, LEASE)).map((r) => [r.organizationId, r.visitId])).toEqual([[OTHER, 'B']]);
        expect((await t.store.getVisit(ORG, 'A'))!.state).toBe('queued');
      });

      it('makes an expired lease due again (crash recovery) and counts the attempt', async () => {
        await t.store.ingest([item('A', 'h')], T0);
        expect(await claimDue(ORG, T0, 10, LEASE)).toHaveLength(1);
        expect(await t.store.facilitiesWithDueWork(T0 + LEASE - 1)).toEqual([]);
        expect(await claimDue(ORG, T0 + LEASE - 1, 10, LEASE)).toEqual([]);
        expect(await t.store.facilitiesWithDueWork(T0 + LEASE)).toEqual([ORG]);
        const again = await claimDue(ORG, T0 + LEASE, 10, LEASE);
        expect(again).toHaveLength(1);
        expect(again[0]).toMatchObject({ state: 'sending', attempts: 2, leaseUntil: T0 + 2 * LEASE });
        expect(await t.store.markSent(claimOf(ORG, 'A', 1), {}, T0 + LEASE + 1)).toBe(true);
      });

      it('lists facilities with due work, and only those', async () => {
        expect(await t.store.facilitiesWithDueWork(T0)).toEqual([]);
        await t.store.ingest([item('A', 'h', 'org-b'), item('B', 'h', 'org-a'), item('C', 'h', 'org-c')], T0);
        await t.store.ingest([item('D', 'h', 'org-d')], T0 + 1000);
        expect(await t.store.facilitiesWithDueWork(T0)).toEqual(['org-a', 'org-b', 'org-c']);
        expect(await t.store.facilitiesWithDueWork(T0 + 1000)).toEqual(['org-a', 'org-b', 'org-c', 'org-d']);
        await claimDue('org-b', T0, 10, LEASE);
        await t.store.markSent(claimOf('org-b', 'A', 1), {}, T0);
        await claimDue('org-c', T0, 10, LEASE); // sending with a live lease: not due
        expect(await t.store.facilitiesWithDueWork(T0 + 1000)).toEqual(['org-a', 'org-d']);
        expect(await t.store.facilitiesWithDueWork(T0 + LEASE)).toEqual(['org-a', 'org-c', 'org-d']);
      });

      it('renews the lease of a claim still in progress: not due meanwhile, due again when the renewed lease ends', async () => {
        await t.store.ingest([item('A', 'h')], T0);
        const [claimed] = await claimDue(ORG, T0, 1, LEASE);
        expect(await t.store.renewLease(claimed!.claim, T0 + 2 * LEASE)).toBe(true);
        expect(await t.store.getVisit(ORG, 'A')).toMatchObject({ state: 'sending', attempts: 1, leaseUntil: T0 + 2 * LEASE });
        // The first lease has ended but the renewed one holds: nobody else may claim the row.
        expect(await t.store.facilitiesWithDueWork(T0 + LEASE)).toEqual([]);
        expect(await claimDue(ORG, T0 + LEASE, 10, LEASE)).toEqual([]);
        expect(await claimDue(ORG, T0 + 2 * LEASE - 1, 10, LEASE)).toEqual([]);
        expect(await claimDue(ORG, T0 + 2 * LEASE, 10, LEASE)).toHaveLength(1);
      });

      it('does not renew a claim that is no longer ours: taken over, recorded, a newer revision, or unknown', async () => {
        await t.store.ingest([item('A', 'h'), item('B', 'h'), item('C', 'h')], T0);
        const [firstA] = await claimDue(ORG, T0, 3, LEASE);
        // A: the lease ran out and another runner claimed it (claim 2); the first claimer's renewal must fail.
        expect((await claimDue(ORG, T0 + LEASE, 10, LEASE)).map((r) => r.visitId)).toEqual(['A', 'B', 'C']);
        expect(await t.store.renewLease(firstA!.claim, T0 + 3 * LEASE)).toBe(false);
        expect((await t.store.getVisit(ORG, 'A'))!.leaseUntil).toBe(T0 + 2 * LEASE);
        expect(await t.store.renewLease(claimOf(ORG, 'A', 1), T0 + 3 * LEASE)).toBe(true);
        // B: the outcome is recorded (sent): the renewal must not put a lease back on it.
        expect(await t.store.markSent(claimOf(ORG, 'B', 1), {}, T0 + LEASE + 1)).toBe(true);
        expect(await t.store.renewLease(claimOf(ORG, 'B', 1), T0 + 3 * LEASE)).toBe(false);
        expect(await t.store.getVisit(ORG, 'B')).toMatchObject({ state: 'sent' });
        expect((await t.store.getVisit(ORG, 'B'))!.leaseUntil).toBeUndefined();
        // C: a newer revision arrived meanwhile (queued, held back until the running attempt's lease ends). Renewing
        // revision 1 fails, but the attempt still runs: revision 2 stays held (never two attempts at once) until then.
        await t.store.ingest([item('C', 'h2')], T0 + LEASE + 2);
        expect(await t.store.getVisit(ORG, 'C')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 2 * LEASE });
        expect(await t.store.renewLease(claimOf(ORG, 'C', 1), T0 + 3 * LEASE)).toBe(false);
        expect(await t.store.getVisit(ORG, 'C')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 3 * LEASE });
        expect(await claimDue(ORG, T0 + 2 * LEASE, 10, LEASE)).toEqual([]); // A renewed by its new claimer; C held
        // The old attempt reports: revision 2 is due at once.
        expect(await t.store.markSent(claimOf(ORG, 'C', 1), {}, T0 + 2 * LEASE + 5)).toBe(false);
        expect((await t.store.getVisit(ORG, 'C'))!.nextAttemptAt).toBe(T0 + 2 * LEASE + 5);
        expect(await t.store.renewLease(claimOf(ORG, 'C', 2), T0 + 3 * LEASE)).toBe(false); // queued, not sending
        expect(await t.store.renewLease(claimOf(ORG, 'nope', 1), T0 + 3 * LEASE)).toBe(false);
        expect(await t.store.renewLease(claimOf(OTHER, 'A', 1), T0 + 3 * LEASE)).toBe(false);
        await expect(t.store.renewLease(claimOf(ORG, 'A', 1), Number.NaN)).rejects.toThrow(TypeError);
        await expect(t.store.renewLease(claimOf(ORG, 'A', 0), T0)).rejects.toThrow(TypeError);
        await expect(t.store.renewLease({ ...claimOf(ORG, 'A', 1), claimSeq: 0 }, T0)).rejects.toThrow(TypeError);
      });

      it('validates its arguments', async () => {
        await expect(claimDue(ORG, T0, -1, LEASE)).rejects.toThrow(TypeError);
        await expect(claimDue(ORG, T0, 1.5, LEASE)).rejects.toThrow(TypeError);
        await expect(claimDue(ORG, T0, 1, 0)).rejects.toThrow(TypeError);
        expect(await claimDue(ORG, T0, 0, LEASE)).toEqual([]);
      });
    });

    describe('attempt outcomes', () => {
      beforeEach(async () => {
        await t.store.ingest([item('V1', 'h1')], T0);
        await claimDue(ORG, T0, 10, LEASE);
      });

      it('markSent records ids and time and ends the lease', async () => {
        expect(await t.store.markSent(claimOf(ORG, 'V1', 1), { encounter: 'Encounter/e1', 'observation/bw.1': 'Observation/o1' }, T0 + 5)).toBe(true);
        const row = (await t.store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ state: 'sent', sentAt: T0 + 5, updatedAt: T0 + 5, resourceIds: { encounter: 'Encounter/e1', 'observation/bw.1': 'Observation/o1' } });
        expect(row.leaseUntil).toBeUndefined();
        expect(await t.store.facilitiesWithDueWork(T0 + 10 * LEASE)).toEqual([]);
        // A sent row is not sent again, and a stale retry cannot reopen it.
        expect(await t.store.markRetry(claimOf(ORG, 'V1', 1), T0 + 6, oo('late'), T0 + 6)).toBe(false);
        expect(await t.store.markFinal(claimOf(ORG, 'V1', 1), 'dead-letter', oo('late'), T0 + 6)).toBe(false);
        expect((await t.store.getVisit(ORG, 'V1'))!.state).toBe('sent');
      });

      it('markRetry queues the row for later with the error', async () => {
        expect(await t.store.markRetry(claimOf(ORG, 'V1', 1), T0 + 30_000, oo('HTTP 503'), T0 + 5)).toBe(true);
        const row = (await t.store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ state: 'queued', attempts: 1, nextAttemptAt: T0 + 30_000, lastError: oo('HTTP 503') });
        expect(row.leaseUntil).toBeUndefined();
        expect(await claimDue(ORG, T0 + 29_999, 10, LEASE)).toEqual([]);
        expect((await claimDue(ORG, T0 + 30_000, 10, LEASE))[0]).toMatchObject({ attempts: 2 });
        expect(await t.store.markRetry(claimOf(ORG, 'V1', 1), T0, oo('x'), T0 + 30_001)).toBe(true);
        // A second report for the same attempt finds the row queued, not sending: refused.
        expect(await t.store.markRetry(claimOf(ORG, 'V1', 1), T0, oo('x'), T0 + 30_002)).toBe(false);
      });

      it('markFinal parks the row with its outcome; requeue puts it back with attempts reset', async () => {
        expect(await t.store.markFinal(claimOf(ORG, 'V1', 1), 'blocked', oo('no IHS number for the NIK'), T0 + 5)).toBe(true);
        expect(await t.store.getVisit(ORG, 'V1')).toMatchObject({ state: 'blocked', lastError: oo('no IHS number for the NIK') });
        expect(await t.store.facilitiesWithDueWork(T0 + 10 * LEASE)).toEqual([]);
        expect(await t.store.requeue(ORG, 'V1', T0 + 100)).toBe(true);
        const row = (await t.store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ state: 'queued', attempts: 0, nextAttemptAt: T0 + 100, revision: 1 });
        expect(row.lastError).toBeUndefined();
        expect(await claimDue(ORG, T0 + 100, 10, LEASE)).toHaveLength(1);
      });

      it.each(['needs-correction', 'blocked', 'dead-letter'] as const)('requeue works from %s', async (state) => {
        await t.store.markFinal(claimOf(ORG, 'V1', 1), state, oo(state), T0 + 1);
        expect(await t.store.requeue(ORG, 'V1', T0 + 2)).toBe(true);
        expect((await t.store.getVisit(ORG, 'V1'))!.state).toBe('queued');
      });

      it('requeue refuses rows that are queued, sending, sent or unknown', async () => {
        expect(await t.store.requeue(ORG, 'V1', T0 + 1)).toBe(false); // sending
        expect((await t.store.getVisit(ORG, 'V1'))!.state).toBe('sending');
        await t.store.markSent(claimOf(ORG, 'V1', 1), {}, T0 + 2);
        expect(await t.store.requeue(ORG, 'V1', T0 + 3)).toBe(false);
        await t.store.ingest([item('V2', 'h')], T0);
        expect(await t.store.requeue(ORG, 'V2', T0 + 3)).toBe(false);
        expect(await t.store.requeue(ORG, 'nope', T0 + 3)).toBe(false);
      });

      it('rejects a non-final state in markFinal and unknown visits everywhere', async () => {
        await expect(t.store.markFinal(claimOf(ORG, 'V1', 1), 'sent' as 'blocked', oo('x'), T0)).rejects.toThrow(TypeError);
        expect((await t.store.getVisit(ORG, 'V1'))!.state).toBe('sending');
        expect(await t.store.markSent(claimOf(ORG, 'nope', 1), {}, T0)).toBe(false);
        expect(await t.store.markRetry(claimOf(ORG, 'nope', 1), T0, oo('x'), T0)).toBe(false);
        expect(await t.store.markFinal(claimOf(ORG, 'nope', 1), 'blocked', oo('x'), T0)).toBe(false);
        expect(await t.store.markSent(claimOf(OTHER, 'V1', 1), {}, T0)).toBe(false);
        expect(await t.store.getVisit(ORG, 'nope')).toBeUndefined();
      });
    });

    describe('revision race', () => {
      it('an old attempt cannot overwrite a newer revision (markSent)', async () => {
        await t.store.ingest([item('V1', 'h1')], T0);
        expect((await claimDue(ORG, T0, 10, LEASE))[0].revision).toBe(1);
        expect(await t.store.ingest([item('V1', 'h2')], T0 + 10)).toEqual(['revised']);
        // While the rev-1 attempt is in flight the new revision is held back, so two attempts never overlap.
        expect(await claimDue(ORG, T0 + 20, 10, LEASE)).toEqual([]);
        expect(await t.store.markSent(claimOf(ORG, 'V1', 1), { encounter: 'Encounter/old' }, T0 + 30)).toBe(false);
        const row = (await t.store.getVisit(ORG, 'V1'))!;
        expect(row).toMatchObject({ revision: 2, contentHash: 'h2', state: 'queued', attempts: 0 });
        expect(row.resourceIds).toBeUndefined();
        expect(row.sentAt).toBeUndefined();
        // The old attempt has reported: the new revision is due at once.
        const next = await claimDue(ORG, T0 + 30, 10, LEASE);
        expect(next.map((r) => [r.visitId, r.revision])).toEqual([['V1', 2]]);
        expect(await t.store.markSent(claimOf(ORG, 'V1', 2), { encounter: 'Encounter/e1' }, T0 + 40)).toBe(true);
      });

      it.each(['retry', 'final'] as const)('an old attempt cannot overwrite a newer revision (%s)', async (kind) => {
        await t.store.ingest([item('V1', 'h1')], T0);
        await claimDue(ORG, T0, 10, LEASE);
        await t.store.ingest([item('V1', 'h2')], T0 + 10);
        const ok = kind === 'retry'
          ? (await t.store.markRetry(claimOf(ORG, 'V1', 1), T0 + 99_999, oo('503'), T0 + 20))
          : (await t.store.markFinal(claimOf(ORG, 'V1', 1), 'needs-correction', oo('rule'), T0 + 20));
        expect(ok).toBe(false);
        expect(await t.store.getVisit(ORG, 'V1')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 20 });
        expect((await t.store.getVisit(ORG, 'V1'))!.lastError).toBeUndefined();
      });

      it('a held revision becomes due when the old lease expires even if the old attempt never reports', async () => {
        await t.store.ingest([item('V1', 'h1')], T0);
        await claimDue(ORG, T0, 10, LEASE);
        await t.store.ingest([item('V1', 'h2')], T0 + 10);
        expect((await t.store.getVisit(ORG, 'V1'))!.nextAttemptAt).toBe(T0 + LEASE);
        expect((await claimDue(ORG, T0 + LEASE, 10, LEASE)).map((r) => r.revision)).toEqual([2]);
      });

      it('a revision of a row whose lease already expired is due at once', async () => {
        await t.store.ingest([item('V1', 'h1')], T0);
        await claimDue(ORG, T0, 10, LEASE);
        await t.store.ingest([item('V1', 'h2')], T0 + LEASE + 5);
        expect((await t.store.getVisit(ORG, 'V1'))!.nextAttemptAt).toBe(T0 + LEASE + 5);
      });

      it('a stale retry from an expired lease is fenced off: the claim that took over records the success', async () => {
        await t.store.ingest([item('V1', 'h1')], T0);
        const [a] = await claimDue(ORG, T0, 10, LEASE); // worker A
        const [b] = await claimDue(ORG, T0 + LEASE, 10, LEASE); // lease expired, worker B
        expect(await t.store.markRetry(a!.claim, T0 + 5 * LEASE, oo('timeout'), T0 + LEASE + 1)).toBe(false); // A reports late
        expect(await t.store.getVisit(ORG, 'V1')).toMatchObject({ state: 'sending', attempts: 2, leaseUntil: T0 + 2 * LEASE });
        expect(await t.store.markSent(b!.claim, { encounter: 'Encounter/e1' }, T0 + LEASE + 2)).toBe(true); // B succeeded
        expect(await t.store.getVisit(ORG, 'V1')).toMatchObject({ state: 'sent', resourceIds: { encounter: 'Encounter/e1' } });
      });
    });

    describe('history', () => {
      it('records every state change with revision, attempts and an error summary', async () => {
        await t.store.ingest([item('V1', 'h1')], T0);
        await claimDue(ORG, T0 + 1, 10, LEASE);
        await t.store.markRetry(claimOf(ORG, 'V1', 1), T0 + 2, oo('HTTP 503 from platform'), T0 + 2);
        await claimDue(ORG, T0 + 3, 10, LEASE);
        await t.store.markFinal(claimOf(ORG, 'V1', 1), 'needs-correction', oo('Wrong organization ID (RuleNumber: 10117)'), T0 + 4);
        await t.store.ingest([item('V1', 'h2')], T0 + 5);
        expect(await t.store.visitHistory!(ORG, 'V1')).toEqual([
          { revision: 1, toState: 'queued', at: T0, attempts: 0 },
          { revision: 1, fromState: 'queued', toState: 'sending', at: T0 + 1, attempts: 1 },
          { revision: 1, fromState: 'sending', toState: 'queued', at: T0 + 2, attempts: 1, error: 'error/value: HTTP 503 from platform' },
          { revision: 1, fromState: 'queued', toState: 'sending', at: T0 + 3, attempts: 2 },
          { revision: 1, fromState: 'sending', toState: 'needs-correction', at: T0 + 4, attempts: 2, error: 'error/value: Wrong organization ID (RuleNumber: 10117)' },
          { revision: 2, fromState: 'needs-correction', toState: 'queued', at: T0 + 5, attempts: 0 },
        ]);
        expect(await t.store.visitHistory!(ORG, 'nope')).toEqual([]);
      });

      it('keeps only the latest events per visit', async () => {
        const other = await makeStore({ historyPerVisit: 5 });
        const small = other.store;
        try {
          for (let i = 1; i <= 12; i++) (await small.ingest([item('V1', `h${i}`)], T0 + i));
          const h = await small.visitHistory!(ORG, 'V1');
          expect(h).toHaveLength(5);
          expect(h.map((e) => e.revision)).toEqual([8, 9, 10, 11, 12]);
        } finally {
          await other.cleanup();
        }
      });
    });

    describe('counts', () => {
      it('counts every state, per facility and overall, with zeros', async () => {
        await t.store.ingest(['a', 'b', 'c', 'd', 'e'].map((v) => item(v, 'h')), T0);
        await t.store.ingest([item('x', 'h', OTHER)], T0);
        await claimDue(ORG, T0, 4, LEASE);
        await t.store.markSent(claimOf(ORG, 'a', 1), {}, T0);
        await t.store.markFinal(claimOf(ORG, 'b', 1), 'blocked', oo('b'), T0);
        await t.store.markFinal(claimOf(ORG, 'c', 1), 'dead-letter', oo('c'), T0);
        expect((await t.store.counts(ORG)).byState).toEqual({ queued: 1, sending: 1, sent: 1, 'needs-correction': 0, blocked: 1, 'dead-letter': 1 });
        expect((await t.store.counts(OTHER)).byState).toEqual({ queued: 1, sending: 0, sent: 0, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
        expect((await t.store.counts('unknown')).byState).toEqual({ queued: 0, sending: 0, sent: 0, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
        expect((await t.store.counts()).byState.queued).toBe(2);
      });
    });

    describe('ledger, identities, facilities, api keys', () => {
      it('round-trips and upserts ledger entries', async () => {
        expect(await t.store.getLedger(ORG, 'visit/V1/encounter')).toBeUndefined();
        const e1 = { organizationId: ORG, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: 'e-1', contentHash: 'c1', updatedAt: T0 };
        const e2 = { organizationId: ORG, localKey: 'visit/V1/observation/body-weight.1', resourceType: 'Observation', satusehatId: 'o-1', contentHash: 'c2', updatedAt: T0 };
        await t.store.putLedger([e1, e2]);
        expect(await t.store.getLedger(ORG, e1.localKey)).toEqual(e1);
        expect(await t.store.getLedger(ORG, e2.localKey)).toEqual(e2);
        expect(await t.store.getLedger(OTHER, e1.localKey)).toBeUndefined();
        await t.store.putLedger([{ ...e1, contentHash: 'c1b', updatedAt: T0 + 1 }]);
        expect(await t.store.getLedger(ORG, e1.localKey)).toEqual({ ...e1, contentHash: 'c1b', updatedAt: T0 + 1 });
        await t.store.putLedger([]);
      });

      it('writes a ledger batch atomically', async () => {
        const good = { organizationId: ORG, localKey: 'k1', resourceType: 'Encounter', satusehatId: 'e', contentHash: 'c', updatedAt: T0 };
        const bad = { ...good, localKey: 'k2', satusehatId: null as unknown as string };
        await expect(t.store.putLedger([good, bad])).rejects.toThrow();
        expect(await t.store.getLedger(ORG, 'k1')).toBeUndefined();
      });

      it('round-trips identities by kind, facility and key hash', async () => {
        const p = { kind: 'patient' as const, organizationId: ORG, keyHash: 'hmac-1', satusehatId: 'P0001', updatedAt: T0 };
        await t.store.putIdentity(p);
        expect(await t.store.getIdentity('patient', ORG, 'hmac-1')).toEqual(p);
        expect(await t.store.getIdentity('practitioner', ORG, 'hmac-1')).toBeUndefined();
        expect(await t.store.getIdentity('patient', OTHER, 'hmac-1')).toBeUndefined();
        await t.store.putIdentity({ ...p, satusehatId: 'P0002', updatedAt: T0 + 1 });
        expect(await t.store.getIdentity('patient', ORG, 'hmac-1')).toMatchObject({ satusehatId: 'P0002', updatedAt: T0 + 1 });
        await expect(t.store.putIdentity({ ...p, kind: 'doctor' as 'patient' })).rejects.toThrow();
      });

      it('round-trips facility state, clearing optional fields', async () => {
        expect(await t.store.getFacilityState(ORG)).toBeUndefined();
        await t.store.putFacilityState({ organizationId: ORG, status: 'auth-failed', reason: 'invalid_client', notBefore: T0 + 60_000, updatedAt: T0 });
        expect(await t.store.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'auth-failed', reason: 'invalid_client', notBefore: T0 + 60_000, updatedAt: T0 });
        await t.store.putFacilityState({ organizationId: ORG, status: 'active', updatedAt: T0 + 1 });
        expect(await t.store.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'active', updatedAt: T0 + 1 });
        await expect(t.store.putFacilityState({ organizationId: ORG, status: 'sleeping' as 'active', updatedAt: T0 })).rejects.toThrow();
      });

      it('round-trips api keys and enforces admin/facility shape', async () => {
        await t.store.putApiKey({ keyHash: 'k-admin', organizationId: null, role: 'admin', label: 'ops' });
        await t.store.putApiKey({ keyHash: 'k-fac', organizationId: ORG, role: 'facility' });
        expect(await t.store.findApiKey('k-admin')).toEqual({ keyHash: 'k-admin', organizationId: null, role: 'admin', label: 'ops', source: 'cli' });
        expect(await t.store.findApiKey('k-fac')).toEqual({ keyHash: 'k-fac', organizationId: ORG, role: 'facility', source: 'cli' });
        expect(await t.store.findApiKey('nope')).toBeUndefined();
        await expect(t.store.putApiKey({ keyHash: 'k2', organizationId: null, role: 'facility' })).rejects.toThrow();
        await expect(t.store.putApiKey({ keyHash: 'k3', organizationId: ORG, role: 'admin' })).rejects.toThrow();
        expect(await t.store.findApiKey('k2')).toBeUndefined();
      });
    });
}
