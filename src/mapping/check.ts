// Source-record checks: the JSON Schema (structure) first, then the semantic rules the schema cannot express (codes and units from the
// tables, plausible ranges, dose limits, time rules, immunization rules 10306/10307). The result carries a plan with everything parsed and
// looked up, so the mapper does no second pass. Messages name the source field and never echo NIK, names or phone numbers.
import { hasErrors, type Issue } from '../validation/outcome.js';
import { messageIssue } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';
import { ageInMonths, hasUnrealOffset, isValidDate, parseDateTime, type ParsedDateTime } from './datetime.js';
import { capIssues, oversizedArrays, sourceRecordIssues } from './source-schema.js';
import { ownEntry } from '../util/own.js';
import { shownNumberParam, shownParam, shownQuantityParam } from './echo.js';
import { convert } from './units.js';
import { checkFindings, interpretationOf, type FindingPlan } from './findings-check.js';
import type { Coding } from 'fhir/r4.js';
import { indexOf, type ObservationIndex, type TableIndex, type VaccineIndex } from './tables.js';
import { checkGrowthFields } from './growth-check.js';
import type {
  DiagnosisWhen, MappingTables, SettingEntry, VaccineEntry, VaccineProduct, VisitDiagnosis, VisitImmunization, VisitMeasurement, VisitRecord,
} from './types.js';

export interface MeasurementPlan {
  m: VisitMeasurement;
  /** Occurrence of this code in the visit, from 1. */
  n: number;
  ix: ObservationIndex;
  /** Value in the UCUM unit. */
  value: number;
  effective: string;
  /** The facility's interpretation, when sent. */
  interpretation?: Coding;
}

export interface ImmunizationPlan {
  im: VisitImmunization;
  n: number;
  ix: VaccineIndex;
  product?: VaccineProduct;
  occurrence: string;
  reason: string;
}

export interface DiagnosisPlan {
  code: string;
  display?: string;
  /** 1 = primary; 1..n without gaps. */
  rank: number;
  clinicalStatus: string;
  onset?: string;
  /** The diagnoses.json rule that derived it; undefined when the record sent it. */
  ruleId?: string;
}

export interface VisitPlan {
  record: VisitRecord;
  start: ParsedDateTime;
  end: ParsedDateTime;
  setting: SettingEntry;
  measurements: MeasurementPlan[];
  findings: FindingPlan[];
  /** ANC visit number as the Encounter's second identifier. */
  ancVisit?: { system: string; value: string };
  immunizations: ImmunizationPlan[];
  diagnoses: DiagnosisPlan[];
}

const notRealDateTime = (s: string) => (hasUnrealOffset(s) ? 'source.time.offset-unreal' : 'source.time.not-real');

class Checker {
  readonly issues: Issue[] = [];
  constructor(readonly ix: TableIndex, readonly nowMs: number) {}

  /** An error at `path` said by catalogue message `key`; `{path}` is always available to the message. */
  err(path: string, key: string, params: Params = {}, code: Issue['code'] = 'value', rule?: string) {
    this.issues.push(messageIssue('error', code, key, { path, ...params }, path, rule));
  }

  /** Parses a schema-valid date-time and applies the platform's time window (not in the future, not before 2022-08-31). */
  time(path: string, s: string): ParsedDateTime | undefined {
    const t = parseDateTime(s);
    if (!t) {
      this.err(path, notRealDateTime(s));
      return undefined;
    }
    if (t.ms > this.nowMs) {
      this.err(path, 'source.time.future');
    } else if (t.ms < this.ix.earliestMs) {
      this.err(path, 'source.time.too-early', { earliest: this.ix.earliestText });
    }
    return t;
  }
}

