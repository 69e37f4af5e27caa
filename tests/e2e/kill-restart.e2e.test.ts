// The real crash test: the service runs as its own OS process (src/main.ts, transpiled without a build) and is killed
// with SIGKILL — once in the middle of a sync run, once while a batch POST /ilp/visits is in flight — then started
// again on the same DATA_DIR. The simulator runs in this test process so its state can be watched and inspected.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator } from '../../src/simulator/server.js';
import { SYS } from '../../src/simulator/core.js';
import { openStore } from '../../src/store/index.js';
import { loadMappingTables, mapVisit, type MappingTables } from '../../src/mapping/index.js';
import { compileService, type CompiledService } from './helpers/compile-service.js';
import { startHoldingProxy } from './helpers/holding-proxy.js';
import { call, kill9, serviceProcessEnv, startServiceProcess as startProcess, type ServiceProcess } from './helpers/service-process.js';
import { LOCATION, makeVisit } from './fixtures.js';
import { eventually, HANG_MS } from '../helpers/eventually.js';

const ENC = (org: string) => `http://sys-ids.kemkes.go.id/encounter/${org}`;
const OBS = (org: string) => `http://sys-ids.kemkes.go.id/observation/${org}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ORGS = ['10000301', '10000302', '10000303'];
const ADMIN = 'JM2Y-Ox5gvnWUobd0nQFPLaCmbMaSbYh'; // random: ADMIN_API_KEY must pass the key-strength rule
const keyOf = (org: string) => `facility-key-${org}-0123456789`;
const credOf = (org: string) => ({ clientId: `client-${org}`, clientSecret: `secret-${org}-kill-x9` });

type Visit = ReturnType<typeof makeVisit>;

/** Every line either service process wrote (stdout and stderr), and every NIK pushed, for the PII assertions. */
const output: string[] = [];
const pushedNiks = new Set<string>();

function serviceEnv(dir: string, dataDir: string, platformUrl: string): NodeJS.ProcessEnv {
  return serviceProcessEnv(dir, dataDir, platformUrl, LOCATION, ORGS.map((org) => ({ organizationId: org, ...credOf(org), apiKey: keyOf(org) })), ADMIN, {
    SYNC_ENABLED: 'false', // runs only on POST /sync/run
    SYNC_LEASE_MS: '1500', // a killed run's claims are due again 1.5 s later
    SYNC_BACKOFF_BASE_MS: '50',
    SYNC_BACKOFF_MAX_MS: '400',
    SYNC_MAX_ATTEMPTS: '30',
  });
}

const startServiceProcess = (svc: CompiledService, env: NodeJS.ProcessEnv) => startProcess(svc, env, output);

/** Pushes visits in batches of `size`, per facility, with that facility's key. */
async function push(url: string, visits: Visit[], size: number): Promise<void> {
  for (const org of ORGS) {
    const mine = visits.filter((v) => v.organizationId === org);
    for (let i = 0; i < mine.length; i += size) {
      const r = await call(url, 'POST', '/ilp/visits', keyOf(org), mine.slice(i, i + size));
      expect({ status: r.status, accepted: r.body?.accepted }).toEqual({ status: 202, accepted: Math.min(size, mine.length - i) });
    }
  }
}

/**
 * A batch POST whose body stops halfway: the service cannot answer it, so it is certainly in flight when the process
 * is killed. `sent` resolves once the first half has been handed to the connection.
 */
function halfSentPost(url: string, p: string, key: string, body: unknown): { sent: Promise<void>; answer: Promise<number | 'cut'> } {
  const data = Buffer.from(JSON.stringify(body));
  const u = new URL(p, url);
  let sent!: () => void;
  const written = new Promise<void>((r) => (sent = r));
  const answer = new Promise<number | 'cut'>((resolve) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': data.length } },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', () => {
      sent();
      resolve('cut');
    });
    req.write(data.subarray(0, data.length >> 1), () => sent());
  });
  return { sent: written, answer };
}

/** Opens the (dead) service's database in this process to look at the outbox as the crash left it. */
async function outboxStates(dataDir: string, visits: Visit[]): Promise<Record<string, number>> {
  const store = await openStore({ url: `sqlite:${path.join(dataDir, 'ilp-adapter.db')}`, dataDir });
  try {
    const n: Record<string, number> = {};
    for (const v of visits) {
      const s = (await store.getVisit(String(v.organizationId), v.visitId))?.state ?? 'missing';
      n[s] = (n[s] ?? 0) + 1;
    }
    return n;
  } finally {
    await store.close();
  }
}

describe('service process killed with SIGKILL and restarted on the same DATA_DIR', () => {
  let work: string;
  let svc: CompiledService;
  let tables: MappingTables;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-kill-'));
    svc = compileService(path.join(work, 'app'));
    tables = loadMappingTables();
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('mid-sync: nothing lost, every Encounter / Observation / Immunization / Patient exactly once at the platform', async () => {
    const sim = await startSimulator({
      port: 0,
      clients: ORGS.map((org) => ({ ...credOf(org), organizationId: org })),
      quotaPerMinute: 0,
      latencyMs: { min: 10, max: 40 },
      errorRate5xx: 0.03,
      dropAfterCommitRate: 0.06,
      seed: 4242,
    });
    const dir = fs.mkdtempSync(path.join(work, 'sync-'));
    const dataDir = path.join(dir, 'data');
    // The kill comes once the platform holds 40 visits and at least 3 committed transactions whose answers the
    // service never got (the proxy keeps them back from then on): mid-sync by construction, on any machine.
    const encountersAtPlatform = () => ORGS.reduce((n, org) => n + sim.state.count('Encounter', org), 0);
    const proxy = await startHoldingProxy(sim.url, () => encountersAtPlatform() >= 40);
    const env = serviceEnv(dir, dataDir, proxy.url);
    const visits = Array.from({ length: 150 }, (_, i) => makeVisit(i, { organizationId: ORGS[i % 3]!, patients: 100 }));
    for (const v of visits) pushedNiks.add(v.patient.nik);
    let p: ServiceProcess | undefined;
    try {
      p = await startServiceProcess(svc, env);
      await push(p.url, visits, 25);
      expect(await outboxStates(dataDir, visits)).toEqual({ queued: 150 });

      // Start a run and kill the process once the platform holds some of the visits but not all.
      const run = call(p.url, 'POST', '/sync/run?wait=true', ADMIN).then(() => 'finished', () => 'cut');
      await eventually(() => proxy.held >= 3, 'three committed transactions held back from the service');
      const atKill = encountersAtPlatform();
      await kill9(p);
      p = undefined;
      proxy.pass();
      expect(await run).toBe('cut');
      expect(atKill).toBeLessThan(150);

      // The crash really happened mid-sync: claims in flight, work left, and the platform has more than was recorded.
      const left = await outboxStates(dataDir, visits);
      expect(left.sending ?? 0).toBeGreaterThan(0);
      expect(left.sent ?? 0).toBeLessThan(150);
      expect(left.missing).toBeUndefined();

      // Committed at the platform but not recorded as sent: what the restarted process must adopt, not re-create.
      expect(ORGS.reduce((n, org) => n + sim.state.count('Encounter', org), 0)).toBeGreaterThan(left.sent ?? 0);
      const mark = output.length;
      // Restart on the same data and drain with POST /sync/run until every visit is sent. The killed process's claims
      // come due when their lease (SYNC_LEASE_MS of real time) ends; the bound only catches a hang.
      p = await startServiceProcess(svc, env);
      const deadline = Date.now() + HANG_MS;
      for (;;) {
        const run2 = await call(p.url, 'POST', '/sync/run?wait=true', ADMIN);
        expect(run2.status).toBe(200);
        const status = await call(p.url, 'GET', '/sync/status', ADMIN);
        const counts = status.body.counts as Record<string, number>;
        if (counts.sent === 150) break;
        if (counts['needs-correction'] + counts.blocked + counts['dead-letter'] > 0) {
          // Name the visits and why, so a failure says what went wrong.
          const stuck: unknown[] = [];
          for (const v of visits) {
            const st = await call(p.url, 'GET', `/ilp/visits/${v.organizationId}/${v.visitId}`, ADMIN);
            if (!['sent', 'queued', 'sending'].includes(st.body.state)) stuck.push({ visit: v.visitId, state: st.body.state, lastError: st.body.lastError });
          }
          throw new Error(`visits ended in a final state other than sent: ${JSON.stringify(stuck)}`);
        }
        if (Date.now() > deadline) throw new Error(`not drained after restart: ${JSON.stringify(counts)}`);
        await sleep(100);
      }

      const adoptions = output.slice(mark).filter((l) => l.includes('"msg":"reconciled visit with the platform by identifier"') && !l.includes('"adopted":0'));
      expect(adoptions.length).toBeGreaterThan(0);
      let observations = 0;
      let immunizations = 0;
      for (const v of visits) {
        const org = String(v.organizationId);
        const st = await call(p.url, 'GET', `/ilp/visits/${org}/${v.visitId}`, keyOf(org));
        expect({ visit: v.visitId, state: st.body.state }).toEqual({ visit: v.visitId, state: 'sent' });
        const encounters = sim.state.findByIdentifier('Encounter', ENC(org), v.visitId);
        expect({ visit: v.visitId, encounters: encounters.length }).toEqual({ visit: v.visitId, encounters: 1 });
        const encId = String(encounters[0]!.id);
        expect(st.body.resources.encounter).toBe(`Encounter/${encId}`);
        const entries = mapVisit(v, tables, { now: new Date() }).entries;
        const obs = entries.filter((e) => e.key.startsWith('observation/'));
        for (const e of obs) {
          const value = `${v.visitId}.${e.key.slice('observation/'.length)}`;
          const found = sim.state.findByIdentifier('Observation', OBS(org), value);
          expect({ obs: value, count: found.length }).toEqual({ obs: value, count: 1 });
          expect(st.body.resources[e.key]).toBe(`Observation/${String(found[0]!.id)}`);
        }
        const imm = entries.filter((e) => e.key.startsWith('immunization/'));
        const immAtSim = sim.state.search('Immunization', { encounter: encId });
        expect({ visit: v.visitId, obs: sim.state.search('Observation', { encounter: encId }).length, imm: immAtSim.length }).toEqual({ visit: v.visitId, obs: obs.length, imm: imm.length });
        for (const e of imm) expect(immAtSim.map((r) => `Immunization/${String(r.id)}`)).toContain(st.body.resources[e.key]);
        observations += obs.length;
        immunizations += imm.length;
      }
      expect(immunizations).toBeGreaterThan(0);
      // Nothing extra anywhere (a duplicate under another identifier value would not show in the searches above).
      for (const org of ORGS) {
        const n = visits.filter((v) => v.organizationId === org).length;
        expect({ org, enc: sim.state.count('Encounter', org) }).toEqual({ org, enc: n });
      }
      expect(ORGS.reduce((n, org) => n + sim.state.count('Observation', org), 0)).toBe(observations);
      expect(ORGS.reduce((n, org) => n + sim.state.count('Immunization', org), 0)).toBe(immunizations);
      // Each patient was created once, even when the create's response was lost or the process died after it.
      for (const nik of new Set(visits.map((v) => v.patient.nik))) {
        expect({ nik: nik.slice(0, 6), patients: sim.state.findByIdentifier('Patient', SYS.nik, nik).length }).toEqual({ nik: nik.slice(0, 6), patients: 1 });
      }
      expect(sim.state.stats().faults.dropAfterCommit).toBeGreaterThan(0);
    } finally {
      if (p) await kill9(p);
      await proxy.close();
      await sim.close();
    }
  }, 3 * HANG_MS);

  it('mid-ingest: every record whose POST got a 202 is there after the restart; a cut batch is all or nothing', async () => {
    const sim = await startSimulator({ port: 0, clients: ORGS.map((org) => ({ ...credOf(org), organizationId: org })) });
    const dir = fs.mkdtempSync(path.join(work, 'ingest-'));
    const dataDir = path.join(dir, 'data');
    const env = serviceEnv(dir, dataDir, sim.url);
    const org = ORGS[0]!;
    const BATCH = 40;
    const batches = Array.from({ length: 30 }, (_, b) => Array.from({ length: BATCH }, (_, i) => makeVisit(b * BATCH + i, { organizationId: org })));
    for (const v of batches.flat()) pushedNiks.add(v.patient.nik);
    let p: ServiceProcess | undefined = await startServiceProcess(svc, env);
    try {
      const acked = new Set<number>();
      const cut = new Set<number>();
      let next = 0;
      let killing: Promise<void> | undefined;
      const url = p.url;
      const victim = p;
      // Four pushers in parallel; the process is killed on the 6th acknowledgement, while the others are in flight and
      // one more batch has been half sent (so at least one batch is certainly cut, however fast the service answers).
      const killWithBatchInFlight = async (b: number) => {
        const post = halfSentPost(url, '/ilp/visits', keyOf(org), batches[b]);
        await post.sent;
        await kill9(victim);
        expect(await post.answer).toBe('cut');
        cut.add(b);
      };
      const pusher = async () => {
        while (next < batches.length && !killing) {
          const b = next++;
          try {
            const r = await call(url, 'POST', '/ilp/visits', keyOf(org), batches[b]);
            if (r.status === 202) acked.add(b);
            if (acked.size === 6 && !killing) killing = killWithBatchInFlight(next++);
          } catch {
            cut.add(b);
          }
        }
      };
      await Promise.all([pusher(), pusher(), pusher(), pusher()]);
      await killing;
      p = undefined;
      expect(acked.size).toBeGreaterThanOrEqual(6);
      expect(cut.size).toBeGreaterThan(0); // requests really were in flight when the process died

      p = await startServiceProcess(svc, env);
      const present = async (b: number) => {
        let n = 0;
        for (const v of batches[b]!) {
          const r = await call(p!.url, 'GET', `/ilp/visits/${org}/${v.visitId}`, keyOf(org));
          if (r.status === 200) {
            expect({ state: r.body.state, revision: r.body.revision }).toEqual({ state: 'queued', revision: 1 });
            n++;
          } else expect(r.status).toBe(404);
        }
        return n;
      };
      for (const b of acked) expect({ batch: b, present: await present(b) }).toEqual({ batch: b, present: BATCH });
      for (const b of cut) expect([0, BATCH]).toContain(await present(b));
      // Pushing the same records again after the restart creates no work for the acknowledged ones.
      const again = await call(p.url, 'POST', '/ilp/visits', keyOf(org), batches[[...acked][0]!]);
      expect(again.body.results.map((r: { status: string }) => r.status)).toEqual(Array(BATCH).fill('unchanged'));
    } finally {
      if (p) await kill9(p);
      await sim.close();
    }
  }, 2 * HANG_MS);

  afterAll(() => {
    // No NIK, patient name, API key or client secret in anything either service process wrote.
    expect(output.length).toBeGreaterThan(10);
    expect(pushedNiks.size).toBeGreaterThan(0);
    const forbidden = [...pushedNiks, 'Pasien Uji', ADMIN, ...ORGS.map(keyOf), ...ORGS.map((o) => credOf(o).clientSecret)];
    expect(output.filter((l) => forbidden.some((f) => l.includes(f)) || /Bearer\s/.test(l))).toEqual([]);
  });
});
