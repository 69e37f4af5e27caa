// GET /ilp/visits: who sees what, filters, explanations in the caller's language, keyset paging, and a 400 at the
// parameter for every bad value.
import { A, B, harness, KEY, NOW, visits } from './harness.js';
import { encodeCursor } from '../../src/app/params.js';

const NIK_OR_NAME = /"nik"|"name"|Pasien Uji|3273\d{12}/;

describe('GET /ilp/visits', () => {
  it('shows a facility its own visits only, newest change first, without NIKs or names; the admin sees all', async () => {
    const h = harness();
    await h.push(A, visits(A, 3)).expect(202);
    h.setNow(NOW.getTime() + 1_000);
    await h.push(B, visits(B, 2)).expect(202);

    const mine = await h.get('/ilp/visits', A).expect(200);
    expect(mine.body.items).toHaveLength(3);
    expect(mine.body.items.every((r: { organizationId: string }) => r.organizationId === A)).toBe(true);
    expect(mine.body).not.toHaveProperty('nextCursor');
    expect(mine.text).not.toMatch(NIK_OR_NAME);
    expect(mine.body.items[0]).toEqual({
      organizationId: A, visitId: expect.any(String), revision: 1, state: 'queued', explanation: 'Menunggu sinkronisasi berikutnya.', attempts: 0,
      nextAttemptAt: NOW.toISOString(), updatedAt: NOW.toISOString(), setting: 'posyandu', locationCode: 'POSY-01', visitStart: expect.any(String),
    });

    const all = await h.get('/ilp/visits', 'admin').expect(200);
    expect(all.body.items.map((r: { organizationId: string }) => r.organizationId)).toEqual([B, B, A, A, A]);
    const onlyB = await h.get(`/ilp/visits?organization=${B}`, 'admin').expect(200);
    expect(onlyB.body.items).toHaveLength(2);

    // A facility naming another organization is refused at the parameter; naming its own is fine.
    const refused = await h.get(`/ilp/visits?organization=${B}`, A).expect(403);
    expect(refused.body.issue[0]).toMatchObject({ code: 'forbidden', expression: ['organization'] });
    await h.get(`/ilp/visits?organization=${A}`, A).expect(200);
    await request401(h);
  });

  async function request401(h: ReturnType<typeof harness>) {
    const r = await h.get('/ilp/visits', 'nobody');
    expect(r.status).toBe(401);
  }

  it('explains in English on Accept-Language: en, and names the facility hold for a queued visit', async () => {
    const h = harness();
    await h.push(A, visits(A, 1)).expect(202);
    await h.store.putFacilityState({ organizationId: A, status: 'paused', cause: 'operator', reason: 'paused by an operator', updatedAt: NOW.getTime() });
    const en = await h.get('/ilp/visits', A).set('Accept-Language', 'en-US,en;q=0.9').expect(200);
    expect(en.body.items[0].explanation).toBe('Waiting for the next sync run. It waits because deliveries for this facility are paused by an operator; they continue after a resume.');
    expect(en.headers.vary).toMatch(/Accept-Language/);
    const id = await h.get('/ilp/visits', A).expect(200);
    expect(id.body.items[0].explanation).toMatch(/^Menunggu sinkronisasi berikutnya\. Kunjungan ini menunggu karena pengiriman untuk fasilitas ini dijeda/);
  });

  it('filters by state, setting, locationCode, visit start, updatedSince and visitId prefix', async () => {
    const h = harness();
    await h.push(A, visits(A, 2, {}, '2026-10-05T01:00:00Z')).expect(202);
    h.setNow(NOW.getTime() + 5_000);
    const later = visits(A, 1, { visitId: 'REG-77' }, '2026-10-07T01:00:00Z');
    await h.push(A, later).expect(202);
    const [claimed] = await h.store.claimDue(A, NOW.getTime() + 6_000, 1, 60_000);
    await h.store.markFinal(claimed!.claim, 'dead-letter', { resourceType: 'OperationOutcome', issue: [] }, NOW.getTime() + 7_000);

    const q = async (query: string) => (await h.get(`/ilp/visits?${query}`, A).expect(200)).body.items.map((r: { visitId: string }) => r.visitId);
    expect(await q('state=dead-letter')).toEqual([claimed!.visitId]);
    expect(await q('state=queued,dead-letter')).toHaveLength(3);
    expect(await q('setting=pustu')).toEqual([]);
    expect(await q('setting=posyandu')).toHaveLength(3);
    expect(await q('locationCode=POSY-01')).toHaveLength(3);
    expect(await q('locationCode=ELSEWHERE')).toEqual([]);
    expect(await q('from=2026-10-06')).toEqual(['REG-77']);
    expect(await q('to=2026-10-05')).toHaveLength(2); // a date-only `to` includes that whole WIB day
    expect(await q('from=2026-10-06T00:00:00%2B07:00&to=2026-10-07')).toEqual(['REG-77']);
    expect(await q(`updatedSince=${encodeURIComponent(new Date(NOW.getTime() + 5_000).toISOString())}`)).toHaveLength(2);
    expect(await q('q=REG')).toEqual(['REG-77']);
  });

  it('pages with an opaque cursor: every visit exactly once, newest first', async () => {
    const h = harness();
    await h.push(A, visits(A, 7)).expect(202); // one transaction: all share updatedAt
    const all = (await h.get('/ilp/visits?_count=500', A).expect(200)).body.items.map((r: { visitId: string }) => r.visitId);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await h.get(`/ilp/visits?_count=3${cursor ? `&cursor=${cursor}` : ''}`, A).expect(200);
      seen.push(...r.body.items.map((x: { visitId: string }) => x.visitId));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(7);
  });

  it.each([
    ['state=lost', 'state'],
    ['state=queued,lost', 'state'],
    ['state=queued&state=sent', 'state'],
    ['setting=%3Cscript%3E', 'setting'],
    ['locationCode=' + 'x'.repeat(65), 'locationCode'],
    ['from=yesterday', 'from'],
    ['from=2026-02-30', 'from'],
    ['to=2026-10-05T08:00:00', 'to'],
    ['from=2026-10-06&to=2026-10-01', 'to'],
    ['updatedSince=12345', 'updatedSince'],
    ['q=a%20b', 'q'],
    ['_count=0', '_count'],
    ['_count=501', '_count'],
    ['_count=ten', '_count'],
    ['cursor=%%%', 'cursor'],
    ['cursor=bm90LWpzb24', 'cursor'],
    [`cursor=${encodeCursor('rejections', [1, 2])}`, 'cursor'],
    [`cursor=${encodeCursor('visits', [-1, 'a', 'b'])}`, 'cursor'],
    [`cursor=${encodeCursor('visits', [1, '', 'b'])}`, 'cursor'],
    ['organizaton=10000601', 'organizaton'],
  ])('%s → 400 at %s', async (query, parameter) => {
    const h = harness();
    const r = await h.get(`/ilp/visits?${query}`, 'admin').expect(400);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue).toEqual([expect.objectContaining({ severity: 'error', code: 'value', expression: [parameter] })]);
  });

  it('says why a parameter is wrong in Bahasa Indonesia by default, in English on request', async () => {
    const h = harness();
    const id = await h.get('/ilp/visits?_count=0', A).expect(400);
    expect(id.body.issue[0].diagnostics).toBe('_count: harus bilangan bulat dari 1 sampai 500');
    const en = await h.get('/ilp/visits?from=2026-10-06&to=2026-10-01', A).set('Accept-Language', 'en').expect(400);
    expect(en.body.issue[0]).toMatchObject({ diagnostics: 'to: must be after from', expression: ['to'] });
  });

  it('answers other methods with 405 naming GET and POST', async () => {
    const h = harness();
    const del = await (await import('supertest')).default(h.app).delete('/ilp/visits').set('Authorization', `Bearer ${KEY[A]}`);
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, POST, HEAD, OPTIONS');
  });
});
