// Structured logs (pino) that never carry NIK, names, phone numbers, addresses or secrets.
// Two layers: pino `redact` paths for the usual shapes (fast, fixed depth), and a deep scrub in `formatters.log`
// that catches sensitive keys at any depth plus long digit runs (NIK, phone, IHS numbers) inside any string.
import { pino, stdSerializers, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { emptyTable } from './own.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Defaults to `LOG_LEVEL`, else `info`. */
  level?: LevelWithSilent | string;
  /** Where lines go (tests pass a capture stream); defaults to stdout. */
  destination?: DestinationStream;
  name?: string;
}

/** Keys whose values are personal data or secrets, compared case-insensitively with `-` and `_` removed. */
const SENSITIVE_KEYS = [
  'nik', 'motherNik', 'nikIbu', 'ihsNumber', 'name', 'given', 'family', 'phone', 'telecom', 'address', 'birthDate',
  'identifier', 'email', 'clientSecret', 'secret', 'password', 'apiKey', 'accessToken', 'refreshToken', 'token',
  'authorization', 'proxyAuthorization', 'cookie', 'setCookie', 'xApiKey',
];
const normalizeKey = (k: string): string => k.replace(/[-_]/g, '').toLowerCase();
const SENSITIVE = new Set(SENSITIVE_KEYS.map(normalizeKey));
export const isSensitiveKey = (key: string): boolean => SENSITIVE.has(normalizeKey(key));

/** Request/response bodies are never logged, whatever they contain. */
const BODY_KEYS = new Set(['body', 'rawBody', 'payload', 'record', 'records', 'resource', 'bundle']);

export const CENSOR = '[REDACTED]';
// 10+ consecutive digits: NIK (16), phone numbers, IHS numbers (P + 11 digits).
const DIGIT_RUN = /\+?\d{10,}/g;
const MAX_DEPTH = 12;

/** Masks long digit runs and quoted fragments (JSON.parse and similar errors echo input inside quotes). */
export function scrubText(text: string): string {
  return text.replace(DIGIT_RUN, CENSOR).replace(/"[^"]{0,200}"/g, '"…"');
}

function scrubValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return DIGIT_RUN.test(value) ? value.replace(DIGIT_RUN, CENSOR) : value;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value; // the err serializer scrubs it
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((v) => scrubValue(v, depth + 1, seen));
  } else {
    // No prototype: a logged key `__proto__` stays a key instead of replacing the copy's prototype.
    const o = emptyTable<unknown>();
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (isSensitiveKey(k)) o[k] = CENSOR;
      else if (BODY_KEYS.has(k)) o[k] = omitted(v);
      else o[k] = scrubValue(v, depth + 1, seen);
    }
    out = o;
  }
  seen.delete(value);
  return out;
}

function omitted(v: unknown): string {
  if (v === undefined || v === null) return String(v);
  if (Array.isArray(v)) return `[omitted: array of ${v.length}]`;
  if (typeof v === 'object') return '[omitted: object]';
  return '[omitted]';
}

/** Deep copy of `obj` with sensitive keys censored at any depth, bodies omitted and long digit runs masked. */
export function scrubForLog<T>(obj: T): T {
  return scrubValue(obj, 0, new WeakSet()) as T;
}

// pino redact paths for the common shapes, up to three levels deep and inside arrays one level down.
function redactPaths(): string[] {
  const keys = ['nik', 'motherNik', 'nikIbu', 'ihsNumber', 'name', 'phone', 'telecom', 'address', 'birthDate', 'identifier',
    'clientSecret', 'client_secret', 'secret', 'password', 'apiKey', 'api_key', 'access_token', 'accessToken', 'refresh_token', 'token'];
  const paths: string[] = [];
  // Top-level `name` is pino's logger name (a binding, which redact also applies to); the deep scrub covers it in log objects.
  for (const k of keys) paths.push(...(k === 'name' ? [] : [k]), `*.${k}`, `*.*.${k}`, `*.*.*.${k}`, `*[*].${k}`, `*.*[*].${k}`);
  for (const h of ['authorization', 'cookie', 'x-api-key', 'proxy-authorization', 'set-cookie']) {
    paths.push(`headers["${h}"]`, `req.headers["${h}"]`, `res.headers["${h}"]`, `request.headers["${h}"]`);
  }
  return paths;
}

/** Request: method, path (never the query string: it may carry identifiers), id; no headers, no body. */
function reqSerializer(req: unknown): unknown {
  if (!req || typeof req !== 'object') return req;
  const r = req as { method?: string; path?: string; url?: string; originalUrl?: string; id?: unknown };
  const url = r.originalUrl ?? r.url ?? r.path ?? '';
  return { method: r.method, path: scrubText(String(url).split('?')[0] ?? ''), id: r.id };
}

function resSerializer(res: unknown): unknown {
  if (!res || typeof res !== 'object') return res;
  return { statusCode: (res as { statusCode?: number }).statusCode };
}

/** Errors keep type, code and stack frames; their messages are scrubbed (libraries echo input into messages). */
function errSerializer(err: unknown): unknown {
  if (!(err instanceof Error)) return scrubForLog(err);
  const s = stdSerializers.err(err) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { type: s.type, message: scrubText(String(s.message ?? '')) };
  if (typeof s.stack === 'string') {
    // Drop the first line (it repeats the message); keep the frames.
    out.stack = s.stack.split('\n').filter((l) => /^\s+at /.test(l)).join('\n');
  }
  for (const k of ['code', 'status', 'statusCode', 'type']) {
    const v = (err as unknown as Record<string, unknown>)[k];
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  }
  return out;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const options = {
    name: opts.name ?? 'ilp-adapter',
    level,
    // ISO 8601 in UTC ("time":"2026-12-02T01:50:00.123Z"): readable by a person and by every log store, unlike epoch ms.
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: CENSOR },
    serializers: { req: reqSerializer, request: reqSerializer, res: resSerializer, err: errSerializer, error: errSerializer },
    formatters: { log: (obj: Record<string, unknown>) => scrubForLog(obj) },
    hooks: {
      // Scrub digit runs in message strings too (a NIK interpolated into a message by mistake).
      logMethod(this: PinoLogger, args: unknown[], method: (...a: unknown[]) => void) {
        // `log.error(err)` would use err.message verbatim as msg: give it a scrubbed one.
        if (args[0] instanceof Error && typeof args[1] !== 'string') args = [{ err: args[0] }, scrubText(args[0].message), ...args.slice(1)];
        method.apply(this, args.map((a) => (typeof a === 'string' ? a.replace(DIGIT_RUN, CENSOR) : a)));
      },
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
