// formatUtc computes the UTC form by hand (speed); it must say exactly what Date#toISOString says.
import { formatUtc } from '../../src/mapping/datetime.js';

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
