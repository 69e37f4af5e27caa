// mappings/findings.json: the structural checks run at load, and the lookups the checker and mapper need (built once per tables object).
import type { Coding } from 'fhir/r4.js';
import { hasEntry, ownEntry } from '../util/own.js';
import { unitRules, type UnitRule } from './units.js';
import type { FindingEntry, FindingKind, MappingTables, Sourced, TableCoding } from './types.js';

const FILE = 'findings.json';
const KINDS = new Set<FindingKind>(['coded', 'boolean', 'integer', 'date', 'quantity']);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Problems of findings.json (and of its links to systems.json, settings.json and observations.json). */
export function checkFindingsTable(t: MappingTables, sourced: (where: string, e: Partial<Sourced>) => void): string[] {
  const p: string[] = [];
  const f = t.findings;
  const systems = f.systems ?? {};
  for (const [k, s] of Object.entries(systems)) {
    sourced(`${FILE} systems.${k}`, s);
    if (!isStr(s?.url)) p.push(`${FILE} systems.${k}: url missing`);
  }
  const codingOk = (where: string, c: TableCoding | undefined) => {
    if (!c || !isStr(c.code)) p.push(`${where}: code missing`);
    else if (!hasEntry(systems, c.system)) p.push(`${where}: system "${c.system}" is not a key of ${FILE} systems`);
  };
  const categories = t.systems?.codes?.observationCategories ?? {};
  for (const [key, e] of Object.entries(f.entries ?? {})) {
    const w = `${FILE} ${key}`;
    sourced(w, e);
    if (hasEntry(t.observations?.entries ?? {}, key)) p.push(`${w}: the key is also a measurement key of observations.json (both become observation/${key}.n)`);
    if (!Array.isArray(e.code) || !e.code.length) p.push(`${w}: code needs at least one coding`);
    (Array.isArray(e.code) ? e.code : []).forEach((c, i) => codingOk(`${w} code[${i}]`, c));
    if (!Array.isArray(e.category) || !e.category.length) p.push(`${w}: category needs at least one key`);
    for (const c of Array.isArray(e.category) ? e.category : []) {
      if (!hasEntry(categories, c)) p.push(`${w}: category "${c}" is not in systems.json codes.observationCategories`);
    }
    if (!KINDS.has(e.kind)) p.push(`${w}: kind must be one of ${[...KINDS].join(', ')}`);
    p.push(...kindProblems(w, e, codingOk, sourced));
  }
  for (const [k, c] of Object.entries(f.interpretations ?? {})) {
    sourced(`${FILE} interpretations.${k}`, c);
    codingOk(`${FILE} interpretations.${k}`, c);
  }
  const preg = f.pregnancy;
  if (!preg) return [...p, `${FILE}: "pregnancy" section missing`];
  for (const [field, key] of Object.entries(preg.fields ?? {})) {
    if (!hasEntry(f.entries ?? {}, key)) p.push(`${FILE} pregnancy.fields.${field}: "${key}" is not a finding key`);
  }
  const anc = preg.ancVisit;
  sourced(`${FILE} pregnancy.ancVisit`, anc ?? {});
  if (!hasEntry(systems, anc?.system ?? '')) p.push(`${FILE} pregnancy.ancVisit: system "${anc?.system}" is not a key of ${FILE} systems`);
  for (const [k, v] of Object.entries(anc?.values ?? {})) sourced(`${FILE} pregnancy.ancVisit.values.${k}`, v);
  for (const s of anc?.settings ?? []) if (!hasEntry(t.settings?.entries ?? {}, s)) p.push(`${FILE} pregnancy.ancVisit.settings: "${s}" is not in settings.json`);
  for (const k of ['patient', 'eddDaysAfterLmp', 'eddToleranceDays', 'gestationalAgeToleranceWeeks'] as const) sourced(`${FILE} pregnancy.${k}`, preg[k] ?? {});
  for (const k of ['eddDaysAfterLmp', 'eddToleranceDays', 'gestationalAgeToleranceWeeks'] as const) {
    if (!isNum(preg[k]?.value) || preg[k].value < 0) p.push(`${FILE} pregnancy.${k}: value must be a number ≥ 0`);
  }
  return p;
}

