// Date-time handling for source records: parse ISO 8601 with an explicit offset, and format the instant as UTC `YYYY-MM-DDThh:mm:ss+00:00`
// (the form the SATUSEHAT playbook requires). Pure; no clock reads.

export interface ParsedDateTime {
  /** Epoch milliseconds, truncated to whole seconds (SATUSEHAT datetimes carry no fraction). */
  ms: number;
  /** `YYYY-MM-DDThh:mm:ss+00:00` */
  utc: string;
  /** The calendar date as written (local date at the source), YYYY-MM-DD. */
  localDate: string;
}

const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** True when `s` is a real calendar date written as YYYY-MM-DD. */
export function isValidDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const y = +m[1], mo = +m[2], d = +m[3];
  return y >= 1900 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

/** Parses a date-time that must carry its offset (Z or ±hh:mm); undefined when the form or a field is invalid. */
export function parseDateTime(s: string): ParsedDateTime | undefined {
  const m = DATE_TIME_RE.exec(s);
  if (!m) return undefined;
  const y = +m[1], mo = +m[2], d = +m[3], h = +m[4], mi = +m[5], sec = m[6] ? +m[6] : 0;
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return undefined;
  const offsetMin = offsetMinutes(m);
  if (offsetMin === undefined) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec) - offsetMin * 60_000;
  return { ms, utc: formatUtc(ms), localDate: s.slice(0, 10) };
}

/** Real UTC offsets run from −12:00 (Baker Island) to +14:00 (Line Islands); minutes 00–59. */
const MIN_OFFSET = -12 * 60;
const MAX_OFFSET = 14 * 60;

function offsetMinutes(m: RegExpExecArray): number | undefined {
  if (m[7] === 'Z') return 0;
  const oh = +m[9], om = +m[10];
  if (om > 59) return undefined;
  const offset = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  return offset < MIN_OFFSET || offset > MAX_OFFSET ? undefined : offset;
}

/** True when `s` has the date-time form but its offset lies outside −12:00 … +14:00 (or has minutes above 59). */
export function hasUnrealOffset(s: string): boolean {
  const m = DATE_TIME_RE.exec(s);
  return m !== null && offsetMinutes(m) === undefined;
}

const FAST_FROM_MS = Date.UTC(1000, 0, 1);
const FAST_BELOW_MS = Date.UTC(10000, 0, 1);
const DAY_MS = 86_400_000;
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * Formats epoch milliseconds as `YYYY-MM-DDThh:mm:ss+00:00`. Whole milliseconds of four-digit years are formatted by hand (every
 * parsed source time; a Date and its ISO string per call were a few % of mapping); anything else as Date#toISOString says it
 * (tests/mapping/datetime-format.test.ts holds the two equal).
 */
export function formatUtc(ms: number): string {
  if (!Number.isInteger(ms) || ms < FAST_FROM_MS || ms >= FAST_BELOW_MS) return new Date(ms).toISOString().slice(0, 19) + '+00:00';
  const days = Math.floor(ms / DAY_MS);
  const inDay = Math.floor((ms - days * DAY_MS) / 1000);
  // Civil date from days since 1970-01-01 (proleptic Gregorian, eras of 400 years counted from 0000-03-01).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = Math.floor(inDay / 3600), mi = Math.floor((inDay % 3600) / 60), sec = inDay % 60;
  return `${y}-${pad2(m)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:${pad2(sec)}+00:00`;
}

/** Whole months from a YYYY-MM-DD birth date to a YYYY-MM-DD date (0 when before). */
export function ageInMonths(birthDate: string, onDate: string): number {
  const by = +birthDate.slice(0, 4), bm = +birthDate.slice(5, 7), bd = +birthDate.slice(8, 10);
  const y = +onDate.slice(0, 4), m = +onDate.slice(5, 7), d = +onDate.slice(8, 10);
  const months = (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0);
  return months < 0 ? 0 : months;
}
