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

export const FHIR_JSON = 'application/fhir+json';
/** Media types accepted for request bodies. */
export const JSON_TYPES = [FHIR_JSON, 'application/json'];

/** Sends a FHIR resource as `application/fhir+json`. */
export function sendResource(res: Response, status: number, resource: Resource | object, headers: Record<string, string> = {}): void {
  res.status(status).set(headers).type(FHIR_JSON).send(JSON.stringify(resource));
}

export function sendOutcome(res: Response, status: number, issues: Issue[]): void {
  sendResource(res, status, toOperationOutcome(issues));
}

/** Shorthand for throwing an OperationOutcomeError with one issue. */
export function httpError(status: number, code: Issue['code'], diagnostics: string, expression?: string): OperationOutcomeError {
  return new OperationOutcomeError(status, [issue(status >= 500 ? 'fatal' : 'error', code, diagnostics, expression)]);
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
    return next(httpError(406, 'not-supported', `_format '${format.slice(0, 40)}' is not supported: this server speaks JSON only${mayAnswerCsv(req) ? ' (and CSV here)' : ''}`));
  }
  if (req.headers.accept && !req.accepts([FHIR_JSON, 'application/json', 'application/json+fhir', ...(mayAnswerCsv(req) ? ['text/csv'] : [])])) {
    return next(httpError(406, 'not-supported', `Not acceptable: this server responds with ${FHIR_JSON} only`));
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
    next(httpError(405, 'not-supported', `Method ${req.method} is not allowed on ${shownPath(req.path)}; allowed: ${allow}`));
  };
}

/** The request body as a JSON object, or a 400 saying what is missing. */
export function requireObjectBody(req: Request, what: string): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined) throw httpError(400, 'required', `The request has no body: send ${what} as JSON`);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw httpError(400, 'structure', `The body must be ${what} (a JSON object), not ${Array.isArray(body) ? 'an array' : typeof body}`);
  }
  return body as Record<string, unknown>;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(httpError(404, 'not-found', `No route for ${req.method} ${shownPath(req.path)}`));
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
      return { status: 413, issue: issue('error', 'too-costly', 'The request body is larger than this server accepts') };
    case 'entity.parse.failed':
      return { status: 400, issue: issue('error', 'structure', 'The request body is not valid JSON (expected a JSON object)') };
    case 'encoding.unsupported':
      return { status: 415, issue: issue('error', 'not-supported', 'Unsupported Content-Encoding: send identity, gzip, deflate or br') };
    case 'charset.unsupported':
      return { status: 415, issue: issue('error', 'not-supported', 'Unsupported charset: send UTF-8') };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return { status: 400, issue: issue('error', 'incomplete', 'The request body could not be read completely') };
    default:
      return { status, issue: issue('error', status === 404 ? 'not-found' : 'processing', `The request could not be processed (HTTP ${status})`) };
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
      sendOutcome(res, 503, [issue('fatal', err.fault === 'busy' ? 'lock-error' : 'no-store',
        `The service cannot use its database: ${err.message.replace(/^storage failure: /, '')}; nothing from this request was stored, send it again later`)]);
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
    sendOutcome(res, 500, [issue('fatal', 'exception', `Internal error; the incident was logged with id ${incident}`)]);
  };
}
