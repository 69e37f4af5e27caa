// Set-up that tells the truth: every configuration mistake at once, a token probe per facility at start-up (shown in
// /ready, /sync/status and the log), recovery after credentials are fixed (restart or resume), and records that say
// when they wait for their facility. Runs against a simulator on loopback over real HTTP.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startService, type RunningService } from '../../src/service.js';
import { ConfigError } from '../../src/config/errors.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { captureLines, makeVisit, LOCATION } from './fixtures.js';

const ORG = '10000301';
const KEY = 'key-for-facility-setup-0123456789';
const ADMIN = 'A8007IqKmhQm9TCqo-3WWQP6y7KQrMDf'; // random: ADMIN_API_KEY must pass the key-strength rule
const RIGHT = 'the-right-secret-1234';
const WRONG = 'a-wrong-secret-5678';
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

// One simulator per test, on a clock the test moves: the platform locks a client out for a minute after a refused token.
let sim: RunningSimulator;
let simNow = Date.now();
beforeEach(async () => {
  simNow = Date.now();
  sim = await startSimulator({ port: 0, clock: () => simNow, clients: [{ clientId: 'setup-client', clientSecret: RIGHT, organizationId: ORG }] });
});
afterEach(() => sim.close());

function envFor(dir: string, secret: string, simulatorUrl: string = sim.url, extra: Record<string, unknown> = {}): NodeJS.ProcessEnv {
  fs.writeFileSync(path.join(dir, 'facilities.json'), JSON.stringify({ facilities: [{
    organizationId: ORG, environment: 'simulator', simulatorUrl,
    credentials: { clientIdEnv: 'SETUP_ID', clientSecretEnv: 'SETUP_SECRET' },
    locations: { [LOCATION]: { name: 'Posyandu Uji', physicalType: 'si' } }, ...extra,
  }] }));
  fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ keys: [{ organizationId: ORG, sha256: sha(KEY) }] }));
  return {
    PORT: '0', DATA_DIR: dir, FACILITIES_FILE: path.join(dir, 'facilities.json'), API_KEYS_FILE: path.join(dir, 'keys.json'),
    ADMIN_API_KEY: ADMIN, SYNC_ENABLED: 'false', LOG_LEVEL: 'info', SETUP_ID: 'setup-client', SETUP_SECRET: secret,
  };
}

