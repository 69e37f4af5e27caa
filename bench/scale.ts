// `npm run bench:scale` (after `npm run build`): visits/s delivered by 1, 2 and 3 service instances (`dist/main.js`
// child processes) on one PostgreSQL database, against the bundled simulator (in this process) with 20 ms latency:
//   - high quota: nothing but the instances limits delivery; figure: visits/s from the first sync run to the last visit sent;
//   - default quota (150 requests/min per facility, at the simulator and in the facilities file): the quota must be the
//     limit; figures: visits/s and the share of the quota used in the first 60 s with a backlog (target ≥ 90 %), the
//     most requests of one facility in any sliding 60 s window, and the 429s the simulator answered.
// Also each instance's RSS (and peak RSS) at the end of its run. 12 facilities; the patients and each facility's
// Location are known to the platform beforehand (so the figures are delivery, not registration).
// PostgreSQL: BENCH_PG_URL (a server where the bench may create and drop databases, e.g. postgres://postgres@127.0.0.1:54329/postgres),
// else a throwaway cluster started with scripts/pg-test-cluster.sh (Debian's postgresql installed).
// Knobs: BENCH_SCALE_VISITS (1200), BENCH_SCALE_INSTANCES (1,2,3), BENCH_SCALE_QUOTA_SECONDS (60), BENCH_LATENCY_MS (20),
// BENCH_SCALE_PARTS (high,default).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startSimulator, type RunningSimulator } from '../src/simulator/server.js';
import type { SeedPatient } from '../src/simulator/options.js';
import { packageRoot } from '../src/util/paths.js';
import { freePort } from './harness.js';
import { LOCATION, person, visit } from './visits.js';

const num = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const list = (k: string, d: string) => (process.env[k] ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const FACILITIES = Array.from({ length: 12 }, (_, i) => String(10000801 + i));
const DEFAULT_QUOTA = 150; // the platform's documented default, and the service's
const HIGH_QUOTA = 100_000;
const WINDOW_MS = 60_000;
const ADMIN = randomBytes(24).toString('base64url');
const keyOf = (org: string) => `bench-scale-key-${org}-0123456789`;
const credOf = (org: string) => ({ clientId: `scale-${org}`, clientSecret: `scale-secret-${org}` });
const MAIN = path.join(packageRoot, 'dist', 'main.js');

interface Instance { child: ChildProcess; url: string }

interface Figures {
  quota: 'high' | 'default';
  instances: number;
  visits: number;
  sent: number;
  seconds: number;
  visitsPerS: number;
  requests: number;
  throttled: number;
  maxInWindow: number;
  quotaSharePct?: number;
  rssMb: number[];
  peakRssMb: number[];
}

/** The PostgreSQL server to use: BENCH_PG_URL, or a throwaway cluster (stopped by `stop`). */
async function postgresServer(): Promise<{ url: string; stop(): void }> {
  if (process.env.BENCH_PG_URL) return { url: process.env.BENCH_PG_URL, stop: () => undefined };
  const script = path.join(packageRoot, 'scripts', 'pg-test-cluster.sh');
  const out = execFileSync(script, ['start'], { env: { ...process.env, PG_PORT: String(await freePort()) }, encoding: 'utf8' });
  const vars = new Map(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const u = new URL(vars.get('PG_TEST_URL')!);
  u.pathname = '/postgres';
  return { url: u.toString(), stop: () => execFileSync(script, ['stop', vars.get('PG_TEST_DIR')!]) };
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A service process; resolves once it printed its ready line (PORT=0: the URL comes from that line). */
function startInstance(env: NodeJS.ProcessEnv): Promise<Instance> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env, cwd: packageRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"ilp-adapter ready on (http:\/\/[^"]+)"/.exec(buf);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining its log, unread
        resolve({ child, url: m[1]! });
      } else if (buf.length > 1_000_000) buf = buf.slice(-10_000);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`service exited before it was ready (code ${code})`)));
  });
}

async function stopInstance(p: Instance): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  await exited;
}

function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}

