// `npm run bench` (after `npm run build`): throughput of map + validate, service start-to-ready, and $validate
// latency over HTTP. Prints figures and whether each target of issue 3 §7 is met. Loopback only, bounded.
//   BENCH_VISITS (default 12000), BENCH_REQUESTS (default 2000), BENCH_STARTS (default 3), BENCH_BATCH (default 500; 0 = one batch).
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { mapVisit } from '../src/mapping/index.js';
import { createMappingKit } from '../src/compose.js';
import { mappingsDir } from '../src/util/paths.js';
import type { Bundle } from 'fhir/r4.js';
import { hr, percentile, post, startService, stopService } from './harness.js';
import { measureGrowthCost } from './growth-cost.js';

type Rec = Record<string, unknown>;
const VISITS = Number(process.env.BENCH_VISITS ?? 12_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 500) || Number.POSITIVE_INFINITY;
const TARGET = { visitsPerSec: 5_000, resourcesPerSec: 50_000, startMs: 1_000, p99Ms: 5 };

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

function loadSamples(): Array<{ name: string; record: Rec }> {
  const dir = path.join(mappingsDir, 'samples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.visit.json'))
    .sort()
    .map((f) => ({ name: f.replace('.visit.json', ''), record: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Rec }));
}

/** Deterministic variations of a sample: new visitId, other NIK serial digits, measurement values 0–3 % lower (stays in range). */
function variant(base: Rec, i: number): Rec {
  const r = structuredClone(base);
  r.visitId = `${String(base.visitId).slice(0, 40)}-B${i}`;
  const serial = String(1000 + (i % 9000));
  const p = r.patient as Rec;
  for (const k of ['nik', 'motherNik']) {
    if (typeof p[k] === 'string') p[k] = (p[k] as string).slice(0, 12) + serial;
  }
  const ms = (r.measurements as Array<Rec> | undefined) ?? [];
  ms.forEach((m, j) => {
    if (typeof m.value === 'number') {
      const f = 1 - ((i * 7 + j * 13) % 31) / 1000; // deterministic, 0–3 % lower
      m.value = Math.round(m.value * f * 10) / 10;
    }
  });
  return r;
}