/** Schema + semantic checks; `plan` is present only when there are no errors. */
export function analyseVisit(record: unknown, tables: MappingTables, now: Date): { issues: Issue[]; plan?: VisitPlan } {
  const big = oversizedArrays(record, tables.schema);
  if (big.length) return { issues: big };
  const sourceIssues = sourceRecordIssues(record, tables.schema);
  if (sourceIssues.length) return { issues: sourceIssues };

  const r = record as VisitRecord;
  const c = new Checker(indexOf(tables), now.getTime());
  const start = c.time('start', r.start);
  const end = c.time('end', r.end);
  if (start && end && end.ms <= start.ms) c.err('end', 'source.visit.end-before-start', {}, 'value', '10121');

  const setting = ownEntry(tables.settings.entries, r.setting);
  if (!setting) c.err('setting', 'source.setting.unknown', { setting: r.setting }, 'code-invalid');

  const p = r.patient;
  if (!isValidDate(p.birthDate)) c.err('patient.birthDate', 'source.date.not-real');
  else if (start && p.birthDate > start.localDate) c.err('patient.birthDate', 'source.birthdate.after-visit');
  const a = p.address;
  if (!a.cityCode.startsWith(a.provinceCode)) c.err('patient.address.cityCode', 'source.address.city-prefix');
  if (!a.districtCode.startsWith(a.cityCode)) c.err('patient.address.districtCode', 'source.address.district-prefix');
  if (!a.villageCode.startsWith(a.districtCode)) c.err('patient.address.villageCode', 'source.address.village-prefix');

  const measurements = start && end ? checkMeasurements(c, tables, r.measurements ?? [], start, end) : [];
  const found = start && end ? checkFindings(c, tables, r, start, end) : { findings: [] };
  const immunizations = start && end ? checkImmunizations(c, r, start, end) : [];
  const sent = start && end ? checkDiagnoses(c, r.diagnoses ?? [], tables, end) : [];
  if (start) checkGrowthFields(r, start.localDate, tables.growth, (path, key, params, code) => c.err(path, key, params, code));

  const issues = capIssues(c.issues);
  if (hasErrors(issues) || !start || !end || !setting) return { issues };
  const diagnoses = sent.length ? sent : deriveDiagnoses(c.ix, tables, r, start.localDate, found.findings);
  // Two literals rather than `...found`: a spread in the middle of a literal is a slow generic copy; same keys in the same order.
  const { findings, ancVisit } = found;
  const plan: VisitPlan = ancVisit
    ? { record: r, start, end, setting, measurements, findings, ancVisit, immunizations, diagnoses }
    : { record: r, start, end, setting, measurements, findings, immunizations, diagnoses };
  return { issues, plan };
}

/** The record's own diagnoses: no repeated code or rank, onset not after the visit; ranked 1..n (given ranks first, then list order). */
function checkDiagnoses(c: Checker, list: VisitDiagnosis[], tables: MappingTables, end: ParsedDateTime): DiagnosisPlan[] {
  const codes = new Map<string, number>();
  const ranks = new Map<number, number>();
  const ok: Array<{ d: VisitDiagnosis; i: number; onset?: string }> = [];
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    const at = `diagnoses[${i}]`;
    const before = c.issues.length;
    const sameCode = codes.get(d.code);
    if (sameCode !== undefined) c.err(`${at}.code`, 'source.diagnosis.code-repeat', { code: d.code, first: sameCode }, 'duplicate');
    else codes.set(d.code, i);
    if (d.rank !== undefined) {
      const sameRank = ranks.get(d.rank);
      if (sameRank !== undefined) c.err(`${at}.rank`, 'source.diagnosis.rank-repeat', { rank: d.rank, first: sameRank }, 'duplicate');
      else ranks.set(d.rank, i);
    }
    let onset: string | undefined;
    if (d.onset !== undefined) {
      // Not c.time(): a chronic condition may have begun before the platform's 2022-08-31 cut-off, which applies to visit times.
      const t = parseDateTime(d.onset);
      if (!t) c.err(`${at}.onset`, notRealDateTime(d.onset));
      else if (t.ms > end.ms) c.err(`${at}.onset`, 'source.diagnosis.onset-after-visit');
      onset = t?.utc;
    }
    if (c.issues.length === before) ok.push({ d, i, onset });
  }
  const defaultStatus = tables.diagnoses.defaults.clinicalStatus.code;
  return ok
    .sort((a, b) => (a.d.rank ?? Infinity) - (b.d.rank ?? Infinity) || a.i - b.i)
    .map(({ d, onset }, n) => {
      const display = d.display ?? c.ix.icd10Displays.get(d.code);
      // Assigned in turn rather than spread in (slow generic copies); the same keys in the same order.
      const plan: DiagnosisPlan = { code: d.code, rank: n + 1, clinicalStatus: d.clinicalStatus ?? defaultStatus };
      if (display !== undefined) plan.display = display;
      if (onset !== undefined) plan.onset = onset;
      return plan;
    });
}

