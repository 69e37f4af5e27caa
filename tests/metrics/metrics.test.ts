// The registry and its collectors on their own: per-instance registries, label hygiene, scrape-time reads from a real
// SQLite store and a real limiter, failures of those reads, and the platform client's per-exchange reports (nock).
import nock from 'nock';
import { register as globalRegistry } from 'prom-client';
import { createMetrics, platformOperation, statusClass, UNKNOWN_ORGANIZATION, VISIT_STATES } from '../../src/util/metrics.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { contentHash } from '../../src/sync/hash.js';
import { createFacilityLimiter, type FacilityLimiter } from '../../src/platform/limiter.js';
import { createPlatformClient } from '../../src/platform/client.js';
import { PlatformError } from '../../src/platform/types.js';
import { AUTH_ORIGIN, AUTH_PATH, FHIR_ORIGIN, FHIR_PATH, NIK, ORG, facility, nockLifecycle, tokenBody } from '../platform/helpers.js';
import { parseMetrics, select, sumOf, valueOf } from './helpers.js';

const A = '10000301';
const B = '10000302';

const scrape = async (m: ReturnType<typeof createMetrics>) => parseMetrics(await m.metrics());

describe('registry per instance', () => {
  it('two instances keep separate counts and never touch the global default registry', async () => {
    const m1 = createMetrics({ defaultMetrics: false });
    const m2 = createMetrics({ defaultMetrics: false });
    m1.watchFacility(A);
    m2.watchFacility(A);
    m1.ingestRecord(A, 'created');
    m1.ingestRecord(A, 'created');
    m2.ingestRecord(A, 'rejected');
    const s1 = await scrape(m1);
    const s2 = await scrape(m2);
    expect(valueOf(s1, 'ilp_ingest_records_total', { organization: A, result: 'created' })).toBe(2);
    expect(valueOf(s1, 'ilp_ingest_records_total', { organization: A, result: 'rejected' })).toBeUndefined();
    expect(valueOf(s2, 'ilp_ingest_records_total', { organization: A, result: 'rejected' })).toBe(1);
    expect(valueOf(s2, 'ilp_ingest_records_total', { organization: A, result: 'created' })).toBeUndefined();
    expect(await globalRegistry.metrics()).not.toContain('ilp_');
  });

  it('includes the default process metrics unless turned off', async () => {
    const withDefaults = await createMetrics().metrics();
    expect(withDefaults).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(withDefaults).toMatch(/^process_resident_memory_bytes \d/m);
    expect(withDefaults).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(await createMetrics({ defaultMetrics: false }).metrics()).not.toContain('process_cpu_user_seconds_total');
  });
});

