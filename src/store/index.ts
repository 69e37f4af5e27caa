// Picks the store implementation from a URL. The rest of the service only ever sees the Store interface.
import path from 'node:path';
import type { Store } from './types.js';
import { openSqliteStore } from './sqlite.js';
import { makePrivateDir } from './open-checks.js';
import { loadDataKeys, plainRecordCodec, type RecordCodec } from './record-codec.js';
import { openPostgresStore } from './postgres.js';

export type { Store } from './types.js';
export { RETRACTED_HASH, visitLedgerPrefix } from './types.js';
export { checkDatabaseFile, openSqliteStore, StoreSchemaError } from './sqlite.js';
export { StorageError, type StorageFault } from './storage-error.js';
export { companionFiles, looseModes } from './open-checks.js';
export { DataKeyConfigError, loadDataKeys, plainRecordCodec, recordAad, RecordKeyring, type RecordCodec } from './record-codec.js';
export { openPostgresStore, PostgresStore, type PostgresStoreOptions } from './postgres.js';

export const DEFAULT_DB_FILE = 'ilp-adapter.db';

export interface OpenStoreOptions {
  /**
   * `sqlite::memory:` (tests), `sqlite:<path>` / `sqlite://<path>` (a file), `postgres://…` / `postgresql://…` (a PostgreSQL server).
   * Without it: the SQLite file `<dataDir>/ilp-adapter.db`.
   */
  url?: string;
  /** Folder for the default SQLite file; default `./data` (created if missing). */
  dataDir?: string;
  /** SQLite only: 'FULL' also survives power loss, at a write-speed cost. */
  synchronous?: 'NORMAL' | 'FULL';
  /** PostgreSQL only: connections in the pool (DATABASE_POOL_MAX). */
  poolMax?: number;
  /** PostgreSQL only: statement_timeout per connection in ms (DATABASE_STATEMENT_TIMEOUT_MS); 0 = none. */
  statementTimeoutMs?: number;
  /**
   * Seals record bodies. Default for a file: the data keyring of the environment (DATA_KEYS, DATA_KEY_FILE, else
   * `<dataDir>/data-keys`, generated when missing; dataDir `./data` as for the service), so no caller can write clear
   * bodies by forgetting it; `:memory:` stores keep bodies plain. PostgreSQL: the same keyring, which every instance
   * must share (DATA_KEYS or one DATA_KEY_FILE): an instance with another key refuses to start.
   */
  codec?: RecordCodec;
}

/** postgres://… or postgresql://… */
export function isPostgresUrl(url: string | undefined): boolean {
  return /^postgres(ql)?:\/\//i.test(url?.trim() ?? '');
}

/**
 * Where the SQLite file of these options lives: a path, ':memory:', or undefined for a URL that is not SQLite's
 * (PostgreSQL, or unsupported: openStore says why). The folder is not created.
 */
export function sqliteFileOf(opts: OpenStoreOptions = {}): string | undefined {
  const url = opts.url?.trim();
  if (!url) return path.join(path.resolve(opts.dataDir ?? './data'), DEFAULT_DB_FILE);
  if (!/^sqlite:/i.test(url)) return undefined;
  const rest = url.slice('sqlite:'.length);
  if (rest === ':memory:' || rest === '//:memory:') return ':memory:';
  const file = rest.startsWith('//') ? rest.slice(2) : rest;
  return file || undefined;
}

/**
 * The one way to open a store (service, CLI, benchmarks): the SQLite file `<dataDir>/ilp-adapter.db` without a URL,
 * `sqlite:<path>` / `sqlite::memory:`, or PostgreSQL for `postgres://…` / `postgresql://…` (pool and statement timeout
 * from the options). Refusals (bad URL, damaged or newer file, unreachable server, a keyring missing a key the bodies
 * need) reject; nothing is left open then.
 */
export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const url = opts.url?.trim();
  // Only the scheme is ever echoed back: a database URL may carry a password.
  const scheme = url ? /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() : 'sqlite';
  if (url && isPostgresUrl(url)) {
    return openPostgresStore({
      url,
      ...(opts.poolMax !== undefined ? { poolMax: opts.poolMax } : {}),
      ...(opts.statementTimeoutMs !== undefined ? { statementTimeoutMs: opts.statementTimeoutMs } : {}),
      codec: opts.codec ?? loadDataKeys(process.env, path.resolve(opts.dataDir ?? './data')).keyring,
    });
  }
  if (scheme !== 'sqlite') {
    throw new Error(`unsupported store URL scheme ${scheme ? `"${scheme}:"` : '(none)'}; use sqlite:<path>, sqlite::memory: or postgres://…`);
  }
  const file = sqliteFileOf(opts);
  if (!file) throw new Error('sqlite store URL has no file path (use sqlite:<path> or sqlite::memory:)');
  if (file === ':memory:') return openSqliteStore({ file, codec: opts.codec ?? plainRecordCodec });
  // The database holds NIKs: a folder we create is 0700 (and the file 0600, see prepareDatabaseFile).
  const dir = path.dirname(path.resolve(file));
  makePrivateDir(dir);
  const codec = opts.codec ?? loadDataKeys(process.env, path.resolve(opts.dataDir ?? './data')).keyring;
  return openSqliteStore({ file, synchronous: opts.synchronous, codec });
}
