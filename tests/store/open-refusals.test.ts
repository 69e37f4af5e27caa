// The store refuses files it must not take for a new or a sound store, says what it found and how to recover, and
// leaves them untouched; the files it creates are private to the service user.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { checkDatabaseFile, DEFAULT_DB_FILE, looseModes, openStore, StoreSchemaError, companionFiles } from '../../src/store/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { overwrite, PAGE_SIZE, writeDamagedDb, writeRealDb as realDb } from './helpers/damaged-files.js';

const T0 = 1_750_000_000_000;
const refusal = (fn: () => unknown): StoreSchemaError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreSchemaError) return e;
    throw e;
  }
  throw new Error('expected a StoreSchemaError');
};
const refusalOf = async (opening: Promise<unknown>): Promise<StoreSchemaError> => {
  const e = await opening.then(() => undefined, (err: unknown) => err);
  if (e instanceof StoreSchemaError) return e;
  throw e ?? new Error('expected a StoreSchemaError');
};
const RECOVERY = /restore the database from backup.*move the file away to start with an empty store on purpose/i;

describe('opening a database file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-refusals-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a zero-length ilp-adapter.db instead of starting an empty store, and leaves it alone', async () => {
    const file = path.join(dir, DEFAULT_DB_FILE);
    writeFileSync(file, '');
    const err = await refusalOf(openStore({ dataDir: dir }));
    expect(err.code).toBe('STORE_EMPTY_FILE');
    expect(err.message).toContain(`${file} is empty (0 bytes)`);
    expect(err.message).toMatch(/outbox and ledger/);
    expect(err.message).toMatch(RECOVERY);
    expect(statSync(file).size).toBe(0);
    expect(refusal(() => checkDatabaseFile(file)).code).toBe('STORE_EMPTY_FILE');
  });

  it('refuses a text file named ilp-adapter.db', async () => {
    const file = path.join(dir, DEFAULT_DB_FILE);
    writeFileSync(file, 'organizationId,visitId\n1,2\n');
    const err = await refusalOf(openStore({ dataDir: dir }));
    expect(err.code).toBe('STORE_NOT_SQLITE');
    expect(err.message).toMatch(/is not a SQLite database/);
    expect(err.message).toMatch(RECOVERY);
    expect(readFileSync(file, 'utf8')).toBe('organizationId,visitId\n1,2\n');
  });

  it.each([
    ['without schema_migrations', ['CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)'], /no ilp-adapter schema_migrations.*tables: users/],
    ['with a schema_migrations of another framework', ['CREATE TABLE schema_migrations (version TEXT PRIMARY KEY)', 'CREATE TABLE posts (id INTEGER)'],
      /schema_migrations table is not the one of ilp-adapter/],
    ['with our table shape but other migrations', [
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      "INSERT INTO schema_migrations VALUES (1, 'create users', 0)"], /rows are not those of ilp-adapter/],
  ])('refuses a SQLite file of another application (%s), untouched', (_label, sql, why) => {
    const file = path.join(dir, 'other.db');
    const db = new Database(file);
    for (const s of sql) db.exec(s);
    db.close();
    const before = readFileSync(file);
    const err = refusal(() => openSqliteStore({ file }));
    expect(err.code).toBe('STORE_FOREIGN');
    expect(err.message).toMatch(/SQLite database of another application/);
    expect(err.message).toMatch(why);
    expect(err.message).toMatch(RECOVERY);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(refusal(() => checkDatabaseFile(file)).code).toBe('STORE_FOREIGN');
  });

  it('refuses our database with a table it does not create (someone else wrote into it), untouched', async () => {
    const file = path.join(dir, 'mixed.db');
    await realDb(file, 2);
    const db = new Database(file);
    db.exec('CREATE TABLE patients_export (nik TEXT)');
    db.close();
    const err = refusal(() => openSqliteStore({ file }));
    expect(err.code).toBe('STORE_FOREIGN');
    expect(err.message).toMatch(/tables ilp-adapter does not create: patients_export/);
  });

  it('a sound store file passes store check', async () => {
    const file = path.join(dir, 'ok.db');
    await realDb(file, 60);
    expect(checkDatabaseFile(file)).toEqual([]);
  });

  it('refuses a database with corrupted pages at start-up (quick_check), and store check reports the problems', async () => {
    const file = path.join(dir, 'c.db');
    await writeDamagedDb(file);
    const err = refusal(() => openSqliteStore({ file }));
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toMatch(/is damaged \(Tree \d+ page \d+: [^\n]+\); run `ilp-adapter store check`/);
    expect(err.message).toMatch(RECOVERY);
    expect(checkDatabaseFile(file).length).toBeGreaterThan(0);
  });

  it('refuses a database whose schema page is damaged', async () => {
    const file = path.join(dir, 'd.db');
    await realDb(file, 5);
    overwrite(file, 100, PAGE_SIZE - 100, 0x5a); // page 1 after the 100-byte header
    expect(refusal(() => openSqliteStore({ file })).code).toBe('STORE_CORRUPT');
    expect(checkDatabaseFile(file)[0]).toMatch(/cannot be read|malformed|corrupt/i);
  });

  it('still creates a new store when the file is missing, 0600 in a 0700 folder (and so are -wal and -shm)', async () => {
    const dataDir = path.join(dir, 'fresh', 'data');
    const s = await openStore({ dataDir });
    await s.ingest([{ organizationId: 'o', visitId: 'v', record: {}, contentHash: 'h' }], T0);
    const file = path.join(dataDir, DEFAULT_DB_FILE);
    const modes = companionFiles(file).map((f) => statSync(f).mode & 0o777);
    await s.close();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(modes).toEqual([0o600, 0o600, 0o600]);
    expect(looseModes(companionFiles(file))).toEqual([]);
  });

  it('a fresh store that failed to open leaves no empty file behind (the next start is not refused)', () => {
    // Make the open fail after the file was created: a directory where the -wal must go.
    const blocked = path.join(dir, 'y.db');
    mkdirSync(`${blocked}-wal`);
    expect(() => openSqliteStore({ file: blocked })).toThrow();
    expect(() => statSync(blocked)).toThrow(/ENOENT/);
  });

  it('names existing files and folders that other users can read', async () => {
    const file = path.join(dir, 'l.db');
    await realDb(file, 1);
    chmodSync(file, 0o644);
    chmodSync(dir, 0o755);
    expect(looseModes(companionFiles(file))).toEqual([{ path: dir, mode: '0755' }, { path: file, mode: '0644' }]);
  });
});
