// formatUtc and parseDateTime work by hand (speed); they must say exactly what Date#toISOString and the former regex say.
import { formatUtc, hasUnrealOffset, parseDateTime } from '../../src/mapping/datetime.js';

const viaDate = (ms: number) => new Date(ms).toISOString().slice(0, 19) + '+00:00';

describe('formatUtc equals toISOString', () => {
  test('edges: epoch, leap days, century years, month and year ends, the fast range limits and beyond', () => {
    const edges = [
      0, -1, 1, 999, 1000, Date.UTC(1900, 1, 28, 23, 59, 59), Date.UTC(1900, 2, 1), Date.UTC(2000, 1, 29, 12), Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2100, 1, 28), Date.UTC(2100, 2, 1), Date.UTC(1999, 11, 31, 23, 59, 59), Date.UTC(2022, 7, 31, 17), Date.UTC(1000, 0, 1), Date.UTC(1000, 0, 1) - 1,
      Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), Date.UTC(1600, 1, 29), Date.UTC(1969, 11, 31, 23, 59, 59, 500), -1000.5, -0.5, 0.5, 1999.9,
    ];
    for (const ms of edges) expect([ms, formatUtc(ms)]).toEqual([ms, viaDate(ms)]);
  });

  test('200,000 instants spread over 1000–9999 (deterministic), with fractions of a second', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const from = Date.UTC(1000, 0, 1);
    const span = Date.UTC(10000, 0, 1) - from;
    let mismatches = 0;
    for (let i = 0; i < 200_000; i++) {
      const ms = Math.floor(from + next() * span) + (i % 3 === 0 ? 0.5 : 0);
      if (formatUtc(ms) !== viaDate(ms)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  test('every second of a day, across a leap day', () => {
    const start = Date.UTC(2024, 1, 28, 12);
    const wrong: number[] = [];
    for (let s = 0; s < 86_400 * 2; s++) if (formatUtc(start + s * 1000) !== viaDate(start + s * 1000)) wrong.push(s);
    expect(wrong).toEqual([]);
  });
});

// parseDateTime reads the date-time by hand; the pattern it replaced decides what it accepts. The reference below is the
// former regex-based parser, kept verbatim.
const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/;
function referenceParse(s: string): { ms: number; utc: string; localDate: string } | undefined | 'unreal-offset' {
  const m = DATE_TIME_RE.exec(s);
  if (!m) return undefined;
  const y = +m[1], mo = +m[2], d = +m[3], h = +m[4], mi = +m[5], sec = m[6] ? +m[6] : 0;
  const oh = +m[9], om = +m[10];
  const offset = m[7] === 'Z' ? 0 : om > 59 ? undefined : (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  if (offset === undefined || offset < -720 || offset > 840) return 'unreal-offset';
  const dim = mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(mo) ? 30 : 31;
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > dim || h > 23 || mi > 59 || sec > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec) - offset * 60_000;
  return { ms, utc: viaDate(ms), localDate: s.slice(0, 10) };
}

test('parseDateTime and hasUnrealOffset agree with the former regex parser over 300,000 mutated date-times', () => {
  const seeds = ['2024-03-05T09:30:00+07:00', '2024-02-29T23:59:59.123456789Z', '1900-01-01T00:00-12:00', '2026-12-31T12:00:00.5+14:00', '2023-07-01T08:15:30-00:00'];
  const alphabet = '0123456789-T:.Z+ z٣';
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  let accepted = 0;
  let mismatches = 0;
  for (let i = 0; i < 300_000; i++) {
    let s = seeds[i % seeds.length] as string;
    for (let k = 1 + rnd(3); k > 0; k--) {
      const at = rnd(s.length + 1);
      const ch = alphabet[rnd(alphabet.length)] as string;
      const op = rnd(3);
      s = op === 0 ? s.slice(0, at) + ch + s.slice(at + 1) : op === 1 ? s.slice(0, at) + ch + s.slice(at) : s.slice(0, at) + s.slice(at + 1);
    }
    const want = referenceParse(s);
    const got = parseDateTime(s);
    const unreal = hasUnrealOffset(s);
    const same = want === 'unreal-offset' ? got === undefined && unreal : JSON.stringify(got) === JSON.stringify(want) && !unreal;
    if (!same) mismatches++;
    if (got) accepted++;
  }
  expect(mismatches).toBe(0);
  expect(accepted).toBeGreaterThan(10_000); // the mutations leave many valid date-times
});
