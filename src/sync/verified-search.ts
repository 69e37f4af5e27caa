// Searches the sync relies on to prevent a duplicate (reconciling after a lost response, or a 20002). The platform
// silently drops search parameters it does not support and answers as if they had not been sent, so a filter is never
// trusted: only documented parameters are sent (mappings/platform-search.json), and every resource in the answer is
// checked against every parameter. An answer holding resources that do not match is treated as unknown — neither
// "found" nor "absent" — since adopting from it could attach another visit's resources. (A truncated answer, total
// above the entries returned with no next link, is refused by the platform client the same way.)
import type { Resource } from 'fhir/r4.js';
import { isDocumentedSearchParam } from '../platform/search-params.js';
import { PlatformError, type PlatformClient } from '../platform/types.js';
import { toOperationOutcome } from '../validation/outcome.js';
import { messageIssue } from '../i18n/issues.js';

export { isDocumentedSearchParam };

/** One search parameter with the check that a returned resource really satisfies it. */
export interface Criterion {
  param: string;
  value: string;
  holds: (r: Resource) => boolean;
}

/** `ref` points at `type/id`, relative or absolute (the platform answers absolute URLs in places). */
export function refersTo(ref: unknown, type: string, id: string): boolean {
  return typeof ref === 'string' && (ref === `${type}/${id}` || ref.endsWith(`/${type}/${id}`));
}

const referenceOf = (r: Resource, element: string): unknown => (r as unknown as Record<string, { reference?: unknown } | undefined>)[element]?.reference;

export const byIdentifier = (system: string, value: string): Criterion => ({
  param: 'identifier',
  value: `${system}|${value}`,
  holds: (r) => ((r as { identifier?: Array<{ system?: string; value?: string }> }).identifier ?? []).some((i) => i.system === system && i.value === value),
});

/** A reference search parameter (`subject`, `patient`, `encounter`) holding a bare id, checked on the element of the same name. */
export const byReference = (param: 'subject' | 'patient' | 'encounter', type: string, id: string): Criterion => ({
  param,
  value: id,
  holds: (r) => refersTo(referenceOf(r, param), type, id),
});

/** Thrown when an answer holds resources that do not match the search: whether ours exist is unknown. */
export function unfilteredSearchError(type: string, stray: number, of: number): PlatformError {
  return new PlatformError('transient', undefined, toOperationOutcome([
    messageIssue('error', 'incomplete', 'sync.search-unfiltered', { type, stray, of }),
  ], undefined, true), [], undefined, 'search-unfiltered');
}

/** Resources of `type` that satisfy every criterion; throws when the answer shows the platform did not filter. */
export async function verifiedSearch(client: PlatformClient, type: string, criteria: Criterion[]): Promise<Resource[]> {
  for (const c of criteria) {
    // A programming error, not a platform answer: sending an unsupported parameter would silently widen the search.
    if (!isDocumentedSearchParam(type, c.param)) throw new Error(`${type}?${c.param}= is not a documented SATUSEHAT search parameter`);
  }
  const found = (await client.search(type, Object.fromEntries(criteria.map((c) => [c.param, c.value])))).filter((r) => r.resourceType === type && r.id);
  const stray = found.filter((r) => !criteria.every((c) => c.holds(r))).length;
  if (stray) throw unfilteredSearchError(type, stray, found.length);
  return found;
}
