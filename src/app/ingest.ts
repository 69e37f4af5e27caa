// The checks every way into the outbox shares (POST /ilp/visits, `ilp-adapter import`): the organization is one this
// adapter delivers for, the record maps and validates (dry run), its location code is configured; then the accepted
// records are committed in one store transaction. A rejected record stores nothing.
import type { IngestItem, IngestStatus, Store, WeighingFact } from '../store/types.js';
import type { VisitRecord } from '../mapping/types.js';
import type { ValidatorLike } from './contracts.js';
import { defectSummary, dryRun, type Mapper } from './dry-run.js';
import { contentHash } from '../sync/hash.js';
import type { Issue } from '../validation/outcome.js';
import { messageIssue } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';
import type { Logger } from '../util/logger.js';

export interface IngestCheckDeps {
  validator: ValidatorLike;
  mapper: Mapper;
  /** Organizations this adapter delivers for; a record of another one is rejected (it could never be sent). */
  organizations?: ReadonlySet<string>;
  /** Location codes configured per organization (facilities file); a record with another code is rejected. Absent ⇒ not checked. */
  locations?: ReadonlyMap<string, ReadonlySet<string>>;
  /** The child's weighing in an accepted record, kept for the next visit's weight-gain status; absent ⇒ none kept. */
  weighingOf?: (record: VisitRecord) => WeighingFact | undefined;
  logger?: Pick<Logger, 'error'>;
}

export type RecordIds = { organizationId?: string; visitId?: string };
export type CheckedRecord =
  | { status: 'accepted'; item: IngestItem }
  | { status: 'rejected'; ids: RecordIds; issues: Issue[] };

/** Shown in a refusal: enough for a person to spot the right code, bounded for a facility with hundreds. */
const LISTED_LOCATIONS = 30;

/**
 * The issue at `locationCode` when the record names a code the facilities file does not configure for its organization
 * (sync could only block it). A code that is not a string is left to the schema check.
 */
export function unconfiguredLocation(code: unknown, org: string, locations: ReadonlyMap<string, ReadonlySet<string>> | undefined): Issue | undefined {
  const configured = locations?.get(org);
  if (!configured || typeof code !== 'string' || configured.has(code)) return undefined;
  const list = [...configured].sort();
  const listed = list.slice(0, LISTED_LOCATIONS).join(', ');
  const configuredParam: Params = !list.length ? { '@configured': 'source.none' }
    : list.length > LISTED_LOCATIONS ? { '@configured': 'source.location.more', list: listed, count: list.length } : { configured: listed };
  // The code itself is not echoed: it is free input and could carry anything.
  return messageIssue('error', 'code-invalid', 'source.location.unconfigured', { org, ...configuredParam }, 'locationCode');
}

/** The message of a record whose organization this adapter does not deliver for. */
export const NOT_DELIVERED_HERE = 'source.record.not-delivered-here';

/** One record through the ingest checks: an item ready for the store, or the issues at its source fields. */
export function checkRecord(raw: unknown, deps: IngestCheckDeps, now: Date): CheckedRecord {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return { status: 'rejected', ids: {}, issues: [messageIssue('error', 'structure', 'source.record.not-object')] };
  }
  const record = raw as Record<string, unknown>;
  const org = typeof record.organizationId === 'string' ? record.organizationId : undefined;
  const visitId = typeof record.visitId === 'string' ? record.visitId : undefined;
  const ids: RecordIds = { ...(org ? { organizationId: org } : {}), ...(visitId ? { visitId } : {}) };
  if (org && deps.organizations && !deps.organizations.has(org)) {
    return { status: 'rejected', ids, issues: [messageIssue('error', 'not-supported', NOT_DELIVERED_HERE, {}, 'organizationId')] };
  }
  const result = dryRun(record, { mapper: deps.mapper, validator: deps.validator, now });
  const location = org ? unconfiguredLocation(record.locationCode, org, deps.locations) : undefined;
  if (result.status !== 'mapped' || location) {
    if (result.status === 'defect') deps.logger?.error({ defects: defectSummary(result.issues) }, 'mapped resources fail validation');
    return { status: 'rejected', ids, issues: [...(location ? [location] : []), ...(result.status === 'mapped' ? [] : result.issues)] };
  }
  // dryRun succeeded ⇒ the schema guaranteed organizationId and visitId.
  const weighing = deps.weighingOf?.(record as unknown as VisitRecord);
  return { status: 'accepted', item: { organizationId: org!, visitId: visitId!, record, contentHash: contentHash(record), ...(weighing ? { weighing } : {}) } };
}

/** Durable in one transaction: created / revised / unchanged per item, in order. */
export const commitAccepted = async (store: Store, items: IngestItem[], now: Date): Promise<IngestStatus[]> =>
  items.length ? store.ingest(items, now.getTime()) : [];
