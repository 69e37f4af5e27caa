import request from 'supertest';
import { createSimulator } from '../../src/simulator/app.js';
import { FHIR, tokenFor } from './helpers.js';

const TOKEN_URL = '/oauth2/v1/accesstoken?grant_type=client_credentials';

function fakeClock(start = Date.UTC(2025, 5, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

describe('simulator token endpoint', () => {
  it('issues a token with the platform string fields (expires_in 14399 as in token-success-production.json)', async () => {
    const clock = fakeClock();
    const sim = createSimulator({ validator: false, clock: clock.now });
    const res = await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'BearerToken', expires_in: '14399', issued_at: String(clock.now()), client_id: 'demo-client', refresh_token_expires_in: '0', status: 'approved' });
    expect(typeof res.body.access_token).toBe('string');
    expect(res.body.access_token.length).toBeGreaterThan(20);
    for (const v of Object.values(res.body)) if (!Array.isArray(v)) expect(typeof v).toBe('string');
  });

  it('uses the configured expiry and rejects an expired token with 401', async () => {
    const clock = fakeClock();
    // The documented error style names the reason (the recorded 401 is one template for every case).
    const sim = createSimulator({ validator: false, clock: clock.now, tokenExpiryS: 30, errorStyle: 'documented' });
    const res = await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(res.body.expires_in).toBe('30');
    const token = res.body.access_token as string;
    const ok = await request(sim.app).get(`${FHIR}/Patient/P02478375538`).set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    clock.advance(30_000);
    const expired = await request(sim.app).get(`${FHIR}/Patient/P02478375538`).set('Authorization', `Bearer ${token}`);
    expect(expired.status).toBe(401);
    expect(expired.body.resourceType).toBe('OperationOutcome');
    expect(expired.body.issue[0].details.text).toMatch(/expired/i);
  });

  it('answers bad credentials with the platform OperationOutcome (severity "invalid") and then locks the client for a minute', async () => {
    const clock = fakeClock();
    const sim = createSimulator({ validator: false, clock: clock.now });
    const bad = await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'wrong' });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'invalid', code: 'value', details: { text: 'The user or system was not able to be authenticated (either client_id or client_secret combination is unacceptable)' } }],
    });
    // Even the right secret is refused within the minute.
    clock.advance(59_000);
    const locked = await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(locked.status).toBe(429);
    expect(locked.body.issue[0].details.text).toBe('Authentication temporarily cannot be performed due to the rate limit policy. Rate limit: 1 request per minute after a failed attempt.');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    clock.advance(1_000);
    const again = await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(again.status).toBe(200);
    expect(sim.state.stats().authLockouts).toBe(1);
  });

  it('locks unknown client ids too, without affecting other clients', async () => {
    const clock = fakeClock();
    const sim = createSimulator({ validator: false, clock: clock.now });
    expect((await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'nobody', client_secret: 'x' })).status).toBe(401);
    expect((await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'nobody', client_secret: 'x' })).status).toBe(429);
    expect((await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' })).status).toBe(200);
  });

  it('requires grant_type in the query and a client_id', async () => {
    const sim = createSimulator({ validator: false });
    const noGrant = await request(sim.app).post('/oauth2/v1/accesstoken').type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' });
    expect(noGrant.status).toBe(400);
    const noClient = await request(sim.app).post(TOKEN_URL).type('form').send({ client_secret: 'demo-secret' });
    expect(noClient.status).toBe(401);
    expect(noClient.body.issue[0].details.text).toContain('RuleNumber: 20009');
  });

  it('supports several clients, each with its own organization', async () => {
    const sim = createSimulator({ validator: false, clients: [
      { clientId: 'a', clientSecret: 'sa', organizationId: '100' },
      { clientId: 'b', clientSecret: 'sb', organizationId: '200' },
    ] });
    expect((await request(sim.app).post(TOKEN_URL).type('form').send({ client_id: 'demo-client', client_secret: 'demo-secret' })).status).toBe(401);
    const tb = await tokenFor(sim.app, 'b', 'sb');
    const org = await request(sim.app).get(`${FHIR}/Organization/200`).set('Authorization', `Bearer ${tb}`);
    expect(org.status).toBe(200);
    const other = await request(sim.app).get(`${FHIR}/Organization/100`).set('Authorization', `Bearer ${tb}`);
    expect(other.status).toBe(403);
  });
});

describe('simulator bearer check', () => {
  it('refuses FHIR calls without, or with an unknown, bearer token', async () => {
    const sim = createSimulator({ validator: false });
    const none = await request(sim.app).get(`${FHIR}/Patient/P02478375538`);
    expect(none.status).toBe(401);
    expect(none.body.resourceType).toBe('OperationOutcome');
    const basic = await request(sim.app).get(`${FHIR}/Patient/P02478375538`).set('Authorization', 'Basic abc');
    expect(basic.status).toBe(401);
    const unknown = await request(sim.app).get(`${FHIR}/Patient/P02478375538`).set('Authorization', 'Bearer not-a-token');
    expect(unknown.status).toBe(401);
    expect(unknown.body.issue[0].details.text).toMatch(/invalid access token/i);
    expect(sim.state.count('Patient')).toBeGreaterThan(0);
  });
});
