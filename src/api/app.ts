// The Express app: one place that wires routers and wraps every route (ours and those mounted later by the
// ingest/sync modules) in the same guarantees — JSON-only bodies with size/shape limits, 404/405/406 as
// OperationOutcomes, an access log without PII, and a final handler that never leaks a stack or a body.
import express, { type Router } from 'express';
import { randomUUID } from 'node:crypto';
import { mapVisit, type MappingTables } from '../mapping/index.js';
import type { Validator } from '../validation/index.js';
import { createLogger, type Logger } from '../util/logger.js';
import { errorHandler, notFound, requireJsonAccept } from './errors.js';
import { bodyLimitsFor, DEFAULT_BODY_LIMITS, jsonBody, OPEN_BODY_LIMITS, type BodyLimits } from './body.js';
import { fhirRouter } from './fhir.js';
import { DEFAULT_OPEN_ENDPOINT_LIMITS, OPEN_ENDPOINT_PATHS, perAddressLimits, type OpenEndpointLimits } from './open-limits.js';
import type { ValidationPool } from './validation-pool.js';
import { healthRouter, type ReadinessCheck } from './health.js';
import { mapRouter, type Mapper } from './map.js';
import { buildCapabilityStatement, metadataRouter, type CapabilityContribution } from './metadata.js';

export interface MountedRouter {
  /** Mount path, e.g. '/' or '/sync'. Routers should end each route with `.all(methodNotAllowed([...]))`. */
  path: string;
  router: Router;
  /** What the router adds to the CapabilityStatement. */
  capability?: CapabilityContribution;
}

export interface AppDeps {
  validator: Validator;
  tables: MappingTables;
  /** Time source for validation and mapping (tests pin it). */
  clock?: () => Date;
  logger?: Logger;
  /** Extra routers (issue 4: visits ingest, sync), mounted behind the same body parsing and error handling. */
  routers?: MountedRouter[];
  /** Body limits of a facility's batch ingest (POST /ilp/visits with an API key). */
  limits?: Partial<BodyLimits>;
  /** Body limits of every other route, in particular the unauthenticated $validate and $map. */
  openLimits?: Partial<BodyLimits>;
  /** Worker threads for large $validate payloads (absent ⇒ all inline). */
  pool?: ValidationPool;
  /** Per-client-address rate and concurrency on $validate and $map (before their bodies are read). */
  perAddress?: OpenEndpointLimits;
  /** Extra readiness checks for GET /ready (e.g. the store). */
  readiness?: ReadinessCheck[];
  /** GET /metrics (src/api/metrics.ts): mounted before the JSON-only Accept guard, since a scraper asks for text. */
  metricsRouter?: Router;
  /** Routers that answer HTML and read their own bodies (the operator console): mounted before the JSON-only guards. */
  htmlRouters?: Router[];
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export function createApp(deps: AppDeps): express.Express {
  const clock = deps.clock ?? (() => new Date());
  const logger = deps.logger ?? createLogger();
  const limits: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...deps.limits };
  const openLimits: BodyLimits = { ...OPEN_BODY_LIMITS, ...deps.openLimits };
  const tables = deps.tables;
  const mapper: Mapper = (record, now) => mapVisit(record, tables, { now });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // responses are computed per request; hashing them buys nothing
  app.set('query parser', 'simple'); // no nested objects from query strings

  // Request id (echoed) and one access-log line per request: method, path without query, status, duration.
  app.use((req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && REQUEST_ID_RE.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.set('X-Request-Id', id);
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      logger.info({ req: { method: req.method, path: req.path, id }, status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
    });
    next();
  });
  if (deps.metricsRouter) app.use(deps.metricsRouter);
  for (const r of deps.htmlRouters ?? []) app.use(r);
  app.use(requireJsonAccept);
  app.use(OPEN_ENDPOINT_PATHS, perAddressLimits(deps.perAddress ?? DEFAULT_OPEN_ENDPOINT_LIMITS));
  app.use(jsonBody(bodyLimitsFor(limits, openLimits)));

  app.use(healthRouter(deps.readiness ?? [], clock()));
  const types = {
    all: deps.validator.resourceTypes,
    // '*' marks rules that apply to every type (URI schemes); it is not a resource type to advertise.
    profiled: [...new Set(['Bundle', ...deps.validator.rules.filter((r) => r.layer !== 'base-r4' && r.resourceType !== '*').map((r) => r.resourceType)])],
  };
  const contributions = (deps.routers ?? []).flatMap((r) => (r.capability ? [r.capability] : []));
  app.use(metadataRouter(buildCapabilityStatement(clock(), types, contributions)));
  app.use(fhirRouter({ validator: deps.validator, clock, ...(deps.pool ? { pool: deps.pool } : {}) }));
  app.use(mapRouter({ validator: deps.validator, mapper, clock, logger }));
  for (const r of deps.routers ?? []) app.use(r.path, r.router);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
