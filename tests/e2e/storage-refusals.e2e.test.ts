// startService on database files it must not trust: it refuses with what it found and how to recover, and opens
// nothing. The files it creates are private to the service user; looser existing ones are named in a warning.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService } from '../../src/service.js';
import { StoreSchemaError } from '../../src/store/index.js';
import { captureLines } from './fixtures.js';
import { writeDamagedDb, writeForeignDb } from '../store/helpers/damaged-files.js';

const env = (dir: string): NodeJS.ProcessEnv => ({ PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false' });
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-svc-store-'));

describe('startService and the database file', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it.each([
    ['a zero-length ilp-adapter.db', (f: string) => fs.writeFileSync(f, ''), 'STORE_EMPTY_FILE', /is empty \(0 bytes\)/],
    ['a text file named ilp-adapter.db', (f: string) => fs.writeFileSync(f, 'not a database\n'), 'STORE_NOT_SQLITE', /is not a SQLite database/],
    ['a SQLite file of another application', writeForeignDb, 'STORE_FOREIGN', /another application/],
    ['a database with corrupted pages', writeDamagedDb, 'STORE_CORRUPT', /is damaged \(Tree \d+ page \d+/],
  ])('refuses to start on %s, saying how to recover', async (_label, make, code, what) => {
    const d = dir();
    const file = path.join(d, 'ilp-adapter.db');
    await make(file);
    const before = fs.readFileSync(file);
    const logs = captureLines();
    const err = await startService(env(d), { logDestination: logs.stream }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSchemaError);
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toMatch(what);
    expect((err as Error).message).toMatch(/Restore the database from backup.*move the file away to start with an empty store on purpose/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('creates DATA_DIR 0700 and its files 0600, and warns about none', async () => {
    const d = path.join(dir(), 'data');
    const logs = captureLines();
    const svc = await startService(env(d), { logDestination: logs.stream });
    try {
      const mode = (f: string) => fs.statSync(path.join(d, f)).mode & 0o777;
      expect(mode('.')).toBe(0o700);
      expect(['ilp-adapter.db', 'ilp-adapter.db-wal', 'ilp-adapter.db-shm', 'hmac.key'].map(mode)).toEqual([0o600, 0o600, 0o600, 0o600]);
      expect(logs.lines.some((l) => l.includes('readable by other local users'))).toBe(false);
    } finally {
      await svc.close();
    }
  });

  it('warns at start-up when existing files or the folder are group- or world-readable (names the files, nothing else)', async () => {
    const d = dir();
    const first = await startService(env(d), { logDestination: captureLines().stream });
    await first.close();
    fs.chmodSync(d, 0o755);
    fs.chmodSync(path.join(d, 'ilp-adapter.db'), 0o644);
    const logs = captureLines();
    const svc = await startService(env(d), { logDestination: logs.stream });
    try {
      const warning = logs.lines.find((l) => l.includes('readable by other local users'));
      expect(warning).toBeDefined();
      const files = (JSON.parse(warning!) as { files: Array<{ path: string; mode: string }> }).files;
      expect(files).toEqual(expect.arrayContaining([{ path: d, mode: '0755' }, { path: path.join(d, 'ilp-adapter.db'), mode: '0644' }]));
      expect(files.some((f) => f.path.endsWith('hmac.key'))).toBe(false);
    } finally {
      await svc.close();
    }
  });
});
