import { showVisit } from '../../src/app/visits.js';
import { messageIssue } from '../../src/i18n/issues.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';
import { summarise } from '../../src/store/shared.js';
import type { Store, VisitEvent, VisitRow } from '../../src/store/types.js';

// The single-visit view's history: the entry that records the current lastError is said in the reader's language from
// the lastError's message keys; an older entry's summary (only English text is stored) stays as stored.
describe('visit history summaries in the reader language', () => {
  const lastError = toOperationOutcome([messageIssue('error', 'not-found', 'sync.practitioner.not-found', {}, 'practitioner.nik')], undefined, true);
  const older = 'error/transient: SATUSEHAT answered 503';
  const row = { organizationId: 'A1', visitId: 'V-1', revision: 1, state: 'blocked', attempts: 2, lastError, createdAt: 0, updatedAt: 1 } as unknown as VisitRow;
  const events: VisitEvent[] = [
    { revision: 1, toState: 'queued', at: 0, attempts: 0 },
    { revision: 1, fromState: 'queued', toState: 'queued', at: 1, attempts: 1, error: older },
    { revision: 1, fromState: 'queued', toState: 'blocked', at: 2, attempts: 2, error: summarise(lastError)! },
  ];
  const store = { getVisit: async () => row, visitHistory: async () => events, getFacilityState: async () => undefined } as unknown as Store;
  const history = async (locale: 'id' | 'en') =>
    ((await showVisit({ store, now: () => 3 }, { organizationId: 'A1' }, 'A1', 'V-1', { locale }))!.history as Array<{ error?: string }>).map((h) => h.error);

  it('Bahasa Indonesia by default for the entry of the current error; English on request; older entries as stored', async () => {
    expect(await history('id')).toEqual([undefined, older,
      'error/not-found: Tidak ada tenaga kesehatan SATUSEHAT (indeks Nakes) yang terdaftar dengan NIK ini; data nakes hanya dapat dibaca: daftarkan nakes di SATUSEHAT atau kirim practitioner.ihsNumber']);
    expect(await history('en')).toEqual([undefined, older, expect.stringMatching(/^error\/not-found: No SATUSEHAT practitioner \(Nakes index\)/)]);
  });
});
