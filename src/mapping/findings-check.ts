// Semantic checks of the record's findings[] and pregnancy context against mappings/findings.json. Both go one path: each pregnancy
// field is checked and mapped as the finding the table names for it, so a value is judged the same wherever the facility puts it.
// Messages name the source field and never echo a value that could be a NIK, name or phone number.
import type { Coding } from 'fhir/r4.js';
import { issue, type Issue } from '../validation/outcome.js';
import { ageInMonths, isValidDate, type ParsedDateTime } from './datetime.js';
import { ownEntry } from '../util/own.js';
import { shown, shownNumber } from './echo.js';
import { findingsIndex, type FindingIndex, type FindingsIndex } from './findings-table.js';
import { convert } from './units.js';
import type { MappingTables, VisitFinding, VisitRecord } from './types.js';

/** What check.ts's Checker offers the finding checks. */
export interface CheckSink {
  readonly issues: Issue[];
  err(path: string, text: string, code?: Issue['code'], rule?: string): void;
  time(path: string, s: string): ParsedDateTime | undefined;
}

export type FindingValue =
  | { kind: 'coded'; coding: Coding }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'integer'; value: number }
  | { kind: 'date'; value: string }
  | { kind: 'quantity'; value: number };

export interface FindingPlan {
  ix: FindingIndex;
  /** Occurrence of this key in the visit, from 1. */
  n: number;
  value: FindingValue;
  effective: string;
  interpretation?: Coding;
}

export interface FindingsResult {
  findings: FindingPlan[];
  /** The Encounter's second identifier (ANC K number). */
  ancVisit?: { system: string; value: string };
}

/** One input to check: a findings[] entry, or a pregnancy field as the finding it stands for. */
interface FindingInput {
  f: VisitFinding;
  /** Where the code is reported (findings[i].code, or the pregnancy field). */
  codePath: string;
  valuePath: string;
  unitPath: string;
  /** findings[i], or undefined for a pregnancy field. */
  at?: string;
}

const DAY_MS = 86_400_000;
const dayNumber = (date: string) => Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)) / DAY_MS;

/** The facility's interpretation key → its coding; undefined when none was sent, null when the key is unknown (error at `path`). */
export function interpretationOf(c: CheckSink, tables: MappingTables, path: string, key: string | undefined): Coding | undefined | null {
  if (key === undefined) return undefined;
  const fx = findingsIndex(tables);
  const coding = fx.interpretations.get(key);
  if (!coding) {
    c.err(path, `${path} ${shown(key)} is not a known interpretation; use one of ${fx.interpretationKeys}`, 'code-invalid');
    return null;
  }
  return coding;
}

export function checkFindings(c: CheckSink, tables: MappingTables, r: VisitRecord, start: ParsedDateTime, end: ParsedDateTime): FindingsResult {
  const fx = findingsIndex(tables);
  const inputs: FindingInput[] = (r.findings ?? []).map((f, i) => ({
    f, codePath: `findings[${i}].code`, valuePath: `findings[${i}].value`, unitPath: `findings[${i}].unit`, at: `findings[${i}]`,
  }));
  const pregnancyOk = r.pregnancy === undefined || pregnancyPatientOk(c, tables, r, start);
  let ancVisit: FindingsResult['ancVisit'];
  if (r.pregnancy && pregnancyOk) {
    const p = r.pregnancy as Record<string, unknown>;
    for (const [field, key] of fx.pregnancyFields) {
      const value = ownEntry(p, field);
      if (value === undefined) continue;
      const path = `pregnancy.${field}`;
      const ix = fx.entries.get(key)!;
      const unit = ix.entry.kind === 'quantity' ? ix.entry.ucum!.code : undefined;
      inputs.push({ f: { code: key, value: value as VisitFinding['value'], ...(unit !== undefined && { unit }) }, codePath: path, valuePath: path, unitPath: path });
    }
    ancVisit = checkAncVisit(c, fx, r);
  }

  const out: FindingPlan[] = [];
  const counts = new Map<string, number>();
  const firstPath = new Map<string, string>();
  /** Accepted values by key (first occurrence) with where they came from, for the cross-checks. */
  const accepted = new Map<string, { value: FindingValue; path: string }>();
  for (const input of inputs) {
    const { f, codePath, valuePath } = input;
    const before = c.issues.length;
    const ix = fx.entries.get(f.code);
    if (!ix) {
      c.err(codePath, `${codePath} ${shown(f.code)} is not a known finding; use one of ${fx.keys}`, 'code-invalid');
      continue;
    }
    const e = ix.entry;
    const earlier = firstPath.get(f.code);
    if (earlier !== undefined && !e.repeatable) {
      c.err(codePath, `${codePath}: ${f.code} is already given at ${earlier}; send it once per visit`, 'duplicate');
      continue;
    }
    if (earlier === undefined) firstPath.set(f.code, codePath);
    if (e.femaleOnly && input.at !== undefined && r.patient.gender !== 'female') {
      c.err(codePath, `${codePath}: ${f.code} is recorded for women only; the patient's gender is not female`);
      continue;
    }
    const value = findingValue(c, ix, input);
    const interpretation = input.at !== undefined ? interpretationOf(c, tables, `${input.at}.interpretation`, f.interpretation) : undefined;
    let effective = start.utc;
    if (input.at !== undefined && f.at !== undefined) {
      const t = c.time(`${input.at}.at`, f.at);
      if (t && (t.ms < start.ms || t.ms > end.ms)) c.err(`${input.at}.at`, `${input.at}.at must lie within the visit (between start and end)`);
      if (t) effective = t.utc;
    }
    if (!value || interpretation === null || c.issues.length !== before) continue;
    if (value.kind === 'date') checkDateRange(c, ix, valuePath, value.value, start.localDate);
    if (c.issues.length !== before) continue;
    const n = (counts.get(f.code) ?? 0) + 1;
    counts.set(f.code, n);
    if (!accepted.has(f.code)) accepted.set(f.code, { value, path: valuePath });
    out.push({ ix, n, value, effective, ...(interpretation && { interpretation }) });
  }
  crossChecks(c, tables, accepted, start.localDate);
  return { findings: out, ...(ancVisit && { ancVisit }) };
}

