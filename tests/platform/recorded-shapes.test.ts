// Small copies of single shapes from the recorded platform corpus (../shared/platform-responses, see tests/replay for the
// whole corpus): npm test stays self-contained. Each case names the recording it was cut from.
import nock from 'nock';
import type { Bundle, Patient } from 'fhir/r4.js';
import { createPlatformClient, idsFromTransactionResponse, NIK_IBU_SYSTEM, NIK_SYSTEM, readRetryDelayMs } from '../../src/platform/client.js';
import { errorFromResponse } from '../../src/platform/errors.js';
import { createTokenProvider } from '../../src/platform/token.js';
import { createFacilityLimiter } from '../../src/platform/limiter.js';
import { classify, defaultRetryPolicy } from '../../src/sync/policy.js';
import { AUTH_ORIGIN, AUTH_PATH, FHIR_ORIGIN, FHIR_PATH, NIK, ORG, captureLogger, facility, manualClock, tokenBody, failure, nockLifecycle } from './helpers.js';

const limiters = nockLifecycle();

function setup(opts: { readRetries?: number; random?: () => number } = {}) {
  const { logger, entries } = captureLogger();
  const limiter = createFacilityLimiter(ORG, { quotaPerMinute: 150 });
  limiters.push(limiter);
  const delays: number[] = [];
  const client = createPlatformClient(facility(), {
    limiter, logger, readRetries: opts.readRetries ?? 0, random: opts.random ?? (() => 0.5),
    sleep: async (ms) => { delays.push(ms); },
  });
  return { client, limiter, entries, delays };
}

const token = () => nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).reply(200, tokenBody('T1', '14399'));
const fhir = () => nock(`${FHIR_ORIGIN}${FHIR_PATH}`);

const newborn: Patient = {
  resourceType: 'Patient',
  identifier: [{ system: NIK_IBU_SYSTEM, value: NIK }],
  birthDate: '2026-11-30',
  multipleBirthInteger: 1,
};

describe('Patient create, as recorded (HTTP 200, non-FHIR)', () => {
  it('success: data["Patient ID:"] is the new IHS number (patient-create-newborn-200-success-postman)', async () => {
    token();
    fhir().post('/Patient').reply(200, { success: true, message: 'New Patient has been created successfully', data: { 'Patient ID:': 'P02029102701' } });
    await expect(setup().client.createPatient(newborn)).resolves.toEqual({ id: 'P02029102701', existed: false });
  });

  it('duplicate: success:false + data.resourceID is the existing patient, adopted with one POST only (…-duplicate-postman)', async () => {
    token();
    const posts = fhir().post('/Patient').reply(200, { success: false, message: 'Failed to create new patient, another identifier has found', data: { resourceID: 'P02029102427' } });
    const { client, entries } = setup({ readRetries: 2 });
    await expect(client.createPatient(newborn)).resolves.toEqual({ id: 'P02029102427', existed: true });
    expect(posts.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]);
    expect(entries.some((e) => /already registered/.test(e.msg ?? ''))).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(NIK);
  });

  it('success without any id stays transient (the caller searches before trying again)', async () => {
    token();
    fhir().post('/Patient').reply(200, { success: true, message: 'New Patient has been created successfully', data: {} });
    expect((await failure(setup().client.createPatient(newborn))).kind).toBe('transient');
  });

  it('a refusal without an id that says "another identifier has found" is a duplicate', async () => {
    token();
    fhir().post('/Patient').reply(200, { success: false, message: 'Failed to create new patient, another identifier has found' });
    expect((await failure(setup().client.createPatient(newborn))).kind).toBe('duplicate');
  });
});

