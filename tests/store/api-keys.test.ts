// API keys in the store (schema 6): source, created and revoked times; revocation is final; API_KEYS_FILE as an import.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { databaseAtVersion } from './helpers/schema-version.js';
import type { ApiKeyRow, Store } from '../../src/store/types.js';

const ORG = '10000004';
const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);
const H = (c: string) => c.repeat(64);
const fileRow = (keyHash: string, label?: string): ApiKeyRow => ({ keyHash, organizationId: ORG, role: 'facility', ...(label ? { label } : {}) });

describe('SQLite store: API keys', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore({ file: ':memory:' });
  });
  afterEach(() => store.close());

  it('keeps source and created time, lists oldest first, and a revoked key stays revoked through an update', () => {
    store.putApiKey({ keyHash: H('b'), organizationId: ORG, role: 'facility', label: 'SIMPUS', source: 'cli', createdAt: T0 + 10 });
    store.putApiKey({ keyHash: H('a'), organizationId: ORG, role: 'facility', source: 'cli', createdAt: T0 });
    expect(store.listApiKeys().map((k) => k.keyHash)).toEqual([H('a'), H('b')]);
    expect(store.revokeApiKey(H('b'), T0 + 20)).toBe(true);
    expect(store.revokeApiKey(H('b'), T0 + 30)).toBe(false); // the first revocation time stays
    expect(store.revokeApiKey(H('c'), T0 + 30)).toBe(false);
    store.putApiKey({ keyHash: H('b'), organizationId: ORG, role: 'facility', label: 'renamed', source: 'cli', createdAt: T0 + 40 });
    expect(store.findApiKey(H('b'))).toEqual({ keyHash: H('b'), organizationId: ORG, role: 'facility', label: 'renamed', source: 'cli', createdAt: T0 + 10, revokedAt: T0 + 20 });
  });

  it('imports API_KEYS_FILE: its keys carry source file, a key dropped from the file is revoked, CLI keys are untouched', () => {
    store.putApiKey({ keyHash: H('c'), organizationId: ORG, role: 'facility', source: 'cli', createdAt: T0 });
    expect(store.importApiKeys([fileRow(H('a'), 'A'), fileRow(H('b'), 'B')], T0 + 1)).toEqual({ imported: 2, revoked: 0, stillRevoked: 0 });
    expect(store.findApiKey(H('a'))).toMatchObject({ source: 'file', createdAt: T0 + 1 });
    expect(store.findApiKey(H('a'))?.revokedAt).toBeUndefined();

    // Next start: b was removed from the file.
    expect(store.importApiKeys([fileRow(H('a'), 'A')], T0 + 2)).toEqual({ imported: 1, revoked: 1, stillRevoked: 0 });
    expect(store.findApiKey(H('b'))?.revokedAt).toBe(T0 + 2);
    expect(store.findApiKey(H('a'))).toMatchObject({ createdAt: T0 + 1 }); // not renewed by the re-import
    expect(store.findApiKey(H('a'))?.revokedAt).toBeUndefined();
    expect(store.findApiKey(H('c'))?.revokedAt).toBeUndefined();

    // Put back into the file: still revoked (said in the result), and counted once only.
    expect(store.importApiKeys([fileRow(H('a'), 'A'), fileRow(H('b'), 'B')], T0 + 3)).toEqual({ imported: 2, revoked: 0, stillRevoked: 1 });
    expect(store.findApiKey(H('b'))?.revokedAt).toBe(T0 + 2);
  });

  it('an import that fails half-way changes nothing (one transaction)', () => {
    store.importApiKeys([fileRow(H('a'))], T0);
    expect(() => store.importApiKeys([{ keyHash: H('b'), organizationId: null, role: 'facility' }], T0 + 1)).toThrow(/CHECK constraint/);
    expect(store.findApiKey(H('a'))?.revokedAt).toBeUndefined();
    expect(store.findApiKey(H('b'))).toBeUndefined();
  });
});

describe('SQLite store: schema 6 upgrade of API keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-keys-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keys stored before schema 6 keep working, count as CLI keys and have no created time', () => {
    const file = path.join(dir, 'v4.db');
    const db = databaseAtVersion(file, 4, T0);
    db.prepare("INSERT INTO api_keys (key_hash, org, role, label) VALUES (?, ?, 'facility', 'old')").run(H('d'), ORG);
    db.close();
    const s = openSqliteStore({ file });
    expect(s.findApiKey(H('d'))).toEqual({ keyHash: H('d'), organizationId: ORG, role: 'facility', label: 'old', source: 'cli' });
    expect(() => s.putApiKey({ keyHash: H('e'), organizationId: ORG, role: 'facility', source: 'nonsense' as never })).toThrow(/CHECK constraint/);
    s.close();
  });
});
