// POST /ilp/visits refuses a locationCode that the facilities file does not configure for the record's organization:
// 422 at `locationCode`, listing the configured codes, nothing stored (before, it was accepted and blocked at sync).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, DEMO_FACILITY_KEY, type RunningService } from '../../src/service.js';
import { mappingsDir } from '../../src/util/paths.js';
import { logCapture } from './helpers.js';

const sample = JSON.parse(readFileSync(path.join(mappingsDir, 'samples', 'toddler-growth-monitoring.visit.json'), 'utf8')) as Record<string, unknown>;
// Sandbox-simulator mode: config/facilities.simulator.json configures these codes for 10000004.
const CONFIGURED = 'POSY-LANSIA-02, POSY-MAWAR-01, POSY-MELATI-03, PUSTU-SUKALUYU, R-KIA-01, UKS-SDN-01';

describe('POST /ilp/visits: locationCode must be configured for the facility', () => {
  let svc: RunningService;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ingest-loc-'));
    svc = await startService({ PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false', VALIDATE_WORKERS: '0' }, { logger: logCapture().logger });
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const push = async (body: unknown, lang?: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${DEMO_FACILITY_KEY}`, 'content-type': 'application/json', ...(lang ? { 'accept-language': lang } : {}) };
    const r = await fetch(`${svc.url}/ilp/visits`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any, vary: r.headers.get('vary') };
  };

  it('one record: 422 at locationCode naming the configured codes, never echoing the code; nothing stored', async () => {
    const r = await push({ ...sample, visitId: 'LOC-1', locationCode: 'POSY-3171012501900001' }, 'en');
    expect(r.status).toBe(422);
    expect(r.body.issue).toEqual([expect.objectContaining({
      severity: 'error', code: 'code-invalid', expression: ['locationCode'],
      diagnostics: `This location code is not configured for organization 10000004; configured: ${CONFIGURED}. Correct the record, or add the code to the facilities file (locations) and restart`,
    })]);
    expect(JSON.stringify(r.body)).not.toContain('3171012501900001');
    // Without Accept-Language: Bahasa Indonesia, the same codes listed.
    const id = await push({ ...sample, visitId: 'LOC-1', locationCode: 'POSY-3171012501900001' });
    expect(id.status).toBe(422);
    expect(id.vary).toMatch(/Accept-Language/i);
    expect(id.body.issue[0].diagnostics).toBe(`Kode lokasi ini tidak dikonfigurasi untuk organisasi 10000004; yang dikonfigurasi: ${CONFIGURED}. Perbaiki catatannya, atau tambahkan kode itu ke berkas fasilitas (locations) lalu jalankan ulang layanan`);
    expect(await svc.store.getVisit('10000004', 'LOC-1')).toBeUndefined();
  });

  it('with other problems in the same record, every issue is listed; in a batch, only that record is refused (207)', async () => {
    const both = await push({ ...sample, visitId: 'LOC-2', locationCode: 'NOWHERE', start: 'yesterday' });
    expect(both.status).toBe(422);
    const fields = both.body.issue.map((i: { expression?: string[] }) => i.expression?.[0]);
    expect(fields).toContain('locationCode');
    expect(fields).toContain('start');

    const batch = await push([{ ...sample, visitId: 'LOC-3', locationCode: 'NOWHERE' }, { ...sample, visitId: 'LOC-4' }]);
    expect(batch.status).toBe(207);
    expect(batch.body.results.map((x: { status: string }) => x.status)).toEqual(['rejected', 'created']);
    expect(batch.body.results[0].outcome.issue[0].expression).toEqual(['[0].locationCode']);
    expect((await svc.store.getVisit('10000004', 'LOC-4'))?.state).toBe('queued');
  });
});