const KIND_WORDS: Record<string, string> = {
  boolean: 'true or false',
  integer: 'a whole number',
  date: 'a date as YYYY-MM-DD',
  quantity: 'a number',
};

/** The value in the kind its table entry asks for, or an error at the value (or unit) field. */
function findingValue(c: CheckSink, ix: FindingIndex, input: FindingInput): FindingValue | undefined {
  const { f, valuePath, unitPath } = input;
  const e = ix.entry;
  const v = f.value;
  const wrongKind = (words: string): undefined => {
    c.err(valuePath, `${valuePath} must be ${words} for ${ix.key}`, 'value');
    return undefined;
  };
  if (e.kind !== 'quantity' && f.unit !== undefined && input.at !== undefined) {
    c.err(unitPath, `${unitPath} is only for findings with a number and unit; ${ix.key} takes ${e.kind === 'coded' ? 'an answer' : KIND_WORDS[e.kind]}`);
    return undefined;
  }
  switch (e.kind) {
    case 'coded': {
      const orBool = e.boolean ? ' (or true/false)' : '';
      if (typeof v === 'boolean') {
        if (!e.boolean) return wrongKind(`one of its answers, not true/false: ${ix.answerList}`);
        return { kind: 'coded', coding: ix.answers.get(e.boolean[v ? 'true' : 'false'])! };
      }
      if (typeof v !== 'string') return wrongKind(`one of its answers${orBool}: ${ix.answerList}`);
      const coding = ix.answers.get(v);
      if (!coding) {
        c.err(valuePath, `${valuePath} ${shown(v)} is not an answer of ${ix.key}; use one of ${ix.answerList}${orBool}`, 'code-invalid');
        return undefined;
      }
      return { kind: 'coded', coding };
    }
    case 'boolean':
      return typeof v === 'boolean' ? { kind: 'boolean', value: v } : wrongKind(KIND_WORDS.boolean);
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return wrongKind(KIND_WORDS.integer);
      return inRange(c, ix, valuePath, v, v, '') ? { kind: 'integer', value: v } : undefined;
    case 'date':
      if (typeof v !== 'string' || !isValidDate(v)) return wrongKind(`${KIND_WORDS.date} (a real calendar date)`);
      return { kind: 'date', value: v };
    case 'quantity': {
      if (typeof v !== 'number') return wrongKind(`${KIND_WORDS.quantity} in ${e.ucum!.unit}`);
      if (f.unit === undefined) {
        c.err(unitPath, `${unitPath} is required for ${ix.key}; use one of ${ix.unitList}`, 'required');
        return undefined;
      }
      const rule = ix.units.get(f.unit.toLowerCase());
      if (!rule) {
        c.err(unitPath, `unit ${shown(f.unit)} is not accepted for ${ix.key}; use one of ${ix.unitList}`, 'code-invalid');
        return undefined;
      }
      const value = convert(rule, v, e.decimals!);
      const conv = rule.identity ? '' : ` ${f.unit} (= ${shownNumber(value)} ${e.ucum!.unit})`;
      return inRange(c, ix, valuePath, v, value, conv) ? { kind: 'quantity', value } : undefined;
    }
    default:
      return undefined;
  }
}

function inRange(c: CheckSink, ix: FindingIndex, path: string, given: number, value: number, conv: string): boolean {
  const { min, max } = ix.entry.range!;
  if (value >= min && value <= max) return true;
  const unit = ix.entry.ucum ? ` ${ix.entry.ucum.unit}` : '';
  c.err(path, `${path} ${shownNumber(given)}${conv} is outside the plausible range for ${ix.key} (${min}–${max}${unit}); check for a typo or a wrong unit`);
  return false;
}