describe('error shapes, as recorded', () => {
  const googleStyle = (code: string, machine: string, diagnostics: string) => ({ issue: [{ code, details: { text: machine }, diagnostics, severity: 'error' }], resourceType: 'OperationOutcome' });

  it('"(Rule Number: N)" with a space is read like "(RuleNumber: N)" (error-400-episodeofcare-duplicate-rule-number-spaced)', () => {
    const e = errorFromResponse(400, {
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'error', code: 'value', details: { text: 'found duplicated EpisodeOfCare Type with status active. (Rule Number: 10109)' } },
        { severity: 'error', code: 'value', details: { text: 'found duplicated EpisodeOfCare Type with status active. (Rule Number: 10110)' } },
      ],
    }, undefined);
    expect(e.kind).toBe('validation');
    expect(e.rules).toEqual(['10109', '10110']);
  });

  it('storage_error on a 404 → not-found, the human text kept (error-404-read-not-found)', () => {
    const e = errorFromResponse(404, googleStyle('no-store', 'storage_error', 'resource not found: Organization/111'), undefined);
    expect(e.kind).toBe('not-found');
    expect(e.outcome.issue[0]).toMatchObject({ code: 'no-store', details: { text: 'storage_error' }, diagnostics: 'resource not found: Organization/111' });
  });

  it('reference_not_found → validation (the payload must be corrected), invalid_query → validation', () => {
    const ref = errorFromResponse(400, googleStyle('value', 'reference_not_found', 'reference target(s) not found: Organization/undefined'), undefined);
    expect(ref.kind).toBe('validation');
    expect(ref.outcome.issue[0].diagnostics).toBe('reference target(s) not found: Organization/undefined');
    expect(errorFromResponse(400, googleStyle('value', 'invalid_query', 'invalid value for query: "name"'), undefined).kind).toBe('validation');
  });

  it('unparseable_resource → validation keeping every issue', () => {
    const body = { resourceType: 'OperationOutcome', issue: ['a', 'b', 'c', 'd', 'e'].map((f) => ({ code: 'structure', details: { text: 'unparseable_resource' }, diagnostics: `invalid field ${f}`, severity: 'error' })) };
    const e = errorFromResponse(400, body, undefined);
    expect(e.kind).toBe('validation');
    expect(e.outcome.issue.map((i) => i.diagnostics)).toEqual(['a', 'b', 'c', 'd', 'e'].map((f) => `invalid field ${f}`));
  });

  it('"Found duplicate: Location" without a rule number → duplicate (error-400-duplicate-location)', () => {
    const e = errorFromResponse(400, { resourceType: 'OperationOutcome', text: { status: 'generated' }, issue: [{ severity: 'error', code: 'duplicate', details: { text: 'Found duplicate: Location' } }] }, undefined);
    expect(e.kind).toBe('duplicate');
    expect(e.rules).toEqual([]);
  });

  it('Apigee fault on a 500 → transient with the faultstring and errorcode', () => {
    const e = errorFromResponse(500, { fault: { faultstring: 'Execution of ServiceCallout SC-GetToken failed. Reason: timeout occurred', detail: { errorcode: 'steps.servicecallout.ExecutionFailed' } } }, undefined);
    expect(e.kind).toBe('transient');
    expect(e.outcome.issue[0].diagnostics).toBe('HTTP 500: Execution of ServiceCallout SC-GetToken failed. Reason: timeout occurred (steps.servicecallout.ExecutionFailed)');
  });

  it('plain-text 5xx bodies → transient (kyc-500-plain-text-panic)', () => {
    const e = errorFromResponse(500, 'A panic occurred during user function execution.', undefined);
    expect(e.kind).toBe('transient');
    expect(e.outcome.issue[0].diagnostics).toBe('HTTP 500: A panic occurred during user function execution.');
  });

  it('a 401 body padded with whitespace, code invalid-access-token → auth, parsed (error-401-invalid-access-token)', () => {
    const padded = '\n        {\n          "resourceType": "OperationOutcome",\n          "issue": [\n            {\n              "severity": "error",\n              "code": "invalid-access-token",\n              "details": {\n                "text": "Invalid Access Token."\n              }\n            }\n          ]\n        }\n        ';
    const e = errorFromResponse(401, padded, undefined);
    expect(e.kind).toBe('auth');
    expect(e.outcome.issue[0]).toMatchObject({ code: 'invalid-access-token', details: { text: 'Invalid Access Token.' } });
  });

  it('a padded 401 on a FHIR call refreshes the token once and succeeds', async () => {
    let n = 0;
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).times(2).reply(() => [200, tokenBody(`T${++n}`, '14399')]);
    fhir().get('/Patient').query(true).reply(401, '\n   {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid-access-token","details":{"text":"Invalid Access Token."}}]}\n   ');
    fhir().get('/Patient').query(true).reply(200, { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] });
    await expect(setup().client.findPatientByNik(NIK)).resolves.toBeUndefined();
    expect(n).toBe(2);
  });

  it('KYC-style HTTP 200 carrying metadata.code "400" is not a success (kyc-200-with-error-in-body)', () => {
    const e = errorFromResponse(200, { metadata: { code: '400', message: 'Error: Bad Request' }, data: { error: 'Failed to decrypt message' } }, undefined);
    expect(e.kind).toBe('validation');
    expect(e.status).toBe(200);
    expect(e.outcome.issue[0].diagnostics).toBe('HTTP 200: Failed to decrypt message');
  });
});

