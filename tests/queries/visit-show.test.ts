// GET /ilp/visits/{org}/{visitId}: what the facility sent is shown to its own key only.
import { A, B, harness, visits } from './harness.js';
import { messageIssue } from '../../src/i18n/issues.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';

describe('GET /ilp/visits/{org}/{visitId}', () => {
  it("adds the record for the facility's own key, never for the admin or another facility", async () => {
    const h = harness();
    const [v] = visits(A, 1);
    await h.push(A, v).expect(202);
    const path = `/ilp/visits/${A}/${v!.visitId}`;
    const own = await h.get(path, A).expect(200);
    expect(own.body.record).toEqual(v);
    expect(own.body).toMatchObject({ state: 'queued', explanation: 'Menunggu sinkronisasi berikutnya.' });
    const admin = await h.get(path, 'admin').expect(200);
    expect(admin.body).not.toHaveProperty('record');
    expect(admin.text).not.toContain(v!.patient.nik);
    const other = await h.get(path, B).expect(404);
    expect(other.text).not.toContain(v!.patient.nik);
  });

  it('says every history entry in Bahasa Indonesia by default, an older one too; English with Accept-Language: en', async () => {
    const h = harness();
    const [v] = visits(A, 1);
    await h.push(A, v).expect(202);
    const older = toOperationOutcome([messageIssue('error', 'not-found', 'sync.practitioner.not-found', {}, 'practitioner.nik')], undefined, true);
    const current = toOperationOutcome([messageIssue('error', 'value', 'source.birthdate.after-visit', {}, 'patient.birthDate')], undefined, true);
    const t = Date.now() + 60_000;
    const [first] = await h.store.claimDue(A, t, 1, 60_000);
    await h.store.markRetry(first!.claim, t, older, t);
    const [second] = await h.store.claimDue(A, t + 1, 1, 60_000);
    await h.store.markFinal(second!.claim, 'needs-correction', current, t + 1);
    const path = `/ilp/visits/${A}/${v!.visitId}`;
    const errors = (body: { history: Array<{ error?: string }> }) => body.history.flatMap((e) => e.error ?? []);
    const id = await h.get(path, A).expect(200);
    expect(id.headers.vary).toMatch(/Accept-Language/i);
    expect(errors(id.body)).toEqual([
      expect.stringMatching(/^error\/not-found: Tidak ada tenaga kesehatan SATUSEHAT \(indeks Nakes\)/),
      'error/value: patient.birthDate sesudah tanggal kunjungan; periksa tanggal lahir',
    ]);
    expect(id.body.history.some((e: Record<string, unknown>) => 'errorIssues' in e)).toBe(false);
    const en = await h.get(path, A).set('Accept-Language', 'en').expect(200);
    expect(errors(en.body)).toEqual([expect.stringMatching(/^error\/not-found: No SATUSEHAT practitioner \(Nakes index\)/), 'error/value: patient.birthDate is after the visit date']);
  });
});
