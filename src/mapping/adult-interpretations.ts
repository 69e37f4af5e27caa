// Interpretations the adapter derives for measurements the facility sent without one: KEK from LiLA for pregnant women and
// women of childbearing age, the adult BMI category and the adult blood-pressure category (mappings/growth-status.json `adult`,
// each with its source, which also names the measurement keys and who each scheme applies to). Pure. Children get their z-score Observations instead (growth-observations.ts).
import type { Observation } from 'fhir/r4.js';
import { classifyAdultBmi, classifyBloodPressureReading, classifyKek, type Classified } from '../growth/classify.js';
import { ageInMonths } from './datetime.js';
import type { MeasurementPlan, VisitPlan } from './check.js';
import type { MappingTables } from './types.js';
import type { AdultApplies } from '../growth/status-table.js';

const element = (c: Classified): Observation['interpretation'] => [{ coding: [c.interpretation], text: c.display.id }];

/** Whether an adult scheme applies to this visit's patient (age in completed months at the visit). */
function appliesTo(a: AdultApplies, plan: VisitPlan, months: number): boolean {
  const p = plan.record.patient;
  if (a.gender !== undefined && p.gender !== a.gender) return false;
  if (a.anyAgeWhenPregnant && plan.record.pregnancy !== undefined) return true;
  return months >= a.fromYears * 12 && (a.belowYears === undefined || months < a.belowYears * 12);
}

/** The derived interpretation of each measurement that has one (a facility's own interpretation always wins). */
export function derivedInterpretations(plan: VisitPlan, tables: MappingTables): Map<MeasurementPlan, Observation['interpretation']> {
  const out = new Map<MeasurementPlan, Observation['interpretation']>();
  const months = ageInMonths(plan.record.patient.birthDate, plan.start.localDate);
  const t = tables.growth.status;
  const { kek, bmi, bloodPressure: bp } = t.adult;
  // Which schemes apply to this patient (keys and ages from growth-status.json). Asked per measurement in the reverse order of
  // the map of key → classifier this replaces (a later scheme naming the same key won there), without building that map per visit.
  const kekOn = appliesTo(kek.applies, plan, months);
  const bmiOn = appliesTo(bmi.applies, plan, months);
  // Each reading on its own scale, so an Observation's interpretation is about its own value and does not change when the
  // other reading is corrected or removed (the visit's category is the higher of the two).
  const bpOn = appliesTo(bp.applies, plan, months);
  const classify = (code: string, v: number): Classified | undefined => {
    if (bpOn && code === bp.measurements.diastolic) return classifyBloodPressureReading(t, 'diastolic', v);
    if (bpOn && code === bp.measurements.systolic) return classifyBloodPressureReading(t, 'systolic', v);
    if (bmiOn && code === bmi.measurement) return classifyAdultBmi(t, v);
    if (kekOn && code === kek.measurement) return classifyKek(t, v);
    return undefined;
  };
  for (const m of plan.measurements) {
    if (m.interpretation) continue; // the facility's own reading wins
    const c = classify(m.m.code, m.value);
    if (c) out.set(m, element(c));
  }
  return out;
}
