// Per-facility OAuth2 client-credentials token. SATUSEHAT allows 1 auth request per minute after a failed attempt, so a failure
// is remembered and answered locally until that minute has passed: the provider never loops on auth.
// With a shared store (instances on one database) the token and that memory are the store's: one instance fetches under
// the lease `token:<organizationId>` while the others wait for its result, and a failure blocks every instance.
import { createHash, randomUUID } from 'node:crypto';
import type { FacilityConfig, PlatformErrorKind, PlatformErrorReason } from './types.js';
import { PlatformError } from './types.js';
import { errorFromResponse, normaliseOutcome, ownOutcome, toPlatformError, DEFAULT_RETRY_AFTER_MS } from './errors.js';
import type { FacilityLimiter } from './limiter.js';
import type { PlatformLogger } from './logger.js';
import { silentLogger } from './logger.js';
import { messageExtension } from '../util/app-error.js';

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
  /**
   * Drops the cached token (after a 401). With a token argument, only if it is still the cached one (concurrent 401s
   * refresh once); in the shared cache too, compare-and-delete. Resolves once the shared cache has been told.
   */
  invalidate(token?: string): Promise<void>;
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
  /** The token cache shared by instances (the store); without it the cache is this process's. */
  shared?: SharedTokenCache;
}

/** What the provider needs of the store (src/store TokenStore and LeaseStore). */
export interface SharedTokenCache {
  getSharedToken(credential: string, now: number): Promise<{
    token?: { value: string; expiresInMs: number; refreshInMs: number };
    block?: { state: 'auth-failed' | 'rate-limited' | 'unavailable'; retryInMs: number; error: unknown };
  }>;
  putSharedToken(credential: string, update: {
    token?: { value: string; lifetimeMs: number; refreshInMs: number };
    block?: { state: 'auth-failed' | 'rate-limited' | 'unavailable'; durationMs: number; error: unknown };
  }, holder: string, now: number): Promise<void>;
  dropSharedToken(credential: string, value?: string): Promise<void>;
  tryLease(name: string, holder: string, ms: number, now: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}

/** While another instance fetches the token, this one looks again this often (a token request takes ~100 ms–1 s). */
const SHARED_RECHECK_MS = 100;

/** A PlatformError as the shared cache keeps it: fields only, no message text to parse back. */
interface StoredError {
  kind: PlatformErrorKind;
  status?: number;
  outcome: PlatformError['outcome'];
  rules: string[];
  reason?: PlatformErrorReason;
}

const toStored = (e: PlatformError): StoredError => ({ kind: e.kind, ...(e.status !== undefined ? { status: e.status } : {}), outcome: e.outcome, rules: [...e.rules], ...(e.reason ? { reason: e.reason } : {}) });

function fromStored(raw: unknown): PlatformError {
  const e = (raw ?? {}) as Partial<StoredError>;
  const outcome = e.outcome && typeof e.outcome === 'object' ? e.outcome : ownOutcome('login', 'Token request refused (told by another instance)', { key: 'sync.token.refused-elsewhere', params: {} });
  return new PlatformError(e.kind ?? 'auth', typeof e.status === 'number' ? e.status : undefined, outcome, Array.isArray(e.rules) ? e.rules : [], undefined, e.reason);
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
    // Said to operators (facility status, a visit's lastError) from the catalogue; the English stays for logs.
    extension: [messageExtension({ key: 'sync.token.forbidden', params: {} })],
    diagnostics: 'SATUSEHAT token endpoint answered HTTP 403: the gateway refuses calls from outside Indonesia or from blocked networks as well as rejected credentials. Check that this server reaches SATUSEHAT from an Indonesian network (no foreign VPN/proxy) before changing the client credentials',
  };
  const platformIssues = (err.outcome.issue ?? []).filter((i) => i.diagnostics !== 'HTTP 403');
  return new PlatformError('auth', err.status, { resourceType: 'OperationOutcome', issue: [first, ...platformIssues] }, err.rules, lockoutMs, 'token-forbidden');
}

export function tokenUrl(authBaseUrl: string): string {
  return `${authBaseUrl.replace(/\/+$/, '')}/accesstoken?grant_type=client_credentials`;
}

/**
 * The shared cache's key of a facility's credentials: the organization and a short fingerprint of client id and secret,
 * so a token or lockout of credentials since replaced is not taken for the new ones (the fingerprint is 48 bits of a
 * sha256: it tells two credentials apart, it does not let anyone confirm a guessed secret with confidence).
 */
