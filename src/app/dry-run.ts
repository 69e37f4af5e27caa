// The dry run shared by POST /ilp/visits/$map, the CLI `map` command, ingest and the spreadsheet import: map one record, then
// validate what came out. A record error is the caller's; a FHIR error in our own output is the adapter's defect.
import type { Bundle, Patient } from 'fhir/r4.js';
import type { MapResultLike, ValidatorLike } from './contracts.js';
import { hasErrors, type Issue } from '../validation/outcome.js';
import { messageIssue } from '../i18n/issues.js';

export type Mapper = (record: Record<string, unknown>, now: Date) => MapResultLike;

export type DryRunResult =
  | { status: 'mapped'; bundle: Bundle; patient?: Patient; warnings: Issue[] }
  /** The record is invalid: issues point at source fields. */
  | { status: 'invalid'; issues: Issue[] }
  /** The record is valid but our output fails validation: a bug in the adapter. */
  | { status: 'defect'; issues: Issue[] };

/** The message heading a defect (the FHIR issues of our own output follow it). */
export const DEFECT_MESSAGE = 'source.record.defect';

export function dryRun(record: Record<string, unknown>, deps: { mapper: Mapper; validator: ValidatorLike; now: Date }): DryRunResult {
  const mapped = deps.mapper(record, deps.now);
  if (!mapped.bundle || hasErrors(mapped.issues)) {
    return { status: 'invalid', issues: mapped.issues.length ? mapped.issues : [messageIssue('error', 'processing', 'source.record.not-mapped')] };
  }
  const orgId = typeof record.organizationId === 'string' ? record.organizationId : undefined;
  const opts = { now: deps.now, ...(orgId ? { organizationId: orgId } : {}) };
  const fhirIssues: Issue[] = [...deps.validator.validate(mapped.bundle, opts)];
  // The Patient travels in the Bundle only when its IHS number is unknown; otherwise check it on its own.
  const patientInBundle = mapped.bundle.entry?.some((e) => e.resource?.resourceType === 'Patient') ?? false;
  if (mapped.patient && !patientInBundle) fhirIssues.push(...deps.validator.validate(mapped.patient, opts));
  if (hasErrors(fhirIssues)) {
    return { status: 'defect', issues: [messageIssue('error', 'exception', DEFECT_MESSAGE), ...fhirIssues] };
  }
  const result: DryRunResult = { status: 'mapped', bundle: mapped.bundle, warnings: [...mapped.issues, ...fhirIssues] };
  if (mapped.patient) result.patient = mapped.patient;
  return result;
}

/** Paths and codes of a defect, safe for logs. */
export function defectSummary(issues: Issue[]): Array<{ code: string; rule?: string; expression?: string[] }> {
  return issues
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => ({ code: i.code, ...(i.rule ? { rule: i.rule } : {}), ...(i.expression ? { expression: i.expression } : {}) }));
}
