// The assembled service over real HTTP: configuration, API keys and facility isolation, ingest semantics, operational
// endpoints, and sandbox-simulator mode (npm start on a fresh machine).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startService, type RunningService, DEMO_ADMIN_KEY, DEMO_FACILITY_KEY } from '../../src/service.js';
import { ConfigError } from '../../src/config/errors.js';
import { mappingsDir } from '../../src/util/paths.js';
import { captureLines, makeVisit, LOCATION } from './fixtures.js';
import { eventually } from '../helpers/eventually.js';

const sha = (k: string) => createHash('sha256').update(k).digest('hex');
const A = '10000201';
const B = '10000202';
const KEY_A = 'key-for-facility-a-0123456789';
const KEY_B = 'key-for-facility-b-0123456789';
const ADMIN = '8RLvUE0dDt1vyLDJ6cWSeD3NMGK4Jobs'; // random: ADMIN_API_KEY must pass the key-strength rule

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-svc-'));
}

function configuredEnv(dir: string): NodeJS.ProcessEnv {
  const facilities = [A, B].map((org) => ({
    organizationId: org,
    environment: 'simulator',
    simulatorUrl: 'bundled',
    credentials: { clientIdEnv: `SS_${org}_ID`, clientSecretEnv: `SS_${org}_SECRET` },
    locations: { [LOCATION]: { name: 'Posyandu Uji', physicalType: 'si' } },
  }));
  fs.writeFileSync(path.join(dir, 'facilities.json'), JSON.stringify({ facilities }));
  fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ keys: [{ organizationId: A, sha256: sha(KEY_A) }, { organizationId: B, sha256: sha(KEY_B) }] }));
  return {
    PORT: '0',
    DATA_DIR: dir,
    FACILITIES_FILE: path.join(dir, 'facilities.json'),
    API_KEYS_FILE: path.join(dir, 'keys.json'),
    ADMIN_API_KEY: ADMIN,
    SYNC_ENABLED: 'false',
    INGEST_MAX_RECORDS: '3',
    LOG_LEVEL: 'info',
    [`SS_${A}_ID`]: 'client-a',
    [`SS_${A}_SECRET`]: 'very-secret-a',
    [`SS_${B}_ID`]: 'client-b',
    [`SS_${B}_SECRET`]: 'very-secret-b',
  };
}

