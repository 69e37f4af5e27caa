// `npm run bench:hostile` (after `npm run build`): the service under the attack of issue 10 §1. A service child in
// sandbox-simulator mode on loopback; a facility pushes visits (demo-facility-key) and a probe reads /health, first
// alone, then while four connections stream 5 MB hostile bodies to POST /fhir/$validate (an array nested ~2.5 million
// levels; an object with 300,000 keys), each a new connection, in a loop bounded in count and time. The attackers run
// in a child process of their own, so their event loop does not slow the pusher and the probe of this one.
// Prints /health p50/p99, the facility's accepted visits per second with and without the attack, the answers the
// attackers got, and the service's peak RSS. Targets: /health p99 < 100 ms, push rate ≥ half, RSS < 400 MB.
//   BENCH_SECONDS (8 per phase), BENCH_BATCH (20 visits per push), BENCH_ATTACKS (2000 per connection at most),
//   BENCH_ATTACKER_NICE (0: the attackers compete with the service for the cores; 19 yields them).
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hr, percentile, post, startService, stopService } from './harness.js';
import { visit } from './visits.js';

const num = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const SECONDS = num('BENCH_SECONDS', 8);
const BATCH = num('BENCH_BATCH', 20);
const ATTACKS_PER_CONNECTION = num('BENCH_ATTACKS', 2000);
const HOSTILE_BYTES = 5 * 1024 * 1024;
const CONNECTIONS = 4;
const ATTACKER_NICE = num('BENCH_ATTACKER_NICE', 0);
const TARGET = { healthP99Ms: 100, pushShare: 0.5, rssMb: 400 };

const DEMO_FACILITY_KEY = 'demo-facility-key';

/** 5 MB of `[` (≈ 2.5 million levels once the `]` are counted) or an object of 300,000 keys, made lazily chunk by chunk. */
function hostileChunks(kind: 'nested' | 'keys'): (i: number) => Buffer | undefined {
  const CHUNK = 64 * 1024;
  const brackets = Buffer.alloc(CHUNK, '[');
  const KEYS_PER_CHUNK = 3000;
  return (i) => {
    if (i * CHUNK >= HOSTILE_BYTES) return undefined;
    if (kind === 'nested') return brackets;
    if (i * KEYS_PER_CHUNK >= 300_000) return undefined;
    const keys = Array.from({ length: KEYS_PER_CHUNK }, (_, j) => `"k${i * KEYS_PER_CHUNK + j}":0`).join(',');
    return Buffer.from((i === 0 ? '{' : ',') + keys + ((i + 1) * KEYS_PER_CHUNK >= 300_000 ? '}' : ''));
  };
}

/** One hostile request on a new connection: resolves with the status (0 when the connection was cut first) and bytes sent. */
function attackOnce(port: number, kind: 'nested' | 'keys'): Promise<{ status: number; sent: number }> {
  return new Promise((resolve) => {
    const next = hostileChunks(kind);
    let sent = 0;
    let status = 0;
    const req = http.request({ host: '127.0.0.1', port, path: '/fhir/$validate', method: 'POST', agent: false, headers: { 'content-type': 'application/fhir+json' } }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve({ status, sent }));
      res.on('error', () => resolve({ status, sent }));
    });
    req.on('error', () => resolve({ status, sent }));
    const pump = (i: number): void => {
      for (;;) {
        const c = next(i++);
        if (!c) return void req.end();
        sent += c.length;
        if (!req.write(c)) return void req.once('drain', () => pump(i));
      }
    };
    pump(0);
  });
}

/** The four hostile connections, in this process (`--attacker`): results as one JSON line on stdout. */
async function attackerMain(port: number, seconds: number): Promise<void> {
  const until = hr() + seconds * 1000;
  const attacks = new Map<number, number>();
  let bytes = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, c) => {
    for (let n = 0; n < ATTACKS_PER_CONNECTION && hr() < until; n++) {
      const r = await attackOnce(port, (c + n) % 2 === 0 ? 'nested' : 'keys');
      attacks.set(r.status, (attacks.get(r.status) ?? 0) + 1);
      bytes += r.sent;
    }
  }));
  process.stdout.write(`${JSON.stringify({ attacks: [...attacks], bytes })}\n`);
}

