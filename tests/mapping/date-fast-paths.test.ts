// The whole-date arithmetic read by hand (growth ages, months of age) is pinned to the slice-and-Number() forms it replaced, which
// stay in the code as the fallback for text of other shapes: same number (or NaN) for every date of a grid and for odd text.
import { dayNumber, dayNumberOfSlices } from '../../src/growth/zscores.js';
import { ageInMonths, ageInMonthsOfSlices } from '../../src/mapping/datetime.js';

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Years 0000–9999 (every year 1890–2110, sampled elsewhere), months 00–13, days at and past the month ends. */
function gridDates(): string[] {
  const out: string[] = [];
  for (let y = 0; y <= 9999; y += y >= 1890 && y <= 2110 ? 1 : 37) {
    for (let m = 0; m <= 13; m++) for (const d of [0, 1, 15, 28, 29, 30, 31, 32, 99]) out.push(`${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
  }
  return out;
}

const ODD = ['2026-1a-05', ' 026-01-05', '+026-01-05', '2026-01- 5', '2026-01-5 ', '-026-01-05', '2026--1-05', '0099-01-01', '0999-12-31',
  'abcd-ef-gh', '2026-01-05T08:30:00+07:00', '2026-01', '', '２０２６-01-05'];

describe('dayNumber (epoch ms of a YYYY-MM-DD date)', () => {
  it('equals Date.UTC over the slices for every date of the grid and for odd text of the same shape', () => {
    const wrong = [...gridDates(), ...ODD].filter((s) => {
      const expected = s.length === 10 && s[4] === '-' && s[7] === '-' ? dayNumberOfSlices(s) : Number.NaN;
      return !Object.is(dayNumber(s), expected);
    });
    expect(wrong).toEqual([]);
  });
});

describe('ageInMonths (whole months between two YYYY-MM-DD dates)', () => {
  it('equals the slice form for births and visits across years, month ends and leap days, and for odd text', () => {
    const dates = gridDates().filter((s) => s >= '1995' && s < '2031');
    const wrong: string[] = [];
    for (let i = 0; i < dates.length; i += 7) {
      for (let j = 0; j < dates.length; j += 53) {
        if (!Object.is(ageInMonths(dates[i], dates[j]), ageInMonthsOfSlices(dates[i], dates[j]))) wrong.push(`${dates[i]} → ${dates[j]}`);
      }
    }
    for (const a of ODD) for (const b of ['2026-10-05', ...ODD]) if (!Object.is(ageInMonths(a, b), ageInMonthsOfSlices(a, b))) wrong.push(`${a} → ${b}`);
    expect(wrong).toEqual([]);
  });
});
