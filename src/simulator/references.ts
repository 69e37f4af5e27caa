// Finding and rewriting `reference` fields anywhere in a resource (urn:uuid → Type/id inside transactions; existence checks).
import type { Json } from './resource-types.js';

export interface FoundReference {
  /** The object holding `reference`, so a caller can rewrite it in place. */
  holder: Json;
  /** FHIRPath-like location, e.g. `Encounter.participant[0].individual`. */
  path: string;
  reference: string;
}

export function findReferences(resource: Json): FoundReference[] {
  const out: FoundReference[] = [];
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, `${path}[${i}]`));
      return;
    }
    if (!node || typeof node !== 'object') return;
    const obj = node as Json;
    if (typeof obj.reference === 'string') out.push({ holder: obj, path, reference: obj.reference });
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'reference' || k === 'contained') continue;
      if (v && typeof v === 'object') visit(v, `${path}.${k}`);
    }
  };
  visit(resource, String(resource.resourceType ?? 'Resource'));
  return out;
}

/** `Type/id` of a literal relative reference, or undefined for urn:uuid, absolute URLs, fragments, etc. */
export function parseRelative(ref: string): { type: string; id: string } | undefined {
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return m ? { type: m[1], id: m[2] } : undefined;
}