async function call(svc: RunningService, method: string, p: string, key?: string, body?: unknown) {
  const res = await fetch(`${svc.url}${p}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined, headers: res.headers };
}

describe('service (configured facilities)', () => {
  let svc: RunningService;
  const logs = captureLines();
  beforeAll(async () => {
    svc = await startService(configuredEnv(tempDir()), { logDestination: logs.stream });
  });
  afterAll(async () => svc?.close());

  it('runs against the configured facilities, not in simulator mode', () => {
    expect(svc.mode).toBe('configured');
    expect(svc.facilities.map((f) => f.organizationId)).toEqual([A, B]);
  });

  it('401 without a key or with an unknown key', async () => {
    const visit = makeVisit(1, { organizationId: A });
    expect((await call(svc, 'POST', '/ilp/visits', undefined, visit)).status).toBe(401);
    const r = await call(svc, 'POST', '/ilp/visits', 'not-a-known-key-123', visit);
    expect(r.status).toBe(401);
    expect(r.body!.resourceType).toBe('OperationOutcome');
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('ingest is durable and idempotent: created → unchanged → revised', async () => {
    const visit = makeVisit(10, { organizationId: A });
    const first = await call(svc, 'POST', '/ilp/visits', KEY_A, visit);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ organizationId: A, visitId: visit.visitId, status: 'created' });
    expect((await svc.store.getVisit(A, visit.visitId))!.state).toBe('queued');
    // Same content, other key order: unchanged.
    const reordered = Object.fromEntries(Object.entries(visit).reverse());
    expect((await call(svc, 'POST', '/ilp/visits', KEY_A, reordered)).body!.status).toBe('unchanged');
    const changed = { ...visit, end: String(visit.end).replace(':20:', ':25:') };
    expect((await call(svc, 'POST', '/ilp/visits', KEY_A, changed)).body!.status).toBe('revised');
    expect((await svc.store.getVisit(A, visit.visitId))!.revision).toBe(2);
  });

  it('facility isolation: A cannot push B’s record (403, nothing stored) nor read it (404 as if absent)', async () => {
    const vb = makeVisit(20, { organizationId: B });
    const push = await call(svc, 'POST', '/ilp/visits', KEY_A, vb);
    expect(push.status).toBe(403);
    expect(await svc.store.getVisit(B, vb.visitId)).toBeUndefined();
    // A batch with one foreign record is refused as a whole.
    const mixed = await call(svc, 'POST', '/ilp/visits', KEY_A, [makeVisit(21, { organizationId: A }), vb]);
    expect(mixed.status).toBe(403);
    expect(await svc.store.getVisit(A, makeVisit(21, { organizationId: A }).visitId)).toBeUndefined();

    expect((await call(svc, 'POST', '/ilp/visits', KEY_B, vb)).status).toBe(202);
    const asA = await call(svc, 'GET', `/ilp/visits/${B}/${vb.visitId}`, KEY_A);
    const missing = await call(svc, 'GET', `/ilp/visits/${B}/does-not-exist`, KEY_A);
    expect(asA.status).toBe(404);
    expect(asA.body).toEqual(missing.body);
    expect((await call(svc, 'GET', `/ilp/visits/${B}/${vb.visitId}`, KEY_B)).body).toMatchObject({ state: 'queued', attempts: 0 });
    expect((await call(svc, 'GET', `/ilp/visits/${B}/${vb.visitId}`, ADMIN)).status).toBe(200);
  });

  it('batches: per-record results (207), rejected records store nothing and point at their fields; limit → 413', async () => {
    const ok = makeVisit(30, { organizationId: A });
    const bad = { ...makeVisit(31, { organizationId: A }), measurements: [{ code: 'body-weight', value: 60, unit: 'stone' }] };
    const r = await call(svc, 'POST', '/ilp/visits', KEY_A, [ok, bad]);
    expect(r.status).toBe(207);
    expect(r.body).toMatchObject({ accepted: 1, rejected: 1 });
    expect(r.body!.results[0]).toMatchObject({ index: 0, status: 'created', visitId: ok.visitId });
    expect(r.body!.results[1]).toMatchObject({ index: 1, status: 'rejected', visitId: bad.visitId });
    expect(JSON.stringify(r.body!.results[1].outcome.issue.map((i: { expression?: string[] }) => i.expression))).toContain('[1].measurements[0]');
    expect(await svc.store.getVisit(A, bad.visitId)).toBeUndefined();

    const allBad = await call(svc, 'POST', '/ilp/visits', KEY_A, [bad]);
    expect(allBad.status).toBe(422);
    expect(allBad.body!.resourceType).toBe('OperationOutcome');
    const single = await call(svc, 'POST', '/ilp/visits', KEY_A, bad);
    expect(single.status).toBe(422);
    expect(JSON.stringify(single.body)).toContain('measurements[0]');

    const tooMany = await call(svc, 'POST', '/ilp/visits', KEY_A, [1, 2, 3, 4].map((i) => makeVisit(40 + i, { organizationId: A })));
    expect(tooMany.status).toBe(413);
    expect((await call(svc, 'POST', '/ilp/visits', KEY_A, [])).status).toBe(400);
  });

  it('operational endpoints need the admin key; a run delivers, status shows the SATUSEHAT ids', async () => {
    const v = makeVisit(50, { organizationId: A });
    expect((await call(svc, 'POST', '/ilp/visits', KEY_A, v)).status).toBe(202);
    expect((await call(svc, 'POST', '/sync/run', KEY_A)).status).toBe(403);
    const run = await call(svc, 'POST', '/sync/run?wait=true', ADMIN);
    expect(run.status).toBe(200);
    expect(run.body!.sent).toBeGreaterThanOrEqual(1);
    const st = await call(svc, 'GET', `/ilp/visits/${A}/${v.visitId}`, KEY_A);
    expect(st.body).toMatchObject({ state: 'sent', attempts: 1 });
    expect(st.body!.resources.encounter).toMatch(/^Encounter\/[0-9a-f-]{36}$/);
    expect(svc.simulator!.state.findByIdentifier('Encounter', `http://sys-ids.kemkes.go.id/encounter/${A}`, v.visitId)).toHaveLength(1);

    expect((await call(svc, 'POST', `/sync/visits/${A}/${v.visitId}/requeue`, ADMIN)).status).toBe(409);
    const status = await call(svc, 'GET', '/sync/status', KEY_A);
    expect(status.body!.facilities.map((f: { organizationId: string }) => f.organizationId)).toEqual([A]);
    expect(JSON.stringify(status.body)).not.toContain('very-secret');

    expect((await call(svc, 'POST', `/sync/facilities/${B}/pause`, KEY_B)).status).toBe(403);
    expect((await call(svc, 'POST', `/sync/facilities/${B}/pause`, ADMIN)).body).toMatchObject({ status: 'paused' });
    const vb = makeVisit(51, { organizationId: B });
    await call(svc, 'POST', '/ilp/visits', KEY_B, vb);
    const paused = await call(svc, 'POST', '/sync/run?wait=true', ADMIN);
    expect(paused.body!.skipped).toBeGreaterThanOrEqual(1);
    expect((await svc.store.getVisit(B, vb.visitId))!.state).toBe('queued');
    await call(svc, 'POST', `/sync/facilities/${B}/resume`, ADMIN);
    await call(svc, 'POST', '/sync/run?wait=true', ADMIN);
    expect((await svc.store.getVisit(B, vb.visitId))!.state).toBe('sent');
  });

  it('POST /sync/run without ?wait answers 202 at once; GET /sync/status shows the run and, once done, its summary', async () => {
    const v = makeVisit(60, { organizationId: A });
    expect((await call(svc, 'POST', '/ilp/visits', KEY_A, v)).status).toBe(202);
    const run = await call(svc, 'POST', '/sync/run', ADMIN);
    expect(run.status).toBe(202);
    expect(['started', 'already-running']).toContain(run.body!.status);
    let status = await call(svc, 'GET', '/sync/status', ADMIN);
    await eventually(async () => {
      if (!status.body!.run.running && (await svc.store.getVisit(A, v.visitId))!.state === 'sent') return true;
      status = await call(svc, 'GET', '/sync/status', ADMIN);
      return false;
    }, 'the run to finish with the visit sent');
    expect((await svc.store.getVisit(A, v.visitId))!.state).toBe('sent');
    expect(status.body!.run).toMatchObject({ running: false, last: { summary: expect.objectContaining({ stoppedBy: 'drained' }) } });
    expect(Date.parse(status.body!.run.last.finishedAt)).not.toBeNaN();
    const own = await call(svc, 'GET', '/sync/status', KEY_A);
    expect(own.body!.run).toEqual({ running: false });
  });

  it('logs carry no NIK, name, API key or client secret', () => {
    expect(logs.lines.length).toBeGreaterThan(5);
    const forbidden = [KEY_A, KEY_B, ADMIN, 'very-secret-a', 'very-secret-b', 'Pasien Uji', makeVisit(10, { organizationId: A }).patient.nik];
    expect(logs.lines.filter((l) => forbidden.some((f) => l.includes(f)))).toEqual([]);
  });
});

