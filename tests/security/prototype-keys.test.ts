// Names every plain object inherits (`constructor`, `__proto__`, `toString`, `valueOf`, `hasOwnProperty`) fed as every value that
// is looked up in a table: each is a clear rejection at its field, nothing is mapped, registered at the platform or stored.
import request from 'supertest';
import type { Location } from 'fhir/r4.js';
import { createApp } from '../../src/api/app.js';
import { parseFacilities } from '../../src/config/facilities.js';
import { loadMappingTables, mapVisit } from '../../src/mapping/index.js';
import { openStore } from '../../src/store/index.js';
import type { FacilityConfig, PlatformClient } from '../../src/platform/types.js';
import { createSimulator } from '../../src/simulator/app.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { BlockedError } from '../../src/sync/policy.js';
import { emptyTable, hasEntry, ownEntry } from '../../src/util/own.js';
import { createValidator } from '../../src/validation/index.js';
import { FHIR, location, tokenFor } from '../simulator/helpers.js';
import { sample } from '../mapping/helpers.js';

const PROTO_KEYS = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'];
const NOW = new Date('2026-11-01T00:00:00Z');
const tables = loadMappingTables();
type Mutable = Record<string, any>;

/** The error issues of mapping `record`, asserting that nothing was mapped. */
function rejected(record: unknown) {
  const res = mapVisit(record, tables, { now: NOW });
  expect(res.bundle).toBeUndefined();
  expect(res.entries).toEqual([]);
  return res.issues.filter((i) => i.severity === 'error');
}

describe.each(PROTO_KEYS)('%s as a table key', (key) => {
  it('as a measurement code or unit: an error at that field, nothing mapped', () => {
    const r = sample('infant-posyandu-immunization') as unknown as Mutable;
    r.measurements[0].code = key;
    expect(rejected(r).map((e) => [e.expression?.[0], e.code])).toEqual([['measurements[0].code', 'code-invalid']]);
    const u = sample('infant-posyandu-immunization') as unknown as Mutable;
    u.measurements[0].unit = key;
    expect(rejected(u).map((e) => [e.expression?.[0], e.code])).toEqual([['measurements[0].unit', 'code-invalid']]);
  });

  it('as a finding code, a finding answer, an interpretation or an ANC visit number: an error at that field', () => {
    const cases: Array<[(r: Mutable) => void, string]> = [
      [(r) => (r.findings = [{ code: key, value: 'x' }]), 'findings[0].code'],
      [(r) => (r.findings = [{ code: 'blood-group', value: key }]), 'findings[0].value'],
      [(r) => (r.findings = [{ code: 'rhesus', value: 'positive', interpretation: key }]), 'findings[0].interpretation'],
      [(r) => (r.measurements[0].interpretation = key), 'measurements[0].interpretation'],
      [(r) => (r.pregnancy = { ancVisit: key }), 'pregnancy.ancVisit'],
      [(r) => (r.pregnancy = { fetalPresentation: key }), 'pregnancy.fetalPresentation'],
    ];
    for (const [edit, field] of cases) {
      const r = sample('pregnant-anc') as unknown as Mutable;
      delete r.findings;
      delete r.pregnancy;
      edit(r);
      expect(rejected(r).map((e) => [e.expression?.[0], e.code])).toEqual([[field, 'code-invalid']]);
    }
  });

  it('as a vaccine, a KFA product code or a setting: an error at that field', () => {
    const v = sample('infant-posyandu-immunization') as unknown as Mutable;
    v.immunizations[0].vaccine = key;
    expect(rejected(v).map((e) => e.expression?.[0])).toEqual(['immunizations[0].vaccine']);
    const p = sample('infant-posyandu-immunization') as unknown as Mutable;
    p.immunizations[0].productCode = key;
    expect(rejected(p).map((e) => e.expression?.[0])).toEqual(['immunizations[0].productCode']);
    const s = sample('infant-posyandu-immunization') as unknown as Mutable;
    s.setting = key;
    expect(rejected(s).map((e) => e.expression?.[0])).toEqual(['setting']);
  });

  // Both the facilities file's table (no prototype) and a plain object literal (as tests and benches build FacilityConfig).
  it.each([['the parsed facilities file'], ['a plain object literal']])('as a locationCode (%s): blocked at locationCode, no Location searched or registered', async (how) => {
    const store = await openStore({ url: 'sqlite::memory:' });
    try {
      const locations = { 'PSY-01': { name: 'Posyandu Mawar', physicalType: 'si' } };
      const parsed = parseFacilities({ facilities: [{ organizationId: '10000004', environment: 'simulator', simulatorUrl: 'http://127.0.0.1:1', locations }] })[0];
      const facility = {
        ...parsed, authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1', clientId: 'c', clientSecret: 's',
        locations: how === 'a plain object literal' ? locations : parsed.locations,
      } as unknown as FacilityConfig;
      const calls: string[] = [];
      const client = {
        organizationId: '10000004',
        findPatientByNik: async () => (calls.push('findPatientByNik'), 'P001'),
        findPractitionerByNik: async () => (calls.push('findPractitionerByNik'), '10009880728'),
        findLocation: async () => (calls.push('findLocation'), undefined),
        createLocation: async (l: Location) => (calls.push(`createLocation:${l.name}`), 'loc-1'),
      } as unknown as PlatformClient;
      const resolver = new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 7), now: () => 1_700_000_000_000 });
      const record = { organizationId: '10000004', visitId: 'V1', locationCode: key, patient: { nik: '3171012345678901' }, practitioner: { nik: '7209061211900001' } };
      const err = await resolver.resolve({ record, client, facility, patientToCreate: () => ({ resourceType: 'Patient' }) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlockedError);
      expect((err as BlockedError).message).toMatch(/is not configured for organization 10000004/);
      expect(calls.filter((c) => c.includes('Location'))).toEqual([]);
      // The same resolver still registers a configured location: the rejection is the key, not a broken resolver.
      await resolver.resolve({ record: { ...record, locationCode: 'PSY-01' }, client, facility, patientToCreate: () => ({ resourceType: 'Patient' }) });
      expect(calls.filter((c) => c.includes('Location'))).toEqual(['findLocation', 'createLocation:Posyandu Mawar']);
    } finally {
      await store.close();
    }
  });

  it('as a facility location code in the facilities file: stored as an entry, the prototype untouched', () => {
    const [entry] = parseFacilities({ facilities: [{ organizationId: '10000004', environment: 'simulator', simulatorUrl: 'http://127.0.0.1:1', locations: { [key]: { name: 'Ruang 1', physicalType: 'ro' } } }] });
    expect(Object.keys(entry.locations)).toEqual([key]);
    expect(ownEntry(entry.locations, key)).toEqual({ name: 'Ruang 1', physicalType: 'ro' });
    expect(Object.getPrototypeOf(entry.locations)).toBeNull();
    expect(ownEntry(entry.locations, key === 'constructor' ? 'toString' : 'constructor')).toBeUndefined();
  });

  it('as a resourceType to the validator: "Unknown resourceType", no crash', () => {
    const v = createValidator();
    expect(v.validate({ resourceType: key }, { now: NOW }).map((i) => [i.code, i.expression?.[0]])).toEqual([['not-supported', 'Resource.resourceType']]);
    // Nested, in a Bundle entry and in contained: the same answer at that place.
    const nested = v.validate({ resourceType: 'Patient', contained: [{ resourceType: key }] }, { now: NOW, baseOnly: true });
    expect(nested.map((i) => [i.code, i.expression?.[0]])).toEqual([['not-supported', 'Patient.contained[0].resourceType']]);
  });

  it('the table helpers see own entries only', () => {
    const plain: Record<string, number> = { a: 1 };
    expect(ownEntry(plain, key)).toBeUndefined();
    expect(hasEntry(plain, key)).toBe(false);
    const t = emptyTable<number>();
    t[key] = 5;
    expect(ownEntry(t, key)).toBe(5);
    expect(Object.keys(t)).toEqual([key]);
  });
});