function kindProblems(w: string, e: FindingEntry, codingOk: (where: string, c: TableCoding | undefined) => void, sourced: (where: string, e: Partial<Sourced>) => void): string[] {
  const p: string[] = [];
  const range = (r: { min: number; max: number } | undefined) => {
    if (!isNum(r?.min) || !isNum(r?.max) || r.min >= r.max) p.push(`${w}: range needs min < max`);
  };
  if (e.kind === 'coded') {
    const answers = Object.entries(e.answers ?? {});
    if (!answers.length) p.push(`${w}: a coded finding needs answers`);
    for (const [k, a] of answers) {
      sourced(`${w} answers.${k}`, a);
      codingOk(`${w} answers.${k}`, a);
    }
    if (e.boolean && (!hasEntry(e.answers ?? {}, e.boolean.true) || !hasEntry(e.answers ?? {}, e.boolean.false))) {
      p.push(`${w}: boolean.true and boolean.false must be answer keys`);
    }
  } else if (e.answers || e.boolean) p.push(`${w}: answers and boolean are only for kind coded`);
  if (e.kind === 'integer') range(e.range);
  if (e.kind === 'date' && (!isNum(e.dateRange?.minDays) || !isNum(e.dateRange?.maxDays) || e.dateRange.minDays > e.dateRange.maxDays)) {
    p.push(`${w}: dateRange needs minDays ≤ maxDays`);
  }
  if (e.kind === 'quantity') {
    range(e.range);
    if (!isStr(e.ucum?.code) || !isStr(e.ucum?.unit)) p.push(`${w}: ucum needs code and unit`);
    if (!e.units || !hasEntry(e.units, e.ucum?.code ?? '')) p.push(`${w}: units must include the UCUM code (the unit the pregnancy fields are sent in)`);
    if (!Number.isInteger(e.decimals) || e.decimals! < 0 || e.decimals! > 6) p.push(`${w}: decimals must be an integer 0..6`);
  }
  return p;
}

// ---------- lookups ----------

export interface FindingIndex {
  key: string;
  entry: FindingEntry;
  code: Coding[];
  category: Array<{ coding: Coding[] }>;
  answers: Map<string, Coding>;
  /** For messages: "smoker, non-smoker". */
  answerList: string;
  units: Map<string, UnitRule>;
  unitList: string;
}

export interface FindingsIndex {
  entries: Map<string, FindingIndex>;
  keys: string;
  interpretations: Map<string, Coding>;
  interpretationKeys: string;
  /** pregnancy field → finding key, in table order. */
  pregnancyFields: Array<[string, string]>;
  ancVisits: Set<string>;
  ancVisitList: string;
  ancVisitSystem: string;
  ancSettings: Set<string>;
}

const cache = new WeakMap<MappingTables, FindingsIndex>();

function toCoding(urls: Map<string, string>, c: TableCoding): Coding {
  const system = urls.get(c.system)!;
  return c.display === undefined ? { system, code: c.code } : { system, code: c.code, display: c.display };
}

export function findingsIndex(tables: MappingTables): FindingsIndex {
  let ix = cache.get(tables);
  if (ix) return ix;
  const f = tables.findings;
  const urls = new Map(Object.entries(f.systems).map(([k, s]) => [k, s.url]));
  const categoryUrl = tables.systems.codeSystems.observationCategory.url;
  const entries = new Map<string, FindingIndex>();
  for (const [key, entry] of Object.entries(f.entries)) {
    const answers = new Map(Object.entries(entry.answers ?? {}).map(([k, a]) => [k, toCoding(urls, a)]));
    entries.set(key, {
      key,
      entry,
      code: entry.code.map((c) => toCoding(urls, c)),
      category: entry.category.map((c) => {
        const display = ownEntry(tables.systems.codes.observationCategories, c)?.display;
        return { coding: [display === undefined ? { system: categoryUrl, code: c } : { system: categoryUrl, code: c, display }] };
      }),
      answers,
      answerList: [...answers.keys()].join(', '),
      units: unitRules(entry.units ?? {}),
      unitList: Object.keys(entry.units ?? {}).join(', '),
    });
  }
  const interpretations = new Map(Object.entries(f.interpretations).map(([k, c]) => [k, toCoding(urls, c)]));
  const anc = f.pregnancy.ancVisit;
  ix = {
    entries,
    keys: [...entries.keys()].join(', '),
    interpretations,
    interpretationKeys: [...interpretations.keys()].join(', '),
    pregnancyFields: Object.entries(f.pregnancy.fields),
    ancVisits: new Set(Object.keys(anc.values)),
    ancVisitList: Object.keys(anc.values).join(', '),
    ancVisitSystem: urls.get(anc.system)!,
    ancSettings: new Set(anc.settings),
  };
  cache.set(tables, ix);
  return ix;
}
