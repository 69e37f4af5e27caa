import express from 'express';
import request from 'supertest';
import type { Bundle, CapabilityStatement, OperationOutcome, Parameters as FhirParameters } from 'fhir/r4.js';
import { createApp } from '../../src/api/app.js';
import { methodNotAllowed } from '../../src/api/errors.js';
import { OUTCOME_HEADER } from '../../src/api/map.js';
import { dryRun } from '../../src/api/dry-run.js';
import { loadMappingTables, mapVisit, type MappingTables } from '../../src/mapping/index.js';
import { createValidator, type Validator } from '../../src/validation/index.js';
import { toOperationOutcome as toOutcome } from '../../src/validation/outcome.js';
import { loadSamples, logCapture, NOW, personalValues, type Sample } from './helpers.js';

let validator: Validator;
let tables: MappingTables;
let samples: Sample[];
const logs = logCapture();
let app: express.Express;

beforeAll(() => {
  validator = createValidator();
  tables = loadMappingTables();
  samples = loadSamples();
  // An extra router, as issue 4 will mount: it must get the same body parsing and error handling.
  const extra = express.Router();
  extra
    .route('/ilp/visits')
    .post((req, res) => {
      res.status(202).json({ received: Array.isArray(req.body) ? req.body.length : 1 });
    })
    .all(methodNotAllowed(['POST']));
  extra.get('/boom', () => {
    throw new Error('boom for patient 3171012501900001 at /secret/path');
  });
  extra.get('/boom-async', async () => {
    await Promise.resolve();
    throw new TypeError('async boom');
  });
  app = createApp({
    validator,
    tables,
    clock: () => NOW,
    logger: logs.logger,
    routers: [
      {
        path: '/',
        router: extra,
        capability: { documentation: 'POST /ilp/visits: ingest (test router)' },
      },
    ],
  });
});

const FHIR = 'application/fhir+json';
const outcome = (body: unknown) => body as OperationOutcome;
const severities = (o: OperationOutcome) => o.issue.map((i) => i.severity);
const hasError = (o: OperationOutcome) => o.issue.some((i) => i.severity === 'error' || i.severity === 'fatal');

describe('health, readiness and metadata', () => {
  it('GET /health and /ready answer 200', async () => {
    const h = await request(app).get('/health').expect(200);
    expect(h.body.status).toBe('ok');
    const r = await request(app).get('/ready').expect(200);
    expect(r.body.status).toBe('ready');
  });

  it('GET /ready is 503 with an OperationOutcome when a registered check fails', async () => {
    const notReady = createApp({ validator, tables, clock: () => NOW, logger: logs.logger, readiness: [{ name: 'store', check: () => false }] });
    const r = await request(notReady).get('/ready').expect(503);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].diagnostics).toBe('Not ready: store');
    const thrower = createApp({ validator, tables, clock: () => NOW, logger: logs.logger, readiness: [{ name: 'db', check: async () => { throw new Error('down'); } }] });
    await request(thrower).get('/ready').expect(503);
  });

  it('GET /fhir/metadata returns a CapabilityStatement for FHIR 4.0.1 with both operations', async () => {
    const r = await request(app).get('/fhir/metadata').expect(200).expect('Content-Type', /application\/fhir\+json/);
    const cs = r.body as CapabilityStatement;
    expect(cs.resourceType).toBe('CapabilityStatement');
    expect(cs.fhirVersion).toBe('4.0.1');
    expect(cs.format).toContain('json');
    const rest = cs.rest?.[0];
    expect(rest?.operation?.map((o) => o.name)).toEqual(expect.arrayContaining(['validate', 'map']));
    expect(rest?.resource?.map((x) => x.type)).toEqual(expect.arrayContaining(['Patient', 'Encounter', 'Observation', 'Immunization', 'Bundle']));
    expect(rest?.documentation).toContain('POST /ilp/visits: ingest (test router)');
  });
});

