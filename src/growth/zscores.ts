// Anthropometric z-scores of one child at one visit: WHO Child Growth Standards 2006 (0 to 60 months, age in days) and the WHO
// Reference 2007 (61 months to 18 years, age in months), as Permenkes 2/2020 prescribes. Pure: the tables come in as `data`.
import { lmsAt, zFromLms } from './lms.js';
import type { GrowthData, LmsTable, Sex } from './who-data.js';
import { renderMessage } from '../i18n/issues.js';
import type { MessageRef } from '../validation/outcome.js';

export type Indicator =
  | 'weight-for-age' | 'length-height-for-age' | 'weight-for-length' | 'weight-for-height'
  | 'bmi-for-age' | 'head-circumference-for-age' | 'muac-for-age';

export const INDICATORS: readonly Indicator[] = [
  'weight-for-age', 'length-height-for-age', 'weight-for-length', 'weight-for-height', 'bmi-for-age', 'head-circumference-for-age', 'muac-for-age',
];

export type Standard = 'WHO-2006' | 'WHO-2007';
export type Position = 'lying' | 'standing';

export interface GrowthInput {
  sex: Sex;
  /** YYYY-MM-DD */
  birthDate: string;
  /** YYYY-MM-DD, the local date of the measurement. */
  visitDate: string;
  weightKg?: number;
  lengthHeightCm?: number;
  /** How the length/height was measured; when absent, the position the standard expects for the age is assumed. */
  position?: Position;
  headCircumferenceCm?: number;
  muacCm?: number;
}

export interface AgeBasis {
  days: number;
  /** days / 30.4375 (WHO's mean month). */
  months: number;
  /** What indexed the table: age in days (WHO 2006), age in months (WHO 2007), or the length/height in cm (weight-for-length/height). */
  basis: 'age-days' | 'age-months' | 'length-cm' | 'height-cm';
}

export interface ZScore {
  indicator: Indicator;
  status: 'computed';
  z: number;
  /** z rounded to 2 decimals, as WHO Anthro reports it. */
  zRounded: number;
  /** Outside WHO's cut-offs for biologically implausible values (e.g. weight-for-age < −6 or > +5): check the measurement. */
  implausible: boolean;
  standard: Standard;
  age: AgeBasis;
  /** The length/height used after the 0.7 cm position adjustment (length-based indicators). */
  lengthHeightCm?: number;
  /** + 0.7 (standing height under 2 years) or − 0.7 (lying length from 2 years), when applied. */
  positionAdjustmentCm?: number;
}

export interface NotComputed {
  indicator: Indicator;
  status: 'not-computed';
  reason: string;
}

export type IndicatorResult = ZScore | NotComputed;

export interface GrowthResult {
  ageDays: number;
  ageMonths: number;
  /** Undefined for an adult (over 18 years) or a date before birth: nothing is computed. */
  standard?: Standard;
  results: IndicatorResult[];
}

/** WHO: lying length is expected under 731 days, standing height from then on. */
export const HEIGHT_FROM_DAYS = 731;
export const POSITION_ADJUSTMENT_CM = 0.7;
/** Last row of the 2006 tables (60 months of 30.4375 days); the 2007 tables start at 60 months, so the two join there. */
const LAST_DAY_2006 = 1826;
const DAYS_PER_MONTH = 30.4375;
/** Permenkes 2/2020 applies the 2007 reference to children up to 18 years. */
export const LAST_MONTH_2007 = 216;

interface IndicatorRule {
  /** WHO's restricted application beyond ±3 SD (skewed, soft-tissue measures). */
  restricted: boolean;
  /** Implausible below / above (WHO Anthro and AnthroPlus flag cut-offs). */
  flag: [number, number];
}

const RULES: Record<Standard, Partial<Record<Indicator, IndicatorRule>>> = {
  'WHO-2006': {
    'weight-for-age': { restricted: true, flag: [-6, 5] },
    'length-height-for-age': { restricted: false, flag: [-6, 6] },
    'weight-for-length': { restricted: true, flag: [-5, 5] },
    'weight-for-height': { restricted: true, flag: [-5, 5] },
    'bmi-for-age': { restricted: true, flag: [-5, 5] },
    'head-circumference-for-age': { restricted: false, flag: [-5, 5] },
    'muac-for-age': { restricted: true, flag: [-5, 5] },
  },
  'WHO-2007': {
    'weight-for-age': { restricted: true, flag: [-6, 5] },
    'length-height-for-age': { restricted: false, flag: [-6, 6] },
    'bmi-for-age': { restricted: true, flag: [-5, 5] },
  },
};

/** The x range of a table (both sexes share it). WHO's own 2007 output computes weight-for-age to 120 completed months, which the
 *  table's last row (121 months) covers. */
