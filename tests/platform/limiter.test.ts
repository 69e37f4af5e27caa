import { jest } from '@jest/globals';
import nock from 'nock';
import { createFacilityLimiter, createLimiterRegistry, type FacilityLimiter } from '../../src/platform/limiter.js';
import { PlatformError } from '../../src/platform/types.js';
import { StorageError } from '../../src/store/storage-error.js';
import { localizeOutcome } from '../../src/i18n/issues.js';

const flush = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const open: FacilityLimiter[] = [];
const limiter = (...a: Parameters<typeof createFacilityLimiter>) => {
  const l = createFacilityLimiter(...a);
  open.push(l);
  return l;
};
afterEach(() => {
  for (const l of open.splice(0)) l.close();
  jest.useRealTimers();
});

describe('quota per credential', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('with quota N per minute, N+k calls → only N reach the platform within the window; the rest wait (not fail)', async () => {
    let hits = 0;
    nock('https://api.satusehat.test').get('/ping').times(10).reply(() => {
      hits++;
      return [200, { ok: true }];
    });
    const l = limiter('org-a', { quotaPerMinute: 3, windowMs: 60_000 });
    const calls = Array.from({ length: 5 }, () => l.schedule(() => fetch('https://api.satusehat.test/ping').then((r) => r.json())));
    await Promise.all(calls.slice(0, 3));
    await flush();
    expect(hits).toBe(3);
    expect(l.pending()).toBe(2);
    expect(l.inFlight()).toBe(0);
    expect(l.stats().granted).toBe(3);
    l.close(); // shutdown refuses the waiters instead of leaving them hanging
    for (const p of calls.slice(3)) {
      const e = await p.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PlatformError);
      expect((e as PlatformError).kind).toBe('transient');
    }
    expect(hits).toBe(3);
  });

  it('the waiting calls go out when the window rolls over, in FIFO order (fake clock)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const l = limiter('org-b', { quotaPerMinute: 2 });
    const ran: number[] = [];
    const calls = Array.from({ length: 5 }, (_, i) => l.schedule(async () => { ran.push(i); }));
    await flush();
    expect(ran).toEqual([0, 1]);
    await jest.advanceTimersByTimeAsync(59_000);
    await flush();
    expect(ran).toEqual([0, 1]);
    await jest.advanceTimersByTimeAsync(1_100);
    await flush();
    expect(ran).toEqual([0, 1, 2, 3]);
    await jest.advanceTimersByTimeAsync(60_100);
    await Promise.all(calls);
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(l.pending()).toBe(0);
  });

  it('rejects a non-positive or fractional quota', () => {
    expect(() => createFacilityLimiter('x', { quotaPerMinute: 0 })).toThrow(RangeError);
    expect(() => createFacilityLimiter('x', { quotaPerMinute: 1.5 })).toThrow(RangeError);
    expect(() => createFacilityLimiter('x', { windowMs: 0 })).toThrow(RangeError);
  });
});