describe('labels', () => {
  it('an organization that is not a watched facility is labelled "unknown" (bounded label set)', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.watchFacility(A);
    m.ingestRecord('99999999', 'rejected');
    m.ingestRecord(undefined, 'rejected');
    m.ingestRecord('<script>', 'rejected');
    m.syncOutcome('not-configured', 'sent');
    m.platformRequest('other', 'token', 200, 0.01);
    m.ingestRecord(A, 'created');
    const s = await scrape(m);
    expect(valueOf(s, 'ilp_ingest_records_total', { organization: UNKNOWN_ORGANIZATION, result: 'rejected' })).toBe(3);
    expect(valueOf(s, 'ilp_ingest_records_total', { organization: A, result: 'created' })).toBe(1);
    expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: UNKNOWN_ORGANIZATION, outcome: 'sent' })).toBe(1);
    expect(valueOf(s, 'ilp_platform_requests_total', { organization: UNKNOWN_ORGANIZATION, operation: 'token', status_class: '2xx' })).toBe(1);
    const orgs = new Set(s.map((x) => x.labels.organization).filter(Boolean));
    expect([...orgs].sort()).toEqual([A, UNKNOWN_ORGANIZATION].sort());
  });

  it('status classes and operation names', () => {
    expect(statusClass(200)).toBe('2xx');
    expect(statusClass(201)).toBe('2xx');
    expect(statusClass(429)).toBe('4xx');
    expect(statusClass(503)).toBe('5xx');
    expect(statusClass(undefined)).toBe('error');
    expect(statusClass(0)).toBe('error');
    expect(statusClass(700)).toBe('error');
    expect(platformOperation('GET', 'Patient')).toBe('search:Patient');
    expect(platformOperation('POST', 'Bundle')).toBe('transaction');
    expect(platformOperation('POST', 'Location')).toBe('create:Location');
    expect(platformOperation('PUT', 'Observation')).toBe('update:Observation');
  });

  it('a sent outcome sets the last-sent timestamp; other outcomes do not', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.watchFacility(A);
    m.watchFacility(B);
    const before = Date.now() / 1000;
    m.syncOutcome(A, 'sent');
    m.syncOutcome(B, 'retried');
    m.syncOutcome(B, 'dead-letter');
    const s = await scrape(m);
    expect(valueOf(s, 'ilp_sync_last_sent_timestamp_seconds', { organization: A })).toBeGreaterThanOrEqual(before);
    expect(valueOf(s, 'ilp_sync_last_sent_timestamp_seconds', { organization: B })).toBeUndefined();
    expect(valueOf(s, 'ilp_sync_outcomes_total', { organization: B, outcome: 'dead-letter' })).toBe(1);
  });

  it('tick durations are observed per stopped_by', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.tickStarted()('drained');
    m.tickStarted()('drained');
    m.tickStarted()('budget');
    const s = await scrape(m);
    expect(valueOf(s, 'ilp_sync_tick_duration_seconds_count', { stopped_by: 'drained' })).toBe(2);
    expect(valueOf(s, 'ilp_sync_tick_duration_seconds_count', { stopped_by: 'budget' })).toBe(1);
    expect(valueOf(s, 'ilp_sync_tick_duration_seconds_bucket', { stopped_by: 'budget', le: '+Inf' })).toBe(1);
  });
});

describe('scrape-time reads from the store', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
  });
  afterEach(async () => {
    try {
      await store.close();
    } catch {
      /* closed by the test */
    }
  });

  const ingest = (org: string, ids: string[], now = 1_000) =>
    store.ingest(ids.map((visitId) => { const record = { organizationId: org, visitId }; return { organizationId: org, visitId, record, contentHash: contentHash(record) }; }), now);

  it('visits by state per facility, every state present (zeros included), read anew on each scrape', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.watchStore(store);
    m.watchFacility(A);
    m.watchFacility(B);
    await ingest(A, ['a1', 'a2', 'a3']);
    await ingest(B, ['b1']);
    const [row] = await store.claimDue(A, 2_000, 1, 60_000);
    await store.markFinal(row!.claim, 'blocked', { resourceType: 'OperationOutcome', issue: [] }, 2_001);

    let s = await scrape(m);
    expect(select(s, 'ilp_visits_by_state', { organization: A })).toHaveLength(VISIT_STATES.length);
    expect(valueOf(s, 'ilp_visits_by_state', { organization: A, state: 'queued' })).toBe(2);
    expect(valueOf(s, 'ilp_visits_by_state', { organization: A, state: 'blocked' })).toBe(1);
    expect(valueOf(s, 'ilp_visits_by_state', { organization: A, state: 'sent' })).toBe(0);
    expect(valueOf(s, 'ilp_visits_by_state', { organization: B, state: 'queued' })).toBe(1);

    await ingest(B, ['b2', 'b3']);
    s = await scrape(m);
    expect(valueOf(s, 'ilp_visits_by_state', { organization: B, state: 'queued' })).toBe(3);
  });

  it('facility status: 1 for the current status, 0 for the others; no state row ⇒ active', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.watchStore(store);
    m.watchFacility(A);
    m.watchFacility(B);
    await store.putFacilityState({ organizationId: B, status: 'auth-failed', reason: 'bad credentials', updatedAt: 1 });
    const s = await scrape(m);
    expect(valueOf(s, 'ilp_facility_status', { organization: A, status: 'active' })).toBe(1);
    expect(sumOf(s, 'ilp_facility_status', { organization: A })).toBe(1);
    expect(valueOf(s, 'ilp_facility_status', { organization: B, status: 'auth-failed' })).toBe(1);
    expect(valueOf(s, 'ilp_facility_status', { organization: B, status: 'active' })).toBe(0);
    expect(sumOf(s, 'ilp_facility_status', { organization: B })).toBe(1);
  });

  it('a store that fails (closed during shutdown) does not fail the scrape: those series are absent and the failure is counted', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.watchStore(store);
    m.watchFacility(A);
    m.ingestRecord(A, 'created');
    await store.close();
    const s = await scrape(m);
    expect(select(s, 'ilp_visits_by_state')).toEqual([]);
    expect(select(s, 'ilp_facility_status')).toEqual([]);
    expect(valueOf(s, 'ilp_metrics_collect_errors_total', { collector: 'ilp_visits_by_state' })).toBe(1);
    expect(valueOf(s, 'ilp_metrics_collect_errors_total', { collector: 'ilp_facility_status' })).toBe(1);
    expect(valueOf(s, 'ilp_ingest_records_total', { organization: A, result: 'created' })).toBe(1);
  });

  it('without a store or facilities the store-backed gauges are simply empty', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.watchFacility(A);
    const s = await scrape(m);
    expect(select(s, 'ilp_visits_by_state')).toEqual([]);
    expect(select(s, 'ilp_metrics_collect_errors_total')).toEqual([]);
  });
});

