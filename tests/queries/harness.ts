// A service-like app for the query endpoints: the real visits and sync routers over an in-memory store, facility keys
// for two organizations and the admin key, real validation and mapping (pushes go through the real ingest).
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../src/api/app.js';
import { visitsRouter } from '../../src/api/visits.js';
import { queriesRouter } from '../../src/api/queries.js';
import type { FacilityConfig } from '../../src/platform/types.js';
import { hashApiKey, type Principal } from '../../src/api/auth.js';
import { loadMappingTables, mapVisit } from '../../src/mapping/index.js';
import { createValidator } from '../../src/validation/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { makeVisit } from '../e2e/fixtures.js';
import { logCapture, NOW } from '../api/helpers.js';

export const A = '10000601';
export const B = '10000602';
export const KEY: Readonly<Record<string, string>> = { [A]: 'query-key-a-0123456789abcdef', [B]: 'query-key-b-0123456789abcdef', admin: 'query-admin-key-0123456789' };
export { NOW };

const validator = createValidator();
const tables = loadMappingTables();

export interface Harness {
  app: express.Express;
  store: Store;
  logs: () => string;
  /** Moves the clock (epoch ms). */
  setNow(ms: number): void;
  get(path: string, who: string): request.Test;
  push(org: string, body: unknown, who?: string): request.Test;
}

export const facilityConfig = (organizationId: string): FacilityConfig => ({
  organizationId, name: `Puskesmas ${organizationId}`, environment: 'simulator', authBaseUrl: 'http://127.0.0.1:1/oauth2/v1',
  fhirBaseUrl: 'http://127.0.0.1:1/fhir-r4/v1', clientId: 'client-id-not-shown', clientSecret: 'secret-not-shown', timezone: 'Asia/Jakarta',
  quotaPerMinute: 150, locations: { 'POSY-01': { name: 'Posyandu Mawar' } as never },
});

export interface HarnessOptions {
  /** Extra routers built from the same store, clock and keys. */
  routers?: (shared: Shared) => { path: string; router: express.Router }[];
  /** HTML routers (the console) built from the same store, clock and keys, mounted before the JSON-only guards. */
  htmlRouters?: (shared: Shared) => express.Router[];
}

type Shared = { store: Store; clock: () => Date; staticKeys: Map<string, Principal>; adminKeyHash: string; logger: ReturnType<typeof logCapture>['logger'] };

export function harness(opts: HarnessOptions = {}): Harness {
  const store = openSqliteStore({ file: ':memory:' });
  let now = NOW.getTime();
  const clock = () => new Date(now);
  const { logger, text } = logCapture();
  const staticKeys = new Map<string, Principal>([A, B].map((org) => [hashApiKey(KEY[org]!), { role: 'facility', organizationId: org }]));
  const adminKeyHash = hashApiKey(KEY.admin!);
  const router = visitsRouter({
    store, validator, mapper: (r, at) => mapVisit(r, tables, { now: at }), clock, logger, staticKeys, adminKeyHash,
    organizations: new Set([A, B]),
  });
  const shared: Shared = { store, clock, staticKeys, adminKeyHash, logger };
  const extra = opts.routers?.(shared) ?? [];
  const htmlRouters = opts.htmlRouters?.(shared) ?? [];
  const queries = queriesRouter({ store, clock, staticKeys, adminKeyHash, facilities: [facilityConfig(A), facilityConfig(B)] });
  const app = createApp({ validator, tables, clock, logger, routers: [{ path: '/', router }, { path: '/', router: queries }, ...extra], htmlRouters });
  return {
    app, store, logs: text,
    setNow: (ms) => void (now = ms),
    get: (path, who) => request(app).get(path).set('Authorization', `Bearer ${KEY[who]}`),
    push: (org, body, who = org) => request(app).post('/ilp/visits').set('Authorization', `Bearer ${KEY[who]}`).send(body as object),
  };
}

let serial = 0;
/** Valid visit records of one organization (real NIKs and names, to assert they never show in lists). */
export const visits = (org: string, n: number, over: Record<string, unknown> = {}, startIso?: string) =>
  Array.from({ length: n }, () => ({ ...makeVisit(serial++, { organizationId: org, ...(startIso ? { startIso } : {}) }), ...over }));
