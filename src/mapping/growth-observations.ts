// Growth Observations of a child's visit: one per WHO z-score computed from the measurements (value in {Zscore}, the Permenkes 2/2020
// category as interpretation, derivedFrom the measurement Observations) and one for the KMS weight-gain status when it can be assessed.
// A z-score or category the facility sent is kept (it is what the facility's officer saw) and a warning says when it disagrees with
// the computed one. Pure.
import type { CodeableConcept, Observation } from 'fhir/r4.js';
import { issue, type Issue } from '../validation/outcome.js';
import { classifyZScore, resolveCoding, schemeOf, type Classified } from '../growth/classify.js';
import { weightGainStatus, type Weighing, type WeightGainAssessed } from '../growth/weight-gain.js';
import { computeGrowth, standardAt, daysBetween, type GrowthInput, type Indicator, type IndicatorResult, type ZScore } from '../growth/zscores.js';
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
  const input: GrowthInput = {
    sex: r.patient.gender, birthDate: r.patient.birthDate, visitDate,
    ...(weight && { weightKg: weight.value }),
    ...(length && { lengthHeightCm: length.value, position: length.m.position ?? ownEntry(keys.lengthHeight, length.m.code) }),
    ...(head && { headCircumferenceCm: head.value }),
    ...(muac && { muacCm: muac.value }),
  };
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
  return { input, results, sources, ...(weight && { weight }) };
}

const codeable = (c: Classified | undefined): CodeableConcept[] | undefined => c && [{ coding: [c.interpretation], text: c.display.id }];

