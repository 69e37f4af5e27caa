// The bundled SATUSEHAT simulator as an Express app: same paths as the platform (/oauth2/v1, /fhir-r4/v1).
// A development and test tool — NOT SATUSEHAT.
import express, { type NextFunction, type Request, type Response } from 'express';
import { TokenService, type IssuedToken } from './auth.js';
import { SimulatorCore, type SimResult } from './core.js';
import { FaultInjector, type FaultStream, type PreFault } from './faults.js';
import { checkOptions, DEFAULT_QUOTA_PER_MINUTE, DEFAULT_TOKEN_EXPIRY_S, type SimulatorClient, type SimulatorOptions } from './options.js';
import { INVALID_TOKEN_BODY, SimHttpError, messages, platformOutcome, plainIssue, ruleIssue, type PlatformIssue } from './platform-outcome.js';
import { GrantLog, QUOTA_WINDOW_MS, SlidingWindowQuota } from './quota.js';
import { RequestLog, redactUrl, type RequestLogEntry } from './request-log.js';
import type { Json } from './resource-types.js';
import { loadServiceValidator } from './service-validator.js';
import { createResource, readResource, searchResources, unparseable, updateResource } from './handlers/resources.js';
import { createPatient } from './handlers/patient.js';
import { runTransaction } from './handlers/transaction.js';

export const AUTH_PATH = '/oauth2/v1';
export const FHIR_PATH = '/fhir-r4/v1';

export interface SimulatorStats {
  requests: number;
  byStatus: Record<string, number>;
  tokensIssued: number;
  faults: { error5xx: number; throttled: number; timeout: number; dropAfterCommit: number };
  quotaRejections: number;
  authLockouts: number;
  /**
   * Requests the quota let through (token calls included), per client: the most inside any sliding window of the
   * quota's length, whatever the quota is set to (0 included), so a test sees how close several callers came to it.
   */
  quotaWindow: { windowMs: number; perMinute: number; maxGrantsInWindow: number; maxGrantsByClient: Record<string, number> };
}

/** What tests and benchmarks may inspect. Resources are returned unmasked (this never leaves the process). */
export interface SimulatorState {
  readonly seed: number;
  readonly clients: ReadonlyArray<Pick<SimulatorClient, 'clientId' | 'organizationId'>>;
  count(type: string, organizationId?: string): number;
  get(type: string, id: string): Json | undefined;
  findByIdentifier(type: string, system: string, value: string): Json[];
  /** Same indexed search as the HTTP API, without the per-organization filter. */
  search(type: string, params: Record<string, string>): Json[];
  requestLog(): RequestLogEntry[];
  /** Times (epoch ms, simulator clock) of every request of this client that the quota let through, token calls included. */
  grants(clientId: string): number[];
  stats(): SimulatorStats;
}

export interface Simulator {
  app: express.Express;
  state: SimulatorState;
  /** Resolves once the server-side validator is loaded (rejects with the reason when it cannot be). */
  ready: Promise<void>;
  /** Releases hanging "timeout" requests (their sockets are destroyed) and stops timers. */
  close(): void;
}

