// The simulator's defaults answer as SATUSEHAT was recorded answering (../shared/platform-responses; each test names the
// file it mirrors). Bodies are compared with the recorded one when PLATFORM_RESPONSES_DIR is set, else with a literal copy.
import request from 'supertest';
import { createSimulator } from '../../src/simulator/app.js';
import type { PayloadValidator, SimulatorOptions } from '../../src/simulator/options.js';
import { FHIR, ORG, PATIENT, condition, encounter, entry, location, tokenFor, uuid, withDiagnosis } from './helpers.js';
import { keyShape, recordedBody } from './recorded.js';

const T0 = Date.UTC(2025, 6, 31, 4, 21, 25, 353);
const TOKEN_URL = '/oauth2/v1/accesstoken?grant_type=client_credentials';
const NIK_SYS = 'https://fhir.kemkes.go.id/id/nik';
const NIK_IBU_SYS = 'https://fhir.kemkes.go.id/id/nik-ibu';

async function setup(opts: SimulatorOptions = {}) {
  let t = T0;
  const sim = createSimulator({ validator: false, seed: 11, clock: () => t, ...opts });
  const auth = { Authorization: `Bearer ${await tokenFor(sim.app)}` };
  const agent = request(sim.app);
  return {
    sim,
    tick: (ms: number) => { t += ms; },
    get: (p: string) => agent.get(`${FHIR}${p}`).set(auth),
    post: (p: string, b: unknown) => agent.post(`${FHIR}${p}`).set(auth).send(b as object),
    put: (p: string, b: unknown) => agent.put(`${FHIR}${p}`).set(auth).send(b as object),
  };
}

const patientBody = (identifier: { system: string; value: string }, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  identifier: [{ use: 'official', ...identifier }],
  active: true,
  name: [{ use: 'official', text: 'Sari Ayu Rini' }],
  gender: 'female',
  birthDate: '2025-01-02',
  multipleBirthInteger: 0,
  ...extra,
});

describe('simulator token, as recorded (token-success-production.json)', () => {
  it('answers expires_in "14399", every field a string, issued_at in epoch ms, token_type BearerToken', async () => {
    const sim = createSimulator({ validator: false, clock: () => T0 });
    const res = await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ expires_in: '14399', token_type: 'BearerToken', issued_at: String(T0) });
    const recorded = recordedBody('token-success-production.json', {
      refresh_token_expires_in: '0', api_product_list: '[api-satusehat-prod]', api_product_list_json: ['api-satusehat-prod'],
      organization_name: 'ihs-prod-1', 'developer.email': 'x@gmail.com', token_type: 'BearerToken', issued_at: '1716174537465',
      client_id: 'x', access_token: 'x', application_name: 'x', scope: '', expires_in: '14399', refresh_count: '0', status: 'approved',
    });
    expect(keyShape(res.body)).toEqual(keyShape(recorded));
  });

  it('keeps tokenExpiryS for the documented 3599', async () => {
    const sim = createSimulator({ validator: false, tokenExpiryS: 3599 });
    const res = await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(res.body.expires_in).toBe('3599');
  });
});

describe('simulator 401, as recorded (error-401-invalid-access-token.json)', () => {
  const RECORDED_401 =
    '\n        {\n          "resourceType": "OperationOutcome",\n          "issue": [\n            {\n              "severity": "error",\n' +
    '              "code": "invalid-access-token",\n              "details": {\n                "text": "Invalid Access Token."\n' +
    '              }\n            }\n          ]\n        }\n        ';

  it('answers a missing, unknown or expired token with the padded Apigee template, byte for byte', async () => {
    const { sim, tick } = await setup({ tokenExpiryS: 60 });
    const token = await tokenFor(sim.app);
    tick(60_000);
    const expected = recordedBody('error-401-invalid-access-token.json', RECORDED_401);
    for (const authz of [undefined, 'Bearer not-a-token', `Bearer ${token}`]) {
      const req = request(sim.app).get(`${FHIR}/Patient/${PATIENT}`);
      const res = await (authz ? req.set('Authorization', authz) : req).buffer(true).parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => { text += c.toString(); });
        r.on('end', () => cb(null, text));
      });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toBe(expected);
    }
  });

  it("errorStyle 'documented' keeps a plain OperationOutcome naming the reason", async () => {
    const sim = createSimulator({ validator: false, errorStyle: 'documented' });
    const res = await request(sim.app).get(`${FHIR}/Patient/${PATIENT}`);
    expect(res.status).toBe(401);
    expect(res.body.issue[0]).toMatchObject({ code: 'login', details: { text: 'Authorization: Bearer <access_token> is required' } });
  });
});

