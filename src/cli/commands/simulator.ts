// `ilp-adapter simulator`: runs the bundled SATUSEHAT stand-in on loopback. A development and test tool — NOT SATUSEHAT.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { startSimulator, type RunningSimulator } from '../../simulator/server.js';
import { DEFAULT_TOKEN_EXPIRY_S, DEMO_CLIENT, checkOptions, type SimulatorClient, type SimulatorOptions } from '../../simulator/options.js';

export interface SimulatorCliFlags {
  port?: string;
  host?: string;
  clients?: string;
  quota?: string;
  latencyMs?: string;
  errorRate?: string;
  throttleRate?: string;
  timeoutRate?: string;
  dropAfterCommitRate?: string;
  tokenExpiry?: string;
  unknownNiks?: string;
  seed?: string;
  patientCreateBody?: string;
  errorStyle?: string;
  strictSearch?: boolean;
  patientSearchView?: string;
  requireDiagnosis?: boolean;
}

export type SimulatorStartOptions = SimulatorOptions & { port: number; host: string };

function readJsonFile(flag: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${flag} ${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${flag} ${file}: not valid JSON`);
  }
}

function int(flag: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new Error(`${flag} must be a whole number from ${min} to ${max} (got "${v}")`);
  return Number(v);
}

function rate(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`${flag} must be a number from 0 to 1, e.g. 0.1 (got "${v}")`);
  return n;
}

/** Turns command-line flags into simulator options, or throws an Error whose message names the flag and the problem. */
export function parseSimulatorFlags(f: SimulatorCliFlags): SimulatorStartOptions {
  const o: SimulatorStartOptions = { port: int('--port', f.port, 0, 65535) ?? 0, host: f.host ?? '127.0.0.1' };
  if (f.clients !== undefined) {
    const clients = readJsonFile('--clients', f.clients);
    if (!Array.isArray(clients)) throw new Error(`--clients ${f.clients}: expected a JSON array of {clientId, clientSecret, organizationId}`);
    o.clients = clients as SimulatorClient[];
  }
  o.quotaPerMinute = int('--quota', f.quota, 0);
  if (f.latencyMs !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(f.latencyMs);
    if (!m) throw new Error(`--latency-ms must be N or MIN-MAX in milliseconds (got "${f.latencyMs}")`);
    o.latencyMs = m[2] === undefined ? Number(m[1]) : { min: Number(m[1]), max: Number(m[2]) };
  }
  o.errorRate5xx = rate('--error-rate', f.errorRate);
  o.throttleRate = rate('--throttle-rate', f.throttleRate);
  o.timeoutRate = rate('--timeout-rate', f.timeoutRate);
  o.dropAfterCommitRate = rate('--drop-after-commit-rate', f.dropAfterCommitRate);
  o.tokenExpiryS = int('--token-expiry', f.tokenExpiry, 1);
  o.seed = int('--seed', f.seed, 0, 2 ** 31 - 1);
  if (f.unknownNiks !== undefined) {
    const niks = readJsonFile('--unknown-niks', f.unknownNiks);
    if (!Array.isArray(niks) || !niks.every((n) => typeof n === 'string' && /^\d{16}$/.test(n))) {
      throw new Error(`--unknown-niks ${f.unknownNiks}: expected a JSON array of 16-digit NIK strings`);
    }
    o.unknownNiks = niks as string[];
  }
  o.patientCreateBody = f.patientCreateBody as SimulatorOptions['patientCreateBody'];
  o.errorStyle = f.errorStyle as SimulatorOptions['errorStyle'];
  o.patientSearchView = f.patientSearchView as SimulatorOptions['patientSearchView'];
  if (f.strictSearch) o.strictSearch = true;
  if (f.requireDiagnosis === false) o.requireDiagnosis = false;
  for (const k of Object.keys(o) as (keyof SimulatorStartOptions)[]) if (o[k] === undefined) delete o[k];
  try {
    checkOptions(o);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith('clients') ? `--clients ${f.clients}: ${msg}` : msg);
  }
  return o;
}

/** The startup lines: what this is (and is not), where it listens, and the demo credentials when no clients were given. */
export function startupBanner(sim: Pick<RunningSimulator, 'authBaseUrl' | 'fhirBaseUrl'>, o: SimulatorStartOptions, seed: number): string {
  const lines = [
    'SATUSEHAT SIMULATOR: a development and test tool. This is NOT SATUSEHAT; nothing sent here reaches the national platform.',
    `  auth base: ${sim.authBaseUrl}`,
    `  FHIR base: ${sim.fhirBaseUrl}`,
  ];
  if (!o.clients) lines.push(`  demo client: client_id=${DEMO_CLIENT.clientId} client_secret=${DEMO_CLIENT.clientSecret} organizationId=${DEMO_CLIENT.organizationId}`);
  else lines.push(`  clients: ${o.clients.length} (organizations ${o.clients.map((c) => c.organizationId).join(', ')})`);
  const faults = [
    o.latencyMs !== undefined ? `latency ${typeof o.latencyMs === 'number' ? o.latencyMs : `${o.latencyMs.min}-${o.latencyMs.max}`} ms` : '',
    o.errorRate5xx ? `5xx rate ${o.errorRate5xx}` : '',
    o.throttleRate ? `429 rate ${o.throttleRate}` : '',
    o.timeoutRate ? `timeout rate ${o.timeoutRate}` : '',
    o.dropAfterCommitRate ? `drop-after-commit rate ${o.dropAfterCommitRate}` : '',
  ].filter(Boolean);
  lines.push(`  quota: ${o.quotaPerMinute ?? 150} requests/min per client; token expiry ${o.tokenExpiryS ?? DEFAULT_TOKEN_EXPIRY_S} s; seed ${seed}${faults.length ? `; faults: ${faults.join(', ')}` : ''}`);
  const documented = [
    o.patientCreateBody === 'documented' ? 'patient create body' : '',
    o.errorStyle === 'documented' ? 'error style' : '',
    o.strictSearch ? 'strict search' : '',
    o.patientSearchView && o.patientSearchView !== 'ids-only' ? `patient search view ${o.patientSearchView}` : '',
    o.requireDiagnosis === false ? 'diagnosis not required' : '',
  ].filter(Boolean);
  lines.push(`  answers: ${documented.length ? `as recorded except ${documented.join(', ')}` : 'as the platform was recorded answering'}`);
  return `${lines.join('\n')}\n`;
}

export function simulatorCommand(ctx: { stdout?: Writable; stderr?: Writable; exitCode?: number } = {}): Command {
  const out = ctx.stdout ?? process.stdout;
  const err = ctx.stderr ?? process.stderr;
  return new Command('simulator')
    .description('run the bundled SATUSEHAT simulator (development and test tool, NOT SATUSEHAT)')
    .addOption(new Option('--port <n>', 'port to listen on (0 = any free port)').default('0'))
    .addOption(new Option('--host <h>', 'interface to listen on').default('127.0.0.1'))
    .option('--clients <file>', 'JSON array of {clientId, clientSecret, organizationId} (default: the demo client)')
    .option('--quota <n>', 'requests per minute per client, token calls included (default 150; 0 = unlimited)')
    .option('--latency-ms <n|min-max>', 'added latency per FHIR request')
    .option('--error-rate <r>', 'share of FHIR requests answered with 500/502/503/504 (0..1)')
    .option('--throttle-rate <r>', 'share of FHIR requests answered 429 with Retry-After: 1, whatever the quota (0..1)')
    .option('--timeout-rate <r>', 'share of FHIR requests that hang for 60 s, then 504 (0..1)')
    .option('--drop-after-commit-rate <r>', 'share of FHIR writes committed, then answered by closing the connection (0..1)')
    .option('--token-expiry <s>', 'token lifetime in seconds (default 14399, as recorded in production)')
    .addOption(new Option('--patient-create-body <style>', 'POST /Patient answer: recorded (200, data["Patient ID:"]) or documented (data.patient_id)').choices(['recorded', 'documented']))
    .addOption(new Option('--error-style <style>', 'error bodies: recorded (Google style where recorded) or documented (rule numbers)').choices(['recorded', 'documented']))
    .option('--strict-search', 'answer unsupported search parameters with 400 invalid_query instead of dropping them')
    .addOption(new Option('--patient-search-view <view>', 'Patient search hits: ids-only (default), masked or full').choices(['ids-only', 'masked', 'full']))
    .option('--no-require-diagnosis', 'accept a finished Encounter without diagnosis (rule 10457 off)')
    .option('--unknown-niks <file>', 'JSON array of NIKs that Dukcapil does not know')
    .option('--seed <n>', 'PRNG seed for faults and ids (reproducible runs)')
    .action(async (flags: SimulatorCliFlags) => {
      let o: SimulatorStartOptions;
      let sim: RunningSimulator;
      try {
        o = parseSimulatorFlags(flags);
        sim = await startSimulator(o);
      } catch (e) {
        err.write(`ilp-adapter simulator: ${(e as Error).message}\n`);
        ctx.exitCode = 2;
        return;
      }
      out.write(startupBanner(sim, o, sim.state.seed));
      const stop = () => void sim.close().finally(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
