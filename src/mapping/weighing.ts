// The child's weight at a visit, as one fact the service keeps between visits: the KMS weight-gain status (naik / tidak naik)
// compares it with the previous month's weighing. Pure; called for records that passed the visit checks.
import { ageInMonths, parseDateTime } from './datetime.js';
import { ownEntry } from '../util/own.js';
import type { MappingTables, VisitRecord } from './types.js';

/** The KMS and the WHO 2006 weight standard stop at 60 months; older children are not tracked this way. */
export const WEIGHING_MAX_AGE_MONTHS = 60;

export interface VisitWeighing {
  /** Local calendar date of the weighing (the measurement's own time, else the visit start), YYYY-MM-DD. */
  measuredOn: string;
  weightGrams: number;
}

export function visitWeighing(record: VisitRecord, tables: MappingTables): VisitWeighing | undefined {
  const m = record.measurements?.find((x) => x.code === 'body-weight');
  if (!m) return undefined;
  const when = parseDateTime(m.at ?? record.start);
  if (!when || ageInMonths(record.patient.birthDate, when.localDate) > WEIGHING_MAX_AGE_MONTHS) return undefined;
  const entry = ownEntry(tables.observations.entries, m.code);
  const conversion = entry ? ownEntry(entry.units, m.unit) : undefined;
  if (!entry || !conversion) return undefined;
  const kg = m.value * (conversion.factor ?? 1) + (conversion.offset ?? 0);
  const weightGrams = Math.round(kg * 1000);
  return weightGrams > 0 ? { measuredOn: when.localDate, weightGrams } : undefined;
}