/** What the visit carries, for the diagnosis rules. */
interface VisitFacts {
  ageMonths: number;
  measured: Set<string>;
  /** Finding keys of the visit, wherever sent (findings[] or pregnancy). */
  found: Set<string>;
}

/** list.some((x) => set.has(x)), as a loop (every rule of every visit asks; nothing to ask when the set is empty). */
function someIn(list: readonly string[], set: ReadonlySet<string>): boolean {
  if (set.size === 0) return false;
  for (let i = 0; i < list.length; i++) if (set.has(list[i])) return true;
  return false;
}

function ruleHolds(w: DiagnosisWhen, r: VisitRecord, facts: VisitFacts, chosen: number): boolean {
  if (w.settings && !w.settings.includes(r.setting)) return false;
  if (w.gender !== undefined && r.patient.gender !== w.gender) return false;
  if (w.minAgeMonths !== undefined && facts.ageMonths < w.minAgeMonths) return false;
  if (w.belowAgeMonths !== undefined && facts.ageMonths >= w.belowAgeMonths) return false;
  if (w.measurementsAny && !someIn(w.measurementsAny, facts.measured)) return false;
  if (w.measurementsNone && someIn(w.measurementsNone, facts.measured)) return false;
  if (w.findingsAny && !someIn(w.findingsAny, facts.found)) return false;
  if (w.findingsNone && someIn(w.findingsNone, facts.found)) return false;
  if (w.noMeasurements !== undefined && w.noMeasurements !== (facts.measured.size === 0)) return false;
  if (w.nothingChosen && chosen > 0) return false;
  if (w.immunizations) {
    // Some immunization matches, and (vaccinesOnly) every matching one is of those vaccines: one loop, no filtered copy.
    const q = w.immunizations;
    const list = r.immunizations ?? [];
    let matched = false;
    for (let i = 0; i < list.length; i++) {
      const im = list[i];
      if (q.status !== undefined && im.status !== q.status) continue;
      if (q.sources !== undefined && !q.sources.includes(im.source)) continue;
      if (q.notDoneReasons !== undefined && (im.notDoneReason === undefined || !q.notDoneReasons.includes(im.notDoneReason))) continue;
      if (q.vaccinesOnly && !q.vaccinesOnly.includes(im.vaccine)) return false;
      matched = true;
    }
    if (!matched) return false;
  }
  return true;
}

const NO_CONDITIONS: DiagnosisWhen = {};

/** Diagnoses derived from the visit's services by mappings/diagnoses.json: per slot the first rule that holds (and whose code is new). */
function deriveDiagnoses(ix: TableIndex, tables: MappingTables, r: VisitRecord, visitDate: string, findings: FindingPlan[]): DiagnosisPlan[] {
  const facts: VisitFacts = {
    ageMonths: ageInMonths(r.patient.birthDate, visitDate), measured: new Set((r.measurements ?? []).map((m) => m.code)), found: new Set(findings.map((f) => f.ix.key)),
  };
  const out: DiagnosisPlan[] = [];
  const status = tables.diagnoses.defaults.clinicalStatus.code;
  for (const { rules } of ix.diagnosisSlots) {
    // The first rule whose code is new to the visit and whose conditions hold.
    let rule: (typeof rules)[number] | undefined;
    for (let i = 0; i < rules.length && !rule; i++) {
      const x = rules[i];
      if (!out.some((d) => d.code === x.code) && ruleHolds(x.when ?? NO_CONDITIONS, r, facts, out.length)) rule = x;
    }
    if (!rule) continue;
    const display = ix.icd10Displays.get(rule.code);
    // Two literals rather than a spread (a slow generic copy); the same keys in the same order.
    out.push(display !== undefined
      ? { code: rule.code, rank: out.length + 1, clinicalStatus: status, ruleId: rule.id, display }
      : { code: rule.code, rank: out.length + 1, clinicalStatus: status, ruleId: rule.id });
  }
  return out;
}

