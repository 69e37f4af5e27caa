// Turns anything that can go wrong in a platform call into a PlatformError the retry policy can act on.
// The platform's bodies are parsed defensively: `severity: "invalid"`, text/plain gateway pages, Apigee faults, non-FHIR JSON.
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { messageExtension, ruleNumberOf, type MessageRef } from '../validation/outcome.js';
import { PlatformError, type PlatformErrorKind } from './types.js';

/** Rules that mean "this credential/organization may not do this": a facility configuration error, not a record error. */
export const FORBIDDEN_RULES: ReadonlySet<string> = new Set(['20003', '20004', '10117']);
export const DUPLICATE_RULE = '20002';
export const NOT_FOUND_RULE = '20007';

export const DEFAULT_RETRY_AFTER_MS = 60_000;
/** A Retry-After beyond this is clamped: a misconfigured gateway must not pause a facility for days. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;
const MAX_TEXT = 500;

const SEVERITIES = new Set(['fatal', 'error', 'warning', 'information']);
// NIK and KK numbers are 16 digits; the platform itself masks them as 16 '#'.
const SIXTEEN_DIGITS = /(?<!\d)\d{16}(?!\d)/g;
const URL_QUERY = /(https?:\/\/[^\s?#"']+)\?[^\s#"']*/g;

export interface ClassifyContext {
  /** Values that must not survive into any message (the NIK searched for, the client secret, the token). */
  redact?: readonly string[];
  now?: () => number;
  defaultRetryAfterMs?: number;
  /** Per-request timeout, to say so in the outcome of an aborted request. */
  timeoutMs?: number;
}

