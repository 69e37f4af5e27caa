// Patient create answered with 20002 (duplicate): the patient EXISTS (created meanwhile by another facility's run,
// another system, or a create whose response was lost). The visit must adopt it, never end `blocked` as if the
// NIK were unknown to Dukcapil.
import type { Location, Patient } from 'fhir/r4.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { PlatformError, type FacilityConfig, type PlatformClient } from '../../src/platform/types.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { BlockedError, classify, defaultRetryPolicy } from '../../src/sync/policy.js';
import type { VisitRecordLike } from '../../src/sync/contracts.js';

const NIK = '3171014101900002';
const facility: FacilityConfig = {
  organizationId: '10000004', environment: 'simulator', authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1',
  clientId: 'c', clientSecret: 's', timezone: 'Asia/Jakarta', quotaPerMinute: 150,
  locations: { 'PSY-01': { name: 'Posyandu Mawar', physicalType: 'si' } },
};
const duplicate = () =>
  new PlatformError('duplicate', 400, {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'duplicate', details: { text: 'Found duplicate resource: Patient (RuleNumber: 20002)' } }],
  }, ['20002']);

function client(over: Partial<PlatformClient>): { client: PlatformClient; calls: string[] } {
  const calls: string[] = [];
  const base: PlatformClient = {
    organizationId: facility.organizationId,
    findPatientByNik: async () => undefined,
    findPatientsByMotherNik: async () => [],
    createPatient: async () => ({ id: 'P-NEW', existed: false }),
    findPractitionerByNik: async () => '10009880728',
    findLocation: async () => 'loc-1',
    createLocation: async (_l: Location) => 'loc-1',
    transaction: async () => { throw new Error('not used'); },
    search: async () => [],
    update: async (r) => r,
    read: async () => { throw new Error('read: not expected in this test'); },
    ...over,
  };
  const counted = Object.fromEntries(Object.entries(base).map(([k, v]) => [k, typeof v === 'function' ? (...a: unknown[]) => (calls.push(k), (v as (...x: unknown[]) => unknown)(...a)) : v]));
  return { client: counted as unknown as PlatformClient, calls };
}

const record = (patient: VisitRecordLike['patient']): VisitRecordLike => ({
  organizationId: '10000004', visitId: 'V1', locationCode: 'PSY-01', patient, practitioner: { ihsNumber: '10009880728' },
});
const patientResource: Patient = { resourceType: 'Patient', identifier: [{ system: 'https://fhir.kemkes.go.id/id/nik', value: NIK }] };

describe('IdentityResolver: Patient create answered with 20002', () => {
  let store: Store;
  let resolver: IdentityResolver;
  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    resolver = new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 7), now: () => 1_700_000_000_000 });
  });
  afterEach(() => store.close());

  it('by NIK: searches again and adopts the existing patient (cached), instead of blocking the visit', async () => {
    let searches = 0;
    const { client: c, calls } = client({
      // Absent at the first search, present once someone else's create has committed.
      findPatientByNik: async () => (++searches === 1 ? undefined : 'P-OTHER'),
      createPatient: async () => { throw duplicate(); },
    });
    const ids = await resolver.resolve({ record: record({ nik: NIK }), client: c, facility, patientToCreate: () => patientResource });
    expect(ids.patient).toBe('P-OTHER');
    expect(calls.filter((k) => k !== 'findLocation')).toEqual(['findPatientByNik', 'createPatient', 'findPatientByNik']);
    calls.length = 0;
    expect((await resolver.resolve({ record: record({ nik: NIK }), client: c, facility, patientToCreate: () => patientResource })).patient).toBe('P-OTHER');
    expect(calls.filter((k) => k.includes('Patient'))).toEqual([]);
  });

  it('by mother’s NIK + birth order (documented variant, no id in the answer): created first, then the one matching child adopted', async () => {
    const twin: Patient = { resourceType: 'Patient', id: 'P-BABY', multipleBirthInteger: 1, birthDate: '2026-03-04' };
    const sibling: Patient = { resourceType: 'Patient', id: 'P-SIBLING', multipleBirthInteger: 1, birthDate: '2024-07-01' };
    const { client: c, calls } = client({ findPatientsByMotherNik: async () => [sibling, twin], createPatient: async () => { throw duplicate(); } });
    const ids = await resolver.resolve({ record: record({ motherNik: NIK, birthOrder: 1, birthDate: '2026-03-04' }), client: c, facility, patientToCreate: () => patientResource });
    expect(ids.patient).toBe('P-BABY');
    expect(calls.filter((k) => k.includes('Patient'))).toEqual(['createPatient', 'findPatientsByMotherNik']);
  });

  it('20002 but still not findable (search lagging the create): a retryable error, not blocked, nothing cached', async () => {
    const { client: c } = client({ createPatient: async () => { throw duplicate(); } });
    const err = await resolver.resolve({ record: record({ nik: NIK }), client: c, facility, patientToCreate: () => patientResource }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(BlockedError);
    expect(err).toBeInstanceOf(PlatformError);
    expect(classify(err, 1, defaultRetryPolicy).record).toBe('retry');
    expect(JSON.stringify((err as PlatformError).outcome)).not.toContain(NIK);
  });
});