describe('tokens, as recorded in production', () => {
  it('expires_in "14399" (every field a string, issued_at epoch ms, BearerToken) is cached for 14399 s minus the margin', async () => {
    const clock = manualClock();
    const tokens = createTokenProvider(facility(), { now: clock.now });
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).reply(200, tokenBody('T1', '14399', '1716174537465'));
    expect(await tokens.get()).toBe('T1');
    expect(tokens.state()).toEqual({ state: 'valid', expiresAt: clock.now() + 14_399_000 });
    clock.advance(14_399_000 - 300_000 - 1);
    expect(await tokens.get()).toBe('T1'); // no interceptor: a request here would fail
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).reply(200, tokenBody('T2', '14399'));
    clock.advance(1);
    expect(await tokens.get()).toBe('T2');
  });

  it('403 from the token endpoint: auth, no retry loop, and the outcome says it may be the network (token-403-forbidden-outside-indonesia)', async () => {
    const clock = manualClock();
    let calls = 0;
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).times(3).reply(() => {
      calls++;
      return [403, ''];
    });
    const tokens = createTokenProvider(facility(), { now: clock.now });
    const e = await failure(tokens.get());
    expect(e.kind).toBe('auth');
    expect(e.reason).toBe('token-forbidden');
    expect(e.status).toBe(403);
    expect(e.outcome.issue[0].diagnostics).toMatch(/outside Indonesia/);
    const again = await failure(tokens.get());
    expect(again.reason).toBe('token-forbidden');
    expect(calls).toBe(1);
    // What the facility's auth-failed status will say.
    const decision = classify(e, 1, defaultRetryPolicy);
    expect(decision.record === 'retry' && decision.facility?.status).toBe('auth-failed');
    expect(decision.record === 'retry' && decision.facility?.status === 'auth-failed' && decision.facility.reason).toMatch(/outside Indonesia/);
  });
});

describe('writes, as recorded', () => {
  const txRequest: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [0, 1].map((i) => ({ fullUrl: `urn:uuid:0000000${i}-0000-4000-8000-000000000000`, resource: { resourceType: 'AllergyIntolerance' } as never, request: { method: 'POST' as const, url: 'AllergyIntolerance' } })),
  };
  const stgEntry = (id: string) => ({
    response: {
      etag: 'W/"MTc1MzkzNTY4NTM1MzIzOTAwMA"',
      lastModified: '2025-07-31T04:21:25.353239+00:00',
      location: `https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1/AllergyIntolerance/${id}/_history/MTc1MzkzNTY4NTM1MzIzOTAwMA`,
      status: '201 Created',
      resourceType: 'AllergyIntolerance',
      resourceID: id,
    },
  });

  it('transaction-response with absolute locations, opaque versions, resourceID and total (bundle-transaction-response-staging)', async () => {
    token();
    fhir().post('/').reply(200, { entry: [stgEntry('d59a46cc-be28-49df-98fd-3973e87d68c0'), stgEntry('cc20cee0-c8aa-4603-8729-30d2c15fb56c')], resourceType: 'Bundle', type: 'transaction-response', total: 2 });
    const resp = await setup().client.transaction(txRequest);
    expect(idsFromTransactionResponse(resp)).toEqual([
      { index: 0, resourceType: 'AllergyIntolerance', id: 'd59a46cc-be28-49df-98fd-3973e87d68c0', versionId: 'MTc1MzkzNTY4NTM1MzIzOTAwMA', status: 201 },
      { index: 1, resourceType: 'AllergyIntolerance', id: 'cc20cee0-c8aa-4603-8729-30d2c15fb56c', versionId: 'MTc1MzkzNTY4NTM1MzIzOTAwMA', status: 201 },
    ]);
  });

  it('resourceID is the fallback without a location, and a disagreement yields no id (never a guess)', () => {
    const only = { response: { status: '201 Created', resourceType: 'Condition', resourceID: 'c-1' } };
    const disagree = { response: { status: '201 Created', location: 'Condition/c-2/_history/x', resourceType: 'Condition', resourceID: 'c-3' } };
    const typeDisagree = { response: { status: '201 Created', location: 'Condition/c-4', resourceType: 'Encounter', resourceID: 'c-4' } };
    const out = idsFromTransactionResponse({ resourceType: 'Bundle', type: 'transaction-response', entry: [only, disagree, typeDisagree] as never });
    expect(out.map((r) => r.id)).toEqual(['c-1', undefined, undefined]);
    expect(out[0].resourceType).toBe('Condition');
  });

  it('single create: the Google Cloud Healthcare Location header gives the id and is never followed (encounter-create-201-postman)', async () => {
    token();
    const google = 'https://healthcare.googleapis.com/v1/projects/ihs-1-339301/locations/asia-southeast1/datasets/ihs/fhirStores/poc-fhir/fhir/Location/326ae5b2-6ca9-4678-b36a-5d5335843def/_history/MTY2MDAxMzEwMzUwMzU0ODAwMA';
    fhir().post('/Location').reply(201, {}, { Location: google });
    fhir().post('/Location').reply(201, { resourceType: 'Location', id: 'other-id' }, { Location: google });
    const { client } = setup();
    await expect(client.createResource({ resourceType: 'Location', name: 'Posyandu' } as never)).resolves.toEqual({ id: '326ae5b2-6ca9-4678-b36a-5d5335843def', versionId: 'MTY2MDAxMzEwMzUwMzU0ODAwMA' });
    // The body and the header name different resources: neither is trusted.
    expect((await failure(client.createResource({ resourceType: 'Location', name: 'Posyandu' } as never))).kind).toBe('transient');
  });

  it('PUT answered 201 (upsert) is a success (diagnostic-report-put-201-postman)', async () => {
    token();
    fhir().put('/DiagnosticReport/ec63dc9a-738d-4f7b-8a4d-86ca9e621ef6').reply(201, { resourceType: 'DiagnosticReport', id: 'ec63dc9a-738d-4f7b-8a4d-86ca9e621ef6', status: 'final', meta: { versionId: 'MTY3ODMzMDQ4MDQ0NTc0MDAwMA' } });
    await expect(setup().client.update({ resourceType: 'DiagnosticReport', id: 'ec63dc9a-738d-4f7b-8a4d-86ca9e621ef6', status: 'final' } as never)).resolves.toMatchObject({ meta: { versionId: 'MTY3ODMzMDQ4MDQ0NTc0MDAwMA' } });
  });
});

