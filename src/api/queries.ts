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
import type { FacilityConfig } from '../platform/types.js';
import { describeFacility } from '../config/facilities.js';
import { apiError, CSV_FORMATS, FHIR_JSON, httpError, methodNotAllowed } from './errors.js';
import { FACILITY_COLUMNS, REJECTION_COLUMNS, toCsv, VISIT_COLUMNS, type Column } from '../app/csv.js';
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

/**
 * Runs a use case, turning a bad parameter into a 400 (403) at that parameter, said in the caller's language; an async
 * use case's rejection is turned the same way.
 */
export function answering<T>(req: Request, run: () => T): T {
  const translate = (e: unknown): unknown =>
    e instanceof QueryParameterError ? httpError(e.status, e.status === 403 ? 'forbidden' : 'value', e.text(localeOf(req)), e.parameter) : e;
  try {
    const out = run();
    return (out instanceof Promise ? out.catch((e: unknown) => Promise.reject(translate(e))) : out) as T;
  } catch (e) {
    throw translate(e);
  }
}

/** Whether the caller asked for CSV: `?_format=csv` (or text/csv), or an Accept header preferring text/csv to JSON. */
export function wantsCsv(req: Request): boolean {
  const format = typeof req.query._format === 'string' ? req.query._format.split(';')[0]!.trim() : undefined;
  if (format !== undefined) return CSV_FORMATS.includes(format);
  return !!req.headers.accept && req.accepts(['application/json', FHIR_JSON, 'text/csv']) === 'text/csv';
}

/** The list parameters without `_format` (a response format, not a filter). */
export function listParams(req: Request): RawParams {
  const { _format: _ignored, ...params } = req.query as Record<string, unknown>;
  return params;
}

/**
 * A page as JSON, or as CSV with a header row (`name`.csv as attachment); the CSV's next page is in the
 * `X-Next-Cursor` header (pass it back as `cursor`).
 */
export function sendPage<T extends object>(req: Request, res: Response, page: Page<T>, columns: readonly Column<T>[], name: string): void {
  res.vary('Accept-Language').vary('Accept');
  if (!wantsCsv(req)) {
    res.status(200).json(page);
    return;
  }
  if (page.nextCursor) res.set('X-Next-Cursor', page.nextCursor);
  res.status(200).type('text/csv; charset=utf-8').set('Content-Disposition', `attachment; filename="${name}.csv"`).send(toCsv(columns, page.items));
}

export function visitListHandler(deps: QueryRouteDeps): RequestHandler {
  return async (req, res) => {
    const page = await answering(req, () => listVisits({ store: deps.store, now: () => deps.clock().getTime() }, scopeOf(principalOf(res)), listParams(req), localeOf(req)));
    sendPage(req, res, page, VISIT_COLUMNS, 'visits');
  };
}

export interface QueriesRouterDeps extends AuthDeps, QueryRouteDeps {
  facilities: readonly FacilityConfig[];
}

export function queriesRouter(deps: QueriesRouterDeps): Router {
  const router = Router();
  const auth = authenticate(deps);
  const queryDeps = { store: deps.store, now: () => deps.clock().getTime() };
  const overviewDeps: FacilityOverviewDeps = {
    ...queryDeps,
    configured: new Map(deps.facilities.map((f) => [f.organizationId, describeFacility(f)])),
  };

  router.route('/ilp/rejections').get(auth, async (req, res) => {
    sendPage(req, res, await answering(req, () => listRejections(queryDeps, scopeOf(principalOf(res)), listParams(req), localeOf(req))), REJECTION_COLUMNS, 'rejections');
  }).all(methodNotAllowed(['GET']));

  router.route('/ilp/facilities').get(auth, requireAdmin, async (req, res) => {
    answering(req, () => onlyKnown(listParams(req), []));
    sendPage(req, res, { items: await facilityOverviews(overviewDeps, { all: true }, localeOf(req)) }, FACILITY_COLUMNS, 'facilities');
  }).all(methodNotAllowed(['GET']));

  router.route('/ilp/facilities/:organizationId').get(auth, async (req, res) => {
    answering(req, () => onlyKnown(listParams(req), []));
    const view = await facilityOverview(overviewDeps, scopeOf(principalOf(res)), String(req.params.organizationId), localeOf(req));
    if (!view) throw apiError(404, 'not-found', 'facilities.not-found');
    res.vary('Accept-Language').status(200).json(view);
  }).all(methodNotAllowed(['GET']));
  return router;
}
