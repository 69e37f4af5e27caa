// Per-facility OAuth2 client-credentials token. SATUSEHAT allows 1 auth request per minute after a failed attempt, so a failure
// is remembered and answered locally until that minute has passed: the provider never loops on auth.
import type { FacilityConfig } from './types.js';
import { PlatformError } from './types.js';
import { errorFromResponse, normaliseOutcome, ownOutcome, toPlatformError, DEFAULT_RETRY_AFTER_MS } from './errors.js';
import type { FacilityLimiter } from './limiter.js';
import type { PlatformLogger } from './logger.js';
import { silentLogger } from './logger.js';

export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;
/** The platform's lockout after a failed auth attempt. */
export const AUTH_LOCKOUT_MS = 60_000;
/** After a transient failure (5xx, network), callers in this window get the same error instead of a new request each. */
export const DEFAULT_TRANSIENT_COOLDOWN_MS = 5_000;
/** Lifetime assumed when `expires_in` is missing or unreadable: short, so a surprise costs little. */
const FALLBACK_LIFETIME_MS = 15 * 60_000;

export type TokenState =
  | { state: 'empty' }
  | { state: 'valid'; expiresAt: number }
  | { state: 'auth-failed' | 'rate-limited' | 'unavailable'; retryAt: number };

export interface TokenProvider {
  /** A valid access token, fetched (single-flight) when absent or within the refresh margin of expiry. */
  get(): Promise<string>;
  /** Drops the cached token (after a 401). With a token argument, only if it is still the cached one (concurrent 401s refresh once). */
  invalidate(token?: string): void;
  /** For status pages: never contains the token. */
  state(): TokenState;
}

export interface TokenProviderOptions {
  limiter?: FacilityLimiter;
  fetch?: typeof fetch;
  now?: () => number;
  refreshMarginMs?: number;
  authLockoutMs?: number;
  transientCooldownMs?: number;
  timeoutMs?: number;
  logger?: PlatformLogger;
}

type TokenCfg = Pick<FacilityConfig, 'organizationId' | 'authBaseUrl' | 'clientId' | 'clientSecret'>;

interface Cached {
  token: string;
  expiresAt: number;
  refreshAt: number;
}

interface Blocked {
  until: number;
  error: PlatformError;
  state: 'auth-failed' | 'rate-limited' | 'unavailable';
}

/** `expires_in` arrives as a string ("3599"); accept a number too. */
function lifetimeMs(expiresIn: unknown): number {
  const n = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' ? Number(expiresIn.trim()) : NaN;
  return Number.isFinite(n) && n > 0 ? n * 1000 : FALLBACK_LIFETIME_MS;
}

/**
 * 403 from the token endpoint: recorded for a caller outside Indonesia whose credentials worked over an Indonesian VPN
 * (the gateway filters by network). Still a failed auth attempt (lockout, no loop), but the outcome says both causes.
 */
function tokenForbidden(err: PlatformError, lockoutMs: number): PlatformError {
  const first = {
    severity: 'error' as const,
    code: 'forbidden' as const,
    diagnostics: 'SATUSEHAT token endpoint answered HTTP 403: the gateway refuses calls from outside Indonesia or from blocked networks as well as rejected credentials. Check that this server reaches SATUSEHAT from an Indonesian network (no foreign VPN/proxy) before changing the client credentials',
  };
  const platformIssues = (err.outcome.issue ?? []).filter((i) => i.diagnostics !== 'HTTP 403');
  return new PlatformError('auth', err.status, { resourceType: 'OperationOutcome', issue: [first, ...platformIssues] }, err.rules, lockoutMs, 'token-forbidden');
}

export function tokenUrl(authBaseUrl: string): string {
  return `${authBaseUrl.replace(/\/+$/, '')}/accesstoken?grant_type=client_credentials`;
}

