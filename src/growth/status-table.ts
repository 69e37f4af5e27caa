// mappings/growth-status.json: the Permenkes 2/2020 categories of each z-score indicator, the KMS weight-gain rule, and the adult KEK,
// BMI and blood-pressure categories. Loaded and checked once; a category table with a gap or an overlap fails at start-up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../util/paths.js';
import type { Confidence } from '../mapping/types.js';
import type { Indicator, Standard } from './zscores.js';

export interface Bound {
  /** z-score bound (indicator categories) */
  z?: number;
  /** value bound (adult categories: cm, kg/m², mmHg) */
  value?: number;
  inclusive: boolean;
}

export interface SourcedCoding {
  /** A key of `codeSystems`. */
  system: string;
  code: string;
  display: string;
  confidence: Confidence;
  source: string;
}

export interface Category {
  key: string;
  display: { id: string; en: string };
  min?: Bound;
  max?: Bound;
  interpretation: SourcedCoding;
}

export interface Scheme {
  standard: Standard;
  fromMonths: number;
  toMonths: number;
  confidence: Confidence;
  source: string;
  categories: Category[];
}

export interface IndicatorEntry {
  label: { id: string; en: string };
  /** Observation.code codings: the first from a system the platform accepts (rule 10010), then the specific one when they differ. */
  codes: SourcedCoding[];
  schemes: Scheme[];
}

export interface BloodPressureCategory {
  key: string;
  display: { id: string; en: string };
  systolic: { min?: Bound; max?: Bound };
  diastolic: { min?: Bound; max?: Bound };
  interpretation: SourcedCoding;
}

/** Who an adult category applies to (age at the visit in whole years). */
export interface AdultApplies {
  gender?: 'female' | 'male';
  fromYears: number;
  belowYears?: number;
  /** Also any woman with a pregnancy context, whatever her age (KEK at ANC). */
  anyAgeWhenPregnant?: boolean;
}

export interface AdultScheme<C> {
  confidence: Confidence;
  source: string;
  appliesTo: string;
  applies: AdultApplies;
  categories: C[];
}

export interface WeightGainStatus {
  display: { id: string; en: string };
  code: string;
  interpretation: SourcedCoding;
}

export interface GrowthStatusTable {
  version: string;
  codeSystems: Record<string, { url: string; confidence: Confidence; source: string }>;
  /** Measurement keys (observations.json) the z-scores come from; lengthHeight: key → the position it implies. */
  measurements: { weight: string; lengthHeight: Record<string, 'lying' | 'standing'>; headCircumference: string; muac: string };
  observationCategory: { code: string; confidence: Confidence; source: string };
  zscoreUnit: { code: string; unit: string };
  reportTolerance: { zScore: number; confidence: Confidence; source: string };
  indicators: Record<Indicator, IndicatorEntry>;
  weightGain: {
    confidence: Confidence;
    source: string;
    code: SourcedCoding;
    /** [age in completed months, minimum gain in grams]; the last row holds up to toMonths. */
    minimumGainGrams: Array<[number, number]>;
    toMonths: number;
    statuses: Record<'naik' | 'tidak-naik', WeightGainStatus>;
  };
  adult: {
    /** `measurement`: the observations.json key whose value is classified. */
    kek: AdultScheme<Category> & { measurement: string };
    bmi: AdultScheme<Category> & { measurement: string };
    /** Each reading is classified on its own axis. */
    bloodPressure: AdultScheme<BloodPressureCategory> & { measurements: { systolic: string; diastolic: string } };
  };
}

const CONFIDENCE = new Set(['OFF', 'OFF-copy', 'OFF-draft', 'COM', 'UNV']);

/** Problems of a list of categories on one axis: they must cover the whole line in order, each cut-off belonging to exactly one side. */
export function partitionProblems(where: string, cats: Array<{ min?: Bound; max?: Bound }>, axis: 'z' | 'value'): string[] {
  const p: string[] = [];
  if (!cats.length) return p;
  if (cats[0].min) p.push(`${where}: the first category must have no lower bound`);
  if (cats[cats.length - 1].max) p.push(`${where}: the last category must have no upper bound`);
  for (let i = 1; i < cats.length; i++) {
    const a = cats[i - 1].max;
    const b = cats[i].min;
    if (!a || !b || a[axis] === undefined || a[axis] !== b[axis]) p.push(`${where}[${i}]: its lower bound must equal the previous category's upper bound`);
    else if (a.inclusive === b.inclusive) p.push(`${where}[${i}]: the cut-off ${a[axis]} must belong to exactly one of the two categories`);
  }
  return p;
}

