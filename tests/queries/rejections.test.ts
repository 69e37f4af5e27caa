// A record refused at push is kept as a rejection entry (issues at source fields, never the content) and listed by
// GET /ilp/rejections; entries older than the retention are purged in bounded batches.
import { A, B, harness, NOW, visits } from './harness.js';
import { PURGE_BATCH, DAY_MS, recordRejections } from '../../src/app/rejections.js';

describe('rejections', () => {
  it('keeps a refused single record and refused batch members, with their issues as answered and no personal data', async () => {
    const h = harness();
    const [bad] = visits(A, 1, { measurements: [{ code: 'body-weight', value: 12, unit: 'lbs' }] });
    const single = await h.push(A, bad).expect(422);
    const good = visits(A, 1);
    const [bad2] = visits(A, 1, { visitId: '2026/10/0001', setting: 'kapal' });
    await h.push(A, [good[0], bad2, { visitId: 'no org', organizationId: 42 }, 'not an object']).expect(207);

    const r = await h.get('/ilp/rejections', A).expect(200);
    expect(r.body.items).toHaveLength(4);
    const [notObject, noOrg, second, first] = r.body.items;
    expect(first).toEqual({ organizationId: A, visitId: bad!.visitId, at: NOW.toISOString(), issues: single.body.issue.map(({ severity, code, expression, diagnostics }: Record<string, unknown>) => ({ severity, code, expression, diagnostics })) });
    expect(first.issues[0].expression).toEqual(['measurements[0].unit']);
    // Batch entries keep the source field without the batch index prefix of the answer.
    expect(second.visitId).toBe('2026/10/0001');
    expect(second.issues.some((i: { expression?: string[] }) => i.expression?.[0] === 'setting')).toBe(true);
    // An ill-formed visitId is not kept (it could hold anything); the entry is filed under the key's organization.
    expect(noOrg).not.toHaveProperty('visitId');
    expect(noOrg.organizationId).toBe(A);
    expect(notObject.issues[0].code).toBe('structure');
    for (const v of [bad!, bad2!]) {
      expect(r.text).not.toContain(v.patient.nik);
      expect(r.text).not.toContain(v.patient.name);
    }
    // Nothing of it is visible to another facility; the admin sees it and may narrow by organization.
    expect((await h.get('/ilp/rejections', B).expect(200)).body.items).toEqual([]);
    expect((await h.get(`/ilp/rejections?organization=${A}`, 'admin').expect(200)).body.items).toHaveLength(4);
    await h.get(`/ilp/rejections?organization=${A}`, B).expect(403);
  });

  it('pages, filters by time and visitId prefix, and refuses bad parameters at the parameter', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) {
      h.setNow(NOW.getTime() + i * 60_000);
      await h.push(A, visits(A, 1, { visitId: `R-${i}`, setting: 'kapal' })[0]).expect(422);
    }
    const p1 = await h.get('/ilp/rejections?_count=2', A).expect(200);
    expect(p1.body.items.map((x: { visitId: string }) => x.visitId)).toEqual(['R-4', 'R-3']);
    const p2 = await h.get(`/ilp/rejections?_count=2&cursor=${p1.body.nextCursor}`, A).expect(200);
    const p3 = await h.get(`/ilp/rejections?_count=2&cursor=${p2.body.nextCursor}`, A).expect(200);
    expect([...p2.body.items, ...p3.body.items].map((x: { visitId: string }) => x.visitId)).toEqual(['R-2', 'R-1', 'R-0']);
    expect(p3.body).not.toHaveProperty('nextCursor');
    const since = encodeURIComponent(new Date(NOW.getTime() + 2 * 60_000).toISOString());
    expect((await h.get(`/ilp/rejections?since=${since}`, A).expect(200)).body.items).toHaveLength(3);
    expect((await h.get('/ilp/rejections?q=R-1', A).expect(200)).body.items).toHaveLength(1);
    for (const [query, parameter] of [['since=soon', 'since'], ['until=2026-13-01', 'until'], ['_count=-1', '_count'],
      [`cursor=${p1.body.nextCursor.slice(0, -4)}`, 'cursor'], ['state=queued', 'state'], ['since=2026-11-20&until=2026-11-19', 'until']]) {
      const bad = await h.get(`/ilp/rejections?${query}`, A).expect(400);
      expect(bad.body.issue[0].expression).toEqual([parameter]);
    }
    // A visit-list cursor is not a rejections cursor.
    await h.push(A, visits(A, 2)).expect(202);
    const visitsPage = await h.get('/ilp/visits?_count=1', A).expect(200);
    expect((await h.get(`/ilp/rejections?cursor=${visitsPage.body.nextCursor}`, A).expect(400)).body.issue[0].expression).toEqual(['cursor']);
  });

  it('purges entries past the retention at the next push with rejections, a bounded batch at a time', async () => {
    const h = harness();
    const old = Array.from({ length: PURGE_BATCH + 5 }, (_, i) => ({ organizationId: A, visitId: `OLD-${i}`, at: NOW.getTime() - 31 * DAY_MS, issues: [] }));
    await h.store.addRejections(old);
    await h.store.addRejections([{ organizationId: A, visitId: 'RECENT', at: NOW.getTime() - 29 * DAY_MS, issues: [] }]);
    await recordRejections(h.store, [{ organizationId: A, visitId: 'NEW', at: NOW.getTime(), issues: [] }], NOW.getTime(), 30);
    expect(await h.store.listRejections({ limit: 1000 })).toHaveLength(5 + 2);
    await recordRejections(h.store, [], NOW.getTime(), 30);
    expect((await h.store.listRejections({ limit: 1000 })).map((r) => r.visitId)).toEqual(['NEW', 'RECENT']);
  });

  it('answers the push even when the rejection cannot be kept (logged without content)', async () => {
    const h = harness();
    const [bad] = visits(A, 1, { setting: 'kapal' });
    h.store.addRejections = () => {
      throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    };
    await h.push(A, bad).expect(422);
    expect(h.logs()).toMatch(/could not keep rejection entries/);
    expect(h.logs()).not.toContain(bad!.patient.nik);
  });
});