describe('simulator Patient create, as recorded (patient-create-newborn-200-success/duplicate-postman.json)', () => {
  const SUCCESS = { success: true, message: 'New Patient has been created successfully', data: { 'Patient ID:': 'P02029102701' } };
  const DUPLICATE = { success: false, message: 'Failed to create new patient, another identifier has found', data: { resourceID: 'P02029102427' } };

  it('creates by NIK with HTTP 200 and data["Patient ID:"]; a second create answers 200 success:false naming the existing id', async () => {
    const { sim, post } = await setup();
    const first = await post('/Patient', patientBody({ system: NIK_SYS, value: '3171014501900003' }));
    expect(first.status).toBe(200);
    const recorded = recordedBody('patient-create-newborn-200-success-postman.json', SUCCESS) as typeof SUCCESS;
    expect(keyShape(first.body)).toEqual(keyShape(recorded));
    expect(first.body.message).toBe(recorded.message);
    const id = first.body.data['Patient ID:'] as string;
    expect(id).toMatch(/^P\d{11}$/);
    expect(sim.state.get('Patient', id)).toBeDefined();
    // The duplicate body was recorded for a newborn; an adult NIK duplicate is answered the same way.
    const again = await post('/Patient', patientBody({ system: NIK_SYS, value: '3171014501900003' }));
    expect(again.status).toBe(200);
    const dup = recordedBody('patient-create-newborn-200-duplicate-postman.json', DUPLICATE) as typeof DUPLICATE;
    expect(keyShape(again.body)).toEqual(keyShape(dup));
    expect(again.body).toEqual({ ...dup, data: { resourceID: id } });
    expect(sim.state.findByIdentifier('Patient', NIK_SYS, '3171014501900003')).toHaveLength(1);
  });

  it("creates newborns under the mother's NIK the same way; a duplicate names the existing child, a twin is new", async () => {
    const { post } = await setup();
    const mother = { system: NIK_IBU_SYS, value: '3171014501900003' };
    const first = await post('/Patient', patientBody(mother));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ success: true, message: SUCCESS.message });
    const child = first.body.data['Patient ID:'] as string;
    const twin = await post('/Patient', patientBody(mother, { multipleBirthInteger: 1 }));
    expect(twin.body.success).toBe(true);
    expect(twin.body.data['Patient ID:']).not.toBe(child);
    const dup = await post('/Patient', patientBody(mother));
    expect(dup.status).toBe(200);
    expect(dup.body).toEqual({ success: false, message: DUPLICATE.message, data: { resourceID: child } });
  });

  it("patientCreateBody 'documented': 201 with data.patient_id (create_patient for newborns) and 400 rule 20002 on a duplicate", async () => {
    const { post } = await setup({ patientCreateBody: 'documented' });
    const adult = await post('/Patient', patientBody({ system: NIK_SYS, value: '3171014501900003' }));
    expect(adult.status).toBe(201);
    expect(adult.body).toEqual({ success: true, data: { patient_id: expect.stringMatching(/^P\d{11}$/) } });
    const baby = await post('/Patient', patientBody({ system: NIK_IBU_SYS, value: '3171014501900003' }));
    expect(baby.body.create_patient.data.patient_id).toMatch(/^P\d{11}$/);
    const dup = await post('/Patient', patientBody({ system: NIK_SYS, value: '3171014501900003' }));
    expect(dup.status).toBe(400);
    expect(dup.body.issue[0]).toMatchObject({ code: 'duplicate', details: { text: 'Found duplicate resource: Patient (RuleNumber: 20002)' } });
  });
});