/**
 * Runs the attackers in a child process (at BENCH_ATTACKER_NICE): sharing this process's event loop, they would delay
 * the pusher and the probe themselves and the figures would measure the bench, not the service.
 */
function runAttackers(port: number, seconds: number): Promise<{ attacks: Array<[number, number]>; bytes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nice', ['-n', String(ATTACKER_NICE), process.execPath, fileURLToPath(import.meta.url), '--attacker', String(port), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { attacks: Array<[number, number]>; bytes: number }) : reject(new Error(`attackers exited with ${code}`))));
  });
}

interface Phase {
  healthMs: number[];
  accepted: number;
  seconds: number;
  attacks: Map<number, number>;
  attackBytes: number;
}

async function phase(port: number, attack: boolean, serial: { next: number }, phaseSeconds = SECONDS): Promise<Phase> {
  const until = hr() + phaseSeconds * 1000;
  const healthMs: number[] = [];
  const attacks = new Map<number, number>();
  let accepted = 0;
  let attackBytes = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const probe = (async () => {
    while (hr() < until) {
      const t = hr();
      await new Promise<void>((resolve) => {
        http.get({ host: '127.0.0.1', port, path: '/health', agent }, (res) => res.resume().on('end', () => resolve())).on('error', () => resolve());
      });
      healthMs.push(hr() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const pusher = (async () => {
    const t0 = hr();
    while (hr() < until) {
      const batch = Array.from({ length: BATCH }, () => visit(serial.next, serial.next++));
      const r = await postWithKey(port, JSON.stringify(batch), agent);
      if (r.status === 202 || r.status === 207) accepted += (JSON.parse(r.body) as { accepted?: number }).accepted ?? 0;
    }
    return (hr() - t0) / 1000;
  })();
  const attackers = attack
    ? runAttackers(port, phaseSeconds).then((r) => {
        for (const [status, n] of r.attacks) attacks.set(status, n);
        attackBytes = r.bytes;
      })
    : Promise.resolve();
  const [, seconds] = await Promise.all([probe, pusher, attackers]);
  agent.destroy();
  return { healthMs: healthMs.sort((a, b) => a - b), accepted, seconds: seconds as number, attacks, attackBytes };
}

function postWithKey(port: number, body: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return post(port, '/ilp/visits', body, agent, { authorization: `Bearer ${DEMO_FACILITY_KEY}`, 'content-type': 'application/json' });
}

const WRONG_KEYS = 2000;

/**
 * A key guesser: WRONG_KEYS wrong keys in a row to GET /sync/status from one address (keep-alive). Run last: the
 * address (loopback, shared with the pusher) is blocked afterwards.
 */
async function guessKeys(port: number): Promise<{ answers: Map<number, number>; ms: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const answers = new Map<number, number>();
  const t0 = hr();
  for (let i = 0; i < WRONG_KEYS; i++) {
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/sync/status', agent, headers: { authorization: `Bearer guess-${i}-${'x'.repeat(24)}`, accept: 'application/json' } },
        (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0))).on('error', () => resolve(0));
    });
    answers.set(status, (answers.get(status) ?? 0) + 1);
  }
  agent.destroy();
  return { answers, ms: hr() - t0 };
}

/** CPU seconds (user + system) a process has used; undefined off Linux. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/** Peak resident set of a process (VmHWM), MB; undefined off Linux. */
function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

const fmt = (n: number, d = 1) => n.toFixed(d);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');