const rangeOf = (table: LmsTable): [number, number] => [table.male.first, table.male.last];

/** Whole days between two YYYY-MM-DD dates (negative when `to` is before `from`). */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayNumber(to) - dayNumber(from)) / 86_400_000);
}

/** Epoch ms of a YYYY-MM-DD date (NaN when it is not one); Date.UTC on the parts is several times faster than Date.parse. */
export function dayNumber(d: string): number {
  if (d.length !== 10 || d[4] !== '-' || d[7] !== '-') return Number.NaN;
  // Digits by hand for years 1000–9999 and months 1–12 (Date.UTC reads years 0–99 as 19xx and carries months over): days
  // from the civil date in 400-year eras from 1 March, the count Date.UTC makes, which is linear in the day (00 and 32 included).
  const y = digit(d, 0) * 1000 + digit(d, 1) * 100 + digit(d, 2) * 10 + digit(d, 3);
  const m = digit(d, 5) * 10 + digit(d, 6);
  const day = digit(d, 8) * 10 + digit(d, 9);
  if (!(y >= 1000 && m >= 1 && m <= 12 && day >= 0)) return dayNumberOfSlices(d);
  const ym = m <= 2 ? y - 1 : y;
  const era = Math.floor(ym / 400);
  const yearOfEra = ym - era * 400;
  const dayOfYear = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return (era * 146_097 + dayOfEra - 719_468) * 86_400_000;
}

/** One ASCII digit at `i`, or NaN (which fails every comparison above). */
const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : Number.NaN;
};

/** dayNumber as Date.UTC reads the slices (any text of the YYYY-MM-DD shape; also the reference the fast path is tested against). */
export function dayNumberOfSlices(d: string): number {
  return Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10));
}

const round2 = (z: number) => Math.round((z + Math.sign(z) * 1e-12) * 100) / 100;

/** z of `y` in `table` at `x`, or the reason it cannot be computed. */
function zAt(standard: Standard, indicator: Indicator, table: LmsTable, sex: Sex, x: number, y: number): { z: number; implausible: boolean } | string {
  const [first, last] = rangeOf(table);
  const lms = x <= last ? lmsAt(table[sex], table.step, x) : undefined;
  if (!lms) return `${table.x} ${x} ${table.unit} is outside the ${standard} table (${first}–${last} ${table.unit})`;
  const rule = RULES[standard][indicator]!;
  const z = zFromLms(y, lms, rule.restricted);
  return { z, implausible: z < rule.flag[0] || z > rule.flag[1] };
}

/** z-score of one value against a WHO table, for tests and callers that already know the table's x (age in days/months, length in cm). */
export function zScoreAt(data: GrowthData, standard: Standard, indicator: Indicator, sex: Sex, x: number, y: number): { z: number; implausible: boolean } | string {
  const table = tableOf(data, standard, indicator);
  return table ? zAt(standard, indicator, table, sex, x, y) : `${indicator} is not part of ${standard}`;
}

function tableOf(data: GrowthData, standard: Standard, indicator: Indicator): LmsTable | undefined {
  const file = standard === 'WHO-2006' ? data.who2006 : data.who2007;
  const key = standard === 'WHO-2007' && indicator === 'length-height-for-age' ? 'height-for-age' : indicator;
  return Object.hasOwn(file.indicators, key) && RULES[standard][indicator] ? file.indicators[key] : undefined;
}

/** The length/height the standard expects for the age: + 0.7 cm for a standing height under 2 years, − 0.7 cm for a lying length
 *  from 2 years (WHO Child Growth Standards 2006, p. 5). */
export function adjustedLengthHeight(cm: number, position: Position | undefined, ageDays: number): { cm: number; adjustment?: number } {
  if (position === 'standing' && ageDays < HEIGHT_FROM_DAYS) return { cm: cm + POSITION_ADJUSTMENT_CM, adjustment: POSITION_ADJUSTMENT_CM };
  if (position === 'lying' && ageDays >= HEIGHT_FROM_DAYS) return { cm: cm - POSITION_ADJUSTMENT_CM, adjustment: -POSITION_ADJUSTMENT_CM };
  return { cm };
}

const ADULT_REASON = 'over 18 years: growth z-scores are computed for children only (Permenkes 2/2020 applies the WHO 2007 reference to 5–18 years)';

/** The standard for an age in days: WHO 2006 to 60 months, WHO 2007 to 18 years; undefined before birth and for adults. */
export function standardAt(ageDays: number): Standard | undefined {
  if (!Number.isFinite(ageDays) || ageDays < 0) return undefined;
  if (ageDays <= LAST_DAY_2006) return 'WHO-2006';
  return ageDays / DAYS_PER_MONTH <= LAST_MONTH_2007 ? 'WHO-2007' : undefined;
}

