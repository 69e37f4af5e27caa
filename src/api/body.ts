// Request bodies: JSON only, read through a streaming guard so that size and shape limits hold before any tree is
// built (issue 10). Split from errors.ts, which turns what this rejects into OperationOutcomes.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { OperationOutcomeError } from '../validation/outcome.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../util/json-limits.js';
import { JsonStreamGuard } from '../util/json-stream-guard.js';
import { apiError, JSON_TYPES } from './errors.js';
import { messageIssue } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';

export interface BodyLimits extends JsonLimits {
  /** Largest accepted body in bytes (after Content-Encoding is undone). */
  bodyBytes: number;
}
/** A facility's batch ingest (`POST /ilp/visits` with an API key): up to INGEST_MAX_RECORDS visits in one body. */
export const DEFAULT_BODY_LIMITS: BodyLimits = { bodyBytes: 5 * 1024 * 1024, ...DEFAULT_JSON_LIMITS };
/**
 * Every other body, in particular the unauthenticated `$validate` and `$map`: anyone who reaches the port can send
 * these, so they get a smaller budget. A 10,000-entry Bundle of small resources still fits.
 */
export const OPEN_BODY_LIMITS: BodyLimits = { bodyBytes: 2 * 1024 * 1024, maxDepth: 32, maxArrayLength: 10_000, maxNodes: 250_000, maxObjectKeys: 500 };

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
}

/** Content-Encoding (a request header) → decoder: a Map, so no header value can reach a prototype key. */
const DECODERS: ReadonlyMap<string, () => Transform> = new Map([
  ['gzip', () => zlib.createGunzip()],
  ['x-gzip', () => zlib.createGunzip()],
  ['deflate', () => zlib.createInflate()],
  ['br', () => zlib.createBrotliDecompress()],
]);

/** Bytes of the body as read (after decoding), for handlers that choose where to run by size (res.locals.bodyBytes). */
export const bodyBytesOf = (res: Response): number => (typeof res.locals.bodyBytes === 'number' ? res.locals.bodyBytes : 0);

/**
 * Reads a JSON body through a JsonStreamGuard: the size, nesting, array, member and value limits are enforced on the
 * bytes as they arrive, and the read stops at the first violation (413 for size, 400 `too-costly` for shape) without
 * buffering the rest or building a tree. Only a body that passed is handed to JSON.parse.
 */
function readGuardedJson(req: Request, res: Response, limits: BodyLimits, next: NextFunction): void {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (Number.isFinite(declared) && declared > limits.bodyBytes && (encoding === 'identity' || encoding === '')) {
    return stopReading(req, res, next, tooLarge());
  }
  let source: NodeJS.ReadableStream = req;
  if (encoding !== 'identity' && encoding !== '') {
    const make = DECODERS.get(encoding);
    if (!make) return stopReading(req, res, next, apiError(415, 'not-supported', 'body.encoding'));
    const decoder = make();
    decoder.on('error', () => finish(apiError(400, 'structure', 'body.undecodable')));
    source = req.pipe(decoder);
  }
  const guard = new JsonStreamGuard(limits);
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const finish = (err?: unknown): void => {
    if (done) return;
    done = true;
    source.removeListener('data', onData);
    if (err) return stopReading(req, res, next, err);
    next();
  };
  const onData = (chunk: Buffer): void => {
    if (done) return;
    size += chunk.length;
    if (size > limits.bodyBytes) return finish(tooLarge());
    const v = guard.write(chunk);
    if (v) {
      const { key, params } = v.ref!;
      return finish(v.kind === 'syntax'
        ? new OperationOutcomeError(400, [messageIssue('error', 'structure', key, params)])
        : apiError(400, 'too-costly', 'body.too-costly', { ...params, '@why': key }, v.path));
    }
    chunks.push(chunk);
  };
  source.on('data', onData);
  source.on('end', () => {
    if (done) return;
    res.locals.bodyBytes = size;
    let text = Buffer.concat(chunks, size).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return finish();
    try {
      req.body = JSON.parse(text);
    } catch {
      return finish(apiError(400, 'structure', 'body.not-json'));
    }
    finish();
  });
  req.on('aborted', () => finish(apiError(400, 'incomplete', 'body.incomplete')));
  req.on('error', () => finish(apiError(400, 'incomplete', 'body.incomplete')));
}

const tooLarge = (): OperationOutcomeError => apiError(413, 'too-costly', 'body.too-large');

/** After refusing a body, what is still arriving is discarded up to this much, or this long, then the socket is cut. */
const LINGER_BYTES = 256 * 1024;
const LINGER_MS = 2_000;

/**
 * Answers without parsing the rest of a refused body. Cutting the socket at once would make the kernel answer the
 * client's pending bytes with a reset, and the client would lose the OperationOutcome: instead the rest is discarded
 * unparsed for a bounded number of bytes and time (a lingering close), then the socket is cut, so a client streaming
 * megabytes of hostile JSON costs at most LINGER_BYTES more than the bytes already checked.
 */
function stopReading(req: Request, res: Response, next: NextFunction, err: unknown): void {
  req.unpipe();
  req.pause();
  res.once('finish', () => linger(req));
  next(err);
}

function linger(req: Request): void {
  if (req.complete) return;
  let discarded = 0;
  const cut = (): void => {
    clearTimeout(timer);
    req.socket.destroy();
  };
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/**
 * Body parsing for every route: 415 unless the body is JSON (`application/fhir+json` or `application/json`) in UTF-8,
 * then a guarded read (readGuardedJson) with `limitsFor(req)`. Requests without a body pass with `req.body` undefined.
 */
/** The limits for a request: the batch budget for `POST /ilp/visits` carrying an API key, the open budget otherwise. */
export function bodyLimitsFor(batch: BodyLimits, open: BodyLimits): (req: Request) => BodyLimits {
  return (req) => {
    // The key is checked later by the route (401); a key header alone only buys the bounded batch budget.
    const keyed = req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined;
    return req.method === 'POST' && req.path === '/ilp/visits' && keyed ? batch : open;
  };
}

export function jsonBody(limitsFor: (req: Request) => BodyLimits): RequestHandler {
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    if (!req.is(JSON_TYPES)) {
      const given: Params = req.headers['content-type'] ? { given: `'${String(req.headers['content-type']).split(';')[0]?.slice(0, 80)}'` } : { '@given': 'source.none' };
      return stopReading(req, res, next, apiError(415, 'not-supported', 'body.content-type', { ...given, accepted: JSON_TYPES.join(', ') }));
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(req.headers['content-type']))?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return stopReading(req, res, next, apiError(415, 'not-supported', 'body.charset'));
    }
    readGuardedJson(req, res, limitsFor(req), next);
  };
}

