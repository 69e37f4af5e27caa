import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_DB_FILE, openStore, plainRecordCodec, StorageError } from '../../src/store/index.js';

describe('openStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-open-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to a SQLite file in the data folder, creating the folder', async () => {
    const dataDir = path.join(dir, 'nested', 'data');
    const s = await openStore({ dataDir });
    await s.ingest([{ organizationId: 'o', visitId: 'v', record: {}, contentHash: 'h' }], 1);
    await s.close();
    expect(DEFAULT_DB_FILE).toBe('ilp-adapter.db');
    expect(existsSync(path.join(dataDir, DEFAULT_DB_FILE))).toBe(true);
    const again = await openStore({ dataDir });
    expect((await again.getVisit('o', 'v'))?.contentHash).toBe('h');
    await again.close();
  });

  it('opens an in-memory store for sqlite::memory: (nothing persists)', async () => {
    const a = await openStore({ url: 'sqlite::memory:' });
    await a.ingest([{ organizationId: 'o', visitId: 'v', record: {}, contentHash: 'h' }], 1);
    await a.close();
    const b = await openStore({ url: 'sqlite::memory:' });
    expect(await b.getVisit('o', 'v')).toBeUndefined();
    await b.close();
  });

  it.each([
    (d: string) => `sqlite:${path.join(d, 'x', 'a.db')}`,
    (d: string) => `sqlite://${path.join(d, 'x', 'a.db')}`,
  ])('opens a SQLite file from a URL (%#)', async (make) => {
    const s = await openStore({ url: make(dir) });
    await s.close();
    expect(existsSync(path.join(dir, 'x', 'a.db'))).toBe(true);
  });

  it('opens PostgreSQL for postgres:// and postgresql:// URLs; an unreachable server is refused without echoing the URL (it may hold a password)', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    for (const url of ['postgres://ilp:s3cret-pw@127.0.0.1:1/ilp', 'postgresql://ilp:s3cret-pw@127.0.0.1:1/ilp']) {
      const err = await openStore({ url, codec: plainRecordCodec }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as Error).message).not.toMatch(/s3cret/);
    }
  });

  it('rejects unknown schemes and an empty sqlite path, without echoing the URL', async () => {
    await expect(openStore({ url: 'mysql://u:s3cret@h/db' })).rejects.toThrow(/unsupported store URL scheme "mysql:"/);
    await expect(openStore({ url: 'mysql://u:s3cret@h/db' })).rejects.not.toThrow(/s3cret/);
    await expect(openStore({ url: '/just/a/path.db' })).rejects.toThrow(/unsupported store URL scheme \(none\)/);
    await expect(openStore({ url: 'sqlite:' })).rejects.toThrow(/no file path/);
  });
});
