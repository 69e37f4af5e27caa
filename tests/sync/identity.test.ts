import type { Location, Patient } from 'fhir/r4.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { PlatformError, type FacilityConfig, type PlatformClient } from '../../src/platform/types.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { BlockedError } from '../../src/sync/policy.js';
import type { VisitRecordLike } from '../../src/sync/contracts.js';
import { toOperationOutcome, issue } from '../../src/validation/outcome.js';

const NIK = '3171012345678901';
const facility: FacilityConfig = {
  organizationId: '10000004', environment: 'simulator', authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1',
  clientId: 'c', clientSecret: 's', timezone: 'Asia/Jakarta', quotaPerMinute: 150,
  locations: { 'PSY-01': { name: 'Posyandu Mawar', physicalType: 'si' } },
};

/** A fake platform that counts calls. */
function fakeClient(over: Partial<PlatformClient> = {}) {
  const calls: string[] = [];
  const client: PlatformClient = {
    organizationId: facility.organizationId,
    findPatientByNik: async () => (calls.push('findPatientByNik'), 'P001'),
    findPatientsByMotherNik: async () => (calls.push('findPatientsByMotherNik'), []),
    createPatient: async () => (calls.push('createPatient'), { id: 'P-NEW', existed: false }),
    findPractitionerByNik: async () => (calls.push('findPractitionerByNik'), '10009880728'),
    findLocation: async () => (calls.push('findLocation'), undefined),
    createLocation: async (l: Location) => (calls.push(`createLocation:${l.identifier?.[0]?.value}`), 'loc-1'),
    transaction: async () => { throw new Error('not used'); },
    search: async () => [],
    update: async (r) => r,
    read: async () => { throw new Error('read: not expected in this test'); },
    ...over,
  };
  // Wrap overrides so they are counted too.
  for (const k of Object.keys(over) as Array<keyof PlatformClient>) {
    const f = client[k] as unknown as (...a: unknown[]) => unknown;
    if (typeof f === 'function') (client as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => (calls.push(k), f(...a));
  }
  return { client, calls };
}

const record = (patient: VisitRecordLike['patient'], practitioner: VisitRecordLike['practitioner'] = { nik: '7209061211900001' }): VisitRecordLike => ({
  organizationId: '10000004', visitId: 'V1', locationCode: 'PSY-01', patient, practitioner,
});
const patientResource: Patient = { resourceType: 'Patient', identifier: [{ system: 'https://fhir.kemkes.go.id/id/nik', value: NIK }] };

describe('IdentityResolver', () => {
  let store: Store;
  let resolver: IdentityResolver;
  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    resolver = new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 7), now: () => 1_700_000_000_000 });
  });
  afterEach(() => store.close());

  it('resolves by platform search the first time and from the cache afterwards (no platform call)', async () => {
    const { client, calls } = fakeClient();
    const input = { record: record({ nik: NIK, name: 'Budi' }), client, facility, patientToCreate: () => patientResource };
    expect(await resolver.resolve(input)).toEqual({ patient: 'P001', practitioner: '10009880728', location: 'loc-1' });
    expect(calls.sort()).toEqual(['createLocation:PSY-01', 'findLocation', 'findPatientByNik', 'findPractitionerByNik']);
    calls.length = 0;
    expect(await resolver.resolve(input)).toEqual({ patient: 'P001', practitioner: '10009880728', location: 'loc-1' });
    expect(calls).toEqual([]);
  });

  it('never stores the NIK: the cache key is an HMAC', async () => {
    const { client } = fakeClient();
    await resolver.resolve({ record: record({ nik: NIK }), client, facility, patientToCreate: () => patientResource });
    const { createHmac } = await import('node:crypto');
    const keyHash = createHmac('sha256', Buffer.alloc(32, 7)).update(`patient|nik|${NIK}`).digest('hex');
    const entry = await store.getIdentity('patient', '10000004', keyHash);
    expect(entry?.satusehatId).toBe('P001');
    expect(JSON.stringify(entry)).not.toContain(NIK);
  });

  it('uses ihsNumbers given in the record without any call', async () => {
    const { client, calls } = fakeClient({ findLocation: async () => 'loc-9' });
    const ids = await resolver.resolve({ record: record({ ihsNumber: 'P02478375538' }, { ihsNumber: '10006926841' }), client, facility, patientToCreate: () => undefined });
    expect(ids).toEqual({ patient: 'P02478375538', practitioner: '10006926841', location: 'loc-9' });
    expect(calls).toEqual(['findLocation']);
  });

  it('creates the patient when the platform has none', async () => {
    const { client, calls } = fakeClient({ findPatientByNik: async () => undefined });
    const ids = await resolver.resolve({ record: record({ nik: NIK }), client, facility, patientToCreate: () => patientResource });
    expect(ids.patient).toBe('P-NEW');
    expect(calls).toContain('createPatient');
  });

  it('an unknown NIK (create refused) is blocked with a PII-free reason, not retried', async () => {
    const refused = new PlatformError('validation', 400, toOperationOutcome([issue('error', 'value', `NIK ${NIK} not found in Dukcapil`)]));
    const { client } = fakeClient({ findPatientByNik: async () => undefined, createPatient: async () => { throw refused; } });
    const err = await resolver.resolve({ record: record({ nik: NIK, name: 'Siti Aminah' }), client, facility, patientToCreate: () => patientResource }).catch((e) => e);
    expect(err).toBeInstanceOf(BlockedError);
    const text = JSON.stringify((err as BlockedError).outcome);
    expect(text).toContain('patient.nik');
    expect(text).not.toContain(NIK);
    expect(text).not.toContain('Siti');
  });

  it('an unknown practitioner is blocked (practitioners are read-only)', async () => {
    const { client } = fakeClient({ findPractitionerByNik: async () => undefined });
    const err = await resolver.resolve({ record: record({ nik: NIK }), client, facility, patientToCreate: () => patientResource }).catch((e) => e);
    expect(err).toBeInstanceOf(BlockedError);
    expect((err as BlockedError).outcome.issue[0]!.expression).toEqual(['practitioner.nik']);
  });

  it('a location code missing from the facility config is blocked', async () => {
    const { client } = fakeClient();
    const err = await resolver.resolve({ record: { ...record({ nik: NIK }), locationCode: 'NOPE' }, client, facility, patientToCreate: () => patientResource }).catch((e) => e);
    expect(err).toBeInstanceOf(BlockedError);
    expect((err as BlockedError).message).toMatch(/Location code "NOPE" is not configured/);
  });

  it('transient platform errors propagate (the runner retries them); nothing is cached', async () => {
    const down = new PlatformError('transient', 503, toOperationOutcome([issue('error', 'transient', 'Service Unavailable')]));
    const { client } = fakeClient({ findPatientByNik: async () => { throw down; } });
    await expect(resolver.resolve({ record: record({ nik: NIK }), client, facility, patientToCreate: () => patientResource })).rejects.toBe(down);
    const { client: ok, calls } = fakeClient();
    await resolver.resolve({ record: record({ nik: NIK }), client: ok, facility, patientToCreate: () => patientResource });
    expect(calls).toContain('findPatientByNik');
  });

  const infant = (birthOrder: number, birthDate: string) => record({ motherNik: NIK, birthOrder, birthDate });
  const duplicate = () => new PlatformError('duplicate', 400, toOperationOutcome([issue('error', 'duplicate', 'Found duplicate resource: Patient (RuleNumber: 20002)')]), ['20002']);

  it('infants are created first, never picked from the mother’s children: a new one gets its new id', async () => {
    const { client, calls } = fakeClient();
    expect((await resolver.resolve({ record: infant(1, '2025-01-02'), client, facility, patientToCreate: () => patientResource })).patient).toBe('P-NEW');
    expect(calls).toContain('createPatient');
    expect(calls).not.toContain('findPatientsByMotherNik');
  });

  it('infants: "already registered" with the existing id (as recorded) adopts that patient without any search', async () => {
    const { client, calls } = fakeClient({ createPatient: async () => ({ id: 'P-TWIN2', existed: true }) });
    expect((await resolver.resolve({ record: infant(2, '2025-01-02'), client, facility, patientToCreate: () => patientResource })).patient).toBe('P-TWIN2');
    expect(calls).not.toContain('findPatientsByMotherNik');
  });

  it('infants: a duplicate without an id is resolved from the mother’s children only when exactly one shows the same birth order and date', async () => {
    const kids: Patient[] = [
      { resourceType: 'Patient', id: 'P-TWIN1', multipleBirthInteger: 1, birthDate: '2025-01-02' },
      { resourceType: 'Patient', id: 'P-TWIN2', multipleBirthInteger: 2, birthDate: '2025-01-02' },
    ];
    const { client } = fakeClient({ createPatient: async () => { throw duplicate(); }, findPatientsByMotherNik: async () => kids });
    expect((await resolver.resolve({ record: infant(2, '2025-01-02'), client, facility, patientToCreate: () => patientResource })).patient).toBe('P-TWIN2');
  });

  it('infants: a duplicate without an id and children that cannot be told apart (ids only, as staging answers) blocks the visit: no guess', async () => {
    const idsOnly: Patient[] = Array.from({ length: 12 }, (_v, i) => ({ resourceType: 'Patient', id: `P-CHILD${i}`, identifier: [{ system: 'https://fhir.kemkes.go.id/id/nik-ibu', value: NIK }] }));
    const { client } = fakeClient({ createPatient: async () => { throw duplicate(); }, findPatientsByMotherNik: async () => idsOnly });
    const err = await resolver.resolve({ record: infant(2, '2025-01-02'), client, facility, patientToCreate: () => patientResource }).catch((e) => e);
    expect(err).toBeInstanceOf(BlockedError);
    expect(JSON.stringify((err as BlockedError).outcome)).toMatch(/cannot be told apart: send patient.ihsNumber/);
    expect(JSON.stringify((err as BlockedError).outcome)).not.toContain(NIK);
  });

  it('concurrent visits of one new patient create it once (single flight)', async () => {
    let creates = 0;
    const { client } = fakeClient({
      findPatientByNik: async () => undefined,
      createPatient: async () => { creates++; await new Promise((r) => setTimeout(r, 20)); return { id: 'P-ONCE', existed: false }; },
    });
    const input = { record: record({ nik: NIK }), client, facility, patientToCreate: () => patientResource };
    const all = await Promise.all([resolver.resolve(input), resolver.resolve(input), resolver.resolve(input)]);
    expect(all.map((x) => x.patient)).toEqual(['P-ONCE', 'P-ONCE', 'P-ONCE']);
    expect(creates).toBe(1);
  });
});
