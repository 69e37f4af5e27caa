// WHO z-scores against WHO's own published numbers: the SD tables (xlsx from who.int, converted once into fixtures/who-sd-tables.json)
// and WHO AnthroPlus' survey example with WHO's z-scores (fixtures/who2007-survey-z.json).
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { computeGrowth, zScoreAt, type Indicator, type Standard, type ZScore } from '../../src/growth/zscores.js';
import { growthDataSha256, growthDir, loadGrowthData, type Sex } from '../../src/growth/who-data.js';
import { lmsAt, valueAtSd, zFromLms } from '../../src/growth/lms.js';
import { packageRoot } from '../../src/util/paths.js';

const data = loadGrowthData();
const fixture = (f: string) => JSON.parse(readFileSync(path.join(packageRoot, 'tests', 'growth', 'fixtures', f), 'utf8'));

interface SdTable {
  file: string; standard: Standard; indicator: Indicator; sex: Sex; x: 'age-months' | 'length-cm' | 'height-cm'; sdDecimals: number; columns: string[]; rows: number[][];
}
const sdTables: SdTable[] = fixture('who-sd-tables.json').tables;
const sdOf = (col: string) => (col === 'SD0' ? 0 : (col.endsWith('neg') ? -1 : 1) * Number(col.slice(2, 3)));

/** The table's x for a published row: 2006 age tables are in months of 30.4375 days; at 24 months the 0–2 y tables are lying-length
 *  tables (day 730) and the 2–5 y tables standing-height tables (day 731), so the row is not interpolated across WHO's switch. */
function xOf(t: SdTable, row: number[]): number {
  if (t.x !== 'age-months' || t.standard === 'WHO-2007') return row[0];
  if (row[0] === 24) return t.file.includes('0-to-2') ? 730 : 731;
  // 60 months is 1826.25 days; the day tables end at day 1826.
  return Math.min(row[0] * 30.4375, 1826);
}

const z = (std: Standard, ind: Indicator, sex: Sex, x: number, y: number): number => {
  const r = zScoreAt(data, std, ind, sex, x, y);
  if (typeof r === 'string') throw new Error(r);
  return r.z;
};

describe('WHO LMS data files', () => {
  test('each file carries the checksum of its data, and the data is the imported WHO release', () => {
    for (const std of [data.who2006, data.who2007]) expect(growthDataSha256(std.indicators)).toBe(std.dataSha256);
    // Pinned: a regenerated or edited table must be reviewed here too.
    expect(data.who2006.dataSha256).toBe('75d00568478684931cc573b325bcde6a9a2bb4ac8ce93f6a0b9f21996488bca5');
    expect(data.who2007.dataSha256).toBe('0979e51fd458ade3f7bffc9683f2d37d93d3f4355a1bda34d704c757ab50eb90');
    expect(data.who2006.inputs.map((i) => i.rows)).toEqual([3654, 3654, 1302, 1102, 3654, 3654, 3472]);
  });

  test('a hand-edited value is refused at load with the file named', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'growth-'));
    const doc = JSON.parse(readFileSync(path.join(growthDir, 'who-2006.json'), 'utf8'));
    doc.indicators['weight-for-age'].male.lms[100][1] += 0.001;
    writeFileSync(path.join(dir, 'who-2006.json'), JSON.stringify(doc));
    writeFileSync(path.join(dir, 'who-2007.json'), readFileSync(path.join(growthDir, 'who-2007.json')));
    expect(() => loadGrowthData(dir)).toThrow(/who-2006\.json: data checksum .* differs/);
  });

  test("the L, M, S at every published row equal WHO's published L, M, S", () => {
    let n = 0;
    for (const t of sdTables) {
      const key = t.standard === 'WHO-2007' && t.indicator === 'length-height-for-age' ? 'height-for-age' : t.indicator;
      const table = (t.standard === 'WHO-2006' ? data.who2006 : data.who2007).indicators[key];
      const [iL, iM, iS] = ['L', 'M', 'S'].map((c) => t.columns.findIndex((h) => h.trim() === c));
      for (const row of t.rows) {
        const lms = lmsAt(table[t.sex], table.step, xOf(t, row))!;
        expect(lms[0]).toBeCloseTo(row[iL], 3);
        expect(Math.abs(lms[1] - row[iM]) / row[iM]).toBeLessThan(5e-4);
        expect(lms[2]).toBeCloseTo(row[iS], 4);
        n++;
      }
    }
    expect(n).toBeGreaterThan(1500);
  });
});

