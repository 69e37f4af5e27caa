// Argument checks and row shapes every Store implementation applies the same way, so SQLite and PostgreSQL refuse the
// same bad input with the same words and answer with the same objects.
import type { OperationOutcome } from 'fhir/r4.js';
import type {
  ApiKeyRow, ApiKeySource, Claim, EventIssue, FacilityHoldCause, FacilityState, IngestItem, LedgerEntry, VisitEvent, VisitRow, VisitState, VisitSummary,
} from './types.js';
import { recordAad, RecordSealError, type RecordCodec } from './record-codec.js';
import { messageExtension, type MessageRef } from '../util/app-error.js';

export const STATES: readonly VisitState[] = ['queued', 'sending', 'sent', 'needs-correction', 'blocked', 'dead-letter'];
export const FINAL_STATES: ReadonlySet<VisitState> = new Set<VisitState>(['needs-correction', 'blocked', 'dead-letter']);

export function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

export function assertTime(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${name} must be a finite number (epoch ms)`);
}

export function assertClaim(claim: Claim): void {
  if (!claim || typeof claim !== 'object' || !nonEmpty(claim.organizationId) || !nonEmpty(claim.visitId)) {
    throw new TypeError('claim: organizationId and visitId must be non-empty strings');
  }
  if (!Number.isInteger(claim.revision) || claim.revision < 1) throw new TypeError('claim: revision must be a positive integer');
  if (!Number.isInteger(claim.claimSeq) || claim.claimSeq < 1) throw new TypeError('claim: claimSeq must be a positive integer');
}

export function assertLimit(limit: unknown): void {
  if (!Number.isInteger(limit) || (limit as number) < 1) throw new TypeError('limit must be a positive integer');
}

const SUMMARY_MAX = 500;

/** A history summary from its issues (severity/code: text; ...), bounded: the one shape for the stored and the said summary. */
export function summaryOf(issues: ReadonlyArray<{ severity: string; code: string; text: string }>): string {
  const text = issues.map((i) => `${i.severity}/${i.code}: ${i.text}`).join('; ');
  return text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 3)}...` : text;
}

/** Short, PII-free (OperationOutcomes in the store are PII-free by contract) summary for the history table. */
export function summarise(oo: OperationOutcome | undefined): string | null {
  if (!oo || !Array.isArray(oo.issue)) return null;
  return summaryOf(oo.issue.map((i) => ({ severity: i.severity, code: i.code, text: i.details?.text ?? i.diagnostics ?? '' })));
}

/**
 * The issues a history summary covers (up to its bound), with their extensions, so the entry can be said again in
 * another language (visit_events.error_messages); null when no covered issue has an extension: the stored summary is
 * then all there is to say.
 */
export function summaryIssues(oo: OperationOutcome | undefined): EventIssue[] | null {
  if (!oo || !Array.isArray(oo.issue)) return null;
  const out: EventIssue[] = [];
  let length = 0;
  for (const i of oo.issue) {
    if (length >= SUMMARY_MAX) break;
    const text = i.details?.text ?? i.diagnostics ?? '';
    length += i.severity.length + i.code.length + text.length + 5;
    out.push({ severity: i.severity, code: i.code, text, ...(i.extension?.length ? { extension: i.extension } : {}) });
  }
  return out.some((i) => i.extension) ? out : null;
}

