// SyncRunner.stop(grace): stops claiming at once and waits for in-flight deliveries at most the grace. A delivery that
// outlasts it is left to its lease: when it ends after the store was closed (shutdown), its outcome cannot be
// recorded — counted `unrecorded`, nothing written — and the reopened store shows the claim exactly as it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import { contentHash } from '../../src/sync/hash.js';
import { core } from '../e2e/harness.js';
import { makeVisit } from '../e2e/fixtures.js';
import { gate } from '../helpers/eventually.js';
import { committingPlatform } from './committing-platform.js';
import { unitRunner } from './runner-fixture.js';

const ORG = '10000601';

describe('SyncRunner.stop with a grace', () => {
  beforeAll(() => void core());

  it('returns at the grace with the delivery still in flight; the claim keeps its lease and nothing is recorded after close', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-stop-'));
    const file = `sqlite:${path.join(dir, 'stop.db')}`;
    const store = await openStore({ url: file });
    const t = Date.parse('2026-11-01T00:00:00Z');
    const visits = [makeVisit(1, { organizationId: ORG }), makeVisit(2, { organizationId: ORG })];
    await store.ingest(visits.map((v) => ({ organizationId: ORG, visitId: v.visitId, record: v, contentHash: contentHash(v) })), t);
    const held = gate();
    const runner = unitRunner(store, ORG, committingPlatform(ORG).client, () => t, { onClaim: () => held.arrive() });
    const tick = runner.tick();
    await held.reached; // the first visit is claimed and its delivery is under way

    expect(await runner.stop(0)).toEqual({ settled: false, abandoned: 1 });
    await store.close();
    held.open();
    const summary = await tick;
    expect(summary).toMatchObject({ sent: 0, unrecorded: 1, stoppedBy: 'stopped' });

    const after = await openStore({ url: file });
    try {
      const [first, second] = await Promise.all(visits.map((v) => after.getVisit(ORG, v.visitId)));
      expect({ state: first!.state, attempts: first!.attempts, leaseUntil: first!.leaseUntil }).toEqual({ state: 'sending', attempts: 1, leaseUntil: t + 60_000 });
      expect({ state: second!.state, attempts: second!.attempts }).toEqual({ state: 'queued', attempts: 0 }); // never claimed
    } finally {
      await after.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns at once when no tick runs, and starts no tick afterwards', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    const runner = unitRunner(store, ORG, committingPlatform(ORG).client, () => 0);
    expect(await runner.stop(1_000)).toEqual({ settled: true, abandoned: 0 });
    expect((await runner.tick()).stoppedBy).toBe('stopped');
    await store.close();
  });
});