function checkDateRange(c: CheckSink, ix: FindingIndex, path: string, date: string, visitDate: string): void {
  const { minDays, maxDays } = ix.entry.dateRange!;
  const days = dayNumber(date) - dayNumber(visitDate);
  if (days > maxDays) {
    c.err(path, maxDays === 0
      ? `${path} is after the visit date: ${ix.key} cannot lie in the future of the visit`
      : `${path} is ${days} days after the visit date; at most ${maxDays} days (${Math.floor(maxDays / 7)} weeks) after it are plausible for ${ix.key}`);
  } else if (days < minDays) {
    c.err(path, `${path} is ${-days} days before the visit date; at most ${-minDays} days (${Math.floor(-minDays / 7)} weeks) before it are plausible for ${ix.key}`);
  }
}

/** A pregnancy context needs a female patient of plausible age; otherwise one error at `pregnancy` and its fields are not checked. */
function pregnancyPatientOk(c: CheckSink, tables: MappingTables, r: VisitRecord, start: ParsedDateTime): boolean {
  const rule = tables.findings.pregnancy.patient;
  if (r.patient.gender !== rule.gender) {
    c.err('pregnancy', `pregnancy is only for a ${rule.gender} patient; the patient's gender is ${r.patient.gender}`);
    return false;
  }
  const years = Math.floor(ageInMonths(r.patient.birthDate, start.localDate) / 12);
  if (years < rule.minAgeYears || years > rule.maxAgeYears) {
    c.err('pregnancy', `pregnancy is only plausible for a patient aged ${rule.minAgeYears}–${rule.maxAgeYears} years; check patient.birthDate`);
    return false;
  }
  return true;
}

function checkAncVisit(c: CheckSink, fx: FindingsIndex, r: VisitRecord): FindingsResult['ancVisit'] {
  const k = r.pregnancy!.ancVisit;
  if (k === undefined) return undefined;
  const path = 'pregnancy.ancVisit';
  if (!fx.ancVisits.has(k)) {
    c.err(path, `${path} ${shown(k)} is not an ANC visit number; use one of ${fx.ancVisitList}`, 'code-invalid');
    return undefined;
  }
  if (!fx.ancSettings.has(r.setting)) {
    c.err(path, `${path} is only for an ANC visit at ${[...fx.ancSettings].join(' or ')}; this visit's setting is ${r.setting}`);
    return undefined;
  }
  return { system: fx.ancVisitSystem, value: k };
}

/** Consistency of the pregnancy values, wherever they were sent: G ≥ P + A (error), EDD and gestational age against the LMP (warnings). */
function crossChecks(c: CheckSink, tables: MappingTables, got: Map<string, { value: FindingValue; path: string }>, visitDate: string): void {
  const preg = tables.findings.pregnancy;
  const num = (k: string) => {
    const v = got.get(k)?.value;
    return v && (v.kind === 'integer' || v.kind === 'quantity') ? v.value : undefined;
  };
  const date = (k: string) => {
    const v = got.get(k)?.value;
    return v?.kind === 'date' ? v.value : undefined;
  };
  const gravida = num('gravida');
  const para = num('para') ?? 0;
  const abortus = num('abortus') ?? 0;
  if (gravida !== undefined && para + abortus > gravida) {
    const path = got.get('para')?.path ?? got.get('abortus')!.path;
    c.err(path, `para (${para}) + abortus (${abortus}) is more than gravida (${gravida}); gravida counts every pregnancy, the current one included`);
  }
  const lmp = date('lmp');
  if (lmp === undefined) return;
  const edd = date('edd');
  if (edd !== undefined) {
    const off = dayNumber(edd) - (dayNumber(lmp) + preg.eddDaysAfterLmp.value);
    if (Math.abs(off) > preg.eddToleranceDays.value) {
      c.issues.push(issue('warning', 'value',
        `${got.get('edd')!.path} is ${Math.abs(off)} days ${off > 0 ? 'after' : 'before'} LMP + ${preg.eddDaysAfterLmp.value} days; check the LMP and the EDD (more than ${preg.eddToleranceDays.value} days apart, e.g. an ultrasound date)`,
        got.get('edd')!.path));
    }
  }
  const weeks = num('gestational-age');
  if (weeks !== undefined) {
    const fromLmp = (dayNumber(visitDate) - dayNumber(lmp)) / 7;
    if (Math.abs(weeks - fromLmp) > preg.gestationalAgeToleranceWeeks.value) {
      c.issues.push(issue('warning', 'value',
        `${got.get('gestational-age')!.path} (${weeks} weeks) differs from the ${Math.floor(fromLmp)} weeks since the LMP by more than ${preg.gestationalAgeToleranceWeeks.value} weeks; check both`,
        got.get('gestational-age')!.path));
    }
  }
}
