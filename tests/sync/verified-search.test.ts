// Searches that prevent duplicates are never trusted: the real platform silently drops parameters it does not support
// and answers as if they had not been sent. Only documented parameters are sent, every answer is checked against them,
// and an answer holding other resources is "unknown": nothing is adopted, nothing is POSTed again.
import type { Resource } from 'fhir/r4.js';
import { PlatformError } from '../../src/platform/types.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { contentHash } from '../../src/sync/hash.js';
import { byIdentifier, byReference, isDocumentedSearchParam, refersTo, verifiedSearch } from '../../src/sync/verified-search.js';
import { core } from '../e2e/harness.js';
import { makeVisit } from '../e2e/fixtures.js';
import { committingPlatform } from './committing-platform.js';
import { fakePlatformClient } from './fake-platform.js';
import { unitRunner } from './runner-fixture.js';

const ORG = '10000402';

describe('verifiedSearch', () => {
  const obs = (id: string, enc: string): Resource => ({ resourceType: 'Observation', id, status: 'final', code: {}, subject: { reference: 'Patient/P1' }, encounter: { reference: enc } } as Resource);

  it('references match relative and absolute forms, never a prefix of another id', () => {
    expect(refersTo('Encounter/e1', 'Encounter', 'e1')).toBe(true);
    expect(refersTo('https://api-satusehat.kemkes.go.id/fhir-r4/v1/Encounter/e1', 'Encounter', 'e1')).toBe(true);
    expect(refersTo('Encounter/e10', 'Encounter', 'e1')).toBe(false);
    expect(refersTo(undefined, 'Encounter', 'e1')).toBe(false);
  });

  it('returns what matches every parameter; an answer with other resources is unknown (transient, code incomplete)', async () => {
    const criteria = [byReference('subject', 'Patient', 'P1'), byReference('encounter', 'Encounter', 'e1')];
    const honest = fakePlatformClient(ORG, { search: async () => [obs('o1', 'Encounter/e1')] });
    await expect(verifiedSearch(honest, 'Observation', criteria)).resolves.toHaveLength(1);
    const dropsEncounter = fakePlatformClient(ORG, { search: async () => [obs('o1', 'Encounter/e1'), obs('o2', 'Encounter/e2')] });
    const err = await verifiedSearch(dropsEncounter, 'Observation', criteria).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ kind: 'transient', reason: 'search-unfiltered', outcome: { issue: [{ code: 'incomplete', diagnostics: expect.stringMatching(/1 of 2 .*do not match.*unknown/) }] } });
  });

  it('refuses to send a parameter the platform is not documented to honour (it would silently widen the search)', async () => {
    expect(isDocumentedSearchParam('Immunization', 'encounter')).toBe(false);
    expect(isDocumentedSearchParam('Observation', 'encounter')).toBe(true);
    await expect(verifiedSearch(fakePlatformClient(ORG, {}), 'Immunization', [byReference('encounter', 'Encounter', 'e1')])).rejects.toThrow(/not a documented SATUSEHAT search parameter/);
    expect(byIdentifier('http://s', 'v').holds({ resourceType: 'Encounter', identifier: [{ system: 'http://s', value: 'v' }] } as Resource)).toBe(true);
  });
});

describe('reconcile after a lost response, against a platform that drops parameters', () => {
  let store: Store;
  let t: number;
  beforeAll(() => void core(), 30_000);
  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    t = Date.parse('2026-11-01T00:00:00Z');
  });
  afterEach(() => store.close());

  const runnerFor = (platform: ReturnType<typeof committingPlatform>) =>
    unitRunner(store, ORG, platform.client, () => t, { policy: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 1000 } });

  /** Visit A of a patient is delivered; visit B of the same patient commits but its response is lost. */
  async function twoVisitsOneLost(platform: ReturnType<typeof committingPlatform>) {
    const runner = runnerFor(platform);
    const a = makeVisit(3, { organizationId: ORG });
    const b = { ...makeVisit(3, { organizationId: ORG }), visitId: `${a.visitId}-B` };
    platform.answer();
    await store.ingest([{ organizationId: ORG, visitId: a.visitId, record: a, contentHash: contentHash(a) }], t);
    await runner.tick();
    expect((await store.getVisit(ORG, a.visitId))!.state).toBe('sent');
    platform.loseNext();
    await store.ingest([{ organizationId: ORG, visitId: b.visitId, record: b, contentHash: contentHash(b) }], t);
    await runner.tick();
    expect((await store.getVisit(ORG, b.visitId))!.state).toBe('queued'); // committed, response lost: retry
    platform.answer();
    return { runner, a, b };
  }

  it('with the documented parameters honoured: B adopts its own resources, nothing is created twice', async () => {
    const platform = committingPlatform(ORG);
    const { runner, b } = await twoVisitsOneLost(platform);
    const before = platform.posts.length;
    t += 2_000;
    await runner.tick();
    expect((await store.getVisit(ORG, b.visitId))!.state).toBe('sent');
    expect(platform.posts.length).toBe(before);
    expect(platform.encountersFor(b.visitId)).toHaveLength(1);
    // Only documented parameters were sent.
    expect(new Set(platform.searches)).toEqual(new Set(['Encounter?identifier', 'Observation?encounter&subject', 'Immunization?patient', 'Condition?encounter&subject']));
  });

  it.each(['Encounter.identifier', 'Observation.encounter'])('when the platform drops %s, B adopts nothing of A and sends nothing again: unknown, retried', async (dropped) => {
    const platform = committingPlatform(ORG, { ignoredParams: [dropped] });
    const { runner, a, b } = await twoVisitsOneLost(platform);
    const before = platform.posts.length;
    t += 2_000;
    await runner.tick();
    const row = (await store.getVisit(ORG, b.visitId))!;
    expect(row.state).toBe('queued');
    expect(JSON.stringify(row.lastError)).toMatch(/do not match what was searched for/);
    expect(platform.posts.length).toBe(before); // no duplicate
    // A's resources were not attached to B.
    const aIds = new Set(Object.values((await store.getVisit(ORG, a.visitId))!.resourceIds!));
    const bLedger = (await store.ledgerForVisit(ORG, b.visitId)).map((l) => `${l.resourceType}/${l.satusehatId}`);
    expect(bLedger.filter((id) => aIds.has(id))).toEqual([]);
  });
});
