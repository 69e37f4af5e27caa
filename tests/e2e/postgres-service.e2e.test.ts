// The service on PostgreSQL, end to end: the real service process (src/main.ts) started with DATABASE_URL pointing at a
// throwaway PostgreSQL database and the bundled simulator as its platform; a visit pushed over HTTP is delivered, and
// `ilp-adapter visits list` (the CLI process) on the same database shows it sent. No SQLite file is made on the way.
// Twice: a configured facility on a simulator of its own, and sandbox-simulator mode (nothing configured but the
// database: the simulator the service bundles).
// Skipped loudly without PostgreSQL (REQUIRE_POSTGRES=1 turns the skip into a failure), like the other PG suites.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startSimulator } from '../../src/simulator/server.js';
import { DEMO_ADMIN_KEY, DEMO_FACILITY_KEY, startService } from '../../src/service.js';
import { compileService, type CompiledService } from './helpers/compile-service.js';
import { call, serviceProcessEnv, startServiceProcess, type ServiceProcess } from './helpers/service-process.js';
import { LOCATION, makeVisit } from './fixtures.js';
import { describePostgres } from '../store/helpers/postgres.js';

const run = promisify(execFile);
const ORG = '10000401';
const ADMIN = 'Qp7v-Lk2sWn9XcRt4yHb0mZeUa8dFgJ3'; // random: ADMIN_API_KEY must pass the key-strength rule
const KEY = `facility-key-${ORG}-pg-0123456789`;
const CRED = { clientId: `client-${ORG}`, clientSecret: `secret-${ORG}-pg-x9` };
const ENC = `http://sys-ids.kemkes.go.id/encounter/${ORG}`;

describePostgres('the service on PostgreSQL (DATABASE_URL=postgres://…)', (server) => {
  let work: string;
  let svc: CompiledService;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-pg-service-'));
    svc = compileService(path.join(work, 'app'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('delivers a visit pushed over HTTP, and `ilp-adapter visits list` on the same database shows it sent', async () => {
    const sim = await startSimulator({ port: 0, clients: [{ ...CRED, organizationId: ORG }] });
    const databaseUrl = await server().newDatabase();
    const dir = fs.mkdtempSync(path.join(work, 'run-'));
    const dataDir = path.join(dir, 'data');
    const env = serviceProcessEnv(dir, dataDir, sim.url, LOCATION, [{ organizationId: ORG, ...CRED, apiKey: KEY }], ADMIN, {
      DATABASE_URL: databaseUrl, DATABASE_POOL_MAX: '4', SYNC_ENABLED: 'false', SYNC_ON_INGEST: 'false',
    });
    const output: string[] = [];
    let p: ServiceProcess | undefined;
    try {
      p = await startServiceProcess(svc, env, output);
      const visit = makeVisit(0, { organizationId: ORG });
      const pushed = await call(p.url, 'POST', '/ilp/visits', KEY, visit);
      expect(pushed.status).toBe(202);
      const synced = await call(p.url, 'POST', '/sync/run?wait=true', ADMIN);
      expect(synced.body).toMatchObject({ sent: 1 });
      expect(sim.state.findByIdentifier('Encounter', ENC, visit.visitId)).toHaveLength(1);

      // The CLI reads the same PostgreSQL database (and the same data key, from DATA_DIR) while the service runs.
      const listed = await run(process.execPath, [svc.cli, 'visits', 'list', '--format', 'json', '--organization', ORG], { env, cwd: svc.root });
      const page = JSON.parse(listed.stdout) as { items: Array<{ organizationId: string; visitId: string; state: string }> };
      expect(page.items.map((v) => [v.organizationId, v.visitId, v.state])).toEqual([[ORG, visit.visitId, 'sent']]);

      // The row is PostgreSQL's, its body sealed (no NIK in clear); nothing went to SQLite, and the database URL (it may carry a password) is in no log line.
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const rows = (await db.query('SELECT org, visit_id, state, record FROM visits')).rows as Array<{ org: string; visit_id: string; state: string; record: string }>;
        expect(rows.map((r) => [r.org, r.visit_id, r.state])).toEqual([[ORG, visit.visitId, 'sent']]);
        expect(rows[0]!.record).not.toContain(visit.patient.nik);
      } finally {
        await db.end();
      }
      expect(fs.existsSync(path.join(dataDir, 'ilp-adapter.db'))).toBe(false);
      expect(output.join('\n')).not.toContain(databaseUrl);
    } finally {
      if (p) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
      await sim.close();
      await server().dropDatabase(databaseUrl);
    }
  }, 60_000);

  it('in sandbox-simulator mode (the bundled simulator) too: pushed, delivered, listed as sent by the CLI', async () => {
    const databaseUrl = await server().newDatabase();
    const dataDir = fs.mkdtempSync(path.join(work, 'sandbox-'));
    const env = { PATH: process.env.PATH, DATA_DIR: dataDir, DATABASE_URL: databaseUrl };
    const service = await startService({ ...env, PORT: '0', HOST: '127.0.0.1', SYNC_ENABLED: 'false', LOG_LEVEL: 'silent' });
    try {
      await service.probed;
      const visit = { ...makeVisit(1, { organizationId: '10000004' }), locationCode: 'POSY-MAWAR-01' };
      expect((await call(service.url, 'POST', '/ilp/visits', DEMO_FACILITY_KEY, visit)).status).toBe(202);
      expect((await call(service.url, 'POST', '/sync/run?wait=true', DEMO_ADMIN_KEY)).body).toMatchObject({ sent: 1 });
      const listed = await run(process.execPath, [svc.cli, 'visits', 'list', '--format', 'json'], { env, cwd: svc.root });
      const page = JSON.parse(listed.stdout) as { items: Array<{ visitId: string; state: string }> };
      expect(page.items.map((v) => [v.visitId, v.state])).toEqual([[visit.visitId, 'sent']]);
      expect(fs.existsSync(path.join(dataDir, 'ilp-adapter.db'))).toBe(false);
    } finally {
      await service.close();
      await server().dropDatabase(databaseUrl);
    }
  }, 60_000);
});