export function sharedTokenKey(cfg: Pick<FacilityConfig, 'organizationId' | 'clientId' | 'clientSecret'>): string {
  const fp = createHash('sha256').update(`ilp-adapter credential\u0000${cfg.clientId}\u0000${cfg.clientSecret}`, 'utf8').digest('hex').slice(0, 12);
  return `${cfg.organizationId}:${fp}`;
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
  /** Lifetime of the token request() just brought (for the shared cache). */
  let fetchedLifeMs = 0;
  const shared = opts.shared;
  const credential = sharedTokenKey(cfg);
  const holder = randomUUID();
  const leaseName = `token:${credential}`;
  // The lease outlasts one request (its timeout) and the quota point it may wait for; a dead holder's lease just expires.
  const leaseMs = timeoutMs + 30_000;

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
      fetchedLifeMs = life;
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

  /** This process's cache and memory of failures: a fetch of its own. */
  function localFetch(): Promise<string> {
    return request().catch((e: unknown) => {
      const err = toPlatformError(e, { redact, timeoutMs });
      remember(err);
      throw blocked && blocked.error === err ? blockedError(blocked) : err;
    });
  }

  /** Adopts what the shared cache holds; true when that answers the caller (a token or a block). */
  function adopt(state: Awaited<ReturnType<SharedTokenCache['getSharedToken']>>, t: number): boolean {
    if (state.token && state.token.refreshInMs > 0) {
      cached = { token: state.token.value, expiresAt: t + state.token.expiresInMs, refreshAt: t + state.token.refreshInMs };
      blocked = undefined;
      return true;
    }
    if (state.block) {
      blocked = { until: t + state.block.retryInMs, error: fromStored(state.block.error), state: state.block.state };
      // The old token still has life left: keep it in hand for a transient block (as the local cache does).
      if (state.token) cached = { token: state.token.value, expiresAt: t + state.token.expiresInMs, refreshAt: t };
      return true;
    }
    return false;
  }

  /**
   * One fetch per credential across instances: read the shared cache; if it has no fresh token and no block, take the
   * lease and fetch (looking once more first: a holder stores its result before it releases), else wait for the holder.
   */
  async function sharedFetch(cache: SharedTokenCache): Promise<string> {
    const deadline = Date.now() + leaseMs; // real time: waiting is real whatever clock the provider is given
    for (;;) {
      const t = now();
      const state = await cache.getSharedToken(credential, t);
      if (adopt(state, t)) return answerFromCache();
      if (await cache.tryLease(leaseName, holder, leaseMs, now())) {
        const again = now();
        if (adopt(await cache.getSharedToken(credential, again), again)) {
          await cache.releaseLease(leaseName, holder);
          return answerFromCache();
        }
        try {
          const token = await request();
          const life = fetchedLifeMs;
          // A store that cannot take it costs the others a wait (the lease runs out), not this caller its token.
          await cache.putSharedToken(credential, { token: { value: token, lifetimeMs: life, refreshInMs: Math.max(0, life - Math.min(margin, life / 2)) } }, holder, now())
            .catch(() => undefined);
          return token;
        } catch (e) {
          const err = toPlatformError(e, { redact, timeoutMs });
          remember(err);
          const b = blocked && blocked.error === err ? blocked : undefined;
          await (b
            ? cache.putSharedToken(credential, { block: { state: b.state, durationMs: Math.max(0, b.until - now()), error: toStored(err) } }, holder, now())
            : cache.releaseLease(leaseName, holder)).catch(() => undefined);
          throw b ? blockedError(b) : err;
        }
      }
      // Another instance is refreshing a token that still works: use it meanwhile, and look again soon.
      if (state.token && state.token.expiresInMs > 10_000) {
        cached = { token: state.token.value, expiresAt: t + state.token.expiresInMs, refreshAt: t + SHARED_RECHECK_MS };
        return cached.token;
      }
      if (Date.now() >= deadline) {
        throw new PlatformError('transient', undefined, ownOutcome('transient', 'Another instance is requesting the token and has not finished', { key: 'sync.token.lease-busy', params: {} }));
      }
      await new Promise((r) => setTimeout(r, SHARED_RECHECK_MS));
    }
  }

  /** After adopt(): the cached token, or the block as an error (a transient block with a live token keeps the token). */
  function answerFromCache(): string {
    const t = now();
    if (blocked && t < blocked.until) {
      if (blocked.state === 'unavailable' && cached && t < cached.expiresAt - 10_000) return cached.token;
      throw blockedError(blocked);
    }
    return cached!.token;
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
        inflight = (shared ? sharedFetch(shared) : localFetch()).finally(() => {
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
    async invalidate(token?: string): Promise<void> {
      if (cached && (token === undefined || token === cached.token)) cached = undefined;
      // The token another instance stored may be the one that failed here, even when this process holds none.
      if (shared) await shared.dropSharedToken(credential, token).catch(() => undefined);
    },
    state(): TokenState {
      const t = now();
      if (blocked && t < blocked.until) return { state: blocked.state, retryAt: blocked.until };
      if (cached && t < cached.expiresAt) return { state: 'valid', expiresAt: cached.expiresAt };
      return { state: 'empty' };
    },
  };
}
