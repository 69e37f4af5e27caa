// Growth Observations of a child's visit: one per WHO z-score computed from the measurements (value in {Zscore}, the Permenkes 2/2020
// category as interpretation, derivedFrom the measurement Observations) and one for the KMS weight-gain status when it can be assessed.
// A z-score or category the facility sent is kept (it is what the facility's officer saw) and a warning says when it disagrees with
// the computed one. Pure.
import type { CodeableConcept, Observation } from 'fhir/r4.js';
import type { Issue } from '../validation/outcome.js';
import { messageIssue } from '../i18n/issues.js';
import { classifyZScore, resolveCoding, schemeOf, type Classified } from '../growth/classify.js';
import { weightGainStatus, type Weighing, type WeighingSource, type WeightGainAssessed } from '../growth/weight-gain.js';
import { computeGrowth, standardAt, daysBetween, type GrowthInput, type Indicator, type IndicatorResult, type Standard, type ZScore } from '../growth/zscores.js';
import type { GrowthTables } from '../growth/tables.js';
import { ownEntry } from '../util/own.js';
import type { MeasurementPlan, VisitPlan } from './check.js';
import type { MappedEntry, MappingTables, SystemsTable } from './types.js';

export interface GrowthRefs {
  patient: string;
  practitioner: string;
  encounter: string;
}

/** The child's growth at this visit: the WHO z-scores and the measurements each came from. */
export interface VisitGrowthFacts {
  input: GrowthInput;
  results: IndicatorResult[];
  /** Source measurements per indicator, the weight first (its time is the Observation's). */
  sources: Map<Indicator, MeasurementPlan[]>;
  weight?: MeasurementPlan;
}

/** The first measurement of `key` in the visit. */
const firstOf = (plan: VisitPlan, key: string) => plan.measurements.find((m) => m.m.code === key && m.n === 1);

/** The WHO z-scores of the visit's measurements (first of each key); undefined when no growth measurement was taken. */
export function visitGrowthFacts(plan: VisitPlan, g: GrowthTables): VisitGrowthFacts | undefined {
  const keys = g.status.measurements;
  const r = plan.record;
  const visitDate = plan.start.localDate;
  const ageDays = daysBetween(r.patient.birthDate, visitDate);
  const weight = firstOf(plan, keys.weight);
  // With both a length and a height, the one the age expects (lying under 731 days).
  const lengths = Object.keys(keys.lengthHeight).map((k) => firstOf(plan, k)).filter((m): m is MeasurementPlan => m !== undefined);
  const expected = ageDays < 731 ? 'lying' : 'standing';
  const length = lengths.find((m) => ownEntry(keys.lengthHeight, m.m.code) === expected) ?? lengths[0];
  const head = firstOf(plan, keys.headCircumference);
  const muac = firstOf(plan, keys.muac);
  if (!weight && !length && !head && !muac) return undefined;
  // Assigned in turn rather than spread in (slow generic copies); the same keys in the same order.
  const input: GrowthInput = { sex: r.patient.gender, birthDate: r.patient.birthDate, visitDate };
  if (weight) input.weightKg = weight.value;
  if (length) {
    input.lengthHeightCm = length.value;
    input.position = length.m.position ?? ownEntry(keys.lengthHeight, length.m.code);
  }
  if (head) input.headCircumferenceCm = head.value;
  if (muac) input.muacCm = muac.value;
  const { results } = computeGrowth(input, g.who);
  const both = [weight, length].filter((m): m is MeasurementPlan => m !== undefined);
  const sources = new Map<Indicator, MeasurementPlan[]>([
    ['weight-for-age', weight ? [weight] : []],
    ['length-height-for-age', length ? [length] : []],
    ['weight-for-length', both],
    ['weight-for-height', both],
    ['bmi-for-age', both],
    ['head-circumference-for-age', head ? [head] : []],
    ['muac-for-age', muac ? [muac] : []],
  ]);
  return weight ? { input, results, sources, weight } : { input, results, sources };
}

