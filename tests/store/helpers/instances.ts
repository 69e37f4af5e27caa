// Several "instances" over one database for the multi-instance tests: each store its own connection (a SQLite file
// opened N times, or N pools on one fresh PostgreSQL database), and a way to read rows as the database holds them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openSqliteStore } from '../../../src/store/sqlite.js';
import { openPostgresStore } from '../../../src/store/postgres.js';
import type { RecordCodec } from '../../../src/store/record-codec.js';
import type { Store } from '../../../src/store/types.js';
import type { PgServer } from './postgres.js';

export interface Instances {
  stores: Store[];
  /** Rows of `sql` read directly (no store, no codec). */
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  cleanup(): Promise<void>;
}

export function sqliteInstances(n: number, opts: { codec?: RecordCodec } = {}): Instances {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-instances-'));
  const file = path.join(dir, 'shared.db');
  const stores = Array.from({ length: n }, () => openSqliteStore({ file, ...opts }));
  return {
    stores,
    async rows(sql) {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare(sql).all() as Array<Record<string, unknown>>;
      } finally {
        db.close();
      }
    },
    async cleanup() {
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function postgresInstances(server: PgServer, n: number, opts: { codec?: RecordCodec } = {}): Promise<Instances> {
  const url = await server.newDatabase();
  const stores: Store[] = [];
  for (let i = 0; i < n; i++) stores.push(await openPostgresStore({ url, poolMax: 2, ...opts }));
  return {
    stores,
    async rows(sql) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query<Record<string, unknown>>(sql)).rows;
      } finally {
        await c.end();
      }
    },
    async cleanup() {
      for (const s of stores) await s.close();
      await server.dropDatabase(url);
    },
  };
}