describe("z-scores at WHO's published SD values", () => {
  // Each published value is rounded (1 decimal for 2006, 3 for 2007): the true k-SD value lies within half a unit of it, so k must lie
  // between the z-scores of the two ends of that interval. Covers −3, −2, −1, 0, +1, +2, +3 (and ±4, ±5 where WHO publishes them).
  for (const t of sdTables) {
    test(`${t.standard} ${t.indicator} ${t.sex} (${path.basename(t.file)})`, () => {
      const half = 0.5 * 10 ** -t.sdDecimals;
      const sdCols = t.columns.map((c, i) => [c, i] as const).filter(([c]) => /^SD\d/.test(c));
      let checked = 0;
      let worst = { excess: 0, at: '' };
      for (const row of t.rows) {
        const x = xOf(t, row);
        for (const [col, i] of sdCols) {
          const k = sdOf(col);
          const lo = z(t.standard, t.indicator, t.sex, x, row[i] - half);
          const hi = z(t.standard, t.indicator, t.sex, x, row[i] + half);
          const excess = Math.max(lo - k, k - hi, 0);
          if (excess > worst.excess) worst = { excess, at: `${col} at x=${row[0]}: z(${row[i]}±${half}) = ${lo}…${hi}` };
          checked++;
        }
      }
      expect(checked).toBe(t.rows.length * sdCols.length);
      // 2006: WHO's month rows evaluate the model at fractional days (24 months: 730.5 days, on the height curve) while the day
      // tables carry 4–5 decimals, so interpolating the day tables may differ by a few thousandths of an SD; the 2007 tables are exact.
      if (worst.excess > (t.standard === 'WHO-2006' ? 0.005 : 1e-9)) throw new Error(`${worst.at} does not contain the published SD (excess ${worst.excess})`);
    });
  }

  test('every indicator and both sexes are covered by a published table', () => {
    const seen = new Set(sdTables.map((t) => `${t.standard} ${t.indicator} ${t.sex}`));
    for (const sex of ['male', 'female']) {
      for (const ind of ['weight-for-age', 'length-height-for-age', 'weight-for-length', 'weight-for-height', 'bmi-for-age']) expect(seen).toContain(`WHO-2006 ${ind} ${sex}`);
      for (const ind of ['weight-for-age', 'length-height-for-age', 'bmi-for-age']) expect(seen).toContain(`WHO-2007 ${ind} ${sex}`);
    }
  });
});

describe("WHO 2007 against WHO AnthroPlus' own z-scores (survey example)", () => {
  const survey = fixture('who2007-survey-z.json') as { rows: Array<[number, number | null, number | null, number | null, string, number | null, number | null, number | null]> };
  test('height-, weight- and BMI-for-age agree to the published 2 decimals', () => {
    let n = 0;
    for (const [sexCode, age, weight, height, oedema, zhfa, zwfa, zbfa] of survey.rows) {
      const sex: Sex = sexCode === 1 ? 'male' : 'female';
      if (age === null) continue;
      const close = (ind: Indicator, y: number, expected: number) => {
        const got = z('WHO-2007', ind, sex, age, y);
        // WHO rounds to 2 decimals; a value on a rounding edge may differ by one unit in the last place.
        if (Math.abs(got - expected) > 0.0051) throw new Error(`${ind} age ${age} y ${y}: ${got} vs WHO ${expected}`);
        n++;
      };
      if (zhfa !== null && height !== null) close('length-height-for-age', height, zhfa);
      if (oedema === 'n' && zwfa !== null && weight !== null) close('weight-for-age', weight, zwfa);
      if (oedema === 'n' && zbfa !== null && weight !== null && height !== null) close('bmi-for-age', weight / (height / 100) ** 2, zbfa);
    }
    expect(n).toBeGreaterThan(1500);
  });
});