describe('simulator errors, Google style where recorded', () => {
  it('reads a missing id as 404 storage_error (error-404-read-not-found.json)', async () => {
    const { get } = await setup();
    const res = await get('/Organization/111');
    expect(res.status).toBe(404);
    const recorded = recordedBody('error-404-read-not-found.json', {
      issue: [{ code: 'no-store', details: { text: 'storage_error' }, diagnostics: 'resource not found: Organization/111', severity: 'error' }],
      resourceType: 'OperationOutcome',
    });
    expect(res.body).toEqual(recorded);
    expect(Object.keys(res.body)).toEqual(Object.keys(recorded as object)); // alphabetic, no narrative
    const enc = await get('/Encounter/00000000-0000-4000-8000-000000000000');
    expect(enc.body.issue[0].diagnostics).toBe('resource not found: Encounter/00000000-0000-4000-8000-000000000000');
  });

  it('refuses a reference to an id that does not exist with 400 reference_not_found (error-400-reference-not-found.json)', async () => {
    const { post, sim } = await setup();
    const res = await post('/Location', { ...location(), managingOrganization: { reference: 'Organization/undefined' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(recordedBody('error-400-reference-not-found.json', {
      issue: [{ code: 'value', details: { text: 'reference_not_found' }, diagnostics: 'reference target(s) not found: Organization/undefined', severity: 'error' }],
      resourceType: 'OperationOutcome',
    }));
    expect(sim.state.count('Location')).toBe(0);
  });

  it('fails a transaction with a missing reference target by reference_not_found alone, storing nothing', async () => {
    const { post, sim } = await setup({ requireDiagnosis: false });
    const loc = (await post('/Location', location())).body.id as string;
    const res = await post('', { resourceType: 'Bundle', type: 'transaction', entry: [
      entry(uuid(1), encounter('V-1', loc)),
      entry(uuid(2), { ...condition(uuid(1)), subject: { reference: 'Patient/P99999999999' } }),
    ] });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      issue: [{ code: 'value', details: { text: 'reference_not_found' }, diagnostics: 'reference target(s) not found: Patient/P99999999999', severity: 'error' }],
      resourceType: 'OperationOutcome',
    });
    expect(sim.state.count('Encounter') + sim.state.count('Condition')).toBe(0);
  });

  it('answers an unparseable body with unparseable_resource', async () => {
    const { sim } = await setup();
    const res = await request(sim.app).post(`${FHIR}/Encounter`).set('Authorization', `Bearer ${await tokenFor(sim.app)}`)
      .set('Content-Type', 'application/fhir+json').send('{"resourceType": "Encounter",');
    expect(res.status).toBe(400);
    expect(Object.keys(res.body)).toEqual(['issue', 'resourceType']);
    expect(res.body.issue[0]).toMatchObject({ code: 'structure', details: { text: 'unparseable_resource' }, severity: 'error' });
    expect(typeof res.body.issue[0].diagnostics).toBe('string');
  });

  it('answers an empty search value with invalid_query naming the parameter (error-400-invalid-query.json)', async () => {
    const { get } = await setup();
    const res = await get('/Location?name=&identifier=undefined');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(recordedBody('error-400-invalid-query.json', {
      issue: [{ code: 'value', details: { text: 'invalid_query' }, diagnostics: 'invalid value for query: "name"', severity: 'error' }],
      resourceType: 'OperationOutcome',
    }));
  });

  it.each([
    ['Location', 'error-400-duplicate-location.json'],
    ['Organization', 'error-400-duplicate-organization.json'],
  ])('refuses a second %s with the same identifier: "Found duplicate: <Type>" without rule number (%s)', async (type, file) => {
    const { post } = await setup();
    const body = type === 'Location'
      ? location()
      : { resourceType: 'Organization', active: true, identifier: [{ use: 'official', system: `http://sys-ids.kemkes.go.id/organization/${ORG}`, value: 'Pos Imunisasi' }], name: 'Pos Imunisasi', partOf: { reference: `Organization/${ORG}` } };
    expect((await post(`/${type}`, body)).status).toBe(201);
    const dup = await post(`/${type}`, body);
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual(recordedBody(file, { resourceType: 'OperationOutcome', text: { status: 'generated' }, issue: [{ severity: 'error', code: 'duplicate', details: { text: `Found duplicate: ${type}` } }] }));
  });

  it("errorStyle 'documented' keeps the rule numbers (20007 on a missing id, 20002 on a duplicate, 20006 on bad JSON)", async () => {
    const { get, post, sim } = await setup({ errorStyle: 'documented' });
    expect((await get('/Organization/111')).body.issue[0].details.text).toBe('Resource not found Organization/111 (RuleNumber: 20007)');
    await post('/Location', location());
    expect((await post('/Location', location())).body.issue[0].details.text).toBe('Found duplicate resource: Location (RuleNumber: 20002)');
    const bad = await request(sim.app).post(`${FHIR}/Encounter`).set('Authorization', `Bearer ${await tokenFor(sim.app)}`).set('Content-Type', 'application/json').send('{');
    expect(bad.body.issue[0].details.text).toContain('RuleNumber: 20006');
  });

  it('injects 500 as the Apigee fault JSON and 504 as plain text "Gateway Timeout" (error-5xx-gateway-timeout-text-docexample.json)', async () => {
    const { get } = await setup({ errorRate5xx: 1 });
    const seen = new Map<number, { type: string; text: string }>();
    for (let i = 0; i < 40 && !(seen.has(500) && seen.has(504)); i++) {
      const res = await get(`/Patient/${PATIENT}`);
      seen.set(res.status, { type: String(res.headers['content-type']), text: res.text });
    }
    const fault = seen.get(500)!;
    expect(fault.type).toMatch(/^application\/json/);
    const body = JSON.parse(fault.text);
    expect(keyShape(body)).toEqual({ fault: { detail: { errorcode: 'string' }, faultstring: 'string' } });
    const timeout = seen.get(504)!;
    expect(timeout.type).toMatch(/^text\/plain/);
    expect(timeout.text).toBe(recordedBody('error-5xx-gateway-timeout-text-docexample.json', 'Gateway Timeout'));
  });
});

describe('simulator writes, as recorded', () => {
  const RECORDED_TX = {
    entry: [{ response: { etag: 'W/"MTc1MzkzNTY4NTM1MzIzOTAwMA"', lastModified: '2025-07-31T04:21:25.353239+00:00', location: 'https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1/AllergyIntolerance/d59a46cc-be28-49df-98fd-3973e87d68c0/_history/MTc1MzkzNTY4NTM1MzIzOTAwMA', status: '201 Created', resourceType: 'AllergyIntolerance', resourceID: 'd59a46cc-be28-49df-98fd-3973e87d68c0' } }],
    resourceType: 'Bundle', type: 'transaction-response', total: 1,
  };

  it('answers a transaction with absolute locations, one opaque version for all entries, resourceType/resourceID and total (bundle-transaction-response-staging.json)', async () => {
    const { post, sim } = await setup();
    const loc = (await post('/Location', location())).body.id as string;
    const res = await post('', { resourceType: 'Bundle', type: 'transaction', entry: [
      entry(uuid(1), withDiagnosis(encounter('V-1', loc), uuid(2))),
      entry(uuid(2), condition(uuid(1))),
    ] });
    expect(res.status).toBe(200);
    const recorded = recordedBody('bundle-transaction-response-staging.json', RECORDED_TX) as typeof RECORDED_TX;
    expect(keyShape(res.body)).toEqual(keyShape(recorded));
    expect(res.body.total).toBe(2);
    const [enc, cond] = res.body.entry.map((e: { response: Record<string, string>; resource?: unknown }) => {
      expect(e.resource).toBeUndefined();
      return e.response;
    });
    const origin = new URL(res.request.url).origin;
    expect(enc.location).toBe(`${origin}/fhir-r4/v1/Encounter/${enc.resourceID}/_history/${enc.etag.slice(3, -1)}`);
    expect(cond.location).toBe(`${origin}/fhir-r4/v1/Condition/${cond.resourceID}/_history/${enc.etag.slice(3, -1)}`);
    expect([enc.resourceType, cond.resourceType]).toEqual(['Encounter', 'Condition']);
    expect(cond.etag).toBe(enc.etag);
    expect(cond.lastModified).toBe(enc.lastModified);
    // versionId = base64 (unpadded) of the commit's nanosecond timestamp, like MTc1MzkzNTY4NTM1MzIzOTAwMA
    const vid = enc.etag.slice(3, -1);
    expect(vid).toMatch(/^[A-Za-z0-9+/]+$/);
    const ns = Buffer.from(vid, 'base64').toString();
    expect(ns).toMatch(/^\d{19}$/);
    expect(Number(BigInt(ns) / 1_000_000n)).toBeGreaterThanOrEqual(T0);
    expect(enc.lastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    // The urn:uuid reference inside Encounter.diagnosis.condition points at the stored Condition.
    expect(sim.state.get('Encounter', enc.resourceID)!.diagnosis[0].condition.reference).toBe(`Condition/${cond.resourceID}`);
    expect(sim.state.get('Condition', cond.resourceID)!.encounter.reference).toBe(`Encounter/${enc.resourceID}`);
  });

  it('answers a single create with the Google Cloud Healthcare Location header, opaque ETag and a UTC Last-Modified (encounter-create-201-postman.json)', async () => {
    const { post } = await setup();
    const res = await post('/Location', location());
    expect(res.status).toBe(201);
    const vid = res.body.meta.versionId as string;
    expect(res.headers.location).toMatch(new RegExp(`^https://healthcare\\.googleapis\\.com/v1/projects/[^/]+/locations/[^/]+/datasets/[^/]+/fhirStores/[^/]+/fhir/Location/${res.body.id}/_history/${vid}$`));
    expect(res.headers.etag).toBe(`W/"${vid}"`);
    expect(res.headers['last-modified']).toBe('Thu, 31 Jul 2025 04:21:25 UTC');
  });

  it('answers PUT of a new id with 201 and of an existing one with 200, in a single request and in a transaction (diagnostic-report-put-201-postman.json)', async () => {
    const { put, post, sim } = await setup();
    const id = '5a9f3c1e-0000-4000-8000-000000000001';
    const created = await put(`/Location/${id}`, { ...location(), id });
    expect(created.status).toBe(201);
    const updated = await put(`/Location/${id}`, { ...location(), id, name: 'Posyandu Melati' });
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).not.toBe(created.body.meta.versionId);
    const other = '5a9f3c1e-0000-4000-8000-000000000002';
    const tx = await post('', { resourceType: 'Bundle', type: 'transaction', entry: [
      entry(uuid(1), { ...location(ORG, 'POSY-2'), id: other }, 'PUT', `Location/${other}`),
      entry(uuid(2), { ...location(), id, name: 'Posyandu Mawar' }, 'PUT', `Location/${id}`),
    ] });
    expect(tx.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '200 OK']);
    expect(sim.state.get('Location', other)).toBeDefined();
  });
});