describe('service start-up', () => {
  it('a configured facility whose secret variable is missing stops the start with a clear message (no simulator fallback)', async () => {
    const env = configuredEnv(tempDir());
    delete env[`SS_${B}_SECRET`];
    const err = await startService(env, { logDestination: captureLines().stream }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([`facility ${B}: environment variable SS_${B}_SECRET (client secret) is not set`]);
  });

  it.each(['0.0.0.0', '::', '192.168.10.5'])(
    'sandbox-simulator mode refuses to listen on a non-loopback HOST (%s): the demo keys would be reachable from the network',
    async (host) => {
      const dir = tempDir();
      const logs = captureLines();
      const err = await startService({ PORT: '0', HOST: host, DATA_DIR: dir, SYNC_ENABLED: 'false' }, { logDestination: logs.stream }).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toHaveLength(1);
      expect((err as ConfigError).problems[0]).toMatch(/^HOST: .* is not a loopback address.*sandbox-simulator mode.*demo API keys.*HOST=127\.0\.0\.1.*FACILITIES_FILE/);
      expect(fs.existsSync(path.join(dir, 'hmac.key'))).toBe(false); // refused before anything was started or written
    },
  );

  it('a non-loopback HOST is fine with configured facilities (no demo keys); demo keys are refused there', async () => {
    const svc = await startService({ ...configuredEnv(tempDir()), HOST: '0.0.0.0' }, { logDestination: captureLines().stream });
    try {
      expect(svc.mode).toBe('configured');
      const port = new URL(svc.url).port;
      const res = await fetch(`http://127.0.0.1:${port}/sync/status`, { headers: { authorization: `Bearer ${DEMO_ADMIN_KEY}` } });
      expect(res.status).toBe(401);
    } finally {
      await svc.close();
    }
  });

  it('with no facilities configured: sandbox-simulator mode, said loudly; the sample visit reaches sent', async () => {
    const dir = tempDir();
    const logs = captureLines();
    const svc = await startService({ PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false' }, { logDestination: logs.stream });
    try {
      expect(svc.mode).toBe('simulator');
      expect(svc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(logs.lines.some((l) => l.includes('SANDBOX-SIMULATOR MODE') && l.includes('FACILITIES_FILE'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'hmac.key'))).toBe(true);
      const sample = JSON.parse(fs.readFileSync(path.join(mappingsDir, 'samples', 'infant-posyandu-immunization.visit.json'), 'utf8'));
      const pushed = await call(svc, 'POST', '/ilp/visits', DEMO_FACILITY_KEY, sample);
      expect(pushed.status).toBe(202);
      await call(svc, 'POST', '/sync/run?wait=true', DEMO_ADMIN_KEY);
      const st = await call(svc, 'GET', `/ilp/visits/${sample.organizationId}/${sample.visitId}`, DEMO_FACILITY_KEY);
      expect(st.body).toMatchObject({ state: 'sent' });
      expect(Object.keys(st.body!.resources)).toEqual(expect.arrayContaining(['encounter', 'observation/body-weight.1', 'immunization/DPT-HB-Hib.1']));
    } finally {
      await svc.close();
    }
  });
});
