// The assembled service answers the query endpoints: after a push and a sync run, the facility overview shows the
// delivery and this process's quota use; a refused push is listed as a rejection; the list pages.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, DEMO_ADMIN_KEY, DEMO_FACILITY_KEY } from '../../src/service.js';
import { makeVisit } from './fixtures.js';

const ORG = '10000004'; // the sample facility of sandbox-simulator mode

describe('query endpoints of the running service (sandbox-simulator mode)', () => {
  it('lists visits and rejections and gives the facility overview with quota use', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-q-'));
    const svc = await startService({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, SYNC_ENABLED: 'false', LOG_LEVEL: 'silent' });
    const call = async (method: string, p: string, key: string, body?: unknown) => {
      const res = await fetch(`${svc.url}${p}`, {
        method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    try {
      await svc.probed;
      const visit = { ...makeVisit(0, { organizationId: ORG }), visitId: '2026/10/0001', locationCode: 'POSY-MAWAR-01' };
      expect((await call('POST', '/ilp/visits', DEMO_FACILITY_KEY, visit)).status).toBe(202);
      expect((await call('POST', '/ilp/visits', DEMO_FACILITY_KEY, { ...visit, visitId: 'BAD-1', setting: 'kapal' })).status).toBe(422);
      const run = await call('POST', '/sync/run?wait=true', DEMO_ADMIN_KEY);
      expect(run.body.sent).toBe(1);

      const list = await call('GET', '/ilp/visits?state=sent', DEMO_FACILITY_KEY);
      expect(list.body.items.map((v: { visitId: string }) => v.visitId)).toEqual(['2026/10/0001']);
      expect((await call('GET', `/ilp/visits/${ORG}/2026/10/0001`, DEMO_FACILITY_KEY)).body.state).toBe('sent');
      const rejections = await call('GET', '/ilp/rejections', DEMO_FACILITY_KEY);
      expect(rejections.body.items).toEqual([expect.objectContaining({ organizationId: ORG, visitId: 'BAD-1' })]);
      const overview = await call('GET', `/ilp/facilities/${ORG}`, DEMO_FACILITY_KEY);
      expect(overview.body).toMatchObject({ organizationId: ORG, configured: true, status: 'active', counts: { sent: 1 }, lastSentAt: expect.any(String) });
      expect(overview.body.quotaLastHour).toMatchObject({ scope: 'all-instances', quotaPerMinute: expect.any(Number) });
      // The token, the searches and the transaction all count against the quota.
      expect(overview.body.quotaLastHour.requests).toBeGreaterThanOrEqual(2);
      expect(overview.body.quotaNote).toMatch(/setiap instans layanan/);
      expect((await call('GET', '/ilp/facilities', DEMO_ADMIN_KEY)).body.items).toHaveLength(1);
    } finally {
      await svc.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
