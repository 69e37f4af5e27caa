// `npm run bench:sync` (after `npm run build`): figures of the delivery job against the bundled simulator.
//   1. ingest throughput of POST /ilp/visits in batches of 500 (durable: committed before the 202)
//   2. RSS of the service with 100,000 queued visits
//   3. platform calls per visit, cold (patients known to the platform, not to our cache) and warm (cached)
//   4. share of the facility quota used while a backlog exists
//   5. many facilities at once: visits/s and how many facilities had a visit in flight together
// Environment knobs: BENCH_INGEST (20000), BENCH_QUEUED (100000), BENCH_VISITS (300), BENCH_LATENCY_MS (20),
// BENCH_QUOTA (150 per window), BENCH_QUOTA_WINDOW_MS (10000: a shortened "minute" so the run takes seconds, not
// minutes; the limiter is the same code), BENCH_QUOTA_SECONDS (30), BENCH_FACILITIES (12), BENCH_FACILITY_VISITS (20).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startService } from '../src/service.js';
import { hashApiKey } from '../src/app/keys.js';
import { createRunner, mappingKit, platformRuntimes } from '../src/compose.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';
import type { MappingTables } from '../src/mapping/index.js';
import { createFacilityLimiter } from '../src/platform/limiter.js';
import type { FacilityConfig } from '../src/platform/types.js';
import { startSimulator } from '../src/simulator/server.js';
import type { SeedPatient } from '../src/simulator/options.js';
import type { SyncRunner } from '../src/sync/runner.js';
import { defaultRetryPolicy } from '../src/sync/policy.js';
import { defaultSyncSettings } from '../src/config/service.js';
import { contentHash } from '../src/sync/hash.js';
import { createLogger } from '../src/util/logger.js';
import { LOCATION, ORG, person, visit } from './visits.js';

const num = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const mb = (b: number) => Math.round(b / 1024 / 1024);

const serviceEnv = (dir: string): NodeJS.ProcessEnv => ({
  PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false', LOG_LEVEL: 'warn', FACILITIES_FILE: path.join(dir, 'facilities.json'),
  API_KEYS_FILE: path.join(dir, 'keys.json'), BENCH_ID: 'x', BENCH_SECRET: 'y',
  // The ingest rate measured is the service's, not the per-facility push quota's (6,000 a minute by default).
  INGEST_RECORDS_PER_MINUTE: '10000000',
});

/** Child process: the service started on a database that already holds the backlog; prints its RSS once ready. */
async function rssProbe(dir: string): Promise<void> {
  const svc = await startService(serviceEnv(dir));
  const res = await fetch(`${svc.url}/health`);
  await res.arrayBuffer();
  const counts = (await svc.store.counts()).byState;
  await svc.store.facilitiesWithDueWork(Date.now());
  await new Promise((r) => setTimeout(r, 500));
  process.stdout.write(`${JSON.stringify({ queued: counts.queued, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed })}\n`);
  await svc.close();
}

