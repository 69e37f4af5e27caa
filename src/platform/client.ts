// The SATUSEHAT client of one facility, on fhir-kit-client. Every request: facility limiter (quota + concurrency) → token
// (requestSigner) → per-request timeout → on 401 drop the token and retry exactly once → any failure classified as PlatformError.
// NIKs are unavoidable in request URLs (that is the API) but never reach a log line or an error message.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Client } from 'fhir-kit-client';
import type { Bundle, BundleEntry, Location, Patient, Resource } from 'fhir/r4.js';
import { PlatformError, type FacilityConfig, type PlatformClient } from './types.js';
import { errorFromResponse, normaliseOutcome, ownOutcome, toPlatformError } from './errors.js';
import { createFacilityLimiter, type FacilityLimiter } from './limiter.js';
import { createTokenProvider, type SharedTokenCache, type TokenProvider } from './token.js';
import { silentLogger, type PlatformLogger } from './logger.js';
import { platformOperation, type PlatformMetricsHook } from '../util/metrics.js';
import { identifierSystem } from '../util/systems.js';

// Identifier systems from mappings/systems.json (Patient and Practitioner share the NIK system).
export const NIK_SYSTEM = identifierSystem('patientNik');
export const NIK_IBU_SYSTEM = identifierSystem('patientNikIbu');
export const locationSystem = (organizationId: string): string => identifierSystem('location', organizationId);

export const DEFAULT_TIMEOUT_MS = 30_000;
// The platform documents application/json for writes (application/fhir+json, fhir-kit-client's default, is "also accepted").
const JSON_BODY = { 'content-type': 'application/json' };
export const DEFAULT_MAX_PAGES = 20;

