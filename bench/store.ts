// Store benchmark (not a test): ingest throughput, claim latency and memory with a 100k backlog, file size.
// Run after `npm run build`: `node --expose-gc dist/bench/store.js [--rows 100000] [--dir /tmp/x] [--keep]`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, plainRecordCodec } from '../src/store/index.js';
import type { IngestItem, Store } from '../src/store/types.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const ROWS = Number(arg('rows', '100000'));
const FACILITIES = 10;
const T0 = Date.UTC(2025, 0, 1);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** A ~2 KB visit record shaped like an ILP visit (synthetic values only). */
function record(n: number): unknown {
  return {
    organizationId: `1000000${n % FACILITIES}`,
    visitId: `V${n}`,
    visitDate: '2025-01-15T09:30:00+07:00',
    patient: { nik: String(3171000000000000 + n), name: `Pasien ${n}`, birthDate: '1990-05-01', gender: 'female' },
    practitionerNik: '7209061211900001',
    location: 'POLI-UMUM',
    measurements: Array.from({ length: 8 }, (_, i) => ({ code: `m${i}`, value: 10 + i + (n % 7), unit: 'kg', at: '2025-01-15T09:35:00+07:00' })),
    immunizations: [{ vaccine: 'BCG', date: '2025-01-15', lot: `LOT-${n % 97}` }],
    notes: 'x'.repeat(1200),
  };
}

function items(from: number, count: number): IngestItem[] {
  const out: IngestItem[] = [];
  for (let n = from; n < from + count; n++) {
    const r = record(n);
    out.push({ organizationId: `1000000${n % FACILITIES}`, visitId: `V${n}`, record: r, contentHash: createHash('sha256').update(JSON.stringify(r)).digest('hex') });
  }
  return out;
}

/** Times only the store calls (record generation and hashing are excluded). */
async function ingestAll(store: Store, total: number, batch: number, start = 0): Promise<number> {
  let ms = 0;
  for (let n = start; n < start + total; n += batch) {
    const b = items(n, Math.min(batch, start + total - n));
    const t = performance.now();
    await store.ingest(b, T0 + n);
    ms += performance.now() - t;
  }
  return total / (ms / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function fileSize(file: string): number {
  let total = 0;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      total += statSync(f).size;
    } catch { /* absent */ }
  }
  return total;
}

/** Child mode: a fresh process that opens the filled file and does the scheduler's reads, so RSS is the store's alone. */
async function rssProbe(file: string): Promise<void> {
  const before = process.memoryUsage().rss;
  const store = await openStore({ url: `sqlite:${file}`, codec: plainRecordCodec });
  const orgs = await store.facilitiesWithDueWork(T0 + ROWS * 10);
  const counts = await store.counts();
  const claimed = (await store.claimDue(orgs[0], T0 + ROWS * 10, 50, 60_000)).length;
  for (let i = 0; i < 200; i++) await store.getVisit(`1000000${i % FACILITIES}`, `V${i * 37}`);
  const after = process.memoryUsage().rss;
  await store.close();
  process.stdout.write(JSON.stringify({ before, after, orgs: orgs.length, queued: counts.byState.queued, claimed }));
}