describe('simulator searchsets, as recorded', () => {
  it('answers zero hits with "entry": [], total 0 and links search/first/self on /<Type>/? (patient-search-nik-production-0-hits.json)', async () => {
    const { get } = await setup();
    const res = await get(`/Patient?identifier=${encodeURIComponent(`${NIK_SYS}|3171014501900003`)}`);
    expect(res.status).toBe(200);
    const recorded = recordedBody('patient-search-nik-production-0-hits.json', {
      link: ['search', 'first', 'self'].map((relation) => ({ relation, url: 'https://api-satusehat.kemkes.go.id/fhir-r4/v1/Patient/?identifier=https%3A%2F%2Ffhir.kemkes.go.id%2Fid%2Fnik%7C9999999999999999' })),
      resourceType: 'Bundle', total: 0, type: 'searchset', entry: [],
    }) as { link: { relation: string }[] };
    expect(keyShape(res.body)).toEqual(keyShape(recorded));
    expect(res.body.entry).toEqual([]);
    expect(res.body.total).toBe(0);
    expect(res.body.link.map((l: { relation: string }) => l.relation)).toEqual(recorded.link.map((l) => l.relation));
    expect(res.body.link[2].url).toMatch(/\/fhir-r4\/v1\/Patient\/\?identifier=https%3A%2F%2Ffhir\.kemkes\.go\.id%2Fid%2Fnik%7C/);
    expect(res.body.link[2].url).not.toContain('3171014501900003');
  });

  it('drops a parameter the platform does not honour, echoing only the kept ones sorted (practitioner-search-name-production-0-hits.json)', async () => {
    const { get } = await setup();
    const res = await get('/Practitioner?name=Voigt&gender=male&birthdate=1945');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(0);
    const params = [...new URL(res.body.link[0].url).searchParams.keys()];
    const recorded = recordedBody('practitioner-search-name-production-0-hits.json', {
      link: [{ relation: 'search', url: 'https://api-satusehat.kemkes.go.id/fhir-r4/v1/Practitioner/?gender=male&name=Voigt' }],
    }) as { link: { url: string }[] };
    expect(params).toEqual([...new URL(recorded.link[0].url).searchParams.keys()]);
  });

  it('answers a search whose parameters are all dropped unfiltered, as the platform does (Immunization?encounter)', async () => {
    const { post, get } = await setup();
    const loc = (await post('/Location', location())).body.id as string;
    const e1 = (await post('/Encounter', { ...encounter('V-1', loc), status: 'in-progress' })).body.id as string;
    const e2 = (await post('/Encounter', { ...encounter('V-2', loc), status: 'in-progress' })).body.id as string;
    await post('/Condition', condition(`Encounter/${e1}`));
    await post('/Condition', condition(`Encounter/${e2}`));
    // Condition honours encounter: filtered.
    expect((await get(`/Condition?encounter=${e1}`)).body.total).toBe(1);
    // Encounter does not honour status: dropped, so subject alone decides.
    const bySubject = await get(`/Encounter?subject=${PATIENT}&status=finished`);
    expect(bySubject.body.total).toBe(2);
    expect(bySubject.body.entry[0].search).toEqual({ mode: 'match' }); // kept outside master data, as in the 2022 Encounter search
    // Condition?identifier is not honoured either: nothing is left, the answer is every Condition of the organization.
    expect((await get('/Condition?identifier=x|y')).body.total).toBe(2);
  });

  it('strictSearch answers an unsupported parameter with 400 invalid_query instead', async () => {
    const { get } = await setup({ strictSearch: true });
    const res = await get('/Practitioner?name=Voigt&birthdate=1945');
    expect(res.status).toBe(400);
    expect(res.body.issue[0]).toMatchObject({ code: 'value', details: { text: 'invalid_query' }, diagnostics: 'unsupported parameter for query: "birthdate"' });
  });

  it("scopes Location searches to the caller's organization and says so in the links (location-search-identifier-production-1-hit.json)", async () => {
    const clients = [{ clientId: 'a', clientSecret: 'sa', organizationId: '100027857' }, { clientId: 'b', clientSecret: 'sb', organizationId: '100027858' }];
    const sim = createSimulator({ validator: false, clients });
    const as = async (c: (typeof clients)[number]) => ({ Authorization: `Bearer ${await tokenFor(sim.app, c.clientId, c.clientSecret)}` });
    const a = await as(clients[0]);
    const b = await as(clients[1]);
    await request(sim.app).post(`${FHIR}/Location`).set(a).send(location('100027857', 'GT1-R-IGD-PONEK'));
    await request(sim.app).post(`${FHIR}/Location`).set(b).send(location('100027858', 'GT1-R-IGD-PONEK'));
    const res = await request(sim.app).get(`${FHIR}/Location?identifier=${encodeURIComponent('http://sys-ids.kemkes.go.id/location/100027857|GT1-R-IGD-PONEK')}`).set(a);
    expect(res.body.total).toBe(1);
    expect(res.body.entry[0].search).toBeUndefined();
    const recorded = recordedBody('location-search-identifier-production-1-hit.json', {
      link: [{ relation: 'search', url: 'https://api-satusehat.kemkes.go.id/fhir-r4/v1/Location/?identifier=http%3A%2F%2Fsys-ids.kemkes.go.id%2Flocation%2F100027857%7CGT1-R-IGD-PONEK&organization=100027857' }],
    }) as { link: { url: string }[] };
    const self = new URL(res.body.link[2].url);
    expect(self.pathname).toBe('/fhir-r4/v1/Location/');
    expect(self.searchParams.get('organization')).toBe(new URL(recorded.link[0].url).searchParams.get('organization'));
    const byName = await request(sim.app).get(`${FHIR}/Location?name=posyandu`).set(b);
    expect(byName.body.total).toBe(1);
    expect(byName.body.entry[0].resource.managingOrganization.reference).toBe('Organization/100027858');
  });

  it('returns at most 100 entries with the full total and no next link (README of the recordings, §9: 100 of 722)', async () => {
    const { post, get } = await setup();
    const loc = (await post('/Location', location())).body.id as string;
    const enc = (await post('/Encounter', { ...encounter('V-1', loc), status: 'in-progress' })).body.id as string;
    for (let i = 0; i < 101; i++) await post('/Condition', condition(`Encounter/${enc}`));
    const res = await get(`/Condition?encounter=${enc}`);
    expect(res.body.total).toBe(101);
    expect(res.body.entry).toHaveLength(100);
    expect(res.body.link.map((l: { relation: string }) => l.relation)).not.toContain('next');
  });

  describe('Patient search views', () => {
    const seeds: SimulatorOptions = {
      sandboxSeeds: false,
      patients: [
        { id: 'P00491375203', nik: '3171014501900003', name: 'Sari Ayu Rini', gender: 'female', birthDate: '1990-01-05' },
        { id: 'P20395049704', motherNik: '3171014501900003', name: 'Sintia Aja', birthDate: '2024-11-30', multipleBirthInteger: 0 },
      ],
    };
    const byNik = `/Patient?identifier=${encodeURIComponent(`${NIK_SYS}|3171014501900003`)}`;
    const byMother = `/Patient?identifier=${encodeURIComponent(`${NIK_IBU_SYS}|3171014501900003`)}`;

    it("'ids-only' (default, staging Sep 2026): id, identifier with the NIK masked, meta; the mother's NIK unmasked (patient-search-nik-ibu-staging-12-hits.json)", async () => {
      const { get } = await setup(seeds);
      const res = await get(byNik);
      expect(res.body.entry[0].search).toBeUndefined();
      const hit = res.body.entry[0].resource;
      expect(Object.keys(hit).sort()).toEqual(['id', 'identifier', 'meta', 'resourceType']);
      expect(hit.identifier.find((i: { system: string }) => i.system === NIK_SYS).value).toBe('################');
      const baby = (await get(byMother)).body.entry[0].resource;
      expect(baby.identifier.find((i: { system: string }) => i.system === NIK_IBU_SYS).value).toBe('3171014501900003');
      expect(baby.multipleBirthInteger).toBeUndefined();
      expect(baby.birthDate).toBeUndefined();
    });

    it("'masked' masks each name word; 'full' keeps the record; both mask the NIK (patient-search-nik-staging-2025-full.json)", async () => {
      const masked = (await (await setup({ ...seeds, patientSearchView: 'masked' })).get(byNik)).body.entry[0].resource;
      expect(masked.name[0].text).toBe('Sa** Ay** Ri**');
      expect(masked.identifier.find((i: { system: string }) => i.system === NIK_SYS).value).toBe('################');
      const full = (await (await setup({ ...seeds, patientSearchView: 'full' })).get(byMother)).body.entry[0].resource;
      expect(full).toMatchObject({ name: [{ text: 'Sintia Aja' }], birthDate: '2024-11-30', multipleBirthInteger: 0 });
    });
  });

  it('returns the Practitioner NIK unmasked (practitioner-search-nik-production.json)', async () => {
    const { get } = await setup();
    const res = await get(`/Practitioner?identifier=${encodeURIComponent(`${NIK_SYS}|7209061211900001`)}`);
    expect(res.body.total).toBe(1);
    expect(res.body.entry[0].search).toBeUndefined();
    expect(res.body.entry[0].resource.identifier.find((i: { system: string }) => i.system === NIK_SYS).value).toBe('7209061211900001');
  });
});

