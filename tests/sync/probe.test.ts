// The token probe: one token request per facility at start-up and on resume, its result in the facility state.
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { PlatformError } from '../../src/platform/types.js';
import { ownOutcome } from '../../src/platform/errors.js';
import { FacilityProbes, probeResultOf, type ProbeTarget } from '../../src/sync/probe.js';
import { createLogger } from '../../src/util/logger.js';

const ORG = '10000004';
const AUTH = 'http://127.0.0.1:9/oauth2/v1';
const DELAY = 600_000;
let store: Store;
let t = 1_700_000_000_000;
const now = () => t;

beforeEach(async () => {
  store = await openStore({ url: 'sqlite::memory:', dataDir: '/nonexistent' });
});
afterEach(() => store.close());

function probesWith(requestToken: () => Promise<unknown>): { probes: FacilityProbes; calls: () => number } {
  let n = 0;
  const target: ProbeTarget = { authBaseUrl: AUTH, requestToken: () => { n++; return requestToken(); } };
  const probes = new FacilityProbes({ facilities: new Map([[ORG, target]]), store, now, logger: createLogger({ level: 'silent' }), authProbeDelayMs: DELAY });
  return { probes, calls: () => n };
}

const refused = (status: number, text = 'The user or system was not able to be authenticated') =>
  new PlatformError('auth', status, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', details: { text } }] }, [], 60_000);

describe('probeResultOf', () => {
  it('a refused credential is auth-failed with the platform’s words', () => {
    expect(probeResultOf(refused(401), AUTH, t)).toMatchObject({ status: 'auth-failed', httpStatus: 401, reason: expect.stringContaining('not able to be authenticated') });
  });
  it('a 403 from the token endpoint says it may be the network, not only the credentials', () => {
    expect(probeResultOf(refused(403, 'Forbidden'), AUTH, t).reason).toMatch(/outside Indonesia/);
  });
  it('a 404 is a wrong URL, never an auth failure', () => {
    const r = probeResultOf(refused(404, 'Not Found'), AUTH, t);
    expect(r).toMatchObject({ status: 'wrong-url', httpStatus: 404 });
    expect(r.reason).toContain(AUTH);
  });
  it('no answer, 5xx or 429 is unreachable: the credentials were not checked', () => {
    for (const err of [
      new PlatformError('transient', undefined, ownOutcome('transient', 'Network error (ECONNREFUSED)')),
      new PlatformError('transient', 503, ownOutcome('transient', 'HTTP 503')),
      new PlatformError('rate-limited', 429, ownOutcome('throttled', 'HTTP 429'), [], 1000),
    ]) expect(probeResultOf(err, AUTH, t)).toMatchObject({ status: 'unreachable', reason: expect.stringMatching(/not checked/) });
    expect(probeResultOf(new Error('boom'), AUTH, t).status).toBe('unreachable');
  });
});

describe('FacilityProbes', () => {
  it('is pending before the first answer, then ok; an ok probe lifts a hold for credentials from an earlier run', async () => {
    await store.putFacilityState({ organizationId: ORG, status: 'auth-failed', cause: 'credentials', reason: 'old', notBefore: t + DELAY, updatedAt: t - 1 });
    let grant!: () => void;
    const { probes } = probesWith(() => new Promise<void>((r) => { grant = r; }));
    const running = probes.probeAll();
    expect(probes.result(ORG)).toEqual({ status: 'pending' });
    grant();
    await running;
    expect(probes.result(ORG)).toEqual({ status: 'ok', checkedAt: t });
    expect(await store.getFacilityState(ORG)).toMatchObject({ status: 'active' });
    expect((await store.getFacilityState(ORG))!.notBefore).toBeUndefined();
  });

  it('an ok probe does not lift a hold for access (403) or an operator’s pause', async () => {
    for (const held of [
      { status: 'config-error' as const, cause: 'access' as const, reason: 'Resource cannot be accessed due to business rule' },
      { status: 'paused' as const, cause: 'operator' as const, reason: 'paused by an operator' },
    ]) {
      await store.putFacilityState({ organizationId: ORG, ...held, updatedAt: t });
      await probesWith(async () => 'token').probes.probe(ORG);
      expect(await store.getFacilityState(ORG)).toMatchObject(held);
    }
  });

  it('refused credentials put the facility on hold until the next probe time; wrong URL as a configuration error', async () => {
    await probesWith(() => Promise.reject(refused(401))).probes.probe(ORG);
    expect(await store.getFacilityState(ORG)).toMatchObject({ status: 'auth-failed', cause: 'credentials', notBefore: t + DELAY });
    await probesWith(() => Promise.reject(refused(404, 'Not Found'))).probes.probe(ORG);
    expect(await store.getFacilityState(ORG)).toMatchObject({ status: 'config-error', cause: 'url' });
    // Fixed and restarted: the next probe passes and lifts the URL hold.
    await probesWith(async () => 'token').probes.probe(ORG);
    expect(await store.getFacilityState(ORG)).toMatchObject({ status: 'active' });
  });

  it('an unreachable platform changes no state; a paused facility stays paused whatever the probe says', async () => {
    await probesWith(() => Promise.reject(new PlatformError('transient', undefined, ownOutcome('timeout', 'Timeout')))).probes.probe(ORG);
    expect(await store.getFacilityState(ORG)).toBeUndefined();
    await store.putFacilityState({ organizationId: ORG, status: 'paused', cause: 'operator', updatedAt: t });
    await probesWith(() => Promise.reject(refused(401))).probes.probe(ORG);
    expect((await store.getFacilityState(ORG))!.status).toBe('paused');
  });

  it('concurrent probes of one facility share one token request; unknown facilities have no result', async () => {
    let grant!: () => void;
    const { probes, calls } = probesWith(() => new Promise<void>((r) => { grant = r; }));
    const a = probes.probe(ORG);
    const b = probes.probe(ORG);
    grant();
    expect(await a).toBe(await b);
    expect(calls()).toBe(1);
    expect(probes.result('99999')).toBeUndefined();
  });

  it('a probe answering after the store closed keeps its result in memory and does not reject', async () => {
    let fail!: (e: unknown) => void;
    const { probes } = probesWith(() => new Promise<void>((_r, j) => { fail = j; }));
    const p = probes.probe(ORG);
    await store.close();
    fail(refused(401));
    await expect(p).resolves.toMatchObject({ status: 'auth-failed' });
    store = await openStore({ url: 'sqlite::memory:', dataDir: '/nonexistent' }); // for afterEach
  });
});
