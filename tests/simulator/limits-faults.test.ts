import request from 'supertest';
import { createSimulator } from '../../src/simulator/app.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { FHIR, ORG, PATIENT, encounter, location, tokenFor } from './helpers.js';
import { eventually } from '../helpers/eventually.js';
import { maxInSlidingWindow } from '../../src/simulator/quota.js';

const ENC_SYS = `http://sys-ids.kemkes.go.id/encounter/${ORG}`;

/** 'HTTP nnn' when answered, else 'ErrorName: message' (errors from fetch come from another realm under jest). */
function outcomeOf(p: Promise<Response>): Promise<string> {
  return p.then(
    (r) => `HTTP ${r.status}`,
    (e: { name?: string; message?: string }) => `${e?.name}: ${e?.message}`,
  );
}

async function httpToken(sim: RunningSimulator): Promise<string> {
  const res = await fetch(`${sim.authBaseUrl}/accesstoken?grant_type=client_credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'client_id=demo-client&client_secret=demo-secret',
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('simulator quota', () => {
  it('allows N requests per minute per client (token call included), then 429 with Retry-After, then frees slots as the window slides', async () => {
    let t = Date.UTC(2025, 0, 1);
    const sim = createSimulator({ validator: false, quotaPerMinute: 3, clock: () => t });
    const token = await tokenFor(sim.app); // 1
    const get = () => request(sim.app).get(`${FHIR}/Patient/${PATIENT}`).set('Authorization', `Bearer ${token}`);
    t += 10_000;
    expect((await get()).status).toBe(200); // 2
    t += 10_000;
    expect((await get()).status).toBe(200); // 3
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('40'); // the first request (t=0) leaves the window at t=60 s
    expect(limited.body.issue[0].code).toBe('throttled');
    const tokenLimited = await request(sim.app).post('/oauth2/v1/accesstoken?grant_type=client_credentials').type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(tokenLimited.status).toBe(429);
    t += 40_000;
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(429);
    expect(sim.state.stats().quotaRejections).toBe(3);
    expect(sim.state.requestLog().filter((e) => e.fault === 'quota')).toHaveLength(3);
  });

  it('keeps the time of every request it let through, and the most in any sliding window, per client', async () => {
    let t = Date.UTC(2025, 0, 1);
    const sim = createSimulator({ validator: false, quotaPerMinute: 4, clock: () => t });
    const token = await tokenFor(sim.app); // granted at 0
    const get = () => request(sim.app).get(`${FHIR}/Patient/${PATIENT}`).set('Authorization', `Bearer ${token}`);
    for (const step of [20_000, 20_000, 10_000]) { // granted at 20 s, 40 s, 50 s
      t += step;
      expect((await get()).status).toBe(200);
    }
    expect((await get()).status).toBe(429); // refused: not a grant
    t += 10_000; // 60 s: the token call leaves the window (t − 60 s, t]
    expect((await get()).status).toBe(200);
    const start = Date.UTC(2025, 0, 1);
    expect(sim.state.grants('demo-client').map((g) => (g - start) / 1000)).toEqual([0, 20, 40, 50, 60]);
    expect(sim.state.stats().quotaWindow).toEqual({ windowMs: 60_000, perMinute: 4, maxGrantsInWindow: 4, maxGrantsByClient: { 'demo-client': 4 } });
  });

  it('counts grants with the quota off too, so several callers can be held to a quota the simulator does not enforce', async () => {
    const sim = createSimulator({ validator: false, quotaPerMinute: 0 });
    const token = await tokenFor(sim.app);
    for (let i = 0; i < 5; i++) expect((await request(sim.app).get(`${FHIR}/Patient/${PATIENT}`).set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(sim.state.stats().quotaWindow).toMatchObject({ perMinute: 0, maxGrantsInWindow: 6 });
  });

  it('maxInSlidingWindow: the window is (t − length, t], times in any order', () => {
    expect(maxInSlidingWindow([], 60_000)).toBe(0);
    expect(maxInSlidingWindow([0, 60_000], 60_000)).toBe(1);
    expect(maxInSlidingWindow([0, 59_999], 60_000)).toBe(2);
    expect(maxInSlidingWindow([70_000, 0, 10_000, 65_000, 50_000], 60_000)).toBe(3); // 0, 10, 50 or 50, 65, 70 (10 is out at 70)
    expect(maxInSlidingWindow([70_000, 0, 10_000, 65_000, 50_000, 11_000], 60_000)).toBe(4); // 11, 50, 65, 70
  });

  it('counts each client separately', async () => {
    const sim = createSimulator({ validator: false, quotaPerMinute: 2, clients: [
      { clientId: 'a', clientSecret: 'sa', organizationId: '1' },
      { clientId: 'b', clientSecret: 'sb', organizationId: '2' },
    ] });
    const ta = await tokenFor(sim.app, 'a', 'sa');
    const tb = await tokenFor(sim.app, 'b', 'sb');
    expect((await request(sim.app).get(`${FHIR}/Organization/1`).set('Authorization', `Bearer ${ta}`)).status).toBe(200);
    expect((await request(sim.app).get(`${FHIR}/Organization/1`).set('Authorization', `Bearer ${ta}`)).status).toBe(429);
    expect((await request(sim.app).get(`${FHIR}/Organization/2`).set('Authorization', `Bearer ${tb}`)).status).toBe(200);
  });
});

describe('simulator fault injection', () => {
  it('errorRate5xx 1.0: every FHIR call fails with a 5xx (text/plain bodies included) and nothing is stored; the token endpoint is spared', async () => {
    const sim = createSimulator({ validator: false, errorRate5xx: 1, seed: 42 });
    const token = await tokenFor(sim.app);
    const statuses = new Set<number>();
    const types = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await request(sim.app).post(`${FHIR}/Location`).set('Authorization', `Bearer ${token}`).send(location(ORG, `L${i}`));
      expect(res.status).toBeGreaterThanOrEqual(500);
      statuses.add(res.status);
      types.add(String(res.headers['content-type']).split(';')[0]);
    }
    expect(types.has('text/plain')).toBe(true);
    expect(statuses.size).toBeGreaterThan(1);
    expect(sim.state.count('Location')).toBe(0);
    expect(sim.state.stats().faults.error5xx).toBe(30);
  });

  it('is reproducible for a given seed, and faultScope limits faults to writes', async () => {
    const run = async (seed: number) => {
      const sim = createSimulator({ validator: false, errorRate5xx: 0.5, seed, faultScope: 'writes' });
      const token = await tokenFor(sim.app);
      const out: number[] = [];
      for (let i = 0; i < 20; i++) {
        out.push((await request(sim.app).post(`${FHIR}/Location`).set('Authorization', `Bearer ${token}`).send(location(ORG, `L${i}`))).status);
        expect((await request(sim.app).get(`${FHIR}/Patient/${PATIENT}`).set('Authorization', `Bearer ${token}`)).status).toBe(200);
      }
      return out;
    };
    const a = await run(1234);
    expect(await run(1234)).toEqual(a);
    expect(a.some((s) => s === 201)).toBe(true);
    expect(a.some((s) => s >= 500)).toBe(true);
  });

  it('throttleRate 1.0: every FHIR call answers 429 Retry-After 1 whatever the quota, and nothing is stored', async () => {
    const sim = createSimulator({ validator: false, throttleRate: 1, quotaPerMinute: 0 });
    const token = await tokenFor(sim.app);
    const res = await request(sim.app).post(`${FHIR}/Location`).set('Authorization', `Bearer ${token}`).send(location());
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.issue[0].code).toBe('throttled');
    expect(sim.state.count('Location')).toBe(0);
    expect(sim.state.stats()).toMatchObject({ faults: { throttled: 1 }, quotaRejections: 0 });
    expect(sim.state.requestLog().map((e) => e.fault)).toEqual([undefined, 'throttled']);
    expect(() => createSimulator({ throttleRate: 2 })).toThrow(/throttleRate must be a number between 0 and 1/);
  });

  it('faultsOnToken applies faults to the token endpoint when asked', async () => {
    const sim = createSimulator({ validator: false, errorRate5xx: 1, faultsOnToken: true });
    const res = await request(sim.app).post('/oauth2/v1/accesstoken?grant_type=client_credentials').type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(res.status).toBeGreaterThanOrEqual(500);
  });

  it('latency (fixed or range) delays but does not change the answer', async () => {
    const sim = createSimulator({ validator: false, latencyMs: { min: 1, max: 5 }, seed: 3 });
    const token = await tokenFor(sim.app);
    const res = await request(sim.app).get(`${FHIR}/Patient/${PATIENT}`).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(() => createSimulator({ latencyMs: { min: 5, max: 1 } })).toThrow(/max must be ≥ min/);
    expect(() => createSimulator({ errorRate5xx: 1.5 })).toThrow(/between 0 and 1/);
    expect(() => createSimulator({ clients: [{ clientId: 'a', clientSecret: '', organizationId: '1' }] })).toThrow(/clientSecret/);
  });

  describe('over real HTTP', () => {
    let sim: RunningSimulator | undefined;
    afterEach(async () => {
      await sim?.close();
      sim = undefined;
    });

    it('dropAfterCommitRate 1.0: the client sees a network error, yet the Encounter exists afterwards (exactly once)', async () => {
      sim = await startSimulator({ validator: false, requireDiagnosis: false, dropAfterCommitRate: 1, seed: 9 });
      const token = await httpToken(sim);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
      const loc = await outcomeOf(fetch(`${sim.fhirBaseUrl}/Location`, { method: 'POST', headers, body: JSON.stringify(location()) }));
      expect(loc).toBe('TypeError: fetch failed');
      const locationId = sim.state.findByIdentifier('Location', `http://sys-ids.kemkes.go.id/location/${ORG}`, 'POSY-1')[0].id as string;
      const enc = await outcomeOf(fetch(`${sim.fhirBaseUrl}/Encounter`, { method: 'POST', headers, body: JSON.stringify(encounter('V-1', locationId)) }));
      expect(enc).toBe('TypeError: fetch failed');
      // Reads are not writes: they are answered, and they show what was committed.
      const search = await fetch(`${sim.fhirBaseUrl}/Encounter?identifier=${encodeURIComponent(`${ENC_SYS}|V-1`)}`, { headers });
      expect(search.status).toBe(200);
      expect(((await search.json()) as { total: number }).total).toBe(1);
      expect(sim.state.stats().faults.dropAfterCommit).toBe(2);
      expect(sim.state.requestLog().filter((e) => e.fault === 'drop-after-commit').map((e) => e.status)).toEqual([0, 0]);
    });

    it('timeoutRate 1.0: requests hang until the configured hang time, then 504 text/plain; nothing is done', async () => {
      sim = await startSimulator({ validator: false, timeoutRate: 1, timeoutHangMs: 50 });
      const token = await httpToken(sim);
      const res = await fetch(`${sim.fhirBaseUrl}/Location`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(location()) });
      expect(res.status).toBe(504);
      expect(await res.text()).toBe('Gateway Timeout');
      expect(sim.state.count('Location')).toBe(0);
    });

    it('a hanging request is released when the client gives up, and close() does not wait for hung requests', async () => {
      sim = await startSimulator({ validator: false, timeoutRate: 1 }); // default hang: 60 s
      const token = await httpToken(sim);
      const res = await outcomeOf(fetch(`${sim.fhirBaseUrl}/Patient/${PATIENT}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(100) }));
      expect(res).toMatch(/^TimeoutError/);
      const pending = outcomeOf(fetch(`${sim.fhirBaseUrl}/Patient/${PATIENT}`, { headers: { authorization: `Bearer ${token}` } }));
      await eventually(() => sim!.state.stats().faults.timeout === 2, 'the second request to hang at the simulator');
      await sim.close();
      sim = undefined;
      expect(await pending).toBe('TypeError: fetch failed');
    });
  });
});

describe('simulator request log', () => {
  it('keeps method, redacted path, client and status, but no NIK or identifier value', async () => {
    const sim = createSimulator({ validator: false });
    const token = await tokenFor(sim.app);
    await request(sim.app).get(`${FHIR}/Patient?identifier=${encodeURIComponent('https://fhir.kemkes.go.id/id/nik|9271060312000001')}`).set('Authorization', `Bearer ${token}`);
    await request(sim.app).post(`${FHIR}/Patient`).set('Authorization', `Bearer ${token}`).send({ resourceType: 'Patient', identifier: [{ system: 'https://fhir.kemkes.go.id/id/nik', value: '3171014501900002' }], name: [{ text: 'Siti Aminah' }] });
    const entries = sim.state.requestLog();
    expect(entries.map((e) => [e.method, e.status, e.clientId])).toEqual([
      ['POST', 200, 'demo-client'],
      ['GET', 200, 'demo-client'],
      ['POST', 200, 'demo-client'], // Patient create answers 200, as recorded
    ]);
    expect(entries[1].path).toBe('/fhir-r4/v1/Patient?identifier=https://fhir.kemkes.go.id/id/nik|***');
    const dump = JSON.stringify(entries);
    for (const secret of ['9271060312000001', '3171014501900002', 'Siti', 'demo-secret', token]) expect(dump).not.toContain(secret);
  });
});
