// Failed-authentication throttling: per address, blocks that double up to a cap, other addresses untouched. Time is
// jest's fake clock (rate-limiter-flexible's memory store reads Date.now and sets timers), never a sleep.
import { jest } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { AuthThrottle, DEFAULT_AUTH_THROTTLE } from '../../src/api/auth-throttle.js';
import { authenticate, hashApiKey, principalOf } from '../../src/api/auth.js';
import { errorHandler } from '../../src/api/errors.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { logCapture } from './helpers.js';

const A = '203.0.113.7';
const B = '198.51.100.20';
const MIN = 60_000;

describe('AuthThrottle', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 11, 1), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  const fail = async (t: AuthThrottle, address: string, times: number) => {
    const blocks: number[] = [];
    for (let i = 0; i < times; i++) blocks.push(await t.failed(address));
    return blocks;
  };

  it('10 wrong keys a minute pass; the 11th blocks the address for a minute; others are untouched', async () => {
    const t = new AuthThrottle();
    expect(DEFAULT_AUTH_THROTTLE.failuresPerMinute).toBe(10);
    expect(await fail(t, A, 10)).toEqual(Array(10).fill(0));
    expect(await t.retryAfterMs(A)).toBe(0);
    expect(await t.failed(A)).toBe(MIN);
    expect(await t.retryAfterMs(A)).toBe(MIN);
    expect(await t.retryAfterMs(B)).toBe(0);
    expect(await fail(t, B, 10)).toEqual(Array(10).fill(0));
    jest.advanceTimersByTime(MIN - 1_000);
    expect(await t.retryAfterMs(A)).toBe(1_000);
    jest.advanceTimersByTime(1_000);
    expect(await t.retryAfterMs(A)).toBe(0);
  });

  it('each further block doubles, up to the cap; failures spread out below the rate never block', async () => {
    const t = new AuthThrottle();
    const blocks: number[] = [];
    for (let round = 0; round < 6; round++) {
      const r = await fail(t, A, 11);
      blocks.push(r[10]!);
      jest.advanceTimersByTime(r[10]!);
    }
    expect(blocks).toEqual([1, 2, 4, 8, 15, 15].map((m) => m * MIN));

    const slow = new AuthThrottle();
    for (let minute = 0; minute < 30; minute++) {
      expect(await fail(slow, B, 10)).toEqual(Array(10).fill(0));
      jest.advanceTimersByTime(MIN);
    }
  });

  it('logs the block with the client address', async () => {
    const log = logCapture();
    const t = new AuthThrottle({ failuresPerMinute: 2 }, log.logger);
    await fail(t, A, 3);
    expect(log.text()).toMatch(/"client":"203.0.113.7","blockMs":60000,"strike":1.*too many wrong API keys/);
  });
});

describe('authenticate with a throttle (HTTP)', () => {
  const GOOD = 'ilp_Qm3xT8vK2pLw9RbN5zC7HdJ4sYfG6aEu';
  let store: Store;
  let app: express.Express;
  beforeEach(async () => {
    store = openSqliteStore({ file: ':memory:' });
    await store.putApiKey({ keyHash: hashApiKey(GOOD), organizationId: '10000004', role: 'facility' });
    app = express();
    app.set('trust proxy', true); // the test speaks for two addresses through X-Forwarded-For
    app.get('/who', authenticate({ store, throttle: new AuthThrottle() }), (_req, res) => void res.json(principalOf(res)));
    app.use(errorHandler(logCapture().logger));
  });
  afterEach(() => store.close());
  const call = (address: string, key: string) => request(app).get('/who').set('X-Forwarded-For', address).set('Authorization', `Bearer ${key}`).set('Accept-Language', 'en');

  it('answers 401 to 10 wrong keys, then 429 + Retry-After to that address only, even with a correct key', async () => {
    for (let i = 0; i < 10; i++) expect((await call(A, `wrong-key-${i}-xxxxxxxx`)).status).toBe(401);
    const blocked = await call(A, 'wrong-key-10-xxxxxxxx');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toBe('60');
    expect(blocked.body.issue[0]).toMatchObject({ code: 'throttled', diagnostics: expect.stringContaining('Too many wrong API keys from this address') });
    expect((await call(A, GOOD)).status).toBe(429);
    expect((await call(B, GOOD)).status).toBe(200);
    expect((await call(B, 'wrong-key-b-xxxxxxxx')).status).toBe(401);
  });

  it('a missing key is not counted as a guess', async () => {
    for (let i = 0; i < 20; i++) expect((await request(app).get('/who').set('X-Forwarded-For', A)).status).toBe(401);
    expect((await call(A, GOOD)).status).toBe(200);
  });
});