function growthObservation(ctx: VisitContext, key: string, code: CodeableConcept, effective: string, derivedFrom: string[]): Observation {
  const { plan, sys, g, refs } = ctx;
  const r = plan.record;
  const cat = g.status.observationCategory.code;
  const obs: Observation = {
    resourceType: 'Observation',
    identifier: [{ system: ctx.identifierSystem, value: `${r.visitId}.${key}.1` }],
    status: 'final',
    category: [{ coding: [{ system: sys.codeSystems.observationCategory.url, code: cat, display: ownEntry(sys.codes.observationCategories, cat)?.display ?? cat }] }],
    code,
    subject: { reference: refs.patient },
    encounter: { reference: refs.encounter },
    effectiveDateTime: effective,
    issued: plan.end.utc,
    performer: [{ reference: refs.practitioner }],
  };
  if (derivedFrom.length) obs.derivedFrom = derivedFrom.map((reference) => ({ reference }));
  return obs;
}

interface VisitContext {
  plan: VisitPlan;
  sys: SystemsTable;
  g: GrowthTables;
  refs: GrowthRefs;
  url: (key: string) => string;
  /** The Observation identifier system, the organization filled in (once per visit). */
  identifierSystem: string;
  /** The fullUrl of a measurement's Observation entry. */
  measurementUrl: (m: MeasurementPlan) => string;
  issues: Issue[];
}

/** The growth Observations of a visit (children up to 18 years; nothing for adults), and the issues on facility-sent values,
 *  implausible z-scores and the weight-gain basis. `previous`: a previous weighing the caller knows, used when the record has none.
 *  `measurementUrl`: the fullUrl of a measurement's entry, when the caller has it already (default: named again by `url`). */
export function growthObservations(
  plan: VisitPlan, tables: MappingTables, refs: GrowthRefs, url: (key: string) => string, previous?: { weighing: Weighing; from: WeighingSource },
  measurementUrl: (m: MeasurementPlan) => string = (m) => url(`observation/${m.m.code}.${m.n}`),
): { entries: MappedEntry[]; issues: Issue[] } {
  const r = plan.record;
  const entries: MappedEntry[] = [];
  const standard = standardAt(daysBetween(r.patient.birthDate, plan.start.localDate));
  if (!standard) return { entries, issues: [] };
  const identifierSystem = tables.systems.identifiers.observation.url.replace('{organizationId}', r.organizationId);
  const ctx: VisitContext = { plan, sys: tables.systems, g: tables.growth, refs, url, identifierSystem, measurementUrl, issues: [] };
  const facts = visitGrowthFacts(plan, ctx.g);
  const computed = new Map<Indicator, ZScore>();
  for (const x of facts?.results ?? []) if (x.status === 'computed') computed.set(x.indicator, x);
  const reported = new Map((r.growth?.reported ?? []).map((rep, i) => [rep.indicator as Indicator, { rep, i }]));
  for (const indicator of Object.keys(ctx.g.status.indicators) as Indicator[]) {
    const z = computed.get(indicator);
    const sent = reported.get(indicator);
    if (z || sent) entries.push(zScoreEntry(ctx, indicator, z?.standard ?? standard, z, z ? facts!.sources.get(indicator)! : [], sent));
  }
  const weight = facts?.weight;
  const prevWeighing = r.growth?.previousWeighing ? { weighing: r.growth.previousWeighing, from: { key: 'source.growth.gain.from.record', params: {} } } : previous;
  if (weight && prevWeighing && standard === 'WHO-2006') {
    const gain = weightGainStatus(ctx.g.status, r.patient.birthDate, { date: plan.start.localDate, weightKg: weight.value }, prevWeighing.weighing, prevWeighing.from);
    if (gain.status !== 'not-assessable') entries.push(weightGainEntry(ctx, gain, weight));
    // Say the basis (or why there is none), so an officer can follow the N/T.
    const at = r.growth?.previousWeighing ? 'growth.previousWeighing' : undefined;
    ctx.issues.push(gain.status === 'not-assessable'
      ? messageIssue('information', 'informational', 'source.growth.weight-gain-not-assessed', { '@reason': gain.reasonMessage.key, ...gain.reasonMessage.params }, at)
      : messageIssue('information', 'informational', 'source.growth.weight-gain', { status: gain.status, '@basis': gain.basisMessage.key, ...gain.basisMessage.params }, at));
  }
  return { entries, issues: ctx.issues };
}