interface Locals {
  clientId?: string;
  fault?: RequestLogEntry['fault'];
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Which fault stream a FHIR request draws from (the router's paths: `/` is the transaction endpoint). */
function faultStreamOf(req: Request): FaultStream {
  if (req.method === 'GET' || req.method === 'HEAD') return 'read';
  return req.method === 'POST' && req.path === '/' ? 'transaction' : 'write';
}

export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  checkOptions(opts);
  const core = new SimulatorCore(opts);
  const clock = core.clock;
  const tokens = new TokenService(core.clients, opts.tokenExpiryS ?? DEFAULT_TOKEN_EXPIRY_S, clock);
  const perMinute = opts.quotaPerMinute ?? DEFAULT_QUOTA_PER_MINUTE;
  const quota = new SlidingWindowQuota(perMinute, clock);
  const granted = new GrantLog();
  const faults = new FaultInjector(opts, core.faultStream);
  const log = new RequestLog(opts.requestLogSize ?? 10_000);
  const stats: Omit<SimulatorStats, 'quotaWindow'> = {
    requests: 0, byStatus: {}, tokensIssued: 0, faults: { error5xx: 0, throttled: 0, timeout: 0, dropAfterCommit: 0 }, quotaRejections: 0, authLockouts: 0,
  };
  const hanging = new Set<{ timer: NodeJS.Timeout; res: Response }>();
  let closed = false;

  let validatorError: Error | undefined;
  const ready: Promise<void> =
    opts.validator === undefined
      ? loadServiceValidator().then(
          (v) => { core.validator = v; },
          (e: unknown) => { validatorError = new Error(`service validator unavailable: ${e instanceof Error ? e.message : String(e)}`); throw validatorError; },
        )
      : Promise.resolve();
  ready.catch(() => undefined); // reported per request and by startSimulator

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Request log (no PII) and counters, recorded when the exchange ends — also for destroyed sockets.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = clock();
    const t0 = performance.now();
    res.on('close', () => {
      const locals = res.locals as Locals;
      const status = res.headersSent ? res.statusCode : 0;
      stats.requests++;
      stats.byStatus[String(status)] = (stats.byStatus[String(status)] ?? 0) + 1;
      log.push({
        at: new Date(started).toISOString(),
        method: req.method,
        path: redactUrl(req.originalUrl),
        ...(locals.clientId ? { clientId: locals.clientId } : {}),
        status,
        ...(locals.fault ? { fault: locals.fault } : {}),
        durationMs: Math.round(performance.now() - t0),
      });
    });
    next();
  });

  const sendOutcome = (res: Response, status: number, issues: PlatformIssue[], headers: Record<string, string> = {}) => {
    res.status(status).set(headers).type(FHIR_JSON).send(JSON.stringify(platformOutcome(issues)));
  };

  const takeQuota = (res: Response, clientId: string): boolean => {
    const retryAfter = quota.take(clientId);
    if (!retryAfter) {
      granted.record(clientId, clock());
      return true;
    }
    stats.quotaRejections++;
    (res.locals as Locals).fault = 'quota';
    sendThrottled(res, retryAfter);
    return false;
  };

  const sendThrottled = (res: Response, retryAfterS: number) =>
    sendOutcome(res, 429, [plainIssue('throttled', `Rate limit exceeded: ${perMinute} requests per minute per client`)], { 'Retry-After': String(retryAfterS) });

  /** Latency, then a hang or a 5xx. Returns true when the request may proceed. */
  const preFaults = async (req: Request, res: Response, isToken: boolean): Promise<boolean> => {
    if (!faults.applies(req.method, isToken)) return true;
    const kind = isToken ? 'token' : faultStreamOf(req);
    const wait = faults.latencyMs(kind);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const f: PreFault = faults.beforeHandling(kind);
    if (f.kind === 'none') return true;
    const locals = res.locals as Locals;
    if (f.kind === 'error5xx') {
      stats.faults.error5xx++;
      locals.fault = 'error5xx';
      res.status(f.status).type(f.contentType).send(f.body);
      return false;
    }
    if (f.kind === 'throttled') {
      stats.faults.throttled++;
      locals.fault = 'throttled';
      sendThrottled(res, f.retryAfterS);
      return false;
    }
    stats.faults.timeout++;
    locals.fault = 'timeout';
    const h = {
      res,
      timer: setTimeout(() => {
        hanging.delete(h);
        if (!res.headersSent && !res.destroyed) res.status(504).type('text/plain; charset=utf-8').send('Gateway Timeout');
      }, f.hangMs),
    };
    hanging.add(h);
    res.on('close', () => {
      clearTimeout(h.timer);
      hanging.delete(h);
    });
    if (closed) res.socket?.destroy();
    return false;
  };

  // ---- OAuth2 client credentials --------------------------------------------------------------------------------
  app.post(`${AUTH_PATH}/accesstoken`, express.urlencoded({ extended: false, limit: '16kb' }), async (req: Request, res: Response) => {
    if (req.query.grant_type !== 'client_credentials') {
      sendOutcome(res, 400, [plainIssue('invalid', 'grant_type=client_credentials is required in the query string')]);
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const clientId = typeof body.client_id === 'string' ? body.client_id : '';
    const secret = typeof body.client_secret === 'string' ? body.client_secret : '';
    if (!clientId) {
      sendOutcome(res, 401, [{ ...ruleIssue('20009'), severity: 'invalid' }]);
      return;
    }
    if (tokens.isClient(clientId)) {
      (res.locals as Locals).clientId = clientId;
      if (!takeQuota(res, clientId)) return;
    }
    if (!(await preFaults(req, res, true))) return;
    const r = tokens.attempt(clientId, secret);
    if (r.kind === 'locked') {
      stats.authLockouts++;
      (res.locals as Locals).fault = 'auth-lockout';
      sendOutcome(res, 429, [{ severity: 'error', code: 'throttled', details: { text: messages.auth.rateLimited } }], { 'Retry-After': String(r.retryAfterS) });
      return;
    }
    if (r.kind === 'bad-credentials') {
      // The platform's own shape, including the non-FHIR severity "invalid".
      res.status(401).type('application/json').send(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'invalid', code: 'value', details: { text: messages.auth.badCredentials } }] }));
      return;
    }
    stats.tokensIssued++;
    res.status(200).type('application/json').send(JSON.stringify(r.body));
  });

  // ---- FHIR ------------------------------------------------------------------------------------------------------
  const fhir = express.Router();
  fhir.use(async (req: Request, res: Response, next: NextFunction) => {
    const check = tokens.checkBearer(req.get('authorization'));
    if (check.kind !== 'ok') {
      if (core.recordedErrors) {
        // The gateway answers a missing, unknown or expired token alike, with its padded template.
        res.status(401).type('application/json').send(INVALID_TOKEN_BODY);
        return;
      }
      const text = check.kind === 'missing' ? 'Authorization: Bearer <access_token> is required' : check.kind === 'expired' ? 'Access token expired' : 'Invalid access token';
      sendOutcome(res, 401, [plainIssue('login', text)]);
      return;
    }
    (res.locals as Locals & { token: IssuedToken }).token = check.token;
    (res.locals as Locals).clientId = check.token.client.clientId;
    if (!takeQuota(res, check.token.client.clientId)) return;
    try {
      await ready;
    } catch {
      sendOutcome(res, 500, [plainIssue('exception', `Simulator misconfigured: ${validatorError?.message ?? 'validator unavailable'}`)]);
      return;
    }
    if (!(await preFaults(req, res, false))) return;
    next();
  });
  fhir.use(express.json({ type: ['application/json', 'application/fhir+json', 'application/*+json'], limit: '10mb', strict: false }));

  const handle = (fn: (req: Request, client: SimulatorClient) => SimResult) => (req: Request, res: Response) => {
    const client = (res.locals as { token: IssuedToken }).token.client;
    let result: SimResult;
    try {
      result = fn(req, client);
    } catch (e) {
      if (e instanceof SimHttpError) {
        sendOutcome(res, e.status, e.issues, e.headers);
        return;
      }
      throw e;
    }
    if (result.committed && faults.applies(req.method, false) && faults.dropAfterCommit(faultStreamOf(req))) {
      stats.faults.dropAfterCommit++;
      (res.locals as Locals).fault = 'drop-after-commit';
      res.socket?.destroy();
      return;
    }
    const isFhir = !(req.method === 'POST' && req.path === '/Patient');
    res.status(result.status).set(result.headers ?? {}).type(isFhir ? FHIR_JSON : 'application/json').send(JSON.stringify(result.body));
  };

  const fhirBase = (req: Request) => `${req.protocol}://${req.get('host')}${FHIR_PATH}`;

  fhir.post('/', handle((req, client) => runTransaction(core, req.body, client, fhirBase(req))));
  fhir.post('/Patient', handle((req, client) => createPatient(core, req.body, client)));
  fhir.get('/:type', handle((req, client) => searchResources(core, String(req.params.type), req.query as Record<string, unknown>, client, fhirBase(req))));
  fhir.get('/:type/:id', handle((req, client) => readResource(core, String(req.params.type), String(req.params.id), client)));
  fhir.get('/:type/:id/:op', handle((req) => {
    if (req.params.op === '$everything') throw new SimHttpError(400, [ruleIssue('20014', { type: String(req.params.type) })]);
    throw new SimHttpError(404, [plainIssue('not-supported', 'Operation not supported by the simulator')]);
  }));
  fhir.post('/:type', handle((req, client) => createResource(core, String(req.params.type), req.body, client)));
  fhir.put('/:type/:id', handle((req, client) => updateResource(core, String(req.params.type), String(req.params.id), req.body, client)));
  fhir.use((_req: Request, res: Response) => sendOutcome(res, 404, [plainIssue('not-supported', 'Not supported by the simulator')]));
  app.use(FHIR_PATH, fhir);

  app.use((_req: Request, res: Response) => sendOutcome(res, 404, [plainIssue('not-found', 'Unknown path')]));
  // Body parse errors and anything unexpected, as OperationOutcome (no stack traces, no payload echo).
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    void _next;
    const type = (err as { type?: string })?.type;
    if (type === 'entity.parse.failed') {
      if (core.recordedErrors) sendOutcome(res, 400, unparseable(core, 'invalid JSON').issues);
      else sendOutcome(res, 400, [ruleIssue('20006')]);
    }
    else if (type === 'entity.too.large') sendOutcome(res, 413, [plainIssue('too-costly', 'Payload too large')]);
    else sendOutcome(res, 500, [plainIssue('exception', 'Internal simulator error')]);
  });

  const state: SimulatorState = {
    seed: core.seed,
    clients: core.clients.map((c) => ({ clientId: c.clientId, organizationId: c.organizationId })),
    count: (type, org) => core.store.count(type, org),
    get: (type, id) => core.store.get(type, id)?.resource,
    findByIdentifier: (type, system, value) => state.search(type, { identifier: `${system}|${value}` }),
    search: (type, params) =>
      core.store.search(type, Object.entries(params).map(([param, v]) => ({ param, values: v.split(',') }))).map((id) => core.store.get(type, id)!.resource),
    requestLog: () => log.entries(),
    grants: (clientId) => granted.grants(clientId),
    stats: () => {
      const byClient = granted.maxInWindow(QUOTA_WINDOW_MS);
      return {
        ...structuredClone(stats),
        quotaWindow: { windowMs: QUOTA_WINDOW_MS, perMinute, maxGrantsInWindow: Math.max(0, ...Object.values(byClient)), maxGrantsByClient: byClient },
      };
    },
  };

  return {
    app,
    state,
    ready,
    close() {
      closed = true;
      for (const h of hanging) {
        clearTimeout(h.timer);
        h.res.socket?.destroy();
      }
      hanging.clear();
    },
  };
}
