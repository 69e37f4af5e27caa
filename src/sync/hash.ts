// Content hashes that do not depend on key order: the same record or resource always hashes the same,
// so re-pushing an unchanged visit creates no work and an unchanged resource is not sent again.
import { createHash, createHmac } from 'node:crypto';

/** JSON with object keys sorted at every level (arrays keep their order: order is meaningful in FHIR). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** sha256 of the canonical JSON of a value. */
export const contentHash = (value: unknown): string => sha256Hex(canonicalJson(value));

/** Hash of a FHIR resource as we send it, without the server-owned parts (id, meta). */
export function resourceHash(resource: object): string {
  const { id: _id, meta: _meta, ...rest } = resource as Record<string, unknown>;
  return contentHash(rest);
}

/** Keyed hash for identity keys (NIK is low-entropy: a plain sha256 could be reversed by enumeration). */
export const hmacHex = (key: Buffer, text: string): string => createHmac('sha256', key).update(text).digest('hex');
