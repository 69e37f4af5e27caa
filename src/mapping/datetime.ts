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

/** The fields of `YYYY-MM-DDThh:mm[:ss[.f{1,9}]](Z|±hh:mm)`: what the pattern
 *  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/ matches, read by hand (a regex
 *  exec with ten groups was ~7 % of the source checks). Pinned to that pattern by tests/mapping/datetime-format.test.ts. */
interface DateTimeFields {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  sec: number;
  /** Offset sign (+1 / −1), hours and minutes; sign 0 for Z. */
  sign: number;
  oh: number;
  om: number;
}

/** Two ASCII digits at `i` as a number, or −1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function dateTimeFields(s: string): DateTimeFields | undefined {
  if (s.length < 17) return undefined;
  const y1 = twoDigits(s, 0), y2 = twoDigits(s, 2), mo = twoDigits(s, 5), d = twoDigits(s, 8), h = twoDigits(s, 11), mi = twoDigits(s, 14);
  if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':') return undefined;
  let i = 16;
  let sec = 0;
  if (s[i] === ':') {
    sec = twoDigits(s, i + 1);
    if (sec < 0) return undefined;
    i += 3;
    if (s[i] === '.') {
      let n = 0;
      while (n < 10 && i + 1 + n < s.length && s.charCodeAt(i + 1 + n) >= 48 && s.charCodeAt(i + 1 + n) <= 57) n++;
      if (n < 1 || n > 9) return undefined;
      i += 1 + n;
    }
  }
  const fields = { y: y1 * 100 + y2, mo, d, h, mi, sec, sign: 0, oh: 0, om: 0 };
  if (s[i] === 'Z') return i + 1 === s.length ? fields : undefined;
  if ((s[i] !== '+' && s[i] !== '-') || i + 6 !== s.length || s[i + 3] !== ':') return undefined;
  fields.oh = twoDigits(s, i + 1);
  fields.om = twoDigits(s, i + 4);
  fields.sign = s[i] === '-' ? -1 : 1;
  return fields.oh < 0 || fields.om < 0 ? undefined : fields;
}
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
  const m = dateTimeFields(s);
  if (!m) return undefined;
  const { y, mo, d, h, mi, sec } = m;
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return undefined;
  const offsetMin = offsetMinutes(m);
  if (offsetMin === undefined) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec) - offsetMin * 60_000;
  return { ms, utc: formatUtc(ms), localDate: s.slice(0, 10) };
}

/** Real UTC offsets run from −12:00 (Baker Island) to +14:00 (Line Islands); minutes 00–59. */
const MIN_OFFSET = -12 * 60;
const MAX_OFFSET = 14 * 60;

function offsetMinutes(m: DateTimeFields): number | undefined {
  if (m.sign === 0) return 0;
  const { oh, om } = m;
  if (om > 59) return undefined;
  const offset = m.sign * (oh * 60 + om);
  return offset < MIN_OFFSET || offset > MAX_OFFSET ? undefined : offset;
}

/** True when `s` has the date-time form but its offset lies outside −12:00 … +14:00 (or has minutes above 59). */
export function hasUnrealOffset(s: string): boolean {
  const m = dateTimeFields(s);
  return m !== undefined && offsetMinutes(m) === undefined;
}

/** Years 1000–9999 (four digits, no sign): the range formatUtc computes by hand; outside it, Date does the work. */
const FAST_FROM_MS = Date.UTC(1000, 0, 1);
const FAST_TO_MS = Date.UTC(10000, 0, 1) - 1;
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** Formats epoch milliseconds as `YYYY-MM-DDThh:mm:ss+00:00`. */
export function formatUtc(ms: number): string {
  // By hand (days → civil date, the proleptic Gregorian calendar Date uses): Date + toISOString cost ~12 % of the source checks.
  // Pinned to toISOString by tests/mapping/datetime-format.test.ts.
  if (!(ms >= FAST_FROM_MS && ms <= FAST_TO_MS)) return new Date(ms).toISOString().slice(0, 19) + '+00:00';
  const sec = Math.floor(Math.trunc(ms) / 1000); // Date drops a fraction of a millisecond toward zero
  const days = Math.floor(sec / 86_400);
  const inDay = sec - days * 86_400;
  // Civil date from days since 1970-01-01, counted in 400-year eras that start on 1 March (leap day last).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(inDay / 3600);
  const mi = Math.floor((inDay - h * 3600) / 60);
  return `${year}-${two(month)}-${two(day)}T${two(h)}:${two(mi)}:${two(inDay - h * 3600 - mi * 60)}+00:00`;
}

/** Whole months from a YYYY-MM-DD birth date to a YYYY-MM-DD date (0 when before). */
export function ageInMonths(birthDate: string, onDate: string): number {
  // Digits read by hand when both have them where the fields are (every checked date); anything else as Number() reads the slices.
  const by1 = twoDigits(birthDate, 0), by2 = twoDigits(birthDate, 2), bm = twoDigits(birthDate, 5), bd = twoDigits(birthDate, 8);
  const y1 = twoDigits(onDate, 0), y2 = twoDigits(onDate, 2), m = twoDigits(onDate, 5), d = twoDigits(onDate, 8);
  if ((by1 | by2 | bm | bd | y1 | y2 | m | d) < 0) return ageInMonthsOfSlices(birthDate, onDate);
  const months = (y1 * 100 + y2 - (by1 * 100 + by2)) * 12 + (m - bm) - (d < bd ? 1 : 0);
  return months < 0 ? 0 : months;
}

/** ageInMonths for any text: each field as Number() reads its slice (NaN, whitespace and signs included). */
export function ageInMonthsOfSlices(birthDate: string, onDate: string): number {
  const by = +birthDate.slice(0, 4), bm = +birthDate.slice(5, 7), bd = +birthDate.slice(8, 10);
  const y = +onDate.slice(0, 4), m = +onDate.slice(5, 7), d = +onDate.slice(8, 10);
  const months = (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0);
  return months < 0 ? 0 : months;
}
