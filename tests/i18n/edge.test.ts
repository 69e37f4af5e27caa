// Source-record issues are said at the edge in the reader's language: the API by Accept-Language (Bahasa Indonesia by
// default, `Vary: Accept-Language`), the console by its session language; stored rejections and lastError keep the
// message so either language can be shown later, and older stored text is shown as it was.
import { A, consoleHarness, NOW, visits } from '../console/harness.js';
import { harness } from '../queries/harness.js';
import { messageIssue } from '../../src/i18n/issues.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';

const badUnit = (visitId: string) => ({ ...visits(A, 1)[0], visitId, measurements: [{ code: 'body-weight', value: 9.8, unit: 'lbs' }] });
const ID_UNIT = "satuan 'lbs' tidak diterima untuk body-weight; gunakan salah satu dari";
const EN_UNIT = "unit 'lbs' is not accepted for body-weight; use one of";

describe('the API says source-record issues in the caller\'s language', () => {
  it('POST /ilp/visits 422: Bahasa Indonesia by default, English with Accept-Language: en, Vary set', async () => {
    const h = harness();
    const id = await h.push(A, badUnit('I18N-1')).expect(422);
    expect(id.headers.vary).toMatch(/Accept-Language/);
    const unit = id.body.issue.find((i: { expression?: string[] }) => i.expression?.[0] === 'measurements[0].unit');
    expect(unit.diagnostics).toContain(ID_UNIT);
    const en = await h.push(A, badUnit('I18N-1')).set('Accept-Language', 'en-GB,en;q=0.9').expect(422);
    expect(en.body.issue.find((i: { expression?: string[] }) => i.expression?.[0] === 'measurements[0].unit').diagnostics).toContain(EN_UNIT);
    // The issue's message is state for the edge, not part of the answer.
    expect(JSON.stringify(id.body)).not.toContain('"message"');
  });

  it('a batch (207): the rejected record\'s outcome in the caller\'s language, its expressions still prefixed', async () => {
    const h = harness();
    const r = await h.push(A, [badUnit('I18N-2'), visits(A, 1)[0]]).expect(207);
    const issue = r.body.results[0].outcome.issue.find((i: { expression?: string[] }) => i.expression?.[0] === '[0].measurements[0].unit');
    expect(issue.diagnostics).toContain(ID_UNIT);
  });

  it('the dry run (POST /ilp/visits/$map) too', async () => {
    const h = harness();
    const request = (await import('supertest')).default;
    const idAnswer = await request(h.app).post('/ilp/visits/$map').send(badUnit('I18N-3')).expect(422);
    expect(idAnswer.headers.vary).toMatch(/Accept-Language/);
    expect(idAnswer.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join('\n')).toContain(ID_UNIT);
    const enAnswer = await request(h.app).post('/ilp/visits/$map').set('Accept-Language', 'en').send(badUnit('I18N-3')).expect(422);
    expect(enAnswer.body.issue.map((i: { diagnostics: string }) => i.diagnostics).join('\n')).toContain(EN_UNIT);
  });

  it('GET /ilp/rejections lists the kept issues in either language; an older entry without a message shows its stored text', async () => {
    const h = harness();
    await h.push(A, badUnit('I18N-4')).set('Accept-Language', 'en').expect(422);
    await h.store.addRejections([{ organizationId: A, visitId: 'OLD-1', at: NOW.getTime() - 1, issues: [{ severity: 'error', code: 'value', expression: ['start'], diagnostics: 'older English text' }] }]);
    const texts = (body: { items: { visitId?: string; issues: { diagnostics?: string; message?: unknown }[] }[] }, visitId: string) =>
      body.items.find((x) => x.visitId === visitId)!.issues.map((i) => i.diagnostics).join('\n');
    const id = await h.get('/ilp/rejections', A).expect(200);
    expect(id.headers.vary).toMatch(/Accept-Language/);
    expect(texts(id.body, 'I18N-4')).toContain(ID_UNIT);
    expect(texts(id.body, 'OLD-1')).toBe('older English text');
    expect(JSON.stringify(id.body)).not.toContain('"message"');
    const en = await h.get('/ilp/rejections', A).set('Accept-Language', 'en').expect(200);
    expect(texts(en.body, 'I18N-4')).toContain(EN_UNIT);
    const csv = await h.get('/ilp/rejections?_format=csv', A).expect(200);
    expect(csv.text).toContain(ID_UNIT);
  });

  it('the API\'s own errors: 404 and 405 in Bahasa Indonesia by default', async () => {
    const h = harness();
    const notFound = await h.get('/ilp/nothing-here', A).expect(404);
    expect(notFound.body.issue[0].diagnostics).toBe('Tidak ada rute untuk GET /ilp/nothing-here');
    const en = await h.get('/ilp/nothing-here', A).set('Accept-Language', 'en').expect(404);
    expect(en.body.issue[0].diagnostics).toBe('No route for GET /ilp/nothing-here');
    const missing = await h.get(`/ilp/visits/${A}/NOPE-1`, A).expect(404);
    expect(missing.body.issue[0].diagnostics).toBe('Tidak ada kunjungan dengan organizationId dan visitId ini yang dapat dilihat API key ini');
  });
});

