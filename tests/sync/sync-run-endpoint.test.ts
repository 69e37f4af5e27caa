// POST /sync/run answers at once (202 started / already-running) instead of holding the request for a whole tick
// (up to the 240 s budget); ?wait=true keeps the old behaviour (200 with the tick summary). GET /sync/status tells
// whether a run is going on and (admin) what the last one did. The runner here is a controllable stand-in.
import express from 'express';
import request from 'supertest';
import { syncRouter, type SyncControl } from '../../src/api/sync.js';
import { errorHandler } from '../../src/api/errors.js';
import { hashApiKey, type Principal } from '../../src/api/auth.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { createLogger } from '../../src/util/logger.js';
import { eventually } from '../helpers/eventually.js';

const ADMIN = 'owe2rIFjx9WqQFAcS6kCZPPM5cJlGeZQ'; // random: ADMIN_API_KEY must pass the key-strength rule
const FACILITY = 'facility-key-0123456789abcdef';
const ORG = '10000501';

class FakeRunner implements SyncControl {
  ticks = 0;
  lastTick?: { summary: unknown; finishedAt: number };
  private current?: Promise<unknown>;
  private finish?: () => void;
  get busy() {
    return this.current !== undefined;
  }
  /** tick() calls answered by the current run (the one that started it included). */
  waiters = 0;
  tick(): Promise<unknown> {
    this.waiters++;
    if (!this.current) {
      this.waiters = 1;
      this.ticks++;
      const summary = { sent: 2, retried: 0, stoppedBy: 'drained' };
      this.current = new Promise<void>((r) => (this.finish = r)).then(() => {
        this.current = undefined;
        this.lastTick = { summary, finishedAt: Date.parse('2026-11-01T00:00:00Z') };
        return summary;
      });
    }
    return this.current;
  }
  /** Ends the running tick and waits until its result is recorded. */
  async end(): Promise<void> {
    const c = this.current;
    this.finish?.();
    await c;
  }
}

describe('POST /sync/run and GET /sync/status', () => {
  let store: Store;
  let runner: FakeRunner;
  let app: express.Express;
  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    runner = new FakeRunner();
    const logger = createLogger({ level: 'silent' });
    const staticKeys = new Map<string, Principal>([[hashApiKey(FACILITY), { role: 'facility', organizationId: ORG }]]);
    app = express();
    app.use(syncRouter({
      store, runner, logger, adminKeyHash: hashApiKey(ADMIN), staticKeys, clock: () => new Date(),
      facilities: [{ organizationId: ORG, environment: 'simulator', authBaseUrl: 'http://x', fhirBaseUrl: 'http://x', clientId: 'c', clientSecret: 's', timezone: 'Asia/Jakarta', quotaPerMinute: 150, locations: {} }],
    }));
    app.use(errorHandler(logger));
  });
  afterEach(() => store.close());

  const run = (q = '') => request(app).post(`/sync/run${q}`).set('Authorization', `Bearer ${ADMIN}`);
  const status = (key = ADMIN) => request(app).get('/sync/status').set('Authorization', `Bearer ${key}`);

  it('answers 202 started at once, 202 already-running while the run goes on; status shows it running, then the last summary', async () => {
    const started = await run();
    expect(started.status).toBe(202);
    expect(started.body).toEqual({ status: 'started' });
    expect(runner.busy).toBe(true); // the request did not wait for the tick

    const again = await run();
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ status: 'already-running' });
    expect(runner.ticks).toBe(1);
    expect((await status()).body.run).toEqual({ running: true });

    await runner.end();
    const after = await status();
    expect(after.body.run).toEqual({ running: false, last: { finishedAt: '2026-11-01T00:00:00.000Z', summary: { sent: 2, retried: 0, stoppedBy: 'drained' } } });
    // A facility key sees whether a run is going on, not the all-facility summary.
    expect((await status(FACILITY)).body.run).toEqual({ running: false });

    expect((await run()).body).toEqual({ status: 'started' });
    expect(runner.ticks).toBe(2);
    await runner.end();
  });

  it('?wait=true also says what still waits per facility and why, so a run with nothing to do is not just zeros', async () => {
    const t = Date.now();
    const outcome = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'not-found' as const, diagnostics: 'NIK not found' }] };
    await store.ingest(['V1', 'V2', 'V3', 'V4'].map((visitId) => ({ organizationId: ORG, visitId, record: { visitId }, contentHash: visitId })), t);
    const [v1, v2, v3] = await store.claimDue(ORG, t, 3, 60_000);
    await store.markSent(v1!.claim, {}, t);
    await store.markFinal(v2!.claim, 'blocked', outcome, t);
    await store.markRetry(v3!.claim, t + 3_600_000, outcome, t);
    await store.putFacilityState({ organizationId: ORG, status: 'paused', cause: 'operator', reason: 'paused by an operator', updatedAt: t });

    const pending = run('?wait=true').set('Accept-Language', 'en').then((r) => r); // then() sends it
    await eventually(() => runner.busy, 'the run to start');
    await runner.end();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.vary).toMatch(/Accept-Language/);
    expect(res.body).toMatchObject({ sent: 2, stoppedBy: 'drained' });
    expect(res.body.joinedRunningRun).toBeUndefined();
    expect(res.body.waiting).toEqual([{
      organizationId: ORG, status: 'paused', cause: 'operator', hold: expect.stringMatching(/paused/i),
      counts: { queued: 2, sending: 0, sent: 1, 'needs-correction': 0, blocked: 1, 'dead-letter': 0 },
      waiting: 3,
      queued: { dueNow: 1, later: 1, nextDueAt: new Date(t + 3_600_000).toISOString() },
      why: { queued: 'Waiting for the next sync run.', blocked: expect.stringMatching(/^Cannot be delivered until someone acts/) },
    }]);

    // Joining a run that was already going on is said (its summary covers more than this request).
    expect((await run()).body).toEqual({ status: 'started' });
    const joined = run('?wait=true').then((r) => r);
    await eventually(() => runner.waiters > 1, 'the request to join the run');
    await runner.end();
    expect((await joined).body.joinedRunningRun).toBe(true);
  });

  it('?wait=true waits for the run and answers 200 with the summary', async () => {
    for (const q of ['?wait=true', '?wait=1']) {
      let answered = false;
      const pending = run(q).then((r) => ((answered = true), r));
      await eventually(() => runner.busy, 'the run to start');
      expect(answered).toBe(false); // held while the tick runs
      await runner.end();
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        sent: 2, retried: 0, stoppedBy: 'drained',
        waiting: [{ organizationId: ORG, status: 'active', counts: { queued: 0, sending: 0, sent: 0, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 }, waiting: 0, queued: { dueNow: 0, later: 0 } }],
      });
    }
    expect(runner.ticks).toBe(2);
    expect((await run('?wait=false')).status).toBe(202);
    await runner.end();
  });

  it('rejects a malformed wait value (400) and a facility key (403), starting nothing', async () => {
    const bad = await run('?wait=soon');
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
    const forbidden = await request(app).post('/sync/run').set('Authorization', `Bearer ${FACILITY}`);
    expect(forbidden.status).toBe(403);
    expect((await request(app).post('/sync/run')).status).toBe(401);
    expect(runner.ticks).toBe(0);
  });
});
