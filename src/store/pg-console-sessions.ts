// Console sessions on PostgreSQL (ConsoleSessionStore): every instance sees them. A sign-in's sweep, bound and insert
// run under a transaction-scoped advisory lock, so two instances signing operators in at once keep the bound.
// Times are the store's clock (the caller resolves it).
import type pg from 'pg';
import type { ConsoleSessionRecord } from './types.js';

/** Key of the advisory lock sign-ins take ("ilp-ses" in ASCII; apart from the migrations' and the import jobs' keys). */
const CREATE_LOCK = 0x696c702d736573n;

type Queryable = Pick<pg.PoolClient, 'query'>;

export async function createSession(c: Queryable, idHash: string, session: Pick<ConsoleSessionRecord, 'keyHash' | 'csrf'>, idleMs: number, max: number, now: number): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK.toString()]);
  await c.query('DELETE FROM console_sessions WHERE last_seen < $1', [now - idleMs]);
  // Beyond the bound the least recently seen go (OFFSET keeps max − 1, leaving room for the new one).
  await c.query(`DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions ORDER BY last_seen DESC, id_hash OFFSET $1)`, [max - 1]);
  await c.query('INSERT INTO console_sessions (id_hash, key_hash, csrf, last_seen) VALUES ($1, $2, $3, $4)', [idHash, session.keyHash, session.csrf, now]);
}