describe('restricted application beyond ±3 SD', () => {
  // WHO: for weight, weight-for-length/height, BMI and MUAC, z beyond ±3 is measured in units of the 2–3 SD gap on that side.
  // L, M, S here are WHO's published values (weight-for-age boys 12 months: L 0.0644, M 9.6479, S 0.10925).
  const lms: [number, number, number] = [0.0644, 9.6479, 0.10925];
  const sd = (k: number) => valueAtSd(lms, k);
  test('a value one 2–3 SD gap above +3 SD is +4, one gap below −3 SD is −4, and plain LMS would say otherwise', () => {
    const above = sd(3) + (sd(3) - sd(2));
    const below = sd(-3) - (sd(-2) - sd(-3));
    expect(zFromLms(above, lms, true)).toBeCloseTo(4, 10);
    expect(zFromLms(below, lms, true)).toBeCloseTo(-4, 10);
    expect(Math.abs(zFromLms(above, lms, false) - 4)).toBeGreaterThan(0.05);
    expect(Math.abs(zFromLms(below, lms, false) + 4)).toBeGreaterThan(0.05);
    // Inside ±3 both agree.
    expect(zFromLms(sd(2.5), lms, true)).toBeCloseTo(2.5, 10);
  });
  test('the 2006 tables apply it to weight, weight-for-length/height, BMI and MUAC, not to length/height or head circumference', () => {
    const day = 365;
    const outside = (ind: Indicator, y: number) => z('WHO-2006', ind, 'male', day, y);
    const tbl = (key: string) => data.who2006.indicators[key];
    for (const key of ['weight-for-age', 'bmi-for-age', 'muac-for-age'] as const) {
      const p = lmsAt(tbl(key).male, 1, day)!;
      const y = valueAtSd(p, 3) + 2 * (valueAtSd(p, 3) - valueAtSd(p, 2));
      expect(outside(key, y)).toBeCloseTo(5, 8);
    }
    for (const key of ['length-height-for-age', 'head-circumference-for-age'] as const) {
      const p = lmsAt(tbl(key).male, 1, day)!;
      // L = 1 in these tables: z is linear in the value, so +5 SD is M (1 + 5 S).
      expect(p[0]).toBe(1);
      expect(outside(key, p[1] * (1 + 5 * p[2]))).toBeCloseTo(5, 8);
    }
  });
});

describe('weight-for-length/height interpolation at 0.1 cm', () => {
  test('a length between two 0.1 cm rows takes the L, M, S interpolated between them', () => {
    const t = data.who2006.indicators['weight-for-length'];
    const [a, b] = [t.female.lms[23], t.female.lms[24]]; // 47.3 and 47.4 cm
    const mid = lmsAt(t.female, t.step, 47.35)!;
    mid.forEach((v, i) => expect(v).toBeCloseTo((a[i] + b[i]) / 2, 12));
    const quarter = lmsAt(t.female, t.step, 47.325)!;
    quarter.forEach((v, i) => expect(v).toBeCloseTo(a[i] + 0.25 * (b[i] - a[i]), 12));
    // On a row, the row itself.
    expect(lmsAt(t.female, t.step, 47.3)).toEqual(a);
  });
});

