// Retraction of what a revision no longer produces, against a scripted platform: the paths the simulator e2e does not
// reach — the resource is gone at the platform, it is already entered-in-error (a lost response), the read fails.
import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import { PlatformError, type PlatformClient } from '../../src/platform/types.js';
import { idsFromTransactionResponse } from '../../src/platform/client.js';
import { openStore } from '../../src/store/index.js';
import { RETRACTED_HASH, type Store } from '../../src/store/types.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { deliverVisit, ledgerKey, type DeliveryDeps } from '../../src/sync/deliver.js';
import { contentHash } from '../../src/sync/hash.js';
import { createLogger } from '../../src/util/logger.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';
import { core, facilityConfig, mappingApi } from '../e2e/harness.js';
import { makeVisit } from '../e2e/fixtures.js';
import { fakePlatformClient } from './fake-platform.js';
import type { MappingTables } from '../../src/mapping/index.js';

const ORG = '10000501';
type Measurement = { code: string; value: number; unit: string };

function platform() {
  const resources = new Map<string, Resource & { id: string }>();
  let seq = 0;
  const bundles: Bundle[] = [];
  const reads: string[] = [];
  let readOverride: ((type: string, id: string) => Promise<Resource>) | undefined;
  let searchOverride: ((type: string, params: Record<string, string>) => Promise<Resource[]>) | undefined;
  const client: PlatformClient = fakePlatformClient(ORG, {
    search: async (type, params) => (searchOverride ? searchOverride(type, params as Record<string, string>) : []),
    read: async (type, id) => {
      reads.push(`${type}/${id}`);
      if (readOverride) return readOverride(type, id);
      const r = resources.get(`${type}/${id}`);
      if (!r) throw new PlatformError('not-found', 404, toOperationOutcome([{ severity: 'error', code: 'not-found', diagnostics: 'gone' }]));
      return structuredClone(r);
    },
    transaction: async (bundle: Bundle) => {
      bundles.push(structuredClone(bundle));
      const out: BundleEntry[] = [];
      for (const e of bundle.entry ?? []) {
        const r = structuredClone(e.resource!) as Resource & { id: string };
        if (e.request!.method === 'POST') r.id = `id-${++seq}`;
        resources.set(`${r.resourceType}/${r.id}`, r);
        out.push({ response: { status: e.request!.method === 'POST' ? '201 Created' : '200 OK', location: `${r.resourceType}/${r.id}/_history/1` } });
      }
      return { resourceType: 'Bundle', type: 'transaction-response', entry: out };
    },
  });
  return {
    client, resources, bundles, reads,
    setRead: (f: typeof readOverride) => { readOverride = f; },
    setSearch: (f: typeof searchOverride) => { searchOverride = f; },
  };
}

