// POST /Patient: the MPI. Dukcapil-like NIK checks, duplicate checks, and the platform's NON-FHIR answer body:
// recorded (patient-create-newborn-200-success/duplicate-postman.json) or as the SDKs document it (patientCreateBody).
import { SYS, type SimResult, type SimulatorCore } from '../core.js';
import type { SimulatorClient } from '../options.js';
import { SimHttpError, plainIssue, ruleIssue } from '../platform-outcome.js';
import type { Json } from '../resource-types.js';
import { unparseable } from './resources.js';

export const PATIENT_CREATED_MESSAGE = 'New Patient has been created successfully';
export const PATIENT_EXISTS_MESSAGE = 'Failed to create new patient, another identifier has found';

export function createPatient(core: SimulatorCore, body: unknown, client: SimulatorClient): SimResult {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw unparseable(core, 'the body is not a JSON object');
  const r = structuredClone(body as Json);
  if (r.resourceType !== 'Patient') throw new SimHttpError(400, [plainIssue('invalid', 'resourceType must be Patient', 'Patient.resourceType')]);
  const ids: Json[] = Array.isArray(r.identifier) ? r.identifier : [];
  const nikAt = ids.findIndex((i) => i?.system === SYS.nik);
  const ibuAt = ids.findIndex((i) => i?.system === SYS.nikIbu);
  if (nikAt < 0 && ibuAt < 0) {
    throw new SimHttpError(400, [plainIssue('required', `Patient.identifier needs a ${SYS.nik} or ${SYS.nikIbu} identifier`, 'Patient.identifier')]);
  }
  const byMother = nikAt < 0;
  const at = byMother ? ibuAt : nikAt;
  const value = ids[at].value;
  const nikIssues = core.nikIssues(value, `Patient.identifier[${at}].value`);
  if (nikIssues.length) throw new SimHttpError(400, nikIssues);

  const recorded = core.behaviour.patientCreateBody === 'recorded';
  const existing = existingPatient(core, byMother, value, r);
  if (existing !== undefined) {
    // The duplicate answer was recorded for a newborn only; an adult NIK create is assumed to answer the same way.
    if (recorded) return { status: 200, body: { success: false, message: PATIENT_EXISTS_MESSAGE, data: { resourceID: existing } } };
    throw new SimHttpError(400, [{ ...ruleIssue('20002', { type: 'Patient' }), code: 'duplicate' }]);
  }
  const patientId = core.newPatientId();
  r.id = patientId;
  const issues = core.checkWrite('Patient', r, { client });
  if (issues.length) throw new SimHttpError(400, issues);
  r.identifier = [{ use: 'official', system: SYS.ihs, value: patientId }, ...ids.filter((i) => i?.system !== SYS.ihs)];
  core.commit('Patient', r, undefined);
  if (recorded) return { status: 200, body: { success: true, message: PATIENT_CREATED_MESSAGE, data: { 'Patient ID:': patientId } }, committed: true };
  const ok = { success: true, data: { patient_id: patientId } };
  return { status: 201, body: byMother ? { create_patient: ok } : ok, committed: true };
}

/** Id of the patient this create duplicates: same NIK, or for a newborn same mother's NIK + birth date + birth order. */
function existingPatient(core: SimulatorCore, byMother: boolean, value: string, r: Json): string | undefined {
  if (!byMother) return [...core.store.lookup('Patient', 'identifier', `${SYS.nik}|${value}`)][0];
  for (const id of core.store.lookup('Patient', 'identifier', `${SYS.nikIbu}|${value}`)) {
    const p = core.store.get('Patient', id)!.resource;
    if (p.birthDate === r.birthDate && (p.multipleBirthInteger ?? 0) === (r.multipleBirthInteger ?? 0)) return id;
  }
  return undefined;
}
