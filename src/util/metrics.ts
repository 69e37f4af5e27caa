// Prometheus metrics of one service instance (prom-client, own Registry: never the global default, so tests and several
// instances in one process do not collide). Modules receive only the narrow hook they need (SyncMetricsHook,
// PlatformMetricsHook, IngestMetricsHook), always optional: code without metrics works unchanged.
//
// Labels carry organization ids (facility ids, not personal data) and fixed vocabularies only — never a NIK, a name, a
// visit id or a URL. An organization that is not a watched (configured) facility is labelled "unknown", so a caller
// cannot grow the label set by sending arbitrary organizationIds.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const VISIT_STATES = ['queued', 'sending', 'sent', 'needs-correction', 'blocked', 'dead-letter'] as const;
export const FACILITY_STATUSES = ['active', 'paused', 'auth-failed', 'config-error'] as const;
export const SYNC_OUTCOMES = ['sent', 'retried', 'needs-correction', 'blocked', 'dead-letter'] as const;
export const INGEST_RESULTS = ['created', 'revised', 'unchanged', 'rejected'] as const;
export const UNKNOWN_ORGANIZATION = 'unknown';

export type SyncOutcome = (typeof SYNC_OUTCOMES)[number];
export type IngestResult = (typeof INGEST_RESULTS)[number];

/** What the sync runner reports. */
export interface SyncMetricsHook {
  syncOutcome(organizationId: string, outcome: SyncOutcome): void;
  /** Call at the start of a tick; call the returned function when it ends (measures real time, not the injected clock). */
  tickStarted(): (stoppedBy: string) => void;
}

/** What the platform client reports: one call per HTTP exchange (a 401-refresh retry is a second exchange). */
export interface PlatformMetricsHook {
  /** `status` undefined ⇒ no HTTP response (network error, timeout). */
  platformRequest(organizationId: string, operation: string, status: number | undefined, seconds: number): void;
}

/** What the ingest endpoint reports, once per record. */
export interface IngestMetricsHook {
  ingestRecord(organizationId: string | undefined, result: IngestResult): void;
}

/** The store methods read at scrape time (structurally satisfied by Store). */
export interface MetricsStoreView {
  counts(organizationId?: string): Promise<{ byState: Partial<Record<string, number>> }>;
  getFacilityState(organizationId: string): Promise<{ status: string } | undefined>;
}

/** Limiter figures read at scrape time (structurally satisfied by FacilityLimiter.stats()). */
export interface LimiterStatsView {
  quotaPerMinute: number;
  pending: number;
  inFlight: number;
  granted: number;
  pausedUntil: number;
}

export interface FacilitySources {
  /** The facility's limiter stats (quota granted, pending, in flight). */
  limiter?: () => LimiterStatsView;
}

export interface ServiceMetrics extends SyncMetricsHook, PlatformMetricsHook, IngestMetricsHook {
  readonly registry: Registry;
  readonly contentType: string;
  /** Adds an organization to the label set and, optionally, the sources read for it on each scrape. */
  watchFacility(organizationId: string, sources?: FacilitySources): void;
  /** The store read on each scrape for per-facility visit counts and facility status. */
  watchStore(store: MetricsStoreView): void;
  /** The text exposition (collects the scrape-time gauges first). */
  metrics(): Promise<string>;
}

export interface MetricsOptions {
  /** prom-client default process metrics (CPU, memory, event loop lag, GC, handles). Default true. */
  defaultMetrics?: boolean;
}

/** Operation label of a FHIR call: `search:Patient`, `create:Location`, `update:Observation`, `transaction`. */
export function platformOperation(method: string, resourceType: string): string {
  if (method === 'GET') return `search:${resourceType}`;
  if (method === 'PUT') return `update:${resourceType}`;
  return resourceType === 'Bundle' ? 'transaction' : `create:${resourceType}`;
}

export function statusClass(status: number | undefined): string {
  return status !== undefined && status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'error';
}

const secondsSince = (t0: number) => (performance.now() - t0) / 1000;

