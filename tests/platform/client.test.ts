import nock from 'nock';
import type { Bundle, Location, Patient } from 'fhir/r4.js';
import { createPlatformClient, idsFromTransactionResponse, parseLocation, patientIdFromCreateResponse, NIK_SYSTEM, NIK_IBU_SYSTEM } from '../../src/platform/client.js';
import { createFacilityLimiter } from '../../src/platform/limiter.js';
import { PlatformError } from '../../src/platform/types.js';
import { AUTH_ORIGIN, AUTH_PATH, FHIR_ORIGIN, FHIR_PATH, NIK, ORG, SECRET, captureLogger, errorText, facility, tokenBody, BAD_CREDENTIALS, failure, nockLifecycle } from './helpers.js';
import { eventually } from '../helpers/eventually.js';

const MOTHER_NIK = '9204014804000002';
const PRACT_NIK = '7209061211900001';

const limiters = nockLifecycle();

// Read retries are off unless a test is about them: every other test pairs one interceptor with one exchange.
function setup(opts: { quota?: number; timeoutMs?: number; maxPages?: number; readRetries?: number; delays?: number[]; random?: () => number } = {}) {
  const { logger, entries } = captureLogger();
  const limiter = createFacilityLimiter(ORG, { quotaPerMinute: opts.quota ?? 150 });
  limiters.push(limiter);
  const delays = opts.delays ?? [];
  const client = createPlatformClient(facility(), {
    limiter, logger, timeoutMs: opts.timeoutMs, maxPages: opts.maxPages, readRetries: opts.readRetries ?? 0,
    sleep: async (ms) => { delays.push(ms); }, random: opts.random,
  });
  return { client, limiter, entries };
}

/** Token endpoint answering T1, T2, … in turn. */
function tokenEndpoint(times = 1) {
  let n = 0;
  return nock(AUTH_ORIGIN).post(AUTH_PATH).query({ grant_type: 'client_credentials' }).times(times).reply(() => [200, tokenBody(`T${++n}`)]);
}

const fhir = (token = 'T1') => nock(`${FHIR_ORIGIN}${FHIR_PATH}`, { reqheaders: { authorization: `Bearer ${token}` } });

const searchset = (resources: object[], next?: string): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  ...(resources.length ? { entry: resources.map((r) => ({ resource: r as never, search: { mode: 'match' as const } })) } : {}),
  ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
});

const maskedPatient = (id: string) => ({
  resourceType: 'Patient',
  id,
  identifier: [
    { system: 'https://fhir.kemkes.go.id/id/ihs-number', value: id },
    { system: NIK_SYSTEM, value: '################' },
  ],
});

const nikQuery = { identifier: `${NIK_SYSTEM}|${NIK}` };