/** Structural checks of the table, so a bad edit fails at start-up with a clear message. */
export function checkGrowthStatus(t: GrowthStatusTable): string[] {
  const p: string[] = [];
  const f = 'growth-status.json';
  const coding = (where: string, c: SourcedCoding | undefined) => {
    if (!c || !Object.hasOwn(t.codeSystems, c.system)) p.push(`${f} ${where}: system "${c?.system}" is not a codeSystems key`);
    if (!c?.code) p.push(`${f} ${where}: code missing`);
    if (!CONFIDENCE.has(c?.confidence as string) || !c?.source) p.push(`${f} ${where}: needs confidence and source`);
  };
  for (const [key, e] of Object.entries(t.indicators ?? {})) {
    if (!e.codes?.length) p.push(`${f} indicators.${key}: needs codes`);
    (e.codes ?? []).forEach((c, i) => coding(`indicators.${key}.codes[${i}]`, c));
    e.schemes.forEach((s, i) => {
      const w = `indicators.${key}.schemes[${i}]`;
      if (!s.source || !CONFIDENCE.has(s.confidence)) p.push(`${f} ${w}: needs confidence and source`);
      const keys = new Set<string>();
      s.categories.forEach((c, j) => {
        if (keys.has(c.key)) p.push(`${f} ${w}.categories[${j}]: key "${c.key}" repeats`);
        keys.add(c.key);
        coding(`${w}.categories[${j}].interpretation`, c.interpretation);
      });
      p.push(...partitionProblems(`${f} ${w}.categories`, s.categories, 'z'));
    });
  }
  const wg = t.weightGain;
  coding('weightGain.code', wg?.code);
  for (const [k, s] of Object.entries(wg?.statuses ?? {})) coding(`weightGain.statuses.${k}.interpretation`, s.interpretation);
  const ages = (wg?.minimumGainGrams ?? []).map(([m]) => m);
  if (!ages.length || ages.some((m, i) => i > 0 && m <= ages[i - 1])) p.push(`${f} weightGain.minimumGainGrams: ages must increase`);
  for (const k of ['kek', 'bmi', 'bloodPressure'] as const) {
    const a = t.adult[k]?.applies;
    if (!a || typeof a.fromYears !== 'number' || (a.belowYears !== undefined && !(a.belowYears > a.fromYears))) {
      p.push(`${f} adult.${k}.applies: needs fromYears (and belowYears above it when given)`);
    }
  }
  for (const k of ['kek', 'bmi'] as const) {
    t.adult[k].categories.forEach((c, j) => coding(`adult.${k}.categories[${j}].interpretation`, c.interpretation));
    p.push(...partitionProblems(`${f} adult.${k}.categories`, t.adult[k].categories, 'value'));
  }
  const bp = t.adult.bloodPressure.categories;
  bp.forEach((c, j) => coding(`adult.bloodPressure.categories[${j}].interpretation`, c.interpretation));
  p.push(...partitionProblems(`${f} adult.bloodPressure systolic`, bp.map((c) => c.systolic), 'value'));
  p.push(...partitionProblems(`${f} adult.bloodPressure diastolic`, bp.map((c) => c.diastolic), 'value'));
  return p;
}

const cache = new Map<string, GrowthStatusTable>();

/** Reads and checks mappings/growth-status.json (or the one in `dir`), once per directory. */
export function loadGrowthStatus(dir: string = mappingsDir): GrowthStatusTable {
  let t = cache.get(dir);
  if (t) return t;
  const file = path.join(dir, 'growth-status.json');
  try {
    t = JSON.parse(readFileSync(file, 'utf8')) as GrowthStatusTable;
  } catch (e) {
    throw new Error(`mapping table ${file} cannot be read: ${(e as Error).message}`);
  }
  const problems = checkGrowthStatus(t);
  if (problems.length) throw new Error(`mapping table ${file} is inconsistent:\n- ${problems.join('\n- ')}`);
  cache.set(dir, t);
  return t;
}
