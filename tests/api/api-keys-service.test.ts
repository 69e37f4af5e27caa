// The service with keys in its database: API_KEYS_FILE is an import (a key dropped from it is revoked at the next
// start), and a revocation stops a key at once, without a restart (auth reads the database per request).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService } from '../../src/service.js';
import { hashApiKey } from '../../src/api/auth.js';
import { logCapture } from './helpers.js';

const ORG = '10000004'; // the sample facility of sandbox-simulator mode
const KEY_A = 'ilp_Qm3xT8vK2pLw9RbN5zC7HdJ4sYfG6aEu';
const KEY_B = 'ilp_Vn7cR2kX9mTq4LwB8zP3HsJ6dYgF5aEt';

describe('API keys in the service database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'svc-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeKeys = (...keys: string[]) => {
    const file = path.join(dir, 'api-keys.json');
    writeFileSync(file, JSON.stringify({ keys: keys.map((k, i) => ({ organizationId: ORG, sha256: hashApiKey(k), label: `file ${i}` })) }));
    return file;
  };
  const start = (apiKeysFile: string | undefined) => {
    const log = logCapture();
    const env: NodeJS.ProcessEnv = { PORT: '0', DATA_DIR: path.join(dir, 'data'), SYNC_ENABLED: 'false', VALIDATE_WORKERS: '0', ...(apiKeysFile ? { API_KEYS_FILE: apiKeysFile } : {}) };
    return startService(env, { logger: log.logger }).then((svc) => ({ svc, log }));
  };
  const status = (url: string, key: string) => fetch(`${url}/sync/status`, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' } }).then((r) => r.status);

  it('a key dropped from API_KEYS_FILE is revoked at the next start; the others keep working', async () => {
    let { svc, log } = await start(writeKeys(KEY_A, KEY_B));
    try {
      expect(await status(svc.url, KEY_A)).toBe(200);
      expect(await status(svc.url, KEY_B)).toBe(200);
      expect(await svc.store.findApiKey(hashApiKey(KEY_A))).toMatchObject({ source: 'file', label: 'file 0' });
      expect(log.text()).toContain('"imported":2,"revoked":0,"stillRevoked":0');
    } finally {
      await svc.close();
    }
    ({ svc, log } = await start(writeKeys(KEY_A)));
    try {
      expect(await status(svc.url, KEY_A)).toBe(200);
      expect(await status(svc.url, KEY_B)).toBe(401);
      expect(log.text()).toContain('"imported":1,"revoked":1,"stillRevoked":0');
      expect(log.text()).not.toContain(KEY_B);
    } finally {
      await svc.close();
    }
    // Unset: the imported key is left as it is, and that is said.
    ({ svc, log } = await start(undefined));
    try {
      expect(await status(svc.url, KEY_A)).toBe(200);
      expect(log.text()).toMatch(/API_KEYS_FILE is not set: keys imported from it earlier keep working/);
    } finally {
      await svc.close();
    }
  });

  it('a revoked key is refused at once by a running service (same answer as an unknown key)', async () => {
    const { svc } = await start(writeKeys(KEY_A));
    try {
      expect(await status(svc.url, KEY_A)).toBe(200);
      expect(await svc.store.revokeApiKey(hashApiKey(KEY_A), Date.now())).toBe(true);
      const r = await fetch(`${svc.url}/sync/status`, { headers: { authorization: `Bearer ${KEY_A}`, accept: 'application/json', 'accept-language': 'en' } });
      expect(r.status).toBe(401);
      expect(JSON.stringify(await r.json())).toContain('Unknown API key');
    } finally {
      await svc.close();
    }
  });
});
