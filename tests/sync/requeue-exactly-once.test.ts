// Exactly once across an operator's requeue. A transaction can commit at the platform while its response is lost;
// if that was the last allowed attempt the visit goes to dead-letter, and an operator requeues it (attempts reset).
// The next attempt must still search by identifier and adopt what exists: the SATUSEHAT staging platform does not
// reliably refuse a second Encounter with the same identifier (satusehat-platform.md §1.8), so 20002 cannot be
// the only guard. The fake platform below commits transactions and answers searches, but never deduplicates.
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { contentHash } from '../../src/sync/hash.js';
import { core } from '../e2e/harness.js';
import { makeVisit } from '../e2e/fixtures.js';
import { committingPlatform as fakePlatform } from './committing-platform.js';
import { unitRunner } from './runner-fixture.js';

const ORG = '10000401';

describe('exactly once across a requeue', () => {
  let store: Store;
  beforeAll(() => void core());
  beforeEach(async () => { store = await openStore({ url: 'sqlite::memory:' }); });
  afterEach(() => store.close());

  it('a dead-lettered visit whose last transaction committed is adopted after requeue, not created again', async () => {
    const platform = fakePlatform(ORG);
    let t = Date.parse('2026-11-01T00:00:00Z');
    const runner = unitRunner(store, ORG, platform.client, () => t, { policy: { maxAttempts: 1 } });
    const visit = makeVisit(3, { organizationId: ORG }); // an infant: Observations and an Immunization
    await store.ingest([{ organizationId: ORG, visitId: visit.visitId, record: visit, contentHash: contentHash(visit) }], t);

    await runner.tick();
    expect((await store.getVisit(ORG, visit.visitId))!.state).toBe('dead-letter');
    expect(platform.encountersFor(visit.visitId)).toHaveLength(1); // committed although the response was lost
    const created = { enc: platform.count('Encounter'), obs: platform.count('Observation'), imm: platform.count('Immunization') };
    expect(created.obs).toBeGreaterThan(0);
    expect(created.imm).toBeGreaterThan(0);

    platform.answer();
    t += 3_600_000;
    expect(await store.requeue(ORG, visit.visitId, t)).toBe(true);
    await runner.tick();
    const row = (await store.getVisit(ORG, visit.visitId))!;
    expect(row.state).toBe('sent');
    expect(platform.encountersFor(visit.visitId)).toHaveLength(1);
    expect({ enc: platform.count('Encounter'), obs: platform.count('Observation'), imm: platform.count('Immunization') }).toEqual(created);
    expect(row.resourceIds!.encounter).toBe(`Encounter/${platform.encountersFor(visit.visitId)[0]!.id}`);
  });
});