async function post(url: string, p: string, key: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${p}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, text: await res.text() };
}

async function run(serverUrl: string, quota: 'high' | 'default', instances: number): Promise<Figures> {
  const visits = num('BENCH_SCALE_VISITS', 1200);
  const latencyMs = num('BENCH_LATENCY_MS', 20);
  const quotaSeconds = num('BENCH_SCALE_QUOTA_SECONDS', 60);
  const perMinute = quota === 'high' ? HIGH_QUOTA : DEFAULT_QUOTA;
  const dbName = `bench_scale_${process.pid}_${quota}_${instances}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${dbName}`;
  const seeds: SeedPatient[] = Array.from({ length: visits }, (_, p) => ({ id: `P9${String(p).padStart(10, '0')}`, ...person(p) }));
  const sim: RunningSimulator = await startSimulator({
    port: 0, latencyMs, seed: 1, validator: false, patients: seeds,
    quotaPerMinute: quota === 'high' ? 0 : DEFAULT_QUOTA,
    clients: FACILITIES.map((org) => ({ ...credOf(org), organizationId: org })),
    locations: FACILITIES.map((org) => ({ organizationId: org, code: LOCATION })),
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  const live: Instance[] = [];
  try {
    fs.writeFileSync(path.join(dir, 'facilities.json'), JSON.stringify({ facilities: FACILITIES.map((org) => ({
      organizationId: org, environment: 'simulator', simulatorUrl: sim.url, quotaPerMinute: perMinute,
      credentials: { clientIdEnv: `SS_${org}_ID`, clientSecretEnv: `SS_${org}_SECRET` },
      locations: { [LOCATION]: { name: 'Posyandu Mawar', physicalType: 'si' } },
    })) }));
    const sha = (k: string) => createHash('sha256').update(k).digest('hex');
    fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ keys: FACILITIES.map((org) => ({ organizationId: org, sha256: sha(keyOf(org)) })) }));
    const shared: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: dbUrl.toString(), DATABASE_POOL_MAX: '8',
      FACILITIES_FILE: path.join(dir, 'facilities.json'), API_KEYS_FILE: path.join(dir, 'keys.json'), ADMIN_API_KEY: ADMIN,
      ILP_HMAC_KEY: randomBytes(32).toString('hex'), DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      SYNC_ENABLED: 'false', SHUTDOWN_GRACE_MS: '1000', SYNC_TIME_BUDGET_MS: String(30 * 60_000),
    };
    for (const org of FACILITIES) {
      shared[`SS_${org}_ID`] = credOf(org).clientId;
      shared[`SS_${org}_SECRET`] = credOf(org).clientSecret;
    }
    const envOf = (i: number) => ({ ...shared, DATA_DIR: path.join(dir, `data-${i}`) });
    live.push(await startInstance(envOf(0))); // the first applies the migrations
    live.push(...(await Promise.all(Array.from({ length: instances - 1 }, (_, i) => startInstance(envOf(i + 1))))));

    // The backlog, pushed through the first instance before any sync run.
    const all = Array.from({ length: visits }, (_, i) => visit(i, i, FACILITIES[i % FACILITIES.length]));
    for (const org of FACILITIES) {
      const mine = all.filter((v) => v.organizationId === org);
      for (let i = 0; i < mine.length; i += 500) {
        const r = await post(live[0]!.url, '/ilp/visits', keyOf(org), mine.slice(i, i + 500));
        if (r.status !== 202) throw new Error(`push answered ${r.status}: ${r.text.slice(0, 300)}`);
      }
    }
    await db.connect();
    const sentNow = async () => {
      const rows = (await db.query('SELECT state, count(*)::int AS n FROM visits GROUP BY state')).rows as Array<{ state: string; n: number }>;
      const by = new Map(rows.map((r) => [r.state, r.n]));
      const stuck = (by.get('needs-correction') ?? 0) + (by.get('blocked') ?? 0) + (by.get('dead-letter') ?? 0);
      if (stuck) throw new Error(`visits in a final state other than sent: ${JSON.stringify(Object.fromEntries(by))}`);
      return by.get('sent') ?? 0;
    };

    const before = sim.state.stats();
    const t0 = Date.now();
    const until = quota === 'high' ? undefined : t0 + quotaSeconds * 1000;
    let done = false;
    // Each instance runs sync back to back (a run that found nothing due is followed by a short pause, not a spin).
    const drivers = live.map(async (p) => {
      while (!done) {
        const started = Date.now();
        const r = await post(p.url, '/sync/run?wait=true', ADMIN).catch(() => undefined);
        if (!r || r.status !== 200) break;
        if (Date.now() - started < 200) await new Promise((res) => setTimeout(res, 200));
      }
    });
    let sent = 0;
    for (;;) {
      sent = await sentNow();
      if (until === undefined ? sent >= visits : Date.now() >= until) break;
      if (Date.now() - t0 > 20 * 60_000) throw new Error(`not done after 20 minutes: ${sent} of ${visits} sent`);
      await new Promise((res) => setTimeout(res, 100));
    }
    const seconds = (Date.now() - t0) / 1000;
    const rss = live.map((p) => rssOf(p.child.pid!));
    done = true;
    const after = sim.state.stats();
    let quotaSharePct: number | undefined;
    if (until !== undefined) {
      // Grants (token calls included) in the first full window of the run, per facility, against the quota.
      const shares = FACILITIES.map((org) => sim.state.grants(credOf(org).clientId).filter((t) => t >= t0 && t < t0 + WINDOW_MS).length / DEFAULT_QUOTA);
      quotaSharePct = Math.round((shares.reduce((a, b) => a + b, 0) / shares.length) * 1000) / 10;
    }
    await Promise.all(live.splice(0).map(stopInstance));
    await Promise.all(drivers);
    return {
      quota, instances, visits, sent, seconds: Math.round(seconds * 10) / 10, visitsPerS: Math.round((sent / seconds) * 10) / 10,
      requests: after.requests - before.requests, throttled: (after.byStatus['429'] ?? 0) - (before.byStatus['429'] ?? 0),
      maxInWindow: after.quotaWindow.maxGrantsInWindow, ...(quotaSharePct !== undefined ? { quotaSharePct } : {}),
      rssMb: rss.map((r) => r.rssMb), peakRssMb: rss.map((r) => r.peakMb),
    };
  } finally {
    await Promise.all(live.map(stopInstance));
    await db.end().catch(() => undefined);
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
}