const child = { sex: 'male' as const, birthDate: '2024-01-01' };
const at = (days: number) => new Date(Date.UTC(2024, 0, 1) + days * 86_400_000).toISOString().slice(0, 10);
const result = (r: ReturnType<typeof computeGrowth>, ind: Indicator) => r.results.find((x) => x.indicator === ind);

describe('computeGrowth', () => {
  test('0.7 cm rule: standing under 731 days adds 0.7 cm, lying from 731 days subtracts it, a matching or unknown position is kept', () => {
    const standing = computeGrowth({ ...child, visitDate: at(400), lengthHeightCm: 75, weightKg: 9.5, position: 'standing' }, data);
    const lhfa = result(standing, 'length-height-for-age') as ZScore;
    expect(lhfa.lengthHeightCm).toBeCloseTo(75.7, 10);
    expect(lhfa.positionAdjustmentCm).toBe(0.7);
    expect(lhfa.z).toBeCloseTo(z('WHO-2006', 'length-height-for-age', 'male', 400, 75.7), 12);
    expect((result(standing, 'weight-for-length') as ZScore).z).toBeCloseTo(z('WHO-2006', 'weight-for-length', 'male', 75.7, 9.5), 12);

    const lying = computeGrowth({ ...child, visitDate: at(800), lengthHeightCm: 85, weightKg: 11, position: 'lying' }, data);
    const lhfa2 = result(lying, 'length-height-for-age') as ZScore;
    expect(lhfa2.lengthHeightCm).toBeCloseTo(84.3, 10);
    expect(lhfa2.positionAdjustmentCm).toBe(-0.7);
    expect((result(lying, 'bmi-for-age') as ZScore).z).toBeCloseTo(z('WHO-2006', 'bmi-for-age', 'male', 800, 11 / 0.843 ** 2), 12);

    for (const [days, position] of [[400, 'lying'], [800, 'standing'], [400, undefined], [800, undefined]] as const) {
      const r = result(computeGrowth({ ...child, visitDate: at(days), lengthHeightCm: 80, position }, data), 'length-height-for-age') as ZScore;
      expect(r.lengthHeightCm).toBe(80);
      expect(r.positionAdjustmentCm).toBeUndefined();
    }
  });

  test('weight-for-length up to 730 days, weight-for-height from 731 days (WHO)', () => {
    const kinds = (days: number) => computeGrowth({ ...child, visitDate: at(days), lengthHeightCm: 86, weightKg: 12 }, data).results.map((r) => r.indicator);
    expect(kinds(730)).toEqual(['weight-for-age', 'length-height-for-age', 'weight-for-length', 'bmi-for-age']);
    expect(kinds(731)).toEqual(['weight-for-age', 'length-height-for-age', 'weight-for-height', 'bmi-for-age']);
    const wfh = result(computeGrowth({ ...child, visitDate: at(731), lengthHeightCm: 86, weightKg: 12 }, data), 'weight-for-height') as ZScore;
    expect(wfh.age.basis).toBe('height-cm');
  });

  test('2006 up to 1826 days (age in days), 2007 after 60 months (age in months), nothing after 18 years', () => {
    const last2006 = computeGrowth({ ...child, visitDate: at(1826), weightKg: 18 }, data);
    expect(last2006.standard).toBe('WHO-2006');
    expect((result(last2006, 'weight-for-age') as ZScore).z).toBeCloseTo(z('WHO-2006', 'weight-for-age', 'male', 1826, 18), 12);
    const first2007 = computeGrowth({ ...child, visitDate: at(1827), weightKg: 18, lengthHeightCm: 110, headCircumferenceCm: 50 }, data);
    expect(first2007.standard).toBe('WHO-2007');
    const wfa = result(first2007, 'weight-for-age') as ZScore;
    expect(wfa.age.basis).toBe('age-months');
    expect(wfa.z).toBeCloseTo(z('WHO-2007', 'weight-for-age', 'male', 1827 / 30.4375, 18), 12);
    expect(result(first2007, 'weight-for-height')).toMatchObject({ status: 'not-computed', reason: expect.stringMatching(/not defined by WHO-2007/) });
    expect(result(first2007, 'head-circumference-for-age')).toMatchObject({ status: 'not-computed' });
    // Weight-for-age of the 2007 reference stops at 10 years.
    const eleven = computeGrowth({ ...child, visitDate: at(11 * 365), weightKg: 35, lengthHeightCm: 140 }, data);
    expect(result(eleven, 'weight-for-age')).toMatchObject({ status: 'not-computed', reason: expect.stringMatching(/outside the WHO-2007 table/) });
    expect(result(eleven, 'bmi-for-age')).toMatchObject({ status: 'computed' });
    const adult = computeGrowth({ sex: 'female', birthDate: '2000-01-01', visitDate: '2026-10-01', weightKg: 55, lengthHeightCm: 155 }, data);
    expect(adult.standard).toBeUndefined();
    expect(adult.results.every((r) => r.status === 'not-computed' && /over 18 years/.test(r.reason))).toBe(true);
  });

  test('out-of-range inputs give not-computed with a reason, never a throw', () => {
    const tooShort = computeGrowth({ ...child, visitDate: at(10), lengthHeightCm: 40, weightKg: 2 }, data);
    expect(result(tooShort, 'weight-for-length')).toMatchObject({ status: 'not-computed', reason: expect.stringMatching(/length 40 cm is outside the WHO-2006 table \(45–110 cm\)/) });
    expect(result(tooShort, 'length-height-for-age')).toMatchObject({ status: 'computed' });
    const tooTall = computeGrowth({ ...child, visitDate: at(1000), lengthHeightCm: 125, weightKg: 25 }, data);
    expect(result(tooTall, 'weight-for-height')).toMatchObject({ status: 'not-computed' });
    const youngMuac = computeGrowth({ ...child, visitDate: at(60), muacCm: 11 }, data);
    expect(result(youngMuac, 'muac-for-age')).toMatchObject({ status: 'not-computed', reason: expect.stringMatching(/age 60 d is outside .*91–1826 d/) });
    const beforeBirth = computeGrowth({ ...child, visitDate: '2023-12-31', weightKg: 3 }, data);
    expect(beforeBirth.results).toEqual([{ indicator: 'weight-for-age', status: 'not-computed', reason: 'the visit date is before the birth date' }]);
    expect(computeGrowth({ ...child, visitDate: at(100), weightKg: Number.NaN }, data).results).toEqual([]);
    expect(computeGrowth({ ...child, birthDate: 'not a date', visitDate: at(100), weightKg: 5 }, data).results[0]).toMatchObject({ status: 'not-computed' });
  });

  test('implausible z-scores are flagged with WHO cut-offs (weight-for-age < −6 or > +5; length-for-age beyond ±6)', () => {
    const flag = (ind: Indicator, y: number, days = 365) => (result(computeGrowth({ ...child, visitDate: at(days), ...(ind === 'weight-for-age' ? { weightKg: y } : { lengthHeightCm: y }) }, data), ind) as ZScore);
    expect(flag('weight-for-age', 3).implausible).toBe(true); // far below −6
    expect(flag('weight-for-age', 9.6).implausible).toBe(false);
    const w = flag('weight-for-age', 17);
    expect(w.z).toBeGreaterThan(5);
    expect(w.implausible).toBe(true);
    expect(flag('length-height-for-age', 60).implausible).toBe(true);
    expect(flag('length-height-for-age', 76).implausible).toBe(false);
  });

  test('z is returned unrounded and rounded to 2 decimals', () => {
    const r = result(computeGrowth({ ...child, visitDate: at(365), weightKg: 8.9 }, data), 'weight-for-age') as ZScore;
    expect(r.zRounded).toBe(Math.round(r.z * 100) / 100);
    expect(r.z).not.toBe(r.zRounded);
  });
});