/** Removes secrets, NIK-like numbers and URL query strings from a text we did not write. */
export function redactText(text: string, redact: readonly string[] = []): string {
  let out = text;
  for (const secret of redact) if (secret && secret.length >= 4) out = out.split(secret).join('***');
  out = out.replace(URL_QUERY, '$1?…').replace(SIXTEEN_DIGITS, '################');
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT)}…` : out;
}

/** Retry-After as delay-seconds or HTTP-date → milliseconds (clamped to [0, MAX_RETRY_AFTER_MS]); undefined if absent/unparseable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (!v) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Math.round(Number(v) * 1000);
  else {
    // An HTTP-date names a month; a bare "-3" would otherwise parse as the year -3.
    if (!/[A-Za-z]{3}/.test(v)) return undefined;
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

function issueTypeFor(kind: PlatformErrorKind): OperationOutcomeIssue['code'] {
  switch (kind) {
    case 'auth': return 'login';
    case 'forbidden': return 'forbidden';
    case 'not-found': return 'not-found';
    case 'duplicate': return 'duplicate';
    case 'rate-limited': return 'throttled';
    case 'transient': return 'transient';
    default: return 'processing';
  }
}

function textOf(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v : undefined;
}

type JsonObject = Record<string, unknown>;
const objectOf = (v: unknown): JsonObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined);

/**
 * Best-effort message out of a non-FHIR JSON error body: Apigee `{fault:{faultstring,detail:{errorcode}}}`,
 * `{success:false,message}`, `{error, error_description}`, KYC `{metadata:{code,message},data:{error}}`.
 */
function messageOfJson(o: JsonObject): string | undefined {
  const fault = objectOf(o.fault);
  if (fault) {
    const faultText = textOf(fault.faultstring);
    const errorcode = textOf(objectOf(fault.detail)?.errorcode);
    if (faultText || errorcode) return [faultText, errorcode && `(${errorcode})`].filter(Boolean).join(' ');
  }
  const data = objectOf(o.data);
  const metadata = objectOf(o.metadata);
  return (
    textOf(o.message) ?? textOf(o.error_description) ?? textOf(o.error) ?? textOf(o.detail) ??
    textOf(data?.message) ?? textOf(data?.error) ?? textOf(metadata?.message) ?? undefined
  );
}

/** KYC-style endpoints answer HTTP 200 with the real status as a string in `metadata.code` ("400"). */
function embeddedStatusOf(body: unknown): number | undefined {
  const code = objectOf(objectOf(body)?.metadata)?.code;
  const n = typeof code === 'string' && /^\d{3}$/.test(code.trim()) ? Number(code.trim()) : typeof code === 'number' ? code : NaN;
  return Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined;
}

/** A JSON body that reached us as text (the platform pads some with newlines and spaces: Apigee templates). */
function parsedIfJsonText(body: unknown): unknown {
  if (typeof body !== 'string' || !/^\s*[{[]/.test(body)) return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/**
 * Any error body → an OperationOutcome with valid severities and only redacted texts.
 * A body that is not an OperationOutcome becomes one issue carrying the HTTP status and the (redacted, truncated) text.
 */
export function normaliseOutcome(
  body: unknown,
  status: number | undefined,
  fallbackCode: OperationOutcomeIssue['code'],
  redact: readonly string[] = [],
): OperationOutcome {
  body = parsedIfJsonText(body);
  if (body && typeof body === 'object' && (body as { resourceType?: unknown }).resourceType === 'OperationOutcome') {
    const raw = (body as { issue?: unknown }).issue;
    const issues: OperationOutcomeIssue[] = (Array.isArray(raw) ? raw : [])
      .filter((i): i is Record<string, unknown> => !!i && typeof i === 'object')
      .map((i) => {
        const sev = typeof i.severity === 'string' && SEVERITIES.has(i.severity) ? i.severity : 'error';
        const out: OperationOutcomeIssue = {
          severity: sev as OperationOutcomeIssue['severity'],
          code: (typeof i.code === 'string' && i.code ? i.code : fallbackCode) as OperationOutcomeIssue['code'],
        };
        const diag = textOf(i.diagnostics);
        if (diag) out.diagnostics = redactText(diag, redact);
        const details = i.details as { text?: unknown; coding?: unknown } | undefined;
        const dText = textOf(details?.text);
        if (dText) out.details = { text: redactText(dText, redact) };
        if (Array.isArray(details?.coding)) out.details = { ...out.details, coding: details.coding as never };
        if (Array.isArray(i.expression)) out.expression = i.expression.filter((e): e is string => typeof e === 'string');
        if (!out.diagnostics && out.details?.text) out.diagnostics = out.details.text;
        return out;
      });
    if (issues.length) return { resourceType: 'OperationOutcome', issue: issues };
  }
  let text: string | undefined;
  if (typeof body === 'string') text = body.trim() || undefined;
  else if (body && typeof body === 'object') text = messageOfJson(body as Record<string, unknown>);
  const prefix = status ? `HTTP ${status}` : 'No response';
  const diagnostics = text ? `${prefix}: ${redactText(text.replace(/\s+/g, ' '), redact)}` : prefix;
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: fallbackCode, diagnostics }] };
}

/** Kamus Validasi rule numbers of every issue (details.text and diagnostics), de-duplicated, in order. */
export function rulesOf(outcome: OperationOutcome): string[] {
  const rules: string[] = [];
  for (const i of outcome.issue ?? []) {
    for (const t of [i.details?.text, i.diagnostics]) {
      const r = ruleNumberOf(t);
      if (r && !rules.includes(r)) rules.push(r);
    }
  }
  return rules;
}

/**
 * Machine codes the Google Cloud Healthcare layer puts in `details.text` (the human text is in `diagnostics`).
 * reference_not_found is a payload that points at a missing resource (recorded: `Organization/undefined`): the record
 * must be corrected, so 'validation'. 'not-found' means "the resource addressed does not exist" — deliver treats a
 * not-found read as "nothing left to retract", which a refused write must never be taken for.
 */
export const HEALTHCARE_CODES: ReadonlyMap<string, PlatformErrorKind> = new Map<string, PlatformErrorKind>([
  ['storage_error', 'not-found'], // recorded only with 404 "resource not found: <Type>/<id>"
  ['reference_not_found', 'validation'],
  ['invalid_query', 'validation'],
  ['unparseable_resource', 'validation'],
]);

/** The retry class of an HTTP answer. Order matters: status classes that say "retry" win over rule numbers. */
export function kindForStatus(status: number, rules: readonly string[], issueCodes: readonly string[], machineCodes: readonly string[] = []): PlatformErrorKind {
  if (status === 401) return 'auth';
  if (status === 429) return 'rate-limited';
  if (status === 408 || status >= 500) return 'transient';
  if (status === 403 || rules.some((r) => FORBIDDEN_RULES.has(r))) return 'forbidden';
  // issue.code 'duplicate' alone is not enough: bundle rule 20018 (fullUrl not unique) may also use it.
  if (rules.includes(DUPLICATE_RULE) || (rules.length === 0 && issueCodes.includes('duplicate'))) return 'duplicate';
  if (status === 404 || rules.includes(NOT_FOUND_RULE)) return 'not-found';
  const byMachineCode = machineCodes.map((c) => HEALTHCARE_CODES.get(c)).find((k) => k !== undefined);
  if (byMachineCode && status >= 400) return byMachineCode;
  if (status === 409) return 'transient'; // version conflict: resolves on retry
  if (status >= 400) return 'validation';
  return 'transient'; // a 2xx/3xx we could not use (e.g. a non-JSON 200 from a proxy): the sync reconciles before retrying
}

/** Builds the PlatformError for one HTTP answer (status, body, headers). Used by the client and the token provider. */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers: Pick<Headers, 'get'> | undefined,
  ctx: ClassifyContext = {},
): PlatformError {
  // A 2xx that says inside it failed (KYC metadata.code) is classified by the status it names, never as a success.
  const effective = status < 300 ? embeddedStatusOf(parsedIfJsonText(body)) ?? status : status;
  const provisional = normaliseOutcome(body, status, 'processing', ctx.redact);
  const rules = rulesOf(provisional);
  const codes = (provisional.issue ?? []).map((i) => i.code);
  const machineCodes = (provisional.issue ?? []).map((i) => i.details?.text?.trim() ?? '');
  // Says nothing about the resource (so never 'not-found', which callers read as "the platform has none"): see the reason.
  const endpointMissing = isEndpointMissing(status, body);
  const kind = endpointMissing ? 'transient' : kindForStatus(effective, rules, codes, machineCodes);
  // Re-normalise so that a synthesised issue (non-FHIR body) carries the code of its class (transient, throttled, …).
  const outcome = normaliseOutcome(body, status, issueTypeFor(kind), ctx.redact);
  let retryAfterMs: number | undefined;
  const ra = parseRetryAfter(headers?.get('retry-after'), ctx.now?.() ?? Date.now());
  if (kind === 'rate-limited') retryAfterMs = ra ?? ctx.defaultRetryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
  else if (kind === 'transient' && ra !== undefined) retryAfterMs = ra;
  return new PlatformError(kind, status, outcome, rules, retryAfterMs, endpointMissing ? 'wrong-url' : undefined);
}

/**
 * A 404 without a FHIR body: nothing at that path answers FHIR (a wrong base URL, a proxy's page), unlike the platform's
 * own 404 for a missing resource, which is an OperationOutcome (storage_error / no-store).
 */
function isEndpointMissing(status: number, body: unknown): boolean {
  if (status !== 404) return false;
  const parsed = parsedIfJsonText(body);
  return !(parsed && typeof parsed === 'object' && (parsed as { resourceType?: unknown }).resourceType === 'OperationOutcome');
}

/** An OperationOutcome we write ourselves (no response to parse). */
export function ownOutcome(code: OperationOutcomeIssue['code'], diagnostics: string, message?: MessageRef): OperationOutcome {
  // `message`: the catalogue entry saying the same (English = diagnostics), so a stored lastError reads in the operator's language.
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics, ...(message ? { extension: [messageExtension(message)] } : {}) }] };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'ERR_NOCK_NO_MATCH',
]);

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; cur && typeof cur === 'object' && depth < 4; depth++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Classifies any failure: a PlatformError passes through; an HTTP error of fhir-kit-client (`.response.status`,
 * `.response.data`, `.config.headers`) is parsed; aborts, timeouts and socket errors are 'transient'.
 * The resulting message never contains the request URL (fhir-kit-client's own message does, with the NIK in its query).
 */
export function toPlatformError(err: unknown, ctx: ClassifyContext = {}): PlatformError {
  if (err instanceof PlatformError) return err;
  const e = err as { name?: unknown; message?: unknown; response?: { status?: unknown; data?: unknown }; config?: { headers?: unknown } };
  if (e && typeof e === 'object' && e.response && typeof e.response.status === 'number') {
    const h = e.config?.headers;
    const headers = h && typeof (h as Headers).get === 'function' ? (h as Headers) : undefined;
    return errorFromResponse(e.response.status, e.response.data, headers, ctx);
  }
  const name = typeof e?.name === 'string' ? e.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    const what = ctx.timeoutMs ? `no response within ${ctx.timeoutMs} ms` : 'request aborted';
    return new PlatformError('transient', undefined, ownOutcome('timeout', `Timeout: ${what}`));
  }
  const code = errorCode(err);
  if ((code && NETWORK_CODES.has(code)) || (name === 'TypeError' && e.message === 'fetch failed')) {
    return new PlatformError('transient', undefined, ownOutcome('transient', `Network error${code ? ` (${code})` : ''}`));
  }
  // Unknown failure (e.g. a body that could not be read). Transient keeps it bounded by the retry policy; the name helps debugging.
  const msg = typeof e?.message === 'string' ? redactText(e.message, ctx.redact) : '';
  return new PlatformError('transient', undefined, ownOutcome('exception', `Unexpected client error${name ? ` ${name}` : ''}${msg ? `: ${msg}` : ''}`));
}
