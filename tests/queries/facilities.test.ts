// GET /ilp/facilities (admin) and /ilp/facilities/{org}: counts, backlog age, last delivery, status with its reason,
// and this process's quota use over the last hour.
import { A, B, harness, KEY, NOW, visits } from './harness.js';
import { GrantHistory, QUOTA_WINDOW_MS } from '../../src/app/quota.js';

describe('facility overview', () => {
  it('gives counts, the oldest waiting record and its age, the last delivery and the status with its reason', async () => {
    const h = harness();
    await h.push(A, visits(A, 3)).expect(202);
    const [v] = await h.store.claimDue(A, NOW.getTime() + 1_000, 1, 60_000);
    await h.store.markSent(v!.claim, {}, NOW.getTime() + 2_000);
    await h.store.putFacilityState({ organizationId: A, status: 'auth-failed', cause: 'credentials', reason: 'invalid_client', updatedAt: NOW.getTime() });
    h.setNow(NOW.getTime() + 90_000);

    const r = await h.get(`/ilp/facilities/${A}`, A).expect(200);
    expect(r.body).toMatchObject({
      organizationId: A, configured: true, name: `Puskesmas ${A}`, status: 'auth-failed', cause: 'credentials', reason: 'invalid_client',
      counts: { queued: 2, sending: 0, sent: 1, 'needs-correction': 0, blocked: 0, 'dead-letter': 0 },
      oldestWaitingSince: NOW.toISOString(), oldestWaitingAgeSeconds: 90, lastSentAt: new Date(NOW.getTime() + 2_000).toISOString(),
    });
    expect(r.body.explanation).toMatch(/SATUSEHAT menolak kredensial fasilitas ini \(invalid_client\)/);
    expect(r.body.quotaNote).toMatch(/tidak diketahui/);
    expect(r.text).not.toMatch(/secret-not-shown|client-id-not-shown/);
    const en = await h.get(`/ilp/facilities/${B}`, 'admin').set('Accept-Language', 'en').expect(200);
    expect(en.body).toMatchObject({ status: 'active', explanation: 'Active: visits are delivered on schedule.', counts: { queued: 0 } });
    expect(en.body).not.toHaveProperty('oldestWaitingSince');
  });

  it("never shows one facility another's overview (404 like an unknown one); the list is admin-only", async () => {
    const h = harness();
    expect((await h.get(`/ilp/facilities/${B}`, A).expect(404)).body.issue[0].code).toBe('not-found');
    await h.get('/ilp/facilities/99999999', 'admin').expect(404);
    await h.get('/ilp/facilities', A).expect(403);
    const all = await h.get('/ilp/facilities', 'admin').expect(200);
    expect(all.body.items.map((f: { organizationId: string }) => f.organizationId)).toEqual([A, B]);
    expect((await h.get('/ilp/facilities?state=queued', 'admin').expect(400)).body.issue[0].expression).toEqual(['state']);
  });

  it('reports quota use over the last hour when this process delivers, saying it counts this process only', async () => {
    const history = new GrantHistory();
    const t0 = NOW.getTime();
    history.sample(t0, 0);
    const h = harness({ quota: () => history.use(t0 + 10 * 60_000, 300, 150) });
    const r = await h.get(`/ilp/facilities/${A}`, A).expect(200);
    expect(r.body.quotaLastHour).toEqual({ requests: 300, since: NOW.toISOString(), capacity: 1500, share: 0.2, quotaPerMinute: 150, scope: 'this-process' });
    expect(r.body.quotaNote).toMatch(/proses layanan ini saja/);
  });
});

describe('GrantHistory', () => {
  it('counts the requests of the last hour from minute samples, forgetting older ones', () => {
    const g = new GrantHistory();
    const t0 = 1_000_000_000_000;
    for (let m = 0; m <= 90; m++) g.sample(t0 + m * 60_000, m * 10); // 10 requests a minute
    const use = g.use(t0 + 90 * 60_000, 900, 150);
    expect(use.since).toBe(new Date(t0 + 90 * 60_000 - QUOTA_WINDOW_MS).toISOString());
    expect(use.requests).toBe(600);
    expect(use.capacity).toBe(9000);
    // Samples within a minute are ignored; a young process counts since its first sample.
    const young = new GrantHistory();
    young.sample(t0, 5);
    young.sample(t0 + 1_000, 50);
    expect(young.use(t0 + 30_000, 20, 60)).toMatchObject({ requests: 15, since: new Date(t0).toISOString(), capacity: 60, share: 0.25 });
  });
});

describe('query routes: keys and methods', () => {
  it.each(['/ilp/visits', '/ilp/rejections', '/ilp/facilities', `/ilp/facilities/${A}`])('%s needs a key (401) and answers other methods with 405', async (path) => {
    const h = harness();
    const r = await h.get(path, 'nobody');
    expect(r.status).toBe(401);
    expect(r.body.resourceType).toBe('OperationOutcome');
    const request = (await import('supertest')).default;
    const put = await request(h.app).put(path).set('Authorization', `Bearer ${KEY.admin}`).send({});
    expect(put.status).toBe(405);
    expect(put.headers.allow).toMatch(/GET/);
  });
});
