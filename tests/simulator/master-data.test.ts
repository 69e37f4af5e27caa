import request from 'supertest';
import { createSimulator } from '../../src/simulator/app.js';
import { FHIR, NIK_SYS, ORG, location, tokenFor } from './helpers.js';

const IBU_SYS = 'https://fhir.kemkes.go.id/id/nik-ibu';

// The documented Patient-create body and rule numbers are checked here; recorded-shapes.test.ts checks the recorded defaults.
async function setup(opts: Parameters<typeof createSimulator>[0] = {}) {
  const sim = createSimulator({ validator: false, patientCreateBody: 'documented', errorStyle: 'documented', ...opts });
  const token = await tokenFor(sim.app);
  const auth = { Authorization: `Bearer ${token}` };
  return { sim, auth, get: (p: string) => request(sim.app).get(`${FHIR}${p}`).set(auth), post: (p: string, b: unknown) => request(sim.app).post(`${FHIR}${p}`).set(auth).send(b as object) };
}

function patient(idSystem: string, nik: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    identifier: [{ use: 'official', system: idSystem, value: nik }],
    name: [{ use: 'official', text: 'Test Person' }],
    gender: 'female',
    birthDate: '2024-05-01',
    multipleBirthInteger: 0,
    ...extra,
  };
}

