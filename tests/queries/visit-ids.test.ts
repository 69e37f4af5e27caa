// visitIds as facility systems have them: register numbers with '/' are accepted, addressed as %2F or raw '/' on every
// route that takes a visitId, and the contract's rule refuses what would make a path ambiguous.
import { syncRouter } from '../../src/api/sync.js';
import { A, harness, KEY, visits } from './harness.js';
import request from 'supertest';

const withSync = () => harness({
  routers: ({ store, clock, staticKeys, adminKeyHash, logger }) => [{
    path: '/',
    router: syncRouter({ store, clock, staticKeys, adminKeyHash, logger, facilities: [], runner: { tick: async () => ({}), busy: false } }),
  }],
});

describe("visitIds with '/'", () => {
  it('accepts a register number, answers with an encoded Location, and finds it by %2F and by raw slashes', async () => {
    const h = withSync();
    const [v] = visits(A, 1, { visitId: '2026/10/0001' });
    const pushed = await h.push(A, v).expect(202);
    expect(pushed.body).toMatchObject({ visitId: '2026/10/0001', id: `${A}/2026/10/0001` });
    expect(pushed.headers.location).toBe(`/ilp/visits/${A}/2026%2F10%2F0001`);
    for (const path of [pushed.headers.location as string, `/ilp/visits/${A}/2026/10/0001`, `/ilp/visits/${A}/2026%2F10/0001`]) {
      const r = await h.get(path, A).expect(200);
      expect(r.body.visitId).toBe('2026/10/0001');
    }
    // A shorter id is another visit: not found, not the register number's.
    await h.get(`/ilp/visits/${A}/2026/10`, A).expect(404);
    await h.get(`/ilp/visits/${A}/2026`, A).expect(404);
    // Listed, and found by prefix.
    const listed = await h.get('/ilp/visits?q=2026/10/', A).expect(200);
    expect(listed.body.items.map((x: { visitId: string }) => x.visitId)).toEqual(['2026/10/0001']);
  });

  it('requeues by %2F and by raw slashes (admin)', async () => {
    const h = withSync();
    const [v] = visits(A, 1, { visitId: '2026/10/0002' });
    await h.push(A, v).expect(202);
    const finalise = async () => {
      const [row] = await h.store.claimDue(A, Date.now() + 10 ** 9, 1, 60_000);
      await h.store.markFinal(row!.claim, 'dead-letter', { resourceType: 'OperationOutcome', issue: [] }, Date.now() + 10 ** 9);
    };
    for (const path of [`/sync/visits/${A}/2026%2F10%2F0002/requeue`, `/sync/visits/${A}/2026/10/0002/requeue`]) {
      await finalise();
      const r = await request(h.app).post(path).set('Authorization', `Bearer ${KEY.admin}`).expect(200);
      expect(r.body).toEqual({ organizationId: A, visitId: '2026/10/0002', state: 'queued', previousState: 'dead-letter' });
    }
    await request(h.app).post(`/sync/visits/${A}/2026/10/requeue`).set('Authorization', `Bearer ${KEY.admin}`).expect(404);
  });

  it.each(['A/B-1.2:3_x', '2026/10/0001', 'PSY-MAWAR-2026-10-0141', 'a.b'])('accepts %s', async (visitId) => {
    const h = withSync();
    await h.push(A, visits(A, 1, { visitId })[0]).expect(202);
  });

  it.each(['/2026', '2026/', '2026//1', '2026/../x', '2026/./x', '2026/.x', 'a b', '100%', '2026\\10', 'x'.repeat(65)])('refuses %j at visitId', async (visitId) => {
    const h = withSync();
    const r = await h.push(A, visits(A, 1, { visitId })[0]).expect(422);
    expect(r.body.issue.map((i: { expression?: string[] }) => i.expression?.[0])).toContain('visitId');
  });
});
