// Exactly once across an operator's requeue. A transaction can commit at the platform while its response is lost;
// if that was the last allowed attempt the visit goes to dead-letter, and an operator requeues it (attempts reset).
// The next attempt must still search by identifier and adopt what exists: the SATUSEHAT staging platform does not
// reliably refuse a second Encounter with the same identifier (satusehat-platform.md §1.8), so 20002 cannot be
// the only guard. The fake platform below commits transactions and answers searches, but never deduplicates.
import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import { PlatformError, type PlatformClient } from '../../src/platform/types.js';
import { idsFromTransactionResponse } from '../../src/platform/client.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { SyncRunner } from '../../src/sync/runner.js';
import { defaultRetryPolicy } from '../../src/sync/policy.js';
import { contentHash } from '../../src/sync/hash.js';
import { createLogger } from '../../src/util/logger.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';
import { core, facilityConfig, mappingApi } from '../e2e/harness.js';
import { makeVisit } from '../e2e/fixtures.js';
import { fakePlatformClient } from './fake-platform.js';
import type { MappingTables } from '../../src/mapping/index.js';

const ORG = '10000401';
const ENC_SYSTEM = `http://sys-ids.kemkes.go.id/encounter/${ORG}`;

/** A platform that commits every transaction (no duplicate check) and can lose the response after committing. */
function fakePlatform() {
  const resources = new Map<string, Resource & { id: string }>();
  let seq = 0;
  let loseResponses = true;
  const posts: string[] = [];
  const ids = (r: Resource) => ((r as { identifier?: Array<{ system?: string; value?: string }> }).identifier ?? []).map((i) => `${i.system}|${i.value}`);
  const rewrite = (node: unknown, map: Map<string, string>): void => {
    if (Array.isArray(node)) return node.forEach((n) => rewrite(n, map));
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.reference === 'string' && map.has(o.reference)) o.reference = map.get(o.reference);
    Object.values(o).forEach((v) => rewrite(v, map));
  };
  const client: PlatformClient = fakePlatformClient(ORG, {
    search: async (type, params) => {
      const all = [...resources.values()].filter((r) => r.resourceType === type);
      if (params.identifier) return all.filter((r) => ids(r).includes(String(params.identifier)));
      if (params.encounter) return all.filter((r) => (r as { encounter?: { reference?: string } }).encounter?.reference === `Encounter/${String(params.encounter)}`);
      return all;
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
    count: (type: string) => [...resources.values()].filter((r) => r.resourceType === type).length,
    encountersFor: (visitId: string) => [...resources.values()].filter((r) => r.resourceType === 'Encounter' && ids(r).includes(`${ENC_SYSTEM}|${visitId}`)),
    answer: () => { loseResponses = false; },
  };
}

describe('exactly once across a requeue', () => {
  let store: Store;
  beforeAll(() => void core());
  beforeEach(() => { store = openStore({ url: 'sqlite::memory:' }); });
  afterEach(() => store.close());

  it('a dead-lettered visit whose last transaction committed is adopted after requeue, not created again', async () => {
    const { tables, validator } = core();
    const platform = fakePlatform();
    let t = Date.parse('2026-11-01T00:00:00Z');
    const now = () => t;
    const org = { organizationId: ORG, clientId: 'c', clientSecret: 's' };
    const facility = facilityConfig(org, { authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1' } as never);
    const runner = new SyncRunner<MappingTables>({
      store, mapping: mappingApi, tables, validator, now,
      identity: new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 1), now }),
      logger: createLogger({ level: 'silent' }),
      idsFromTransactionResponse,
      facilities: new Map([[ORG, { config: facility, client: platform.client }]]),
      settings: { concurrency: 1, perFacilityConcurrency: 1, batchSize: 4, leaseMs: 60_000, timeBudgetMs: 60_000 },
      policy: { ...defaultRetryPolicy, maxAttempts: 1 },
    });
    const visit = makeVisit(3, { organizationId: ORG }); // an infant: Observations and an Immunization
    store.ingest([{ organizationId: ORG, visitId: visit.visitId, record: visit, contentHash: contentHash(visit) }], t);

    await runner.tick();
    expect(store.getVisit(ORG, visit.visitId)!.state).toBe('dead-letter');
    expect(platform.encountersFor(visit.visitId)).toHaveLength(1); // committed although the response was lost
    const created = { enc: platform.count('Encounter'), obs: platform.count('Observation'), imm: platform.count('Immunization') };
    expect(created.obs).toBeGreaterThan(0);
    expect(created.imm).toBeGreaterThan(0);

    platform.answer();
    t += 3_600_000;
    expect(store.requeue(ORG, visit.visitId, t)).toBe(true);
    await runner.tick();
    const row = store.getVisit(ORG, visit.visitId)!;
    expect(row.state).toBe('sent');
    expect(platform.encountersFor(visit.visitId)).toHaveLength(1);
    expect({ enc: platform.count('Encounter'), obs: platform.count('Observation'), imm: platform.count('Immunization') }).toEqual(created);
    expect(row.resourceIds!.encounter).toBe(`Encounter/${platform.encountersFor(visit.visitId)[0]!.id}`);
  });
});
