// The slice of the mapping and validation modules the API and CLI call. Their concrete types satisfy these
// structurally; keeping the contract here lets api/cli tests name exactly what they rely on.
import type { Bundle, Patient } from 'fhir/r4.js';
import type { Issue } from '../validation/outcome.js';

export interface ValidateOptions {
  now: Date;
  /** Base FHIR R4 only, no SATUSEHAT rules. */
  baseOnly?: boolean;
  /** The resource type the caller expects (type-level $validate). */
  expectedType?: string;
  /** The organization the payload must belong to (rule 10117-style consistency). */
  organizationId?: string;
}

export interface ValidatorLike {
  validate(payload: unknown, opts: ValidateOptions): Issue[];
}

export interface MapOptions {
  now: Date;
}

export interface MapResultLike {
  bundle?: Bundle;
  patient?: Patient;
  issues: Issue[];
}
