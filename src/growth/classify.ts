// Table-driven classifiers: a z-score into its Permenkes 2/2020 category, and the adult KEK (MUAC), BMI and blood-pressure categories.
// Pure: the table comes in as an argument.
import type { Bound, Category, BloodPressureCategory, GrowthStatusTable, SourcedCoding } from './status-table.js';
import type { Indicator, Standard } from './zscores.js';
import { ownEntry } from '../util/own.js';

const above = (x: number, b: Bound | undefined, at: number | undefined) => !b || at === undefined || (b.inclusive ? x >= at : x > at);
const below = (x: number, b: Bound | undefined, at: number | undefined) => !b || at === undefined || (b.inclusive ? x <= at : x < at);

/** True when `x` lies in the category's interval (bounds on `axis`: z or value), with the inclusivity the table states. */
export function inInterval(x: number, c: { min?: Bound; max?: Bound }, axis: 'z' | 'value'): boolean {
  return above(x, c.min, c.min?.[axis]) && below(x, c.max, c.max?.[axis]);
}

export interface Classified {
  key: string;
  display: { id: string; en: string };
  /** The interpretation coding with its system resolved to a URL. */
  interpretation: { system: string; code: string; display: string };
  confidence: string;
  source: string;
}

/** A table coding with its symbolic system resolved to the URL of `codeSystems`. */
export function resolveCoding(t: GrowthStatusTable, c: SourcedCoding): { system: string; code: string; display: string } {
  // The loader checked every table coding's system is a codeSystems key.
  return { system: ownEntry(t.codeSystems, c.system)!.url, code: c.code, display: c.display };
}

function classified(t: GrowthStatusTable, c: Category | BloodPressureCategory, source: string): Classified {
  return { key: c.key, display: c.display, interpretation: resolveCoding(t, c.interpretation), confidence: c.interpretation.confidence, source };
}

/** The category scheme of an indicator for a standard (BMI-for-age has one per standard), or undefined when none is defined. */
export function schemeOf(t: GrowthStatusTable, indicator: Indicator, standard: Standard) {
  const e = Object.hasOwn(t.indicators, indicator) ? t.indicators[indicator] : undefined;
  return e?.schemes.find((s) => s.standard === standard);
}

/** The Permenkes 2/2020 category of a z-score (classified on the unrounded z), or undefined when the indicator has no categories. */
export function classifyZScore(t: GrowthStatusTable, indicator: Indicator, standard: Standard, z: number): Classified | undefined {
  const scheme = schemeOf(t, indicator, standard);
  const c = scheme?.categories.find((x) => inInterval(z, x, 'z'));
  return c && classified(t, c, scheme!.source);
}

/** KEK (chronic energy deficiency) from MUAC in cm, for pregnant women and women of childbearing age. */
export function classifyKek(t: GrowthStatusTable, muacCm: number): Classified | undefined {
  const c = t.adult.kek.categories.find((x) => inInterval(muacCm, x, 'value'));
  return c && classified(t, c, t.adult.kek.source);
}

/** Adult BMI category (Kemenkes P2PTM) from BMI in kg/m². */
export function classifyAdultBmi(t: GrowthStatusTable, bmi: number): Classified | undefined {
  const c = t.adult.bmi.categories.find((x) => inInterval(bmi, x, 'value'));
  return c && classified(t, c, t.adult.bmi.source);
}

/** The category one reading (systolic or diastolic alone) falls in, on the same scale: an Observation's interpretation of its own value. */
export function classifyBloodPressureReading(t: GrowthStatusTable, axis: 'systolic' | 'diastolic', mmHg: number): Classified | undefined {
  const c = t.adult.bloodPressure.categories.find((x) => inInterval(mmHg, x[axis], 'value'));
  return c && classified(t, c, t.adult.bloodPressure.source);
}

/** Adult blood-pressure category: the higher of the systolic and the diastolic category (JNC 7, as Kemenkes uses it). */
export function classifyBloodPressure(t: GrowthStatusTable, systolic: number, diastolic: number): Classified | undefined {
  const cats = t.adult.bloodPressure.categories;
  const s = cats.findIndex((x) => inInterval(systolic, x.systolic, 'value'));
  const d = cats.findIndex((x) => inInterval(diastolic, x.diastolic, 'value'));
  if (s < 0 || d < 0) return undefined;
  return classified(t, cats[Math.max(s, d)], t.adult.bloodPressure.source);
}