function checkMeasurements(c: Checker, tables: MappingTables, list: VisitMeasurement[], start: ParsedDateTime, end: ParsedDateTime): MeasurementPlan[] {
  const out: MeasurementPlan[] = [];
  const counts = new Map<string, number>();
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const at = `measurements[${i}]`;
    const ix = c.ix.observations.get(m.code);
    if (!ix) {
      c.err(`${at}.code`, 'source.measurement.code-unknown', { ...shownParam('value', m.code), allowed: c.ix.observationKeys }, 'code-invalid');
      continue;
    }
    const rule = ix.units.get(m.unit.toLowerCase());
    if (!rule) {
      c.err(`${at}.unit`, 'source.unit.not-accepted', { ...shownParam('unit', m.unit), code: m.code, allowed: ix.unitList }, 'code-invalid');
      continue;
    }
    const { range, ucum, decimals } = ix.entry;
    const value = convert(rule, m.value, decimals);
    if (value < range.min || value > range.max) {
      const params: Params = { ...shownNumberParam('value', m.value), unit: m.unit, code: m.code, range: `${range.min}–${range.max} ${ucum.unit}` };
      if (rule.identity) c.err(`${at}.value`, 'source.measurement.out-of-range', params);
      else c.err(`${at}.value`, 'source.measurement.out-of-range-converted', { ...params, ...shownQuantityParam('converted', value, ucum.unit) });
      continue;
    }
    let effective = start.utc;
    if (m.at !== undefined) {
      const t = c.time(`${at}.at`, m.at);
      if (!t) continue;
      if (t.ms < start.ms || t.ms > end.ms) c.err(`${at}.at`, 'source.time.within-visit');
      effective = t.utc;
    }
    const interpretation = interpretationOf(c, tables, `${at}.interpretation`, m.interpretation);
    if (interpretation === null) continue;
    const n = (counts.get(m.code) ?? 0) + 1;
    counts.set(m.code, n);
    out.push(interpretation ? { m, n, ix, value, effective, interpretation } : { m, n, ix, value, effective });
  }
  return out;
}

function reasonFor(v: VaccineEntry, im: VisitImmunization, ageMonths: number, gender: string): string {
  if (im.reason) return im.reason;
  for (const rule of v.reason.rules ?? []) {
    const w = rule.when;
    if (w.minDose !== undefined && im.dose < w.minDose) continue;
    if (w.maxDose !== undefined && im.dose > w.maxDose) continue;
    if (w.minAgeMonths !== undefined && ageMonths < w.minAgeMonths) continue;
    if (w.maxAgeMonths !== undefined && ageMonths > w.maxAgeMonths) continue;
    if (w.gender !== undefined && gender !== w.gender) continue;
    if (w.products !== undefined && (im.productCode === undefined || !w.products.includes(im.productCode))) continue;
    return rule.reason;
  }
  return v.reason.default;
}