describe('identity searches', () => {
  it('findPatientByNik: GET Patient?identifier=…/nik|NIK with the bearer token → IHS number', async () => {
    tokenEndpoint();
    const scope = fhir().get('/Patient').query(nikQuery).reply(200, searchset([maskedPatient('P02478375538')]));
    const { client } = setup();
    await expect(client.findPatientByNik(NIK)).resolves.toBe('P02478375538');
    expect(scope.isDone()).toBe(true);
  });

  it('findPatientByNik: zero hits (total 0, no entry) → undefined', async () => {
    tokenEndpoint();
    fhir().get('/Patient').query(nikQuery).reply(200, { resourceType: 'Bundle', type: 'searchset', total: 0 });
    await expect(setup().client.findPatientByNik(NIK)).resolves.toBeUndefined();
  });

  it('refuses a malformed NIK without calling the platform and without echoing it', async () => {
    const { client } = setup();
    const bad = '12345-not-a-nik';
    for (const v of [bad, '123', '', `${NIK}0`]) {
      const e = await failure(client.findPatientByNik(v));
      expect(e.kind).toBe('validation');
      if (v) expect(e.message).not.toContain(v);
    }
    await expect(client.findPractitionerByNik('x')).rejects.toBeInstanceOf(PlatformError);
    await expect(client.findPatientsByMotherNik('x')).rejects.toBeInstanceOf(PlatformError);
  });

  it('a search answer that is not a Bundle is not taken for "no patient"', async () => {
    tokenEndpoint();
    fhir().get('/Patient').query(nikQuery).reply(200, {});
    const e = await failure(setup().client.findPatientByNik(NIK));
    expect(e.kind).toBe('transient');
  });

  it('findPatientsByMotherNik follows the next link and returns every Patient', async () => {
    tokenEndpoint();
    const page2 = `${FHIR_ORIGIN}${FHIR_PATH}/Patient?identifier=${encodeURIComponent(`${NIK_IBU_SYSTEM}|${MOTHER_NIK}`)}&_page=2`;
    fhir().get('/Patient').query({ identifier: `${NIK_IBU_SYSTEM}|${MOTHER_NIK}` }).reply(200, searchset([maskedPatient('P1')], page2));
    fhir().get('/Patient').query({ identifier: `${NIK_IBU_SYSTEM}|${MOTHER_NIK}`, _page: '2' }).reply(200, searchset([maskedPatient('P2')]));
    const twins = await setup().client.findPatientsByMotherNik(MOTHER_NIK);
    expect(twins.map((p) => p.id)).toEqual(['P1', 'P2']);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('search() is bounded in pages', async () => {
    tokenEndpoint();
    const next = (n: number) => `${FHIR_ORIGIN}${FHIR_PATH}/Encounter?subject=P1&_page=${n}`;
    fhir().get('/Encounter').query({ subject: 'P1' }).reply(200, searchset([{ resourceType: 'Encounter', id: 'e1' }], next(2)));
    fhir().get('/Encounter').query({ subject: 'P1', _page: '2' }).reply(200, searchset([{ resourceType: 'Encounter', id: 'e2' }], next(3)));
    const e = await failure(setup({ maxPages: 2 }).client.search('Encounter', { subject: 'P1' }));
    expect(e.outcome.issue[0].code).toBe('too-costly');
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('never follows a next link to another host (the bearer token would leak)', async () => {
    tokenEndpoint();
    fhir().get('/Encounter').query({ subject: 'P1' }).reply(200, searchset([{ resourceType: 'Encounter', id: 'e1' }], 'https://evil.test/fhir/Encounter?page=2'));
    const e = await failure(setup().client.search('Encounter', { subject: 'P1' }));
    expect(e.outcome.issue[0].code).toBe('security');
  });

  it('search() rejects a resource type that is not one', async () => {
    await expect(setup().client.search('../Patient', {})).rejects.toBeInstanceOf(PlatformError);
  });

  it('findPractitionerByNik and findLocation use the documented identifier systems', async () => {
    tokenEndpoint();
    // Practitioner NIKs come back unmasked (practitioner-search-nik-production.json).
    fhir().get('/Practitioner').query({ identifier: `${NIK_SYSTEM}|${PRACT_NIK}` }).reply(200, searchset([{ resourceType: 'Practitioner', id: '10009880728', identifier: [{ system: NIK_SYSTEM, value: PRACT_NIK }] }]));
    fhir().get('/Location').query({ identifier: `http://sys-ids.kemkes.go.id/location/${ORG}|POSY-01` }).reply(200, searchset([]));
    const { client } = setup();
    await expect(client.findPractitionerByNik(PRACT_NIK)).resolves.toBe('10009880728');
    await expect(client.findLocation('POSY-01')).resolves.toBeUndefined();
    await expect(client.findLocation('  ')).rejects.toBeInstanceOf(PlatformError);
  });
});

describe('identifier searches are checked, never trusted (the platform drops filters it does not understand)', () => {
  it('several hits for one NIK, or a hit without the identifier searched for, is unknown (search-unfiltered), never "the first one"', async () => {
    tokenEndpoint();
    fhir().get('/Patient').query(nikQuery).reply(200, searchset([maskedPatient('P1'), maskedPatient('P2')]));
    const several = await failure(setup().client.findPatientByNik(NIK));
    expect(several).toMatchObject({ kind: 'transient', reason: 'search-unfiltered' });
    tokenEndpoint();
    fhir().get('/Practitioner').query({ identifier: `${NIK_SYSTEM}|${PRACT_NIK}` }).reply(200, searchset([{ resourceType: 'Practitioner', id: 'N1', identifier: [{ system: NIK_SYSTEM, value: '7209061211900099' }] }]));
    expect((await failure(setup().client.findPractitionerByNik(PRACT_NIK))).reason).toBe('search-unfiltered');
    tokenEndpoint();
    fhir().get('/Location').query({ identifier: `http://sys-ids.kemkes.go.id/location/${ORG}|POSY-01` }).reply(200, searchset([{ resourceType: 'Location', id: 'l1', identifier: [{ system: `http://sys-ids.kemkes.go.id/location/${ORG}`, value: 'POSY-02' }] }]));
    expect((await failure(setup().client.findLocation('POSY-01'))).reason).toBe('search-unfiltered');
  });

  it('one hit carrying the identifier (the Patient NIK masked as the platform answers) is the answer', async () => {
    tokenEndpoint();
    fhir().get('/Location').query({ identifier: `http://sys-ids.kemkes.go.id/location/${ORG}|POSY-01` }).reply(200, searchset([{ resourceType: 'Location', id: 'l1', identifier: [{ system: `http://sys-ids.kemkes.go.id/location/${ORG}`, value: 'POSY-01' }] }]));
    const { client } = setup();
    await expect(client.findLocation('POSY-01')).resolves.toBe('l1');
  });
});

describe('401 handling', () => {
  it('401 → token refreshed once → the request is retried and succeeds', async () => {
    const tok = tokenEndpoint(2);
    fhir('T1').get('/Patient').query(nikQuery).reply(401, { fault: { faultstring: 'Invalid access token' } });
    fhir('T2').get('/Patient').query(nikQuery).reply(200, searchset([maskedPatient('P9')]));
    await expect(setup().client.findPatientByNik(NIK)).resolves.toBe('P9');
    expect(tok.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('401 twice → auth error after exactly two requests and two token fetches: no loop', async () => {
    let tokenCalls = 0;
    let fhirCalls = 0;
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).times(5).reply(() => [200, tokenBody(`T${++tokenCalls}`)]);
    nock(`${FHIR_ORIGIN}${FHIR_PATH}`).get('/Patient').query(true).times(5).reply(() => {
      fhirCalls++;
      return [401, 'Unauthorized'];
    });
    const e = await failure(setup().client.findPatientByNik(NIK));
    expect(e.kind).toBe('auth');
    expect(e.status).toBe(401);
    expect(fhirCalls).toBe(2);
    expect(tokenCalls).toBe(2);
  });

  it('failed authentication: the next call within a minute does not touch the network and says auth with retryAfterMs', async () => {
    let tokenCalls = 0;
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).times(5).reply(() => {
      tokenCalls++;
      return [401, BAD_CREDENTIALS];
    });
    const { client } = setup();
    const e1 = await failure(client.findPatientByNik(NIK));
    expect(e1.kind).toBe('auth');
    expect(e1.retryAfterMs).toBeGreaterThan(0);
    const e2 = await failure(client.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] }));
    expect(e2.kind).toBe('auth');
    expect(e2.retryAfterMs).toBeGreaterThan(0);
    expect(e2.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(tokenCalls).toBe(1);
  });
});

describe('error classes on FHIR calls', () => {
  it('429 + Retry-After → rate-limited with retryAfterMs, and the facility limiter pauses', async () => {
    tokenEndpoint();
    fhir().get('/Patient').query(nikQuery).reply(429, 'Too Many Requests', { 'Retry-After': '120' });
    const { client, limiter } = setup();
    const e = await failure(client.findPatientByNik(NIK));
    expect(e.kind).toBe('rate-limited');
    expect(e.retryAfterMs).toBe(120_000);
    expect(limiter.pausedUntil()).toBeGreaterThan(Date.now() + 100_000);
  });

  it('504 text/plain "Gateway Timeout" → transient with a normalised OperationOutcome', async () => {
    tokenEndpoint();
    fhir().post('/').reply(504, 'Gateway Timeout', { 'Content-Type': 'text/plain' });
    const e = await failure(setup().client.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] }));
    expect(e.kind).toBe('transient');
    expect(e.status).toBe(504);
    expect(e.outcome).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: 'HTTP 504: Gateway Timeout' }] });
  });

  it('400 with (RuleNumber: 10117) → forbidden with rules [10117]', async () => {
    tokenEndpoint();
    fhir().post('/').reply(400, {
      resourceType: 'OperationOutcome',
      text: { status: 'generated' },
      issue: [{ severity: 'error', code: 'value', details: { text: 'Wrong organization ID provided by system URL (RuleNumber: 10117)' }, expression: ['Encounter.identifier[0].system'] }],
    });
    const e = await failure(setup().client.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] }));
    expect(e.kind).toBe('forbidden');
    expect(e.rules).toEqual(['10117']);
    expect(e.outcome.issue[0].expression).toEqual(['Encounter.identifier[0].system']);
  });

  it('400 with validation rules → validation with every rule', async () => {
    tokenEndpoint();
    fhir().post('/').reply(400, {
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'error', code: 'value', details: { text: 'period.end must be after period.start (RuleNumber: 10121)' } },
        { severity: 'invalid', code: 'value', details: { text: 'datetime must not be in the future (RuleNumber: 10296)' } },
      ],
    });
    const e = await failure(setup().client.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] }));
    expect(e.kind).toBe('validation');
    expect(e.rules).toEqual(['10121', '10296']);
    expect(e.outcome.issue.map((i) => i.severity)).toEqual(['error', 'error']);
  });

  it('rule 20002 → duplicate', async () => {
    tokenEndpoint();
    fhir().post('/').reply(400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'duplicate', details: { text: 'Found duplicate resource: Encounter (RuleNumber: 20002)' } }] });
    const e = await failure(setup().client.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] }));
    expect(e.kind).toBe('duplicate');
    expect(e.rules).toEqual(['20002']);
  });

  it('network error → transient', async () => {
    tokenEndpoint();
    fhir().get('/Patient').query(nikQuery).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    const e = await failure(setup().client.findPatientByNik(NIK));
    expect(e.kind).toBe('transient');
    expect(e.status).toBeUndefined();
  });

  it('no answer within timeoutMs → transient timeout', async () => {
    tokenEndpoint();
    fhir().get('/Patient').query(nikQuery).delay(1_000).reply(200, searchset([]));
    const e = await failure(setup({ timeoutMs: 50 }).client.findPatientByNik(NIK));
    expect(e.kind).toBe('transient');
    expect(e.outcome.issue[0].code).toBe('timeout');
  });

  it('a platform message echoing the NIK and the request URL is redacted', async () => {
    tokenEndpoint();
    fhir().get('/Patient').query(nikQuery).reply(400, {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'value', diagnostics: `NIK ${NIK} invalid at ${FHIR_ORIGIN}${FHIR_PATH}/Patient?identifier=${NIK_SYSTEM}|${NIK}` }],
    });
    const e = await failure(setup().client.findPatientByNik(NIK)); // failure() asserts NIK absent
    expect(e.kind).toBe('validation');
  });
});

