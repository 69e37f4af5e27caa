// Console sessions on SQLite (ConsoleSessionStore): every process on the file sees them. A sign-in's sweep, bound and
// insert are one IMMEDIATE transaction (the file's write lock), so the bound holds across processes. The clock is the caller's.
import type Database from 'better-sqlite3';
import type { ConsoleSessionStore } from './types.js';
import { assertTime } from './shared.js';
import { assertSessionArgs, CONSOLE_SESSION_COLUMNS, sessionStep, toConsoleSession, type DbConsoleSession } from './console-session-rows.js';

export function consoleSessionsOf(db: Database.Database): ConsoleSessionStore {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  const s = {
    sweep: p('DELETE FROM console_sessions WHERE last_seen < ?'),
    // Beyond the bound the least recently seen go (OFFSET keeps max − 1, leaving room for the new one).
    excess: p('DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions ORDER BY last_seen DESC, id_hash LIMIT -1 OFFSET ?)'),
    insert: p('INSERT INTO console_sessions (id_hash, key_hash, csrf, last_seen) VALUES (?, ?, ?, ?)'),
    get: p<DbConsoleSession>(`SELECT ${CONSOLE_SESSION_COLUMNS} FROM console_sessions WHERE id_hash = ?`),
    expire: p('DELETE FROM console_sessions WHERE id_hash = ? AND last_seen = ?'),
    touch: p('UPDATE console_sessions SET last_seen = ? WHERE id_hash = ? AND last_seen < ?'),
    setFlash: p('UPDATE console_sessions SET flash = ? WHERE id_hash = ?'),
    clearFlash: p('UPDATE console_sessions SET flash = NULL WHERE id_hash = ? AND flash = ?'),
    drop: p('DELETE FROM console_sessions WHERE id_hash = ?'),
    count: p<{ n: number }>('SELECT count(*) AS n FROM console_sessions WHERE last_seen >= ?'),
  };
  const create = db.transaction((idHash: string, keyHash: string, csrf: string, idleMs: number, max: number, now: number) => {
    s.sweep.run(now - idleMs);
    s.excess.run(max - 1);
    s.insert.run(idHash, keyHash, csrf, now);
  });

  return {
    async createConsoleSession(idHash, session, idleMs, maxSessions, now) {
      assertSessionArgs(idHash, now, idleMs, maxSessions);
      create.immediate(idHash, session.keyHash, session.csrf, idleMs, maxSessions, now);
    },
    async getConsoleSession(idHash, idleMs, touchMs, now) {
      assertSessionArgs(idHash, now, idleMs, touchMs);
      const r = s.get.get(idHash);
      if (!r) return undefined;
      const step = sessionStep(r.last_seen as number, idleMs, touchMs, now);
      if (step === 'expired') {
        s.expire.run(idHash, r.last_seen);
        return undefined;
      }
      if (step === 'touch') s.touch.run(now, idHash, now);
      return { ...toConsoleSession(r), ...(step === 'touch' ? { lastSeen: now } : {}) };
    },
    async setConsoleFlash(idHash, flash) {
      s.setFlash.run(flash, idHash);
    },
    async clearConsoleFlash(idHash, flash) {
      s.clearFlash.run(idHash, flash);
    },
    async deleteConsoleSession(idHash) {
      s.drop.run(idHash);
    },
    async countConsoleSessions(idleMs, now) {
      assertTime('now', now);
      return s.count.get(now - idleMs)!.n;
    },
  };
}
