// What both stores share of the state several instances coordinate through (QuotaStore, TokenStore, LeaseStore):
// argument checks, the sealing of tokens, and the decisions made on a row read under the lock. SQL stays in the stores.
import { createHash } from 'node:crypto';
import type { QuotaAnswer, SharedTokenState, SharedTokenUpdate } from './types.js';
import type { RecordCodec } from './record-codec.js';
import { nonEmpty } from './shared.js';

export const BLOCK_STATES = new Set(['auth-failed', 'rate-limited', 'unavailable']);

export function assertQuotaArgs(credential: string, limit: number, windowMs: number): void {
  if (!nonEmpty(credential)) throw new TypeError('credential must be a non-empty string');
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
  if (!Number.isInteger(windowMs) || windowMs < 1) throw new TypeError('windowMs must be a positive integer');
}

export function assertDuration(name: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`${name} must be a non-negative number`);
}

export function assertLeaseArgs(name: string, holder: string): void {
  if (!nonEmpty(name) || !nonEmpty(holder)) throw new TypeError('lease name and holder must be non-empty strings');
}

/**
 * The decision on a credential's grant log, read under its lock: `newestInFullWindow` is the `limit`-th newest grant
 * still in the window (undefined when fewer than `limit` are). Full ⇒ wait until that grant leaves the window.
 */
export function quotaDecision(now: number, pausedUntil: number, newestInFullWindow: number | undefined, windowMs: number): QuotaAnswer | undefined {
  if (pausedUntil > now) return { granted: false, retryInMs: pausedUntil - now };
  if (newestInFullWindow !== undefined) return { granted: false, retryInMs: Math.max(1, newestInFullWindow + windowMs - now) };
  return undefined; // grant at `now`
}

const MINUTE_MS = 60_000;

/** The start (epoch ms) of the minute `at` falls in: the key of the per-minute grant counts. */
export const minuteOf = (at: number): number => at - (at % MINUTE_MS);

/** The oldest minute counted by quotaUse: every whole minute overlapping the window ending at `now`, the current one included. */
export const quotaUseSince = (now: number, windowMs: number): number => minuteOf(now - windowMs) + MINUTE_MS;

/** The associated data of a sealed token: bound to its credential, never mistaken for a record body. */
const tokenAad = (credential: string): string => `platform-token\u0000${credential}`;

/** sha256 of a token, for compare-and-delete (a token is a random bearer secret: its hash reveals nothing usable). */
export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export interface DbTokenRow {
  token: string | null;
  expires_at: number | null;
  refresh_at: number | null;
  blocked_until: number | null;
  blocked_state: string | null;
  blocked_error: unknown;
}

/** The row as instances see it at `now`: a token that cannot be opened (keyring changed) counts as absent. */
export function toSharedTokenState(r: DbTokenRow | undefined, credential: string, now: number, codec: RecordCodec, parse: (v: unknown) => unknown): SharedTokenState {
  const out: SharedTokenState = {};
  if (!r) return out;
  if (r.token && r.expires_at !== null && r.expires_at > now) {
    try {
      out.token = { value: codec.open(r.token, tokenAad(credential)), expiresInMs: r.expires_at - now, refreshInMs: Math.max(0, (r.refresh_at ?? 0) - now) };
    } catch {
      // Sealed under a key this instance lacks: fetch a new token rather than fail.
    }
  }
  if (r.blocked_until !== null && r.blocked_until > now && r.blocked_state && BLOCK_STATES.has(r.blocked_state)) {
    out.block = { state: r.blocked_state as 'auth-failed', retryInMs: r.blocked_until - now, error: r.blocked_error === null ? null : parse(r.blocked_error) };
  }
  return out;
}

/** Column values for an update at `now` (store clock); undefined parts leave their columns as they are. */
export function tokenColumns(credential: string, u: SharedTokenUpdate, now: number, codec: RecordCodec) {
  if (u.token) {
    if (!nonEmpty(u.token.value)) throw new TypeError('token must be a non-empty string');
    assertDuration('lifetimeMs', u.token.lifetimeMs);
    assertDuration('refreshInMs', u.token.refreshInMs);
  }
  if (u.block) {
    if (!BLOCK_STATES.has(u.block.state)) throw new TypeError(`unknown block state ${String(u.block.state)}`);
    assertDuration('durationMs', u.block.durationMs);
  }
  return {
    token: u.token ? { sealed: codec.seal(u.token.value, tokenAad(credential)), hash: tokenHash(u.token.value), expiresAt: now + u.token.lifetimeMs, refreshAt: now + u.token.refreshInMs } : undefined,
    block: u.block ? { until: now + u.block.durationMs, state: u.block.state, error: JSON.stringify(u.block.error ?? null) } : undefined,
  };
}