describe('logs', () => {
  it('warns when DEBUG would make fhir-kit-client print URLs and Authorization headers', () => {
    const saved = process.env.DEBUG;
    try {
      process.env.DEBUG = 'express:*,fhir-kit-client:*';
      expect(setup().entries.some((e) => e.level === 'warn' && /DEBUG/.test(e.msg ?? ''))).toBe(true);
      process.env.DEBUG = 'express:*';
      expect(setup().entries).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = saved;
    }
  });

  it('log method, resource type, status and duration; never NIK, token, secret or URL', async () => {
    tokenEndpoint(2);
    fhir('T1').get('/Patient').query(nikQuery).reply(401, 'Unauthorized');
    fhir('T2').get('/Patient').query(nikQuery).reply(200, searchset([maskedPatient('P1')]));
    fhir('T2').post('/').reply(400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', details: { text: `bad ${NIK} (RuleNumber: 10121)` } }] });
    const { client, entries } = setup();
    await client.findPatientByNik(NIK);
    await client.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] }).catch(() => undefined);
    const text = JSON.stringify(entries);
    for (const forbidden of [NIK, SECRET, 'T1', 'T2', FHIR_ORIGIN, 'identifier']) expect(text).not.toContain(forbidden);
    const calls = entries.filter((e) => 'method' in e.obj);
    expect(calls.length).toBe(3);
    for (const c of calls) expect(Object.keys(c.obj).sort()).toEqual(expect.arrayContaining(['method', 'resourceType', 'durationMs']));
    expect(calls.map((c) => (c.obj as { status?: number }).status)).toEqual([401, 200, 400]);
  });
});

