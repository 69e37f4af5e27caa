// Per-facility quotas on POST /ilp/visits: records per minute and a cap on records waiting for delivery. Only Date is
// faked (the limiter's fixed window reads Date.now); sockets and timers stay real, so supertest works as usual.
import { jest } from '@jest/globals';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../src/api/app.js';
import { visitsRouter } from '../../src/api/visits.js';
import { IngestQuota } from '../../src/api/ingest-quota.js';
import { hashApiKey, type Principal } from '../../src/api/auth.js';
import { loadMappingTables, mapVisit } from '../../src/mapping/index.js';
import { createValidator } from '../../src/validation/index.js';
import { openStore } from '../../src/store/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { makeVisit } from '../e2e/fixtures.js';
import { logCapture, NOW } from './helpers.js';

const A = '10000501';
const B = '10000502';
const KEY = { [A]: 'quota-key-a-0123456789abcdef', [B]: 'quota-key-b-0123456789abcdef' } as Record<string, string>;
const validator = createValidator();
const tables = loadMappingTables();
let serial = 0;
const visits = (org: string, n: number) => Array.from({ length: n }, () => makeVisit(serial++, { organizationId: org }));

function service(limits: { recordsPerMinute: number; maxQueuedPerFacility: number }, opts: { countAfterRated?: number } = {}): { app: express.Express; store: Store } {
  const store = openSqliteStore({ file: ':memory:' });
  const staticKeys = new Map<string, Principal>([A, B].map((org) => [hashApiKey(KEY[org]!), { role: 'facility', organizationId: org }]));
  const clock = () => NOW;
  const { logger } = logCapture();
  // countAfterRated: the queued count answers only once that many pushes have passed the rate check, so they are all
  // in flight while a count is awaited (as against a database server), without waiting on time.
  let rated = 0;
  let allRated!: () => void;
  const ratedGate = new Promise<void>((r) => (allRated = r));
  const pendingCount = async (org: string) => {
    if (opts.countAfterRated) await ratedGate;
    return store.pendingCount(org);
  };
  const quota = new (class extends IngestQuota {
    override async takeRate(byOrg: ReadonlyMap<string, number>) {
      const refusal = await super.takeRate(byOrg);
      if (++rated === opts.countAfterRated) allRated();
      return refusal;
    }
  })({ ...limits, pendingCount });
  const router = visitsRouter({ store, validator, mapper: (r, at) => mapVisit(r, tables, { now: at }), clock, logger, staticKeys, quota });
  return { app: createApp({ validator, tables, clock, logger, routers: [{ path: '/', router }] }), store };
}

const push = (app: express.Express, org: string, body: unknown) => request(app).post('/ilp/visits').set('Authorization', `Bearer ${KEY[org]}`).set('Accept-Language', 'en').send(body as object);
const stored = async (store: Store, org: string) => (await store.counts(org)).byState.queued;