describe('simulator rule 10457: a finished Encounter needs a diagnosis (error-400-rule-10457-encounter-needs-diagnosis-staging.json)', () => {
  const RECORDED_10457 = { resourceType: 'OperationOutcome', text: { status: 'generated' }, issue: [{ severity: 'error', code: 'value', details: { text: 'Element not found: Encounter.diagnosis (RuleNumber: 10457)' } }] };

  it('refuses a finished Encounter without diagnosis (POST, PUT, transaction) and accepts an in-progress one', async () => {
    const { post, put, sim } = await setup();
    const loc = (await post('/Location', location())).body.id as string;
    const expected = recordedBody('error-400-rule-10457-encounter-needs-diagnosis-staging.json', RECORDED_10457);
    const finished = await post('/Encounter', encounter('V-1', loc));
    expect(finished.status).toBe(400);
    expect(finished.body).toEqual(expected);
    const open = await post('/Encounter', { ...encounter('V-1', loc), status: 'in-progress' });
    expect(open.status).toBe(201);
    const id = open.body.id as string;
    const close = await put(`/Encounter/${id}`, { ...encounter('V-1', loc), id });
    expect(close.status).toBe(400);
    expect(close.body).toEqual(expected);
    const tx = await post('', { resourceType: 'Bundle', type: 'transaction', entry: [entry(uuid(1), encounter('V-2', loc))] });
    expect(tx.status).toBe(400);
    expect(tx.body.issue[0]).toEqual(RECORDED_10457.issue[0]);
    // Closing it with its diagnosis works: Condition first, then the finished Encounter naming it.
    const cond = (await post('/Condition', condition(`Encounter/${id}`))).body.id as string;
    expect((await put(`/Encounter/${id}`, withDiagnosis({ ...encounter('V-1', loc), id }, `Condition/${cond}`))).status).toBe(200);
    expect(sim.state.count('Encounter')).toBe(1);
  });

  const validatorWith10457: PayloadValidator = {
    validate: (r) => ((r as { resourceType?: string; diagnosis?: unknown }).resourceType === 'Encounter' && !(r as { diagnosis?: unknown }).diagnosis
      // The rule as state (Issue.rule, as the service validator sets it): the simulator decides on that, not on the text.
      ? [{ severity: 'error', code: 'required', diagnostics: 'Encounter.diagnosis is required for a finished Encounter (Rule Number: 10457)', expression: ['Encounter.diagnosis'], rule: '10457' }]
      : []),
  };

  it("answers one issue exactly as recorded when the service validator also reports 10457, and requireDiagnosis false drops the validator's 10457", async () => {
    const on = await setup({ validator: validatorWith10457 });
    const loc = (await on.post('/Location', location())).body.id as string;
    const refused = await on.post('/Encounter', encounter('V-1', loc));
    expect(refused.body).toEqual(RECORDED_10457);
    const off = await setup({ validator: validatorWith10457, requireDiagnosis: false });
    const loc2 = (await off.post('/Location', location())).body.id as string;
    expect((await off.post('/Encounter', encounter('V-1', loc2))).status).toBe(201);
  });

  it('stores and serves Condition: read, search by subject and encounter', async () => {
    const { post, get } = await setup();
    const loc = (await post('/Location', location())).body.id as string;
    const enc = (await post('/Encounter', { ...encounter('V-1', loc), status: 'in-progress' })).body.id as string;
    const created = await post('/Condition', condition(`Encounter/${enc}`));
    expect(created.status).toBe(201);
    expect((await get(`/Condition/${created.body.id}`)).body.code.coding[0].code).toBe('Z00.1');
    expect((await get(`/Condition?subject=${PATIENT}`)).body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([created.body.id]);
    expect((await get(`/Condition?encounter=Encounter/${enc}`)).body.total).toBe(1);
    const missingEncounter = await post('/Condition', condition('Encounter/00000000-0000-4000-8000-000000000009'));
    expect(missingEncounter.body.issue[0].details.text).toBe('reference_not_found');
  });
});