describe('Patient create (non-FHIR response)', () => {
  const patient: Patient = {
    resourceType: 'Patient',
    identifier: [{ use: 'official', system: NIK_SYSTEM, value: NIK }],
    name: [{ use: 'official', text: 'Budi Santoso' }],
    gender: 'male',
    birthDate: '1990-01-01',
  };

  it('{"success":true,"data":{"patient_id":…}} → the IHS number', async () => {
    tokenEndpoint();
    let sent: unknown;
    fhir().matchHeader('content-type', 'application/json').post('/Patient').reply(201, (_uri, body) => {
      sent = body;
      return { success: true, data: { patient_id: 'P02478375538' } };
    });
    await expect(setup().client.createPatient(patient)).resolves.toEqual({ id: 'P02478375538', existed: false });
    expect(sent).toMatchObject({ resourceType: 'Patient', identifier: [{ value: NIK }] });
  });

  it('nik-ibu shape {"create_patient":{"success":true,"data":{"patient_id":…}}} → the IHS number', async () => {
    tokenEndpoint();
    fhir().post('/Patient').reply(201, { create_patient: { success: true, data: { patient_id: 'P03647103112' } } });
    await expect(setup().client.createPatient({ ...patient, identifier: [{ system: NIK_IBU_SYSTEM, value: MOTHER_NIK }] })).resolves.toEqual({ id: 'P03647103112', existed: false });
  });

  it('400 OperationOutcome with 20002 → duplicate', async () => {
    tokenEndpoint();
    fhir().post('/Patient').reply(400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'duplicate', details: { text: 'Found duplicate resource: Patient (RuleNumber: 20002)' } }] });
    expect((await failure(setup().client.createPatient(patient))).kind).toBe('duplicate');
  });

  it('a 2xx {"success":false} body is an error, classified by its message, with names and NIK redacted', async () => {
    tokenEndpoint();
    fhir().post('/Patient').reply(200, { success: false, message: `Pasien Budi Santoso NIK ${NIK} sudah terdaftar` });
    const e = await failure(setup().client.createPatient(patient));
    expect(e.kind).toBe('duplicate');
    expect(errorText(e)).not.toContain('Budi Santoso');
    tokenEndpoint();
    fhir().post('/Patient').reply(200, { create_patient: { success: false, message: 'NIK tidak ditemukan di Dukcapil' } });
    expect((await failure(setup().client.createPatient(patient))).kind).toBe('validation');
  });

  it('a 2xx without patient_id → transient (the caller searches by NIK before trying again)', async () => {
    tokenEndpoint();
    fhir().post('/Patient').reply(201, { success: true, data: {} });
    expect((await failure(setup().client.createPatient(patient))).kind).toBe('transient');
  });

  it('patientIdFromCreateResponse handles every known shape', () => {
    expect(patientIdFromCreateResponse({ success: true, data: { patient_id: 'P1' } })).toEqual({ id: 'P1', existed: false });
    expect(patientIdFromCreateResponse({ create_patient: { success: true, data: { patient_id: 'P2' } } })).toEqual({ id: 'P2', existed: false });
    expect(patientIdFromCreateResponse({ resourceType: 'Patient', id: 'P3' })).toEqual({ id: 'P3', existed: false });
    // Recorded (Postman, HTTP 200): a key with a space and a colon; the duplicate names the existing patient.
    expect(patientIdFromCreateResponse({ success: true, message: 'New Patient has been created successfully', data: { 'Patient ID:': 'P02029102701' } })).toEqual({ id: 'P02029102701', existed: false });
    expect(patientIdFromCreateResponse({ success: false, message: 'Failed to create new patient, another identifier has found', data: { resourceID: 'P02029102427' } })).toEqual({ id: 'P02029102427', existed: true });
    expect(patientIdFromCreateResponse({ success: true, data: { resourceID: 'P4' } })).toEqual({ id: 'P4', existed: false });
    expect(patientIdFromCreateResponse({ success: true, data: { 'Patient ID:': 'not an id!' } })).toBeUndefined();
    expect(patientIdFromCreateResponse({ success: false })).toEqual({ failure: 'Patient create failed' });
    expect(patientIdFromCreateResponse({ success: true, data: { patient_id: 42 } })).toBeUndefined();
    expect(patientIdFromCreateResponse('P1')).toBeUndefined();
    expect(patientIdFromCreateResponse(null)).toBeUndefined();
  });
});

