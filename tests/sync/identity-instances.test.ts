// Two instances (two resolvers, each with its own connection to one SQLite file, or one PostgreSQL database) resolving
// the same new patient NIK and the same unregistered location at once: one create each at the platform, both get the
// same ids, and no lease name holds the NIK.
import type { Location } from 'fhir/r4.js';
import type { Store } from '../../src/store/types.js';
import type { FacilityConfig, PlatformClient } from '../../src/platform/types.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { describePostgres } from '../store/helpers/postgres.js';
import { postgresInstances, sqliteInstances, type Instances } from '../store/helpers/instances.js';

const NIK = '3171012345678901';
const facility: FacilityConfig = {
  organizationId: '10000004', environment: 'simulator', authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1',
  clientId: 'c', clientSecret: 's', timezone: 'Asia/Jakarta', quotaPerMinute: 150,
  locations: { 'PSY-01': { name: 'Posyandu Mawar', physicalType: 'si' } },
};

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** One platform both instances talk to: nothing registered until created; creates wait for `gate`. */
function platform(gate: Promise<void>) {
  const creates: string[] = [];
  let patient: string | undefined;
  let location: string | undefined;
  const started = deferred();
  const client: PlatformClient = {
    organizationId: facility.organizationId,
    findPatientByNik: async () => patient,
    findPatientsByMotherNik: async () => [],
    createPatient: async () => {
      creates.push('Patient');
      started.resolve();
      await gate;
      patient = 'P-NEW';
      return { id: patient, existed: false };
    },
    findPractitionerByNik: async () => '10009880728',
    findLocation: async () => location,
    createLocation: async (_l: Location) => {
      creates.push('Location');
      await gate;
      location = 'loc-1';
      return location;
    },
    transaction: async () => { throw new Error('not used'); },
    search: async () => [],
    update: async (r) => r,
    read: async () => { throw new Error('not used'); },
  };
  return { client, creates, started: started.promise };
}

function suite(open: () => Promise<Instances>): void {
  it('one create per identity across instances; the other waits and adopts the id', async () => {
    const db = await open();
    const stores = db.stores as [Store, Store];
    const leaseNames = async () => (await db.rows('SELECT name FROM leases')).map((r) => String(r.name));
    try {
      const gate = deferred();
      const p = platform(gate.promise);
      // Instance 2 is told when it finds a lease taken: from then on it waits rather than creates.
      const refused = deferred();
      const second = stores[1];
      const watched = new Proxy(second, {
        get: (target, prop, receiver) => prop === 'tryLease'
          ? async (...a: Parameters<Store['tryLease']>) => {
            const got = await target.tryLease(...a);
            if (!got) refused.resolve();
            return got;
          }
          : Reflect.get(target, prop, receiver) as unknown,
      });
      const resolvers = [stores[0], watched].map((store) => new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 7), now: Date.now, leaseRecheckMs: 5 }));
      const input = { record: { organizationId: '10000004', visitId: 'V1', locationCode: 'PSY-01', patient: { nik: NIK, name: 'Budi' }, practitioner: { nik: '7209061211900001' } },
        client: p.client, facility, patientToCreate: () => ({ resourceType: 'Patient' as const }) };
      const first = resolvers[0]!.resolve(input);
      await p.started; // instance 1 holds the leases and is creating
      expect(await leaseNames()).not.toEqual([]);
      for (const name of await leaseNames()) expect(name).not.toContain(NIK);
      const later = resolvers[1]!.resolve({ ...input, record: { ...input.record, visitId: 'V2' } });
      await refused.promise;
      gate.resolve();
      const [a, b] = await Promise.all([first, later]);
      expect(a).toEqual({ patient: 'P-NEW', practitioner: '10009880728', location: 'loc-1' });
      expect(b).toEqual(a);
      expect(p.creates.sort()).toEqual(['Location', 'Patient']);
    } finally {
      await db.cleanup();
    }
  });
}

describe('identity registration across instances (SQLite file)', () => {
  suite(async () => sqliteInstances(2));
});

describePostgres('identity registration across instances (PostgreSQL)', (server) => {
  suite(() => postgresInstances(server(), 2));
});
