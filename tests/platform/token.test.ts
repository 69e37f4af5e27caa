import nock from 'nock';
import { createTokenProvider, tokenUrl } from '../../src/platform/token.js';
import { createFacilityLimiter } from '../../src/platform/limiter.js';
import { PlatformError } from '../../src/platform/types.js';
import { AUTH_ORIGIN, AUTH_PATH, BAD_CREDENTIALS, CLIENT_ID, SECRET, captureLogger, errorText, facility, manualClock, tokenBody, failure, offlineWithNock, tokenEndpoint } from './helpers.js';

offlineWithNock();
const auth = tokenEndpoint;

describe('token request', () => {
  it('POSTs grant_type in the query and client_id/client_secret as a form body', async () => {
    let seen: { body?: unknown; type?: string } = {};
    const scope = nock(AUTH_ORIGIN)
      .post(AUTH_PATH)
      .query({ grant_type: 'client_credentials' })
      .reply(function (_uri, body) {
        seen = { body, type: String(this.req.headers['content-type']) };
        return [200, tokenBody('T1')];
      });
    const tokens = createTokenProvider(facility());
    await expect(tokens.get()).resolves.toBe('T1');
    expect(scope.isDone()).toBe(true);
    expect(seen.type).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(String(seen.body));
    expect(form.get('client_id')).toBe(CLIENT_ID);
    expect(form.get('client_secret')).toBe(SECRET);
    expect(form.has('grant_type')).toBe(false);
    expect(tokenUrl('https://a.test/oauth2/v1/')).toBe('https://a.test/oauth2/v1/accesstoken?grant_type=client_credentials');
  });

  it('reads the string expires_in ("3599") as seconds from the send time', async () => {
    const clock = manualClock();
    auth().reply(200, tokenBody('T1', '3599'));
    const tokens = createTokenProvider(facility(), { now: clock.now });
    expect(tokens.state()).toEqual({ state: 'empty' });
    await tokens.get();
    expect(tokens.state()).toEqual({ state: 'valid', expiresAt: clock.now() + 3_599_000 });
  });
});

describe('caching and refresh', () => {
  it('serves the cached token, then refreshes 5 minutes before expiry', async () => {
    const clock = manualClock();
    const tokens = createTokenProvider(facility(), { now: clock.now });
    auth().reply(200, tokenBody('T1'));
    expect(await tokens.get()).toBe('T1');
    clock.advance(3_599_000 - 300_000 - 1); // 1 ms before the refresh point
    expect(await tokens.get()).toBe('T1'); // no interceptor left: a request here would fail
    auth().reply(200, tokenBody('T2'));
    clock.advance(1);
    expect(await tokens.get()).toBe('T2');
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('honours a configured refresh margin', async () => {
    const clock = manualClock();
    const tokens = createTokenProvider(facility(), { now: clock.now, refreshMarginMs: 60_000 });
    auth().reply(200, tokenBody('T1'));
    await tokens.get();
    clock.advance(3_599_000 - 60_001);
    expect(await tokens.get()).toBe('T1');
    auth().reply(200, tokenBody('T2'));
    clock.advance(2);
    expect(await tokens.get()).toBe('T2');
  });

  it('a lifetime shorter than the margin does not make every call refresh', async () => {
    const clock = manualClock();
    const tokens = createTokenProvider(facility(), { now: clock.now });
    auth().reply(200, tokenBody('T1', '120'));
    await tokens.get();
    clock.advance(59_000);
    expect(await tokens.get()).toBe('T1');
  });

  it('single-flight: 10 concurrent callers share one token request', async () => {
    let calls = 0;
    auth()
      .times(10)
      .reply(() => {
        calls++;
        return [200, tokenBody(`T${calls}`)];
      });
    const tokens = createTokenProvider(facility());
    const got = await Promise.all(Array.from({ length: 10 }, () => tokens.get()));
    expect(calls).toBe(1);
    expect(new Set(got)).toEqual(new Set(['T1']));
  });

  it('invalidate(token) only drops the token it names, so concurrent 401s refresh once', async () => {
    let calls = 0;
    auth().times(5).reply(() => [200, tokenBody(`T${++calls}`)]);
    const tokens = createTokenProvider(facility());
    expect(await tokens.get()).toBe('T1');
    await tokens.invalidate('T1');
    expect(await tokens.get()).toBe('T2');
    await tokens.invalidate('T1'); // a late 401 for the old token
    expect(await tokens.get()).toBe('T2');
    await tokens.invalidate();
    expect(await tokens.get()).toBe('T3');
    expect(calls).toBe(3);
  });
});

describe('failed authentication (platform: 1 request/min after a failure)', () => {
  it("401 with severity 'invalid' → auth error, normalised, with retryAfterMs; no request for a minute", async () => {
    const clock = manualClock();
    const { logger, entries } = captureLogger();
    const tokens = createTokenProvider(facility(), { now: clock.now, logger });
    const scope = auth().reply(401, BAD_CREDENTIALS);
    const e1 = await failure(tokens.get());
    expect(scope.isDone()).toBe(true);
    expect(e1.kind).toBe('auth');
    expect(e1.status).toBe(401);
    expect(e1.retryAfterMs).toBe(60_000);
    expect(e1.outcome.issue[0].severity).toBe('error');
    expect(e1.message).toContain('not able to be authenticated');
    expect(tokens.state()).toEqual({ state: 'auth-failed', retryAt: clock.now() + 60_000 });

    clock.advance(15_000);
    const e2 = await failure(tokens.get()); // no interceptor: a request would be a net-connect error, not 'auth'
    expect(e2.kind).toBe('auth');
    expect(e2.retryAfterMs).toBe(45_000);
    clock.advance(44_999);
    expect((await failure(tokens.get())).retryAfterMs).toBe(1);

    clock.advance(1);
    auth().reply(200, tokenBody('T-after'));
    expect(await tokens.get()).toBe('T-after');
    expect(tokens.state().state).toBe('valid');
    expect(JSON.stringify(entries)).not.toContain(SECRET);
    expect(JSON.stringify(entries)).not.toContain('T-after');
  });

  it('concurrent callers during a failing attempt all get the auth error from one request', async () => {
    let calls = 0;
    auth().times(5).reply(() => {
      calls++;
      return [400, BAD_CREDENTIALS];
    });
    const tokens = createTokenProvider(facility());
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => tokens.get()));
    expect(calls).toBe(1);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(((r as PromiseRejectedResult).reason as PlatformError).kind).toBe('auth');
    }
  });

  it('a 200 without access_token is a refusal, not a token', async () => {
    auth().reply(200, { status: 'revoked', client_id: CLIENT_ID });
    const e = await failure(createTokenProvider(facility()).get());
    expect(e.kind).toBe('auth');
    expect(e.retryAfterMs).toBe(60_000);
  });

  it('never puts the secret or client id in an error, even when the platform echoes them', async () => {
    auth().reply(401, { resourceType: 'OperationOutcome', issue: [{ severity: 'invalid', code: 'value', details: { text: `client ${CLIENT_ID} with secret ${SECRET} rejected` } }] });
    const e = await failure(createTokenProvider(facility()).get());
    expect(errorText(e)).not.toContain(SECRET);
    expect(errorText(e)).not.toContain(CLIENT_ID);
  });

  it('429 on the token endpoint → rate-limited with Retry-After, remembered without new requests', async () => {
    const clock = manualClock();
    auth().reply(429, 'Too Many Requests', { 'Retry-After': '30' });
    const tokens = createTokenProvider(facility(), { now: clock.now });
    const e = await failure(tokens.get());
    expect(e.kind).toBe('rate-limited');
    expect(e.retryAfterMs).toBe(30_000);
    clock.advance(10_000);
    const again = await failure(tokens.get());
    expect(again.kind).toBe('rate-limited');
    expect(again.retryAfterMs).toBe(20_000);
  });
});

