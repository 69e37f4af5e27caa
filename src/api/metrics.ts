// GET /metrics — Prometheus text exposition of this instance's registry. Protected by default: the admin API key, or
// METRICS_API_KEY, a key that can read /metrics and nothing else (give that one to Prometheus, not the admin key, which
// can also requeue visits and pause facilities). METRICS_PUBLIC=true serves it without a key, for a port reachable only
// from a private monitoring network. The metrics hold facility ids and counts, no personal data.
// Mounted before the JSON-only Accept guard (see AppDeps.metricsRouter): a scraper asks for text.
import { timingSafeEqual } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { ConfigError, configProblem, type ConfigProblem } from '../config/errors.js';
import type { Logger } from '../util/logger.js';
import type { ServiceMetrics } from '../util/metrics.js';
import { methodNotAllowed } from './errors.js';
import { authenticate, hashApiKey, requireAdmin, type AuthDeps } from './auth.js';

export interface MetricsAccess {
  /** Serve without a key (METRICS_PUBLIC=true). */
  public: boolean;
  /** sha256 of METRICS_API_KEY, accepted for GET /metrics only. */
  keyHash?: string;
}

export interface MetricsRouterDeps extends AuthDeps, Partial<MetricsAccess> {
  metrics: Pick<ServiceMetrics, 'metrics' | 'contentType'>;
  logger?: Logger;
}

/** METRICS_PUBLIC (true/1 | false/0, default false) and METRICS_API_KEY (≥ 24 characters); every mistake in one ConfigError. */
export function metricsAccessFromEnv(env: NodeJS.ProcessEnv): MetricsAccess {
  const problems: ConfigProblem[] = [];
  const pub = env.METRICS_PUBLIC?.trim().toLowerCase() ?? '';
  if (!['', 'true', 'false', '1', '0'].includes(pub)) problems.push(configProblem('env.boolean', { name: 'METRICS_PUBLIC' }));
  const key = env.METRICS_API_KEY?.trim() ?? '';
  if (key && (key.length < 24 || key.length > 512 || /\s/.test(key))) {
    problems.push(configProblem('env.metrics-key'));
  }
  if (problems.length) throw new ConfigError(problems);
  return { public: pub === 'true' || pub === '1', ...(key ? { keyHash: hashApiKey(key) } : {}) };
}

const BEARER_RE = /^Bearer\s+(\S{8,512})\s*$/i;

export function metricsRouter(deps: MetricsRouterDeps): Router {
  const router = Router();
  if (deps.public) deps.logger?.warn('GET /metrics is served without an API key (METRICS_PUBLIC=true): expose this port only on a private network');
  const auth = authenticate(deps);
  const scrapeKey = deps.keyHash ? Buffer.from(deps.keyHash, 'hex') : undefined;
  const guard: RequestHandler = (req, res, next) => {
    if (deps.public) return next();
    if (scrapeKey) {
      const header = req.get('authorization');
      const xKey = req.headers['x-api-key'];
      const key = header ? BEARER_RE.exec(header)?.[1] : typeof xKey === 'string' ? xKey.trim() : undefined;
      if (key && timingSafeEqual(Buffer.from(hashApiKey(key), 'hex'), scrapeKey)) return next();
    }
    auth(req, res, (err?: unknown) => (err ? next(err) : requireAdmin(req, res, next)));
  };
  router
    .route('/metrics')
    .get(guard, async (_req: Request, res: Response) => {
      const text = await deps.metrics.metrics();
      res.status(200).set('Cache-Control', 'no-store').type(deps.metrics.contentType).send(text);
    })
    .all(methodNotAllowed(['GET']));
  return router;
}
