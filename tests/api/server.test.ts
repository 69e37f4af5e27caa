import express from 'express';
import { listen, parsePort } from '../../src/api/server.js';
import { outcomeHeader } from '../../src/api/map.js';
import { issue } from '../../src/validation/outcome.js';
import { logCapture } from './helpers.js';

/** An app whose GET /slow stays in flight until `release()`; `slowArrived` resolves once the server has it. */
function appWithSlowRoute(): { app: express.Express; slowArrived: Promise<void>; release: () => void } {
  const app = express();
  let answer: () => void = () => undefined;
  let arrived!: () => void;
  const slowArrived = new Promise<void>((r) => (arrived = r));
  app.get('/slow', (_req, res) => {
    answer = () => res.send('done');
    arrived();
  });
  return { app, slowArrived, release: () => answer() };
}

describe('listen', () => {
  it('serves on an OS-chosen port and closes gracefully, letting an in-flight request finish', async () => {
    const { app, slowArrived, release } = appWithSlowRoute();
    app.get('/fast', (_req, res) => res.send('ok'));
    const running = await listen(app, { host: '127.0.0.1', port: 0, logger: logCapture().logger });
    const base = `http://127.0.0.1:${running.address.port}`;
    expect(await (await fetch(`${base}/fast`)).text()).toBe('ok');
    const slow = fetch(`${base}/slow`).then((r) => r.text());
    await slowArrived; // in flight at the server, whatever the machine's speed
    const closed = running.close();
    release();
    expect(await slow).toBe('done');
    await closed;
    await expect(fetch(`${base}/fast`)).rejects.toHaveProperty('message');
    await running.close(); // idempotent
  });

  it('while draining answers every new request 503 with Retry-After and Connection: close; in-flight ones finish', async () => {
    const { app, slowArrived, release } = appWithSlowRoute();
    app.post('/work', (_req, res) => res.status(202).send('accepted'));
    const running = await listen(app, { host: '127.0.0.1', port: 0, logger: logCapture().logger });
    const base = `http://127.0.0.1:${running.address.port}`;
    expect((await fetch(`${base}/work`, { method: 'POST' })).status).toBe(202);
    const slow = fetch(`${base}/slow`).then((r) => r.text());
    await slowArrived;
    running.drain(7);
    const refused = await fetch(`${base}/work`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect({ status: refused.status, retryAfter: refused.headers.get('retry-after'), connection: refused.headers.get('connection') }).toEqual({ status: 503, retryAfter: '7', connection: 'close' });
    expect(refused.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    expect((await refused.json()).issue[0]).toMatchObject({ severity: 'error', code: 'transient', diagnostics: expect.stringMatching(/^Layanan sedang berhenti: tidak ada yang diterima/) });
    const english = await fetch(`${base}/work`, { method: 'POST', headers: { 'accept-language': 'en' } });
    expect((await english.json()).issue[0].diagnostics).toMatch(/^The service is shutting down: nothing was accepted/);
    release();
    expect(await slow).toBe('done');
    await running.close();
    await expect(fetch(`${base}/work`, { method: 'POST' })).rejects.toHaveProperty('message');
  });

  it('rejects when the port is taken', async () => {
    const logger = logCapture().logger;
    const a = await listen(express(), { host: '127.0.0.1', port: 0, logger });
    await expect(listen(express(), { host: '127.0.0.1', port: a.address.port, logger })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await a.close();
  });
});

describe('parsePort', () => {
  it('defaults, accepts 0–65535, and explains anything else', () => {
    expect(parsePort(undefined, 8080)).toBe(8080);
    expect(parsePort('', 8080)).toBe(8080);
    expect(parsePort('9000', 8080)).toBe(9000);
    for (const bad of ['http', '-1', '65536', '80.5']) expect(() => parsePort(bad, 8080)).toThrow(/PORT must be an integer/);
  });
});

describe('outcomeHeader', () => {
  it('is compact ASCII JSON, masks identifier-like digit runs, and stays within budget', () => {
    const h = outcomeHeader([issue('warning', 'incomplete', 'Location?identifier=… for patient 3171012501900001 (é)', 'locationCode')]);
    expect(h).not.toMatch(/[^\x20-\x7e]/);
    expect(h).not.toContain('3171012501900001');
    const parsed = JSON.parse(h);
    expect(parsed.issue[0].diagnostics).toContain('(é)');
    expect(parsed.issue[0].expression).toEqual(['locationCode']);
    const many = Array.from({ length: 500 }, (_, i) => issue('warning', 'incomplete', `warning number ${i} with some explanatory text`, `measurements[${i}]`));
    const big = outcomeHeader(many);
    expect(big.length).toBeLessThanOrEqual(6000);
    const p = JSON.parse(big);
    expect(p.issue.at(-1).diagnostics).toMatch(/more warnings not shown: use \?_outcome=inline/);
    expect(outcomeHeader([])).toBe(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: 'No warnings' }] }));
  });
});