describe('searchsets, as recorded', () => {
  // As recorded: '/Patient/?' with the query re-encoded.
  const echo = `${FHIR_ORIGIN}${FHIR_PATH}/Patient/?identifier=${encodeURIComponent(`${NIK_SYSTEM}|${NIK}`)}`;
  const links = [{ relation: 'search', url: echo }, { relation: 'first', url: echo }, { relation: 'self', url: echo }];

  it('"entry": [] with total 0 is zero hits (patient-search-nik-production-0-hits)', async () => {
    token();
    fhir().get('/Patient').query({ identifier: `${NIK_SYSTEM}|${NIK}` }).reply(200, { link: links, resourceType: 'Bundle', total: 0, type: 'searchset', entry: [] });
    await expect(setup().client.findPatientByNik(NIK)).resolves.toBeUndefined();
  });

  it('a masked NIK "################" in the answer trips nothing (patient-search-nik-production-1-hit)', async () => {
    token();
    fhir().get('/Patient').query(true).reply(200, {
      entry: [{ fullUrl: `${FHIR_ORIGIN}${FHIR_PATH}/Patient/P00491375203`, resource: { active: true, id: 'P00491375203', identifier: [{ system: 'https://fhir.kemkes.go.id/id/ihs-number', value: 'P00491375203' }, { system: NIK_SYSTEM, value: '################' }], resourceType: 'Patient' } }],
      link: links, resourceType: 'Bundle', total: 1, type: 'searchset',
    });
    await expect(setup().client.findPatientByNik(NIK)).resolves.toBe('P00491375203');
  });

  it('total above the entries returned and no next link → transient "incomplete", reason search-truncated (encounter-search-subject-paged-postman)', async () => {
    token();
    const entries = Array.from({ length: 3 }, (_, i) => ({ resource: { resourceType: 'Encounter', id: `e${i}` }, search: { mode: 'match' } }));
    fhir().get('/Encounter').query({ subject: 'P1' }).reply(200, { entry: entries, resourceType: 'Bundle', total: 722, type: 'searchset' });
    const e = await failure(setup().client.search('Encounter', { subject: 'P1' }));
    expect(e.kind).toBe('transient');
    expect(e.reason).toBe('search-truncated');
    expect(e.outcome.issue[0].code).toBe('incomplete');
  });

  it('entries holding the resource itself (older build, location-search-name-postman) are read as resources', async () => {
    token();
    fhir().get('/Location').query(true).reply(200, { entry: [{ resourceType: 'Location', id: 'l1', name: 'Ruang 1A' }, { resourceType: 'Location', id: 'l2' }], resourceType: 'Bundle', total: 2, type: 'searchset' });
    const found = await setup().client.search('Location', { name: 'Ruang' });
    expect(found.map((r) => r.id)).toEqual(['l1', 'l2']);
  });
});

