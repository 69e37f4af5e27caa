// The slice of the mapping and validation modules the sync job relies on, named here so sync can be tested with
// the real modules or with small fakes. The real functions satisfy these structurally.
import type { MapResult, PreviousWeighing, ResolvedIds } from '../mapping/types.js';
import type { Issue } from '../validation/outcome.js';

/** The fields of an ILP visit record that sync reads itself (identity resolution, PII scrubbing). */
export interface VisitRecordLike {
  organizationId: string;
  visitId: string;
  locationCode?: string;
  patient: {
    nik?: string;
    motherNik?: string;
    birthOrder?: number;
    ihsNumber?: string;
    name?: string;
    birthDate?: string;
    phone?: string;
  };
  practitioner: { ihsNumber?: string; nik?: string; name?: string };
  measurements?: Array<{ code?: string }>;
  findings?: Array<{ code?: string }>;
  pregnancy?: object;
  immunizations?: Array<{ vaccine?: string; dose?: unknown }>;
  diagnoses?: Array<{ code?: string }>;
}

export type { PreviousWeighing, ResolvedIds, MappedEntry, MapResult } from '../mapping/types.js';

export interface MappingApi<Tables = unknown> {
  checkVisit(record: unknown, tables: Tables, opts: { now: Date }): Issue[];
  mapVisit(record: unknown, tables: Tables, opts: { now: Date; resolved?: ResolvedIds; previousWeighing?: PreviousWeighing }): MapResult;
}

export interface ValidatorApi {
  validate(payload: unknown, opts: { now: Date; baseOnly?: boolean; organizationId?: string }): Issue[];
}