describe('scrape-time reads from the limiter', () => {
  const limiters: FacilityLimiter[] = [];
  afterEach(() => {
    for (const l of limiters.splice(0)) l.close();
  });

  it('quota granted, quota per minute, in flight, pending and paused', async () => {
    const limiter = createFacilityLimiter(A, { quotaPerMinute: 10, maxConcurrent: 1 });
    limiters.push(limiter);
    const m = createMetrics({ defaultMetrics: false });
    m.watchFacility(A, { limiter: () => limiter.stats() });
    m.watchFacility(B); // no limiter: no limiter series for B

    for (let i = 0; i < 3; i++) await limiter.schedule(async () => undefined);
    let s = await scrape(m);
    expect(valueOf(s, 'ilp_platform_quota_granted_total', { organization: A })).toBe(3);
    expect(valueOf(s, 'ilp_platform_quota_per_minute', { organization: A })).toBe(10);
    expect(valueOf(s, 'ilp_platform_limiter_in_flight', { organization: A })).toBe(0);
    expect(valueOf(s, 'ilp_platform_limiter_pending', { organization: A })).toBe(0);
    expect(valueOf(s, 'ilp_platform_limiter_paused', { organization: A })).toBe(0);
    expect(select(s, 'ilp_platform_quota_granted_total', { organization: B })).toEqual([]);

    const release = await limiter.acquire(); // holds the only slot
    const waiting = limiter.acquire();
    limiter.pauseFor(60_000);
    s = await scrape(m);
    expect(valueOf(s, 'ilp_platform_limiter_in_flight', { organization: A })).toBe(1);
    expect(valueOf(s, 'ilp_platform_limiter_pending', { organization: A })).toBe(1);
    expect(valueOf(s, 'ilp_platform_limiter_paused', { organization: A })).toBe(1);
    expect(valueOf(s, 'ilp_platform_quota_granted_total', { organization: A })).toBe(4);
    release();
    limiter.close();
    await expect(waiting).rejects.toBeInstanceOf(PlatformError);
  });
});