async function main(): Promise<void> {
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`ilp-adapter bench — Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores, load average ${load} (other processes share the machine)`);
  const tSetup = hr();
  const { tables, validator } = createMappingKit();
  const setupMs = hr() - tSetup;
  const now = new Date();
  const samples = loadSamples();
  const records = Array.from({ length: VISITS }, (_, i) => variant((samples[i % samples.length] as { record: Rec }).record, i));
  console.log(`setup (tables + validator): ${fmt(setupMs)} ms; ${samples.length} life-stage samples → ${fmt(records.length)} generated visits`);

  // Warm-up (JIT), not measured.
  for (let i = 0; i < Math.min(2_000, records.length); i++) {
    const m = mapVisit(records[i] as Rec, tables, { now });
    if (m.bundle) JSON.parse(JSON.stringify(validator.validate(m.bundle, { now })));
  }

  // 1. Map + validate, the same work as POST /ilp/visits/$map (mapVisit, then the validator over the Bundle and,
  //    when it is not in the Bundle, the Patient). Three passes; the median pass decides. The visits go in batches of
  //    BENCH_BATCH (default 500, the service's INGEST_MAX_RECORDS): a batch's Bundles are kept until it ends, then timed
  //    through a JSON round trip (the baseline) and let go, as an ingest batch is committed and let go. BENCH_BATCH=0
  //    keeps every Bundle of a pass alive, as this bench did before: the scavenger then copies 218 MB of live Bundles,
  //    which costs about a third more time and is not work the service does.
  const passes: Array<{ ms: number; jsonMs: number; cpuMs: number }> = [];
  let pick: Bundle | undefined;
  let resources = 0;
  const failures = new Map<string, number>();
  let bytes = 0;
  const nearTen = (b: Bundle): number => Math.abs((b.entry?.length ?? 0) - 10);
  for (let pass = 0; pass < 3; pass++) {
    resources = 0;
    bytes = 0;
    failures.clear();
    let ms = 0;
    let jsonMs = 0;
    let cpuMicros = 0;
    for (let from = 0; from < records.length; from += BATCH) {
      const batch = records.slice(from, from + BATCH);
      const bundles: Bundle[] = [];
      const t1 = hr();
      const cpu0 = process.cpuUsage();
      for (const rec of batch) {
        const m = mapVisit(rec, tables, { now });
        if (!m.bundle) {
          const k = 'invalid record: ' + (m.issues.find((x) => x.severity === 'error')?.diagnostics.slice(0, 80) ?? '?');
          failures.set(k, (failures.get(k) ?? 0) + 1);
          continue;
        }
        const opts = { now, organizationId: String(rec.organizationId) };
        const issues = validator.validate(m.bundle, opts);
        resources += m.bundle.entry?.length ?? 0;
        if (m.patient && !m.bundle.entry?.some((e) => e.resource?.resourceType === 'Patient')) {
          issues.push(...validator.validate(m.patient, opts));
          resources++;
        }
        const err = issues.find((x) => x.severity === 'error' || x.severity === 'fatal');
        if (err) {
          const k = 'mapped Bundle fails validation (adapter defect): ' + err.diagnostics.slice(0, 80);
          failures.set(k, (failures.get(k) ?? 0) + 1);
        }
        bundles.push(m.bundle);
      }
      ms += hr() - t1;
      const cpu = process.cpuUsage(cpu0);
      cpuMicros += cpu.user + cpu.system;
      // Baseline: JSON.stringify + JSON.parse of the same Bundles, untimed by the figures above.
      const t2 = hr();
      for (const b of bundles) {
        const s = JSON.stringify(b);
        bytes += s.length;
        JSON.parse(s);
      }
      jsonMs += hr() - t2;
      for (const b of bundles) if (pick === undefined || nearTen(b) < nearTen(pick)) pick = b;
    }
    passes.push({ ms, jsonMs, cpuMs: cpuMicros / 1000 });
  }
  const sortedPasses = [...passes].sort((a, b) => a.ms - b.ms);
  const med = sortedPasses[1] as { ms: number; jsonMs: number; cpuMs: number };
  const best = sortedPasses[0] as { ms: number; jsonMs: number };
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  const visitsPerSec = records.length / (med.ms / 1000);
  const resourcesPerSec = resources / (med.ms / 1000);
  console.log(`\n1. map + validate (in process, one core; 3 passes, median shown; ${Number.isFinite(BATCH) ? `batches of ${fmt(BATCH)} Bundles kept until the batch ends` : 'every Bundle of a pass kept alive'})`);
  console.log(`   visits: ${fmt(records.length)}, resources: ${fmt(resources)} (${fmt(resources / records.length, 1)}/visit), ${fmt(bytes / 1e6, 1)} MB of Bundle JSON`);
  console.log(`   time: ${fmt(med.ms)} ms → ${fmt(visitsPerSec)} visits/s, ${fmt(resourcesPerSec)} resources/s (best pass: ${fmt(records.length / (best.ms / 1000))} visits/s)`);
  // CPU time tells a pass slowed by other processes (under 1 core) from one helped by V8's GC/compiler threads (over 1) on a shared machine.
  console.log(`   process CPU time in that pass: ${fmt(med.cpuMs)} ms = ${fmt(records.length / (med.cpuMs / 1000))} visits per CPU second; ${fmt(med.cpuMs / med.ms, 2)} cores busy ` +
    '(below 1: other processes had the core; above 1: GC/compiler threads on another core, pin with `taskset -c 1`)');
  console.log(`   JSON.stringify + JSON.parse of the same Bundles: ${fmt(med.jsonMs)} ms → map+validate costs ${fmt(med.ms / med.jsonMs, 1)}× a JSON round trip`);
  console.log(`   target ≥ ${fmt(TARGET.visitsPerSec)} visits/s: ${verdict(visitsPerSec >= TARGET.visitsPerSec)}; ≥ ${fmt(TARGET.resourcesPerSec)} resources/s: ${verdict(resourcesPerSec >= TARGET.resourcesPerSec)}`);
  const growth = measureGrowthCost(records.slice(0, 2_000), tables, now, 5);
  console.log(`   of which WHO z-scores (growth status): ${fmt(growth.microsPerVisit, 1)} µs per visit over ${fmt(growth.visits)} visits ` +
    `(${fmt((100 * growth.withGrowth) / Math.max(1, growth.visits))} % of them with a growth measurement, ` +
    `${fmt((100 * growth.withZScores) / Math.max(1, growth.visits))} % children with a computed z-score)`);
  if (failed) {
    console.log(`   ${fmt(failed)} visits did not come out valid (counted in the time):`);
    for (const [k, n] of failures) console.log(`     ${fmt(n)} × ${k}`);
  }

  // 2. Service start to ready.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const mainJs = path.join(here, '..', 'main.js');
  const starts: number[] = [];
  let service: { child: ChildProcess; port: number } | undefined;
  for (let i = 0; i < STARTS; i++) {
    const s = await startService(mainJs, { OPEN_RATE_PER_MINUTE: '1000000' });
    starts.push(s.ms);
    if (i < STARTS - 1) await stopService(s.child);
    else service = s;
  }
  const startSorted = [...starts].sort((a, b) => a - b);
  const startMedian = percentile(startSorted, 50);
  console.log('\n2. service start to ready (spawn `node dist/main.js` → GET /ready = 200)');
  console.log(`   runs: ${starts.map((s) => `${fmt(s)} ms`).join(', ')}; median ${fmt(startMedian)} ms, worst ${fmt(startSorted.at(-1) as number)} ms`);
  console.log(`   target < ${fmt(TARGET.startMs)} ms: ${verdict((startSorted.at(-1) as number) < TARGET.startMs)}`);

  // 3. $validate latency of a ~10-resource Bundle over HTTP (keep-alive, sequential, loopback).
  if (!pick) throw new Error('no Bundle was mapped');
  const body = JSON.stringify(pick);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const port = (service as { port: number }).port;
  const first = await post(port, '/fhir/$validate', body, agent);
  if (first.status !== 200) throw new Error(`$validate answered ${first.status}`);
  const errorsInBundle = (JSON.parse(first.body) as { issue: Array<{ severity: string }> }).issue.filter((i) => i.severity === 'error').length;
  for (let i = 0; i < 200; i++) await post(port, '/fhir/$validate', body, agent);
  const lat: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = hr();
    const r = await post(port, '/fhir/$validate', body, agent);
    lat.push(hr() - t);
    if (r.status !== 200) throw new Error(`$validate answered ${r.status}`);
  }
  agent.destroy();
  await stopService((service as { child: ChildProcess }).child);
  lat.sort((a, b) => a - b);
  const p99 = percentile(lat, 99);
  console.log(`\n3. POST /fhir/$validate, Bundle of ${pick.entry?.length} resources (${fmt(body.length / 1024, 1)} KiB, ${errorsInBundle} errors), ${fmt(REQUESTS)} sequential requests`);
  console.log(`   p50 ${fmt(percentile(lat, 50), 2)} ms, p90 ${fmt(percentile(lat, 90), 2)} ms, p99 ${fmt(p99, 2)} ms, max ${fmt(lat.at(-1) as number, 2)} ms (client in this process, server in a child)`);
  console.log(`   target p99 < ${TARGET.p99Ms} ms: ${verdict(p99 < TARGET.p99Ms)}`);
  // Pinned to one core (`taskset -c 1`, right for section 1), the client and the server take turns on it: the tail then
  // holds the client's own turns as well as the server's (measured: p99 5.8 ms pinned, 3.8–4.0 ms on two cores).
  if (allowedCpus() === 1) console.log('   note: this process may use one CPU only, so client and server share it; run unpinned to see the server alone');
}

/** CPUs this process may run on (Linux: Cpus_allowed_list of /proc/self/status); undefined elsewhere. */
function allowedCpus(): number | undefined {
  try {
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (!list) return undefined;
    return list.split(',').reduce((n, part) => {
      const [a, b] = part.split('-').map(Number);
      return n + (b === undefined ? 1 : b - a! + 1);
    }, 0);
  } catch {
    return undefined;
  }
}

main().catch((err: unknown) => {
  console.error('bench failed:', err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
