import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { OperationOutcome } from 'fhir/r4.js';
import { openSqliteStore, StoreSchemaError } from '../../src/store/sqlite.js';
import { latestSchemaVersion, migrations } from '../../src/store/migrations.js';
import type { IngestItem, Store } from '../../src/store/types.js';

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

describe('SQLite store', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore({ file: ':memory:' });
  });
  afterEach(() => store.close());

  describe('ingest', () => {
    it('is idempotent: the same content twice gives one row at revision 1 and no new work', () => {
      expect(store.ingest([item('V1', 'h1')], T0)).toEqual(['created']);
      const claimed = store.claimDue(ORG, T0, 10, LEASE);
      expect(claimed).toHaveLength(1);
      expect(store.markSent(ORG, 'V1', 1, { encounter: 'Encounter/e1' }, T0 + 1)).toBe(true);

      expect(store.ingest([item('V1', 'h1')], T0 + 10)).toEqual(['unchanged']);
      const row = store.getVisit(ORG, 'V1')!;
      expect(row.revision).toBe(1);
      expect(row.state).toBe('sent');
      expect(row.resourceIds).toEqual({ encounter: 'Encounter/e1' });
      expect(store.counts().byState).toEqual({ queued: 0, sending: 0, sent: 1, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
      expect(store.facilitiesWithDueWork(T0 + 10_000_000)).toEqual([]);
    });

    it('stores the record and timestamps as accepted', () => {
      const record = { visitId: 'V1', nested: { list: [1, 'two', null], ok: true } };
      store.ingest([item('V1', 'h1', ORG, record)], T0);
      const row = store.getVisit(ORG, 'V1')!;
      expect(row).toEqual({
        organizationId: ORG, visitId: 'V1', revision: 1, contentHash: 'h1', record, state: 'queued', attempts: 0,
        nextAttemptAt: T0, createdAt: T0, updatedAt: T0,
      });
      expect(store.getVisit(ORG, 'nope')).toBeUndefined();
      expect(store.getVisit(OTHER, 'V1')).toBeUndefined();
    });

    it('queues a revision when the content changes, resetting attempts and error', () => {
      store.ingest([item('V1', 'h1')], T0);
      store.claimDue(ORG, T0, 10, LEASE);
      store.markFinal(ORG, 'V1', 1, 'needs-correction', oo('bad weight'), T0 + 1);

      expect(store.ingest([item('V1', 'h2', ORG, { changed: true })], T0 + 5)).toEqual(['revised']);
      const row = store.getVisit(ORG, 'V1')!;
      expect(row).toMatchObject({ revision: 2, contentHash: 'h2', record: { changed: true }, state: 'queued', attempts: 0, nextAttemptAt: T0 + 5, createdAt: T0, updatedAt: T0 + 5 });
      expect(row.lastError).toBeUndefined();
      expect(store.ingest([item('V1', 'h3')], T0 + 6)).toEqual(['revised']);
      expect(store.getVisit(ORG, 'V1')!.revision).toBe(3);
    });

    it('keys visits by (organization, visit id)', () => {
      expect(store.ingest([item('V1', 'h1', ORG), item('V1', 'h1', OTHER)], T0)).toEqual(['created', 'created']);
      expect(store.counts(ORG).byState.queued).toBe(1);
      expect(store.counts(OTHER).byState.queued).toBe(1);
      expect(store.counts().byState.queued).toBe(2);
    });

    it('treats repeats inside one batch in order', () => {
      expect(store.ingest([item('V1', 'h1'), item('V1', 'h1'), item('V1', 'h2')], T0)).toEqual(['created', 'unchanged', 'revised']);
      expect(store.getVisit(ORG, 'V1')!.revision).toBe(2);
    });

    it('is atomic: a batch with one bad item writes nothing', () => {
      store.ingest([item('V0', 'h0')], T0);
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
        expect(() => store.ingest(batch as IngestItem[], T0 + 1)).toThrow(TypeError);
      }
      expect(store.getVisit(ORG, 'V1')).toBeUndefined();
      expect(store.getVisit(ORG, 'V2')).toBeUndefined();
      expect(store.getVisit(ORG, 'V0')).toMatchObject({ revision: 1, contentHash: 'h0' });
      expect(store.counts().byState.queued).toBe(1);
      expect(store.visitHistory!(ORG, 'V0')).toHaveLength(1);
    });

    it('rejects a non-array batch and a bad clock value', () => {
      expect(() => store.ingest(item('V1', 'h1') as unknown as IngestItem[], T0)).toThrow(TypeError);
      expect(() => store.ingest([item('V1', 'h1')], Number.NaN)).toThrow(TypeError);
      expect(store.getVisit(ORG, 'V1')).toBeUndefined();
    });

    it('does not echo record content in its errors', () => {
      const secret = { nik: '3171234567890123', name: 'Siti' , bad: 1n };
      try {
        store.ingest([item('V1', 'h1', ORG, secret)], T0);
        throw new Error('expected ingest to throw');
      } catch (e) {
        expect(String((e as Error).message)).not.toMatch(/3171234567890123|Siti/);
      }
    });

    it('accepts an empty batch', () => {
      expect(store.ingest([], T0)).toEqual([]);
    });
  });

  describe('claiming and leases', () => {
    it('claims due rows oldest first, up to the limit, and sets state sending with a lease', () => {
      store.ingest([item('A', 'h')], T0 + 2);
      store.ingest([item('B', 'h')], T0);
      store.ingest([item('C', 'h')], T0 + 1);
      store.ingest([item('D', 'h')], T0 + 500); // not due yet at T0+100
      const got = store.claimDue(ORG, T0 + 100, 2, LEASE);
      expect(got.map((r) => r.visitId)).toEqual(['B', 'C']);
      for (const r of got) {
        expect(r).toMatchObject({ state: 'sending', attempts: 1, leaseUntil: T0 + 100 + LEASE, updatedAt: T0 + 100 });
        expect(store.getVisit(ORG, r.visitId)).toEqual(r);
      }
      expect(store.claimDue(ORG, T0 + 100, 10, LEASE).map((r) => r.visitId)).toEqual(['A']);
      expect(store.claimDue(ORG, T0 + 100, 10, LEASE)).toEqual([]);
      expect(store.counts(ORG).byState).toMatchObject({ queued: 1, sending: 3 });
    });

    it('only claims rows of the given facility', () => {
      store.ingest([item('A', 'h', ORG), item('B', 'h', OTHER)], T0);
      expect(store.claimDue(OTHER, T0, 10, LEASE).map((r) => [r.organizationId, r.visitId])).toEqual([[OTHER, 'B']]);
      expect(store.getVisit(ORG, 'A')!.state).toBe('queued');
    });

    it('makes an expired lease due again (crash recovery) and counts the attempt', () => {
      store.ingest([item('A', 'h')], T0);
      expect(store.claimDue(ORG, T0, 10, LEASE)).toHaveLength(1);
      expect(store.facilitiesWithDueWork(T0 + LEASE - 1)).toEqual([]);
      expect(store.claimDue(ORG, T0 + LEASE - 1, 10, LEASE)).toEqual([]);
      expect(store.facilitiesWithDueWork(T0 + LEASE)).toEqual([ORG]);
      const again = store.claimDue(ORG, T0 + LEASE, 10, LEASE);
      expect(again).toHaveLength(1);
      expect(again[0]).toMatchObject({ state: 'sending', attempts: 2, leaseUntil: T0 + 2 * LEASE });
      expect(store.markSent(ORG, 'A', 1, {}, T0 + LEASE + 1)).toBe(true);
    });

    it('lists facilities with due work, and only those', () => {
      expect(store.facilitiesWithDueWork(T0)).toEqual([]);
      store.ingest([item('A', 'h', 'org-b'), item('B', 'h', 'org-a'), item('C', 'h', 'org-c')], T0);
      store.ingest([item('D', 'h', 'org-d')], T0 + 1000);
      expect(store.facilitiesWithDueWork(T0)).toEqual(['org-a', 'org-b', 'org-c']);
      expect(store.facilitiesWithDueWork(T0 + 1000)).toEqual(['org-a', 'org-b', 'org-c', 'org-d']);
      store.claimDue('org-b', T0, 10, LEASE);
      store.markSent('org-b', 'A', 1, {}, T0);
      store.claimDue('org-c', T0, 10, LEASE); // sending with a live lease: not due
      expect(store.facilitiesWithDueWork(T0 + 1000)).toEqual(['org-a', 'org-d']);
      expect(store.facilitiesWithDueWork(T0 + LEASE)).toEqual(['org-a', 'org-c', 'org-d']);
    });

    it('renews the lease of a claim still in progress: not due meanwhile, due again when the renewed lease ends', () => {
      store.ingest([item('A', 'h')], T0);
      const [claimed] = store.claimDue(ORG, T0, 1, LEASE);
      expect(store.renewLease(ORG, 'A', 1, T0 + 2 * LEASE, { attempts: claimed!.attempts })).toBe(true);
      expect(store.getVisit(ORG, 'A')).toMatchObject({ state: 'sending', attempts: 1, leaseUntil: T0 + 2 * LEASE });
      // The first lease has ended but the renewed one holds: nobody else may claim the row.
      expect(store.facilitiesWithDueWork(T0 + LEASE)).toEqual([]);
      expect(store.claimDue(ORG, T0 + LEASE, 10, LEASE)).toEqual([]);
      expect(store.claimDue(ORG, T0 + 2 * LEASE - 1, 10, LEASE)).toEqual([]);
      expect(store.claimDue(ORG, T0 + 2 * LEASE, 10, LEASE)).toHaveLength(1);
    });

    it('does not renew a claim that is no longer ours: taken over, recorded, a newer revision, or unknown', () => {
      store.ingest([item('A', 'h'), item('B', 'h'), item('C', 'h')], T0);
      store.claimDue(ORG, T0, 3, LEASE);
      // A: the lease ran out and another runner claimed it (attempt 2); the first claimer's renewal must fail.
      expect(store.claimDue(ORG, T0 + LEASE, 10, LEASE).map((r) => r.visitId)).toEqual(['A', 'B', 'C']);
      expect(store.renewLease(ORG, 'A', 1, T0 + 3 * LEASE, { attempts: 1 })).toBe(false);
      expect(store.getVisit(ORG, 'A')!.leaseUntil).toBe(T0 + 2 * LEASE);
      expect(store.renewLease(ORG, 'A', 1, T0 + 3 * LEASE, { attempts: 2 })).toBe(true);
      // B: the outcome is recorded (sent): the renewal must not put a lease back on it.
      expect(store.markSent(ORG, 'B', 1, {}, T0 + LEASE + 1)).toBe(true);
      expect(store.renewLease(ORG, 'B', 1, T0 + 3 * LEASE)).toBe(false);
      expect(store.getVisit(ORG, 'B')).toMatchObject({ state: 'sent' });
      expect(store.getVisit(ORG, 'B')!.leaseUntil).toBeUndefined();
      // C: a newer revision arrived meanwhile (queued, held back until the running attempt's lease ends). Renewing
      // revision 1 fails, but the attempt still runs: revision 2 stays held (never two attempts at once) until then.
      store.ingest([item('C', 'h2')], T0 + LEASE + 2);
      expect(store.getVisit(ORG, 'C')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 2 * LEASE });
      expect(store.renewLease(ORG, 'C', 1, T0 + 3 * LEASE, { attempts: 2 })).toBe(false);
      expect(store.getVisit(ORG, 'C')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 3 * LEASE });
      expect(store.claimDue(ORG, T0 + 2 * LEASE, 10, LEASE)).toEqual([]); // A renewed by its new claimer; C held
      // The old attempt reports: revision 2 is due at once.
      expect(store.markSent(ORG, 'C', 1, {}, T0 + 2 * LEASE + 5)).toBe(false);
      expect(store.getVisit(ORG, 'C')!.nextAttemptAt).toBe(T0 + 2 * LEASE + 5);
      expect(store.renewLease(ORG, 'C', 2, T0 + 3 * LEASE)).toBe(false); // queued, not sending
      expect(store.renewLease(ORG, 'nope', 1, T0 + 3 * LEASE)).toBe(false);
      expect(store.renewLease(OTHER, 'A', 1, T0 + 3 * LEASE)).toBe(false);
      expect(() => store.renewLease(ORG, 'A', 1, Number.NaN)).toThrow(TypeError);
      expect(() => store.renewLease(ORG, 'A', 0, T0)).toThrow(TypeError);
      expect(() => store.renewLease(ORG, 'A', 1, T0, { attempts: -1 })).toThrow(TypeError);
    });

    it('validates its arguments', () => {
      expect(() => store.claimDue(ORG, T0, -1, LEASE)).toThrow(TypeError);
      expect(() => store.claimDue(ORG, T0, 1.5, LEASE)).toThrow(TypeError);
      expect(() => store.claimDue(ORG, T0, 1, 0)).toThrow(TypeError);
      expect(store.claimDue(ORG, T0, 0, LEASE)).toEqual([]);
    });
  });

  describe('attempt outcomes', () => {
    beforeEach(() => {
      store.ingest([item('V1', 'h1')], T0);
      store.claimDue(ORG, T0, 10, LEASE);
    });

    it('markSent records ids and time and ends the lease', () => {
      expect(store.markSent(ORG, 'V1', 1, { encounter: 'Encounter/e1', 'observation/bw.1': 'Observation/o1' }, T0 + 5)).toBe(true);
      const row = store.getVisit(ORG, 'V1')!;
      expect(row).toMatchObject({ state: 'sent', sentAt: T0 + 5, updatedAt: T0 + 5, resourceIds: { encounter: 'Encounter/e1', 'observation/bw.1': 'Observation/o1' } });
      expect(row.leaseUntil).toBeUndefined();
      expect(store.facilitiesWithDueWork(T0 + 10 * LEASE)).toEqual([]);
      // A sent row is not sent again, and a stale retry cannot reopen it.
      expect(store.markRetry(ORG, 'V1', 1, T0 + 6, oo('late'), T0 + 6)).toBe(false);
      expect(store.markFinal(ORG, 'V1', 1, 'dead-letter', oo('late'), T0 + 6)).toBe(false);
      expect(store.getVisit(ORG, 'V1')!.state).toBe('sent');
    });

    it('markRetry queues the row for later with the error', () => {
      expect(store.markRetry(ORG, 'V1', 1, T0 + 30_000, oo('HTTP 503'), T0 + 5)).toBe(true);
      const row = store.getVisit(ORG, 'V1')!;
      expect(row).toMatchObject({ state: 'queued', attempts: 1, nextAttemptAt: T0 + 30_000, lastError: oo('HTTP 503') });
      expect(row.leaseUntil).toBeUndefined();
      expect(store.claimDue(ORG, T0 + 29_999, 10, LEASE)).toEqual([]);
      expect(store.claimDue(ORG, T0 + 30_000, 10, LEASE)[0]).toMatchObject({ attempts: 2 });
      expect(store.markRetry(ORG, 'V1', 1, T0, oo('x'), T0 + 30_001)).toBe(true);
      // A second report for the same attempt finds the row queued, not sending: refused.
      expect(store.markRetry(ORG, 'V1', 1, T0, oo('x'), T0 + 30_002)).toBe(false);
    });

    it('markFinal parks the row with its outcome; requeue puts it back with attempts reset', () => {
      expect(store.markFinal(ORG, 'V1', 1, 'blocked', oo('no IHS number for the NIK'), T0 + 5)).toBe(true);
      expect(store.getVisit(ORG, 'V1')).toMatchObject({ state: 'blocked', lastError: oo('no IHS number for the NIK') });
      expect(store.facilitiesWithDueWork(T0 + 10 * LEASE)).toEqual([]);
      expect(store.requeue(ORG, 'V1', T0 + 100)).toBe(true);
      const row = store.getVisit(ORG, 'V1')!;
      expect(row).toMatchObject({ state: 'queued', attempts: 0, nextAttemptAt: T0 + 100, revision: 1 });
      expect(row.lastError).toBeUndefined();
      expect(store.claimDue(ORG, T0 + 100, 10, LEASE)).toHaveLength(1);
    });

    it.each(['needs-correction', 'blocked', 'dead-letter'] as const)('requeue works from %s', (state) => {
      store.markFinal(ORG, 'V1', 1, state, oo(state), T0 + 1);
      expect(store.requeue(ORG, 'V1', T0 + 2)).toBe(true);
      expect(store.getVisit(ORG, 'V1')!.state).toBe('queued');
    });

    it('requeue refuses rows that are queued, sending, sent or unknown', () => {
      expect(store.requeue(ORG, 'V1', T0 + 1)).toBe(false); // sending
      expect(store.getVisit(ORG, 'V1')!.state).toBe('sending');
      store.markSent(ORG, 'V1', 1, {}, T0 + 2);
      expect(store.requeue(ORG, 'V1', T0 + 3)).toBe(false);
      store.ingest([item('V2', 'h')], T0);
      expect(store.requeue(ORG, 'V2', T0 + 3)).toBe(false);
      expect(store.requeue(ORG, 'nope', T0 + 3)).toBe(false);
    });

    it('rejects a non-final state in markFinal and unknown visits everywhere', () => {
      expect(() => store.markFinal(ORG, 'V1', 1, 'sent' as 'blocked', oo('x'), T0)).toThrow(TypeError);
      expect(store.getVisit(ORG, 'V1')!.state).toBe('sending');
      expect(store.markSent(ORG, 'nope', 1, {}, T0)).toBe(false);
      expect(store.markRetry(ORG, 'nope', 1, T0, oo('x'), T0)).toBe(false);
      expect(store.markFinal(ORG, 'nope', 1, 'blocked', oo('x'), T0)).toBe(false);
      expect(store.markSent(OTHER, 'V1', 1, {}, T0)).toBe(false);
      expect(store.getVisit(ORG, 'nope')).toBeUndefined();
    });
  });

  describe('revision race', () => {
    it('an old attempt cannot overwrite a newer revision (markSent)', () => {
      store.ingest([item('V1', 'h1')], T0);
      expect(store.claimDue(ORG, T0, 10, LEASE)[0].revision).toBe(1);
      expect(store.ingest([item('V1', 'h2')], T0 + 10)).toEqual(['revised']);
      // While the rev-1 attempt is in flight the new revision is held back, so two attempts never overlap.
      expect(store.claimDue(ORG, T0 + 20, 10, LEASE)).toEqual([]);
      expect(store.markSent(ORG, 'V1', 1, { encounter: 'Encounter/old' }, T0 + 30)).toBe(false);
      const row = store.getVisit(ORG, 'V1')!;
      expect(row).toMatchObject({ revision: 2, contentHash: 'h2', state: 'queued', attempts: 0 });
      expect(row.resourceIds).toBeUndefined();
      expect(row.sentAt).toBeUndefined();
      // The old attempt has reported: the new revision is due at once.
      const next = store.claimDue(ORG, T0 + 30, 10, LEASE);
      expect(next.map((r) => [r.visitId, r.revision])).toEqual([['V1', 2]]);
      expect(store.markSent(ORG, 'V1', 2, { encounter: 'Encounter/e1' }, T0 + 40)).toBe(true);
    });

    it.each(['retry', 'final'] as const)('an old attempt cannot overwrite a newer revision (%s)', (kind) => {
      store.ingest([item('V1', 'h1')], T0);
      store.claimDue(ORG, T0, 10, LEASE);
      store.ingest([item('V1', 'h2')], T0 + 10);
      const ok = kind === 'retry'
        ? store.markRetry(ORG, 'V1', 1, T0 + 99_999, oo('503'), T0 + 20)
        : store.markFinal(ORG, 'V1', 1, 'needs-correction', oo('rule'), T0 + 20);
      expect(ok).toBe(false);
      expect(store.getVisit(ORG, 'V1')).toMatchObject({ revision: 2, state: 'queued', attempts: 0, nextAttemptAt: T0 + 20 });
      expect(store.getVisit(ORG, 'V1')!.lastError).toBeUndefined();
    });

    it('a held revision becomes due when the old lease expires even if the old attempt never reports', () => {
      store.ingest([item('V1', 'h1')], T0);
      store.claimDue(ORG, T0, 10, LEASE);
      store.ingest([item('V1', 'h2')], T0 + 10);
      expect(store.getVisit(ORG, 'V1')!.nextAttemptAt).toBe(T0 + LEASE);
      expect(store.claimDue(ORG, T0 + LEASE, 10, LEASE).map((r) => r.revision)).toEqual([2]);
    });

    it('a revision of a row whose lease already expired is due at once', () => {
      store.ingest([item('V1', 'h1')], T0);
      store.claimDue(ORG, T0, 10, LEASE);
      store.ingest([item('V1', 'h2')], T0 + LEASE + 5);
      expect(store.getVisit(ORG, 'V1')!.nextAttemptAt).toBe(T0 + LEASE + 5);
    });

    it('a late success of the same revision wins over a stale retry from an expired lease', () => {
      store.ingest([item('V1', 'h1')], T0);
      store.claimDue(ORG, T0, 10, LEASE); // worker A
      store.claimDue(ORG, T0 + LEASE, 10, LEASE); // lease expired, worker B
      expect(store.markRetry(ORG, 'V1', 1, T0 + 5 * LEASE, oo('timeout'), T0 + LEASE + 1)).toBe(true); // A reports late
      expect(store.markSent(ORG, 'V1', 1, { encounter: 'Encounter/e1' }, T0 + LEASE + 2)).toBe(true); // B succeeded
      expect(store.getVisit(ORG, 'V1')).toMatchObject({ state: 'sent', resourceIds: { encounter: 'Encounter/e1' } });
    });
  });

  describe('history', () => {
    it('records every state change with revision, attempts and an error summary', () => {
      store.ingest([item('V1', 'h1')], T0);
      store.claimDue(ORG, T0 + 1, 10, LEASE);
      store.markRetry(ORG, 'V1', 1, T0 + 2, oo('HTTP 503 from platform'), T0 + 2);
      store.claimDue(ORG, T0 + 3, 10, LEASE);
      store.markFinal(ORG, 'V1', 1, 'needs-correction', oo('Wrong organization ID (RuleNumber: 10117)'), T0 + 4);
      store.ingest([item('V1', 'h2')], T0 + 5);
      expect(store.visitHistory!(ORG, 'V1')).toEqual([
        { revision: 1, toState: 'queued', at: T0, attempts: 0 },
        { revision: 1, fromState: 'queued', toState: 'sending', at: T0 + 1, attempts: 1 },
        { revision: 1, fromState: 'sending', toState: 'queued', at: T0 + 2, attempts: 1, error: 'error/value: HTTP 503 from platform' },
        { revision: 1, fromState: 'queued', toState: 'sending', at: T0 + 3, attempts: 2 },
        { revision: 1, fromState: 'sending', toState: 'needs-correction', at: T0 + 4, attempts: 2, error: 'error/value: Wrong organization ID (RuleNumber: 10117)' },
        { revision: 2, fromState: 'needs-correction', toState: 'queued', at: T0 + 5, attempts: 0 },
      ]);
      expect(store.visitHistory!(ORG, 'nope')).toEqual([]);
    });

    it('keeps only the latest events per visit', () => {
      const small = openSqliteStore({ file: ':memory:', historyPerVisit: 5 });
      try {
        for (let i = 1; i <= 12; i++) small.ingest([item('V1', `h${i}`)], T0 + i);
        const h = small.visitHistory!(ORG, 'V1');
        expect(h).toHaveLength(5);
        expect(h.map((e) => e.revision)).toEqual([8, 9, 10, 11, 12]);
      } finally {
        small.close();
      }
    });
  });

  describe('counts', () => {
    it('counts every state, per facility and overall, with zeros', () => {
      store.ingest(['a', 'b', 'c', 'd', 'e'].map((v) => item(v, 'h')), T0);
      store.ingest([item('x', 'h', OTHER)], T0);
      store.claimDue(ORG, T0, 4, LEASE);
      store.markSent(ORG, 'a', 1, {}, T0);
      store.markFinal(ORG, 'b', 1, 'blocked', oo('b'), T0);
      store.markFinal(ORG, 'c', 1, 'dead-letter', oo('c'), T0);
      expect(store.counts(ORG).byState).toEqual({ queued: 1, sending: 1, sent: 1, 'needs-correction': 0, blocked: 1, 'dead-letter': 1 });
      expect(store.counts(OTHER).byState).toEqual({ queued: 1, sending: 0, sent: 0, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
      expect(store.counts('unknown').byState).toEqual({ queued: 0, sending: 0, sent: 0, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 });
      expect(store.counts().byState.queued).toBe(2);
    });
  });

  describe('ledger, identities, facilities, api keys', () => {
    it('round-trips and upserts ledger entries', () => {
      expect(store.getLedger(ORG, 'visit/V1/encounter')).toBeUndefined();
      const e1 = { organizationId: ORG, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: 'e-1', contentHash: 'c1', updatedAt: T0 };
      const e2 = { organizationId: ORG, localKey: 'visit/V1/observation/body-weight.1', resourceType: 'Observation', satusehatId: 'o-1', contentHash: 'c2', updatedAt: T0 };
      store.putLedger([e1, e2]);
      expect(store.getLedger(ORG, e1.localKey)).toEqual(e1);
      expect(store.getLedger(ORG, e2.localKey)).toEqual(e2);
      expect(store.getLedger(OTHER, e1.localKey)).toBeUndefined();
      store.putLedger([{ ...e1, contentHash: 'c1b', updatedAt: T0 + 1 }]);
      expect(store.getLedger(ORG, e1.localKey)).toEqual({ ...e1, contentHash: 'c1b', updatedAt: T0 + 1 });
      store.putLedger([]);
    });

    it('writes a ledger batch atomically', () => {
      const good = { organizationId: ORG, localKey: 'k1', resourceType: 'Encounter', satusehatId: 'e', contentHash: 'c', updatedAt: T0 };
      const bad = { ...good, localKey: 'k2', satusehatId: null as unknown as string };
      expect(() => store.putLedger([good, bad])).toThrow();
      expect(store.getLedger(ORG, 'k1')).toBeUndefined();
    });

    it('round-trips identities by kind, facility and key hash', () => {
      const p = { kind: 'patient' as const, organizationId: ORG, keyHash: 'hmac-1', satusehatId: 'P0001', updatedAt: T0 };
      store.putIdentity(p);
      expect(store.getIdentity('patient', ORG, 'hmac-1')).toEqual(p);
      expect(store.getIdentity('practitioner', ORG, 'hmac-1')).toBeUndefined();
      expect(store.getIdentity('patient', OTHER, 'hmac-1')).toBeUndefined();
      store.putIdentity({ ...p, satusehatId: 'P0002', updatedAt: T0 + 1 });
      expect(store.getIdentity('patient', ORG, 'hmac-1')).toMatchObject({ satusehatId: 'P0002', updatedAt: T0 + 1 });
      expect(() => store.putIdentity({ ...p, kind: 'doctor' as 'patient' })).toThrow();
    });

    it('round-trips facility state, clearing optional fields', () => {
      expect(store.getFacilityState(ORG)).toBeUndefined();
      store.putFacilityState({ organizationId: ORG, status: 'auth-failed', reason: 'invalid_client', notBefore: T0 + 60_000, updatedAt: T0 });
      expect(store.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'auth-failed', reason: 'invalid_client', notBefore: T0 + 60_000, updatedAt: T0 });
      store.putFacilityState({ organizationId: ORG, status: 'active', updatedAt: T0 + 1 });
      expect(store.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'active', updatedAt: T0 + 1 });
      expect(() => store.putFacilityState({ organizationId: ORG, status: 'sleeping' as 'active', updatedAt: T0 })).toThrow();
    });

    it('round-trips api keys and enforces admin/facility shape', () => {
      store.putApiKey({ keyHash: 'k-admin', organizationId: null, role: 'admin', label: 'ops' });
      store.putApiKey({ keyHash: 'k-fac', organizationId: ORG, role: 'facility' });
      expect(store.findApiKey('k-admin')).toEqual({ keyHash: 'k-admin', organizationId: null, role: 'admin', label: 'ops', source: 'cli' });
      expect(store.findApiKey('k-fac')).toEqual({ keyHash: 'k-fac', organizationId: ORG, role: 'facility', source: 'cli' });
      expect(store.findApiKey('nope')).toBeUndefined();
      expect(() => store.putApiKey({ keyHash: 'k2', organizationId: null, role: 'facility' })).toThrow();
      expect(() => store.putApiKey({ keyHash: 'k3', organizationId: ORG, role: 'admin' })).toThrow();
      expect(store.findApiKey('k2')).toBeUndefined();
    });
  });
});