describe('review findings (issue 3)', () => {
  it('the CapabilityStatement passes the service\'s own $validate and lists only real resource types', async () => {
    const cs = (await request(app).get('/fhir/metadata').expect(200)).body as CapabilityStatement;
    const r = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send(JSON.stringify(cs)).expect(200);
    expect(outcome(r.body).issue).toEqual([expect.objectContaining({ severity: 'information' })]);
    expect(cs.rest?.[0]?.documentation).not.toMatch(/\*/);
  });

  it('no NIK or name put in the resourceType, the URL type or the path comes back in an error', async () => {
    const nik = '3171012345678901';
    const replies = [
      await request(app).post('/fhir/$validate').send({ resourceType: nik }),
      await request(app).post('/fhir/$validate').send({ resourceType: 'Budi Santoso' }),
      await request(app).post(`/fhir/${nik}/$validate`).send({ resourceType: 'Patient' }),
      await request(app).get(`/fhir/Patient/${nik}`).expect(404),
      await request(app).get(`/fhir/${nik}/$validate`).expect(405),
      await request(app).post('/fhir/$validate').send({ resourceType: 'Patient', [nik]: 1 }),
    ];
    for (const r of replies) {
      expect(r.status).toBeLessThan(500);
      expect(JSON.stringify(r.body)).not.toMatch(/3171012345678901|Budi/);
    }
    expect(logs.text()).not.toContain(nik);
  });
});

describe('POST /fhir/$validate', () => {
  const badPatient = { resourceType: 'Patient', gender: 'lelaki', birthDate: '17-02-1985', foo: 1 };

  it('answers 200 with one information issue for a valid resource', async () => {
    const r = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send(JSON.stringify({ resourceType: 'Basic', code: { text: 'note' } })).expect(200);
    expect(r.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(r.body).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: expect.any(String) }] });
  });

  it('answers 200 with error issues for an invalid resource (application/json works too)', async () => {
    const r = await request(app).post('/fhir/$validate').set('Content-Type', 'application/json').send(badPatient).expect(200);
    expect(hasError(outcome(r.body))).toBe(true);
    expect(JSON.stringify(r.body)).toMatch(/gender/);
  });

  it('returns exactly what the validator finds, and base-only mode with ?profile=', async () => {
    const full = await request(app).post('/fhir/$validate').send(badPatient).expect(200);
    expect(full.body.issue.map((i: { diagnostics: string }) => i.diagnostics)).toEqual(validator.validate(badPatient, { now: NOW }).map((i) => i.diagnostics));
    const base = await request(app).post('/fhir/Patient/$validate?profile=http://hl7.org/fhir/StructureDefinition/Patient').send(badPatient).expect(200);
    expect(base.body.issue.map((i: { diagnostics: string }) => i.diagnostics)).toEqual(
      validator.validate(badPatient, { now: NOW, baseOnly: true, expectedType: 'Patient' }).map((i) => i.diagnostics),
    );
  });

  it('base-only mode skips SATUSEHAT rules that full mode applies', async () => {
    const encounter = mappedResource('Encounter');
    delete (encounter as { identifier?: unknown }).identifier;
    const full = await request(app).post('/fhir/Encounter/$validate').send(encounter).expect(200);
    expect(hasError(outcome(full.body))).toBe(true);
    const base = await request(app).post('/fhir/Encounter/$validate').query({ profile: 'http://hl7.org/fhir/StructureDefinition/Encounter' }).send(encounter).expect(200);
    expect(hasError(outcome(base.body))).toBe(false);
  });

  it('judges a mapped Bundle exactly as the validator does', async () => {
    for (const s of samples) {
      const bundle = mappedBundle(s.record);
      const r = await request(app).post('/fhir/Bundle/$validate').set('Content-Type', FHIR).send(JSON.stringify(bundle)).expect(200);
      const expected = validator.validate(JSON.parse(JSON.stringify(bundle)), { now: NOW, expectedType: 'Bundle' });
      expect(outcome(r.body).issue.map((i) => i.diagnostics)).toEqual(expected.length ? expected.map((i) => i.diagnostics) : [expect.any(String)]);
    }
  });

  it('accepts a Parameters body with resource and profile parts', async () => {
    const params = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: badPatient },
        { name: 'profile', valueUri: 'http://hl7.org/fhir/StructureDefinition/Patient' },
      ],
    };
    const r = await request(app).post('/fhir/$validate').send(params).expect(200);
    expect(hasError(outcome(r.body))).toBe(true);
    const bad = await request(app).post('/fhir/$validate').send({ resourceType: 'Parameters', parameter: [{ name: 'resource' }] }).expect(400);
    expect(bad.body.issue[0].diagnostics).toMatch(/no resource/);
  });

  it('400 when the URL type and the body type differ', async () => {
    const r = await request(app).post('/fhir/Observation/$validate').send({ resourceType: 'Patient' }).expect(400);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].diagnostics).toMatch(/called on type Observation but the body is a Patient/);
    await request(app).post('/fhir/not-a-type/$validate').send({ resourceType: 'Patient' }).expect(400);
  });

  it('400 for an unknown profile, and for a base profile of another type', async () => {
    const r = await request(app).post('/fhir/$validate?profile=https://example.org/StructureDefinition/MyPatient').send({ resourceType: 'Patient' }).expect(400);
    expect(r.body.issue[0].diagnostics).toMatch(/Unsupported profile .*http:\/\/hl7\.org\/fhir\/StructureDefinition\/Patient/);
    expect(r.body.issue[0].expression).toEqual(['profile']);
    await request(app).post('/fhir/$validate?profile=http://hl7.org/fhir/StructureDefinition/Observation').send({ resourceType: 'Patient' }).expect(400);
    await request(app).post('/fhir/$validate?profile=a&profile=b').send({ resourceType: 'Patient' }).expect(400);
  });

  it('400 when the body has no resourceType, is an array, or has a non-string resourceType', async () => {
    const a = await request(app).post('/fhir/$validate').send({ id: 'x' }).expect(400);
    expect(a.body.issue[0]).toMatchObject({ severity: 'error', code: 'required', expression: ['resourceType'] });
    await request(app).post('/fhir/$validate').send([{ resourceType: 'Patient' }]).expect(400);
    await request(app).post('/fhir/$validate').send({ resourceType: 42 }).expect(400);
  });

  it('an unknown resourceType is processed: 200 with an error issue', async () => {
    const r = await request(app).post('/fhir/$validate').send({ resourceType: 'Pasien' }).expect(200);
    expect(hasError(outcome(r.body))).toBe(true);
  });
});

