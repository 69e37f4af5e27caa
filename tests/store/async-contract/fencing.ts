// Fenced claims: every outcome names the claim it reports on, and only the current claim (same revision, same
// claim_seq, still sending) may record one. claimedBefore is answered by claim_seq, which no revision resets.
import type { OperationOutcome } from 'fhir/r4.js';
import type { IngestItem } from '../../../src/store/types.js';
import { freshStore, type MakeStore } from './harness.js';

const ORG = '10000004';
const T0 = 1_750_000_000_000;
const LEASE = 60_000;
const item = (visitId: string, hash: string): IngestItem => ({ organizationId: ORG, visitId, record: { visitId, v: hash }, contentHash: hash });
const oo = (text: string): OperationOutcome => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: text }] });

export function fencingContract(makeStore: MakeStore): void {
  const t = freshStore(makeStore);

  it('a first claim is claim 1 and not claimedBefore; every later claim counts up and is', async () => {
    await t.store.ingest([item('V1', 'h1')], T0);
    const [first] = await t.store.claimDue(ORG, T0, 10, LEASE);
    expect(first!.claim).toEqual({ organizationId: ORG, visitId: 'V1', revision: 1, claimSeq: 1 });
    expect(first!.claimedBefore).toBe(false);
    expect(await t.store.markRetry(first!.claim, T0 + 10, oo('503'), T0 + 1)).toBe(true);
    const [second] = await t.store.claimDue(ORG, T0 + 10, 10, LEASE);
    expect(second!.claim).toEqual({ organizationId: ORG, visitId: 'V1', revision: 1, claimSeq: 2 });
    expect(second!.claimedBefore).toBe(true);
  });

  it('claim_seq survives revisions and requeues: a revised record claimed again was claimed before', async () => {
    await t.store.ingest([item('V1', 'h1')], T0);
    const [a] = await t.store.claimDue(ORG, T0, 10, LEASE);
    expect(await t.store.markSent(a!.claim, { encounter: 'Encounter/e1' }, T0 + 1)).toBe(true);
    expect(await t.store.ingest([item('V1', 'h2')], T0 + 2)).toEqual(['revised']);
    const [b] = await t.store.claimDue(ORG, T0 + 2, 10, LEASE);
    expect(b).toMatchObject({ revision: 2, attempts: 1, claimedBefore: true, claim: { revision: 2, claimSeq: 2 } });
    expect(await t.store.markFinal(b!.claim, 'dead-letter', oo('rule'), T0 + 3)).toBe(true);
    expect(await t.store.requeue(ORG, 'V1', T0 + 4)).toBe(true);
    const [c] = await t.store.claimDue(ORG, T0 + 4, 10, LEASE);
    expect(c).toMatchObject({ revision: 2, attempts: 1, claimedBefore: true, claim: { claimSeq: 3 } });
  });

  it('a claimer whose lease expired and was re-claimed gets false everywhere and changes nothing', async () => {
    await t.store.ingest([item('V1', 'h1')], T0);
    const [old] = await t.store.claimDue(ORG, T0, 10, LEASE);
    const [current] = await t.store.claimDue(ORG, T0 + LEASE, 10, LEASE);
    expect(current!.claim.claimSeq).toBe(old!.claim.claimSeq + 1);
    const before = await t.store.getVisit(ORG, 'V1');
    const history = await t.store.visitHistory?.(ORG, 'V1');
    expect(await t.store.renewLease(old!.claim, T0 + 5 * LEASE)).toBe(false);
    expect(await t.store.markSent(old!.claim, { encounter: 'Encounter/old' }, T0 + LEASE + 1)).toBe(false);
    expect(await t.store.markRetry(old!.claim, T0 + 9 * LEASE, oo('timeout'), T0 + LEASE + 2)).toBe(false);
    expect(await t.store.markRetry(old!.claim, T0 + 9 * LEASE, oo('429'), T0 + LEASE + 2, { refundAttempt: true })).toBe(false);
    expect(await t.store.markFinal(old!.claim, 'dead-letter', oo('gone'), T0 + LEASE + 3)).toBe(false);
    expect(await t.store.getVisit(ORG, 'V1')).toEqual(before);
    expect(await t.store.visitHistory?.(ORG, 'V1')).toEqual(history);
    // The current claim still owns the row.
    expect(await t.store.renewLease(current!.claim, T0 + 3 * LEASE)).toBe(true);
    expect(await t.store.markSent(current!.claim, { encounter: 'Encounter/new' }, T0 + LEASE + 4)).toBe(true);
    expect(await t.store.getVisit(ORG, 'V1')).toMatchObject({ state: 'sent', resourceIds: { encounter: 'Encounter/new' } });
  });

  it('a claim with the right sequence but another revision, or another visit, is not the claim', async () => {
    await t.store.ingest([item('V1', 'h1'), item('V2', 'h1')], T0);
    const [v1] = await t.store.claimDue(ORG, T0, 1, LEASE);
    expect(await t.store.markSent({ ...v1!.claim, revision: 2 }, {}, T0 + 1)).toBe(false);
    expect(await t.store.markSent({ ...v1!.claim, visitId: 'V2' }, {}, T0 + 1)).toBe(false);
    expect(await t.store.markSent({ ...v1!.claim, organizationId: '10000005' }, {}, T0 + 1)).toBe(false);
    expect(await t.store.getVisit(ORG, 'V2')).toMatchObject({ state: 'queued' });
    expect(await t.store.markSent(v1!.claim, {}, T0 + 1)).toBe(true);
  });

  it('a taken-over claimer reporting on an older revision does not release the revision the new claim holds back', async () => {
    await t.store.ingest([item('V1', 'h1')], T0);
    const [old] = await t.store.claimDue(ORG, T0, 10, LEASE);
    const [current] = await t.store.claimDue(ORG, T0 + LEASE, 10, LEASE);
    await t.store.ingest([item('V1', 'h2')], T0 + LEASE + 1);
    // Held until the running (current) attempt's lease ends.
    expect(await t.store.getVisit(ORG, 'V1')).toMatchObject({ revision: 2, state: 'queued', nextAttemptAt: T0 + 2 * LEASE });
    expect(await t.store.markSent(old!.claim, {}, T0 + LEASE + 2)).toBe(false);
    expect(await t.store.renewLease(old!.claim, T0 + 9 * LEASE)).toBe(false);
    expect(await t.store.getVisit(ORG, 'V1')).toMatchObject({ revision: 2, state: 'queued', nextAttemptAt: T0 + 2 * LEASE });
    expect(await t.store.claimDue(ORG, T0 + LEASE + 3, 10, LEASE)).toEqual([]);
    // The current attempt reports (too late for revision 1): revision 2 is due at once.
    expect(await t.store.markSent(current!.claim, {}, T0 + LEASE + 4)).toBe(false);
    expect(await t.store.getVisit(ORG, 'V1')).toMatchObject({ revision: 2, state: 'queued', nextAttemptAt: T0 + LEASE + 4 });
  });

  it('refuses a malformed claim', async () => {
    await expect(t.store.markSent({ organizationId: ORG, visitId: 'V1', revision: 1, claimSeq: 0 }, {}, T0)).rejects.toThrow(TypeError);
    await expect(t.store.renewLease({ organizationId: ORG, visitId: '', revision: 1, claimSeq: 1 }, T0)).rejects.toThrow(TypeError);
    await expect(t.store.markFinal(undefined as unknown as never, 'blocked', oo('x'), T0)).rejects.toThrow(TypeError);
  });
}
