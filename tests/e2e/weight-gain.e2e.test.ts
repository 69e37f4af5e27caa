// The KMS weight-gain status from a weighing the service holds: a child's monthly Posyandu visits pushed one by one (none
// carrying its previous weighing) reach SATUSEHAT with naik / tidak naik worked out from the visit before, at the real service.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, DEMO_ADMIN_KEY, DEMO_FACILITY_KEY, type RunningService } from '../../src/service.js';
import { mappingsDir } from '../../src/util/paths.js';
import Database from 'better-sqlite3';
import { DEFAULT_DB_FILE } from '../../src/store/index.js';
import { captureLines } from './fixtures.js';

type Rec = Record<string, any>;
const toddler = (): Rec => JSON.parse(fs.readFileSync(path.join(mappingsDir, 'samples', 'toddler-growth-monitoring.visit.json'), 'utf8'));

/** The sample child weighed on another day (no vaccines that day). */
function weighing(visitId: string, day: string, kg: number): Rec {
  const r = toddler();
  r.visitId = visitId;
  r.start = `${day}T09:15:00+07:00`;
  r.end = `${day}T09:30:00+07:00`;
  r.measurements.find((m: Rec) => m.code === 'body-weight').value = kg;
  delete r.immunizations;
  return r;
}

async function call(svc: RunningService, method: string, p: string, key: string, body?: unknown) {
  const res = await fetch(`${svc.url}${p}`, {
    method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Rec };
}

describe('weight gain from the weighing the service holds', () => {
  it('first weighing: not assessable; a month later +300 g at 21 months: naik; the next month −100 g: tidak naik', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-kms-'));
    const svc = await startService({ PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false' }, { logDestination: captureLines().stream });
    try {
      const visits = [weighing('KMS-2026-09', '2026-09-05', 9.5), weighing('KMS-2026-10', '2026-10-05', 9.8), weighing('KMS-2026-11', '2026-11-05', 9.7)];
      const org = visits[0]!.organizationId as string;
      for (const v of visits) expect((await call(svc, 'POST', '/ilp/visits', DEMO_FACILITY_KEY, v)).status).toBe(202);
      expect((await call(svc, 'POST', '/sync/run?wait=true', DEMO_ADMIN_KEY)).status).toBe(200);

      const status = async (visitId: string) => {
        const view = await call(svc, 'GET', `/ilp/visits/${org}/${visitId}`, DEMO_FACILITY_KEY);
        expect({ visitId, state: view.body.state, error: view.body.lastError }).toEqual({ visitId, state: 'sent', error: undefined });
        const [hit] = svc.simulator!.state.findByIdentifier('Observation', `http://sys-ids.kemkes.go.id/observation/${org}`, `${visitId}.weight-gain.1`) as Rec[];
        return { sentKey: 'observation/weight-gain.1' in view.body.resources, code: hit?.valueCodeableConcept?.coding?.[0]?.code as string | undefined };
      };
      expect(await status('KMS-2026-09')).toEqual({ sentKey: false, code: undefined });
      expect(await status('KMS-2026-10')).toEqual({ sentKey: true, code: '161831008' }); // SNOMED weight increasing
      expect(await status('KMS-2026-11')).toEqual({ sentKey: true, code: 'OC000146' });

      // The weighings the service keeps name the child by a keyed hash only, never the NIK.
      const db = new Database(path.join(dir, DEFAULT_DB_FILE), { readonly: true });
      try {
        const rows = db.prepare('SELECT * FROM weighings ORDER BY measured_on').all() as Rec[];
        expect(rows.map((w) => [w.visit_id, w.measured_on, w.weight_g])).toEqual([['KMS-2026-09', '2026-09-05', 9500], ['KMS-2026-10', '2026-10-05', 9800], ['KMS-2026-11', '2026-11-05', 9700]]);
        expect(new Set(rows.map((w) => w.child_key)).size).toBe(1);
        expect(JSON.stringify(rows)).not.toContain(visits[0]!.patient.nik);
      } finally {
        db.close();
      }
    } finally {
      await svc.close();
    }
  });
});