beforeEach(() => {
  // Only Date: the fixed window of rate-limiter-flexible compares Date.now with the window's end.
  jest.useFakeTimers({ now: NOW, doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance'] });
});
afterEach(() => jest.useRealTimers());

describe('records per minute per facility (INGEST_RECORDS_PER_MINUTE)', () => {
  it('refuses a push over the limit whole, with 429, Retry-After and the limit named; a refused push costs nothing', async () => {
    const { app, store } = service({ recordsPerMinute: 5, maxQueuedPerFacility: 1_000 });
    expect((await push(app, A, visits(A, 3))).status).toBe(202);
    const over = await push(app, A, visits(A, 3));
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('60');
    expect(over.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(over.body.issue).toEqual([expect.objectContaining({ severity: 'error', code: 'throttled', diagnostics: expect.stringMatching(/more than 5 records in the last minute \(INGEST_RECORDS_PER_MINUTE\).*nothing of this request was stored.*60 s/) })]);
    expect(await stored(store, A)).toBe(3);
    // The refused 3 were given back: 2 more still fit in this minute, then the limit holds.
    expect((await push(app, A, visits(A, 2))).status).toBe(202);
    expect((await push(app, A, visits(A, 1)[0])).status).toBe(429);
    // Another facility has its own budget.
    expect((await push(app, B, visits(B, 5))).status).toBe(202);

    jest.setSystemTime(NOW.getTime() + 45_000);
    const later = await push(app, A, visits(A, 1));
    expect({ status: later.status, retryAfter: later.headers['retry-after'] }).toEqual({ status: 429, retryAfter: '15' });
    jest.setSystemTime(NOW.getTime() + 60_001);
    expect((await push(app, A, visits(A, 5))).status).toBe(202);
    expect(await stored(store, A)).toBe(10);
  });

  it('counts rejected records too (each costs a check and a mapping)', async () => {
    const { app } = service({ recordsPerMinute: 2, maxQueuedPerFacility: 1_000 });
    expect((await push(app, A, [{ organizationId: A }, { organizationId: A }])).status).toBe(422);
    expect((await push(app, A, visits(A, 1))).status).toBe(429);
  });

  it('answers 413 for a batch that alone is larger than the per-minute limit (waiting would never help)', async () => {
    const { app, store } = service({ recordsPerMinute: 2, maxQueuedPerFacility: 1_000 });
    const r = await push(app, A, visits(A, 3));
    expect(r.status).toBe(413);
    expect(r.headers['retry-after']).toBeUndefined();
    expect(r.body.issue[0]).toMatchObject({ code: 'too-costly', diagnostics: expect.stringContaining('batches of at most 2') });
    expect(await stored(store, A)).toBe(0);
    expect((await push(app, A, visits(A, 2))).status).toBe(202); // the 413 took nothing from the budget
  });
});

describe('records waiting for delivery per facility (INGEST_MAX_QUEUED_PER_FACILITY)', () => {
  it('lets concurrent pushes not both slip under the cap while the count is awaited', async () => {
    const { app, store } = service({ recordsPerMinute: 1_000, maxQueuedPerFacility: 4 }, { countAfterRated: 2 });
    const statuses = (await Promise.all([push(app, A, visits(A, 3)), push(app, A, visits(A, 3))])).map((r) => r.status).sort();
    expect(statuses).toEqual([202, 429]);
    expect(await stored(store, A)).toBe(3);
  });

  it('refuses a batch that would pass the cap whole; room comes back as visits are delivered', async () => {
    const { app, store } = service({ recordsPerMinute: 1_000, maxQueuedPerFacility: 4 });
    expect((await push(app, A, visits(A, 3))).status).toBe(202);
    const over = await push(app, A, visits(A, 2));
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('60');
    expect(over.body.issue[0]).toMatchObject({ code: 'throttled', diagnostics: expect.stringMatching(/has 3 records waiting .* at most 4 \(INGEST_MAX_QUEUED_PER_FACILITY\).*nothing of it was stored/) });
    expect(await stored(store, A)).toBe(3);
    expect((await push(app, A, visits(A, 1))).status).toBe(202); // exactly at the cap
    expect((await push(app, B, visits(B, 4))).status).toBe(202); // the cap is per facility
    expect((await push(app, A, visits(A, 1))).status).toBe(429);

    // A claimed visit (sending) still waits; a delivered one frees its place.
    const [claimed] = await store.claimDue(A, NOW.getTime() + 1, 1, 60_000);
    expect((await push(app, A, visits(A, 1))).status).toBe(429);
    await store.markSent(claimed!.claim, {}, NOW.getTime() + 2);
    expect((await push(app, A, visits(A, 1))).status).toBe(202);
  });
});

describe('store.pendingCount', () => {
  it('counts one facility\'s queued and sending visits, not final ones nor other facilities\'', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    const t = NOW.getTime();
    await store.ingest(visits(A, 3).map((v) => ({ organizationId: A, visitId: v.visitId, record: v, contentHash: v.visitId })), t);
    await store.ingest(visits(B, 2).map((v) => ({ organizationId: B, visitId: v.visitId, record: v, contentHash: v.visitId })), t);
    expect(await Promise.all([store.pendingCount(A), store.pendingCount(B), store.pendingCount('none')])).toEqual([3, 2, 0]);
    const [a, b] = await store.claimDue(A, t + 1, 2, 60_000);
    expect(await store.pendingCount(A)).toBe(3);
    await store.markSent(a!.claim, {}, t + 2);
    await store.markFinal(b!.claim, 'needs-correction', { resourceType: 'OperationOutcome', issue: [] }, t + 2);
    expect(await store.pendingCount(A)).toBe(1);
    await store.close();
  });
});
