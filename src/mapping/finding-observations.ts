// Observations of the visit: the part every Observation shares (identifier {visitId}.{key}.{n}, status, subject, encounter, times,
// performer), and the value of a finding in the element its kind asks for.
import type { CodeableConcept, Coding, Observation } from 'fhir/r4.js';
import type { FindingPlan } from './findings-check.js';

export interface ObservationContext {
  /** The observation identifier system (organization filled in). */
  identifierSystem: string;
  visitId: string;
  subject: string;
  performer: string;
  encounter: string;
  issued: string;
}

/** Everything but the value: `key` and `n` make the identifier `{visitId}.{key}.{n}`. */
export function observationShell(
  ctx: ObservationContext, key: string, n: number, category: CodeableConcept[], code: Coding[], effective: string,
): Observation {
  return {
    resourceType: 'Observation',
    identifier: [{ system: ctx.identifierSystem, value: `${ctx.visitId}.${key}.${n}` }],
    status: 'final',
    category,
    code: { coding: code },
    subject: { reference: ctx.subject },
    encounter: { reference: ctx.encounter },
    effectiveDateTime: effective,
    issued: ctx.issued,
    performer: [{ reference: ctx.performer }],
  };
}

/** The interpretation element, as the official examples send it (one CodeableConcept with one coding). */
export const interpretationElement = (c: Coding): Observation['interpretation'] => [{ coding: [c] }];

export function buildFindingObservation(f: FindingPlan, ctx: ObservationContext, ucumSystem: string): Observation {
  const e = f.ix.entry;
  const obs = observationShell(ctx, f.ix.key, f.n, f.ix.category, f.ix.code, f.effective);
  const v = f.value;
  switch (v.kind) {
    case 'coded': obs.valueCodeableConcept = { coding: [v.coding] }; break;
    case 'boolean': obs.valueBoolean = v.value; break;
    case 'integer': obs.valueInteger = v.value; break;
    // Kamus rule 10429 wants a full date-time (the official LMP example sends one): the date at 00:00 UTC, which is the same calendar
    // date in WIB, WITA and WIT.
    case 'date': obs.valueDateTime = `${v.value}T00:00:00+00:00`; break;
    case 'quantity': obs.valueQuantity = { value: v.value, unit: e.ucum!.unit, system: ucumSystem, code: e.ucum!.code }; break;
  }
  if (f.interpretation) obs.interpretation = interpretationElement(f.interpretation);
  return obs;
}
