// `npm run bench:read-retry` (after `npm run build`): what retrying failed idempotent reads within the call buys.
// The sync job delivers BENCH_VISITS visits (new patients for our cache, known to the platform: one Patient search each,
// one Location search, one transaction) against the bundled simulator answering BENCH_5XX of all FHIR requests with a 5xx,
// once with the client's read retries off and once on. Figure: the share of visits that needed a second attempt (a trip
// through the slow retry queue), plus platform requests and wall time. Same simulator seed for both runs.
// Knobs: BENCH_VISITS (400), BENCH_5XX (0.05), BENCH_LATENCY_MS (5), BENCH_SEED (1).
import os from 'node:os';
import { openStore } from '../src/store/index.js';
import { createRunner, mappingKit, platformRuntimes } from '../src/compose.js';
import { DEFAULT_READ_RETRIES } from '../src/platform/client.js';
import { createFacilityLimiter } from '../src/platform/limiter.js';
import type { FacilityConfig } from '../src/platform/types.js';
import { startSimulator } from '../src/simulator/server.js';
import type { SeedPatient } from '../src/simulator/options.js';
import { defaultRetryPolicy } from '../src/sync/policy.js';
import { defaultSyncSettings } from '../src/config/service.js';
import { contentHash } from '../src/sync/hash.js';
import { createLogger } from '../src/util/logger.js';
import { LOCATION, ORG, person, visit } from './visits.js';

const num = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);

interface RunFigures {
  readRetries: number;
  visits: number;
  sent: number;
  needingSecondAttemptPct: number;
  attemptsPerVisit: number;
  retriedReads: number;
  platformRequests: number;
  seconds: number;
}

async function run(readRetries: number, n: number, errorRate5xx: number, latencyMs: number, seed: number): Promise<RunFigures> {
  const seeds: SeedPatient[] = Array.from({ length: n }, (_, p) => ({ id: `P6${String(p).padStart(10, '0')}`, ...person(p) }));
  const sim = await startSimulator({ port: 0, latencyMs, quotaPerMinute: 0, patients: seeds, seed, errorRate5xx, faultScope: 'all' });
  const store = await openStore({ url: 'sqlite::memory:' });
  const cfg: FacilityConfig = {
    organizationId: ORG, environment: 'simulator', authBaseUrl: sim.authBaseUrl, fhirBaseUrl: sim.fhirBaseUrl, clientId: 'demo-client', clientSecret: 'demo-secret',
    timezone: 'Asia/Jakarta', quotaPerMinute: 100_000, locations: { [LOCATION]: { name: 'Posyandu Mawar', physicalType: 'si' } },
  };
  const limiter = createFacilityLimiter(ORG, { quotaPerMinute: cfg.quotaPerMinute, maxConcurrent: 4 });
  let retriedReads = 0;
  const countRetries = { debug: () => undefined, warn: () => undefined, info: (_o: object, msg?: string) => { if (msg === 'retrying idempotent read') retriedReads++; } };
  const runner = createRunner({
    store, kit: mappingKit(), hmacKey: Buffer.alloc(32, 1), now: Date.now, logger: createLogger({ level: 'silent' }),
    facilities: platformRuntimes([cfg], { limiterFor: () => limiter, timeoutMs: 10_000, readRetries, logger: countRetries }),
    settings: { ...defaultSyncSettings, timeBudgetMs: 10 * 60_000 },
    // Short slow-queue backoff so the bench drains in seconds; the figure counts trips through it, not their length.
    policy: { ...defaultRetryPolicy, maxAttempts: 50, baseDelayMs: 100, maxDelayMs: 1_000, minDelayMs: 20 },
  });
  try {
    const records = Array.from({ length: n }, (_, i) => visit(i, i));
    await store.ingest(records.map((r) => ({ organizationId: ORG, visitId: String(r.visitId), record: r, contentHash: contentHash(r) })), Date.now());
    const r0 = sim.state.stats().requests;
    const t0 = performance.now();
    for (let i = 0; i < 5_000 && (await store.facilitiesWithDueWork(Date.now() + 2_000)).length; i++) {
      await runner.tick();
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const rows = await Promise.all(records.map(async (r) => (await store.getVisit(ORG, String(r.visitId)))!));
    const sent = rows.filter((r) => r.state === 'sent').length;
    const second = rows.filter((r) => r.attempts > 1).length;
    const attempts = rows.reduce((a, r) => a + r.attempts, 0);
    return {
      readRetries, visits: n, sent,
      needingSecondAttemptPct: Math.round((second / n) * 1000) / 10,
      attemptsPerVisit: Math.round((attempts / n) * 1000) / 1000,
      retriedReads,
      platformRequests: sim.state.stats().requests - r0,
      seconds: Math.round(seconds * 10) / 10,
    };
  } finally {
    await runner.stop();
    limiter.close();
    await store.close();
    await sim.close();
  }
}

async function main(): Promise<void> {
  const n = num('BENCH_VISITS', 400);
  const rate = num('BENCH_5XX', 0.05);
  const latencyMs = num('BENCH_LATENCY_MS', 5);
  const seed = num('BENCH_SEED', 1);
  process.stdout.write(`bench:read-retry on Node ${process.version}, ${os.cpus().length} CPUs: ${n} visits, ${rate * 100}% 5xx on every FHIR request, seed ${seed}\n`);
  for (const retries of [0, DEFAULT_READ_RETRIES]) {
    const f = await run(retries, n, rate, latencyMs, seed);
    process.stdout.write(`read retries ${retries === 0 ? 'off' : `on (${retries})`}\n${Object.entries(f).map(([k, v]) => `  ${k.padEnd(24)} ${v}`).join('\n')}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:read-retry failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
