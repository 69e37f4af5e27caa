// Per-client-address limits on the unauthenticated endpoints ($validate, $map): a request budget per minute
// (rate-limiter-flexible) and a cap on requests in progress at once. Both run before the body is read, so a refused
// client costs a header parse and a 429, and cannot crowd out /health or a facility's ingest.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { defaultOpenEndpoints } from '../config/service.js';
import { apiError } from './errors.js';
import type { Params } from '../i18n/index.js';

export interface OpenEndpointLimits {
  /** OPEN_RATE_PER_MINUTE: requests per client address per minute. */
  perMinute: number;
  /** OPEN_CONCURRENCY: requests of one client address in progress at once. */
  concurrent: number;
}

/** Generous for a person or a script checking resources, small for a flood (the variables are read in src/config/service.ts). */
export const DEFAULT_OPEN_ENDPOINT_LIMITS: OpenEndpointLimits = defaultOpenEndpoints;

/** The paths it guards (what app.ts mounts it on). */
export const OPEN_ENDPOINT_PATHS = ['/fhir/$validate', '/fhir/:type/$validate', '/ilp/visits/$map'];

/**
 * The client address: the socket's peer unless the app was told to trust a proxy (`trust proxy`), so that a
 * forged X-Forwarded-For cannot buy a fresh budget.
 */
export const clientAddress = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/** 429 with Retry-After (set on the response: the error handler keeps headers already set). */
/** `why`: the message key (api.throttled.*) saying which limit was hit, `params` what it needs. */
export function refuse(res: Response, next: NextFunction, retryAfterSeconds: number, why: string, params: Params = {}): void {
  res.set('Retry-After', String(retryAfterSeconds));
  next(apiError(429, 'throttled', 'throttled', { '@why': why, seconds: retryAfterSeconds, ...params }));
}

export function perAddressLimits(limits: OpenEndpointLimits): RequestHandler {
  const rate = new RateLimiterMemory({ points: limits.perMinute, duration: 60 });
  const inProgress = new Map<string, number>();
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    const address = clientAddress(req);
    const busy = inProgress.get(address) ?? 0;
    if (busy >= limits.concurrent) {
      return refuse(res, next, 1, 'api.throttled.concurrent', { max: limits.concurrent });
    }
    // Counted from now (not after the async budget check) so that a burst cannot slip past the cap.
    inProgress.set(address, busy + 1);
    // 'close' fires once whether the answer was sent or the client went away.
    res.once('close', () => {
      const left = (inProgress.get(address) ?? 1) - 1;
      if (left <= 0) inProgress.delete(address);
      else inProgress.set(address, left);
    });
    rate.consume(address).then(
      () => next(),
      (refusal: unknown) => {
        if (!(refusal instanceof RateLimiterRes)) return next(refusal);
        refuse(res, next, Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)), 'api.throttled.rate', { max: limits.perMinute });
      },
    );
  };
}
