// The search parameters SATUSEHAT honours per resource type (mappings/platform-search.json). The platform silently drops
// any other parameter and answers as if it had not been sent: the simulator copies that, and the sync sends only these.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../util/paths.js';

interface PlatformSearchFile {
  types: Record<string, { params: string[] }>;
}

/** Per type, the search parameters the platform honours. */
export const PLATFORM_SEARCH_PARAMS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries((JSON.parse(readFileSync(path.join(mappingsDir, 'platform-search.json'), 'utf8')) as PlatformSearchFile).types)
    .map(([type, t]) => [type, new Set(t.params)]),
);

/** Whether SATUSEHAT is documented to honour `param` in a search of `type`. */
export function isDocumentedSearchParam(type: string, param: string): boolean {
  return PLATFORM_SEARCH_PARAMS.get(type)?.has(param) ?? false;
}
