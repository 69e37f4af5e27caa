// The operators' query endpoints (use cases in src/app/): what is there, page by page, as JSON.
//   GET /ilp/visits?state=&setting=&locationCode=&from=&to=&updatedSince=&q=&_count=&cursor=&organization=
//   (mounted by visits.ts on its /ilp/visits route). A facility key sees its own organization only; the admin key every
//   one (`organization=` narrows). Bad parameters: 400 OperationOutcome at the parameter.
import type { Request, RequestHandler, Response } from 'express';
import { negotiateLocale, type Locale } from '../i18n/index.js';
import type { Store } from '../store/types.js';
import { QueryParameterError, type RawParams } from '../app/params.js';
import { listVisits, type Page, type Scope } from '../app/visits.js';
import { httpError } from './errors.js';
import { principalOf, type Principal } from './auth.js';

export interface QueryRouteDeps {
  store: Store;
  clock: () => Date;
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
