// The operators' query endpoints (use cases in src/app/): what is there, page by page, as JSON.
//   GET /ilp/visits?state=&setting=&locationCode=&from=&to=&updatedSince=&q=&_count=&cursor=&organization=
//   (mounted by visits.ts on its /ilp/visits route)
//   GET /ilp/rejections?since=&until=&q=&_count=&cursor=&organization=   records refused at push (issues, no content)
//   GET /ilp/facilities (admin) · GET /ilp/facilities/{organizationId} (own key or admin)
// A facility key sees its own organization only; the admin key every one (`organization=` narrows). Bad parameters:
// 400 OperationOutcome at the parameter; another facility's overview answers 404 like a missing one.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { negotiateLocale, type Locale } from '../i18n/index.js';
import type { Store } from '../store/types.js';
import { QueryParameterError, type RawParams } from '../app/params.js';
import { listVisits, type Page, type Scope } from '../app/visits.js';
import { listRejections } from '../app/rejections.js';
import { facilityOverview, facilityOverviews, type FacilityOverviewDeps } from '../app/facilities.js';
import { onlyKnown } from '../app/params.js';
import type { QuotaUse } from '../app/quota.js';
import type { FacilityConfig } from '../platform/types.js';
import { describeFacility } from '../config/facilities.js';
import { httpError, methodNotAllowed } from './errors.js';
import { authenticate, principalOf, requireAdmin, type AuthDeps, type Principal } from './auth.js';

export interface QueryRouteDeps {
  store: Store;
  clock: () => Date;
}

/**
 * Routes that take a visitId end in this wildcard: a visitId may hold '/' (register numbers such as 2026/10/0001), sent
 * either as %2F or as a raw '/'; both reach the same visit (see visitIdOf).
 */
export const VISIT_ID_SEGMENTS = '*visitId';

/** The visitId of a VISIT_ID_SEGMENTS route: its decoded segments joined by '/'. */
export function visitIdOf(req: Request): string {
  const v: unknown = req.params.visitId;
  return Array.isArray(v) ? v.join('/') : String(v);
}

export const scopeOf = (p: Principal): Scope => (p.role === 'admin' ? { all: true } : { organizationId: p.organizationId! });

export const localeOf = (req: Request): Locale => negotiateLocale(req.get('accept-language'));

/** Runs a use case, turning a bad parameter into a 400 at that parameter. */
export function answering<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof QueryParameterError) throw httpError(e.status, e.status === 403 ? 'forbidden' : 'value', e.message, e.parameter);
    throw e;
  }
}

export function sendPage(res: Response, page: Page<object>): void {
  res.vary('Accept-Language').status(200).json(page);
}

export function visitListHandler(deps: QueryRouteDeps): RequestHandler {
  return (req, res) => {
    const page = answering(() => listVisits({ store: deps.store, now: () => deps.clock().getTime() }, scopeOf(principalOf(res)), req.query as RawParams, localeOf(req)));
    sendPage(res, page);
  };
}

export interface QueriesRouterDeps extends AuthDeps, QueryRouteDeps {
  facilities: readonly FacilityConfig[];
  /** This process's platform quota use of a facility over the last hour (src/app/quota.ts). */
  quota?: (organizationId: string) => QuotaUse | undefined;
}

export function queriesRouter(deps: QueriesRouterDeps): Router {
  const router = Router();
  const auth = authenticate(deps);
  const queryDeps = { store: deps.store, now: () => deps.clock().getTime() };
  const overviewDeps: FacilityOverviewDeps = {
    ...queryDeps,
    configured: new Map(deps.facilities.map((f) => [f.organizationId, describeFacility(f)])),
    ...(deps.quota ? { quota: deps.quota } : {}),
  };

  router.route('/ilp/rejections').get(auth, (req, res) => {
    sendPage(res, answering(() => listRejections(queryDeps, scopeOf(principalOf(res)), req.query as RawParams)));
  }).all(methodNotAllowed(['GET']));

  router.route('/ilp/facilities').get(auth, requireAdmin, (req, res) => {
    answering(() => onlyKnown(req.query as RawParams, []));
    sendPage(res, { items: facilityOverviews(overviewDeps, { all: true }, localeOf(req)) });
  }).all(methodNotAllowed(['GET']));

  router.route('/ilp/facilities/:organizationId').get(auth, (req, res) => {
    answering(() => onlyKnown(req.query as RawParams, []));
    const view = facilityOverview(overviewDeps, scopeOf(principalOf(res)), String(req.params.organizationId), localeOf(req));
    if (!view) throw httpError(404, 'not-found', 'No facility with this organizationId is visible to this API key');
    res.vary('Accept-Language').status(200).json(view);
  }).all(methodNotAllowed(['GET']));
  return router;
}
