// Two service processes on one PostgreSQL database, as behind a load balancer: a spreadsheet uploaded to instance A
// is polled on instance B (the job's record is the store's), another facility sees no trace of it on either, and the
// quota use over the last hour that B reports counts the platform requests A made; a console session signed in on A
// works on B and signed out on B is refused by A. Skipped loudly without PostgreSQL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator } from '../../src/simulator/server.js';
import { compileService, type CompiledService } from './helpers/compile-service.js';
import { call, serviceProcessEnv, startServiceProcess, type ServiceProcess } from './helpers/service-process.js';
import { SAMPLE } from '../import/helpers.js';
import { eventually } from '../helpers/eventually.js';
import { describePostgres } from '../store/helpers/postgres.js';

const [ORG, OTHER] = ['10000411', '10000412'];
const ADMIN = 'Wm4c-Zt8pQx2NbVr6kLs1yHf9DgJa3Ue'; // random: ADMIN_API_KEY must pass the key-strength rule
const facility = (org: string) => ({ organizationId: org, clientId: `client-${org}`, clientSecret: `secret-${org}-pg-x9`, apiKey: `facility-key-${org}-pg-0123456789` });
const [A, B] = [facility(ORG), facility(OTHER)];

async function signIn(url: string, apiKey: string): Promise<{ cookie: string; csrf: string }> {
  const login = await fetch(`${url}/console/login`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `apiKey=${apiKey}`,
  });
  expect(login.status).toBe(303);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${url}/console/upload`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
}

describePostgres('two instances on one PostgreSQL database: import jobs, quota use and console sessions', (server) => {
  let work: string;
  let svc: CompiledService;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-pg-instances-'));
    svc = compileService(path.join(work, 'app'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('answers the poll of a job on the other instance, keeps it to its facility, counts every instance in the quota use, shares console sessions', async () => {
    const sim = await startSimulator({ port: 0, clients: [A, B].map((f) => ({ clientId: f.clientId, clientSecret: f.clientSecret, organizationId: f.organizationId })) });
    const databaseUrl = await server().newDatabase();
    const dir = fs.mkdtempSync(path.join(work, 'run-'));
    const env = serviceProcessEnv(dir, path.join(dir, 'data'), sim.url, 'POSY-MAWAR-01', [A, B], ADMIN, {
      DATABASE_URL: databaseUrl, DATABASE_POOL_MAX: '4', SYNC_ENABLED: 'false', SYNC_ON_INGEST: 'false', VALIDATE_WORKERS: '0',
    }, 150);
    const output: string[] = [];
    const live: ServiceProcess[] = [];
    try {
      live.push(await startServiceProcess(svc, env, output));
      live.push(await startServiceProcess(svc, env, output));
      const [one, two] = live.map((p) => p.url) as [string, string];

      const s = await signIn(one, A.apiKey);
      const form = new FormData();
      form.append('_csrf', s.csrf);
      form.append('template', 'posyandu');
      form.append('file', new Blob([fs.readFileSync(SAMPLE)]), 'register.csv');
      const res = await fetch(`${one}/console/upload`, { method: 'POST', redirect: 'manual', headers: { cookie: s.cookie }, body: form });
      expect(res.status).toBe(303);
      const jobPath = res.headers.get('location')!;

      // The poll lands on the other instance (its own session, as a load balancer without sticky sessions would do).
      const onTwo = await signIn(two, A.apiKey);
      let page = '';
      await eventually(async () => (page = await (await fetch(`${two}${jobPath}`, { headers: { cookie: onTwo.cookie } })).text()).includes('id="summary"'), 'the job to finish, seen on instance two');
      expect(page).toContain('Selesai: 3 baris dibaca; diimpor 3 (baru 3, direvisi 0, tidak berubah 0); ditolak 0.');
      const other = await signIn(two, B.apiKey);
      expect((await fetch(`${two}${jobPath}`, { headers: { cookie: other.cookie } })).status).toBe(404);
      expect((await fetch(`${one}${jobPath}`, { headers: { cookie: (await signIn(one, B.apiKey)).cookie } })).status).toBe(404);

      // Instance one delivers; instance two, which made no platform request, reports them.
      expect((await call(one, 'POST', '/sync/run?wait=true', ADMIN)).body).toMatchObject({ sent: 3 });
      const overview = await call(two, 'GET', `/ilp/facilities/${ORG}`, A.apiKey);
      expect(overview.body.quotaLastHour).toMatchObject({ scope: 'all-instances', quotaPerMinute: 150, capacity: 9000 });
      // A token and, per visit, at least the transaction: every request counted once, whichever instance asks.
      expect(overview.body.quotaLastHour.requests).toBeGreaterThanOrEqual(4);
      expect((await call(one, 'GET', `/ilp/facilities/${ORG}`, A.apiKey)).body.quotaLastHour.requests).toBe(overview.body.quotaLastHour.requests);
      // The other facility's use is its own: the start-up token probe (one token for both instances), no deliveries.
      const otherUse = (await call(two, 'GET', `/ilp/facilities/${OTHER}`, B.apiKey)).body.quotaLastHour.requests;
      expect(otherUse).toBeLessThan(overview.body.quotaLastHour.requests);
      expect((await call(one, 'GET', `/ilp/facilities/${OTHER}`, B.apiKey)).body.quotaLastHour.requests).toBe(otherUse);

      // One console session, every instance: signed in on one, a requeue with its CSRF token on two (a sent visit: 303
      // with the "not final" message), that message shown on one, signed out on two → one refuses the cookie.
      const [visitId] = (await call(one, 'GET', '/ilp/visits?state=sent', A.apiKey)).body.items.map((v: { visitId: string }) => v.visitId);
      const form2 = (fields: Record<string, string>) => ({
        method: 'POST', redirect: 'manual' as const, headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
      });
      const requeue = await fetch(`${two}/console/requeue`, form2({ _csrf: s.csrf, organizationId: ORG, visitId }));
      expect([requeue.status, requeue.headers.get('location')]).toEqual([303, '/console/attention']);
      expect(await (await fetch(`${one}/console/attention`, { headers: { cookie: s.cookie } })).text()).toContain(`Kunjungan ${visitId} tidak dapat diantrekan kembali`);
      expect((await fetch(`${two}/console/requeue`, form2({ _csrf: 'not-the-token', organizationId: ORG, visitId }))).status).toBe(403);
      expect((await fetch(`${two}/console/logout`, form2({ _csrf: s.csrf }))).status).toBe(303);
      expect((await fetch(`${one}/console/attention`, { headers: { cookie: s.cookie } })).status).toBe(401);
      expect((await fetch(`${two}/console/attention`, { headers: { cookie: s.cookie } })).status).toBe(401);
      expect(output.join('\n')).not.toContain('3273016712240003');
      expect(output.join('\n')).not.toContain(s.cookie.split('=')[1]!);
    } finally {
      for (const p of live) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
      await sim.close();
      await server().dropDatabase(databaseUrl);
    }
  }, 120_000);
});