describe('platform client reports each HTTP exchange', () => {
  const limiters = nockLifecycle();

  function setup() {
    const limiter = createFacilityLimiter(ORG, { quotaPerMinute: 150 });
    limiters.push(limiter);
    const m = createMetrics({ defaultMetrics: false });
    m.watchFacility(ORG, { limiter: () => limiter.stats() });
    // One interceptor ↔ one exchange: read retries (which would repeat the 5xx/network reads) are tested in tests/platform.
    const client = createPlatformClient(facility(), { limiter, metrics: m, readRetries: 0 });
    return { m, client, limiter };
  }
  const nikQuery = { identifier: `https://fhir.kemkes.go.id/id/nik|${NIK}` };
  // As the platform answers a NIK search: the hit carries the NIK identifier, masked.
  const searchset = (id: string) => ({
    resourceType: 'Bundle', type: 'searchset', total: 1,
    entry: [{ resource: { resourceType: 'Patient', id, identifier: [{ system: 'https://fhir.kemkes.go.id/id/nik', value: '################' }] }, search: { mode: 'match' } }],
  });

  it('401 then refresh: token ×2 and search ×2 (one 4xx, one 2xx), every one of them a quota point; no NIK in any label', async () => {
    let n = 0;
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).times(2).reply(() => [200, tokenBody(`T${++n}`)]);
    nock(`${FHIR_ORIGIN}${FHIR_PATH}`).get('/Patient').query(nikQuery).reply(401, { fault: { faultstring: 'Invalid access token' } });
    nock(`${FHIR_ORIGIN}${FHIR_PATH}`).get('/Patient').query(nikQuery).reply(200, searchset('P9'));
    const { m, client } = setup();
    await expect(client.findPatientByNik(NIK)).resolves.toBe('P9');
    const text = await m.metrics();
    const s = parseMetrics(text);
    expect(valueOf(s, 'ilp_platform_requests_total', { organization: ORG, operation: 'token', status_class: '2xx' })).toBe(2);
    expect(valueOf(s, 'ilp_platform_requests_total', { organization: ORG, operation: 'search:Patient', status_class: '4xx' })).toBe(1);
    expect(valueOf(s, 'ilp_platform_requests_total', { organization: ORG, operation: 'search:Patient', status_class: '2xx' })).toBe(1);
    expect(valueOf(s, 'ilp_platform_request_duration_seconds_count', { organization: ORG, operation: 'search:Patient' })).toBe(2);
    expect(valueOf(s, 'ilp_platform_quota_granted_total', { organization: ORG })).toBe(sumOf(s, 'ilp_platform_requests_total', { organization: ORG }));
    expect(text).not.toContain(NIK);
  });

  it('5xx with a text body and a network error: 5xx and error classes', async () => {
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).reply(200, tokenBody('T1'));
    nock(`${FHIR_ORIGIN}${FHIR_PATH}`).get('/Patient').query(nikQuery).reply(502, 'Bad Gateway', { 'content-type': 'text/plain' });
    nock(`${FHIR_ORIGIN}${FHIR_PATH}`).get('/Patient').query(nikQuery).replyWithError('socket hang up');
    const { m, client } = setup();
    await expect(client.findPatientByNik(NIK)).rejects.toMatchObject({ kind: 'transient', status: 502 });
    await expect(client.findPatientByNik(NIK)).rejects.toMatchObject({ kind: 'transient' });
    const s = parseMetrics(await m.metrics());
    expect(valueOf(s, 'ilp_platform_requests_total', { operation: 'search:Patient', status_class: '5xx' })).toBe(1);
    expect(valueOf(s, 'ilp_platform_requests_total', { operation: 'search:Patient', status_class: 'error' })).toBe(1);
    expect(valueOf(s, 'ilp_platform_requests_total', { operation: 'token', status_class: '2xx' })).toBe(1);
  });

  it('a failed token request counts as a token exchange only (the FHIR request never left)', async () => {
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).reply(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
    const { m, client } = setup();
    await expect(client.findPatientByNik(NIK)).rejects.toMatchObject({ kind: 'auth' });
    const s = parseMetrics(await m.metrics());
    expect(valueOf(s, 'ilp_platform_requests_total', { operation: 'token', status_class: '4xx' })).toBe(1);
    expect(select(s, 'ilp_platform_requests_total', { operation: 'search:Patient' })).toEqual([]);
  });

  it('a request refused by a closed limiter is not reported as an exchange', async () => {
    const { m, client, limiter } = setup();
    limiter.close();
    await expect(client.findPatientByNik(NIK)).rejects.toBeInstanceOf(PlatformError);
    expect(select(parseMetrics(await m.metrics()), 'ilp_platform_requests_total')).toEqual([]);
  });

  it('without metrics the client works as before', async () => {
    nock(AUTH_ORIGIN).post(AUTH_PATH).query(true).reply(200, tokenBody('T1'));
    nock(`${FHIR_ORIGIN}${FHIR_PATH}`).get('/Patient').query(nikQuery).reply(200, searchset('P1'));
    const limiter = createFacilityLimiter(ORG);
    limiters.push(limiter);
    await expect(createPlatformClient(facility(), { limiter }).findPatientByNik(NIK)).resolves.toBe('P1');
  });
});