/** Why `indicator` has no z-score at this age (undefined when WHO defines one): for a z-score a facility sends. Weight-for-length and
 *  weight-for-height are indexed by length, so both are accepted for 0–60 months. */
export function undefinedAtAge(data: GrowthData, indicator: Indicator, ageDays: number): string | undefined {
  const why = undefinedAtAgeMessage(data, indicator, ageDays);
  return why && renderMessage('en', why.key, why.params);
}

/** undefinedAtAge as a catalogue message (messages/source.json, growth.why.*), for text said in the reader's language. */
export function undefinedAtAgeMessage(data: GrowthData, indicator: Indicator, ageDays: number): MessageRef | undefined {
  const standard = standardAt(ageDays);
  if (!standard) return { key: ageDays < 0 ? 'source.growth.why.before-birth' : 'source.growth.why.adult', params: {} };
  const table = tableOf(data, standard, indicator);
  const months = Math.floor(ageDays / DAYS_PER_MONTH);
  if (!table) return { key: 'source.growth.why.under-five-only', params: { indicator, months } };
  if (table.x !== 'age') return undefined;
  const age = standard === 'WHO-2006' ? ageDays : ageDays / DAYS_PER_MONTH;
  const [first, last] = rangeOf(table);
  if (age < first || age > last) {
    return { key: table.unit === 'd' ? 'source.growth.why.range-days' : 'source.growth.why.range-months', params: { indicator, first, last, standard, months } };
  }
  return undefined;
}

/** Every indicator the inputs allow, for the child's age; never throws (an out-of-range input gives a not-computed result). */
export function computeGrowth(input: GrowthInput, data: GrowthData): GrowthResult {
  const ageDays = daysBetween(input.birthDate, input.visitDate);
  const ageMonths = ageDays / DAYS_PER_MONTH;
  const results: IndicatorResult[] = [];
  const wanted: Indicator[] = [];
  const has = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (has(input.weightKg)) wanted.push('weight-for-age');
  if (has(input.lengthHeightCm)) wanted.push('length-height-for-age');
  if (has(input.weightKg) && has(input.lengthHeightCm)) wanted.push(ageDays < HEIGHT_FROM_DAYS ? 'weight-for-length' : 'weight-for-height', 'bmi-for-age');
  if (has(input.headCircumferenceCm)) wanted.push('head-circumference-for-age');
  if (has(input.muacCm)) wanted.push('muac-for-age');

  const standard = standardAt(ageDays);
  const why = !Number.isFinite(ageDays) || ageDays < 0 ? 'the visit date is before the birth date' : ADULT_REASON;
  if (!standard) return { ageDays, ageMonths, results: wanted.map((indicator) => ({ indicator, status: 'not-computed', reason: why })) };

  const lh = has(input.lengthHeightCm) ? adjustedLengthHeight(input.lengthHeightCm, input.position, ageDays) : undefined;
  for (const indicator of wanted) {
    const table = tableOf(data, standard, indicator);
    if (!table) {
      results.push({ indicator, status: 'not-computed', reason: `${indicator} is not defined by ${standard} at ${Math.floor(ageMonths)} months` });
      continue;
    }
    let x: number;
    let y: number;
    let basis: AgeBasis['basis'] = standard === 'WHO-2006' ? 'age-days' : 'age-months';
    const lengthBased = indicator === 'length-height-for-age' || indicator === 'weight-for-length' || indicator === 'weight-for-height' || indicator === 'bmi-for-age';
    x = standard === 'WHO-2006' ? ageDays : ageMonths;
    switch (indicator) {
      case 'weight-for-age': y = input.weightKg!; break;
      case 'length-height-for-age': y = lh!.cm; break;
      case 'weight-for-length':
      case 'weight-for-height':
        x = lh!.cm;
        y = input.weightKg!;
        basis = indicator === 'weight-for-length' ? 'length-cm' : 'height-cm';
        break;
      case 'bmi-for-age': y = input.weightKg! / (lh!.cm / 100) ** 2; break;
      case 'head-circumference-for-age': y = input.headCircumferenceCm!; break;
      default: y = input.muacCm!;
    }
    const r = zAt(standard, indicator, table, input.sex, x, y);
    if (typeof r === 'string') {
      results.push({ indicator, status: 'not-computed', reason: r });
      continue;
    }
    const out: ZScore = {
      indicator, status: 'computed', z: r.z, zRounded: round2(r.z), implausible: r.implausible, standard, age: { days: ageDays, months: ageMonths, basis },
    };
    if (lengthBased) {
      out.lengthHeightCm = lh!.cm;
      if (lh!.adjustment !== undefined) out.positionAdjustmentCm = lh!.adjustment;
    }
    results.push(out);
  }
  return { ageDays, ageMonths, standard, results };
}