async function main(): Promise<void> {
  console.log(`ilp-adapter bench:hostile — Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-hostile-'));
  const mainJs = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
  // Sandbox-simulator mode (no FACILITIES_FILE), loopback only; sync off so that the pushes measure ingest alone.
  const env: NodeJS.ProcessEnv = { DATA_DIR: dataDir, SYNC_ENABLED: 'false', FACILITIES_FILE: '' };
  const service = await startService(mainJs, env);
  const serial = { next: 1 };
  try {
    await phase(service.port, false, serial, 2); // warm-up (JIT, SQLite pages), not reported
    const pid = service.child.pid ?? 0;
    const cpu0 = cpuSeconds(pid);
    const calm = await phase(service.port, false, serial);
    const cpu1 = cpuSeconds(pid);
    const attacked = await phase(service.port, true, serial);
    const cpu2 = cpuSeconds(pid);
    const rss = service.child.pid ? peakRssMb(service.child.pid) : undefined;
    const rate = (p: Phase) => p.accepted / p.seconds;
    const line = (name: string, p: Phase) =>
      console.log(`   ${name}: /health p50 ${fmt(percentile(p.healthMs, 50), 2)} ms, p99 ${fmt(percentile(p.healthMs, 99), 2)} ms (${p.healthMs.length} probes); ` +
        `facility accepted ${fmt(rate(p))} visits/s (${p.accepted} in ${fmt(p.seconds)} s, batches of ${BATCH})`);
    console.log(`\n${SECONDS} s per phase; ${CONNECTIONS} hostile connections, 5 MB bodies (nested arrays / 300,000 keys), a new connection per request; 'cut' = the connection was closed before the client read the answer`);
    line('without attack', calm);
    line('under attack  ', attacked);
    const answers = [...attacked.attacks].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s === 0 ? 'cut' : s}×${n}`).join(', ');
    const total = [...attacked.attacks.values()].reduce((a, b) => a + b, 0);
    console.log(`   hostile requests: ${total} (${answers}); ${fmt(attacked.attackBytes / 1024 / 1024)} MB written by the attackers, ` +
      `${fmt(attacked.attackBytes / Math.max(1, total) / 1024)} KiB per request into the socket before the server closed it (kernel buffers; the service parses nothing past the first violation and discards at most 256 KiB more)`);
    console.log(`   service peak RSS ${rss ?? '?'} MB`);
    if (cpu0 !== undefined && cpu1 !== undefined && cpu2 !== undefined) {
      console.log(`   service CPU: ${fmt((cpu1 - cpu0) / calm.seconds, 2)} cores without attack, ${fmt((cpu2 - cpu1) / attacked.seconds, 2)} under attack (the attackers run in a child at nice ${ATTACKER_NICE} on the same ${os.cpus().length} cores)`);
    }
    const p99 = percentile(attacked.healthMs, 99);
    console.log(`   target /health p99 < ${TARGET.healthP99Ms} ms under attack: ${verdict(p99 < TARGET.healthP99Ms)}`);
    console.log(`   target push rate ≥ ${TARGET.pushShare * 100} % of the calm rate: ${verdict(rate(attacked) >= TARGET.pushShare * rate(calm))} (${fmt((100 * rate(attacked)) / Math.max(1e-9, rate(calm)), 0)} %)`);
    console.log(`   target peak RSS < ${TARGET.rssMb} MB: ${rss === undefined ? 'not measured' : verdict(rss < TARGET.rssMb)}`);
    const guess = await guessKeys(service.port);
    const guessAnswers = [...guess.answers].sort((a, b) => a[0] - b[0]).map(([st, n]) => `${st}×${n}`).join(', ');
    console.log(`   ${WRONG_KEYS} wrong API keys in a row from one address: ${guessAnswers} in ${fmt(guess.ms / 1000, 2)} s ` +
      `(${fmt(guess.ms / WRONG_KEYS, 2)} ms each); keys looked at = the 401s + the wrong key that started the block (10 a minute, then blocks of 1, 2, 4 … 15 min)`);
  } finally {
    await stopService(service.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const attackerArgs = process.argv.indexOf('--attacker');
(attackerArgs > 0 ? attackerMain(Number(process.argv[attackerArgs + 1]), Number(process.argv[attackerArgs + 2])) : main()).catch((err: unknown) => {
  console.error('bench failed:', err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
