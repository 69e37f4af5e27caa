// POST /Patient: the MPI. Dukcapil-like NIK checks, duplicate checks, and the platform's NON-FHIR success body.
import { SYS, type SimResult, type SimulatorCore } from '../core.js';
import type { SimulatorClient } from '../options.js';
import { SimHttpError, plainIssue, ruleIssue, type PlatformIssue } from '../platform-outcome.js';
import type { Json } from '../resource-types.js';

export function createPatient(core: SimulatorCore, body: unknown, client: SimulatorClient): SimResult {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new SimHttpError(400, [ruleIssue('20005')]);
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

  const duplicate = (): PlatformIssue => ({ ...ruleIssue('20002', { type: 'Patient' }), code: 'duplicate' });
  if (!byMother) {
    if (core.store.lookup('Patient', 'identifier', `${SYS.nik}|${value}`).size) throw new SimHttpError(400, [duplicate()]);
  } else {
    // Newborns are deduplicated on mother's NIK + birth date + birth order.
    for (const id of core.store.lookup('Patient', 'identifier', `${SYS.nikIbu}|${value}`)) {
      const p = core.store.get('Patient', id)!.resource;
      if (p.birthDate === r.birthDate && (p.multipleBirthInteger ?? 0) === (r.multipleBirthInteger ?? 0)) throw new SimHttpError(400, [duplicate()]);
    }
  }
  const patientId = core.newPatientId();
  r.id = patientId;
  const issues = core.checkWrite('Patient', r, { client });
  if (issues.length) throw new SimHttpError(400, issues);
  r.identifier = [{ use: 'official', system: SYS.ihs, value: patientId }, ...ids.filter((i) => i?.system !== SYS.ihs)];
  core.commit('Patient', r, undefined);
  const ok = { success: true, data: { patient_id: patientId } };
  return { status: 201, body: byMother ? { create_patient: ok } : ok, committed: true };
}
