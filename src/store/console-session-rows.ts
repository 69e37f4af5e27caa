// What both stores share of the console sessions (ConsoleSessionStore): argument checks and the reading of a row.
// SQL stays in the stores.
import type { ConsoleSessionRecord } from './types.js';
import { assertTime, nonEmpty } from './shared.js';

export interface DbConsoleSession {
  key_hash: string;
  csrf: string;
  last_seen: number | string;
  flash: string | null;
}

export const CONSOLE_SESSION_COLUMNS = 'key_hash, csrf, last_seen, flash';

export function assertSessionArgs(idHash: string, now: number, ...durations: number[]): void {
  if (!nonEmpty(idHash)) throw new TypeError('session id hash must be a non-empty string');
  assertTime('now', now);
  for (const d of durations) if (!Number.isInteger(d) || d < 1) throw new TypeError('session durations and bounds must be positive integers');
}

export function toConsoleSession(r: DbConsoleSession): ConsoleSessionRecord {
  return { keyHash: r.key_hash, csrf: r.csrf, lastSeen: Number(r.last_seen), ...(r.flash !== null ? { flash: r.flash } : {}) };
}

/** What a read of this row does at `now`: forget it (idle too long), restart its idle clock, or nothing. */
export function sessionStep(lastSeen: number, idleMs: number, touchMs: number, now: number): 'expired' | 'touch' | 'keep' {
  if (now - lastSeen > idleMs) return 'expired';
  return now - lastSeen >= touchMs ? 'touch' : 'keep';
}