/** The columns the visit list filters on, read from the record (absent or malformed ⇒ null). */
export function listColumns(record: unknown): [string | null, string | null, number | null] {
  const r = (record && typeof record === 'object' ? record : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const start = typeof r.start === 'string' ? Date.parse(r.start) : Number.NaN;
  return [text(r.setting), text(r.locationCode), Number.isFinite(start) ? start : null];
}

/** Checks one ingest item (index `i` of its batch) and returns its record as JSON text. */
export function checkedIngestItem(it: IngestItem, i: number): string {
  if (!it || typeof it !== 'object') throw new TypeError(`ingest item ${i}: not an object`);
  if (!nonEmpty(it.organizationId)) throw new TypeError(`ingest item ${i}: organizationId must be a non-empty string`);
  if (!nonEmpty(it.visitId)) throw new TypeError(`ingest item ${i}: visitId must be a non-empty string`);
  if (!nonEmpty(it.contentHash)) throw new TypeError(`ingest item ${i}: contentHash must be a non-empty string`);
  let json: string | undefined;
  try {
    json = JSON.stringify(it.record);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new TypeError(`ingest item ${i}: record cannot be serialised as JSON`);
  const w = it.weighing;
  if (w !== undefined && !(nonEmpty(w.childKey) && /^\d{4}-\d{2}-\d{2}$/.test(w.measuredOn) && Number.isInteger(w.weightGrams) && w.weightGrams > 0)) {
    throw new TypeError(`ingest item ${i}: weighing must have childKey, measuredOn YYYY-MM-DD and a positive integer weightGrams`);
  }
  return json;
}

/** A visits row as the driver returns it; JSON columns arrive as `J` (text from SQLite, parsed JSONB from PostgreSQL). */
export interface DbVisitOf<J> {
  rid: number;
  org: string;
  visit_id: string;
  revision: number;
  content_hash: string;
  record: string;
  state: VisitState;
  attempts: number;
  claim_seq: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: J | null;
  resource_ids: J | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  record_purged_at: number | null;
}

/** The VisitRow of a stored row, its body opened by `codec` and its JSON columns read by `fromJson`. */
export function toVisitRow<J>(r: DbVisitOf<J>, codec: RecordCodec, fromJson: (v: J) => unknown): VisitRow {
  const row: VisitRow = {
    organizationId: r.org,
    visitId: r.visit_id,
    revision: r.revision,
    contentHash: r.content_hash,
    ...openBody(r, codec),
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.lease_until !== null) row.leaseUntil = r.lease_until;
  if (r.last_error !== null) row.lastError = fromJson(r.last_error) as OperationOutcome;
  if (r.resource_ids !== null) row.resourceIds = fromJson(r.resource_ids) as Record<string, string>;
  if (r.sent_at !== null) row.sentAt = r.sent_at;
  return row;
}

export interface DbSummary {
  org: string; visit_id: string; revision: number; state: VisitState; attempts: number; next_attempt_at: number; updated_at: number;
  setting: string | null; location_code: string | null; visit_start: number | null;
}

/** A visit_events row; the JSON column arrives as `J` (text from SQLite, parsed JSONB from PostgreSQL). */
export interface DbEvent<J> {
  revision: number; from_state: VisitState | null; to_state: VisitState; at: number; attempts: number; error: string | null;
  error_messages: J | null;
}

export function toVisitEvent<J>(e: DbEvent<J>, fromJson: (v: J) => unknown): VisitEvent {
  const ev: VisitEvent = { revision: e.revision, toState: e.to_state, at: e.at, attempts: e.attempts };
  if (e.from_state !== null) ev.fromState = e.from_state;
  if (e.error !== null) ev.error = e.error;
  if (e.error_messages !== null) {
    // An unreadable value only loses the other language: the English summary still says what happened.
    let issues: unknown;
    try {
      issues = fromJson(e.error_messages);
    } catch {
      issues = undefined;
    }
    if (Array.isArray(issues)) ev.errorIssues = issues as EventIssue[];
  }
  return ev;
}

export interface DbLedger { org: string; local_key: string; resource_type: string; satusehat_id: string; content_hash: string; updated_at: number }

export interface DbApiKey {
  key_hash: string; org: string | null; role: ApiKeyRow['role']; label: string | null; source: ApiKeySource;
  created_at: number | null; revoked_at: number | null;
}

/** A facility_state row; the JSON column arrives as `J` (text from SQLite, parsed JSONB from PostgreSQL). */
export interface DbFacilityState<J> {
  org: string; status: FacilityState['status']; cause: FacilityHoldCause | null; reason: string | null; reason_message: J | null;
  not_before: number | null; updated_at: number;
}

export function toFacilityState<J>(r: DbFacilityState<J>, fromJson: (v: J) => unknown): FacilityState {
  const st: FacilityState = { organizationId: r.org, status: r.status, updatedAt: r.updated_at };
  if (r.cause !== null) st.cause = r.cause;
  if (r.reason !== null) st.reason = r.reason;
  if (r.reason_message !== null) st.reasonMessage = fromJson(r.reason_message) as MessageRef;
  if (r.not_before !== null) st.notBefore = r.not_before;
  return st;
}

export function toLedgerEntry(r: DbLedger): LedgerEntry {
  return {
    organizationId: r.org, localKey: r.local_key, resourceType: r.resource_type,
    satusehatId: r.satusehat_id, contentHash: r.content_hash, updatedAt: r.updated_at,
  };
}

export function toApiKeyRow(r: DbApiKey): ApiKeyRow {
  const row: ApiKeyRow = { keyHash: r.key_hash, organizationId: r.org, role: r.role, source: r.source };
  if (r.label !== null) row.label = r.label;
  if (r.created_at !== null) row.createdAt = r.created_at;
  if (r.revoked_at !== null) row.revokedAt = r.revoked_at;
  return row;
}

export function toSummary(r: DbSummary): VisitSummary {
  const v: VisitSummary = {
    organizationId: r.org, visitId: r.visit_id, revision: r.revision, state: r.state, attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at, updatedAt: r.updated_at,
  };
  if (r.setting !== null) v.setting = r.setting;
  if (r.location_code !== null) v.locationCode = r.location_code;
  if (r.visit_start !== null) v.visitStart = r.visit_start;
  return v;
}

/** The stored body of a row (sealed by `codec`), as the row holds it: opened, purged, or unreadable (named by its key id; never a throw that hides the row). */
export function openBody(
  r: { org: string; visit_id: string; record: string; record_purged_at: number | null }, codec: RecordCodec,
): Pick<VisitRow, 'record' | 'recordPurgedAt' | 'recordUnreadable' | 'recordUnreadableRef'> {
  if (r.record_purged_at !== null) return { record: undefined, recordPurgedAt: r.record_purged_at };
  try {
    return { record: JSON.parse(codec.open(r.record, recordAad(r.org, r.visit_id))) };
  } catch (e) {
    if (e instanceof RecordSealError) return { record: undefined, recordUnreadable: e.message, ...(e.ref ? { recordUnreadableRef: e.ref } : {}) };
    throw e;
  }
}

/**
 * Why a visit whose body cannot be opened is held (blocked): which key, what failed, and what the operator can do. English
 * as stored; the catalogue message (store-open.record.held, the reason as a fragment) goes along so readers get their language.
 */
export function unreadableOutcome(reason: string, reasonRef?: MessageRef): OperationOutcome {
  const text = `${reason}. Add the data key back to DATA_KEYS / the data key file and requeue the visit, or push the record again.`;
  const message: MessageRef | undefined = reasonRef && { key: 'store-open.record.held', params: { ...reasonRef.params, '@reason': reasonRef.key } };
  return {
    resourceType: 'OperationOutcome',
    issue: [{
      severity: 'error', code: 'security', expression: ['record'], diagnostics: text, details: { text },
      ...(message ? { extension: [messageExtension(message)] } : {}),
    }],
  };
}
