// HTTP in, OperationOutcome out: 404/405/406 and the final error handler (body parsing is in body.ts). Every
// route of the service (ours and routers mounted later) goes through these, so bad input
// never crashes the process and never yields a 500 or an HTML page, and no response or log echoes the body.
import type express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { issue, OperationOutcomeError, toOperationOutcome, type Issue } from '../validation/outcome.js';
import type { Logger } from '../util/logger.js';
import { StorageError } from '../store/storage-error.js';
import { messageIssue, localizeIssues } from '../i18n/issues.js';
import { negotiateLocale, type Locale, type Params } from '../i18n/index.js';

export const FHIR_JSON = 'application/fhir+json';
/** Media types accepted for request bodies. */
export const JSON_TYPES = [FHIR_JSON, 'application/json'];

/** Sends a FHIR resource as `application/fhir+json`. */
export function sendResource(res: Response, status: number, resource: Resource | object, headers: Record<string, string> = {}): void {
  res.status(status).set(headers).type(FHIR_JSON).send(JSON.stringify(resource));
}

/** The language the request asks for (Accept-Language; Bahasa Indonesia by default). */
export const requestLocale = (req: Request | undefined): Locale => negotiateLocale(req?.get('accept-language'));

/** Sends issues as an OperationOutcome, each said in the request's language (Accept-Language, default id) when it has a message. */
export function sendOutcome(res: Response, status: number, issues: Issue[]): void {
  res.vary('Accept-Language');
  sendResource(res, status, toOperationOutcome(localizeIssues(issues, requestLocale(res.req))));
}

/** Shorthand for throwing an OperationOutcomeError with one issue. */
export function httpError(status: number, code: Issue['code'], diagnostics: string, expression?: string): OperationOutcomeError {
  return new OperationOutcomeError(status, [issue(status >= 500 ? 'fatal' : 'error', code, diagnostics, expression)]);
}

/** An OperationOutcomeError with one issue said by message `api.<key>` (messages/api.json), in the caller's language when sent. */
export function apiError(status: number, code: Issue['code'], key: string, params: Params = {}, expression?: string): OperationOutcomeError {
  return new OperationOutcomeError(status, [messageIssue(status >= 500 ? 'fatal' : 'error', code, `api.${key}`, params, expression)]);
}

/** Lists that may also answer as CSV (`Accept: text/csv` or `?_format=csv`; see src/api/queries.ts). */
export const CSV_PATHS: ReadonlySet<string> = new Set(['/ilp/visits', '/ilp/rejections', '/ilp/facilities']);
export const CSV_FORMATS = ['csv', 'text/csv'];
const mayAnswerCsv = (req: Request) => req.method === 'GET' && CSV_PATHS.has(req.path.replace(/\/$/, ''));

/** 406 when the client accepts neither FHIR JSON nor JSON (FHIR XML is not offered), nor CSV where a list offers it. */
export const requireJsonAccept: RequestHandler = (req, _res, next) => {
  const format = typeof req.query._format === 'string' ? req.query._format : undefined;
  const formats = ['json', FHIR_JSON, 'application/json', ...(mayAnswerCsv(req) ? CSV_FORMATS : [])];
  if (format && !formats.includes(format.split(';')[0]?.trim() ?? '')) {
    return next(apiError(406, 'not-supported', mayAnswerCsv(req) ? 'format-not-supported-csv' : 'format-not-supported', { format: format.slice(0, 40) }));
  }
  if (req.headers.accept && !req.accepts([FHIR_JSON, 'application/json', 'application/json+fhir', ...(mayAnswerCsv(req) ? ['text/csv'] : [])])) {
    return next(apiError(406, 'not-supported', 'not-acceptable', { type: FHIR_JSON }));
  }
  next();
};

/** The path as it may appear in a message: digit runs (an id, a NIK, a phone number) masked, length bounded. */
const shownPath = (p: string): string => p.slice(0, 200).replace(/\d{5,}/g, '…');

