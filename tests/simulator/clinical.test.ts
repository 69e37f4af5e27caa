import request from 'supertest';
import { createSimulator } from '../../src/simulator/app.js';
import type { PayloadValidator } from '../../src/simulator/options.js';
import { issue } from '../../src/validation/outcome.js';
import { FHIR, ORG, PATIENT, encounter, immunization, location, observation, tokenFor } from './helpers.js';

const ENC_SYS = `http://sys-ids.kemkes.go.id/encounter/${ORG}`;

async function setup(opts: Parameters<typeof createSimulator>[0] = {}) {
  const sim = createSimulator({ validator: false, ...opts });
  const auth = { Authorization: `Bearer ${await tokenFor(sim.app)}` };
  const api = {
    get: (p: string) => request(sim.app).get(`${FHIR}${p}`).set(auth),
    post: (p: string, b: unknown) => request(sim.app).post(`${FHIR}${p}`).set(auth).send(b as object),
    put: (p: string, b: unknown) => request(sim.app).put(`${FHIR}${p}`).set(auth).send(b as object),
  };
  const loc = await api.post('/Location', location());
  return { sim, auth, ...api, locationId: loc.body.id as string };
}

describe('simulator Encounter / Observation / Immunization', () => {
  it('creates an Encounter (201, server UUID, meta, Location header), reads it and finds it by identifier, subject and patient', async () => {
    const { sim, get, post, locationId } = await setup();
    const res = await post('/Encounter', { ...encounter('V-1', locationId), id: 'client-chosen' });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body.meta).toMatchObject({ versionId: '1', lastUpdated: expect.stringMatching(/\+00:00$/) });
    expect(res.headers.location).toBe(`Encounter/${id}/_history/1`);
    expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
    const read = await get(`/Encounter/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.identifier[0].value).toBe('V-1');
    for (const q of [`identifier=${encodeURIComponent(`${ENC_SYS}|V-1`)}`, `subject=Patient/${PATIENT}`, `patient=${PATIENT}`, `subject=${PATIENT}`]) {
      const s = await get(`/Encounter?${q}`);
      expect(s.body.total).toBe(1);
      expect(s.body.entry[0].resource.id).toBe(id);
    }
    expect((await get(`/Encounter?identifier=${encodeURIComponent(`${ENC_SYS}|V-2`)}`)).body.total).toBe(0);
    expect(sim.state.findByIdentifier('Encounter', ENC_SYS, 'V-1')).toHaveLength(1);
  });

  it('updates with PUT only when the body carries the matching id', async () => {
    const { get, post, put, locationId } = await setup();
    const created = await post('/Encounter', encounter('V-1', locationId));
    const id = created.body.id as string;
    const noId = await put(`/Encounter/${id}`, encounter('V-1', locationId));
    expect(noId.status).toBe(400);
    expect(noId.body.issue[0].details.text).toBe('id is required');
    const other = await put(`/Encounter/${id}`, { ...encounter('V-1', locationId), id: 'another-id' });
    expect(other.status).toBe(400);
    const missing = await put('/Encounter/00000000-0000-4000-8000-000000000000', { ...encounter('V-1', locationId), id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.status).toBe(404);
    const ok = await put(`/Encounter/${id}`, { ...encounter('V-1', locationId), id, status: 'finished', period: { start: '2025-03-01T01:00:00+00:00', end: '2025-03-01T02:00:00+00:00' } });
    expect(ok.status).toBe(200);
    expect(ok.body.meta.versionId).toBe('2');
    expect(ok.headers.location).toBe(`Encounter/${id}/_history/2`);
    expect((await get(`/Encounter/${id}`)).body.period.end).toBe('2025-03-01T02:00:00+00:00');
  });

  it('refuses a second Encounter with the same identifier (20002, code duplicate) but lets PUT keep its own identifier', async () => {
    const { sim, post, put, locationId } = await setup();
    const first = await post('/Encounter', encounter('V-9', locationId));
    const dup = await post('/Encounter', encounter('V-9', locationId));
    expect(dup.status).toBe(400);
    expect(dup.body.issue).toEqual([{ severity: 'error', code: 'duplicate', details: { text: 'Found duplicate resource: Encounter (RuleNumber: 20002)' } }]);
    expect(sim.state.count('Encounter')).toBe(1);
    expect((await put(`/Encounter/${first.body.id}`, { ...encounter('V-9', locationId), id: first.body.id })).status).toBe(200);
    const second = await post('/Encounter', encounter('V-10', locationId));
    const steal = await put(`/Encounter/${second.body.id}`, { ...encounter('V-9', locationId), id: second.body.id });
    expect(steal.status).toBe(400);
    expect(steal.body.issue[0].code).toBe('duplicate');
  });

  it('refuses an Encounter whose identifier or serviceProvider names another organization (10117)', async () => {
    const { sim, post, locationId } = await setup();
    const wrongId = await post('/Encounter', encounter('V-1', locationId, '99999999'));
    expect(wrongId.status).toBe(400);
    expect(wrongId.body.issue).toContainEqual({ severity: 'error', code: 'value', details: { text: 'Wrong organization ID provided by system URL (RuleNumber: 10117)' }, expression: ['Encounter.identifier[0].system'] });
    const wrongSp = await post('/Encounter', { ...encounter('V-2', locationId), serviceProvider: { reference: 'Organization/99999999' } });
    expect(wrongSp.status).toBe(400);
    expect(wrongSp.body.issue[0].expression).toEqual(['Encounter.serviceProvider']);
    expect(wrongSp.body.issue[0].details.text).toContain('RuleNumber: 10117');
    expect(sim.state.count('Encounter')).toBe(0);
  });

  it('refuses references to a Patient, Practitioner, Location or Encounter that does not exist (20007)', async () => {
    const { sim, post, locationId } = await setup();
    const noPatient = await post('/Encounter', encounter('V-1', locationId, ORG, 'P99999999999'));
    expect(noPatient.status).toBe(400);
    expect(noPatient.body.issue[0]).toMatchObject({ code: 'not-found', details: { text: 'Resource not found Patient/P99999999999 (RuleNumber: 20007)' }, expression: ['Encounter.subject'] });
    const noLocation = await post('/Encounter', encounter('V-1', 'no-such-location'));
    expect(noLocation.body.issue[0].expression).toEqual(['Encounter.location[0].location']);
    const noEncounter = await post('/Observation', observation('O-1', 'Encounter/no-such-encounter'));
    expect(noEncounter.status).toBe(400);
    expect(noEncounter.body.issue[0].expression).toEqual(['Observation.encounter']);
    expect(sim.state.count('Encounter') + sim.state.count('Observation')).toBe(0);
  });

  it('creates Observations and Immunizations and finds them by encounter, subject/patient, identifier and date', async () => {
    const { get, post, locationId } = await setup();
    const enc = (await post('/Encounter', encounter('V-1', locationId))).body.id as string;
    const o1 = await post('/Observation', observation('O-1', `Encounter/${enc}`));
    const o2 = await post('/Observation', observation('O-2', `Encounter/${enc}`));
    expect([o1.status, o2.status]).toEqual([201, 201]);
    expect((await get(`/Observation?encounter=${enc}`)).body.total).toBe(2);
    expect((await get(`/Observation?subject=${PATIENT}&encounter=Encounter/${enc}`)).body.total).toBe(2);
    expect((await get(`/Observation?identifier=${encodeURIComponent(`http://sys-ids.kemkes.go.id/observation/${ORG}|O-2`)}`)).body.entry[0].resource.id).toBe(o2.body.id);
    expect((await get(`/Observation?identifier=O-1,O-2`)).body.total).toBe(2);
    const imm = await post('/Immunization', immunization(`Encounter/${enc}`, locationId));
    expect(imm.status).toBe(201);
    expect((await get(`/Immunization?patient=${PATIENT}&date=2025-03-01`)).body.total).toBe(1);
    expect((await get(`/Immunization?patient=${PATIENT}&date=2025-03-02`)).body.total).toBe(0);
    expect((await get(`/Immunization?encounter=${enc}`)).body.total).toBe(1);
    expect((await get(`/Immunization?date=ge2025-03-01`)).status).toBe(400);
  });

  it('keeps each organization\'s clinical data to itself', async () => {
    const sim = createSimulator({ validator: false, clients: [
      { clientId: 'a', clientSecret: 'sa', organizationId: '100' },
      { clientId: 'b', clientSecret: 'sb', organizationId: '200' },
    ] });
    const ta = { Authorization: `Bearer ${await tokenFor(sim.app, 'a', 'sa')}` };
    const tb = { Authorization: `Bearer ${await tokenFor(sim.app, 'b', 'sb')}` };
    const loc = await request(sim.app).post(`${FHIR}/Location`).set(ta).send(location('100'));
    const enc = await request(sim.app).post(`${FHIR}/Encounter`).set(ta).send(encounter('V-1', loc.body.id, '100'));
    expect(enc.status).toBe(201);
    expect((await request(sim.app).get(`${FHIR}/Encounter/${enc.body.id}`).set(tb)).status).toBe(403);
    expect((await request(sim.app).get(`${FHIR}/Encounter?subject=${PATIENT}`).set(tb)).body.total).toBe(0);
    expect((await request(sim.app).get(`${FHIR}/Encounter?subject=${PATIENT}`).set(ta)).body.total).toBe(1);
    const put = await request(sim.app).put(`${FHIR}/Encounter/${enc.body.id}`).set(tb).send({ ...encounter('V-1', loc.body.id, '200'), id: enc.body.id });
    expect(put.status).toBe(403);
  });

  it('answers malformed JSON with 20006 and a non-object body with 20005', async () => {
    const { auth, sim, post } = await setup();
    const bad = await request(sim.app).post(`${FHIR}/Encounter`).set(auth).set('Content-Type', 'application/json').send('{"resourceType":');
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].details.text).toContain('RuleNumber: 20006');
    const arr = await post('/Encounter', [1, 2]);
    expect(arr.status).toBe(400);
    expect(arr.body.issue[0].details.text).toContain('RuleNumber: 20005');
    const wrongType = await post('/Encounter', { resourceType: 'Observation' });
    expect(wrongType.status).toBe(400);
    expect((await request(sim.app).get(`${FHIR}/Patient/${PATIENT}/$everything`).set(auth)).body.issue[0].details.text).toContain('RuleNumber: 20014');
  });
});

describe('simulator server-side validation', () => {
  // Stands in for createValidator() with one profile rule, to check the wiring: rule number, expression, time and org passed.
  const seen: Array<{ now: Date; organizationId?: string }> = [];
  const validator: PayloadValidator = {
    validate(payload, ctx) {
      seen.push(ctx);
      const r = payload as { resourceType: string; period?: { end?: string } };
      if (r.resourceType === 'Encounter' && r.period?.end && new Date(r.period.end) > ctx.now) {
        return [issue('error', 'value', 'Invalid date time value: must not be in the future', 'Encounter.period.end', '10173')];
      }
      return [issue('warning', 'informational', 'just a warning')];
    },
  };

  it('returns the validator\'s errors as a 400 OperationOutcome with the rule number in details.text, ignoring warnings', async () => {
    const now = new Date('2025-03-01T01:20:00Z');
    const { sim, post, locationId } = await setup({ validator, now: () => now });
    const res = await post('/Encounter', encounter('V-1', locationId));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      resourceType: 'OperationOutcome',
      text: { status: 'generated' },
      issue: [{ severity: 'error', code: 'value', details: { text: 'Invalid date time value: must not be in the future (RuleNumber: 10173)' }, expression: ['Encounter.period.end'] }],
    });
    expect(seen.at(-1)).toEqual({ now, organizationId: ORG });
    expect(sim.state.count('Encounter')).toBe(0);
    const ok = await post('/Observation', observation('O-1', 'Encounter/x'));
    expect(ok.status).toBe(400); // the reference check still applies
  });

  it('without a validator option it loads the service validator', async () => {
    const sim = createSimulator({});
    await expect(sim.ready).resolves.toBeUndefined();
    const token = await tokenFor(sim.app);
    const res = await request(sim.app).post(`${FHIR}/Encounter`).set('Authorization', `Bearer ${token}`).send({ resourceType: 'Encounter' });
    expect(res.status).toBe(400);
    expect(res.body.issue.some((i: { details: { text: string } }) => /RuleNumber: \d{5}/.test(i.details.text))).toBe(true);
  });
});

describe('simulator: the visit diagnosis (rule 10457, Condition)', () => {
  const bare = (locationId: string, status: string) => {
    const e = { ...encounter('V-DX', locationId), status };
    delete (e as { diagnosis?: unknown }).diagnosis;
    return e;
  };

  it('refuses a finished Encounter without diagnosis with the recorded staging text, by default; accepts an in-progress one', async () => {
    const { post, locationId } = await setup();
    const refused = await post('/Encounter', bare(locationId, 'finished'));
    expect(refused.status).toBe(400);
    expect(refused.body.issue.map((i: { details: { text: string } }) => i.details.text)).toEqual(['Element not found: Encounter.diagnosis (RuleNumber: 10457)']);
    expect((await post('/Encounter', bare(locationId, 'in-progress'))).status).toBe(201);
  });

  it('with requireDiagnosis false accepts it, also when the service validator runs (the option is not bypassed by the rule data)', async () => {
    const { sim, post, locationId } = await setup({ requireDiagnosis: false, validator: undefined });
    await sim.ready;
    expect((await post('/Encounter', bare(locationId, 'finished'))).status).toBe(201);
    // The validator does run: another Encounter rule still refuses.
    const noSubject = bare(locationId, 'finished');
    delete (noSubject as { subject?: unknown }).subject;
    const refused = await post('/Encounter', noSubject);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('RuleNumber: 10118');
    expect(JSON.stringify(refused.body)).not.toContain('10457');
  });

  it('stores Conditions from a transaction and finds them by encounter, subject and identifier', async () => {
    const { post, get, locationId } = await setup();
    const dxSys = `http://sys-ids.kemkes.go.id/condition/${ORG}`;
    const enc = { ...encounter('V-DX2', locationId), diagnosis: [{ condition: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000002' }, rank: 1 }] };
    const condition = {
      resourceType: 'Condition',
      identifier: [{ system: dxSys, value: 'V-DX2.dx.Z00.1' }],
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'Z00.1' }] },
      subject: { reference: `Patient/${PATIENT}` },
      encounter: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' },
      recordedDate: '2025-03-01T01:30:00+00:00',
    };
    const res = await post('', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: enc, request: { method: 'POST', url: 'Encounter' } },
        { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002', resource: condition, request: { method: 'POST', url: 'Condition' } },
      ],
    });
    expect(res.status).toBe(200);
    const [encId, dxId] = res.body.entry.map((e: { response: { location: string } }) => e.response.location.split('/')[1]);
    const storedEnc = await get(`/Encounter/${encId}`);
    expect(storedEnc.body.diagnosis[0].condition.reference).toBe(`Condition/${dxId}`);
    for (const q of [`encounter=${encId}`, `subject=Patient/${PATIENT}`, `identifier=${encodeURIComponent(`${dxSys}|V-DX2.dx.Z00.1`)}`]) {
      const s = await get(`/Condition?${q}`);
      expect(s.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([dxId]);
    }
  });
});