describe('deliverVisit: retracting what a revision removed', () => {
  let store: Store;
  let t: number;
  beforeAll(() => void core());
  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    t = Date.parse('2026-11-01T00:00:00Z');
  });
  afterEach(() => store.close());

  function setup() {
    const { tables, validator } = core();
    const p = platform();
    const now = () => t;
    const facility = { config: facilityConfig({ organizationId: ORG, clientId: 'c', clientSecret: 's' }, { authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1' } as never), client: p.client };
    const deps: DeliveryDeps<MappingTables> = {
      store, mapping: mappingApi, tables, validator, now,
      identity: new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 1), now }),
      logger: createLogger({ level: 'silent' }),
      idsFromTransactionResponse,
    };
    const deliver = async (record: Record<string, unknown>) => {
      await store.ingest([{ organizationId: ORG, visitId: String(record.visitId), record, contentHash: contentHash(record) }], t);
      const [row] = await store.claimDue(ORG, t, 1, 60_000);
      const res = await deliverVisit(row!, facility, deps);
      t += 60_000;
      return res;
    };
    return { p, deliver, facility, deps };
  }

  /** Sends an adult visit with three readings, then returns a revision without the diastolic one. */
  async function sentThenRevised(deliver: ReturnType<typeof setup>['deliver']) {
    const visit = makeVisit(1, { organizationId: ORG }) as ReturnType<typeof makeVisit> & { measurements: Measurement[] };
    const first = await deliver(visit);
    const removedKey = Object.keys(first.resourceIds).find((k) => k.includes('diastolic'))!;
    const rev = structuredClone(visit);
    rev.measurements = rev.measurements.filter((m) => m.code !== 'diastolic-bp');
    return { visit, first, rev, removedKey, removedId: first.resourceIds[removedKey]!.split('/')[1]! };
  }

  it('PUTs the removed Observation as entered-in-error (id in body and URL, platform version stamps dropped) with the rest', async () => {
    const { p, deliver } = setup();
    const { visit, rev, removedKey, removedId } = await sentThenRevised(deliver);
    p.resources.get(`Observation/${removedId}`)!.meta = { versionId: '3', lastUpdated: '2026-11-01T00:00:00+00:00', profile: ['x'] };
    const res = await deliver(rev);
    expect(p.reads).toEqual([`Observation/${removedId}`]);
    expect(res).toMatchObject({ sent: 1, marked: true });
    expect(res.resourceIds[removedKey]).toBeUndefined();
    const [entry] = p.bundles.at(-1)!.entry!;
    expect(entry!.request).toEqual({ method: 'PUT', url: `Observation/${removedId}` });
    expect(entry!.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(entry!.resource).toMatchObject({ resourceType: 'Observation', id: removedId, status: 'entered-in-error', meta: { profile: ['x'] } });
    expect(entry!.resource!.meta).toEqual({ profile: ['x'] });
    expect(await store.getLedger(ORG, ledgerKey(visit.visitId, removedKey))).toMatchObject({ satusehatId: removedId, contentHash: RETRACTED_HASH });
    expect((await store.getVisit(ORG, visit.visitId))!.resourceIds).toEqual(res.resourceIds);
  });

  it('a resource the platform no longer has is marked retracted without a transaction', async () => {
    const { p, deliver } = setup();
    const { visit, rev, removedKey, removedId } = await sentThenRevised(deliver);
    p.resources.delete(`Observation/${removedId}`);
    const bundlesBefore = p.bundles.length;
    const res = await deliver(rev);
    expect(res).toMatchObject({ sent: 0, marked: true });
    expect(p.bundles.length).toBe(bundlesBefore);
    expect((await store.getLedger(ORG, ledgerKey(visit.visitId, removedKey)))!.contentHash).toBe(RETRACTED_HASH);
  });

  it('one already entered-in-error (an earlier response lost) is not PUT again', async () => {
    const { p, deliver } = setup();
    const { visit, rev, removedKey, removedId } = await sentThenRevised(deliver);
    (p.resources.get(`Observation/${removedId}`) as unknown as { status: string }).status = 'entered-in-error';
    rev.measurements[0]!.value += 1; // something else changes too: only that is sent
    const res = await deliver(rev);
    expect(res.sent).toBe(1);
    expect(p.bundles.at(-1)!.entry!.map((e) => e.request!.url)).toEqual([expect.stringMatching(/^Observation\/id-\d+$/)]);
    expect(p.bundles.at(-1)!.entry![0]!.request!.url).not.toBe(`Observation/${removedId}`);
    expect((await store.getLedger(ORG, ledgerKey(visit.visitId, removedKey)))!.contentHash).toBe(RETRACTED_HASH);
  });

  it('a failed read fails the attempt and leaves the ledger entry to retract on the next one', async () => {
    const { p, deliver } = setup();
    const { visit, rev, removedKey } = await sentThenRevised(deliver);
    const before = (await store.getLedger(ORG, ledgerKey(visit.visitId, removedKey)))!;
    p.setRead(async () => { throw new PlatformError('transient', 503, toOperationOutcome([{ severity: 'error', code: 'transient', diagnostics: 'down' }])); });
    const bundlesBefore = p.bundles.length;
    await expect(deliver(rev)).rejects.toMatchObject({ kind: 'transient' });
    expect(p.bundles.length).toBe(bundlesBefore);
    expect(await store.getLedger(ORG, ledgerKey(visit.visitId, removedKey))).toEqual(before);
  });

  it('never retracts an Encounter, nor a removed entry twice', async () => {
    const { p, deliver } = setup();
    const { visit, rev } = await sentThenRevised(deliver);
    // A stale Encounter-typed ledger entry under another key of this visit must be left alone.
    await store.putLedger([{ organizationId: ORG, localKey: ledgerKey(visit.visitId, 'encounter-old'), resourceType: 'Encounter', satusehatId: 'enc-x', contentHash: 'h', updatedAt: t }]);
    await deliver(rev);
    expect(p.reads).toHaveLength(1);
    const again = structuredClone(rev);
    again.measurements[0]!.value += 3;
    const res = await deliver(again);
    expect(p.reads).toHaveLength(1); // no second read: the entry is retracted already
    expect(res.sent).toBe(1);
    expect(p.bundles.at(-1)!.entry!.every((e) => e.resource!.resourceType === 'Observation' && (e.resource as unknown as { status: string }).status === 'final')).toBe(true);
  });

  describe('diagnoses (Condition)', () => {
    const VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
    type Dx = { code: string; rank?: number };

    it('a revision that replaces the derived diagnosis POSTs the new Condition, re-points the Encounter and retracts the old one', async () => {
      const { p, deliver } = setup();
      const visit = makeVisit(1, { organizationId: ORG }) as ReturnType<typeof makeVisit> & { diagnoses?: Dx[] };
      const first = await deliver(visit);
      const oldId = first.resourceIds['condition/Z13.6']!.split('/')[1]!;
      expect(p.resources.get(`Condition/${oldId}`)).toMatchObject({ code: { coding: [{ code: 'Z13.6' }] } });
      const rev = structuredClone(visit);
      rev.diagnoses = [{ code: 'I10' }];
      const res = await deliver(rev);
      const entries = p.bundles.at(-1)!.entry!;
      expect(entries.map((e) => `${e.request!.method} ${e.request!.url.replace(/\/.*$/, '')}`).sort()).toEqual(['POST Condition', 'PUT Condition', 'PUT Encounter']);
      const added = entries.find((e) => e.request!.method === 'POST')!;
      const enc = entries.find((e) => e.resource!.resourceType === 'Encounter')!.resource as unknown as { diagnosis: Array<{ condition: { reference: string } }> };
      expect(enc.diagnosis.map((d) => d.condition.reference)).toEqual([added.fullUrl]);
      const retracted = entries.find((e) => e.request!.url === `Condition/${oldId}`)!.resource as unknown as Record<string, unknown>;
      expect(retracted).toMatchObject({ id: oldId, verificationStatus: { coding: [{ system: VER, code: 'entered-in-error' }] } });
      expect(retracted.clinicalStatus).toBeUndefined(); // FHIR R4 con-5
      expect(res.resourceIds['condition/Z13.6']).toBeUndefined();
      expect(res.resourceIds['condition/I10']).toMatch(/^Condition\/id-\d+$/);
      expect(await store.getLedger(ORG, ledgerKey(visit.visitId, 'condition/Z13.6'))).toMatchObject({ satusehatId: oldId, contentHash: RETRACTED_HASH });
    });

    it('a Condition already entered-in-error at the platform is not PUT again', async () => {
      const { p, deliver } = setup();
      const visit = makeVisit(1, { organizationId: ORG }) as ReturnType<typeof makeVisit> & { diagnoses?: Dx[] };
      const first = await deliver(visit);
      const oldId = first.resourceIds['condition/Z13.6']!.split('/')[1]!;
      const held = p.resources.get(`Condition/${oldId}`) as unknown as Record<string, unknown>;
      held.verificationStatus = { coding: [{ system: VER, code: 'entered-in-error' }] };
      delete held.clinicalStatus;
      const rev = structuredClone(visit);
      rev.diagnoses = [{ code: 'I10' }];
      await deliver(rev);
      expect(p.bundles.at(-1)!.entry!.map((e) => e.request!.url)).not.toContain(`Condition/${oldId}`);
      expect((await store.getLedger(ORG, ledgerKey(visit.visitId, 'condition/Z13.6')))!.contentHash).toBe(RETRACTED_HASH);
    });

    it('re-ranking the same diagnoses keeps their Conditions (keyed by code): only the Encounter changes', async () => {
      const { p, deliver } = setup();
      const visit = makeVisit(1, { organizationId: ORG }) as ReturnType<typeof makeVisit> & { diagnoses?: Dx[] };
      visit.diagnoses = [{ code: 'I10' }, { code: 'E11.9' }];
      await deliver(visit);
      const rev = structuredClone(visit);
      rev.diagnoses = [{ code: 'I10', rank: 2 }, { code: 'E11.9', rank: 1 }];
      const res = await deliver(rev);
      const entries = p.bundles.at(-1)!.entry!;
      expect(entries.map((e) => e.request!.method + ' ' + e.resource!.resourceType)).toEqual(['PUT Encounter']);
      const enc = entries[0]!.resource as unknown as { diagnosis: Array<{ condition: { reference: string }; rank: number }> };
      expect(enc.diagnosis.map((d) => [d.condition.reference, d.rank])).toEqual([[res.resourceIds['condition/E11.9'], 1], [res.resourceIds['condition/I10'], 2]]);
    });

    it('after a lost response, the Condition is found by its identifier under the Encounter and adopted (PUT, never a second POST)', async () => {
      const { p, facility, deps } = setup();
      const visit = makeVisit(1, { organizationId: ORG });
      // As the platform holds them: mapped with the ids identity resolution gives (the fake platform's sandbox ids).
      const resolved = { patient: 'P00000000001', practitioner: '10009880728', location: 'loc-1' };
      const mapped = mappingApi.mapVisit(visit, core().tables, { now: new Date(t), resolved });
      const dx = mapped.entries.find((e) => e.key === 'condition/Z13.6')!.resource as Resource & { identifier: unknown };
      const enc = mapped.entries.find((e) => e.key === 'encounter')!.resource as Resource & { identifier: unknown };
      p.resources.set('Encounter/enc-lost', { ...structuredClone(enc), id: 'enc-lost' } as Resource & { id: string });
      // The platform rewrote the transaction's urn:uuid reference to the Encounter it created.
      p.resources.set('Condition/dx-lost', { ...structuredClone(dx), id: 'dx-lost', encounter: { reference: 'Encounter/enc-lost' } } as Resource & { id: string });
      const searches: string[] = [];
      p.setSearch(async (type, params) => {
        searches.push(`${type}?${Object.entries(params).map(([k, v]) => `${k}=${v}`).join('&')}`);
        if (type === 'Encounter') return [structuredClone(p.resources.get('Encounter/enc-lost')!)];
        if (type === 'Condition' && params.encounter === 'enc-lost') return [structuredClone(p.resources.get('Condition/dx-lost')!)];
        return [];
      });
      await store.ingest([{ organizationId: ORG, visitId: visit.visitId, record: visit, contentHash: contentHash(visit) }], t);
      const [claimed] = await store.claimDue(ORG, t, 1, 60_000);
      const res = await deliverVisit({ ...claimed!, attempts: 2 }, facility, deps);
      expect(searches).toContain('Condition?subject=P00000000001&encounter=enc-lost');
      expect(res.resourceIds['condition/Z13.6']).toBe('Condition/dx-lost');
      const methods = p.bundles.at(-1)!.entry!.map((e) => `${e.request!.method} ${e.request!.url}`);
      expect(methods).toContain('PUT Condition/dx-lost');
      expect(methods.filter((m) => m === 'POST Condition')).toEqual([]);
    });
  });
});