describe('simulator Patient (MPI)', () => {
  it('finds the sandbox dummy patients by NIK and masks the NIK', async () => {
    const { get } = await setup();
    for (const [nik, ihs] of [['9271060312000001', 'P02478375538'], ['9204014804000002', 'P03647103112']]) {
      const res = await get(`/Patient?identifier=${encodeURIComponent(`${NIK_SYS}|${nik}`)}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
      expect(res.body.entry[0].resource.id).toBe(ihs);
      const nikId = res.body.entry[0].resource.identifier.find((i: { system: string }) => i.system === NIK_SYS);
      expect(nikId.value).toBe('################');
      expect(JSON.stringify(res.body)).not.toContain(nik);
    }
  });

  it('returns total 0 and an empty entry list when nobody has the NIK (patient-search-nik-production-0-hits.json)', async () => {
    const { get } = await setup();
    const res = await get(`/Patient?identifier=${encodeURIComponent(`${NIK_SYS}|3171015501900001`)}`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(0);
    expect(res.body.entry).toEqual([]);
  });

  it('reads a patient by IHS number with the NIK masked, and 404s an unknown one', async () => {
    const { get } = await setup();
    const res = await get('/Patient/P03647103112');
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain('9204014804000002');
    expect(res.body.gender).toBe('female'); // day 48 in the NIK → woman
    const missing = await get('/Patient/P00000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.issue[0].details.text).toContain('RuleNumber: 20007');
  });

  it('creates a patient by NIK with the non-FHIR success body, then finds it and refuses a duplicate', async () => {
    const { sim, get, post } = await setup();
    const nik = '3171014501900002';
    const created = await post('/Patient', patient(NIK_SYS, nik));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ success: true, data: { patient_id: expect.stringMatching(/^P\d{11}$/) } });
    const id = created.body.data.patient_id as string;
    const found = await get(`/Patient?identifier=${encodeURIComponent(`${NIK_SYS}|${nik}`)}`);
    expect(found.body.total).toBe(1);
    expect(found.body.entry[0].resource.id).toBe(id);
    expect(sim.state.findByIdentifier('Patient', NIK_SYS, nik)[0].id).toBe(id);
    const dup = await post('/Patient', patient(NIK_SYS, nik));
    expect(dup.status).toBe(400);
    expect(dup.body.issue[0].code).toBe('duplicate');
    expect(dup.body.issue[0].details.text).toBe('Found duplicate resource: Patient (RuleNumber: 20002)');
  });

  it('creates newborns under the mother\'s NIK, deduplicating on birth date + birth order', async () => {
    const { sim, get, post } = await setup();
    const mother = '3171014501900002';
    const twin1 = await post('/Patient', patient(IBU_SYS, mother, { multipleBirthInteger: 1 }));
    expect(twin1.status).toBe(201);
    expect(twin1.body).toEqual({ create_patient: { success: true, data: { patient_id: expect.stringMatching(/^P\d{11}$/) } } });
    const twin2 = await post('/Patient', patient(IBU_SYS, mother, { multipleBirthInteger: 2 }));
    expect(twin2.status).toBe(201);
    const again = await post('/Patient', patient(IBU_SYS, mother, { multipleBirthInteger: 1 }));
    expect(again.status).toBe(400);
    expect(again.body.issue[0].code).toBe('duplicate');
    const otherDay = await post('/Patient', patient(IBU_SYS, mother, { multipleBirthInteger: 1, birthDate: '2025-02-01' }));
    expect(otherDay.status).toBe(201);
    const search = await get(`/Patient?identifier=${encodeURIComponent(`${IBU_SYS}|${mother}`)}`);
    expect(search.body.total).toBe(3);
    // The mother's NIK comes back unmasked, as recorded (patient-search-nik-ibu-staging-12-hits.json); the link does not echo it.
    expect(search.body.entry[0].resource.identifier.find((i: { system: string }) => i.system === IBU_SYS).value).toBe(mother);
    expect(JSON.stringify(search.body.link)).not.toContain(mother);
    expect(sim.state.count('Patient')).toBe(9 + 3);
  });

  it('rejects NIKs that Dukcapil does not know (configured) and implausible NIKs, without echoing the NIK', async () => {
    const { sim, post } = await setup({ unknownNiks: ['3171014501900003'] });
    const before = sim.state.count('Patient');
    const unknown = await post('/Patient', patient(NIK_SYS, '3171014501900003'));
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0]).toMatchObject({ code: 'not-found', details: { text: 'NIK not found in Dukcapil' }, expression: ['Patient.identifier[0].value'] });
    const unknownMother = await post('/Patient', patient(IBU_SYS, '3171014501900003'));
    expect(unknownMother.status).toBe(400);
    for (const bad of ['317101450190000', '31710145019000021', '1071014501900002', '9971014501900002', '3171013201900002', '3171017201900002', '3171011513900002', '3171013002900002', '3171014501900000', 'abcdefghijklmnop']) {
      const res = await post('/Patient', patient(NIK_SYS, bad));
      expect(res.status).toBe(400);
      expect(res.body.issue[0].code).toBe('value');
      expect(JSON.stringify(res.body)).not.toContain(bad);
    }
    const number = await post('/Patient', patient(NIK_SYS, 3171014501900002 as unknown as string));
    expect(number.status).toBe(400);
    const noNik = await post('/Patient', { resourceType: 'Patient', identifier: [{ system: 'x', value: 'y' }] });
    expect(noNik.status).toBe(400);
    const notPatient = await post('/Patient', { resourceType: 'Encounter' });
    expect(notPatient.status).toBe(400);
    expect(sim.state.count('Patient')).toBe(before);
    // Women: day + 40 is valid (41..71); 29 Feb is accepted since the century is not in the NIK.
    expect((await post('/Patient', patient(NIK_SYS, '3171016902900002'))).status).toBe(201);
  });
});

describe('simulator Practitioner', () => {
  it('finds the sandbox practitioners by NIK and reads them by IHS id', async () => {
    const { get } = await setup();
    const res = await get(`/Practitioner?identifier=${encodeURIComponent(`${NIK_SYS}|3313096403900009`)}`);
    expect(res.body.total).toBe(1);
    expect(res.body.entry[0].resource.id).toBe('10014058550');
    const read = await get('/Practitioner/10009880728');
    expect(read.status).toBe(200);
    expect(read.body.identifier).toContainEqual({ system: 'https://fhir.kemkes.go.id/id/nakes-his-number', value: '10009880728' });
    const none = await get(`/Practitioner?identifier=${encodeURIComponent(`${NIK_SYS}|3171014501900002`)}`);
    expect(none.body.total).toBe(0);
  });

  it('is read-only and seeds configured practitioners', async () => {
    const { get, post } = await setup({ practitioners: [{ id: 'N1', nik: '3171010101800001', name: 'Bidan Test' }] });
    expect((await get('/Practitioner/N1')).status).toBe(200);
    const create = await post('/Practitioner', { resourceType: 'Practitioner' });
    expect(create.status).toBe(405);
  });
});

describe('simulator Location and Organization', () => {
  it('seeds the Locations it is given: found by identifier, owned by their organization, a second registration a duplicate', async () => {
    const { get, post, sim } = await setup({ locations: [{ organizationId: ORG, code: 'POSY-SEED', name: 'Posyandu Seed' }] });
    const found = await get(`/Location?identifier=${encodeURIComponent(`http://sys-ids.kemkes.go.id/location/${ORG}|POSY-SEED`)}`);
    expect(found.body.total).toBe(1);
    expect(found.body.entry[0].resource).toMatchObject({ name: 'Posyandu Seed', managingOrganization: { reference: `Organization/${ORG}` } });
    expect(sim.state.count('Location', ORG)).toBe(1);
    expect((await post('/Location', location(ORG, 'POSY-SEED'))).status).toBe(400);
  });


  it('creates a Location with a server UUID and finds it by identifier and by organization', async () => {
    const { sim, get, post } = await setup();
    const created = await post('/Location', location(ORG, 'POSY-7'));
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.headers.location).toMatch(new RegExp(`/fhir/Location/${created.body.id}/_history/${created.body.meta.versionId}$`));
    const byId = await get(`/Location?identifier=${encodeURIComponent(`http://sys-ids.kemkes.go.id/location/${ORG}|POSY-7`)}`);
    expect(byId.body.total).toBe(1);
    expect(byId.body.entry[0].resource.id).toBe(created.body.id);
    await post('/Location', location(ORG, 'POSY-8'));
    const byOrg = await get(`/Location?organization=${ORG}`);
    expect(byOrg.body.total).toBe(2);
    const byOrgRef = await get(`/Location?organization=Organization/${ORG}&identifier=${encodeURIComponent(`http://sys-ids.kemkes.go.id/location/${ORG}|POSY-8`)}`);
    expect(byOrgRef.body.total).toBe(1);
    expect(sim.state.count('Location', ORG)).toBe(2);
  });

  it('creates a sub-Organization and finds it by partof and name; drops unsupported search parameters', async () => {
    const { get, post } = await setup();
    const sub = await post('/Organization', {
      resourceType: 'Organization',
      active: true,
      identifier: [{ use: 'official', system: `http://sys-ids.kemkes.go.id/organization/${ORG}`, value: 'PUSTU-1' }],
      name: 'Pustu 1',
      partOf: { reference: `Organization/${ORG}` },
    });
    expect(sub.status).toBe(201);
    const children = await get(`/Organization?partof=${ORG}`);
    expect(children.body.total).toBe(1);
    expect(children.body.entry[0].resource.id).toBe(sub.body.id);
    expect((await get('/Organization?name=Pustu')).body.entry[0].resource.id).toBe(sub.body.id);
    // type is not honoured: dropped, leaving every Organization of the caller (its own and the sub-organization).
    expect((await get('/Organization?type=dept')).body.total).toBe(2);
    expect((await get('/Medication?identifier=x')).status).toBe(404);
  });
});
