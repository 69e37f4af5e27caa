// API keys: source, created and revoked times; revocation is final; API_KEYS_FILE as an import.
import type { ApiKeyRow, Store } from '../../../src/store/types.js';
import { freshStorePerTest, ORG, type MakeStore } from './harness.js';

const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);
const H = (c: string) => c.repeat(64);
const fileRow = (keyHash: string, label?: string): ApiKeyRow => ({ keyHash, organizationId: ORG, role: 'facility', ...(label ? { label } : {}) });

export function apiKeysContract(make: MakeStore): void {
  describe('API keys', () => {
    let store: Store;
    freshStorePerTest(make, (s) => (store = s));

    it('keeps source and created time, lists oldest first, and a revoked key stays revoked through an update', async () => {
      await store.putApiKey({ keyHash: H('b'), organizationId: ORG, role: 'facility', label: 'SIMPUS', source: 'cli', createdAt: T0 + 10 });
      await store.putApiKey({ keyHash: H('a'), organizationId: ORG, role: 'facility', source: 'cli', createdAt: T0 });
      expect((await store.listApiKeys()).map((k) => k.keyHash)).toEqual([H('a'), H('b')]);
      expect(await store.revokeApiKey(H('b'), T0 + 20)).toBe(true);
      expect(await store.revokeApiKey(H('b'), T0 + 30)).toBe(false); // the first revocation time stays
      expect(await store.revokeApiKey(H('c'), T0 + 30)).toBe(false);
      await store.putApiKey({ keyHash: H('b'), organizationId: ORG, role: 'facility', label: 'renamed', source: 'cli', createdAt: T0 + 40 });
      expect(await store.findApiKey(H('b'))).toEqual({ keyHash: H('b'), organizationId: ORG, role: 'facility', label: 'renamed', source: 'cli', createdAt: T0 + 10, revokedAt: T0 + 20 });
    });

    it('imports API_KEYS_FILE: its keys carry source file, a key dropped from the file is revoked, CLI keys are untouched', async () => {
      await store.putApiKey({ keyHash: H('c'), organizationId: ORG, role: 'facility', source: 'cli', createdAt: T0 });
      expect(await store.importApiKeys([fileRow(H('a'), 'A'), fileRow(H('b'), 'B')], T0 + 1)).toEqual({ imported: 2, revoked: 0, stillRevoked: 0 });
      expect(await store.findApiKey(H('a'))).toMatchObject({ source: 'file', createdAt: T0 + 1 });
      expect((await store.findApiKey(H('a')))?.revokedAt).toBeUndefined();

      // Next start: b was removed from the file.
      expect(await store.importApiKeys([fileRow(H('a'), 'A')], T0 + 2)).toEqual({ imported: 1, revoked: 1, stillRevoked: 0 });
      expect((await store.findApiKey(H('b')))?.revokedAt).toBe(T0 + 2);
      expect(await store.findApiKey(H('a'))).toMatchObject({ createdAt: T0 + 1 }); // not renewed by the re-import
      expect((await store.findApiKey(H('a')))?.revokedAt).toBeUndefined();
      expect((await store.findApiKey(H('c')))?.revokedAt).toBeUndefined();

      // Put back into the file: still revoked (said in the result), and counted once only.
      expect(await store.importApiKeys([fileRow(H('a'), 'A'), fileRow(H('b'), 'B')], T0 + 3)).toEqual({ imported: 2, revoked: 0, stillRevoked: 1 });
      expect((await store.findApiKey(H('b')))?.revokedAt).toBe(T0 + 2);
    });

    it('an import that fails half-way changes nothing (one transaction)', async () => {
      await store.importApiKeys([fileRow(H('a'))], T0);
      await expect(store.importApiKeys([{ keyHash: H('b'), organizationId: null, role: 'facility' }], T0 + 1)).rejects.toHaveProperty('message', expect.stringMatching(/check constraint/i));
      expect((await store.findApiKey(H('a')))?.revokedAt).toBeUndefined();
      expect(await store.findApiKey(H('b'))).toBeUndefined();
    });
  });
}
