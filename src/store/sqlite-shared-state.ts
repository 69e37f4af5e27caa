// The state instances coordinate through, on SQLite: the quota grant log, the shared token, named leases. Several
// processes may open one file; every decision is one IMMEDIATE transaction (the write lock of the file), and the clock
// is the caller's (processes sharing a file share a host).
import type Database from 'better-sqlite3';
import { QUOTA_MINUTES_KEPT_MS, type QuotaAnswer, type SharedTokenState, type SharedTokenUpdate } from './types.js';
import type { RecordCodec } from './record-codec.js';
import { assertTime } from './shared.js';
import { assertDuration, assertLeaseArgs, assertQuotaArgs, minuteOf, quotaDecision, quotaUseSince, tokenColumns, tokenHash, toSharedTokenState, type DbTokenRow } from './shared-state.js';

export function sharedStateOf(db: Database.Database, codec: RecordCodec) {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  const s = {
    pausedUntil: p<{ paused_until: number }>('SELECT paused_until FROM quota_state WHERE credential = ?'),
    prune: p('DELETE FROM quota_grants WHERE credential = ? AND at <= ?'),
    // The limit-th newest grant in the window: present only when the window is full.
    nth: p<{ at: number }>('SELECT at FROM quota_grants WHERE credential = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?'),
    grant: p('INSERT INTO quota_grants (credential, at) VALUES (?, ?)'),
    // The overview's count per minute; the first grant of a minute prunes what is older than the kept hours.
    countMinute: p<{ granted: number }>(`INSERT INTO quota_minutes (credential, minute, granted) VALUES (?, ?, 1)
                 ON CONFLICT (credential, minute) DO UPDATE SET granted = granted + 1 RETURNING granted`),
    pruneMinutes: p('DELETE FROM quota_minutes WHERE credential = ? AND minute < ?'),
    used: p<{ requests: number }>('SELECT coalesce(sum(granted), 0) AS requests FROM quota_minutes WHERE credential = ? AND minute >= ?'),
    newest: p<{ at: number | null }>('SELECT max(at) AS at FROM quota_grants WHERE credential = ?'),
    pause: p(`INSERT INTO quota_state (credential, paused_until) VALUES (?, ?)
              ON CONFLICT (credential) DO UPDATE SET paused_until = max(paused_until, excluded.paused_until)`),
    token: p<DbTokenRow>('SELECT token, expires_at, refresh_at, blocked_until, blocked_state, blocked_error FROM platform_tokens WHERE credential = ?'),
    putToken: p(`INSERT INTO platform_tokens (credential, token, token_hash, expires_at, refresh_at, blocked_until, blocked_state, blocked_error, updated_at)
                 VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?)
                 ON CONFLICT (credential) DO UPDATE SET token = excluded.token, token_hash = excluded.token_hash, expires_at = excluded.expires_at,
                 refresh_at = excluded.refresh_at, blocked_until = NULL, blocked_state = NULL, blocked_error = NULL, updated_at = excluded.updated_at`),
    putBlock: p(`INSERT INTO platform_tokens (credential, blocked_until, blocked_state, blocked_error, updated_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (credential) DO UPDATE SET blocked_until = excluded.blocked_until, blocked_state = excluded.blocked_state,
                 blocked_error = excluded.blocked_error, updated_at = excluded.updated_at`),
    dropToken: p('UPDATE platform_tokens SET token = NULL, token_hash = NULL, expires_at = NULL, refresh_at = NULL WHERE credential = ? AND token_hash = ?'),
    dropAnyToken: p('UPDATE platform_tokens SET token = NULL, token_hash = NULL, expires_at = NULL, refresh_at = NULL WHERE credential = ?'),
    takeLease: p(`INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
                  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until WHERE leases.until <= ? OR leases.holder = excluded.holder`),
    releaseLease: p('DELETE FROM leases WHERE name = ? AND holder = ?'),
  };

  const take = db.transaction((credential: string, limit: number, windowMs: number, callerNow: number): QuotaAnswer => {
    // `callerNow` was read before this process got the write lock; another process may have granted later meanwhile.
    // The log only grows in time, so a grant never leaves the window before one granted earlier.
    const now = Math.max(callerNow, s.newest.get(credential)?.at ?? callerNow);
    const cut = now - windowMs;
    s.prune.run(credential, cut);
    const wait = quotaDecision(now, s.pausedUntil.get(credential)?.paused_until ?? 0, s.nth.get(credential, cut, limit - 1)?.at, windowMs);
    if (wait) return wait;
    s.grant.run(credential, now);
    if (s.countMinute.get(credential, minuteOf(now))!.granted === 1) s.pruneMinutes.run(credential, now - QUOTA_MINUTES_KEPT_MS);
    return { granted: true, at: now };
  });

  const putShared = db.transaction((credential: string, update: SharedTokenUpdate, holder: string, now: number) => {
    const cols = tokenColumns(credential, update, now, codec);
    if (cols.token) s.putToken.run(credential, cols.token.sealed, cols.token.hash, cols.token.expiresAt, cols.token.refreshAt, now);
    if (cols.block) s.putBlock.run(credential, cols.block.until, cols.block.state, cols.block.error, now);
    s.releaseLease.run(`token:${credential}`, holder);
  });

  return {
    async takeQuotaPoint(credential: string, limit: number, windowMs: number, now: number): Promise<QuotaAnswer> {
      assertQuotaArgs(credential, limit, windowMs);
      assertTime('now', now);
      return take.immediate(credential, limit, windowMs, now);
    },
    async pauseQuota(credential: string, ms: number, now: number): Promise<void> {
      assertQuotaArgs(credential, 1, 1);
      assertDuration('ms', ms);
      assertTime('now', now);
      s.pause.run(credential, now + ms);
    },
    async quotaUse(credential: string, windowMs: number, now: number): Promise<{ requests: number; since: number }> {
      assertQuotaArgs(credential, 1, windowMs);
      assertTime('now', now);
      const since = quotaUseSince(now, windowMs);
      return { requests: s.used.get(credential, since)!.requests, since };
    },
    async getSharedToken(credential: string, now: number): Promise<SharedTokenState> {
      assertTime('now', now);
      return toSharedTokenState(s.token.get(credential), credential, now, codec, (v) => JSON.parse(String(v)));
    },
    async putSharedToken(credential: string, update: SharedTokenUpdate, holder: string, now: number): Promise<void> {
      assertLeaseArgs(credential, holder);
      assertTime('now', now);
      putShared.immediate(credential, update, holder, now);
    },
    async dropSharedToken(credential: string, value?: string): Promise<void> {
      if (value === undefined) s.dropAnyToken.run(credential);
      else s.dropToken.run(credential, tokenHash(value));
    },
    async tryLease(name: string, holder: string, ms: number, now: number): Promise<boolean> {
      assertLeaseArgs(name, holder);
      assertDuration('ms', ms);
      assertTime('now', now);
      return s.takeLease.run(name, holder, now + ms, now).changes === 1;
    },
    async releaseLease(name: string, holder: string): Promise<void> {
      assertLeaseArgs(name, holder);
      s.releaseLease.run(name, holder);
    },
  };
}
