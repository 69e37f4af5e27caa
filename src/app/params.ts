// The query parameters of every list (API query string, CLI flags), parsed once for both: each bad value is a
// QueryParameterError naming the parameter, which the API answers as a 400 OperationOutcome at it and the CLI prints.
import { AppError, messageExtension } from '../util/app-error.js';
import type { VisitState } from '../store/types.js';
import { ownEntry } from '../util/own.js';
import { messages, type Locale, type Params } from '../i18n/index.js';

const text = messages('queries');

/** A bad list parameter: `parameter`, and why as a catalogue message (messages/queries.json, `param.*`). */
export class QueryParameterError extends AppError {
  declare readonly status: 400 | 403;
  /** `status` 403: the value is well-formed but names what the caller may not see. */
  constructor(readonly parameter: string, readonly key: string, readonly params: Params = {}, status: 400 | 403 = 400) {
    const ref = { key: `queries.${key}`, params: { ...params } };
    const diagnostics = `${parameter}: ${text('en', key, params)}`;
    super('query-parameter', diagnostics, {
      status, ref,
      outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: status === 403 ? 'forbidden' : 'invalid', diagnostics, expression: [parameter], extension: [messageExtension(ref)] }] },
    });
  }

  /** The reason in the caller's language, starting with the parameter's name. */
  text(locale: Locale): string {
    return `${this.parameter}: ${text(locale, this.key, this.params)}`;
  }
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
export const VISIT_STATES: readonly VisitState[] = ['queued', 'sending', 'sent', 'needs-correction', 'blocked', 'dead-letter'];

/** Raw parameters as given (a repeated query parameter is refused: the API's query parser is 'simple'). */
export type RawParams = Readonly<Record<string, unknown>>;

/** A code-like value (setting, locationCode, organization): letters, digits and . _ : / - , at most 64 characters. */
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/** A date without a time is a day in WIB (+07:00), the offset most facilities use; say another offset with a date-time. */
export const DATE_ONLY_OFFSET = '+07:00';
const DAY_MS = 86_400_000;

function single(params: RawParams, name: string): string | undefined {
  const v = ownEntry(params, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new QueryParameterError(name, 'param.single');
  return v;
}

export function token(params: RawParams, name: string): string | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  if (!TOKEN.test(v)) throw new QueryParameterError(name, 'param.token');
  return v;
}

/** Epoch ms of a date-time with offset, or of the start of a WIB day; `endOfDay` moves a date-only value to the next day's start. */
export function instant(params: RawParams, name: string, endOfDay = false): number | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  const day = DATE_ONLY.exec(v);
  const ms = day ? Date.parse(`${v}T00:00:00${DATE_ONLY_OFFSET}`) : DATE_TIME.test(v) ? Date.parse(v) : Number.NaN;
  // A date-only value must name a real day (Date.parse would roll 2026-02-30 over into March).
  const realDay = !day || (Number.isFinite(ms) && new Date(ms + 7 * 3_600_000).toISOString().slice(0, 10) === v);
  if (!Number.isFinite(ms) || !realDay) {
    throw new QueryParameterError(name, 'param.instant');
  }
  return day && endOfDay ? ms + DAY_MS : ms;
}

export function pageSize(params: RawParams, name = '_count'): number {
  const v = single(params, name);
  if (v === undefined) return DEFAULT_PAGE_SIZE;
  const n = /^\d{1,4}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= 1 && n <= MAX_PAGE_SIZE)) throw new QueryParameterError(name, 'param.count', { max: MAX_PAGE_SIZE });
  return n;
}

export function states(params: RawParams, name = 'state'): VisitState[] | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  const list = v.split(',').map((x) => x.trim());
  for (const s of list) {
    if (!(VISIT_STATES as readonly string[]).includes(s)) {
      throw new QueryParameterError(name, 'param.state', { states: VISIT_STATES.join(', ') });
    }
  }
  return [...new Set(list as VisitState[])];
}

/** A visitId prefix: the characters a visitId may hold, 1–64 of them. */
export function visitIdPrefix(params: RawParams, name = 'q'): string | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9._:/-]{1,64}$/.test(v)) throw new QueryParameterError(name, 'param.prefix');
  return v;
}

/** Refuses parameters the list does not know (a typo would otherwise silently widen the list). */
export function onlyKnown(params: RawParams, known: readonly string[]): void {
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) throw new QueryParameterError(name, 'param.unknown', { allowed: known.join(', ') || '–' });
  }
}

/**
 * Opaque page cursors: base64url of a JSON array tagged with the list it belongs to. A cursor only positions a page
 * inside what the caller may see anyway (the organization comes from the key), so it is validated, not signed.
 */
export function encodeCursor(kind: string, position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...position]), 'utf8').toString('base64url');
}

export function decodeCursor(params: RawParams, kind: string, shape: readonly ('int' | 'id')[], name = 'cursor'): (string | number)[] | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  const bad = () => new QueryParameterError(name, 'param.cursor');
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(v)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(v, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length + 1 || parsed[0] !== kind) throw bad();
  const values = parsed.slice(1) as unknown[];
  shape.forEach((t, i) => {
    const x = values[i];
    const ok = t === 'int' ? Number.isSafeInteger(x) && (x as number) >= 0 : typeof x === 'string' && x.length >= 1 && x.length <= 64;
    if (!ok) throw bad();
  });
  return values as (string | number)[];
}

export interface Page<T> {
  items: T[];
  /** Present when more rows may follow: pass it back as `cursor`. */
  nextCursor?: string;
}

/**
 * A page from rows read with limit + 1 (the extra row tells whether another page exists, without a count query):
 * the first `limit` rows mapped, and a cursor at the last of them when more follow.
 */
export function pageOf<R, T>(rows: readonly R[], limit: number, kind: string, positionOf: (r: R) => (string | number)[], map: (r: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(map), ...(rows.length > limit && last !== undefined ? { nextCursor: encodeCursor(kind, positionOf(last)) } : {}) };
}