function table(rows: Figures[]): string {
  const head = ['quota/min', 'instances', 'visits sent', 'seconds', 'visits/s', 'requests', '429s', 'max req in 60 s', 'quota used', 'RSS MB (peak)'];
  const body = rows.map((r) => [
    r.quota === 'high' ? String(HIGH_QUOTA) : String(DEFAULT_QUOTA), String(r.instances), `${r.sent}/${r.visits}`, String(r.seconds), String(r.visitsPerS),
    String(r.requests), String(r.throttled), String(r.maxInWindow), r.quotaSharePct === undefined ? '–' : `${r.quotaSharePct}%`,
    r.rssMb.map((m, i) => `${m} (${r.peakRssMb[i]})`).join(' / '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (!fs.existsSync(MAIN)) throw new Error('dist/main.js is missing: npm run build first');
  const instanceCounts = list('BENCH_SCALE_INSTANCES', '1,2,3').map(Number);
  const parts = list('BENCH_SCALE_PARTS', 'high,default') as Array<'high' | 'default'>;
  process.stdout.write(`bench:scale on Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  const server = await postgresServer();
  const rows: Figures[] = [];
  try {
    for (const quota of parts) {
      for (const n of instanceCounts) {
        const r = await run(server.url, quota, n);
        rows.push(r);
        process.stdout.write(`  ${quota} quota, ${n} instance(s): ${r.visitsPerS} visits/s${r.quotaSharePct !== undefined ? `, ${r.quotaSharePct}% of the quota` : ''}\n`);
      }
    }
  } finally {
    server.stop();
  }
  process.stdout.write(`${table(rows)}\nload average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:scale failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
