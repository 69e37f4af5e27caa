// Loads the code tables of mappings/ (the only I/O of the mapping module) and derives the lookups the mapper needs, once per tables object.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../util/paths.js';
import { hasEntry } from '../util/own.js';
import { unitRules, type UnitRule } from './units.js';
import { checkFindingsTable } from './findings-table.js';
import { loadGrowthTables } from '../growth/tables.js';
import type {
  DiagnosesTable, FindingsTable, MappingTables, ObservationEntry, ObservationsTable, SettingsTable, SystemsTable, VaccineEntry, VaccineProduct, VaccinesTable,
} from './types.js';

const FILES = {
  observations: 'observations.json',
  findings: 'findings.json',
  vaccines: 'vaccines.json',
  settings: 'settings.json',
  systems: 'systems.json',
  diagnoses: 'diagnoses.json',
  schema: 'ilp-visit.schema.json',
} as const;

function readJson(dir: string, file: string): unknown {
  const p = path.join(dir, file);
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new Error(`mapping table ${p} cannot be read: ${(e as Error).message}`);
  }
}

/** Reads and checks the tables in `dir` (default: the package's mappings/). Throws with every problem found when a table is broken. */
export function loadMappingTables(dir: string = mappingsDir): MappingTables {
  const tables: MappingTables = {
    observations: readJson(dir, FILES.observations) as ObservationsTable,
    findings: readJson(dir, FILES.findings) as FindingsTable,
    vaccines: readJson(dir, FILES.vaccines) as VaccinesTable,
    settings: readJson(dir, FILES.settings) as SettingsTable,
    systems: readJson(dir, FILES.systems) as SystemsTable,
    diagnoses: readJson(dir, FILES.diagnoses) as DiagnosesTable,
    schema: readJson(dir, FILES.schema) as Record<string, unknown>,
    growth: loadGrowthTables(dir),
  };
  const problems = checkTables(tables);
  if (problems.length) throw new Error(`mapping tables in ${dir} are inconsistent:\n- ${problems.join('\n- ')}`);
  return tables;
}