/** One z-score Observation: the facility's value and category when sent (compared with the computed ones), else the computed. */
function zScoreEntry(
  ctx: VisitContext, indicator: Indicator, standard: Standard, z: ZScore | undefined, sources: MeasurementPlan[],
  sent: { rep: { zScore?: number; category?: string }; i: number } | undefined,
): MappedEntry {
  const { g, sys, plan } = ctx;
  const entry = g.status.indicators[indicator];
  const value = sent?.rep.zScore ?? z?.zRounded;
  let category: Classified | undefined;
  if (sent?.rep.category !== undefined) category = classifiedByKey(g, indicator, standard, sent.rep.category);
  else if (value !== undefined) category = classifyZScore(g.status, indicator, standard, sent?.rep.zScore ?? z!.z);
  if (sent && z) ctx.issues.push(...disagreements(g, indicator, z, sent.rep, `growth.reported[${sent.i}]`, g.status.reportTolerance.zScore));
  const code: CodeableConcept = { coding: entry.codes.map((c) => resolveCoding(g.status, c)), text: entry.label.id };
  const key = `observation/${indicator}.1`;
  const obs = growthObservation(ctx, indicator, code, sources[0]?.effective ?? plan.start.utc, sources.map(ctx.measurementUrl));
  if (value !== undefined) obs.valueQuantity = { value, unit: g.status.zscoreUnit.unit, system: sys.codeSystems.ucum.url, code: g.status.zscoreUnit.code };
  if (category) obs.interpretation = [{ coding: [category.interpretation], text: category.display.id }];
  if (z?.implausible) {
    const at = sources.map((m) => `measurements[${plan.record.measurements!.indexOf(m.m)}].value`);
    ctx.issues.push(messageIssue('warning', 'value', 'source.growth.implausible', { label: entry.label.id, z: z.zRounded }, at));
  }
  return { key, fullUrl: ctx.url(key), resource: obs };
}

function weightGainEntry(ctx: VisitContext, gain: WeightGainAssessed, weight: MeasurementPlan): MappedEntry {
  const { g } = ctx;
  const wg = g.status.weightGain;
  const status = wg.statuses[gain.status];
  const key = 'observation/weight-gain.1';
  const obs = growthObservation(ctx, 'weight-gain', { coding: [resolveCoding(g.status, wg.code)] }, weight.effective, [ctx.measurementUrl(weight)]);
  obs.valueCodeableConcept = { coding: [resolveCoding(g.status, status.interpretation)], text: status.display.id };
  return { key, fullUrl: ctx.url(key), resource: obs };
}

function classifiedByKey(g: GrowthTables, indicator: Indicator, standard: Standard, key: string): Classified | undefined {
  const scheme = schemeOf(g.status, indicator, standard);
  const c = scheme?.categories.find((x) => x.key === key);
  return c && { key: c.key, display: c.display, interpretation: resolveCoding(g.status, c.interpretation), confidence: c.interpretation.confidence, source: scheme!.source };
}

/** Warnings when a facility's z-score differs from the computed one by more than the tolerance, or its category from the computed one. */
function disagreements(g: GrowthTables, indicator: Indicator, z: ZScore, rep: { zScore?: number; category?: string }, at: string, tolerance: number): Issue[] {
  const out: Issue[] = [];
  const label = g.status.indicators[indicator].label.id;
  if (rep.zScore !== undefined && Math.abs(rep.zScore - z.z) > tolerance) {
    out.push(messageIssue('warning', 'value', 'source.growth.zscore-differs',
      { path: at, label, given: rep.zScore, computed: z.zRounded, standard: z.standard, days: z.age.days, tolerance }, at));
  }
  const mine = classifyZScore(g.status, indicator, z.standard, z.z);
  if (rep.category !== undefined && mine && mine.key !== rep.category) {
    out.push(messageIssue('warning', 'value', 'source.growth.category-differs', { path: at, label, given: rep.category, computed: mine.key, z: z.zRounded }, at));
  }
  return out;
}
