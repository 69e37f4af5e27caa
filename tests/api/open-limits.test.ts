// Per-address limits of $validate / $map. The rate window follows Date.now (rate-limiter-flexible), so the clock is
// jest's fake one; in-progress requests are held open on a gate the test releases.
import { jest } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../src/api/errors.js';
import { perAddressLimits } from '../../src/api/open-limits.js';
import { logCapture } from './helpers.js';

const logs = logCapture();

function appWith(limits: { perMinute: number; concurrent: number }, handler: express.RequestHandler = (_req, res) => void res.status(200).json({ ok: true })) {
  const app = express();
  app.set('trust proxy', (addr: string) => addr === '127.0.0.1'); // lets the test speak for several addresses
  app.use('/fhir/$validate', perAddressLimits(limits));
  app.post('/fhir/$validate', handler);
  app.use(errorHandler(logs.logger));
  return app;
}

describe('per-address request budget', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: new Date('2026-12-01T00:00:00Z') });
  });
  afterEach(() => jest.useRealTimers());

  it('the budget+1-th request in a minute → 429 throttled with Retry-After; the next minute it passes again', async () => {
    const app = appWith({ perMinute: 3, concurrent: 10 });
    const from = (ip: string) => request(app).post('/fhir/$validate').set('X-Forwarded-For', ip).set('Accept-Language', 'en').send({});
    for (let i = 0; i < 3; i++) await from('10.0.0.1').expect(200);
    jest.advanceTimersByTime(20_000);
    const r = await from('10.0.0.1').expect(429);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0]).toMatchObject({ code: 'throttled', diagnostics: expect.stringMatching(/More than 3 requests per minute/) });
    expect(r.headers['retry-after']).toBe('40');
    // Another address has its own budget.
    await from('10.0.0.2').expect(200);
    jest.advanceTimersByTime(40_001);
    await from('10.0.0.1').expect(200);
  });

  it('only POST counts (405 and OPTIONS answers are free)', async () => {
    const app = appWith({ perMinute: 1, concurrent: 1 });
    await request(app).get('/fhir/$validate').expect(404);
    await request(app).get('/fhir/$validate').expect(404);
    await request(app).post('/fhir/$validate').send({}).expect(200);
  });
});

describe('per-address requests in progress', () => {
  it('a third concurrent request from one address → 429 with Retry-After 1, others unaffected; released slots are reused', async () => {
    const gates: Array<() => void> = [];
    const waiters: Array<{ n: number; resolve: () => void }> = [];
    /** Resolves once `n` requests are held in the handler. */
    const waitEntered = (n: number) => new Promise<void>((resolve) => (gates.length >= n ? resolve() : waiters.push({ n, resolve })));
    const app = appWith({ perMinute: 1000, concurrent: 2 }, (_req, res) => {
      gates.push(() => void res.status(200).json({ ok: true }));
      for (const w of waiters.filter((x) => gates.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const agent = request(server);
      const a = agent.post('/fhir/$validate').set('X-Forwarded-For', '10.0.0.9').send({}).then((r) => r.status);
      const b = agent.post('/fhir/$validate').set('X-Forwarded-For', '10.0.0.9').send({}).then((r) => r.status);
      await waitEntered(2);
      const c = await agent.post('/fhir/$validate').set('X-Forwarded-For', '10.0.0.9').set('Accept-Language', 'en').send({}).expect(429);
      expect(c.headers['retry-after']).toBe('1');
      expect(c.body.issue[0].diagnostics).toMatch(/At most 2 requests from one address/);
      const other = agent.post('/fhir/$validate').set('X-Forwarded-For', '10.0.0.10').send({}).then((r) => r.status);
      await waitEntered(3);
      for (const g of gates.splice(0)) g();
      expect(await Promise.all([a, b, other])).toEqual([200, 200, 200]);
      const d = agent.post('/fhir/$validate').set('X-Forwarded-For', '10.0.0.9').send({}).then((r) => r.status);
      await waitEntered(1);
      for (const g of gates.splice(0)) g();
      expect(await d).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