const CONFIDENCE = new Set(['OFF', 'OFF-copy', 'OFF-draft', 'COM', 'UNV']);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Structural checks of the tables, so a bad edit fails at start-up with a clear message rather than mid-mapping. */
export function checkTables(t: MappingTables): string[] {
  const p: string[] = [];
  for (const name of ['observations', 'findings', 'vaccines', 'settings', 'systems', 'diagnoses'] as const) {
    const tbl = t[name] as { version?: unknown } | undefined;
    if (!tbl || !isStr(tbl.version)) p.push(`${FILES[name]}: missing "version"`);
  }
  if (!t.schema || typeof t.schema !== 'object') p.push(`${FILES.schema}: not a JSON Schema object`);
  const sourced = (where: string, e: { confidence?: unknown; source?: unknown }) => {
    if (!CONFIDENCE.has(e.confidence as string)) p.push(`${where}: confidence must be one of ${[...CONFIDENCE].join(', ')}`);
    if (!isStr(e.source)) p.push(`${where}: missing "source"`);
  };
  const categories = t.systems?.codes?.observationCategories ?? {};
  for (const [key, e] of Object.entries(t.observations?.entries ?? {})) {
    const w = `${FILES.observations} ${key}`;
    sourced(w, e);
    if (!isStr(e.loinc?.code) || !isStr(e.loinc?.display)) p.push(`${w}: loinc needs code and display`);
    if (!hasEntry(categories, e.category)) p.push(`${w}: category "${e.category}" is not in systems.json codes.observationCategories`);
    if (!isStr(e.ucum?.code) || !isStr(e.ucum?.unit)) p.push(`${w}: ucum needs code and unit`);
    if (!e.units || !Object.keys(e.units).length) p.push(`${w}: no accepted units`);
    for (const [u, c] of Object.entries(e.units ?? {})) {
      if ((c.factor !== undefined && (!isNum(c.factor) || c.factor === 0)) || (c.offset !== undefined && !isNum(c.offset))) {
        p.push(`${w}: unit "${u}" has a bad factor/offset`);
      }
    }
    if (!isNum(e.range?.min) || !isNum(e.range?.max) || e.range.min >= e.range.max) p.push(`${w}: range needs min < max`);
    if (!Number.isInteger(e.decimals) || e.decimals < 0 || e.decimals > 6) p.push(`${w}: decimals must be an integer 0..6`);
  }
  const reasons = t.systems?.codes?.immunizationReasons ?? {};
  for (const [key, e] of Object.entries(t.vaccines?.entries ?? {})) {
    const w = `${FILES.vaccines} ${key}`;
    sourced(w, e);
    const products = Array.isArray(e.products) ? e.products : [];
    if (!Array.isArray(e.products)) p.push(`${w}: products must be an array`);
    if (e.defaultProduct !== undefined && !products.some((x) => x.code === e.defaultProduct)) p.push(`${w}: defaultProduct must be one of products`);
    if (!Array.isArray(e.groups)) p.push(`${w}: groups must be an array`);
    // Without a default product a dose given here is coded by its vaccine groups alone: there must be some.
    else if (e.defaultProduct === undefined && !e.groups.length) p.push(`${w}: an entry without defaultProduct needs vaccine groups`);
    if (!Number.isInteger(e.maxDose) || e.maxDose < 1) p.push(`${w}: maxDose must be a positive integer`);
    for (const x of products) {
      if (x.maxDose !== undefined && (!Number.isInteger(x.maxDose) || x.maxDose < 1 || x.maxDose > e.maxDose)) p.push(`${w}: product ${x.code} maxDose must be an integer 1..${e.maxDose}`);
    }
    if (e.latestDoseAgeMonths !== undefined && (!Number.isInteger(e.latestDoseAgeMonths) || e.latestDoseAgeMonths < 0)) p.push(`${w}: latestDoseAgeMonths must be a whole number of months`);
    for (const r of e.reason?.rules ?? []) {
      for (const code of r.when?.products ?? []) if (!products.some((x) => x.code === code)) p.push(`${w}: reason rule product ${code} is not one of products`);
    }
    for (const r of [e.reason?.default, ...(e.reason?.rules ?? []).map((x) => x.reason)]) {
      if (!hasEntry(reasons, r)) p.push(`${w}: reason "${r}" is not in systems.json codes.immunizationReasons`);
    }
  }
  for (const [key, e] of Object.entries(t.settings?.entries ?? {})) {
    sourced(`${FILES.settings} ${key}`, e);
    if (!isStr(e.encounterClass?.code)) p.push(`${FILES.settings} ${key}: encounterClass.code missing`);
  }
  for (const [key, e] of Object.entries(t.systems?.codes?.notDoneReasons ?? {})) {
    if (!hasEntry(t.systems.codeSystems ?? {}, e.system)) p.push(`${FILES.systems} notDoneReasons.${key}: system "${e.system}" is not a codeSystems key`);
  }
  p.push(...checkDiagnoses(t, sourced));
  if (t.findings) p.push(...checkFindingsTable(t, sourced));
  const growthCategory = t.growth?.status.observationCategory.code;
  if (growthCategory !== undefined && !hasEntry(categories, growthCategory)) p.push(`growth-status.json observationCategory "${growthCategory}" is not in systems.json codes.observationCategories`);
  const adult = t.growth?.status.adult;
  const classified = adult ? [adult.kek.measurement, adult.bmi.measurement, adult.bloodPressure.measurements.systolic, adult.bloodPressure.measurements.diastolic] : [];
  for (const key of classified) {
    if (!hasEntry(t.observations?.entries ?? {}, key)) p.push(`growth-status.json adult: measurement "${key}" is not in ${FILES.observations}`);
  }
  return p;
}

/** ICD-10 code syntax accepted from records and tables: a letter, two digits, optionally a dot and one or two digits. */
export const ICD10_CODE = /^[A-Z][0-9]{2}(\.[0-9]{1,2})?$/;

const WHEN_KEYS = new Set(['settings', 'gender', 'minAgeMonths', 'belowAgeMonths', 'measurementsAny', 'measurementsNone', 'findingsAny', 'findingsNone', 'noMeasurements', 'nothingChosen', 'immunizations']);