describe('idempotent reads are retried within the call', () => {
  const empty = { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] };

  it('503, network error, then 200: three exchanges, each with its own quota point, full-jitter delays, logged without PII', async () => {
    token();
    const q = { identifier: `${NIK_SYSTEM}|${NIK}` };
    fhir().get('/Patient').query(q).reply(503, 'Service Unavailable');
    fhir().get('/Patient').query(q).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    fhir().get('/Patient').query(q).reply(200, empty);
    const { client, limiter, delays, entries } = setup({ readRetries: 2, random: () => 0.5 });
    await expect(client.findPatientByNik(NIK)).resolves.toBeUndefined();
    expect(nock.pendingMocks()).toEqual([]);
    expect(limiter.stats().granted).toBe(4); // token + 3 exchanges
    expect(delays).toEqual([100, 200]); // 0.5 × min(2000, 200·2^(n-1))
    const retries = entries.filter((e) => e.msg === 'retrying idempotent read');
    expect(retries.map((e) => (e.obj as { retry: number }).retry)).toEqual([1, 2]);
    expect(JSON.stringify(entries)).not.toContain(NIK);
  });

  it('gives up after readRetries extra tries with the last error', async () => {
    token();
    fhir().get('/Observation/o1').times(3).reply(502, 'Bad Gateway');
    const { client, delays } = setup({ readRetries: 2 });
    const e = await failure(client.read('Observation', 'o1'));
    expect(e.status).toBe(502);
    expect(delays).toHaveLength(2);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('never retries a 4xx, a 429 or a write', async () => {
    token();
    fhir().get('/Observation/o404').reply(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'no-store', details: { text: 'storage_error' } }] });
    fhir().get('/Observation/o429').reply(429, 'Too Many Requests', { 'Retry-After': '0' });
    const posts = fhir().post('/').times(2).reply(503, 'Service Unavailable');
    const { client, delays } = setup({ readRetries: 2 });
    expect((await failure(client.read('Observation', 'o404'))).kind).toBe('not-found');
    expect((await failure(client.read('Observation', 'o429'))).kind).toBe('rate-limited');
    expect((await failure(client.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [] }))).status).toBe(503);
    expect(delays).toEqual([]);
    expect(posts.pendingMocks()).toHaveLength(1); // the second 503 interceptor was never used
  });

  it('the backoff ceiling doubles and is capped', () => {
    const one = () => 0.999999;
    expect([1, 2, 3, 4, 5].map((n) => readRetryDelayMs(n, 200, 2_000, one))).toEqual([199, 399, 799, 1599, 1999]);
    expect(readRetryDelayMs(3, 200, 2_000, () => 0)).toBe(0);
  });
});

describe('searches the platform silently widened', () => {
  const self = (q: string) => [{ relation: 'self', url: `${FHIR_ORIGIN}${FHIR_PATH}/Practitioner/?${q}` }];
  const hit = { resource: { resourceType: 'Practitioner', id: '10018660251' } };

  it('hits with a filter missing from the self link → transient "incomplete", reason search-unfiltered (practitioner-search-name-production-0-hits)', async () => {
    token();
    fhir().get('/Practitioner').query({ name: 'Voigt', gender: 'male', birthdate: '1945' }).reply(200, { link: self('gender=male&name=Voigt'), resourceType: 'Bundle', total: 1, type: 'searchset', entry: [hit] });
    const e = await failure(setup().client.search('Practitioner', { name: 'Voigt', gender: 'male', birthdate: '1945' }));
    expect(e.reason).toBe('search-unfiltered');
    expect(e.outcome.issue[0]).toMatchObject({ code: 'incomplete' });
    expect(e.outcome.issue[0].diagnostics).toContain('birthdate');
  });

  it('zero hits under a widened filter are still zero; parameters the platform adds (organization) are fine', async () => {
    token();
    fhir().get('/Practitioner').query(true).reply(200, { link: self('gender=male&name=Voigt'), resourceType: 'Bundle', total: 0, type: 'searchset', entry: [] });
    fhir().get('/Practitioner').query(true).reply(200, { link: self('name=Voigt&organization=100027857'), resourceType: 'Bundle', total: 1, type: 'searchset', entry: [hit] });
    const { client } = setup();
    await expect(client.search('Practitioner', { name: 'Voigt', birthdate: '1945' })).resolves.toEqual([]);
    await expect(client.search('Practitioner', { name: 'Voigt' })).resolves.toHaveLength(1);
  });
});
