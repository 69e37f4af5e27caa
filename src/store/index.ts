// Picks the store implementation from a URL. The rest of the service only ever sees the Store interface.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Store } from './types.js';
import { openSqliteStore } from './sqlite.js';

export type { Store } from './types.js';
export { RETRACTED_HASH, visitLedgerPrefix } from './types.js';
export { openSqliteStore, StoreSchemaError } from './sqlite.js';

export const DEFAULT_DB_FILE = 'ilp-adapter.db';

export interface OpenStoreOptions {
  /**
   * `sqlite::memory:` (tests), `sqlite:<path>` / `sqlite://<path>` (a file), `postgres://…` (not yet).
   * Without it: the SQLite file `<dataDir>/ilp-adapter.db`.
   */
  url?: string;
  /** Folder for the default SQLite file; default `./data` (created if missing). */
  dataDir?: string;
  /** SQLite only: 'FULL' also survives power loss, at a write-speed cost. */
  synchronous?: 'NORMAL' | 'FULL';
}

export function openStore(opts: OpenStoreOptions = {}): Store {
  const url = opts.url?.trim();
  if (!url) {
    const dir = path.resolve(opts.dataDir ?? './data');
    mkdirSync(dir, { recursive: true });
    return openSqliteStore({ file: path.join(dir, DEFAULT_DB_FILE), synchronous: opts.synchronous });
  }
  // Only the scheme is ever echoed back: a database URL may carry a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    throw new Error('PostgreSQL store is not implemented yet (planned in the next issue); use the embedded SQLite store (omit the store URL)');
  }
  if (scheme === 'sqlite') {
    const rest = url.slice('sqlite:'.length);
    if (rest === ':memory:' || rest === '//:memory:') return openSqliteStore({ file: ':memory:' });
    const file = rest.startsWith('//') ? rest.slice(2) : rest;
    if (!file) throw new Error('sqlite store URL has no file path (use sqlite:<path> or sqlite::memory:)');
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return openSqliteStore({ file, synchronous: opts.synchronous });
  }
  throw new Error(`unsupported store URL scheme ${scheme ? `"${scheme}:"` : '(none)'}; use sqlite:<path>, sqlite::memory: or postgres://…`);
}
