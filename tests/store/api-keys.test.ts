// API keys in the store (schema 6): source, created and revoked times; revocation is final; API_KEYS_FILE as an import.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { databaseAtVersion } from './helpers/schema-version.js';

const ORG = '10000004';
const T0 = Date.UTC(2026, 11, 1, 3, 0, 0);
const H = (c: string) => c.repeat(64);

describe('SQLite store: schema 6 upgrade of API keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-keys-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keys stored before schema 6 keep working, count as CLI keys and have no created time', async () => {
    const file = path.join(dir, 'v4.db');
    const db = databaseAtVersion(file, 4, T0);
    db.prepare("INSERT INTO api_keys (key_hash, org, role, label) VALUES (?, ?, 'facility', 'old')").run(H('d'), ORG);
    db.close();
    const s = openSqliteStore({ file });
    expect(await s.findApiKey(H('d'))).toEqual({ keyHash: H('d'), organizationId: ORG, role: 'facility', label: 'old', source: 'cli' });
    await expect(s.putApiKey({ keyHash: H('e'), organizationId: ORG, role: 'facility', source: 'nonsense' as never })).rejects.toHaveProperty('message', expect.stringMatching(/CHECK constraint/));
    await s.close();
  });
});
