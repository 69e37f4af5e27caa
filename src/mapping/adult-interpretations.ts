// Interpretations the adapter derives for measurements the facility sent without one: KEK from LiLA for pregnant women and
// women of childbearing age, the adult BMI category and the adult blood-pressure category (mappings/growth-status.json `adult`,
// each with its source). Pure. Children get their z-score Observations instead (growth-observations.ts).
import type { Observation } from 'fhir/r4.js';
import { classifyAdultBmi, classifyBloodPressureReading, classifyKek, type Classified } from '../growth/classify.js';
import { ageInMonths } from './datetime.js';
import type { MeasurementPlan, VisitPlan } from './check.js';
import type { MappingTables } from './types.js';

const ADULT_MONTHS = 18 * 12;
// Women of childbearing age (WUS) as Kemenkes counts them: 15–49 years.
const WUS_FROM_MONTHS = 15 * 12;
const WUS_BELOW_MONTHS = 50 * 12;

const element = (c: Classified): Observation['interpretation'] => [{ coding: [c.interpretation], text: c.display.id }];

/** The derived interpretation of each measurement that has one (a facility's own interpretation always wins). */
export function derivedInterpretations(plan: VisitPlan, tables: MappingTables): Map<MeasurementPlan, Observation['interpretation']> {
  const out = new Map<MeasurementPlan, Observation['interpretation']>();
  const r = plan.record;
  const months = ageInMonths(r.patient.birthDate, plan.start.localDate);
  const t = tables.growth.status;
  const kekApplies = r.patient.gender === 'female' && (r.pregnancy !== undefined || (months >= WUS_FROM_MONTHS && months < WUS_BELOW_MONTHS));
  const adult = months >= ADULT_MONTHS;
  for (const m of plan.measurements) {
    if (m.interpretation) continue; // the facility's own reading wins
    let c: Classified | undefined;
    switch (m.m.code) {
      case 'mid-upper-arm-circumference': c = kekApplies ? classifyKek(t, m.value) : undefined; break;
      case 'bmi': c = adult ? classifyAdultBmi(t, m.value) : undefined; break;
      // Each reading on its own scale, so an Observation's interpretation is about its own value and does not change when the
      // other reading is corrected or removed (the visit's category is the higher of the two).
      case 'systolic-bp': c = adult ? classifyBloodPressureReading(t, 'systolic', m.value) : undefined; break;
      case 'diastolic-bp': c = adult ? classifyBloodPressureReading(t, 'diastolic', m.value) : undefined; break;
    }
    if (c) out.set(m, element(c));
  }
  return out;
}