export function createMetrics(opts: MetricsOptions = {}): ServiceMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const facilities = new Map<string, FacilitySources>();
  let store: MetricsStoreView | undefined;
  const org = (id: string | undefined): string => (id !== undefined && facilities.has(id) ? id : UNKNOWN_ORGANIZATION);
  const registers = [registry];

  // A scrape-time read that fails (e.g. the store closing during shutdown) leaves that metric without series for this
  // scrape and is counted (ilp_metrics_collect_errors_total, registered last so the count shows in the same scrape),
  // rather than failing the whole scrape.
  const guarded = (collector: string, fn: () => void) => {
    try {
      fn();
    } catch {
      collectErrors.inc({ collector });
    }
  };
  // The store is read (async) before the registry serialises, into this snapshot the gauges then report: the registry
  // collects metrics concurrently, so a read inside collect() could count its failure after the counter was written out.
  let fromStore: { byState?: Map<string, Partial<Record<string, number>>>; status?: Map<string, string> } = {};
  const readStore = async (): Promise<void> => {
    fromStore = {};
    const s = store;
    if (!s) return;
    const read = async <T>(collector: string, get: (o: string) => Promise<T>): Promise<Map<string, T> | undefined> => {
      try {
        const out = new Map<string, T>();
        for (const o of facilities.keys()) out.set(o, await get(o));
        return out;
      } catch {
        collectErrors.inc({ collector });
        return undefined;
      }
    };
    const byState = await read('ilp_visits_by_state', async (o) => (await s.counts(o)).byState);
    const status = await read('ilp_facility_status', async (o) => (await s.getFacilityState(o))?.status ?? 'active');
    fromStore = { ...(byState ? { byState } : {}), ...(status ? { status } : {}) };
  };

  new Gauge({
    name: 'ilp_visits_by_state',
    help: 'Visit records in the outbox per facility and sync state (read from the store on each scrape)',
    labelNames: ['organization', 'state'],
    registers,
    collect() {
      this.reset();
      for (const [o, byState] of fromStore.byState ?? []) {
        for (const state of VISIT_STATES) this.set({ organization: o, state }, byState[state] ?? 0);
      }
    },
  });

  new Gauge({
    name: 'ilp_facility_status',
    help: 'Delivery status of each facility: 1 for the current status, 0 for the others',
    labelNames: ['organization', 'status'],
    registers,
    collect() {
      this.reset();
      for (const [o, current] of fromStore.status ?? []) {
        for (const status of FACILITY_STATUSES) this.set({ organization: o, status }, status === current ? 1 : 0);
      }
    },
  });

  const syncOutcomes = new Counter({
    name: 'ilp_sync_outcomes_total',
    help: 'Delivery attempts recorded by the sync job, per facility and outcome',
    labelNames: ['organization', 'outcome'],
    registers,
  });
  const tickDuration = new Histogram({
    name: 'ilp_sync_tick_duration_seconds',
    help: 'Duration of sync ticks; stopped_by: drained (nothing due left), budget (time budget spent with work left), stopped (shutdown)',
    labelNames: ['stopped_by'],
    buckets: [0.05, 0.25, 1, 5, 15, 30, 60, 120, 240, 600],
    registers,
  });

  const platformRequests = new Counter({
    name: 'ilp_platform_requests_total',
    help: 'HTTP exchanges with SATUSEHAT per facility, operation and status class (error = no HTTP response)',
    labelNames: ['organization', 'operation', 'status_class'],
    registers,
  });
  const platformDuration = new Histogram({
    name: 'ilp_platform_request_duration_seconds',
    help: 'Duration of HTTP exchanges with SATUSEHAT (from quota granted to response), per facility and operation',
    labelNames: ['organization', 'operation'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });

  // Limiter figures are read on scrape; `write` sets a gauge or, for the monotonic grant count, a counter's absolute value.
  const eachLimiter = (name: string, write: (organization: string, s: LimiterStatsView) => void) => {
    for (const [o, src] of facilities) {
      const read = src.limiter;
      if (read) guarded(name, () => write(o, read()));
    }
  };
  const limiterGauge = (name: string, help: string, pick: (s: LimiterStatsView) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['organization'],
      registers,
      collect() {
        this.reset();
        eachLimiter(name, (organization, s) => this.set({ organization }, pick(s)));
      },
    });
  new Counter({
    name: 'ilp_platform_quota_granted_total',
    help: 'Quota points granted by the facility rate limiter (every platform request, token requests included) since start',
    labelNames: ['organization'],
    registers,
    collect() {
      this.reset();
      eachLimiter('ilp_platform_quota_granted_total', (organization, s) => this.inc({ organization }, s.granted));
    },
  });
  limiterGauge('ilp_platform_quota_per_minute', 'Configured SATUSEHAT requests per minute of the facility credential', (s) => s.quotaPerMinute);
  limiterGauge('ilp_platform_limiter_pending', 'Platform requests waiting for quota or a concurrency slot', (s) => s.pending);
  limiterGauge('ilp_platform_limiter_in_flight', 'Platform requests in flight', (s) => s.inFlight);
  limiterGauge('ilp_platform_limiter_paused', '1 while the facility waits out a Retry-After from SATUSEHAT', (s) => (s.pausedUntil > 0 ? 1 : 0));

  const ingestRecords = new Counter({
    name: 'ilp_ingest_records_total',
    help: 'Visit records received on POST /ilp/visits, per facility and result',
    labelNames: ['organization', 'result'],
    registers,
  });

  const lastSent = new Gauge({
    name: 'ilp_sync_last_sent_timestamp_seconds',
    help: 'When a visit of the facility was last delivered (since this process started; absent before the first)',
    labelNames: ['organization'],
    registers,
  });

  // Registered after every collecting metric: the registry serialises in registration order.
  const collectErrors = new Counter({
    name: 'ilp_metrics_collect_errors_total',
    help: 'Scrape-time reads that failed (the metric named in `collector` has no series in that scrape)',
    labelNames: ['collector'],
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    watchFacility(organizationId, sources = {}) {
      facilities.set(organizationId, sources);
    },
    watchStore(s) {
      store = s;
    },
    metrics: async () => {
      await readStore();
      return registry.metrics();
    },

    syncOutcome(organizationId, outcome) {
      const o = org(organizationId);
      syncOutcomes.inc({ organization: o, outcome });
      if (outcome === 'sent') lastSent.set({ organization: o }, Date.now() / 1000);
    },
    tickStarted() {
      const t0 = performance.now();
      return (stoppedBy) => tickDuration.observe({ stopped_by: stoppedBy }, secondsSince(t0));
    },
    platformRequest(organizationId, operation, status, seconds) {
      const o = org(organizationId);
      platformRequests.inc({ organization: o, operation, status_class: statusClass(status) });
      platformDuration.observe({ organization: o, operation }, seconds);
    },
    ingestRecord(organizationId, result) {
      ingestRecords.inc({ organization: org(organizationId), result });
    },
  };
}