describe('bounded concurrency', () => {
  it('never more than maxConcurrent in flight; the rest are pending and counted', async () => {
    const l = limiter('org-c', { quotaPerMinute: 100, maxConcurrent: 2 });
    const gates = Array.from({ length: 6 }, () => deferred());
    let running = 0;
    let peak = 0;
    const calls = gates.map((g) =>
      l.schedule(async () => {
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
      }),
    );
    await flush();
    expect(l.inFlight()).toBe(2);
    expect(l.pending()).toBe(4);
    for (const g of gates) {
      g.resolve();
      await flush();
    }
    await Promise.all(calls);
    expect(peak).toBe(2);
    expect(l.inFlight()).toBe(0);
    expect(l.pending()).toBe(0);
  });

  it('a failing task releases its slot', async () => {
    const l = limiter('org-d', { quotaPerMinute: 100, maxConcurrent: 1 });
    await expect(l.schedule(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(l.schedule(async () => 'next')).resolves.toBe('next');
    expect(l.inFlight()).toBe(0);
  });

  it('release is idempotent', async () => {
    const l = limiter('org-e', { quotaPerMinute: 100, maxConcurrent: 1 });
    const release = await l.acquire();
    release();
    release();
    expect(l.inFlight()).toBe(0);
    const r2 = await l.acquire();
    expect(l.inFlight()).toBe(1);
    r2();
  });

  it('a priority, slot-less acquire (token request) passes while every slot is held by callers waiting for it', async () => {
    const l = limiter('org-f', { quotaPerMinute: 100, maxConcurrent: 2 });
    const held = [await l.acquire(), await l.acquire()];
    const queued = l.acquire(); // an ordinary call waits for a slot
    await flush();
    expect(l.pending()).toBe(1);
    const tokenRelease = await l.acquire({ priority: true, slot: false });
    expect(l.inFlight()).toBe(2);
    expect(l.pending()).toBe(1);
    tokenRelease();
    held[0]();
    (await queued)();
    held[1]();
  });

  it('a priority waiter is served before earlier ordinary waiters when quota frees up', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const l = limiter('org-g', { quotaPerMinute: 1 });
    const order: string[] = [];
    (await l.acquire())();
    const a = l.acquire().then((r) => { order.push('ordinary'); r(); });
    const t = l.acquire({ priority: true, slot: false }).then((r) => { order.push('token'); r(); });
    await jest.advanceTimersByTimeAsync(60_100);
    await flush();
    await jest.advanceTimersByTimeAsync(60_100);
    await Promise.all([a, t]);
    expect(order).toEqual(['token', 'ordinary']);
  });
});

describe('Retry-After pause, abort, queue bound', () => {
  it('pauseFor holds every call of the facility until the pause ends, and never shortens a pause', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const l = limiter('org-h', { quotaPerMinute: 100 });
    l.pauseFor(30_000);
    l.pauseFor(5_000); // shorter: ignored
    expect(l.pausedUntil()).toBe(Date.now() + 30_000);
    let ran = 0;
    const p = l.schedule(async () => { ran++; });
    await flush();
    await jest.advanceTimersByTimeAsync(29_000);
    expect(ran).toBe(0);
    expect(l.pending()).toBe(1);
    await jest.advanceTimersByTimeAsync(1_100);
    await p;
    expect(ran).toBe(1);
    expect(l.pausedUntil()).toBe(0);
  });

  it('an aborted waiter leaves the queue without taking a point', async () => {
    const l = limiter('org-i', { quotaPerMinute: 1 });
    (await l.acquire())();
    const ac = new AbortController();
    const waiting = l.acquire({ signal: ac.signal });
    await flush();
    expect(l.pending()).toBe(1);
    ac.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    expect(l.pending()).toBe(0);
    expect(l.stats().granted).toBe(1);
  });

  it('refuses waiters beyond maxQueue with a transient error', async () => {
    const l = limiter('org-j', { quotaPerMinute: 1, maxQueue: 2 });
    (await l.acquire())();
    const w1 = l.acquire();
    const w2 = l.acquire();
    const e = await l.acquire().catch((x: unknown) => x);
    expect((e as PlatformError).kind).toBe('transient');
    l.close();
    await expect(w1).rejects.toBeInstanceOf(PlatformError);
    await expect(w2).rejects.toBeInstanceOf(PlatformError);
    await expect(l.acquire()).rejects.toBeInstanceOf(PlatformError);
  });
});

describe('registry', () => {
  it('one limiter per organizationId, shared by every caller of that facility', () => {
    const reg = createLimiterRegistry({ quotaPerMinute: 10 });
    const a1 = reg.get('A');
    expect(reg.get('A')).toBe(a1);
    const b = reg.get('B', { quotaPerMinute: 20 });
    expect(b).not.toBe(a1);
    expect(a1.quotaPerMinute).toBe(10);
    expect(b.quotaPerMinute).toBe(20);
    expect(reg.all()).toHaveLength(2);
    reg.closeAll();
    expect(reg.all()).toHaveLength(0);
  });
});

describe('what a refused wait says to an operator', () => {
  const said = (e: unknown, locale: 'id' | 'en') => localizeOutcome((e as PlatformError).outcome, locale).issue[0]!.diagnostics;

  it('shutdown, a full queue and a failing budget are said from the catalogue (Indonesian by default), English as stored', async () => {
    const l = limiter('org-a', { quotaPerMinute: 1, windowMs: 60_000, maxQueue: 1 });
    await l.schedule(async () => 1);
    const waiting = l.schedule(async () => 2).catch((x: unknown) => x);
    const refused = await l.schedule(async () => 3).catch((x: unknown) => x);
    expect(said(refused, 'id')).toBe('Terlalu banyak permintaan menunggu kuota (1)');
    expect(said(refused, 'en')).toBe('Too many requests waiting for quota (1)');
    l.close();
    expect(said(await waiting, 'id')).toBe('Pembatas kuota ditutup');

    const failing = limiter('org-b', { budget: { take: () => Promise.reject(new StorageError('SQLITE_IOERR', 'io', true)) } });
    const e = await failing.schedule(async () => 1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PlatformError);
    expect(said(e, 'en')).toBe('Quota budget unavailable: storage failure: the database file could not be read or written (I/O error) (SQLITE_IOERR)');
    expect(said(e, 'id')).toMatch(/^Anggaran kuota tidak tersedia: /);
    expect(said(e, 'id')).not.toMatch(/could not be read/);
  });
});
