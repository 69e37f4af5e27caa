// Several instances, one facility's quota: three limiters, each over its own connection to one database (a SQLite file;
// PostgreSQL on its own clock when a server is available), drive requests through. However they interleave, no sliding
// window of `windowMs` holds more than `limit` grants (the grant times are the store's, so the check is exact), and a
// Retry-After seen by one instance pauses the others.
import { createFacilityLimiter, memoryBudget, storeBudget, type FacilityLimiter, type QuotaBudget } from '../../src/platform/limiter.js';
import type { Store } from '../../src/store/types.js';
import { describePostgres } from '../store/helpers/postgres.js';
import { postgresInstances, sqliteInstances, type Instances } from '../store/helpers/instances.js';

const ORG = '10000004';
const LIMIT = 5;
const WINDOW_MS = 300;
const PER_INSTANCE = 10;

const flush = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** The budget, with the store-clock time of every grant kept in `log`. */
function recorded(inner: QuotaBudget, log: number[]): QuotaBudget & { paused?: Promise<void> } {
  const b: QuotaBudget & { paused?: Promise<void> } = {
    async take() {
      const a = await inner.take();
      if (a.granted) log.push(a.at!);
      return a;
    },
    pause(ms) {
      b.paused = inner.pause!(ms);
      return b.paused;
    },
  };
  return b;
}

/** The most grants any half-open window of `windowMs` holds. */
function busiestWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j]! - t[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

function sharedQuotaSuite(open: () => Promise<Instances>): void {
  let stores: Store[] = [];
  let cleanup: () => Promise<void> = async () => undefined;
  const limiters: FacilityLimiter[] = [];
  beforeEach(async () => {
    ({ stores, cleanup } = await open());
  });
  afterEach(async () => {
    for (const l of limiters.splice(0)) l.close();
    await cleanup();
  });

  it('three instances never exceed the limit in any sliding window, and all requests go through', async () => {
    const log: number[] = [];
    const done: number[] = [];
    for (const store of stores) {
      limiters.push(createFacilityLimiter(ORG, { quotaPerMinute: LIMIT, windowMs: WINDOW_MS, maxConcurrent: 4, budget: recorded(storeBudget(store, ORG, LIMIT, WINDOW_MS), log) }));
    }
    const calls = limiters.flatMap((l, i) => Array.from({ length: PER_INSTANCE }, () => l.schedule(async () => {
      done.push(i);
    })));
    await Promise.all(calls);
    expect(done).toHaveLength(limiters.length * PER_INSTANCE);
    expect(log).toHaveLength(limiters.length * PER_INSTANCE);
    expect(busiestWindow(log, WINDOW_MS)).toBeLessThanOrEqual(LIMIT);
    // Every instance got its share through (none starved by the others).
    for (let i = 0; i < limiters.length; i++) expect(done.filter((x) => x === i)).toHaveLength(PER_INSTANCE);
  });

  it("a Retry-After seen by one instance pauses the credential for the others", async () => {
    const budgets = stores.map((store) => recorded(storeBudget(store, ORG, LIMIT, 60_000), []));
    for (const b of budgets) limiters.push(createFacilityLimiter(ORG, { quotaPerMinute: LIMIT, budget: b }));
    limiters[0]!.pauseFor(60_000);
    await budgets[0]!.paused;
    const waiting = limiters[1]!.acquire();
    await flush();
    expect(limiters[1]!.pending()).toBe(1);
    expect(limiters[1]!.inFlight()).toBe(0);
    limiters[1]!.close();
    await expect(waiting).rejects.toMatchObject({ kind: 'transient' });
  });
}

describe('shared quota over one SQLite file', () => {
  sharedQuotaSuite(async () => sqliteInstances(3));
});

describePostgres('shared quota over one PostgreSQL database (database clock)', (server) => {
  sharedQuotaSuite(() => postgresInstances(server(), 3));
});

describe('the in-memory budget is a sliding window too', () => {
  it('grants `limit` per window counted from each grant, not per fixed minute', async () => {
    let t = 0;
    const b = memoryBudget(3, 1_000, () => t);
    const grants: number[] = [];
    for (t = 0; t < 5_000; t += 10) {
      if ((await b.take()).granted) grants.push(t);
    }
    expect(busiestWindow(grants, 1_000)).toBe(3);
    expect(grants.slice(0, 6)).toEqual([0, 10, 20, 1_000, 1_010, 1_020]);
  });
});