function checkDiagnoses(t: MappingTables, sourced: (where: string, e: { confidence?: unknown; source?: unknown }) => void): string[] {
  const p: string[] = [];
  const d = t.diagnoses;
  if (!d) return p;
  const f = FILES.diagnoses;
  const slots = new Set(Array.isArray(d.slots) ? d.slots : []);
  if (!slots.size) p.push(`${f}: "slots" must list the rule slots in rank order`);
  for (const k of ['clinicalStatus', 'verificationStatus', 'category', 'use'] as const) {
    const e = d.defaults?.[k];
    if (!e || !isStr(e.code)) p.push(`${f} defaults.${k}: code missing`);
    else sourced(`${f} defaults.${k}`, e);
  }
  const ids = new Set<string>();
  (Array.isArray(d.rules) ? d.rules : []).forEach((r, i) => {
    const w = `${f} rules[${i}]${isStr(r?.id) ? ` (${r.id})` : ''}`;
    if (!isStr(r?.id) || ids.has(r.id)) p.push(`${w}: needs a unique id`);
    ids.add(r?.id);
    sourced(w, r ?? {});
    if (!slots.has(r?.slot)) p.push(`${w}: slot "${r?.slot}" is not in "slots"`);
    if (!isStr(r?.code) || !ICD10_CODE.test(r.code)) p.push(`${w}: code must be an ICD-10 code like Z00.1`);
    for (const k of Object.keys(r?.when ?? {})) if (!WHEN_KEYS.has(k)) p.push(`${w}: unknown condition "${k}" in when`);
    for (const m of [...(r?.when?.measurementsAny ?? []), ...(r?.when?.measurementsNone ?? [])]) {
      if (!hasEntry(t.observations?.entries ?? {}, m)) p.push(`${w}: measurement "${m}" is not in ${FILES.observations}`);
    }
    for (const k of [...(r?.when?.findingsAny ?? []), ...(r?.when?.findingsNone ?? [])]) {
      if (!hasEntry(t.findings?.entries ?? {}, k)) p.push(`${w}: finding "${k}" is not in ${FILES.findings}`);
    }
    for (const v of r?.when?.immunizations?.vaccinesOnly ?? []) {
      if (!hasEntry(t.vaccines?.entries ?? {}, v)) p.push(`${w}: vaccine "${v}" is not in ${FILES.vaccines}`);
    }
  });
  // Every finished Encounter needs a diagnosis (rule 10457): some rule must hold whatever the visit carries.
  const catchAll = (d.rules ?? []).some((r) => Object.keys(r?.when ?? {}).every((k) => k === 'nothingChosen'));
  if (!catchAll) p.push(`${f}: needs a catch-all rule (when empty or only nothingChosen) so every visit gets a diagnosis`);
  for (const [code, e] of Object.entries(d.codes ?? {})) {
    if (!ICD10_CODE.test(code)) p.push(`${f} codes.${code}: not an ICD-10 code`);
    sourced(`${f} codes.${code}`, e);
  }
  return p;
}

// ---------- derived lookups (computed once per tables object) ----------

export interface ObservationIndex {
  entry: ObservationEntry;
  /** Lower-cased input unit → conversion. */
  units: Map<string, UnitRule>;
  /** For messages: "kg, g, gram". */
  unitList: string;
}

export interface VaccineIndex {
  entry: VaccineEntry;
  products: Map<string, VaccineProduct>;
  productList: string;
}

export interface TableIndex {
  /** ICD-10 code → display, from diagnoses.json codes. */
  icd10Displays: Map<string, string>;
  /** Rules grouped by slot, slots in rank order. */
  diagnosisSlots: Array<{ slot: string; rules: DiagnosesTable['rules'] }>;
  observations: Map<string, ObservationIndex>;
  observationKeys: string;
  vaccines: Map<string, VaccineIndex>;
  vaccineKeys: string;
  earliestMs: number;
  earliestText: string;
}

const cache = new WeakMap<MappingTables, TableIndex>();

/** Lookups derived from `tables`; a copy of the tables (e.g. with a new measurement key) gets its own index. */
export function indexOf(tables: MappingTables): TableIndex {
  let ix = cache.get(tables);
  if (ix) return ix;
  const observations = new Map<string, ObservationIndex>();
  for (const [key, entry] of Object.entries(tables.observations.entries)) {
    observations.set(key, { entry, units: unitRules(entry.units), unitList: Object.keys(entry.units).join(', ') });
  }
  const vaccines = new Map<string, VaccineIndex>();
  for (const [key, entry] of Object.entries(tables.vaccines.entries)) {
    vaccines.set(key, { entry, products: new Map(entry.products.map((x) => [x.code, x])), productList: entry.products.map((x) => x.code).join(', ') });
  }
  const earliestText = tables.systems.earliestDateTime.value;
  const icd10Displays = new Map<string, string>();
  for (const [code, e] of Object.entries(tables.diagnoses.codes)) if (e.display) icd10Displays.set(code, e.display);
  const diagnosisSlots = tables.diagnoses.slots.map((slot) => ({ slot, rules: tables.diagnoses.rules.filter((r) => r.slot === slot) }));
  ix = {
    icd10Displays,
    diagnosisSlots,
    observations,
    observationKeys: [...observations.keys()].join(', '),
    vaccines,
    vaccineKeys: [...vaccines.keys()].join(', '),
    earliestMs: Date.parse(earliestText),
    earliestText: earliestText.slice(0, 10),
  };
  cache.set(tables, ix);
  return ix;
}