describe('transient failures of the token endpoint', () => {
  it('a text/plain 504 is transient with a normalised outcome, and is not an auth lockout', async () => {
    const clock = manualClock();
    auth().reply(504, 'Gateway Timeout', { 'Content-Type': 'text/plain' });
    const tokens = createTokenProvider(facility(), { now: clock.now });
    const e = await failure(tokens.get());
    expect(e.kind).toBe('transient');
    expect(e.outcome.issue[0]).toEqual({ severity: 'error', code: 'transient', diagnostics: 'HTTP 504: Gateway Timeout' });
    // Short cool-down (5 s) instead of the auth lockout.
    clock.advance(1_000);
    expect((await failure(tokens.get())).kind).toBe('transient');
    clock.advance(4_000);
    auth().reply(200, tokenBody('T1'));
    expect(await tokens.get()).toBe('T1');
  });

  it('a network error is transient', async () => {
    auth().replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    const e = await failure(createTokenProvider(facility()).get());
    expect(e.kind).toBe('transient');
    expect(e.status).toBeUndefined();
  });

  it('a token endpoint slower than the timeout is transient', async () => {
    auth().delay(500).reply(200, tokenBody('late'));
    const e = await failure(createTokenProvider(facility(), { timeoutMs: 50 }).get());
    expect(e.kind).toBe('transient');
    expect(e.outcome.issue[0].code).toBe('timeout');
  });

  it('keeps using the old token while it lives when a refresh fails transiently', async () => {
    const clock = manualClock();
    const tokens = createTokenProvider(facility(), { now: clock.now });
    auth().reply(200, tokenBody('T1'));
    await tokens.get();
    clock.advance(3_599_000 - 200_000); // inside the refresh margin, token still valid
    auth().reply(503, 'Service Unavailable');
    expect(await tokens.get()).toBe('T1');
    expect(await tokens.get()).toBe('T1'); // cool-down: no new request (no interceptor left)
  });

  it('but not an expired token', async () => {
    const clock = manualClock();
    const tokens = createTokenProvider(facility(), { now: clock.now });
    auth().reply(200, tokenBody('T1'));
    await tokens.get();
    clock.advance(3_599_000);
    auth().reply(503, 'Service Unavailable');
    expect((await failure(tokens.get())).kind).toBe('transient');
  });
});

describe('quota', () => {
  it('token requests take a point from the facility limiter', async () => {
    const limiter = createFacilityLimiter('org', { quotaPerMinute: 5 });
    auth().reply(200, tokenBody('T1'));
    const tokens = createTokenProvider(facility(), { limiter });
    await tokens.get();
    await tokens.get();
    expect(limiter.stats().granted).toBe(1);
    limiter.close();
  });
});
