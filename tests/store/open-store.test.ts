import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_DB_FILE, openStore } from '../../src/store/index.js';

describe('openStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-open-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to a SQLite file in the data folder, creating the folder', async () => {
    const dataDir = path.join(dir, 'nested', 'data');
    const s = openStore({ dataDir });
    await s.ingest([{ organizationId: 'o', visitId: 'v', record: {}, contentHash: 'h' }], 1);
    await s.close();
    expect(DEFAULT_DB_FILE).toBe('ilp-adapter.db');
    expect(existsSync(path.join(dataDir, DEFAULT_DB_FILE))).toBe(true);
    const again = openStore({ dataDir });
    expect((await again.getVisit('o', 'v'))?.contentHash).toBe('h');
    await again.close();
  });

  it('opens an in-memory store for sqlite::memory: (nothing persists)', async () => {
    const a = openStore({ url: 'sqlite::memory:' });
    await a.ingest([{ organizationId: 'o', visitId: 'v', record: {}, contentHash: 'h' }], 1);
    await a.close();
    const b = openStore({ url: 'sqlite::memory:' });
    expect(await b.getVisit('o', 'v')).toBeUndefined();
    await b.close();
  });

  it.each([
    (d: string) => `sqlite:${path.join(d, 'x', 'a.db')}`,
    (d: string) => `sqlite://${path.join(d, 'x', 'a.db')}`,
  ])('opens a SQLite file from a URL (%#)', async (make) => {
    const s = openStore({ url: make(dir) });
    await s.close();
    expect(existsSync(path.join(dir, 'x', 'a.db'))).toBe(true);
  });

  it('says PostgreSQL is not implemented yet, without echoing the URL (it may hold a password)', () => {
    for (const url of ['postgres://ilp:s3cret-pw@db.example:5432/ilp', 'postgresql://ilp:s3cret-pw@db/ilp']) {
      let msg = '';
      try {
        openStore({ url });
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toMatch(/PostgreSQL store is not implemented yet/);
      expect(msg).not.toMatch(/s3cret|db\.example/);
    }
  });

  it('rejects unknown schemes and an empty sqlite path, without echoing the URL', () => {
    expect(() => openStore({ url: 'mysql://u:s3cret@h/db' })).toThrow(/unsupported store URL scheme "mysql:"/);
    expect(() => openStore({ url: 'mysql://u:s3cret@h/db' })).not.toThrow(/s3cret/);
    expect(() => openStore({ url: '/just/a/path.db' })).toThrow(/unsupported store URL scheme \(none\)/);
    expect(() => openStore({ url: 'sqlite:' })).toThrow(/no file path/);
  });
});