describe('bad input never crashes and never yields a 500', () => {
  it('malformed JSON → 400 OperationOutcome that does not echo the body', async () => {
    const r = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send('{"resourceType":"Patient","name":"Siti 3171012501900001",').expect(400);
    expect(r.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].code).toBe('structure');
    expect(r.text).not.toContain('3171012501900001');
    expect(r.text).not.toContain('Siti');
  });

  it('a JSON primitive body → 400', async () => {
    await request(app).post('/fhir/$validate').set('Content-Type', 'application/json').send('"just a string"').expect(400);
  });

  it('wrong content types → 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/fhir+xml', 'multipart/form-data; boundary=x']) {
      const r = await request(app).post('/fhir/$validate').set('Content-Type', type).send('resourceType=Patient').expect(415);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].code).toBe('not-supported');
    }
    const r = await request(app).post('/ilp/visits/$map').set('Content-Type', 'text/plain').set('Accept-Language', 'en').send('{}').expect(415);
    expect(r.body.issue[0].diagnostics).toBe("Unsupported Content-Type 'text/plain': send application/fhir+json, application/json");
    const id = await request(app).post('/ilp/visits/$map').set('Content-Type', 'text/plain').send('{}').expect(415);
    expect(id.body.issue[0].diagnostics).toBe("Content-Type 'text/plain' tidak didukung: kirim application/fhir+json, application/json");
  });

  it('an unsupported charset → 415', async () => {
    await request(app).post('/fhir/$validate').set('Content-Type', 'application/json; charset=latin9').send('{"resourceType":"Patient"}').expect(415);
  });

  it('a body over the limit → 413 (2 MB on the open endpoints, configurable)', async () => {
    const big = JSON.stringify({ resourceType: 'Basic', text: { div: 'x'.repeat(2 * 1024 * 1024 + 10) } });
    const r = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send(big).expect(413);
    expect(r.body.issue[0].code).toBe('too-costly');
    const small = createApp({ validator, tables, clock: () => NOW, logger: logs.logger, openLimits: { bodyBytes: 1000 } });
    await request(small).post('/fhir/$validate').send({ resourceType: 'Basic', code: { text: 'y'.repeat(2000) } }).expect(413);
    await request(small).post('/fhir/$validate').send({ resourceType: 'Basic', code: { text: 'short' } }).expect(200);
  });

  it('10,000 levels of nesting → 400 too-costly, rejected before any recursion', async () => {
    const deep = '{"resourceType":"Patient","extension":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
    const r = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send(deep).expect(400);
    expect(r.body.issue[0]).toMatchObject({ code: 'too-costly', expression: [expect.stringMatching(/^extension(\[0\])+$/)] });
    const deepMap = '{"patient":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}';
    await request(app).post('/ilp/visits/$map').set('Content-Type', 'application/json').send(deepMap).expect(400);
  });

  it('an array of 1,000,000 elements → 400 with a clear OperationOutcome', async () => {
    const huge = '{"resourceType":"Bundle","type":"transaction","entry":[' + new Array(1_000_000).fill('0').join(',') + ']}';
    const r = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).set('Accept-Language', 'en').send(huge).expect(400);
    expect(r.body.issue[0].diagnostics).toMatch(/more than 10000 elements; at most 10000/);
    expect(r.body.issue[0].expression).toEqual(['entry']);
  });

  it('a POST without a body → 400 saying the body is required', async () => {
    const r = await request(app).post('/fhir/$validate').expect(400);
    expect(r.body.issue[0].code).toBe('required');
  });

  it('unknown route → 404 OperationOutcome; wrong method → 405 with Allow', async () => {
    const nf = await request(app).get('/fhir/Patient/123').expect(404);
    expect(nf.body.resourceType).toBe('OperationOutcome');
    expect(nf.body.issue[0].code).toBe('not-found');
    const m1 = await request(app).get('/fhir/$validate').expect(405);
    expect(m1.headers.allow).toContain('POST');
    expect(m1.body.resourceType).toBe('OperationOutcome');
    await request(app).put('/fhir/Patient/$validate').send({}).expect(405);
    await request(app).get('/ilp/visits/$map').expect(405);
    await request(app).post('/fhir/metadata').send({}).expect(405);
    await request(app).delete('/health').expect(405);
    await request(app).options('/fhir/$validate').expect(204).expect('Allow', /POST/);
  });

  it('406 when the client accepts only XML', async () => {
    const r = await request(app).get('/fhir/metadata').set('Accept', 'application/fhir+xml').expect(406);
    expect(r.body.resourceType).toBe('OperationOutcome');
    await request(app).get('/fhir/metadata?_format=xml').expect(406);
    await request(app).get('/fhir/metadata?_format=json').expect(200);
    await request(app).get('/fhir/metadata').set('Accept', '*/*').expect(200);
  });

  it('mounted routers get the same guarantees (415, 400, 405)', async () => {
    await request(app).post('/ilp/visits').send([{ a: 1 }, { a: 2 }]).expect(202, { received: 2 });
    await request(app).post('/ilp/visits').set('Content-Type', 'text/csv').send('a,b').expect(415);
    await request(app).post('/ilp/visits').set('Content-Type', 'application/json').send('[{').expect(400);
    await request(app).get('/ilp/visits').expect(405);
  });

  it('an unexpected exception → 500 OperationOutcome with an incident id, no stack, no message, no PII in logs', async () => {
    for (const p of ['/boom', '/boom-async']) {
      const r = await request(app).get(p).set('Accept-Language', 'en').expect(500);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].diagnostics).toMatch(/^Internal error; the incident was logged with id [0-9a-f-]{36}$/);
      expect(r.text).not.toMatch(/boom|at Object|\.ts:|3171012501900001/);
    }
    expect(logs.text()).toContain('unexpected error');
    expect(logs.text()).not.toContain('3171012501900001');
  });

  it('echoes a sane X-Request-Id and makes one up otherwise', async () => {
    const r = await request(app).get('/health').set('X-Request-Id', 'abc-123').expect(200);
    expect(r.headers['x-request-id']).toBe('abc-123');
    const r2 = await request(app).get('/health').set('X-Request-Id', 'bad id with spaces').expect(200);
    expect(r2.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

function mappedResource(type: string): Record<string, unknown> {
  const s = cleanSample();
  if (!s) throw new Error('no samples in mappings/samples');
  const bundle = mappedBundle(s.record);
  const e = bundle.entry?.find((x) => x.resource?.resourceType === type);
  if (!e?.resource) throw new Error(`no ${type} in the mapped sample`);
  return JSON.parse(JSON.stringify(e.resource)) as Record<string, unknown>;
}

function mappedBundle(record: Record<string, unknown>): Bundle {
  const r = mapVisit(record, tables, { now: NOW });
  if (!r.bundle) throw new Error('sample did not map');
  return r.bundle;
}

/** A sample that maps to a valid Bundle (for tests about the API rather than about every sample). */
function cleanSample(): Sample {
  const s = samples.find((x) => dryRun(x.record, { mapper: (rec, now) => mapVisit(rec, tables, { now }), validator, now: NOW }).status === 'mapped');
  if (!s) throw new Error('no sample maps to a valid Bundle');
  return s;
}

describe('POST /ilp/visits/$map', () => {
  it('maps every sample: 200, the body is the transaction Bundle, warnings in X-ILP-Outcome', async () => {
    expect(samples.length).toBeGreaterThanOrEqual(6);
    for (const s of samples) {
      const r = await request(app).post('/ilp/visits/$map').send(s.record);
      expect({ sample: s.name, status: r.status }).toEqual({ sample: s.name, status: 200 });
      expect(r.headers['content-type']).toMatch(/^application\/fhir\+json/);
      const bundle = r.body as Bundle;
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.type).toBe('transaction');
      expect(bundle).toEqual(JSON.parse(JSON.stringify(mappedBundle(s.record))));
      const header = r.headers[OUTCOME_HEADER.toLowerCase()] as string;
      const oo = JSON.parse(header) as OperationOutcome;
      expect(oo.resourceType).toBe('OperationOutcome');
      expect(hasError(oo)).toBe(false);
      // No personal data in the header, which proxies may log.
      for (const v of personalValues(s.record)) expect(header).not.toContain(v);
    }
  });

  it('?_outcome=inline returns Parameters with parts bundle and outcome', async () => {
    const s = cleanSample();
    const r = await request(app).post('/ilp/visits/$map?_outcome=inline').send(s.record).expect(200);
    const p = r.body as FhirParameters;
    expect(p.resourceType).toBe('Parameters');
    const names = p.parameter?.map((x) => x.name) ?? [];
    expect(names.slice(0, 2)).toEqual(['bundle', 'outcome']);
    expect(p.parameter?.[0]?.resource?.resourceType).toBe('Bundle');
    expect(p.parameter?.[1]?.resource?.resourceType).toBe('OperationOutcome');
    expect(r.headers[OUTCOME_HEADER.toLowerCase()]).toBeUndefined();
    await request(app).post('/ilp/visits/$map?_outcome=everything').send(s.record).expect(400);
  });

  it('an invalid record → 422 with issues pointing at source fields', async () => {
    const s = samples[0] as Sample;
    const missing = JSON.parse(JSON.stringify(s.record)) as Record<string, unknown>;
    delete missing.visitId;
    const r = await request(app).post('/ilp/visits/$map').send(missing).expect(422);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect((r.body as OperationOutcome).issue.flatMap((i) => i.expression ?? [])).toContain('visitId');
    expect(severities(r.body)).toContain('error');
    const future = { ...s.record, start: '2099-01-01T08:00:00+07:00' };
    const f = await request(app).post('/ilp/visits/$map').send(future).expect(422);
    expect((f.body as OperationOutcome).issue.flatMap((i) => i.expression ?? [])).toContain('start');
  });

  it('a record with an unknown measurement unit → 422 naming measurements[i].unit', async () => {
    const s = samples.find((x) => Array.isArray(x.record.measurements) && (x.record.measurements as unknown[]).length > 0) as Sample;
    const record = JSON.parse(JSON.stringify(s.record)) as { measurements: Array<Record<string, unknown>> };
    (record.measurements[0] as Record<string, unknown>).unit = 'furlong';
    const r = await request(app).post('/ilp/visits/$map').send(record).expect(422);
    expect((r.body as OperationOutcome).issue.flatMap((i) => i.expression ?? [])).toContain('measurements[0].unit');
  });

  it('a non-object body → 400; an empty object → 422', async () => {
    await request(app).post('/ilp/visits/$map').send([samples[0]?.record]).expect(400);
    const r = await request(app).post('/ilp/visits/$map').send({}).expect(422);
    expect(hasError(outcome(r.body))).toBe(true);
  });

  it('a Bundle that fails validation after mapping → 422 that calls it an adapter defect', async () => {
    const strict = Object.assign(Object.create(validator) as Validator, {
      validate: (payload: unknown, opts: Parameters<Validator['validate']>[1]) => [
        ...validator.validate(payload, opts),
        ...((payload as { resourceType?: string }).resourceType === 'Bundle'
          ? [{ severity: 'error' as const, code: 'invalid' as const, diagnostics: 'injected defect', expression: ['Bundle.entry[0]'] }]
          : []),
      ],
    });
    const defective = createApp({ validator: strict, tables, clock: () => NOW, logger: logs.logger });
    const r = await request(defective).post('/ilp/visits/$map').set('Accept-Language', 'en').send(cleanSample().record).expect(422);
    expect(r.body.issue[0].diagnostics).toMatch(/defect of the adapter/);
    expect(r.body.issue.map((i: { diagnostics: string }) => i.diagnostics)).toContain('injected defect');
    expect(logs.text()).toContain('mapped resources fail validation');
  });

  it('never logs personal data from any request', () => {
    const text = logs.text();
    for (const s of samples) for (const v of personalValues(s.record)) expect(text).not.toContain(v);
  });
});

describe('review findings, second round (issue 3): malformed resourceType', () => {
  const nik = '3171012345678901';

  it("a malformed or unknown resourceType ('patient', 'Foo', ...) is processed: 200 with an error issue, like the CLI", async () => {
    for (const rt of ['patient', 'Foo', 'PATIENT', 'Patient ', 'Obs-ervation', 'x'.repeat(500)]) {
      const r = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send(JSON.stringify({ resourceType: rt, gender: 'male' })).expect(200);
      expect(outcome(r.body).issue).toEqual([expect.objectContaining({ severity: 'error', code: 'not-supported', expression: ['Resource.resourceType'] })]);
      // exactly what the validator (and so the CLI) reports
      expect(outcome(r.body).issue).toEqual(toOutcome(validator.validate({ resourceType: rt, gender: 'male' }, { now: NOW })).issue);
    }
  });

  it('a resourceType that looks like personal data is judged (200) but never echoed', async () => {
    for (const rt of [nik, 'Budi Santoso', `Patient${nik}`, 'Siti\tAminah']) {
      const r = await request(app).post('/fhir/$validate').send({ resourceType: rt }).expect(200);
      expect(hasError(outcome(r.body))).toBe(true);
      expect(JSON.stringify(r.body)).not.toMatch(/3171012345678901|Budi|Siti|Aminah/);
    }
    expect(logs.text()).not.toMatch(/3171012345678901|Budi Santoso|Aminah/);
  });

  it('on /fhir/{type}/$validate a malformed body type is a content error (200), a different real type stays 400', async () => {
    const r = await request(app).post('/fhir/Patient/$validate').send({ resourceType: 'patient' }).expect(200);
    expect(hasError(outcome(r.body))).toBe(true);
    expect(outcome(r.body).issue.map((i) => i.code)).toEqual(expect.arrayContaining(['invalid', 'not-supported']));
    const n = await request(app).post('/fhir/Patient/$validate').send({ resourceType: nik }).expect(200);
    expect(JSON.stringify(n.body)).not.toContain(nik);
    await request(app).post('/fhir/Patient/$validate').send({ resourceType: 'Observation' }).expect(400);
  });

  it('with ?profile= a malformed body type is judged (200); an unsupported profile stays 400 without echoing the body type', async () => {
    const r = await request(app).post('/fhir/$validate?profile=http://hl7.org/fhir/StructureDefinition/Patient').send({ resourceType: 'patient' }).expect(200);
    expect(hasError(outcome(r.body))).toBe(true);
    const u = await request(app).post('/fhir/$validate?profile=https://example.org/StructureDefinition/X').send({ resourceType: nik }).expect(400);
    expect(JSON.stringify(u.body)).not.toContain(nik);
  });

  it('missing, empty or non-string resourceType and non-JSON stay 400', async () => {
    await request(app).post('/fhir/$validate').send({ id: 'x' }).expect(400);
    const e = await request(app).post('/fhir/$validate').send({ resourceType: '' }).expect(400);
    expect(e.body.issue[0]).toMatchObject({ code: 'required', expression: ['resourceType'] });
    for (const rt of [42, null, true, ['Patient'], { a: 1 }]) await request(app).post('/fhir/$validate').send({ resourceType: rt }).expect(400);
    await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send('{"resourceType":').expect(400);
  });
});
