// Argument checks and row shapes every Store implementation applies the same way, so SQLite and PostgreSQL refuse the
// same bad input with the same words and answer with the same objects. (sqlite.ts still has its own identical copies.)
import type { OperationOutcome } from 'fhir/r4.js';
import type { ApiKeyRow, ApiKeySource, IngestItem, LedgerEntry, VisitState, VisitSummary } from './types.js';

export function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

export function assertTime(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${name} must be a finite number (epoch ms)`);
}

export function assertLimit(limit: unknown): void {
  if (!Number.isInteger(limit) || (limit as number) < 1) throw new TypeError('limit must be a positive integer');
}

/** Short, PII-free (OperationOutcomes in the store are PII-free by contract) summary for the history table. */
export function summarise(oo: OperationOutcome | undefined): string | null {
  if (!oo || !Array.isArray(oo.issue)) return null;
  const text = oo.issue.map((i) => `${i.severity}/${i.code}: ${i.details?.text ?? i.diagnostics ?? ''}`).join('; ');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
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

export interface DbSummary {
  org: string; visit_id: string; revision: number; state: VisitState; attempts: number; next_attempt_at: number; updated_at: number;
  setting: string | null; location_code: string | null; visit_start: number | null;
}

export interface DbLedger { org: string; local_key: string; resource_type: string; satusehat_id: string; content_hash: string; updated_at: number }

export interface DbApiKey {
  key_hash: string; org: string | null; role: ApiKeyRow['role']; label: string | null; source: ApiKeySource;
  created_at: number | null; revoked_at: number | null;
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

/** Why a visit whose body cannot be opened is held (blocked): which key, what failed, and what the operator can do. */
export function unreadableOutcome(reason: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{
      severity: 'error', code: 'security', expression: ['record'],
      details: { text: `${reason}. Add the data key back to DATA_KEYS / the data key file and requeue the visit, or push the record again.` },
    }],
  };
}
