// Before anything is sent: resolve the visit's identities (patient, practitioner, location), map it with the real ids
// and validate what is about to go out (tables may have changed since ingest). A refusal here is ours, not the
// platform's: LocalValidationError, said stage by stage.
import type { ClaimedVisit } from '../../store/types.js';
import { hasErrors, toOperationOutcome, type Issue } from '../../validation/outcome.js';
import type { MappedEntry, VisitRecordLike } from '../contracts.js';
import { LocalValidationError } from '../policy.js';
import type { DeliveryDeps, FacilityRuntime } from '../deliver.js';

/** An issue's text framed by the stage that found it (`mapping: …`), its message too when it has one. */
function atStage(stage: 'mapping' | 'validation', i: Issue): Pick<Issue, 'diagnostics' | 'message'> {
  const params = { '@stage': `sync.stage.${stage}`, ...(i.message ? { '@problem': i.message.key, ...i.message.params } : { problem: i.diagnostics }) };
  return { diagnostics: `${stage}: ${i.diagnostics}`, message: { key: 'sync.at-stage', params } };
}

function localFailure(issues: Issue[], stage: 'mapping' | 'validation'): LocalValidationError {
  const errs = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  return new LocalValidationError(
    toOperationOutcome(errs.map((i) => ({ ...i, ...atStage(stage, i) })), undefined, true),
    [...new Set(errs.flatMap((i) => (i.rule ? [i.rule] : [])))],
  );
}

/** The entries to deliver (the Patient is created by identity resolution, never in the transaction). */
export async function prepareEntries<Tables>(row: ClaimedVisit, facility: FacilityRuntime, deps: DeliveryDeps<Tables>): Promise<MappedEntry[]> {
  const { mapping, tables, validator, identity } = deps;
  const record = row.record as VisitRecordLike;
  const now = new Date(deps.now());

  // Identities are cached; may throw BlockedError / PlatformError.
  const resolved = await identity.resolve({
    record,
    client: facility.client,
    facility: facility.config,
    patientToCreate: () => mapping.mapVisit(record, tables, { now }).patient,
  });

  const held = await deps.earlierWeighing?.(record);
  const previousWeighing = held && { date: held.measuredOn, weightKg: held.weightGrams / 1000, from: { key: 'source.growth.gain.from.held', params: { visitId: held.visitId } } };
  const mapped = mapping.mapVisit(record, tables, { now, resolved, ...(previousWeighing ? { previousWeighing } : {}) });
  if (hasErrors(mapped.issues) || !mapped.entries.length) throw localFailure(mapped.issues, 'mapping');
  if (mapped.bundle) {
    const issues = validator.validate(mapped.bundle, { now, organizationId: row.organizationId });
    if (hasErrors(issues)) throw localFailure(issues, 'validation');
  }
  return mapped.entries.filter((e) => e.resource.resourceType !== 'Patient');
}
