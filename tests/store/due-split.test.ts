// dueSplit: a facility's unfinished visits, due now vs later (backoff, a live lease), for POST /sync/run?wait=true.
import { openSqliteStore } from '../../src/store/sqlite.js';

const ORG = '10000004';
const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);
const err = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'transient' as const }] };

it('counts due and later visits of one facility, with the earliest later time; final states are not counted', () => {
  const store = openSqliteStore({ file: ':memory:' });
  try {
    expect(store.dueSplit(ORG, T0)).toEqual({ dueNow: 0, later: 0 });
    store.ingest(['A', 'B', 'C', 'D', 'E'].map((visitId) => ({ organizationId: ORG, visitId, record: {}, contentHash: visitId })), T0);
    store.ingest([{ organizationId: 'other', visitId: 'X', record: {}, contentHash: 'x' }], T0);
    const [a, b, c, d] = store.claimDue(ORG, T0, 4, 60_000);
    store.markRetry(ORG, a!.visitId, a!.revision, T0 + 5_000, err, T0);
    store.markRetry(ORG, b!.visitId, b!.revision, T0 + 9_000, err, T0);
    store.markFinal(ORG, c!.visitId, c!.revision, 'blocked', err, T0);
    // d stays `sending` under its lease (due again at T0 + 60 s); E is queued and due.
    expect(d!.state).toBe('sending');
    expect(store.dueSplit(ORG, T0)).toEqual({ dueNow: 1, later: 3, nextDueAt: T0 + 5_000 });
    expect(store.dueSplit(ORG, T0 + 9_000)).toEqual({ dueNow: 3, later: 1, nextDueAt: T0 + 60_000 });
    expect(store.dueSplit(ORG, T0 + 60_000)).toEqual({ dueNow: 4, later: 0 });
  } finally {
    store.close();
  }
});