describe('over HTTP', () => {
  it('POST /fhir/$validate and /fhir/{type}/$validate with prototype names answer 4xx/200 OperationOutcomes, never 5xx', async () => {
    const app = createApp({ validator: createValidator(), tables, clock: () => NOW });
    for (const key of PROTO_KEYS) {
      const body = await request(app).post('/fhir/$validate').send({ resourceType: key });
      expect(body.status).toBeLessThan(500);
      expect(body.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(body.body)).toMatch(/not a FHIR R4 resource type|not a resource type/);
      const typed = await request(app).post(`/fhir/${key}/$validate`).send({ resourceType: 'Patient' });
      expect(typed.status).toBeLessThan(500);
      expect(typed.body.resourceType).toBe('OperationOutcome');
    }
  });

  it('the simulator treats prototype names as unsupported resource types and search parameters; nothing is stored', async () => {
    const sim = createSimulator({ validator: false, patientCreateBody: 'documented', errorStyle: 'documented' });
    const auth = { Authorization: `Bearer ${await tokenFor(sim.app)}` };
    for (const key of PROTO_KEYS.filter((k) => k !== '__proto__')) {
      const read = await request(sim.app).get(`${FHIR}/${key}/x`).set(auth);
      expect(read.status).toBe(404);
      const search = await request(sim.app).get(`${FHIR}/${key}`).set(auth);
      expect(search.status).toBe(404);
      const write = await request(sim.app).post(`${FHIR}/${key}`).set(auth).send({ resourceType: key });
      expect(write.status).toBeGreaterThanOrEqual(400);
      expect(write.status).toBeLessThan(500);
      // A prototype name as a search parameter is dropped like any parameter the platform does not honour.
      const loc = await request(sim.app).get(`${FHIR}/Location?${key}=x`).set(auth);
      expect(loc.status).toBe(200);
      const tx = await request(sim.app).post(FHIR).set(auth).send({
        resourceType: 'Bundle', type: 'transaction',
        entry: [{ fullUrl: 'urn:uuid:4a0f8d6e-0000-4000-8000-000000000001', resource: { resourceType: key }, request: { method: 'POST', url: key } }],
      });
      expect(tx.status).toBeGreaterThanOrEqual(400);
      expect(tx.status).toBeLessThan(500);
    }
    // Only what was written properly is there.
    const created = await request(sim.app).post(`${FHIR}/Location`).set(auth).send(location());
    expect(created.status).toBe(201);
    const all = await request(sim.app).get(`${FHIR}/Location?organization=10000004`).set(auth);
    expect(all.body.entry?.length ?? 0).toBe(1);
  });
});
