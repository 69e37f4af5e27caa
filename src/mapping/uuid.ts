// Deterministic UUIDs for Bundle fullUrls: the same visit maps to the same urn:uuid values every time (RFC 4122 name-based, version 5).
import { hash } from 'node:crypto';

// Project namespace (a fixed random UUID) so our ids never collide with other v5 users of the same names.
const NAMESPACE = Buffer.from('4f0c7b1e9a3d4c58b2e61d7f3a9c0e25', 'hex');
const SEP = '\u001f'; // unit separator: cannot occur in the ids the schema accepts, so ('a','bc') ≠ ('ab','c')

/** RFC 4122 v5-style UUID from sha1(namespace ‖ parts joined by U+001F). Callers pass ids only, never NIK or names. */
export function deterministicUuid(...parts: string[]): string {
  // One-shot hash: a fullUrl per resource makes this hot, and a Hash object per call costs a third more.
  const h = hash('sha1', Buffer.concat([NAMESPACE, Buffer.from(parts.join(SEP), 'utf8')]), 'buffer');
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
