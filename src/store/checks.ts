// Argument checks and row helpers every Store implementation applies the same way, so SQLite and PostgreSQL refuse the
// same bad input with the same words. (sqlite.ts still has its own copies; they are identical and can import these.)
import type { OperationOutcome } from 'fhir/r4.js';
import type { IngestItem } from './types.js';

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
