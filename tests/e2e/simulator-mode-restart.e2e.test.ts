// Sandbox-simulator mode across a restart: the bundled simulator keeps its data in memory and starts empty, while the
// database keeps the identity cache and the resource ledger. Ids remembered from the previous simulator must not be
// sent to the new one (every later visit would end needs-correction with 20007 "Resource not found").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, DEMO_ADMIN_KEY, DEMO_FACILITY_KEY } from '../../src/service.js';
import { mappingsDir } from '../../src/util/paths.js';
import { callService, captureLines } from './fixtures.js';

const call = callService;

describe('sandbox-simulator mode after a restart on the same DATA_DIR', () => {
  it('a new visit of a known patient and a revision of a sent visit both reach sent at the fresh simulator', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-simrestart-'));
    const env = { PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false' };
    const sample = JSON.parse(fs.readFileSync(path.join(mappingsDir, 'samples', 'infant-posyandu-immunization.visit.json'), 'utf8'));
    const first = await startService(env, { logDestination: captureLines().stream });
    try {
      expect((await call(first, 'POST', '/ilp/visits', DEMO_FACILITY_KEY, sample)).status).toBe(202);
      expect((await call(first, 'POST', '/sync/run?wait=true', DEMO_ADMIN_KEY)).body.sent).toBe(1);
    } finally {
      await first.close();
    }

    const second = await startService(env, { logDestination: captureLines().stream });
    try {
      const another = { ...sample, visitId: `${sample.visitId}-B` };
      const revised = { ...sample, end: String(sample.end).replace(/:(\d\d):/, (_m: string, mm: string) => `:${String((Number(mm) + 1) % 60).padStart(2, '0')}:`) };
      expect(revised.end).not.toBe(sample.end);
      expect((await call(second, 'POST', '/ilp/visits', DEMO_FACILITY_KEY, [another, revised])).body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'revised']);
      await call(second, 'POST', '/sync/run?wait=true', DEMO_ADMIN_KEY);
      for (const v of [another, revised]) {
        const st = await call(second, 'GET', `/ilp/visits/${v.organizationId}/${v.visitId}`, DEMO_FACILITY_KEY);
        expect({ visit: v.visitId, state: st.body.state, lastError: st.body.lastError }).toEqual({ visit: v.visitId, state: 'sent', lastError: undefined });
        const enc = String(st.body.resources.encounter).split('/')[1]!;
        expect(second.simulator!.state.get('Encounter', enc)).toBeDefined();
      }
    } finally {
      await second.close();
    }
  });
});