async function main(): Promise<void> {
  if (process.argv.includes('--rss-probe')) return rssProbe(arg('rss-probe', ''));
  const dir = arg('dir', '') || mkdtempSync(path.join(os.tmpdir(), 'ilp-bench-store-'));
  mkdirSync(dir, { recursive: true });
  const results: Record<string, string> = {};
  // Plain bodies, as these figures were first measured (the sealing cost is bench:import's and the at-rest notes').
  const fresh = async (name: string, sync: 'NORMAL' | 'FULL' = 'NORMAL') => {
    const file = path.join(dir, name);
    rmSync(file, { force: true });
    return { file, store: await openStore({ url: `sqlite:${file}`, synchronous: sync, codec: plainRecordCodec }) };
  };
  try {
    // 1. Ingest throughput, durable (on disk, WAL).
    for (const [label, batch, count, sync] of [
      ['autocommit (1 record per transaction), NORMAL', 1, 5_000, 'NORMAL'],
      ['batches of 100, NORMAL', 100, 20_000, 'NORMAL'],
      ['autocommit (1 record per transaction), FULL', 1, 2_000, 'FULL'],
      ['batches of 100, FULL', 100, 20_000, 'FULL'],
    ] as const) {
      const { store } = await fresh('ingest.db', sync);
      results[`ingest ${label}`] = `${Math.round(await ingestAll(store, count, batch)).toLocaleString('en')} records/s`;
      await store.close();
    }

    // 2. A backlog of ROWS queued visits over FACILITIES facilities.
    const { file, store } = await fresh('backlog.db');
    const t = performance.now();
    const rate = await ingestAll(store, ROWS, 100);
    results[`fill ${ROWS.toLocaleString('en')} queued (batches of 100)`] = `${Math.round(rate).toLocaleString('en')} records/s (wall ${((performance.now() - t) / 1000).toFixed(1)} s incl. generation)`;
    // RSS of a fresh process holding the store with the full backlog (all queued), doing the scheduler's reads.
    const self = fileURLToPath(import.meta.url);
    const probe = spawnSync(process.execPath, [self, '--rss-probe', file, '--rows', String(ROWS)], { encoding: 'utf8' });
    if (probe.status !== 0) throw new Error(`rss probe failed: ${probe.stderr}`);
    const p = JSON.parse(probe.stdout) as { before: number; after: number; orgs: number; queued: number; claimed: number };
    results['RSS fresh process: node alone / with store open + reads'] = `${mb(p.before)} / ${mb(p.after)} (${p.queued} queued, ${p.orgs} facilities due)`;
    const now = T0 + ROWS * 10;
    const lat = async (fn: () => Promise<unknown>, n: number) => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        await fn();
        xs.push(performance.now() - s);
      }
      return `median ${median(xs).toFixed(3)} ms, max ${Math.max(...xs).toFixed(3)} ms (n=${n})`;
    };
    results['facilitiesWithDueWork, 100k queued'] = await lat(() => store.facilitiesWithDueWork(now), 200);
    results['counts(), 100k rows'] = await lat(() => store.counts(), 20);
    results['claimDue(limit 50), 100k queued'] = await lat(() => store.claimDue(`1000000${Math.floor(Math.random() * FACILITIES)}`, now, 50, 60_000), 100);
    results['getVisit'] = await lat(() => store.getVisit('10000003', `V${Math.floor(Math.random() * (ROWS / FACILITIES)) * FACILITIES + 3}`), 1000);
    // Store overhead of delivery: claim 50 + one markSent per visit (each its own transaction), 20k visits.
    // It also leaves sent history behind: due-work lookups must not slow down with it.
    let drained = 0;
    const td = performance.now();
    for (let f = 0; f < FACILITIES; f++) {
      const org = `1000000${f}`;
      for (let k = 0; k < 40; k++) {
        for (const r of await store.claimDue(org, now, 50, 60_000)) {
          await store.markSent(r.claim, { encounter: `Encounter/${r.visitId}`, 'observation/m0.1': `Observation/${r.visitId}-0` }, now);
          drained++;
        }
      }
    }
    results[`claim(50)+markSent, ${drained.toLocaleString('en')} visits`] = `${Math.round(drained / ((performance.now() - td) / 1000)).toLocaleString('en')} visits/s`;
    results['facilitiesWithDueWork, after the sends'] = await lat(() => store.facilitiesWithDueWork(now), 200);
    if (typeof global.gc === 'function') global.gc();
    results['RSS of the filling process (end)'] = mb(process.memoryUsage().rss);
    await store.close();
    results['file size (db+wal), 100k visits, ~2 KB each'] = mb(fileSize(file));

  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
  const width = Math.max(...Object.keys(results).map((k) => k.length));
  process.stdout.write(`store benchmark (${os.cpus().length} cpus, node ${process.version})\n`);
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

await main();