function checkImmunizations(c: Checker, r: VisitRecord, start: ParsedDateTime, end: ParsedDateTime): ImmunizationPlan[] {
  const out: ImmunizationPlan[] = [];
  const list = r.immunizations ?? [];
  const counts = new Map<string, number>();
  const doses = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const im = list[i];
    const at = `immunizations[${i}]`;
    const before = c.issues.length;
    const ix = c.ix.vaccines.get(im.vaccine);
    if (!ix) {
      c.err(`${at}.vaccine`, 'source.vaccine.unknown', { ...shownParam('value', im.vaccine), allowed: c.ix.vaccineKeys }, 'code-invalid');
      continue;
    }
    const v = ix.entry;
    if (im.dose > v.maxDose) c.err(`${at}.dose`, 'source.dose.above-last', { dose: im.dose, vaccine: im.vaccine, max: v.maxDose });
    const doseKey = `${im.vaccine}#${im.dose}`;
    if (doses.has(doseKey)) c.err(`${at}.dose`, 'source.dose.repeat', { path: at, dose: im.dose, vaccine: im.vaccine }, 'duplicate');
    doses.add(doseKey);

    let product: VaccineProduct | undefined;
    if (im.productCode !== undefined) {
      product = ix.products.get(im.productCode);
      if (!product) {
        if (ix.productList) c.err(`${at}.productCode`, 'source.product.unknown', { product: im.productCode, vaccine: im.vaccine, allowed: ix.productList }, 'code-invalid');
        else c.err(`${at}.productCode`, 'source.product.none-confirmed', { vaccine: im.vaccine }, 'code-invalid');
      } else if (product.maxDose !== undefined && im.dose > product.maxDose) {
        c.err(`${at}.dose`, 'source.product.dose-above', { dose: im.dose, product: product.code, max: product.maxDose });
      }
    }

    const given = im.status === 'completed';
    const administered = im.source === 'administered';
    if (given) {
      if (im.notDoneReason !== undefined) c.err(`${at}.notDoneReason`, 'source.immunization.only-not-done');
      if (im.notDoneNote !== undefined) c.err(`${at}.notDoneNote`, 'source.immunization.only-not-done');
      if (administered && im.lotNumber === undefined) c.err(`${at}.lotNumber`, 'source.immunization.required-given', {}, 'required', '10306');
      if (administered && im.expirationDate === undefined) c.err(`${at}.expirationDate`, 'source.immunization.required-given', {}, 'required', '10307');
    } else {
      if (im.notDoneReason === undefined) c.err(`${at}.notDoneReason`, 'source.immunization.not-done-reason', {}, 'required', '10108');
      if (!administered) c.err(`${at}.source`, 'source.immunization.not-done-source');
      for (const f of ['productCode', 'lotNumber', 'expirationDate'] as const) {
        if (im[f] !== undefined) c.err(`${at}.${f}`, 'source.immunization.only-given');
      }
    }

    let occurrence = start;
    if (im.givenAt !== undefined) {
      const t = c.time(`${at}.givenAt`, im.givenAt);
      if (!t) continue;
      occurrence = t;
      if (administered && (t.ms < start.ms || t.ms > end.ms)) {
        c.err(`${at}.givenAt`, 'source.immunization.given-within-visit');
      } else if (!administered && t.ms > end.ms) {
        c.err(`${at}.givenAt`, 'source.immunization.given-after-visit');
      }
      if (t.localDate < r.patient.birthDate) c.err(`${at}.givenAt`, 'source.immunization.given-before-birth');
    }
    if (im.expirationDate !== undefined) {
      if (!isValidDate(im.expirationDate)) c.err(`${at}.expirationDate`, 'source.date.not-real');
      else if (given && im.expirationDate <= occurrence.utc.slice(0, 10)) {
        c.err(`${at}.expirationDate`, 'source.immunization.expired', {}, 'value', '10307');
      }
    }
    if (c.issues.length !== before) continue;
    const n = (counts.get(im.vaccine) ?? 0) + 1;
    counts.set(im.vaccine, n);
    const age = ageInMonths(r.patient.birthDate, occurrence.localDate);
    // A warning, not an error: the dose was given and must still be reported; the programme officer needs to see it.
    if (given && v.latestDoseAgeMonths !== undefined && age > v.latestDoseAgeMonths) {
      c.issues.push(messageIssue('warning', 'business-rule', 'source.immunization.late-dose', { path: at, vaccine: im.vaccine, dose: im.dose, age, limit: v.latestDoseAgeMonths + 1 }, at));
    }
    out.push({ im, n, ix, product, occurrence: occurrence.utc, reason: reasonFor(v, im, age, r.patient.gender) });
  }
  return out;
}

/** Source-record issues (schema and semantics) for one record; empty when it can be mapped. */
export function checkVisit(record: unknown, tables: MappingTables, opts: { now: Date }): Issue[] {
  return analyseVisit(record, tables, opts.now).issues;
}
