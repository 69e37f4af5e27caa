// A fake platform for sync tests that commits every transaction (it never deduplicates, like the old staging sandbox),
// can lose the response after committing, and answers searches — optionally ignoring parameters the way the real
// platform silently drops those it does not support. Not a test file itself.
import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import { PlatformError, type PlatformClient } from '../../src/platform/types.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';
import { fakePlatformClient } from './fake-platform.js';

export const ENC_SYSTEM_OF = (org: string) => `http://sys-ids.kemkes.go.id/encounter/${org}`;

const identifiersOf = (r: Resource) => ((r as { identifier?: Array<{ system?: string; value?: string }> }).identifier ?? []).map((i) => `${i.system}|${i.value}`);
const REFERENCE_PARAMS: Record<string, string> = { subject: 'Patient', patient: 'Patient', encounter: 'Encounter' };

function matches(r: Resource, param: string, value: string): boolean {
  if (param === 'identifier') return identifiersOf(r).includes(value);
  const type = REFERENCE_PARAMS[param];
  if (type) return (r as unknown as Record<string, { reference?: string } | undefined>)[param]?.reference === `${type}/${value}`;
  return true; // a parameter this fake does not know filters nothing
}

export interface CommittingPlatformOptions {
  /** `Type.param` the platform silently drops (answers as if it had not been sent), e.g. `Observation.encounter`. */
  ignoredParams?: Iterable<string>;
  /** Lose the response of every committed transaction until answer() is called. Default true. */
  loseResponses?: boolean;
}

export function committingPlatform(organizationId: string, opts: CommittingPlatformOptions = {}) {
  const resources = new Map<string, Resource & { id: string }>();
  const ignored = new Set(opts.ignoredParams ?? []);
  let seq = 0;
  let loseResponses = opts.loseResponses ?? true;
  const posts: string[] = [];
  const searches: string[] = [];
  const rewrite = (node: unknown, map: Map<string, string>): void => {
    if (Array.isArray(node)) return node.forEach((n) => rewrite(n, map));
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.reference === 'string' && map.has(o.reference)) o.reference = map.get(o.reference);
    Object.values(o).forEach((v) => rewrite(v, map));
  };
  const client: PlatformClient = fakePlatformClient(organizationId, {
    search: async (type, params) => {
      searches.push(`${type}?${Object.keys(params).sort().join('&')}`);
      return [...resources.values()].filter((r) => r.resourceType === type &&
        Object.entries(params).every(([param, value]) => ignored.has(`${type}.${param}`) || matches(r, param, String(value))));
    },
    transaction: async (bundle: Bundle) => {
      const map = new Map<string, string>();
      const entries = (bundle.entry ?? []).map((e) => {
        const r = structuredClone(e.resource!) as Resource & { id: string };
        if (e.request!.method === 'POST') {
          r.id = `id-${++seq}`;
          posts.push(r.resourceType);
        }
        if (e.fullUrl) map.set(e.fullUrl, `${r.resourceType}/${r.id}`);
        return r;
      });
      for (const r of entries) {
        rewrite(r, map);
        resources.set(`${r.resourceType}/${r.id}`, r);
      }
      if (loseResponses) {
        // Committed; the caller sees a network error.
        throw new PlatformError('transient', undefined, toOperationOutcome([{ severity: 'error', code: 'transient', diagnostics: 'socket hang up' }]));
      }
      const response: BundleEntry[] = entries.map((r) => ({ response: { status: '201 Created', location: `${r.resourceType}/${r.id}/_history/1` } }));
      return { resourceType: 'Bundle', type: 'transaction-response', entry: response };
    },
  });
  return {
    client,
    posts,
    searches,
    count: (type: string) => [...resources.values()].filter((r) => r.resourceType === type).length,
    encountersFor: (visitId: string) => [...resources.values()].filter((r) => r.resourceType === 'Encounter' && identifiersOf(r).includes(`${ENC_SYSTEM_OF(organizationId)}|${visitId}`)),
    answer: () => { loseResponses = false; },
    loseNext: () => { loseResponses = true; },
  };
}
