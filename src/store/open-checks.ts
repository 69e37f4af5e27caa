// What the store looks at before it trusts a database file: an empty or foreign file must never be taken for a new
// store (that silently drops the outbox and the ledger), and a damaged one must not start and fail on every read.
// File modes: the database holds NIKs, so files we create are 0600 in a 0700 folder.
import { AppError } from '../util/app-error.js';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { latestSchemaVersion, migrations } from './migrations.js';

export type StoreRefusal = 'STORE_SCHEMA_TOO_NEW' | 'STORE_EMPTY_FILE' | 'STORE_NOT_SQLITE' | 'STORE_FOREIGN' | 'STORE_CORRUPT' | 'STORE_DATA_KEY_MISSING';

/** A message of messages/store-open.json as state (the store stays free of the catalogue code: it is compiled alone in tests). */
export interface RefusalRef {
  key: string;
  params: Record<string, string | number>;
}

/**
 * The store refuses to open a database file; the message says what was found and how to recover, in English (logs);
 * `ref` says the same as a catalogue key (messages/store-open.json) for the operator's language at the edge.
 */
export class StoreSchemaError extends AppError {
  constructor(message: string, readonly code: StoreRefusal = 'STORE_SCHEMA_TOO_NEW', ref?: RefusalRef) {
    super('store-schema', message, ref ? { ref } : {});
  }
}

/** A refusal of messages/store-open.json; `{recovery}` is filled with the catalogue's recovery advice. */
export const storeRefusal = (key: string, params: Record<string, string | number> = {}): RefusalRef =>
  ({ key: `store-open.${key}`, params: { ...params, '@recovery': 'store-open.recovery' } });

/** A database migrated by a newer build (its schema version above what this build knows): refused, never downgraded. */
export const schemaTooNew = (have: number, latest: number, kind: 'sqlite' | 'postgres'): StoreSchemaError =>
  new StoreSchemaError(
    `database schema version ${have} is newer than this version of ilp-adapter understands (${latest}); ` +
      `upgrade ilp-adapter, or point it at another ${kind === 'sqlite' ? 'data file' : 'database'}`,
    'STORE_SCHEMA_TOO_NEW',
    storeRefusal(`schema-too-new.${kind}`, { have, latest }),
  );

const RECOVERY =
  'Restore the database from backup (with the service stopped, copy back the .db file together with its -wal file if the backup has one), ' +
  'or move the file away to start with an empty store on purpose (the outbox, ledger and identity cache then start empty)';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Files SQLite keeps beside the database (same mode as the database: SQLite copies it when it creates them). */
export const companionFiles = (file: string): string[] => [file, `${file}-wal`, `${file}-shm`];

/**
 * Before opening: a missing file is created empty with mode 0600 (a new store, `created: true`); an existing one must
 * pass inspectDatabaseFile.
 */