export interface PlatformClientDeps {
  /** The facility's limiter; pass the same one to every client of that organizationId (see createLimiterRegistry). */
  limiter?: FacilityLimiter;
  tokenProvider?: TokenProvider;
  /** The token cache shared by instances (the store), for the token provider made here when none is given. */
  sharedTokens?: SharedTokenCache;
  logger?: PlatformLogger;
  /** Per request, counted from when the token is in hand (queueing for quota does not count). Default 30 s. */
  timeoutMs?: number;
  /** Used for the token request only: fhir-kit-client always calls the global fetch. */
  fetch?: typeof fetch;
  now?: () => number;
  /** Upper bound on `next` links followed by search(). Default 20. */
  maxPages?: number;
  /** Prometheus hook: one report per HTTP exchange (FHIR calls and, unless tokenProvider is given, token requests). */
  metrics?: PlatformMetricsHook;
  /**
   * Extra tries of a failed idempotent read (GET search/read) within the call, after a network error, timeout or 5xx
   * (never a 4xx, never a 429: the limiter waits those out). Each try takes its own quota point. Default 2; 0 turns it off.
   * Writes are never repeated here: the sync reconciles before sending again.
   */
  readRetries?: number;
  /** Full-jitter backoff between read tries: uniform in [0, min(cap, base·2^(n-1))]. Defaults 200 ms and 2 s. */
  readRetryBaseMs?: number;
  readRetryCapMs?: number;
  /** Injectable for tests (instant sleep, pinned jitter). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_READ_RETRIES = 2;
export const DEFAULT_READ_RETRY_BASE_MS = 200;
export const DEFAULT_READ_RETRY_CAP_MS = 2_000;
const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before read retry number `retry` (1-based): full jitter, so concurrent readers that failed together spread out. */
export function readRetryDelayMs(retry: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Worth repeating a read for: the exchange went out and failed by network, timeout or 5xx. */
function retryableRead(err: PlatformError): boolean {
  return err.kind === 'transient' && (err.status === undefined || err.status >= 500);
}

export interface CreatedResource {
  id: string;
  /** Opaque (base64 of a nanosecond timestamp on the platform): never compare it as a number. */
  versionId?: string;
}

/** PlatformClient plus the parts the sync job and status pages need to see. */
export interface SatusehatClient extends PlatformClient {
  readonly limiter: FacilityLimiter;
  readonly tokens: TokenProvider;
  /** POST {type} of one resource (Location, Organization, …) → its id. */
  createResource(resource: Resource): Promise<CreatedResource>;
}

export interface TransactionEntryResult {
  /** Position in the request/response Bundle (the platform answers in request order). */
  index: number;
  resourceType: string | undefined;
  id: string | undefined;
  versionId: string | undefined;
  /** HTTP status of the entry, e.g. 201 from "201 Created"; 0 when absent. */
  status: number;
}

const LOCATION_RE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([^/?#]+))?\/?(?:[?#].*)?$/;

/** `Encounter/<uuid>/_history/<ver>` (relative or absolute) → parts; undefined when it does not look like a resource location. */
export function parseLocation(location: string | undefined | null): { resourceType: string; id: string; versionId?: string } | undefined {
  if (!location) return undefined;
  const m = LOCATION_RE.exec(location.trim());
  if (!m) return undefined;
  return m[3] ? { resourceType: m[1], id: m[2], versionId: m[3] } : { resourceType: m[1], id: m[2] };
}

function entryStatus(status: unknown): number {
  const n = Number.parseInt(String(status ?? ''), 10);
  return Number.isFinite(n) ? n : 0;
}

/** The non-standard `response.resourceType` / `response.resourceID` the platform adds to transaction-response entries. */
function platformIdsOf(response: unknown): { resourceType?: string; id?: string } {
  const r = (response ?? {}) as Json;
  return {
    resourceType: typeof r.resourceType === 'string' && TYPE_RE.test(r.resourceType) ? r.resourceType : undefined,
    id: typeof r.resourceID === 'string' && ID_RE.test(r.resourceID) ? r.resourceID : undefined,
  };
}

/**
 * One result per entry of a transaction-response Bundle. Ids come from `response.location` (relative or absolute, with an
 * opaque `_history` version), else the platform's own `response.resourceType`/`resourceID`, else the echoed resource.
 * When two of them disagree the entry gets no id: the caller reconciles by identifier rather than guess.
 */
export function idsFromTransactionResponse(resp: Bundle): TransactionEntryResult[] {
  return (resp.entry ?? []).map((e, index) => {
    const loc = parseLocation(e.response?.location);
    const own = platformIdsOf(e.response);
    const resourceType = loc?.resourceType ?? own.resourceType ?? e.resource?.resourceType;
    const id = loc?.id ?? own.id ?? e.resource?.id;
    const agrees = (!own.id || own.id === id) && (!own.resourceType || own.resourceType === resourceType);
    return {
      index,
      resourceType,
      id: agrees ? id : undefined,
      versionId: loc?.versionId ?? e.resource?.meta?.versionId,
      status: entryStatus(e.response?.status),
    };
  });
}

type Json = Record<string, unknown>;

/** Keys compared without case, spaces and punctuation: `Patient ID:`, `patient_id` and `patientId` are one key. */
const keyOf = (k: string): string => k.toLowerCase().replace(/[^a-z0-9]/g, '');
function fieldOf(o: unknown, ...names: string[]): unknown {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const wanted = new Set(names.map(keyOf));
  for (const [k, v] of Object.entries(o as Json)) if (wanted.has(keyOf(k))) return v;
  return undefined;
}

export type PatientCreateResult = { id: string; existed: boolean } | { failure: string } | undefined;

/**
 * Patient create answers a non-FHIR body. Recorded: `{"success":true,"data":{"Patient ID:":"P0…"}}` (HTTP 200) and, when the
 * patient exists, `{"success":false,"message":"…another identifier has found","data":{"resourceID":"P0…"}}` (also HTTP 200).
 * SDKs expect `data.patient_id` and, for nik-ibu, `{"create_patient":{…same…}}`; all are accepted. A refusal that names
 * an existing patient's id is that patient (existed: true); one without an id is a failure with the platform's message.
 */
export function patientIdFromCreateResponse(body: unknown): PatientCreateResult {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Json;
  for (const c of [b, b.create_patient]) {
    if (!c || typeof c !== 'object') continue;
    const cc = c as Json;
    const data = cc.data;
    const raw = fieldOf(data, 'Patient ID', 'patient_id', 'resourceID') ?? fieldOf(cc, 'patient_id');
    const id = typeof raw === 'string' && ID_RE.test(raw.trim()) ? raw.trim() : undefined;
    if (id) return { id, existed: cc.success === false };
    if (cc.success === false) {
      const msg = [cc.message, fieldOf(data, 'message'), cc.error].find((x) => typeof x === 'string' && x) as string | undefined;
      return { failure: msg ?? 'Patient create failed' };
    }
  }
  if (b.resourceType === 'Patient' && typeof b.id === 'string' && ID_RE.test(b.id)) return { id: b.id, existed: false };
  return undefined;
}

/** A searchset entry's resource; one older build put the resource itself in `entry[]` (recorded Location search, 2022). */
function resourceOfEntry(e: BundleEntry): Resource | undefined {
  if (e.resource && typeof e.resource.resourceType === 'string') return e.resource;
  const bare = e as unknown as Resource;
  return typeof bare.resourceType === 'string' && TYPE_RE.test(bare.resourceType) ? bare : undefined;
}

/**
 * Filters we sent that the `self` link does not echo: the platform drops unsupported parameters silently (recorded:
 * Practitioner `birthdate`). Result controls (`_count`, …) are not filters. Without a self link nothing can be told.
 */
function ignoredFilters(page: Bundle, params: Record<string, string>, base: string): string[] {
  const self = page.link?.find((l) => l.relation === 'self')?.url;
  if (!self) return [];
  let echoed: URLSearchParams;
  try {
    echoed = new URL(self, `${base.replace(/\/+$/, '')}/`).searchParams;
  } catch {
    return [];
  }
  // Names only: a dropped parameter vanishes from the echo, and values come back re-encoded (or redacted by proxies).
  return Object.keys(params).filter((k) => !k.startsWith('_') && !echoed.has(k));
}

const NIK_RE = /^\d{16}$/;
const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/; // FHIR id

function badInput(diagnostics: string): PlatformError {
  return new PlatformError('validation', undefined, ownOutcome('invalid', diagnostics));
}

function assertNik(nik: string, what: string): void {
  // Never echo the value: it is a NIK (or garbage where a NIK belonged).
  if (typeof nik !== 'string' || !NIK_RE.test(nik)) throw badInput(`${what} must be 16 digits`);
}

/** Texts an error message must not repeat: identifier values and names of the resource being sent. */
function sensitiveOf(resource: Resource): string[] {
  const out: string[] = [];
  const r = resource as { identifier?: Array<{ value?: string }>; name?: Array<{ text?: string; family?: string; given?: string[] }> };
  for (const i of r.identifier ?? []) if (i?.value) out.push(i.value);
  if (resource.resourceType === 'Patient' || resource.resourceType === 'Practitioner') {
    for (const n of r.name ?? []) {
      if (n?.text) out.push(n.text);
      if (n?.family) out.push(n.family);
      for (const g of n?.given ?? []) out.push(g);
    }
  }
  return out;
}

interface CallCtx {
  controller: AbortController;
  token?: string;
  tokenFailed?: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

interface Op {
  method: 'GET' | 'POST' | 'PUT';
  resourceType: string;
  redact: string[];
}

export function createPlatformClient(cfg: FacilityConfig, deps: PlatformClientDeps = {}): SatusehatClient {
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? silentLogger;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxPages = deps.maxPages ?? DEFAULT_MAX_PAGES;
  const readRetries = Math.max(0, Math.floor(deps.readRetries ?? DEFAULT_READ_RETRIES));
  const retryBaseMs = deps.readRetryBaseMs ?? DEFAULT_READ_RETRY_BASE_MS;
  const retryCapMs = deps.readRetryCapMs ?? DEFAULT_READ_RETRY_CAP_MS;
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  const limiter = deps.limiter ?? createFacilityLimiter(cfg.organizationId, { quotaPerMinute: cfg.quotaPerMinute });
  const metrics = deps.metrics;
  const tokens = deps.tokenProvider ?? createTokenProvider(cfg, {
    limiter, fetch: metrics ? timedTokenFetch(cfg.organizationId, metrics, deps.fetch) : deps.fetch, now, timeoutMs, logger: log,
    ...(deps.sharedTokens ? { shared: deps.sharedTokens } : {}),
  });
  const baseOrigin = new URL(cfg.fhirBaseUrl).origin;
  // fhir-kit-client's `debug` output prints full URLs (NIKs) and the Authorization header.
  if (/(^|[,\s])(fhir-kit-client[^,\s]*|\*)/.test(process.env.DEBUG ?? '')) {
    log.warn({ organizationId: cfg.organizationId }, 'DEBUG enables fhir-kit-client request logging, which prints NIKs and tokens: unset it outside development');
  }
  const als = new AsyncLocalStorage<CallCtx>();

  const fhir = new Client({
    baseUrl: cfg.fhirBaseUrl.replace(/\/+$/, ''),
    customHeaders: { accept: 'application/json' },
    // Awaited by fhir-kit-client before each request although typed as sync.
    requestSigner: (async (_url: string, init: RequestInit) => {
      const ctx = als.getStore();
      let token: string;
      try {
        token = await tokens.get();
      } catch (e) {
        if (ctx) ctx.tokenFailed = true;
        throw e;
      }
      (init.headers as Headers).set('authorization', `Bearer ${token}`);
      if (ctx) {
        ctx.token = token;
        // The timeout covers the HTTP exchange, not the wait for quota or token.
        ctx.timer = setTimeout(() => ctx.controller.abort(new DOMException(`no response within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
      }
    }) as unknown as (url: string, init: RequestInit) => void,
  });

  async function call<T extends object>(op: Op, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let refreshed = false;
    let readRetriesLeft = op.method === 'GET' ? readRetries : 0;
    for (let attempt = 1; ; attempt++) {
      const ctx: CallCtx = { controller: new AbortController() };
      const started = now();
      let exchangeStart: number | undefined; // set once quota is granted: a request refused by the limiter is no exchange
      try {
        const result = await limiter.schedule(() => {
          exchangeStart = performance.now();
          return als.run(ctx, () => fn(ctx.controller.signal));
        });
        const status = Client.httpFor(result as never).response?.status;
        if (metrics && exchangeStart !== undefined) metrics.platformRequest(cfg.organizationId, platformOperation(op.method, op.resourceType), status, (performance.now() - exchangeStart) / 1000);
        log.debug({ organizationId: cfg.organizationId, method: op.method, resourceType: op.resourceType, status, durationMs: now() - started, attempt }, 'platform call');
        return result;
      } catch (e) {
        const err = toPlatformError(e, { redact: op.redact, timeoutMs, now });
        if (metrics && exchangeStart !== undefined && !ctx.tokenFailed) metrics.platformRequest(cfg.organizationId, platformOperation(op.method, op.resourceType), err.status, (performance.now() - exchangeStart) / 1000);
        log.warn(
          { organizationId: cfg.organizationId, method: op.method, resourceType: op.resourceType, status: err.status, kind: err.kind, rules: err.rules, durationMs: now() - started, attempt },
          'platform call failed',
        );
        if (err.kind === 'rate-limited' && err.retryAfterMs) limiter.pauseFor(err.retryAfterMs);
        // 401 on a request we signed: the token died early. Drop it and try once more; never a third time.
        if (err.status === 401 && !ctx.tokenFailed && ctx.token !== undefined && !refreshed) {
          refreshed = true;
          await tokens.invalidate(ctx.token);
          continue;
        }
        // Only an exchange that went out (quota granted, token in hand) is retried: a refused token has its own cooldown.
        if (readRetriesLeft > 0 && exchangeStart !== undefined && !ctx.tokenFailed && retryableRead(err)) {
          const retry = readRetries - readRetriesLeft + 1;
          readRetriesLeft--;
          const delayMs = readRetryDelayMs(retry, retryBaseMs, retryCapMs, random);
          log.info({ organizationId: cfg.organizationId, method: op.method, resourceType: op.resourceType, status: err.status, kind: err.kind, attempt, retry, delayMs }, 'retrying idempotent read');
          if (ctx.timer) clearTimeout(ctx.timer); // this exchange is over; the next one arms its own timeout
          await sleep(delayMs);
          continue;
        }
        throw err;
      } finally {
        if (ctx.timer) clearTimeout(ctx.timer);
      }
    }
  }

  function expectBundle(result: object, what: string): Bundle {
    const b = result as Bundle;
    if (b.resourceType !== 'Bundle') {
      throw new PlatformError('transient', Client.httpFor(result as never).response?.status, ownOutcome('structure', `${what}: expected a Bundle, got ${typeof b.resourceType === 'string' ? b.resourceType : 'no resourceType'}`));
    }
    return b;
  }

  async function searchAll(resourceType: string, params: Record<string, string>, redact: string[]): Promise<Resource[]> {
    if (!TYPE_RE.test(resourceType)) throw badInput('search: invalid resource type');
    const op: Op = { method: 'GET', resourceType, redact };
    let page = expectBundle(await call(op, (signal) => fhir.search({ resourceType, searchParams: params, options: { signal } })), 'search');
    const ignored = ignoredFilters(page, params, cfg.fhirBaseUrl);
    const out: Resource[] = [];
    for (let pages = 1; ; pages++) {
      for (const e of page.entry ?? []) {
        const resource = resourceOfEntry(e);
        if (resource && (e.search?.mode ?? 'match') === 'match') out.push(resource);
      }
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next) {
        // Recorded: total 722, 100 entries, no link at all. Absence of a match can then not be concluded from it.
        if (typeof page.total === 'number' && page.total > out.length) {
          throw new PlatformError('transient', undefined, ownOutcome('incomplete', `search ${resourceType}: the platform reported ${page.total} matches but returned ${out.length} without a next link; the answer is incomplete`), [], undefined, 'search-truncated');
        }
        // A dropped filter only widens the answer: zero hits still mean none, but hits may not match what was asked.
        if (ignored.length && out.length) {
          throw new PlatformError('transient', undefined, ownOutcome('incomplete', `search ${resourceType}: the platform ignored the parameter(s) ${ignored.join(', ')}; its ${out.length} result(s) may not match the search`), [], undefined, 'search-unfiltered');
        }
        return out;
      }
      if (pages >= maxPages) throw new PlatformError('transient', undefined, ownOutcome('too-costly', `search ${resourceType}: more than ${maxPages} pages`));
      // Never send the bearer token to another host.
      const nextUrl = new URL(next, `${cfg.fhirBaseUrl.replace(/\/+$/, '')}/`);
      if (nextUrl.origin !== baseOrigin) throw new PlatformError('transient', undefined, ownOutcome('security', `search ${resourceType}: next link points to another host`));
      page = expectBundle(await call(op, (signal) => fhir.request(nextUrl.toString(), { options: { signal } })), 'search');
    }
  }

  /**
   * The id of the one resource an identifier search found, checked against what was searched: an identifier is unique, so
   * several hits, or a hit without that identifier, mean the platform did not apply the filter (it drops what it does not
   * understand) — the answer is then unknown, never "the first one". The platform masks Patient NIKs (`################`).
   */
  const identifiedIdOf = (resources: Resource[], type: string, system: string, value: string): string | undefined => {
    const hits = resources.filter((r) => r.resourceType === type && typeof r.id === 'string' && r.id);
    const carries = (r: Resource) => ((r as { identifier?: Array<{ system?: string; value?: string }> }).identifier ?? [])
      .some((i) => i.system === system && (i.value === value || (typeof i.value === 'string' && /^#+$/.test(i.value))));
    if (hits.length > 1 || (hits.length === 1 && !carries(hits[0]!))) {
      throw new PlatformError('transient', undefined, ownOutcome('incomplete',
        `search ${type} by identifier: ${hits.length} result(s) that do not all carry the identifier searched for; the platform may have ignored the filter`), [], undefined, 'search-unfiltered');
    }
    return hits[0]?.id;
  };

  async function create(resource: Resource): Promise<object> {
    const resourceType = resource.resourceType;
    return call({ method: 'POST', resourceType, redact: sensitiveOf(resource) }, (signal) =>
      fhir.create({ resourceType, body: { ...resource } as never, options: { signal, headers: JSON_BODY } }),
    );
  }

  /**
   * POST {type}: the id from the echoed body, cross-checked with the `Location` header. The header is the raw Google Cloud
   * Healthcare URL (…/fhirStores/…/fhir/<Type>/<id>/_history/<opaque>): parsed for the id, never followed.
   */
  async function createResource(resource: Resource): Promise<CreatedResource> {
    if (!resource || !TYPE_RE.test(resource.resourceType)) throw badInput('create: invalid resource type');
    const type = resource.resourceType;
    const result = (await create(resource)) as Resource;
    const response = Client.httpFor(result as never).response;
    const fromBody = result.resourceType === type && typeof result.id === 'string' && ID_RE.test(result.id) ? result.id : undefined;
    const header = parseLocation(response?.headers.get('location'));
    const fromHeader = header?.resourceType === type ? header.id : undefined;
    if (fromBody && fromHeader && fromBody !== fromHeader) {
      throw new PlatformError('transient', response?.status, ownOutcome('structure', `${type} create: the Location header and the body name different ids`));
    }
    const id = fromBody ?? fromHeader;
    if (!id) throw new PlatformError('transient', response?.status, ownOutcome('structure', `${type} create: response carries no id`));
    const versionId = (fromBody ? result.meta?.versionId : undefined) ?? header?.versionId;
    return versionId ? { id, versionId } : { id };
  }

  return {
    organizationId: cfg.organizationId,
    limiter,
    tokens,

    async findPatientByNik(nik) {
      assertNik(nik, 'NIK');
      return identifiedIdOf(await searchAll('Patient', { identifier: `${NIK_SYSTEM}|${nik}` }, [nik]), 'Patient', NIK_SYSTEM, nik);
    },

    async findPatientsByMotherNik(motherNik) {
      assertNik(motherNik, "Mother's NIK");
      const found = await searchAll('Patient', { identifier: `${NIK_IBU_SYSTEM}|${motherNik}` }, [motherNik]);
      return found.filter((r): r is Patient => r.resourceType === 'Patient');
    },

    async createPatient(patient) {
      if (patient?.resourceType !== 'Patient') throw badInput('createPatient: not a Patient');
      const result = await create(patient);
      const status = Client.httpFor(result as never).response?.status;
      const parsed = patientIdFromCreateResponse(result);
      if (parsed && 'id' in parsed) {
        // HTTP 200 success:false with the existing id: the patient is registered already; adopt it, never create again.
        if (parsed.existed) log.info({ organizationId: cfg.organizationId, method: 'POST', resourceType: 'Patient', status }, 'patient already registered: adopting the id the platform named');
        return { id: parsed.id, existed: parsed.existed };
      }
      if (parsed && 'failure' in parsed) {
        const dup = /duplicat|already|exist|another identifier|sudah (ada|terdaftar)/i.test(parsed.failure);
        throw new PlatformError(dup ? 'duplicate' : 'validation', status, normaliseOutcome({ message: parsed.failure }, status, dup ? 'duplicate' : 'processing', sensitiveOf(patient)));
      }
      // 2xx without an id: it may or may not exist now; the caller searches by NIK before trying again.
      throw new PlatformError('transient', status, ownOutcome('structure', 'Patient create: response carries no patient_id'));
    },

    async findPractitionerByNik(nik) {
      assertNik(nik, 'Practitioner NIK');
      return identifiedIdOf(await searchAll('Practitioner', { identifier: `${NIK_SYSTEM}|${nik}` }, [nik]), 'Practitioner', NIK_SYSTEM, nik);
    },

    async findLocation(code) {
      if (typeof code !== 'string' || !code.trim()) throw badInput('findLocation: empty location code');
      return identifiedIdOf(await searchAll('Location', { identifier: `${locationSystem(cfg.organizationId)}|${code}` }, []), 'Location', locationSystem(cfg.organizationId), code);
    },

    async createLocation(location: Location) {
      if (location?.resourceType !== 'Location') throw badInput('createLocation: not a Location');
      return (await createResource(location)).id;
    },

    createResource,

    async transaction(bundle) {
      if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'transaction') throw badInput('transaction: expected a Bundle of type transaction');
      const redact = (bundle.entry ?? []).flatMap((e: BundleEntry) => (e.resource ? sensitiveOf(e.resource) : []));
      const result = await call({ method: 'POST', resourceType: 'Bundle', redact }, (signal) =>
        fhir.transaction({ body: { ...bundle } as never, options: { signal, headers: JSON_BODY } }),
      );
      const resp = expectBundle(result, 'transaction');
      // A transaction is all-or-nothing; a 200 carrying failed entries is treated as the failure of its worst entry.
      const failed = (resp.entry ?? []).filter((e) => entryStatus(e.response?.status) >= 400);
      if (failed.length) {
        const worst = failed.find((e) => entryStatus(e.response?.status) !== 400) ?? failed[0];
        throw errorFromResponse(entryStatus(worst.response?.status), worst.response?.outcome ?? {}, undefined, { redact, now });
      }
      return resp;
    },

    async search(resourceType, params) {
      const redact = Object.values(params).flatMap((v) => [v, ...String(v).split('|').slice(1)]);
      return searchAll(resourceType, params, redact);
    },

    async read(resourceType, id) {
      if (!TYPE_RE.test(resourceType) || typeof id !== 'string' || !ID_RE.test(id)) throw badInput('read: invalid resource type or id');
      const result = (await call({ method: 'GET', resourceType, redact: [] }, (signal) =>
        fhir.read({ resourceType, id, options: { signal } }),
      )) as Resource;
      if (result.resourceType !== resourceType || result.id !== id) {
        throw new PlatformError('transient', Client.httpFor(result as never).response?.status, ownOutcome('structure', `read ${resourceType}: the response is not the requested resource`));
      }
      return result;
    },

    async update(resource) {
      if (!resource || !TYPE_RE.test(resource.resourceType) || typeof resource.id !== 'string' || !resource.id) throw badInput('update: resource needs resourceType and id');
      const result = (await call({ method: 'PUT', resourceType: resource.resourceType, redact: sensitiveOf(resource) }, (signal) =>
        fhir.update({ resourceType: resource.resourceType, id: resource.id, body: { ...resource } as never, options: { signal, headers: JSON_BODY } }),
      )) as Resource;
      // Some gateways answer an empty body: the resource as sent is what the platform now holds.
      return typeof result.resourceType === 'string' ? result : resource;
    },
  };
}

/** The token request's fetch, reported as operation `token` (its own limiter point is counted in quota_granted). */
function timedTokenFetch(organizationId: string, metrics: PlatformMetricsHook, inner?: typeof fetch): typeof fetch {
  return async (...args: Parameters<typeof fetch>) => {
    const t0 = performance.now();
    try {
      const res = await (inner ?? fetch)(...args);
      metrics.platformRequest(organizationId, 'token', res.status, (performance.now() - t0) / 1000);
      return res;
    } catch (e) {
      metrics.platformRequest(organizationId, 'token', undefined, (performance.now() - t0) / 1000);
      throw e;
    }
  };
}
