// GET /metrics of the assembled service over real HTTP: admin key required (401/403 otherwise), text exposition even for a
// text-only Accept, counters that follow a small ingest + sync flow, and no NIK or name anywhere in the output.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startService, type RunningService } from '../../src/service.js';
import { ConfigError } from '../../src/config/errors.js';
import { metricsAccessFromEnv } from '../../src/api/metrics.js';
import { makeVisit, LOCATION, captureLines } from '../e2e/fixtures.js';
import { parseMetrics, select, sumOf, valueOf } from './helpers.js';
import { eventually } from '../helpers/eventually.js';

const sha = (k: string) => createHash('sha256').update(k).digest('hex');
const A = '10000401';
const B = '10000402';
const KEY_A = 'metrics-key-facility-a-0123456789';
const ADMIN = 'mGRcMAc4vB63FkbQfEJ01WnU6ZHxI02T'; // random: ADMIN_API_KEY must pass the key-strength rule
const SCRAPE = 'prometheus-scrape-key-0123456789abc';

function env(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const facilities = [A, B].map((org) => ({
    organizationId: org,
    environment: 'simulator',
    simulatorUrl: 'bundled',
    credentials: { clientIdEnv: `SS_${org}_ID`, clientSecretEnv: `SS_${org}_SECRET` },
    locations: { [LOCATION]: { name: 'Posyandu Uji', physicalType: 'si' } },
  }));
  fs.writeFileSync(path.join(dir, 'facilities.json'), JSON.stringify({ facilities }));
  fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ keys: [{ organizationId: A, sha256: sha(KEY_A) }] }));
  return {
    PORT: '0', DATA_DIR: dir, FACILITIES_FILE: path.join(dir, 'facilities.json'), API_KEYS_FILE: path.join(dir, 'keys.json'),
    ADMIN_API_KEY: ADMIN, SYNC_ENABLED: 'false', LOG_LEVEL: 'info',
    [`SS_${A}_ID`]: 'client-a', [`SS_${A}_SECRET`]: 'very-secret-a', [`SS_${B}_ID`]: 'client-b', [`SS_${B}_SECRET`]: 'very-secret-b',
    ...extra,
  };
}