export function prepareDatabaseFile(file: string): { created: boolean } {
  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
    return { created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  inspectDatabaseFile(file);
  return { created: false };
}

/** An existing database file must be a SQLite database with content: StoreSchemaError for a zero-length or other file. */
export function inspectDatabaseFile(file: string): void {
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = fs.openSync(file, 'r');
  let read: number;
  try {
    read = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (read === 0) {
    throw new StoreSchemaError(
      `${file} is empty (0 bytes). It is not taken for a new store: the outbox and ledger it should hold are missing. ${RECOVERY}.`,
      'STORE_EMPTY_FILE',
      storeRefusal('empty-file', { file }),
    );
  }
  if (read < head.length || !head.equals(SQLITE_HEADER)) {
    throw new StoreSchemaError(
      `${file} is not a SQLite database (it does not start with the SQLite header); DATA_DIR or DATABASE_URL may point at the wrong file. ${RECOVERY}.`,
      'STORE_NOT_SQLITE',
      storeRefusal('not-sqlite', { file }),
    );
  }
}

/** Names as they may appear in a message: a few, bounded, printable. */
const shownNames = (names: string[]): string =>
  names.slice(0, 5).map((n) => n.replace(/[^\w.-]/g, '?').slice(0, 40)).join(', ') + (names.length > 5 ? ', …' : '');

const migrationNames = new Map(migrations.map((m) => [m.version, m.name]));
/** Every table our migrations create, and the migrations table itself. */
const ourTables = new Set(['schema_migrations', ...migrations.flatMap((m) => [...m.sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/g)].map((x) => x[1]!))]);

/**
 * A database with tables must be ours: our `schema_migrations` (version, name, applied_at) whose rows carry our migration
 * names, and no table our migrations do not create (unless the schema is newer than this build: migrate says so). An
 * empty database (no tables) is a new store.
 */
export function assertOurDatabase(db: Database.Database, file: string): void {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`)
    .all() as { name: string }[]).map((r) => r.name);
  if (tables.length === 0) return;
  const shownTables = shownNames(tables);
  // `what` in English for the log; `whatKey` (store-open.foreign.*) says the same in the operator's language.
  const foreign = (what: string, whatKey: string, params: Record<string, string> = {}) =>
    new StoreSchemaError(`${file} is a SQLite database of another application (${what}; tables: ${shownTables}). ${RECOVERY}.`, 'STORE_FOREIGN',
      storeRefusal('foreign', { file, tables: shownTables, '@what': `store-open.foreign.${whatKey}`, ...params }));
  if (!tables.includes('schema_migrations')) throw foreign('no ilp-adapter schema_migrations table', 'no-migrations');
  const columns = (db.prepare(`SELECT name FROM pragma_table_info('schema_migrations') ORDER BY cid`).all() as { name: string }[]).map((c) => c.name);
  if (columns.join(',') !== 'version,name,applied_at') throw foreign('its schema_migrations table is not the one of ilp-adapter', 'other-migrations-table');
  const rows = db.prepare('SELECT version, name FROM schema_migrations').all() as { version: unknown; name: unknown }[];
  const mismatch = rows.some((r) => typeof r.version === 'number' && migrationNames.has(r.version) && migrationNames.get(r.version) !== r.name);
  if (mismatch) throw foreign('its schema_migrations rows are not those of ilp-adapter', 'other-migrations-rows');
  const newer = rows.some((r) => typeof r.version === 'number' && r.version > latestSchemaVersion);
  const unknown = tables.filter((t) => !ourTables.has(t));
  // An empty schema_migrations beside some of our tables: a first migration that failed half-way; it runs again.
  if (!newer && unknown.length) throw foreign(`tables ilp-adapter does not create: ${shownNames(unknown)}`, 'unknown-tables', { unknown: shownNames(unknown) });
}

/** Problems PRAGMA quick_check / integrity_check reports (at most `maxProblems`); [] when the file is sound. */
export function integrityProblems(db: Database.Database, kind: 'quick_check' | 'integrity_check', maxProblems = 10): string[] {
  const rows = db.pragma(`${kind}(${Math.max(1, Math.trunc(maxProblems))})`) as Record<string, unknown>[];
  // One row may hold several problems, one per line, under a "*** in database main ***" heading.
  const lines = rows.flatMap((r) => String(Object.values(r)[0]).split('\n')).map((l) => l.trim()).filter((l) => l && !/^\*\*\*.*\*\*\*$/.test(l));
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines.slice(0, maxProblems);
}

/** Refusal for a damaged database, naming the first problems SQLite found. */
export function corruptDatabase(file: string, problems: string[]): StoreSchemaError {
  const shown = problems.slice(0, 3).map((p) => p.slice(0, 160)).join('; ');
  return new StoreSchemaError(
    `${file} is damaged (${shown || 'database disk image is malformed'}); run \`ilp-adapter store check\` for the full report. ${RECOVERY}.`,
    'STORE_CORRUPT',
    storeRefusal('corrupt', { file, shown: shown || 'database disk image is malformed' }),
  );
}

/** Creates `dir` (and parents) with mode 0700 where missing; existing folders keep their mode (see looseModes). */
export function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Files among `paths` (and their folder) that group or others may read or write: [path, octal mode] pairs. */
export function looseModes(paths: string[]): Array<{ path: string; mode: string }> {
  const out: Array<{ path: string; mode: string }> = [];
  const candidates = [...new Set([path.dirname(paths[0] ?? '.'), ...paths])];
  for (const p of candidates) {
    let mode: number;
    try {
      mode = fs.statSync(p).mode & 0o777;
    } catch {
      continue; // not there (e.g. no -wal yet)
    }
    if (mode & 0o077) out.push({ path: p, mode: mode.toString(8).padStart(4, '0') });
  }
  return out;
}
