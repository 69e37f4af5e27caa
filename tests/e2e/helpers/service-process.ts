// A service process (src/main.ts, transpiled by compile-service.ts) started from a test: waits for its "ready" line,
// keeps every line it writes (for PII and log assertions), and small HTTP helpers for talking to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CompiledService } from './compile-service.js';
import { HANG_MS } from '../../helpers/eventually.js';

/** One facility of a service process under test: its credential (given to the service by environment variable) and API key. */
export interface ProcessFacility {
  organizationId: string;
  clientId: string;
  clientSecret: string;
  apiKey: string;
}

/**
 * Writes the facilities and API-keys files into `dir` for facilities on the simulator (or proxy) at `platformUrl` with
 * location code `location`, and returns the environment of a configured service on loopback: `extra` adds or overrides
 * the sync settings a test is about. `quotaPerMinute`: each facility's platform quota (default: high enough never to matter).
 */
export function serviceProcessEnv(
  dir: string, dataDir: string, platformUrl: string, location: string, facilities: ProcessFacility[], adminKey: string, extra: NodeJS.ProcessEnv,
  quotaPerMinute = 100_000,
): NodeJS.ProcessEnv {
  const sha = (k: string) => createHash('sha256').update(k).digest('hex');
  fs.writeFileSync(path.join(dir, 'facilities.json'), JSON.stringify({ facilities: facilities.map((f) => ({
    organizationId: f.organizationId, environment: 'simulator', simulatorUrl: platformUrl, quotaPerMinute,
    credentials: { clientIdEnv: `SS_${f.organizationId}_ID`, clientSecretEnv: `SS_${f.organizationId}_SECRET` },
    locations: { [location]: { name: 'Posyandu Uji', physicalType: 'si' } },
  })) }));
  fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ keys: facilities.map((f) => ({ organizationId: f.organizationId, sha256: sha(f.apiKey) })) }));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    FACILITIES_FILE: path.join(dir, 'facilities.json'),
    API_KEYS_FILE: path.join(dir, 'keys.json'),
    ADMIN_API_KEY: adminKey,
    LOG_LEVEL: 'info',
    ...extra,
  };
  for (const f of facilities) {
    env[`SS_${f.organizationId}_ID`] = f.clientId;
    env[`SS_${f.organizationId}_SECRET`] = f.clientSecret;
  }
  return env;
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the service process and waits for its "ready" line (PORT=0: the URL comes from that line). */
export function startServiceProcess(svc: CompiledService, env: NodeJS.ProcessEnv, output: string[]): Promise<ServiceProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [svc.main], { env, cwd: svc.root, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    let buf = '';
    let stderr = '';
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start within ${HANG_MS} ms; stderr: ${stderr}`));
    }, HANG_MS); // hang bound only
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      output.push(...d.toString().split('\n').filter(Boolean));
    });
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        output.push(line);
        const m = /"msg":"ilp-adapter ready on (http:\/\/[^"]+)"/.exec(line);
        if (m && !ready) {
          ready = true;
          clearTimeout(timer);
          resolve({ child, url: m[1]!, exited });
        }
      }
    });
    void exited.then(({ code, signal }) => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`service exited before ready (code ${code}, signal ${signal}); stderr: ${stderr}`));
      }
    });
  });
}

export async function kill9(p: ServiceProcess): Promise<void> {
  p.child.kill('SIGKILL');
  const { signal } = await p.exited;
  expect(signal).toBe('SIGKILL');
}

export async function call(url: string, method: string, p: string, key: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