async function call(svc: RunningService, method: string, p: string, key?: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${svc.url}${p}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-metrics-'));

describe('GET /metrics on the service', () => {
  let svc: RunningService;
  let dir: string;
  const logs = captureLines();
  const unknown = makeVisit(3, { organizationId: A });
  const visits = [makeVisit(1, { organizationId: A }), makeVisit(2, { organizationId: A }), unknown];
  beforeAll(async () => {
    dir = tempDir();
    svc = await startService(env(dir, { METRICS_API_KEY: SCRAPE }), { logDestination: logs.stream, simulator: { unknownNiks: [unknown.patient.nik] } });
    await svc.probed; // the start-up token probes count in the platform metrics: wait for them, not for luck
  });
  afterAll(async () => {
    await svc?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('401 without a key, 401 with an unknown key, 403 with a facility key — as OperationOutcomes', async () => {
    const none = await call(svc, 'GET', '/metrics');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text).resourceType).toBe('OperationOutcome');
    expect(none.text).not.toContain('ilp_');
    expect((await call(svc, 'GET', '/metrics', 'not-a-known-key-123')).status).toBe(401);
    const facility = await call(svc, 'GET', '/metrics', KEY_A);
    expect(facility.status).toBe(403);
    expect(facility.text).not.toContain('ilp_');
  });

  it('METRICS_API_KEY reads /metrics and nothing else', async () => {
    const r = await call(svc, 'GET', '/metrics', SCRAPE);
    expect(r.status).toBe(200);
    expect(r.text).toContain('# TYPE ilp_sync_outcomes_total counter');
    expect((await call(svc, 'GET', '/metrics', undefined, undefined, { 'x-api-key': SCRAPE })).status).toBe(200);
    expect((await call(svc, 'GET', '/sync/status', SCRAPE)).status).toBe(401);
    expect((await call(svc, 'POST', '/sync/run', SCRAPE)).status).toBe(401);
    expect((await call(svc, 'GET', '/metrics', `${SCRAPE}x`)).status).toBe(401);
  });

  it('other methods: 405 with Allow', async () => {
    const r = await call(svc, 'POST', '/metrics', ADMIN, {});
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toContain('GET');
  });

  it('after ingest and a sync run, the counters carry the right labels and the output no NIK or name', async () => {
    // created ×3, then unchanged ×1, revised ×1 and rejected ×1 (a future visit date), all for facility A.
    expect((await call(svc, 'POST', '/ilp/visits', KEY_A, visits)).status).toBe(202);
    const revised = { ...visits[1]!, measurements: [{ code: 'body-weight', value: 71, unit: 'kg' }] };
    const bad = { ...makeVisit(4, { organizationId: A }), start: '2099-01-01T01:00:00+07:00', end: '2099-01-01T01:20:00+07:00' };
    const second = await call(svc, 'POST', '/ilp/visits', KEY_A, [visits[0], revised, bad]);
    expect(second.status).toBe(207);

    const run = await call(svc, 'POST', '/sync/run?wait=true', ADMIN);
    expect(run.status).toBe(200);
    expect(JSON.parse(run.text)).toMatchObject({ sent: 2, blocked: 1 });

    // A visit can end (blocked) while a sibling lookup of its attempt is still on the wire: scrape once none is in flight.
    let res = await call(svc, 'GET', '/metrics', ADMIN);
    await eventually(async () => {
      if (sumOf(parseMetrics(res.text), 'ilp_platform_limiter_in_flight') === 0) return true;
      res = await call(svc, 'GET', '/metrics', ADMIN);
      return false;
    }, 'platform requests in flight to end');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const s = parseMetrics(res.text);

    expect(valueOf(s, 'ilp_ingest_records_total', { organization: A, result: 'created' })).toBe(3);
    expect(valueOf(s, 'ilp_ingest_records_total', { organization: A, result: 'unchanged' })).toBe(1);
    expect(valueOf(s, 'ilp_ingest_records_total', { organization: A, result: 'revised' })).toBe(1);
    expect(valueOf(s, 'ilp_ingest_records_total', { organization: A, result: 'rejected' })).toBe(1);
    expect(select(s, 'ilp_ingest_records_total', { organization: B })).toEqual([]);

    expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: A, outcome: 'sent' })).toBe(2);
    expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: A, outcome: 'blocked' })).toBe(1);
    expect(valueOf(s, 'ilp_visits_by_state', { organization: A, state: 'sent' })).toBe(2);
    expect(valueOf(s, 'ilp_visits_by_state', { organization: A, state: 'blocked' })).toBe(1);
    expect(valueOf(s, 'ilp_visits_by_state', { organization: B, state: 'queued' })).toBe(0);
    expect(valueOf(s, 'ilp_sync_tick_duration_seconds_count', { stopped_by: 'drained' })).toBe(1);

    expect(valueOf(s, 'ilp_platform_requests_total', { organization: A, operation: 'token', status_class: '2xx' })).toBe(1);
    expect(valueOf(s, 'ilp_platform_requests_total', { organization: A, operation: 'transaction', status_class: '2xx' })).toBe(2);
    expect(valueOf(s, 'ilp_platform_quota_granted_total', { organization: A })).toBe(sumOf(s, 'ilp_platform_requests_total', { organization: A }));
    // B delivered nothing yet: its only platform call is the start-up token probe.
    expect(valueOf(s, 'ilp_platform_quota_granted_total', { organization: B })).toBe(1);
    expect(valueOf(s, 'ilp_platform_requests_total', { organization: B, operation: 'token', status_class: '2xx' })).toBe(1);
    expect(valueOf(s, 'ilp_platform_quota_per_minute', { organization: A })).toBeGreaterThan(0);
    expect(valueOf(s, 'ilp_platform_limiter_pending', { organization: A })).toBe(0);
    expect(valueOf(s, 'ilp_facility_status', { organization: A, status: 'active' })).toBe(1);

    // prom-client's default process metrics
    expect(valueOf(s, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(s, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    for (const v of [...visits, bad]) {
      expect(res.text).not.toContain(v.patient.nik);
      expect(res.text).not.toContain(v.patient.name);
      expect(res.text).not.toContain(v.visitId);
    }
    expect(res.text).not.toMatch(/(?<![\d.])\d{16}/);
    // Scrapes go through the access log like any request, without the key.
    expect(logs.lines.join('\n')).not.toContain(ADMIN);
  });

  it('a text-only Accept (curl, Prometheus) is served; the JSON-only guard still applies elsewhere', async () => {
    const r = await call(svc, 'GET', '/metrics', ADMIN, undefined, { accept: 'text/plain' });
    expect(r.status).toBe(200);
    expect(r.text).toContain('# TYPE ilp_visits_by_state gauge');
    const prom = await call(svc, 'GET', '/metrics', ADMIN, undefined, { accept: 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2' });
    expect(prom.status).toBe(200);
    expect((await call(svc, 'GET', '/sync/status', ADMIN, undefined, { accept: 'text/plain' })).status).toBe(406);
  });

  it('facility status follows an operator pause', async () => {
    expect((await call(svc, 'POST', `/sync/facilities/${B}/pause`, ADMIN)).status).toBe(200);
    const s = parseMetrics((await call(svc, 'GET', '/metrics', ADMIN)).text);
    expect(valueOf(s, 'ilp_facility_status', { organization: B, status: 'paused' })).toBe(1);
    expect(valueOf(s, 'ilp_facility_status', { organization: B, status: 'active' })).toBe(0);
    expect(valueOf(s, 'ilp_facility_status', { organization: A, status: 'active' })).toBe(1);
  });
});

describe('METRICS_PUBLIC / METRICS_API_KEY', () => {
  it('parses true/1 and false/0/absent and a long enough key; anything else is a configuration error that stops the start', async () => {
    expect(metricsAccessFromEnv({})).toEqual({ public: false });
    expect(metricsAccessFromEnv({ METRICS_PUBLIC: 'false' }).public).toBe(false);
    expect(metricsAccessFromEnv({ METRICS_PUBLIC: '0' }).public).toBe(false);
    expect(metricsAccessFromEnv({ METRICS_PUBLIC: 'TRUE' }).public).toBe(true);
    expect(metricsAccessFromEnv({ METRICS_PUBLIC: '1' }).public).toBe(true);
    expect(metricsAccessFromEnv({ METRICS_API_KEY: SCRAPE }).keyHash).toBe(sha(SCRAPE));
    expect(() => metricsAccessFromEnv({ METRICS_PUBLIC: 'yes please' })).toThrow(ConfigError);
    let err: unknown;
    try {
      metricsAccessFromEnv({ METRICS_PUBLIC: 'maybe', METRICS_API_KEY: 'short-key' });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).problems).toHaveLength(2);
    expect((err as ConfigError).message).not.toContain('short-key'); // a secret, even a bad one, is not echoed
    const dir = tempDir();
    try {
      await expect(startService(env(dir, { METRICS_PUBLIC: 'yes please' }), { logDestination: captureLines().stream })).rejects.toThrow(/METRICS_PUBLIC/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('METRICS_PUBLIC=true serves /metrics without a key and says so at start; other admin endpoints still need the key', async () => {
    const dir = tempDir();
    const logs = captureLines();
    const svc = await startService(env(dir, { METRICS_PUBLIC: 'true' }), { logDestination: logs.stream });
    try {
      const r = await call(svc, 'GET', '/metrics');
      expect(r.status).toBe(200);
      expect(valueOf(parseMetrics(r.text), 'ilp_facility_status', { organization: A, status: 'active' })).toBe(1);
      expect((await call(svc, 'GET', '/sync/status')).status).toBe(401);
      expect(logs.lines.some((l) => l.includes('METRICS_PUBLIC=true'))).toBe(true);
    } finally {
      await svc.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
