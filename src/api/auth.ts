// API keys: `Authorization: Bearer <key>` (or `X-API-Key: <key>`). Keys are stored as sha256 only. A facility key
// acts for one organizationId; the admin key (ADMIN_API_KEY, never stored) for the operational endpoints.
import { timingSafeEqual } from 'node:crypto';
import { hashApiKey } from '../app/keys.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Store } from '../store/types.js';
import { apiError } from './errors.js';
import type { AuthThrottle } from './auth-throttle.js';
import { clientAddress, refuse } from './open-limits.js';

export interface Principal {
  role: 'admin' | 'facility';
  /** null for the admin. */
  organizationId: string | null;
  label?: string;
}

// The key's hash and its making are key management (src/app/keys.ts); re-exported for the routers and their tests.
export { generateApiKey, hashApiKey } from '../app/keys.js';

export interface AuthDeps {
  store: Store;
  /** sha256 of ADMIN_API_KEY; undefined ⇒ no admin access over HTTP. */
  adminKeyHash?: string;
  /** Keys held in memory only, by sha256 (the simulator-mode demo keys): never written to the store. */
  staticKeys?: ReadonlyMap<string, Principal>;
  /** Failed-authentication throttling per client address; one instance shared by every router (else each has a budget). */
  throttle?: AuthThrottle;
}

function presentedKey(authorization: string | undefined, xApiKey: string | string[] | undefined): string | undefined {
  if (authorization) {
    const m = /^Bearer\s+(\S{8,512})\s*$/i.exec(authorization);
    return m?.[1];
  }
  if (typeof xApiKey === 'string' && xApiKey.length >= 8 && xApiKey.length <= 512) return xApiKey.trim();
  return undefined;
}

/** 401 said by message api.<key>. */
function unauthorized(res: Response, key: string) {
  res.set('WWW-Authenticate', 'Bearer realm="ilp-adapter"');
  return apiError(401, 'login', key);
}

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw apiError(401, 'login', 'auth.required');
  return p;
}

/**
 * A resolver of key hashes to principals (undefined: unknown or revoked), shared by the API and the console (whose
 * sessions keep the hash, never the key, and resolve it again on every request so that a revocation ends them too).
 */
export function keyHashResolver(deps: AuthDeps): (hash: string) => Promise<Principal | undefined> {
  const adminHash = deps.adminKeyHash ? Buffer.from(deps.adminKeyHash, 'hex') : undefined;
  return async (hash: string): Promise<Principal | undefined> => {
    if (adminHash && timingSafeEqual(Buffer.from(hash, 'hex'), adminHash)) return { role: 'admin', organizationId: null, label: 'ADMIN_API_KEY' };
    const fixed = deps.staticKeys?.get(hash);
    if (fixed) return fixed;
    // Read per request, not cached: a key revoked (ilp-adapter keys revoke) stops working at once on every instance.
    const row = await deps.store.findApiKey(hash);
    if (!row || row.revokedAt !== undefined) return undefined;
    return { role: row.role, organizationId: row.organizationId, ...(row.label ? { label: row.label } : {}) };
  };
}

/** Resolves the caller's key to a Principal (401 when missing or unknown; 429 while the address is throttled). */
export function authenticate(deps: AuthDeps): RequestHandler {
  const byHash = keyHashResolver(deps);
  const resolve = (key: string) => byHash(hashApiKey(key));
  const throttled = (res: Response, next: NextFunction, ms: number) =>
    refuse(res, next, Math.max(1, Math.ceil(ms / 1000)), 'api.throttled.wrong-keys');
  const check = async (req: Request, res: Response, next: NextFunction, address: string): Promise<void> => {
    const key = presentedKey(req.get('authorization'), req.headers['x-api-key']);
    if (!key) return next(unauthorized(res, 'auth.missing-key'));
    const principal = await resolve(key);
    if (principal) {
      res.locals.principal = principal;
      return next();
    }
    if (!deps.throttle) return next(unauthorized(res, 'auth.unknown-key'));
    const blockMs = await deps.throttle.failed(address);
    if (blockMs) throttled(res, next, blockMs);
    else next(unauthorized(res, 'auth.unknown-key'));
  };
  return (req, res, next) => {
    const throttle = deps.throttle;
    if (!throttle) {
      check(req, res, next, '').catch(next);
      return;
    }
    const address = clientAddress(req);
    // A blocked address is refused before its key is looked at: nothing is learnt from a guess while blocked.
    throttle.retryAfterMs(address).then((ms) => (ms ? throttled(res, next, ms) : check(req, res, next, address))).catch(next);
  };
}

export const requireAdmin: RequestHandler = (_req, res, next) => {
  const p = principalOf(res);
  if (p.role !== 'admin') return next(apiError(403, 'forbidden', 'auth.admin-only'));
  next();
};

/** May this principal see/act on this organization's records? */
export const mayAccess = (p: Principal, organizationId: string): boolean => p.role === 'admin' || p.organizationId === organizationId;