async function benchIngestAndRss(): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sync-'));
  // The service alone (no simulator in this process): a configured facility, sync off, one facility API key.
  const key = 'bench-facility-key-0123456789';
  fs.writeFileSync(path.join(dir, 'facilities.json'), JSON.stringify({ facilities: [{
    organizationId: ORG, environment: 'simulator', simulatorUrl: 'http://127.0.0.1:9', credentials: { clientIdEnv: 'BENCH_ID', clientSecretEnv: 'BENCH_SECRET' },
    locations: { [LOCATION]: { name: 'Posyandu Mawar', physicalType: 'si' } },
  }] }));
  fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ keys: [{ organizationId: ORG, sha256: hashApiKey(key) }] }));
  const svc = await startService(serviceEnv(dir));
  try {
    const total = num('BENCH_INGEST', 20_000);
    const batch = 500;
    const bodies: string[] = [];
    for (let i = 0; i < total; i += batch) bodies.push(JSON.stringify(Array.from({ length: Math.min(batch, total - i) }, (_, k) => visit(i + k, i + k))));
    const t0 = performance.now();
    for (const body of bodies) {
      const res = await fetch(`${svc.url}/ilp/visits`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
      if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      await res.arrayBuffer();
    }
    const seconds = (performance.now() - t0) / 1000;
    const ingestPerS = Math.round(total / seconds);

    // Fill the outbox to BENCH_QUEUED through the store (same durable path as ingest, without HTTP).
    const queued = num('BENCH_QUEUED', 100_000);
    for (let i = total; i < queued; i += 1000) {
      const items = Array.from({ length: Math.min(1000, queued - i) }, (_, k) => {
        const r = visit(i + k, i + k);
        return { organizationId: ORG, visitId: String(r.visitId), record: r, contentHash: contentHash(r) };
      });
      await svc.store.ingest(items, Date.now());
    }
    bodies.length = 0;
    const tq = performance.now();
    await svc.store.facilitiesWithDueWork(Date.now());
    const dueQueryMs = performance.now() - tq;
    await svc.close();
    // RSS of a fresh service process on that database (this process holds the benchmark's own garbage).
    const probe = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--rss-probe', dir], { encoding: 'utf8' }).trim().split('\n').pop()!) as { queued: number; rss: number; heapUsed: number };
    return { ingestVisits: total, ingestSeconds: Math.round(seconds * 100) / 100, ingestPerS, queued: probe.queued, rssMbWithQueue: mb(probe.rss), heapUsedMb: mb(probe.heapUsed), dueQueryMs: Math.round(dueQueryMs * 100) / 100 };
  } finally {
    await svc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface RunnerKit { store: Store; runner: SyncRunner<MappingTables>; requests: () => number; close: () => Promise<void>; limiterGranted: () => number }

async function kit(patients: SeedPatient[], opts: { quota?: number; windowMs?: number; latencyMs: number }): Promise<RunnerKit> {
  const sim = await startSimulator({ port: 0, latencyMs: opts.latencyMs, quotaPerMinute: 0, patients, seed: 1 });
  const store = await openStore({ url: 'sqlite::memory:' });
  const cfg: FacilityConfig = {
    organizationId: ORG, environment: 'simulator', authBaseUrl: sim.authBaseUrl, fhirBaseUrl: sim.fhirBaseUrl, clientId: 'demo-client', clientSecret: 'demo-secret',
    timezone: 'Asia/Jakarta', quotaPerMinute: opts.quota ?? 100_000, locations: { [LOCATION]: { name: 'Posyandu Mawar', physicalType: 'si' } },
  };
  const limiter = createFacilityLimiter(ORG, { quotaPerMinute: cfg.quotaPerMinute, ...(opts.windowMs ? { windowMs: opts.windowMs } : {}), maxConcurrent: 4 });
  const runner = createRunner({
    store, kit: mappingKit(), hmacKey: Buffer.alloc(32, 1), now: Date.now, logger: createLogger({ level: 'silent' }),
    facilities: platformRuntimes([cfg], { limiterFor: () => limiter, timeoutMs: 10_000 }),
    settings: { ...defaultSyncSettings, timeBudgetMs: 10 * 60_000 }, policy: { ...defaultRetryPolicy, baseDelayMs: 200, maxDelayMs: 2000 },
  });
  return {
    store, runner, requests: () => sim.state.stats().requests, limiterGranted: () => limiter.stats().granted,
    close: async () => { limiter.close(); await store.close(); await sim.close(); },
  };
}

async function ingest(store: Store, records: Array<Record<string, unknown>>): Promise<void> {
  await store.ingest(records.map((r) => ({ organizationId: ORG, visitId: String(r.visitId), record: r, contentHash: contentHash(r) })), Date.now());
}

async function drain(k: RunnerKit): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await k.runner.tick();
    if (!(await k.store.facilitiesWithDueWork(Date.now())).length) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function benchCallsPerVisit(): Promise<Record<string, number>> {
  const n = num('BENCH_VISITS', 300);
  const latencyMs = num('BENCH_LATENCY_MS', 20);
  // Patients the platform knows (MPI has them through Dukcapil), our identity cache does not yet.
  const seeds: SeedPatient[] = Array.from({ length: n }, (_, p) => ({ id: `P9${String(p).padStart(10, '0')}`, ...person(p) }));
  const k = await kit(seeds, { latencyMs });
  try {
    await ingest(k.store, Array.from({ length: n }, (_, i) => visit(i, i)));
    let r0 = k.requests();
    let t0 = performance.now();
    await drain(k);
    const coldCalls = k.requests() - r0;
    const coldS = (performance.now() - t0) / 1000;
    const sentCold = (await k.store.counts()).byState.sent;
    await ingest(k.store, Array.from({ length: n }, (_, i) => visit(n + i, i))); // same patients, new visits
    r0 = k.requests();
    t0 = performance.now();
    await drain(k);
    const warmCalls = k.requests() - r0;
    const warmS = (performance.now() - t0) / 1000;
    return {
      visits: n, latencyMs, sentCold, coldCallsPerVisit: Math.round((coldCalls / n) * 1000) / 1000, coldVisitsPerS: Math.round(n / coldS),
      sentTotal: (await k.store.counts()).byState.sent, warmCallsPerVisit: Math.round((warmCalls / n) * 1000) / 1000, warmVisitsPerS: Math.round(n / warmS),
    };
  } finally {
    await k.close();
  }
}

async function benchQuotaShare(): Promise<Record<string, number>> {
  const quota = num('BENCH_QUOTA', 150);
  const windowMs = num('BENCH_QUOTA_WINDOW_MS', 10_000);
  const seconds = num('BENCH_QUOTA_SECONDS', 30);
  const latencyMs = num('BENCH_LATENCY_MS', 20);
  const backlog = 5_000; // far more than the quota allows in the measured time
  const seeds: SeedPatient[] = Array.from({ length: 500 }, (_, p) => ({ id: `P8${String(p).padStart(10, '0')}`, ...person(p) }));
  const k = await kit(seeds, { quota, windowMs, latencyMs });
  try {
    await ingest(k.store, Array.from({ length: backlog }, (_, i) => visit(i, i % 500)));
    const t0 = performance.now();
    const ticking = (async () => {
      while (performance.now() - t0 < (seconds + 5) * 1000 && (await k.store.facilitiesWithDueWork(Date.now())).length) await k.runner.tick();
    })();
    // The limiter's window starts at its first grant: measure over whole windows from there.
    while (k.limiterGranted() === 0) await new Promise((r) => setTimeout(r, 5));
    const tFirst = performance.now();
    const windows = Math.max(1, Math.floor(seconds * 1000 / windowMs));
    await new Promise((r) => setTimeout(r, windows * windowMs - 50));
    const granted = k.limiterGranted();
    const elapsed = performance.now() - tFirst;
    await k.runner.stop();
    await ticking;
    const left = (await k.store.counts()).byState;
    return {
      quotaPerWindow: quota, windowMs, windows, measuredSeconds: Math.round(elapsed / 100) / 10, requests: granted, quotaAvailable: quota * windows,
      quotaSharePct: Math.round((granted / (quota * windows)) * 1000) / 10, backlogLeft: left.queued + left.sending,
    };
  } finally {
    await k.close();
  }
}

/**
 * Many facilities at once: each has its own credential and quota, so the runner serves all with due work together
 * (up to SYNC_CONCURRENCY visits in flight). Figures: visits/s over BENCH_FACILITIES facilities and the most
 * facilities seen with a visit in flight at the same moment.
 */
async function benchFacilities(): Promise<Record<string, number>> {
  const facilities = num('BENCH_FACILITIES', 12);
  const perFacility = num('BENCH_FACILITY_VISITS', 20);
  const latencyMs = num('BENCH_LATENCY_MS', 20);
  const orgs = Array.from({ length: facilities }, (_, i) => `1000090${String(i + 1).padStart(2, '0')}`);
  const seeds: SeedPatient[] = Array.from({ length: facilities * perFacility }, (_, p) => ({ id: `P7${String(p).padStart(10, '0')}`, ...person(p) }));
  const sim = await startSimulator({
    port: 0, latencyMs, quotaPerMinute: 0, patients: seeds, seed: 1,
    clients: orgs.map((org) => ({ clientId: `c-${org}`, clientSecret: `s-${org}`, organizationId: org })),
  });
  const store = await openStore({ url: 'sqlite::memory:' });
  const runtimes = platformRuntimes(orgs.map((org): FacilityConfig => ({
    organizationId: org, environment: 'simulator', authBaseUrl: sim.authBaseUrl, fhirBaseUrl: sim.fhirBaseUrl, clientId: `c-${org}`, clientSecret: `s-${org}`,
    timezone: 'Asia/Jakarta', quotaPerMinute: 100_000, locations: { [LOCATION]: { name: 'Posyandu Mawar', physicalType: 'si' } },
  })), { timeoutMs: 10_000 });
  let peakFacilities = 0;
  const runner = createRunner({
    store, kit: mappingKit(), hmacKey: Buffer.alloc(32, 1), now: Date.now, logger: createLogger({ level: 'silent' }), facilities: runtimes,
    settings: { ...defaultSyncSettings, timeBudgetMs: 10 * 60_000 }, policy: { ...defaultRetryPolicy, baseDelayMs: 200, maxDelayMs: 2000 },
    onClaim: async () => {
      let inFlight = 0;
      for (const o of orgs) if ((await store.counts(o)).byState.sending > 0) inFlight++;
      peakFacilities = Math.max(peakFacilities, inFlight);
    },
  });
  try {
    await store.ingest(orgs.flatMap((org, f) => Array.from({ length: perFacility }, (_, i) => {
      const r = visit(f * perFacility + i, f * perFacility + i, org);
      return { organizationId: org, visitId: String(r.visitId), record: r, contentHash: contentHash(r) };
    })), Date.now());
    const t0 = performance.now();
    for (let i = 0; i < 200 && (await store.facilitiesWithDueWork(Date.now())).length; i++) await runner.tick();
    const seconds = (performance.now() - t0) / 1000;
    const sent = (await store.counts()).byState.sent;
    return { facilities, visits: facilities * perFacility, latencyMs, concurrency: defaultSyncSettings.concurrency, sent, visitsPerS: Math.round(sent / seconds), peakFacilitiesInFlight: peakFacilities };
  } finally {
    for (const rt of runtimes.values()) rt.platform.limiter.close();
    await store.close();
    await sim.close();
  }
}

async function main(): Promise<void> {
  const out = (title: string, figures: Record<string, number>) => process.stdout.write(`${title}\n${Object.entries(figures).map(([k, v]) => `  ${k.padEnd(20)} ${v}`).join('\n')}\n`);
  process.stdout.write(`bench:sync on Node ${process.version}, ${os.cpus().length} CPUs\n`);
  out('ingest (POST /ilp/visits, batches of 500, durable) and memory', await benchIngestAndRss());
  out('platform calls per visit (simulator latency per request)', await benchCallsPerVisit());
  out('quota share while a backlog exists', await benchQuotaShare());
  out('many facilities at once (each its own quota)', await benchFacilities());
}

(process.argv[2] === '--rss-probe' ? rssProbe(process.argv[3]!) : main()).catch((e: unknown) => {
  process.stderr.write(`bench:sync failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
