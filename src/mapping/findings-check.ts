// Semantic checks of the record's findings[] and pregnancy context against mappings/findings.json. Both go one path: each pregnancy
// field is checked and mapped as the finding the table names for it, so a value is judged the same wherever the facility puts it.
// Messages name the source field and never echo a value that could be a NIK, name or phone number.
import type { Coding } from 'fhir/r4.js';
import type { Issue } from '../validation/outcome.js';
import { messageIssue } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';
import { ageInMonths, isValidDate, type ParsedDateTime } from './datetime.js';
import { ownEntry } from '../util/own.js';
import { shownNumberParam, shownParam, shownQuantityParam } from './echo.js';
import { findingsIndex, type FindingIndex, type FindingsIndex } from './findings-table.js';
import { convert } from './units.js';
import type { MappingTables, VisitFinding, VisitRecord } from './types.js';

/** What check.ts's Checker offers the finding checks. */
export interface CheckSink {
  readonly issues: Issue[];
  err(path: string, key: string, params?: Params, code?: Issue['code'], rule?: string): void;
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
    c.err(path, 'source.interpretation.unknown', { ...shownParam('value', key), allowed: fx.interpretationKeys }, 'code-invalid');
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
      c.err(codePath, 'source.finding.unknown', { ...shownParam('value', f.code), allowed: fx.keys }, 'code-invalid');
      continue;
    }
    const e = ix.entry;
    const earlier = firstPath.get(f.code);
    if (earlier !== undefined && !e.repeatable) {
      c.err(codePath, 'source.finding.repeat', { code: f.code, earlier }, 'duplicate');
      continue;
    }
    if (earlier === undefined) firstPath.set(f.code, codePath);
    if (e.femaleOnly && input.at !== undefined && r.patient.gender !== 'female') {
      c.err(codePath, 'source.finding.female-only', { code: f.code });
      continue;
    }
    const value = findingValue(c, ix, input);
    const interpretation = input.at !== undefined ? interpretationOf(c, tables, `${input.at}.interpretation`, f.interpretation) : undefined;
    let effective = start.utc;
    if (input.at !== undefined && f.at !== undefined) {
      const t = c.time(`${input.at}.at`, f.at);
      if (t && (t.ms < start.ms || t.ms > end.ms)) c.err(`${input.at}.at`, 'source.time.within-visit');
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

/** The catalogue fragment saying what a value of each kind looks like. */
const KIND_WORDS: Record<string, string> = {
  boolean: 'source.kind.boolean',
  integer: 'source.kind.integer',
  date: 'source.kind.date',
  coded: 'source.kind.an-answer',
};

/** The value in the kind its table entry asks for, or an error at the value (or unit) field. */
function findingValue(c: CheckSink, ix: FindingIndex, input: FindingInput): FindingValue | undefined {
  const { f, valuePath, unitPath } = input;
  const e = ix.entry;
  const v = f.value;
  /** The value is not of its kind; `expected` is the fragment (key) saying what it must be, `params` what that fragment needs. */
  const wrongKind = (expected: string, params: Params = {}): undefined => {
    c.err(valuePath, 'source.finding.wrong-kind', { '@expected': expected, code: ix.key, ...params }, 'value');
    return undefined;
  };
  if (e.kind !== 'quantity' && f.unit !== undefined && input.at !== undefined) {
    c.err(unitPath, 'source.finding.unit-not-for-kind', { code: ix.key, '@expected': KIND_WORDS[e.kind]! });
    return undefined;
  }
  switch (e.kind) {
    case 'coded': {
      const answers = { answers: ix.answerList };
      if (typeof v === 'boolean') {
        if (!e.boolean) return wrongKind('source.kind.answer-not-boolean', answers);
        return { kind: 'coded', coding: ix.answers.get(e.boolean[v ? 'true' : 'false'])! };
      }
      if (typeof v !== 'string') return wrongKind(e.boolean ? 'source.kind.answer-or-boolean' : 'source.kind.answer', answers);
      const coding = ix.answers.get(v);
      if (!coding) {
        c.err(valuePath, e.boolean ? 'source.finding.answer-unknown-or-boolean' : 'source.finding.answer-unknown', { ...shownParam('value', v), code: ix.key, ...answers }, 'code-invalid');
        return undefined;
      }
      return { kind: 'coded', coding };
    }
    case 'boolean':
      return typeof v === 'boolean' ? { kind: 'boolean', value: v } : wrongKind(KIND_WORDS.boolean);
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return wrongKind(KIND_WORDS.integer);
      return inRange(c, ix, valuePath, v, v) ? { kind: 'integer', value: v } : undefined;
    case 'date':
      if (typeof v !== 'string' || !isValidDate(v)) return wrongKind('source.kind.real-date');
      return { kind: 'date', value: v };
    case 'quantity': {
      if (typeof v !== 'number') return wrongKind('source.kind.quantity', { ucum: e.ucum!.unit });
      if (f.unit === undefined) {
        c.err(unitPath, 'source.finding.unit-required', { code: ix.key, allowed: ix.unitList }, 'required');
        return undefined;
      }
      const rule = ix.units.get(f.unit.toLowerCase());
      if (!rule) {
        c.err(unitPath, 'source.unit.not-accepted', { ...shownParam('unit', f.unit), code: ix.key, allowed: ix.unitList }, 'code-invalid');
        return undefined;
      }
      const value = convert(rule, v, e.decimals!);
      const conv = rule.identity ? undefined : { unit: f.unit, ...shownQuantityParam('converted', value, e.ucum!.unit) };
      return inRange(c, ix, valuePath, v, value, conv) ? { kind: 'quantity', value } : undefined;
    }
    default:
      return undefined;
  }
}

/** `conv`: the unit given and the converted value, when the value was converted. */
function inRange(c: CheckSink, ix: FindingIndex, path: string, given: number, value: number, conv?: Params): boolean {
  const { min, max } = ix.entry.range!;
  if (value >= min && value <= max) return true;
  const unit = ix.entry.ucum ? ` ${ix.entry.ucum.unit}` : '';
  const params = { ...shownNumberParam('value', given), code: ix.key, range: `${min}–${max}${unit}` };
  if (conv) c.err(path, 'source.finding.out-of-range-converted', { ...params, ...conv });
  else c.err(path, 'source.finding.out-of-range', params);
  return false;
}

function checkDateRange(c: CheckSink, ix: FindingIndex, path: string, date: string, visitDate: string): void {
  const { minDays, maxDays } = ix.entry.dateRange!;
  const days = dayNumber(date) - dayNumber(visitDate);
  if (days > maxDays) {
    if (maxDays === 0) c.err(path, 'source.finding.date-after-visit', { code: ix.key });
    else c.err(path, 'source.finding.date-days-after', { days, max: maxDays, weeks: Math.floor(maxDays / 7), code: ix.key });
  } else if (days < minDays) {
    c.err(path, 'source.finding.date-days-before', { days: -days, max: -minDays, weeks: Math.floor(-minDays / 7), code: ix.key });
  }
}

/** A pregnancy context needs a female patient of plausible age; otherwise one error at `pregnancy` and its fields are not checked. */
function pregnancyPatientOk(c: CheckSink, tables: MappingTables, r: VisitRecord, start: ParsedDateTime): boolean {
  const rule = tables.findings.pregnancy.patient;
  if (r.patient.gender !== rule.gender) {
    c.err('pregnancy', 'source.pregnancy.gender', { gender: rule.gender, actual: r.patient.gender });
    return false;
  }
  const years = Math.floor(ageInMonths(r.patient.birthDate, start.localDate) / 12);
  if (years < rule.minAgeYears || years > rule.maxAgeYears) {
    c.err('pregnancy', 'source.pregnancy.age', { min: rule.minAgeYears, max: rule.maxAgeYears });
    return false;
  }
  return true;
}

function checkAncVisit(c: CheckSink, fx: FindingsIndex, r: VisitRecord): FindingsResult['ancVisit'] {
  const k = r.pregnancy!.ancVisit;
  if (k === undefined) return undefined;
  const path = 'pregnancy.ancVisit';
  if (!fx.ancVisits.has(k)) {
    c.err(path, 'source.anc.unknown', { ...shownParam('value', k), allowed: fx.ancVisitList }, 'code-invalid');
    return undefined;
  }
  if (!fx.ancSettings.has(r.setting)) {
    c.err(path, 'source.anc.setting', { settings: [...fx.ancSettings].join(', '), setting: r.setting });
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
    c.err(path, 'source.pregnancy.gpa', { para, abortus, gravida });
  }
  const lmp = date('lmp');
  if (lmp === undefined) return;
  const edd = date('edd');
  if (edd !== undefined) {
    const off = dayNumber(edd) - (dayNumber(lmp) + preg.eddDaysAfterLmp.value);
    if (Math.abs(off) > preg.eddToleranceDays.value) {
      const path = got.get('edd')!.path;
      c.issues.push(messageIssue('warning', 'value', off > 0 ? 'source.pregnancy.edd-after' : 'source.pregnancy.edd-before',
        { path, days: Math.abs(off), eddDays: preg.eddDaysAfterLmp.value, tolerance: preg.eddToleranceDays.value }, path));
    }
  }
  const weeks = num('gestational-age');
  if (weeks !== undefined) {
    const fromLmp = (dayNumber(visitDate) - dayNumber(lmp)) / 7;
    if (Math.abs(weeks - fromLmp) > preg.gestationalAgeToleranceWeeks.value) {
      const path = got.get('gestational-age')!.path;
      c.issues.push(messageIssue('warning', 'value', 'source.pregnancy.gestational-age',
        { path, weeks, fromLmp: Math.floor(fromLmp), tolerance: preg.gestationalAgeToleranceWeeks.value }, path));
    }
  }
}