describe('SQLite store on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file in WAL mode with 8 KB pages (both persistent, unlike the per-connection pragmas)', () => {
    const file = path.join(dir, 'a.db');
    openSqliteStore({ file }).close();
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('page_size', { simple: true })).toBe(8192);
    db.close();
  });

  it('keeps everything across reopen and applies migrations once', () => {
    const file = path.join(dir, 'b.db');
    let s = openSqliteStore({ file });
    s.ingest([item('V1', 'h1'), item('V2', 'h1')], T0);
    s.claimDue(ORG, T0, 1, LEASE);
    s.markSent(ORG, 'V1', 1, { encounter: 'Encounter/e1' }, T0 + 1);
    s.putLedger([{ organizationId: ORG, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: 'e1', contentHash: 'c', updatedAt: T0 }]);
    s.putIdentity({ kind: 'practitioner', organizationId: ORG, keyHash: 'hm', satusehatId: 'N100', updatedAt: T0 });
    s.putFacilityState({ organizationId: ORG, status: 'paused', reason: 'operator', updatedAt: T0 });
    s.putApiKey({ keyHash: 'k', organizationId: ORG, role: 'facility', label: 'pkm' });
    const before = { v1: s.getVisit(ORG, 'V1'), v2: s.getVisit(ORG, 'V2'), counts: s.counts(), history: s.visitHistory!(ORG, 'V1') };
    s.close();
    s.close(); // idempotent

    for (let i = 0; i < 2; i++) {
      s = openSqliteStore({ file });
      expect({ v1: s.getVisit(ORG, 'V1'), v2: s.getVisit(ORG, 'V2'), counts: s.counts(), history: s.visitHistory!(ORG, 'V1') }).toEqual(before);
      expect(s.getLedger(ORG, 'visit/V1/encounter')?.satusehatId).toBe('e1');
      expect(s.getIdentity('practitioner', ORG, 'hm')?.satusehatId).toBe('N100');
      expect(s.getFacilityState(ORG)?.status).toBe('paused');
      expect(s.findApiKey('k')?.label).toBe('pkm');
      expect(s.ingest([item('V2', 'h1')], T0 + 5)).toEqual(['unchanged']);
      s.close();
    }
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(migrations.map((m) => ({ version: m.version })));
    db.close();
  });

  it('upgrades a version-1 database in place: facility states keep their status and gain an empty hold cause', () => {
    const file = path.join(dir, 'v1.db');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.exec(migrations[0]!.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, ?, ?)').run(migrations[0]!.name, T0);
    db.prepare("INSERT INTO facility_state (org, status, reason, not_before, updated_at) VALUES (?, 'auth-failed', 'old', ?, ?)").run(ORG, T0 + 60_000, T0);
    db.close();
    const s = openSqliteStore({ file });
    expect(s.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'auth-failed', reason: 'old', notBefore: T0 + 60_000, updatedAt: T0 });
    s.putFacilityState({ organizationId: ORG, status: 'config-error', cause: 'url', reason: 'wrong URL', updatedAt: T0 + 1 });
    expect(s.getFacilityState(ORG)).toMatchObject({ status: 'config-error', cause: 'url' });
    expect(() => s.putFacilityState({ organizationId: ORG, status: 'paused', cause: 'nonsense' as never, updatedAt: T0 + 2 })).toThrow(/CHECK constraint/);
    s.close();
  });

  it('refuses a database written by a newer version, with a clear error, and leaves it untouched', () => {
    const file = path.join(dir, 'c.db');
    openSqliteStore({ file }).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(99, 'from the future', T0);
    db.close();
    expect(() => openSqliteStore({ file })).toThrow(StoreSchemaError);
    expect(() => openSqliteStore({ file })).toThrow(new RegExp(`schema version 99 is newer.*\\(${latestSchemaVersion}\\)`));
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: 99 });
    check.close();
  });

  it('rolls back a migration that fails half-way', () => {
    const file = path.join(dir, 'd.db');
    // A pre-existing table with a clashing name makes migration 1 fail after its first statements. Our (empty)
    // schema_migrations beside it: what a first start that failed half-way leaves; without it the file is foreign.
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.exec('CREATE TABLE ledger (x INTEGER)');
    db.close();
    expect(() => openSqliteStore({ file })).toThrow(/ledger already exists/);
    const check = new Database(file, { readonly: true });
    const tables = (check.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    check.close();
    expect(tables).not.toContain('visits');
    expect(tables).toContain('schema_migrations');
  });

  it('sees committed work from another connection to the same file', () => {
    const file = path.join(dir, 'e.db');
    const a = openSqliteStore({ file });
    const b = openSqliteStore({ file });
    try {
      a.ingest([item('V1', 'h1')], T0);
      expect(b.claimDue(ORG, T0, 10, LEASE).map((r) => r.visitId)).toEqual(['V1']);
      expect(a.claimDue(ORG, T0, 10, LEASE)).toEqual([]);
      expect(a.markSent(ORG, 'V1', 1, {}, T0 + 1)).toBe(true);
      expect(b.getVisit(ORG, 'V1')!.state).toBe('sent');
    } finally {
      a.close();
      b.close();
    }
  });
});