/** A lastError as sync stores it: our message in the extension, the platform's words inside a frame. */
const LAST_ERROR = toOperationOutcome([
  messageIssue('error', 'value', 'source.birthdate.after-visit', { path: 'patient.birthDate' }, 'patient.birthDate'),
  messageIssue('error', 'not-found', 'sync.practitioner.not-found', {}, 'practitioner.nik'),
], undefined, true).issue;

describe('a record\'s last error, said to operators', () => {
  it('GET /ilp/visits/{org}/{visitId}: lastError in the caller\'s language', async () => {
    const h = consoleHarness();
    await h.failed(A, 'LE-1', 'needs-correction', LAST_ERROR);
    const id = await h.get(`/ilp/visits/${A}/LE-1`, A).expect(200);
    expect(id.body.lastError.issue[0].diagnostics).toBe('patient.birthDate sesudah tanggal kunjungan; periksa tanggal lahir');
    expect(id.body.lastError.issue[0].extension).toBeUndefined();
    const en = await h.get(`/ilp/visits/${A}/LE-1`, A).set('Accept-Language', 'en').expect(200);
    expect(en.body.lastError.issue[0].diagnostics).toBe('patient.birthDate is after the visit date');
  });

  it('the console shows the source-field explanation in Bahasa Indonesia, English once switched', async () => {
    const h = consoleHarness();
    await h.failed(A, 'LE-2', 'needs-correction', LAST_ERROR);
    const a = await h.signIn(A);
    const page = (await a.get('/console/attention').expect(200)).text;
    expect(page).toContain('<code>patient.birthDate</code>');
    expect(page).toContain('patient.birthDate sesudah tanggal kunjungan; periksa tanggal lahir');
    expect(page).toContain('daftarkan nakes di SATUSEHAT atau kirim practitioner.ihsNumber');
    await a.get('/console/lang/en?back=/console/attention').expect(303);
    const en = (await a.get('/console/attention').expect(200)).text;
    expect(en).toContain('patient.birthDate is after the visit date');
  });

  it('the console\'s rejections page says a refused push\'s issues in the session language', async () => {
    const h = consoleHarness();
    await h.push(A, badUnit('REJ-1')).set('Accept-Language', 'en').expect(422);
    const a = await h.signIn(A);
    const page = (await a.get('/console/rejections').expect(200)).text;
    expect(page).toContain('REJ-1');
    expect(page).toContain('satuan &#39;lbs&#39; tidak diterima untuk body-weight');
  });
});

describe('a facility\'s hold reason', () => {
  it('ours is said in the caller\'s language (kept as a message in the store); the platform\'s words stay as written', async () => {
    const { setFacilityStatus } = await import('../../src/app/facilities.js');
    const h = harness();
    await setFacilityStatus(h.store, A, 'paused', NOW.getTime());
    expect(await h.store.getFacilityState(A)).toMatchObject({ reason: 'paused by an operator', reasonMessage: { key: 'facility-status.paused-by-operator', params: {} } });
    expect((await h.get(`/ilp/facilities/${A}`, A).expect(200)).body.reason).toBe('dijeda oleh operator');
    expect((await h.get(`/ilp/facilities/${A}`, A).set('Accept-Language', 'en').expect(200)).body.reason).toBe('paused by an operator');
    await h.store.putFacilityState({ organizationId: A, status: 'auth-failed', cause: 'credentials', reason: 'invalid_client', updatedAt: NOW.getTime() });
    expect((await h.get(`/ilp/facilities/${A}`, A).expect(200)).body.reason).toBe('invalid_client');
  });
});