export function createTokenProvider(cfg: TokenCfg, opts: TokenProviderOptions = {}): TokenProvider {
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const margin = opts.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const lockoutMs = opts.authLockoutMs ?? AUTH_LOCKOUT_MS;
  const cooldownMs = opts.transientCooldownMs ?? DEFAULT_TRANSIENT_COOLDOWN_MS;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const log = opts.logger ?? silentLogger;
  const redact = [cfg.clientSecret, cfg.clientId];

  let cached: Cached | undefined;
  let blocked: Blocked | undefined;
  let inflight: Promise<string> | undefined;

  function blockedError(b: Blocked): PlatformError {
    const e = b.error;
    return new PlatformError(e.kind, e.status, e.outcome, e.rules, Math.max(0, b.until - now()), e.reason);
  }

  async function request(): Promise<string> {
    if (opts.limiter) {
      // A quota point like any call, but no concurrency slot and ahead of the queue (the callers waiting for us hold the slots).
      const release = await opts.limiter.acquire({ priority: true, slot: false });
      release();
    }
    const started = now();
    let res: Response;
    let text: string;
    try {
      res = await doFetch(tokenUrl(cfg.authBaseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ client_id: cfg.clientId, client_secret: cfg.clientSecret }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      const err = toPlatformError(e, { redact, timeoutMs });
      log.warn({ organizationId: cfg.organizationId, op: 'token', kind: err.kind, durationMs: now() - started }, 'token request failed');
      throw err;
    }
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      /* keep the text: gateways answer text/plain or HTML */
    }
    const durationMs = now() - started;
    const b = body as Record<string, unknown>;
    if (res.ok && body && typeof body === 'object' && typeof b.access_token === 'string' && b.access_token) {
      const life = lifetimeMs(b.expires_in);
      // Measured from our send time, not the server's issued_at: immune to clock skew, errs on the early side.
      const expiresAt = started + life;
      cached = { token: b.access_token, expiresAt, refreshAt: expiresAt - Math.min(margin, life / 2) };
      blocked = undefined;
      log.info({ organizationId: cfg.organizationId, op: 'token', status: res.status, durationMs, expiresInS: Math.round(life / 1000) }, 'token acquired');
      return b.access_token;
    }
    let err: PlatformError;
    if (res.ok) {
      // 200 without a token: a JSON answer is a refusal (e.g. status "revoked"), anything else a proxy page.
      const isOutcome = typeof body === 'object' && (body as { resourceType?: unknown }).resourceType === 'OperationOutcome';
      err = typeof body !== 'object'
        ? new PlatformError('transient', res.status, normaliseOutcome(body, res.status, 'transient', redact))
        : new PlatformError('auth', res.status, isOutcome
          ? normaliseOutcome(body, res.status, 'login', redact)
          : ownOutcome('login', `Token endpoint answered HTTP ${res.status} without an access_token`), [], lockoutMs);
    } else {
      err = errorFromResponse(res.status, body, res.headers, { redact, now });
      if (res.status === 403) err = tokenForbidden(err, lockoutMs);
      // Any other refusal of the credentials (400/401/...) is a failed auth attempt: 1 request/min from now on.
      else if (err.kind !== 'transient' && err.kind !== 'rate-limited') err = new PlatformError('auth', res.status, err.outcome, err.rules, lockoutMs);
    }
    log.warn({ organizationId: cfg.organizationId, op: 'token', status: res.status, kind: err.kind, durationMs }, 'token request refused');
    throw err;
  }

  function remember(err: PlatformError): void {
    const t = now();
    if (err.kind === 'auth') blocked = { until: t + lockoutMs, error: err, state: 'auth-failed' };
    else if (err.kind === 'rate-limited') blocked = { until: t + (err.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS), error: err, state: 'rate-limited' };
    else if (cooldownMs > 0) blocked = { until: t + (err.retryAfterMs ?? cooldownMs), error: err, state: 'unavailable' };
  }

  return {
    async get(): Promise<string> {
      const t = now();
      if (cached && t < cached.refreshAt) return cached.token;
      if (blocked && t < blocked.until) {
        // A transient hiccup while the old token still has life left: keep using it.
        if (blocked.state === 'unavailable' && cached && t < cached.expiresAt - 10_000) return cached.token;
        throw blockedError(blocked);
      }
      if (!inflight) {
        inflight = request()
          .catch((e: unknown) => {
            const err = toPlatformError(e, { redact, timeoutMs });
            remember(err);
            throw blocked && blocked.error === err ? blockedError(blocked) : err;
          })
          .finally(() => {
            inflight = undefined;
          });
      }
      try {
        return await inflight;
      } catch (e) {
        const err = e as PlatformError;
        if (err.kind === 'transient' && cached && now() < cached.expiresAt - 10_000) return cached.token;
        throw err;
      }
    },
    invalidate(token?: string): void {
      if (!cached) return;
      if (token === undefined || token === cached.token) cached = undefined;
    },
    state(): TokenState {
      const t = now();
      if (blocked && t < blocked.until) return { state: blocked.state, retryAt: blocked.until };
      if (cached && t < cached.expiresAt) return { state: 'valid', expiresAt: cached.expiresAt };
      return { state: 'empty' };
    },
  };
}