describe('Location, update', () => {
  it('createLocation → id from the body, or from the Location header', async () => {
    tokenEndpoint();
    const loc: Location = { resourceType: 'Location', name: 'Posyandu Mawar', identifier: [{ system: `http://sys-ids.kemkes.go.id/location/${ORG}`, value: 'POSY-01' }] };
    fhir().post('/Location').reply(201, { ...loc, id: 'b017aa54-f1df-4ec2-9d84-8823815d7228' });
    fhir().post('/Location').reply(201, {}, { Location: `${FHIR_ORIGIN}${FHIR_PATH}/Location/dc01c797-547a-4e4d-97cd-4ece0630e380/_history/1` });
    fhir().post('/Location').reply(201, {});
    const { client } = setup();
    await expect(client.createLocation(loc)).resolves.toBe('b017aa54-f1df-4ec2-9d84-8823815d7228');
    await expect(client.createLocation(loc)).resolves.toBe('dc01c797-547a-4e4d-97cd-4ece0630e380');
    expect((await failure(client.createLocation(loc))).kind).toBe('transient');
  });

  it('update PUTs {type}/{id} with the id in the body', async () => {
    tokenEndpoint();
    let sent: { id?: string } | undefined;
    fhir().put('/Encounter/enc-1').reply(200, (_uri, body) => {
      sent = body as { id?: string };
      return { ...(body as object), meta: { versionId: 'v2' } };
    });
    const { client } = setup();
    const out = await client.update({ resourceType: 'Encounter', id: 'enc-1', status: 'finished' } as never);
    expect(sent?.id).toBe('enc-1');
    expect(out).toMatchObject({ resourceType: 'Encounter', id: 'enc-1', meta: { versionId: 'v2' } });
    await expect(client.update({ resourceType: 'Encounter' } as never)).rejects.toBeInstanceOf(PlatformError);
  });
});

