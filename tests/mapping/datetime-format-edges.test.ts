// formatUtc formats four-digit years by hand (speed); these hold it to Date#toISOString over the whole range, day and leap-year
// boundaries and the values outside the fast range, so every datetime in a Bundle stays what it was.
import { formatUtc, parseDateTime } from '../../src/mapping/datetime.js';

const reference = (ms: number) => new Date(ms).toISOString().slice(0, 19) + '+00:00';

describe('formatUtc', () => {
  it('equals Date#toISOString at every day boundary and second edge from 1899 to 2101, and on pseudo-random instants of years 1000–9999', () => {
    const wrong: string[] = [];
    const check = (ms: number) => {
      if (formatUtc(ms) !== reference(ms)) wrong.push(reference(ms));
    };
    for (let ms = Date.UTC(1899, 11, 1); ms < Date.UTC(2101, 1, 1); ms += 86_400_000) {
      for (const delta of [0, 1000, 59_000, 3_599_000, 86_399_000, -1000]) check(ms + delta);
    }
    let seed = 12345;
    const from = Date.UTC(1000, 0, 1), span = Date.UTC(10000, 0, 1) - from;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const ms = from + Math.floor((seed / 2147483648) * span);
      check(ms);
    }
    expect(wrong).toEqual([]);
  });

  it('falls back to Date#toISOString outside the fast range and for fractional milliseconds', () => {
    for (const ms of [Date.UTC(1000, 0, 1) - 1, Date.UTC(999, 5, 5), Date.UTC(10000, 0, 1), Date.UTC(10000, 0, 1) - 1, Date.UTC(-5, 0, 1), 1.5, -0.25, 1e15]) {
      expect(formatUtc(ms)).toBe(reference(ms));
    }
    expect(() => formatUtc(Number.NaN)).toThrow(RangeError);
  });

  it('gives parseDateTime the same utc text as before at the edges of the accepted offsets and years', () => {
    for (const s of ['1900-01-01T00:00:00+14:00', '9999-12-31T23:59:59-12:00', '2024-02-29T23:30:00-05:00', '2026-12-31T23:59:59Z', '2000-03-01T00:00+07:00']) {
      const p = parseDateTime(s)!;
      expect(p.utc).toBe(reference(p.ms));
    }
  });
});
