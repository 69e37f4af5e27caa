// Clean shutdown as an orchestrator sees it: the service runs as its own OS process (src/main.ts), a scheduled tick is
// frozen mid-delivery (the holding proxy keeps committed transactions' answers back), and SIGTERM arrives. The process
// must refuse new work with 503 at once, exit 0 within SHUTDOWN_GRACE_MS (plus start-up/exit slack), say it stopped,
// and after a restart on the same DATA_DIR every acknowledged visit is at the platform exactly once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator } from '../../src/simulator/server.js';
import { compileService, type CompiledService } from './helpers/compile-service.js';
import { startHoldingProxy } from './helpers/holding-proxy.js';
import { call, kill9, serviceProcessEnv, startServiceProcess, type ServiceProcess } from './helpers/service-process.js';
import { LOCATION, makeVisit } from './fixtures.js';
import { eventually, HANG_MS } from '../helpers/eventually.js';

const ORG = '10000401';
const ADMIN = 'F1k8FYhJmeKU2fgzuUkXk3L0SUXz3ZeB'; // random: ADMIN_API_KEY must pass the key-strength rule
const KEY = `facility-key-${ORG}-0123456789`;
const CRED = { clientId: `client-${ORG}`, clientSecret: `secret-${ORG}-stop-x9` };
const ENC = `http://sys-ids.kemkes.go.id/encounter/${ORG}`;
const GRACE_MS = 2_000;

function serviceEnv(dir: string, dataDir: string, platformUrl: string): NodeJS.ProcessEnv {
  return serviceProcessEnv(dir, dataDir, platformUrl, LOCATION, [{ organizationId: ORG, ...CRED, apiKey: KEY }], ADMIN, {
    SYNC_CRON: '* * * * * *', // a scheduled tick every second: the signal lands in one
    SYNC_ON_INGEST: 'false',
    SYNC_LEASE_MS: '1500', // the abandoned claims are due again 1.5 s after the exit
    SYNC_BACKOFF_BASE_MS: '50',
    SYNC_BACKOFF_MAX_MS: '400',
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
  });
}

describe('SIGTERM during a scheduled tick', () => {
  let work: string;
  let svc: CompiledService;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-stop-'));
    svc = compileService(path.join(work, 'app'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('refuses new pushes with 503, exits 0 within the grace, logs that it stopped; after restart each visit is sent once', async () => {
    const sim = await startSimulator({ port: 0, clients: [{ ...CRED, organizationId: ORG }], quotaPerMinute: 0 });
    // Once the platform holds 3 visits, every further transaction is committed but its answer kept from the service:
    // deliveries are in flight (for up to the 30 s platform timeout) when the signal comes, by construction.
    const proxy = await startHoldingProxy(sim.url, () => sim.state.count('Encounter', ORG) >= 3);
    const dir = fs.mkdtempSync(path.join(work, 'run-'));
    const env = serviceEnv(dir, path.join(dir, 'data'), proxy.url);
    const output: string[] = [];
    const visits = Array.from({ length: 12 }, (_, i) => makeVisit(i, { organizationId: ORG }));
    const late = Array.from({ length: 3 }, (_, i) => makeVisit(100 + i, { organizationId: ORG }));
    let p: ServiceProcess | undefined;
    try {
      p = await startServiceProcess(svc, env, output);
      const pushed = await call(p.url, 'POST', '/ilp/visits', KEY, visits);
      expect({ status: pushed.status, accepted: pushed.body.accepted }).toEqual({ status: 202, accepted: 12 });
      await eventually(() => proxy.held >= 1, 'a scheduled tick holding a committed, unanswered transaction');

      const signalLine = output.length;
      p.child.kill('SIGTERM');
      await eventually(() => output.slice(signalLine).some((l) => l.includes('"msg":"shutting down')), 'the shutdown log line');
      // Draining: answered at once, nothing accepted.
      const refused = await fetch(`${p.url}/ilp/visits`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(late),
      });
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await refused.json()).issue[0].code).toBe('transient');

      // The proxy holds the platform's answers, so a service that waited for its deliveries would wait for the platform
      // timeout and abandon none: exit 0 with deliveries abandoned proves the grace bound without timing it.
      const exit = await p.exited;
      p = undefined;
      expect(exit).toEqual({ code: 0, signal: null });
      const stopped = output.filter((l) => l.includes('"msg":"ilp-adapter stopped"'));
      expect(stopped).toHaveLength(1);
      // The grace really cut deliveries short (their answers were held): they were left to their lease, not recorded.
      expect(JSON.parse(stopped[0]!).deliveriesAbandoned).toBeGreaterThan(0);

      proxy.pass();
      p = await startServiceProcess(svc, env, output);
      const url = p.url;
      await eventually(async () => (await call(url, 'GET', '/sync/status', ADMIN)).body.counts.sent === 12, 'all 12 visits sent after the restart');
      for (const v of visits) {
        const st = await call(url, 'GET', `/ilp/visits/${ORG}/${v.visitId}`, KEY);
        expect({ visit: v.visitId, state: st.body.state }).toEqual({ visit: v.visitId, state: 'sent' });
        expect({ visit: v.visitId, encounters: sim.state.findByIdentifier('Encounter', ENC, v.visitId).length }).toEqual({ visit: v.visitId, encounters: 1 });
      }
      expect(sim.state.count('Encounter', ORG)).toBe(12);
      // The push refused while draining stored nothing.
      for (const v of late) expect((await call(url, 'GET', `/ilp/visits/${ORG}/${v.visitId}`, KEY)).status).toBe(404);
    } finally {
      if (p) await kill9(p);
      await proxy.close();
      await sim.close();
    }
  }, 3 * HANG_MS);
});
