// isFullDateTime (the date rules' hand-written test) says exactly what the regex it replaces says, for every string near the
// valid shapes: each position of valid date-times set to each interesting character, cut at each length, and extended.
import { isFullDateTime } from '../../src/validation/rule-engine.js';

// The regex as it was in the rule engine (and still is in the reference interpreter, tests/validation/reference/).
const FULL_DATETIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;

const VALID = [
  '2026-10-05T03:00:00+00:00', '2026-10-05T03:00:00Z', '2024-02-29T23:59:60.123456+14:00', '0000-01-01T00:00:00.0-13:59',
  '2025-12-31T19:09:10.5Z', '1999-09-30T20:50:59+07:00', '2022-08-31T00:00:00-00:00', '2021-11-19T12:34:56.789+05:30',
];
const CHARS = '0123456789-+:.TZtz x/\u0660'.split('');

function* candidates(): Generator<string> {
  for (const v of VALID) {
    yield v;
    for (let i = 0; i <= v.length; i++) {
      yield v.slice(0, i);
      yield v.slice(0, i) + v.slice(i + 1);
      for (const ch of CHARS) {
        yield v.slice(0, i) + ch + v.slice(i + 1); // replaced
        yield v.slice(0, i) + ch + v.slice(i); // inserted
      }
    }
    yield `${v}\n`;
    yield ` ${v}`;
  }
  // Every two-digit field value at each field of one date-time (months, days, hours, minutes, seconds, offsets).
  const base = '2026-10-05T03:00:00+00:00';
  for (const at of [5, 8, 11, 14, 17, 20, 23]) {
    for (let n = 0; n < 100; n++) yield base.slice(0, at) + String(n).padStart(2, '0') + base.slice(at + 2);
  }
}

function compare(matcher: (s: string) => boolean): { count: number; valid: number; differences: string[] } {
  const differences: string[] = [];
  let count = 0;
  let valid = 0;
  for (const s of candidates()) {
    count++;
    const want = FULL_DATETIME.test(s);
    if (want) valid++;
    if (matcher(s) !== want) differences.push(JSON.stringify(s));
  }
  return { count, valid, differences };
}

describe('isFullDateTime = the FULL_DATETIME regex', () => {
  test('over valid date-times and every one-character edit, cut and field value of them', () => {
    const { count, valid, differences } = compare(isFullDateTime);
    expect(differences).toEqual([]);
    expect(count).toBeGreaterThan(10_000);
    expect(valid).toBeGreaterThan(500); // both outcomes are well represented
  });

  test('a planted difference is found (second 60 refused, +14:01 accepted)', () => {
    const planted = (s: string) => (isFullDateTime(s) && s.slice(17, 19) !== '60') || s.endsWith('+14:01');
    const { differences } = compare(planted);
    expect(differences).toContain(JSON.stringify('2024-02-29T23:59:60.123456+14:00'));
    expect(differences).toContain(JSON.stringify('2024-02-29T23:59:60.123456+14:01'));
  });
});
