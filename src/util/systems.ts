// The SATUSEHAT identifier systems, read once from mappings/systems.json (the one place that knows them; the mapping
// reads the same file through its tables). For the modules that talk to the platform or stand in for it — the client's
// searches, identity, delivery's reconcile searches, the simulator — which have no mapping tables at hand.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from './paths.js';

export type IdentifierKind = 'patientNik' | 'patientNikIbu' | 'patientIhs' | 'practitionerNik' | 'practitionerIhs' | 'encounter' | 'observation' | 'condition' | 'location';

const doc = JSON.parse(readFileSync(path.join(mappingsDir, 'systems.json'), 'utf8')) as {
  orgIdentifierBase: { url: string };
  identifiers: Record<IdentifierKind, { url: string }>;
};
const identifiers = doc.identifiers;

/** The base of the facilities' own identifier namespaces: `{base}{kind}/{organizationId}` (encounter, observation, …). */
export const ORG_IDENTIFIER_BASE = doc.orgIdentifierBase.url;

/** Where a system is per organization, its placeholder. */
const ORG_PLACEHOLDER = '{organizationId}';

/** The system URL of `kind`; for the per-organization ones (encounter, location, …) pass the organizationId. */
export function identifierSystem(kind: IdentifierKind, organizationId?: string): string {
  const url = identifiers[kind].url;
  if (!url.includes(ORG_PLACEHOLDER)) return url;
  if (organizationId === undefined) throw new Error(`identifier system ${kind} needs an organizationId`);
  return url.replace(ORG_PLACEHOLDER, organizationId);
}

/** The part of a per-organization system before its organizationId. */
export function identifierSystemPrefix(kind: IdentifierKind): string {
  const url = identifiers[kind].url;
  const at = url.indexOf(ORG_PLACEHOLDER);
  if (at < 0) throw new Error(`identifier system ${kind} is not per organization`);
  return url.slice(0, at);
}
