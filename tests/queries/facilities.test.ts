// GET /ilp/facilities (admin) and /ilp/facilities/{org}: counts, backlog age, last delivery, status with its reason,
// and the facility's quota use over the last hour (every instance's, from the store).
import { A, B, harness, NOW, visits } from './harness.js';

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
    expect(r.body.quotaLastHour).toMatchObject({ requests: 0, capacity: 9000, scope: 'all-instances' });
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

  it("reports the facility's quota use over the last hour from the store: every process's grants, per minute", async () => {
    const h = harness();
    const t0 = NOW.getTime() - (NOW.getTime() % 60_000);
    // Grants of two instances of one database are one log: here, 200 at the hour's start and 100 ten minutes later.
    for (let i = 0; i < 300; i++) await h.store.takeQuotaPoint(A, 1_000, 60_000, t0 + (i < 200 ? 0 : 10 * 60_000));
    h.setNow(t0 + 59 * 60_000);
    const r = await h.get(`/ilp/facilities/${A}`, A).expect(200);
    expect(r.body.quotaLastHour).toEqual({ requests: 300, since: new Date(t0).toISOString(), capacity: 9000, share: 0.033, quotaPerMinute: 150, scope: 'all-instances' });
    expect(r.body.quotaNote).toMatch(/setiap instans layanan dan proses CLI/);
    // An hour on, the first minute has left the window.
    h.setNow(t0 + 60 * 60_000);
    expect((await h.get(`/ilp/facilities/${A}`, A).set('Accept-Language', 'en').expect(200)).body).toMatchObject({
      quotaLastHour: { requests: 100 }, quotaNote: expect.stringMatching(/every service instance and CLI process/),
    });
    expect((await h.get(`/ilp/facilities/${B}`, B).expect(200)).body.quotaLastHour).toMatchObject({ requests: 0 });
  });
});