function growthObservation(
  key: string, code: CodeableConcept, plan: VisitPlan, sys: SystemsTable, g: GrowthTables, refs: GrowthRefs, effective: string, derivedFrom: string[],
): Observation {
  const r = plan.record;
  const cat = g.status.observationCategory.code;
  const obs: Observation = {
    resourceType: 'Observation',
    identifier: [{ system: sys.identifiers.observation.url.replace('{organizationId}', r.organizationId), value: `${r.visitId}.${key}.1` }],
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

/** The growth Observations of a visit (children up to 18 years; nothing for adults) and the warnings on facility-sent values. */
export function growthObservations(
  plan: VisitPlan, tables: MappingTables, refs: GrowthRefs, url: (key: string) => string, previous?: { weighing: Weighing; from: string },
): { entries: MappedEntry[]; warnings: Issue[] } {
  const g = tables.growth;
  const sys = tables.systems;
  const r = plan.record;
  const entries: MappedEntry[] = [];
  const warnings: Issue[] = [];
  const facts = visitGrowthFacts(plan, g);
  const standard = standardAt(daysBetween(r.patient.birthDate, plan.start.localDate));
  if (!standard) return { entries, warnings };
  const measurementUrl = (m: MeasurementPlan) => url(`observation/${m.m.code}.${m.n}`);
  const computed = new Map<Indicator, ZScore>();
  for (const x of facts?.results ?? []) if (x.status === 'computed') computed.set(x.indicator, x);
  const reported = new Map((r.growth?.reported ?? []).map((rep, i) => [rep.indicator as Indicator, { rep, i }]));
  const tolerance = g.status.reportTolerance.zScore;

  for (const indicator of Object.keys(g.status.indicators) as Indicator[]) {
    const z = computed.get(indicator);
    const sent = reported.get(indicator);
    if (!z && !sent) continue;
    const entry = g.status.indicators[indicator];
    const value = sent?.rep.zScore ?? z?.zRounded;
    const scheme = z?.standard ?? standard;
    let category: Classified | undefined;
    if (sent?.rep.category !== undefined) category = classifiedByKey(g, indicator, scheme, sent.rep.category);
    else if (value !== undefined) category = classifyZScore(g.status, indicator, scheme, sent?.rep.zScore ?? z!.z);
    if (sent && z) warnings.push(...disagreements(g, indicator, z, sent.rep, `growth.reported[${sent.i}]`, tolerance));
    const sources = z ? facts!.sources.get(indicator)! : [];
    const effective = sources[0]?.effective ?? plan.start.utc;
    const code: CodeableConcept = { coding: entry.codes.map((c) => resolveCoding(g.status, c)), text: entry.label.id };
    const key = `observation/${indicator}.1`;
    const obs = growthObservation(indicator, code, plan, sys, g, refs, effective, sources.map(measurementUrl));
    if (value !== undefined) obs.valueQuantity = { value, unit: g.status.zscoreUnit.unit, system: sys.codeSystems.ucum.url, code: g.status.zscoreUnit.code };
    const interpretation = codeable(category);
    if (interpretation) obs.interpretation = interpretation;
    entries.push({ key, fullUrl: url(key), resource: obs });
    if (z?.implausible) {
      const at = sources.map((m) => `measurements[${r.measurements!.indexOf(m.m)}].value`);
      warnings.push(issue('warning', 'value', `${entry.label.id} z-score ${z.zRounded} is beyond WHO's limit for a biologically plausible value; check the measurement and its unit`, at));
    }
  }

  const weight = facts?.weight;
  const prevWeighing = r.growth?.previousWeighing ? { weighing: r.growth.previousWeighing, from: 'the record (growth.previousWeighing)' } : previous;
  if (weight && prevWeighing && standard === 'WHO-2006') {
    const gain = weightGainStatus(g.status, r.patient.birthDate, { date: plan.start.localDate, weightKg: weight.value }, prevWeighing.weighing, prevWeighing.from);
    if (gain.status !== 'not-assessable') entries.push(weightGainEntry(gain, plan, sys, g, refs, weight, measurementUrl(weight), url));
    // Say the basis (or why there is none), so an officer can follow the N/T.
    const text = gain.status === 'not-assessable' ? `weight gain not assessed: ${gain.reason}` : `weight gain ${gain.status}: ${gain.basis}`;
    warnings.push(issue('information', 'informational', text, r.growth?.previousWeighing ? 'growth.previousWeighing' : undefined));
  }
  return { entries, warnings };
}

function weightGainEntry(
  gain: WeightGainAssessed, plan: VisitPlan, sys: SystemsTable, g: GrowthTables, refs: GrowthRefs, weight: MeasurementPlan, weightUrl: string, url: (key: string) => string,
): MappedEntry {
  const wg = g.status.weightGain;
  const status = wg.statuses[gain.status];
  const key = 'observation/weight-gain.1';
  const obs = growthObservation('weight-gain', { coding: [resolveCoding(g.status, wg.code)] }, plan, sys, g, refs, weight.effective, [weightUrl]);
  obs.valueCodeableConcept = { coding: [resolveCoding(g.status, status.interpretation)], text: status.display.id };
  return { key, fullUrl: url(key), resource: obs };
}

function classifiedByKey(g: GrowthTables, indicator: Indicator, standard: ZScore['standard'], key: string): Classified | undefined {
  const scheme = schemeOf(g.status, indicator, standard);
  const c = scheme?.categories.find((x) => x.key === key);
  return c && { key: c.key, display: c.display, interpretation: resolveCoding(g.status, c.interpretation), confidence: c.interpretation.confidence, source: scheme!.source };
}

/** Warnings when a facility's z-score differs from the computed one by more than the tolerance, or its category from the computed one. */
function disagreements(g: GrowthTables, indicator: Indicator, z: ZScore, rep: { zScore?: number; category?: string }, at: string, tolerance: number): Issue[] {
  const out: Issue[] = [];
  const label = g.status.indicators[indicator].label.id;
  if (rep.zScore !== undefined && Math.abs(rep.zScore - z.z) > tolerance) {
    out.push(issue('warning', 'value',
      `${at}: the facility's ${label} z-score ${rep.zScore} differs from the adapter's ${z.zRounded} (${z.standard}, age ${z.age.days} days) by more than ${tolerance} SD; the facility's value is sent — check its calculator (age rounding, length/height position, unit)`, at));
  }
  const mine = classifyZScore(g.status, indicator, z.standard, z.z);
  if (rep.category !== undefined && mine && mine.key !== rep.category) {
    out.push(issue('warning', 'value', `${at}: the facility's ${label} category ${rep.category} differs from the adapter's ${mine.key} (z ${z.zRounded}); the facility's category is sent`, at));
  }
  return out;
}
