// A scripted PlatformClient for sync unit tests: identities always resolve (sandbox dummy ids); each test supplies
// the calls it is about (search, transaction, read) and every other call fails loudly if the code makes it.
import type { PlatformClient } from '../../src/platform/types.js';

export function fakePlatformClient(organizationId: string, calls: Partial<PlatformClient>): PlatformClient {
  const unexpected = (name: string) => async (): Promise<never> => { throw new Error(`${name}: not expected in this test`); };
  return {
    organizationId,
    findPatientByNik: async () => 'P00000000001',
    findPatientsByMotherNik: async () => [],
    createPatient: async () => ({ id: 'P00000000001', existed: false }),
    findPractitionerByNik: async () => '10009880728',
    findLocation: async () => 'loc-1',
    createLocation: async () => 'loc-1',
    update: async (r) => r,
    read: unexpected('read'),
    search: async () => [],
    transaction: unexpected('transaction'),
    ...calls,
  };
}