async function get(svc: RunningService, p: string, key?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${svc.url}${p}`, { headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
async function post(svc: RunningService, p: string, key: string, body?: unknown) {
  const res = await fetch(`${svc.url}${p}`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-setup-'));

describe('configuration mistakes', () => {
  it('are reported all at once: environment, facilities file and credential variables in one ConfigError', async () => {
    const dir = tempDir();
    const env = envFor(dir, RIGHT, 'http://127.0.0.1:9090/fhir', { timezone: 'Mars/Olympus' });
    delete env.SETUP_SECRET;
    const err = await startService({ ...env, SYNC_CRON: 'every minute', PORT: 'eighty', METRICS_PUBLIC: 'maybe' }, { logDestination: captureLines().stream }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT: must be an integer/);
    expect(problems).toMatch(/SYNC_CRON: "every minute" is not a valid cron expression/);
    expect(problems).toMatch(/METRICS_PUBLIC: must be true or false/);
    expect(problems).toMatch(/timezone: "Mars\/Olympus" is not an IANA time zone/);
    expect(problems).toMatch(/simulatorUrl: .*"\/fhir" is not a path the simulator serves/);
    expect(fs.existsSync(path.join(dir, 'hmac.key'))).toBe(false);

    // With the facilities file right, the missing variable is reported together with the environment's mistakes.
    const env2 = envFor(tempDir(), RIGHT);
    delete env2.SETUP_SECRET;
    const err2 = await startService({ ...env2, SYNC_CRON: 'every minute' }, { logDestination: captureLines().stream }).catch((e) => e);
    expect((err2 as ConfigError).problems).toEqual([
      expect.stringMatching(/^SYNC_CRON/),
      `facility ${ORG}: environment variable SETUP_SECRET (client secret) is not set`,
    ]);
  });

  it('a facility with environment "simulator" and no simulatorUrl is an error, never a silently embedded simulator', async () => {
    const dir = tempDir();
    const env = envFor(dir, RIGHT);
    fs.writeFileSync(env.FACILITIES_FILE!, JSON.stringify({ facilities: [{ organizationId: ORG, environment: 'simulator', credentials: { clientIdEnv: 'SETUP_ID', clientSecretEnv: 'SETUP_SECRET' } }] }));
    const err = await startService(env, { logDestination: captureLines().stream }).catch((e) => e);
    expect((err as ConfigError).problems).toEqual([expect.stringMatching(/simulatorUrl: required with environment "simulator"/)]);
  });
});

describe('start-up token probe', () => {
  it('ok: shown in /ready, /sync/status and the log; a simulatorUrl ending in /fhir-r4/v1 works', async () => {
    const logs = captureLines();
    const svc = await startService(envFor(tempDir(), RIGHT, `${sim.url}/fhir-r4/v1`), { logDestination: logs.stream });
    try {
      await svc.probed;
      const ready = await get(svc, '/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.facilities).toEqual({ [ORG]: { tokenProbe: 'ok' } });
      const st = await get(svc, '/sync/status', ADMIN);
      expect(st.body.facilities[0]).toMatchObject({ organizationId: ORG, status: 'active', tokenProbe: { status: 'ok', checkedAt: expect.any(String) } });
      expect(logs.lines.some((l) => l.includes('token probe') && l.includes(ORG))).toBe(true);
      // The CapabilityStatement describes delivery as it is.
      const meta = await get(svc, '/fhir/metadata');
      expect(meta.body.implementation.description).not.toMatch(/later/);
      expect(meta.body.rest[0].documentation).toMatch(/POST \/ilp\/visits[\s\S]*Delivery: .*transaction Bundle.*exactly once/);
    } finally {
      await svc.close();
    }
  }, 30_000);

  it('refused credentials: auth-failed with the platform’s reason, records explain that they wait; a restart with the fixed secret lifts it', async () => {
    const dir = tempDir();
    const logs = captureLines();
    let svc = await startService(envFor(dir, WRONG), { logDestination: logs.stream });
    const visit = makeVisit(1, { organizationId: ORG });
    try {
      await svc.probed;
      expect((await get(svc, '/ready')).body.details.facilities[ORG].tokenProbe).toBe('auth-failed');
      const st = await get(svc, '/sync/status', KEY, { 'accept-language': 'en' });
      expect(st.body.facilities[0]).toMatchObject({ status: 'auth-failed', cause: 'credentials', tokenProbe: { status: 'auth-failed', httpStatus: expect.any(Number), reason: expect.stringMatching(/refused the client credentials/) } });
      expect((await get(svc, '/sync/status', KEY)).body.facilities[0].tokenProbe.reason).toMatch(/^SATUSEHAT menolak kredensial klien/);
      expect((await post(svc, '/ilp/visits', KEY, visit)).status).toBe(202);
      const view = await get(svc, `/ilp/visits/${ORG}/${visit.visitId}`, KEY);
      expect(view.body).toMatchObject({ state: 'queued', facilityStatus: 'auth-failed', facilityHoldCause: 'credentials' });
      // Bahasa Indonesia unless the operator asks for English.
      expect(view.body.explanation).toMatch(/menunggu karena SATUSEHAT menolak kredensial fasilitas ini.*mulai ulang layanan atau lanjutkan \(resume\) fasilitas ini/);
      const english = await get(svc, `/ilp/visits/${ORG}/${visit.visitId}`, KEY, { 'accept-language': 'en-US,en;q=0.9,id;q=0.5' });
      expect(english.body.explanation).toMatch(/waits because SATUSEHAT refused this facility's credentials.*restart the service or resume the facility/);
      expect(logs.lines.join('\n')).not.toContain(WRONG);
    } finally {
      await svc.close();
    }
    // Fixed and restarted on the same database, after the platform's one-minute lockout: the probe passes at once and
    // the held facility delivers again (without waiting for its next scheduled probe).
    simNow += 61_000;
    svc = await startService(envFor(dir, RIGHT), { logDestination: captureLines().stream });
    try {
      await svc.probed;
      expect(await svc.store.getFacilityState(ORG)).toMatchObject({ status: 'active' });
      await post(svc, '/sync/run?wait=true', ADMIN);
      expect((await svc.store.getVisit(ORG, visit.visitId))!.state).toBe('sent');
    } finally {
      await svc.close();
    }
  }, 60_000);

  it('a wrong URL (404 at the token endpoint) is reported as a wrong URL, not as an auth failure', async () => {
    // Something answers at the configured origin, but not the platform: every path is 404 (a proxy, another service).
    const other = http.createServer((_req, res) => { res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found'); });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const svc = await startService(envFor(tempDir(), RIGHT, `http://127.0.0.1:${(other.address() as AddressInfo).port}`), { logDestination: captureLines().stream });
    try {
      await svc.probed;
      const st = await get(svc, '/sync/status', ADMIN, { 'accept-language': 'en' });
      expect(st.body.facilities[0]).toMatchObject({
        status: 'config-error', cause: 'url',
        tokenProbe: { status: 'wrong-url', httpStatus: 404, reason: expect.stringMatching(/answered HTTP 404.*environment or simulatorUrl/) },
      });
      // Our reason, kept as a message: Bahasa Indonesia by default, on the probe and on the facility's hold.
      const id = await get(svc, '/sync/status', ADMIN);
      expect(id.body.facilities[0].tokenProbe.reason).toMatch(/menjawab HTTP 404: environment atau simulatorUrl fasilitas ini menunjuk ke alamat yang salah/);
      expect(id.body.facilities[0].reason).toMatch(/menjawab HTTP 404: environment atau simulatorUrl/);
    } finally {
      await svc.close();
      await new Promise((r) => other.close(r));
    }
  }, 30_000);

  it('resume probes at once: the answer carries the probe, and an auth-failed facility becomes active when the token is granted', async () => {
    const svc = await startService(envFor(tempDir(), RIGHT), { logDestination: captureLines().stream });
    try {
      await svc.probed;
      await svc.store.putFacilityState({ organizationId: ORG, status: 'auth-failed', cause: 'credentials', reason: 'refused earlier', notBefore: Date.now() + 3_600_000, updatedAt: Date.now() });
      const res = await post(svc, `/sync/facilities/${ORG}/resume`, ADMIN);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'active', tokenProbe: { status: 'ok' } });
      expect(await svc.store.getFacilityState(ORG)).toMatchObject({ status: 'active' });
    } finally {
      await svc.close();
    }
  }, 30_000);
});