/** Handler for the methods a path does not support: 405 with `Allow` (OPTIONS answers 204 with `Allow`). */
export function methodNotAllowed(allowed: string[]): RequestHandler {
  const allow = [...new Set([...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'])].join(', ');
  return (req, res, next) => {
    res.set('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next(apiError(405, 'not-supported', 'method-not-allowed', { method: req.method, path: shownPath(req.path), allow }));
  };
}

/** The request body as a JSON object, or a 400 saying what is missing; `what` is a message key (api.what.*) naming the expected body. */
export function requireObjectBody(req: Request, what: string): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined) throw apiError(400, 'required', 'body.missing', { '@what': what });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw apiError(400, 'structure', 'body.not-object', { '@what': what, ...(Array.isArray(body) ? { '@actual': 'api.body.actual.array' } : { actual: typeof body }) });
  }
  return body as Record<string, unknown>;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(apiError(404, 'not-found', 'no-route', { method: req.method, path: shownPath(req.path) }));
};

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/** Maps body-parser / http-errors failures to content-free diagnostics (their messages can echo the body). */
function fromHttpError(err: HttpLikeError): { status: number; issue: Issue } | undefined {
  const status = err.status ?? err.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  switch (err.type) {
    case 'entity.too.large':
      return { status: 413, issue: messageIssue('error', 'too-costly', 'api.body.too-large') };
    case 'entity.parse.failed':
      return { status: 400, issue: messageIssue('error', 'structure', 'api.body.not-json') };
    case 'encoding.unsupported':
      return { status: 415, issue: messageIssue('error', 'not-supported', 'api.body.encoding') };
    case 'charset.unsupported':
      return { status: 415, issue: messageIssue('error', 'not-supported', 'api.body.charset') };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return { status: 400, issue: messageIssue('error', 'incomplete', 'api.body.incomplete') };
    default:
      return { status, issue: messageIssue('error', status === 404 ? 'not-found' : 'processing', 'api.http.other', { status }) };
  }
}

/** Retry-After for storage faults that clear by themselves (space freed, lock released) and for those that need an operator. */
export const STORAGE_RETRY_AFTER_S = 30;
export const STORAGE_OPERATOR_RETRY_AFTER_S = 300;

/**
 * Final error handler: StorageError → 503 with Retry-After; OperationOutcomeError → its status; parser errors → 4xx; anything else → 500 with an
 * OperationOutcome that names only a correlation id (no stack, no message, no PII), logged with that id.
 */
export function errorHandler(logger: Logger): express.ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      // Too late for an outcome; let Express close the connection.
      next(err);
      return;
    }
    if (err instanceof OperationOutcomeError) {
      if (err.status >= 500) logger.error({ req, err, status: err.status }, 'request failed');
      sendOutcome(res, err.status, err.issues);
      return;
    }
    if (err instanceof StorageError) {
      // Nothing was committed (every store write is one transaction): the client may send the same request again.
      logger.error({ req, code: err.code, fault: err.fault, retryable: err.retryable }, 'storage failure');
      res.set('Retry-After', String(err.retryable ? STORAGE_RETRY_AFTER_S : STORAGE_OPERATOR_RETRY_AFTER_S));
      sendOutcome(res, 503, [messageIssue('fatal', err.fault === 'busy' ? 'lock-error' : 'no-store', 'api.storage', err.ref.params)]);
      return;
    }
    const mapped = err && typeof err === 'object' ? fromHttpError(err as HttpLikeError) : undefined;
    if (mapped) {
      logger.debug({ req, status: mapped.status, kind: (err as HttpLikeError).type }, 'request rejected');
      sendOutcome(res, mapped.status, [mapped.issue]);
      return;
    }
    const incident = randomUUID();
    logger.error({ req, err, incident }, 'unexpected error');
    sendOutcome(res, 500, [messageIssue('fatal', 'exception', 'api.internal', { incident })]);
  };
}