describe('transaction', () => {
  const request: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:10494a2e-0410-4ec7-834d-bd7f77de4ebd', resource: { resourceType: 'Encounter', status: 'finished' } as never, request: { method: 'POST', url: 'Encounter' } },
      { fullUrl: 'urn:uuid:2f1c6a4e-1c1b-4a43-9a0e-8c3f1f1b7d11', resource: { resourceType: 'Observation', status: 'final' } as never, request: { method: 'POST', url: 'Observation' } },
    ],
  };
  const response: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: [
      { response: { status: '201 Created', location: 'Encounter/3f2b5e1c-9d4a-4b8e-a1f0-2c6d7e8f9a01/_history/MTY1NTEzOTAzOTM2ODMwNzAwMA', etag: 'W/"MTY1"' } },
      { response: { status: '201 Created', location: `${FHIR_ORIGIN}${FHIR_PATH}/Observation/7c9e6679-7425-40de-944b-e07fc1f90ae7/_history/1` } },
    ],
  };

  it('POSTs the Bundle to the base URL and returns the transaction-response; ids come from response.location', async () => {
    tokenEndpoint();
    let sent: Bundle | undefined;
    fhir().post('/', (b: Bundle) => b.type === 'transaction').reply(200, (_uri, body) => {
      sent = body as Bundle;
      return response;
    });
    const resp = await setup().client.transaction(request);
    expect(sent?.entry).toHaveLength(2);
    expect(idsFromTransactionResponse(resp)).toEqual([
      { index: 0, resourceType: 'Encounter', id: '3f2b5e1c-9d4a-4b8e-a1f0-2c6d7e8f9a01', versionId: 'MTY1NTEzOTAzOTM2ODMwNzAwMA', status: 201 },
      { index: 1, resourceType: 'Observation', id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', versionId: '1', status: 201 },
    ]);
  });

  it('a 200 transaction-response with a failed entry is a failure of that entry, classified', async () => {
    tokenEndpoint();
    fhir().post('/').reply(200, {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [
        { response: { status: '400 Bad Request', outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', details: { text: 'Found duplicate resource: Encounter (RuleNumber: 20002)' } }] } } },
        { response: { status: '400 Bad Request', outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', details: { text: 'failed due to previous error (RuleNumber: 20012)' } }] } } },
      ],
    });
    const e = await failure(setup().client.transaction(request));
    expect(e.kind).toBe('duplicate');
    expect(e.rules).toEqual(['20002']);
  });

  it('refuses what is not a transaction Bundle without a request', async () => {
    const e = await failure(setup().client.transaction({ resourceType: 'Bundle', type: 'batch' }));
    expect(e.kind).toBe('validation');
  });

  it('idsFromTransactionResponse and parseLocation tolerate odd entries', () => {
    expect(parseLocation('Encounter/abc-1')).toEqual({ resourceType: 'Encounter', id: 'abc-1' });
    expect(parseLocation('https://x.test/fhir-r4/v1/Immunization/abc/_history/2')).toEqual({ resourceType: 'Immunization', id: 'abc', versionId: '2' });
    expect(parseLocation('Encounter/abc/_history/2?x=1')).toEqual({ resourceType: 'Encounter', id: 'abc', versionId: '2' });
    expect(parseLocation('not a location')).toBeUndefined();
    expect(parseLocation(undefined)).toBeUndefined();
    expect(idsFromTransactionResponse({ resourceType: 'Bundle', type: 'transaction-response' })).toEqual([]);
    expect(
      idsFromTransactionResponse({
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: [{ response: { status: '200' }, resource: { resourceType: 'Encounter', id: 'e1', meta: { versionId: '3' } } }, {}],
      }),
    ).toEqual([
      { index: 0, resourceType: 'Encounter', id: 'e1', versionId: '3', status: 200 },
      { index: 1, resourceType: undefined, id: undefined, versionId: undefined, status: 0 },
    ]);
  });
});

describe('quota through the client', () => {
  it('10 concurrent calls on a cold client: one token request, all 10 served, never more than 4 in flight', async () => {
    let tokenCalls = 0;
    let peak = 0;
    const { client, limiter } = setup();
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).times(10).reply(() => [200, tokenBody(`T${++tokenCalls}`)]);
    // Every answer is held until the test has seen the limiter full (4 at the platform, 6 waiting): overlap by
    // construction, not by a delay long enough on this machine.
    let atPlatform = 0;
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    fhir().get('/Patient').query(nikQuery).times(10).reply(async () => {
      peak = Math.max(peak, limiter.inFlight());
      atPlatform++;
      await opened;
      return [200, searchset([maskedPatient('P1')])];
    });
    const pending = Promise.all(Array.from({ length: 10 }, () => client.findPatientByNik(NIK)));
    await eventually(() => atPlatform === 4 && limiter.pending() === 6, '4 calls at the platform and 6 waiting for a slot');
    expect(limiter.inFlight()).toBe(4);
    open();
    const ids = await pending;
    expect(ids).toEqual(Array(10).fill('P1'));
    expect(tokenCalls).toBe(1);
    expect(limiter.stats().granted).toBe(11);
    expect(limiter.inFlight()).toBe(0);
    expect(peak).toBe(4);
  });

  it('token and FHIR calls share the facility quota: with quota 3, a token + 2 searches pass and the 3rd search waits', async () => {
    let hits = 0;
    tokenEndpoint();
    fhir().get('/Patient').query(true).times(5).reply(() => {
      hits++;
      return [200, searchset([])];
    });
    const { client, limiter } = setup({ quota: 3 });
    const calls = Array.from({ length: 3 }, () => client.findPatientByNik(NIK));
    await Promise.all(calls.slice(0, 2));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(hits).toBe(2);
    expect(limiter.stats().granted).toBe(3);
    expect(limiter.pending()).toBe(1);
    limiter.close();
    expect((await failure(calls[2])).kind).toBe('transient');
    expect(hits).toBe(2);
  });
});

describe('read (used to retract removed entries)', () => {
  it('GET {type}/{id} with the bearer token → the resource', async () => {
    tokenEndpoint();
    fhir().get('/Observation/obs-1').reply(200, { resourceType: 'Observation', id: 'obs-1', status: 'final' });
    const { client } = setup();
    await expect(client.read('Observation', 'obs-1')).resolves.toMatchObject({ resourceType: 'Observation', id: 'obs-1', status: 'final' });
  });
  it('404 → not-found', async () => {
    tokenEndpoint();
    fhir().get('/Observation/gone').reply(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'Resource not found' }] });
    const { client } = setup();
    expect((await failure(client.read('Observation', 'gone'))).kind).toBe('not-found');
  });
  it('an answer that is not the requested resource → transient (never taken for it)', async () => {
    tokenEndpoint();
    fhir().get('/Observation/obs-2').reply(200, { resourceType: 'Observation', id: 'other', status: 'final' });
    const { client } = setup();
    expect((await failure(client.read('Observation', 'obs-2'))).kind).toBe('transient');
  });
  it('refuses an invalid id without calling the platform', async () => {
    const scope = tokenEndpoint();
    const { client } = setup();
    await expect(client.read('Observation', '../Patient?identifier=x')).rejects.toHaveProperty('message');
    expect(scope.isDone()).toBe(false);
  });
});
