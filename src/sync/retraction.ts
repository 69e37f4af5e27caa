// How a resource a later revision no longer produces is withdrawn at SATUSEHAT, per resource type. Observation and Immunization
// have a status with entered-in-error; Condition has none, so its verificationStatus says entered-in-error (FHIR R4 con-5: and then
// no clinicalStatus). The Encounter is never retracted.
import type { Resource } from 'fhir/r4.js';

const CONDITION_VER_STATUS = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

interface RetractionKind {
  /** Already withdrawn (e.g. by an attempt whose response was lost). */
  isRetracted(r: Resource): boolean;
  /** Marks the copy read back from the platform as withdrawn, in place. */
  retract(r: Resource): void;
}

const byStatus: RetractionKind = {
  isRetracted: (r) => (r as { status?: string }).status === 'entered-in-error',
  retract: (r) => {
    (r as { status?: string }).status = 'entered-in-error';
  },
};

type ConditionLike = { verificationStatus?: { coding?: Array<{ system?: string; code?: string; display?: string }> }; clinicalStatus?: unknown };

const byVerificationStatus: RetractionKind = {
  isRetracted: (r) => ((r as ConditionLike).verificationStatus?.coding ?? []).some((c) => c.system === CONDITION_VER_STATUS && c.code === 'entered-in-error'),
  retract: (r) => {
    const c = r as ConditionLike;
    c.verificationStatus = { coding: [{ system: CONDITION_VER_STATUS, code: 'entered-in-error', display: 'Entered in Error' }] };
    delete c.clinicalStatus;
  },
};

const KINDS: ReadonlyMap<string, RetractionKind> = new Map([
  ['Observation', byStatus],
  ['Immunization', byStatus],
  ['Condition', byVerificationStatus],
]);

/** Resource types a later revision may retract (entered-in-error) when it no longer produces them. */
export const RETRACTABLE_TYPES: ReadonlySet<string> = new Set(KINDS.keys());

export const isRetracted = (r: Resource): boolean => KINDS.get(r.resourceType)?.isRetracted(r) ?? false;

/** Marks `r` entered-in-error the way its type allows; throws for a type that cannot be retracted. */
export function markRetracted(r: Resource): void {
  const kind = KINDS.get(r.resourceType);
  if (!kind) throw new Error(`${r.resourceType} cannot be retracted`);
  kind.retract(r);
}
