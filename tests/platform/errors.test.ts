import { errorFromResponse, normaliseOutcome, parseRetryAfter, redactText, rulesOf, toPlatformError, kindForStatus, MAX_RETRY_AFTER_MS } from '../../src/platform/errors.js';
import { PlatformError } from '../../src/platform/types.js';
import { NIK, errorText } from './helpers.js';

const oo = (text: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'value', details: { text }, ...extra }],
});
const headers = (h: Record<string, string>) => new Headers(h);

describe('errorFromResponse: retry classes', () => {
  const cases: Array<[string, number, unknown, string, string[]]> = [
    ['400 with rule 10117 → forbidden (facility configuration)', 400, oo('Wrong organization ID provided by system URL (RuleNumber: 10117)'), 'forbidden', ['10117']],
    ['400 with rule 20003 → forbidden', 400, oo('Client has no scope (RuleNumber: 20003)'), 'forbidden', ['20003']],
    ['400 with rule 20004 → forbidden', 400, oo('Not allowed for access class (RuleNumber: 20004)'), 'forbidden', ['20004']],
    ['403 without outcome → forbidden', 403, 'Forbidden', 'forbidden', []],
    ['400 with rule 20002 → duplicate', 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'duplicate', details: { text: 'Found duplicate resource: Encounter (RuleNumber: 20002)' } }] }, 'duplicate', ['20002']],
    ['400 code duplicate without rule → duplicate', 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'duplicate', diagnostics: 'exists' }] }, 'duplicate', []],
    ['400 code duplicate with bundle rule 20018 → validation, not duplicate', 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'duplicate', details: { text: 'fullUrl must be unique (RuleNumber: 20018)' } }] }, 'validation', ['20018']],
    ['400 with rule 20007 → not-found', 400, oo('Referenced resource not found (RuleNumber: 20007)'), 'not-found', ['20007']],
    ['404 → not-found', 404, oo('Resource not found'), 'not-found', []],
    ['422 with rule 10121 → validation', 422, oo('period.end must be after start (RuleNumber: 10121)'), 'validation', ['10121']],
    ['400 plain text → validation', 400, 'Bad Request', 'validation', []],
    ['401 → auth', 401, oo('Invalid access token'), 'auth', []],
    ['408 → transient', 408, 'Request Timeout', 'transient', []],
    ['409 → transient', 409, oo('conflict'), 'transient', []],
    ['500 → transient', 500, oo('Internal error'), 'transient', []],
    ['502 HTML → transient', 502, '<html><body>Bad Gateway</body></html>', 'transient', []],
    ['200 with unusable body → transient', 200, 'OK', 'transient', []],
  ];
  it.each(cases)('%s', (_name, status, body, kind, rules) => {
    const e = errorFromResponse(status, body, undefined);
    expect(e).toBeInstanceOf(PlatformError);
    expect(e.kind).toBe(kind);
    expect(e.status).toBe(status);
    expect(e.rules).toEqual(rules);
    expect(e.outcome.resourceType).toBe('OperationOutcome');
    expect(e.outcome.issue.length).toBeGreaterThan(0);
  });

  it('extracts the rule number of every issue, from details.text and diagnostics, without duplicates', () => {
    const body = {
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'error', code: 'value', details: { text: 'Wrong datetime format (RuleNumber: 10295)' } },
        { severity: 'error', code: 'value', diagnostics: 'Observation code system not allowed (RuleNumber: 10010)' },
        { severity: 'error', code: 'value', details: { text: 'again (RuleNumber: 10295)' } },
        { severity: 'error', code: 'processing', details: { text: 'failed due to previous error' } },
      ],
    };
    const e = errorFromResponse(400, body, undefined);
    expect(e.kind).toBe('validation');
    expect(e.rules).toEqual(['10295', '10010']);
  });

  it('a forbidden rule wins over validation rules in the same outcome', () => {
    const body = { resourceType: 'OperationOutcome', issue: [oo('bad date (RuleNumber: 10295)').issue[0], oo('Wrong organization ID (RuleNumber: 10117)').issue[0]] };
    expect(errorFromResponse(400, body, undefined).kind).toBe('forbidden');
  });

  it('429 honours Retry-After in seconds, as an HTTP-date, and defaults to 60 s', () => {
    expect(errorFromResponse(429, '', headers({ 'retry-after': '17' })).retryAfterMs).toBe(17_000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    const e = errorFromResponse(429, {}, headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:42 GMT' }), { now: () => now });
    expect(e.kind).toBe('rate-limited');
    expect(e.retryAfterMs).toBe(42_000);
    expect(errorFromResponse(429, 'Too Many Requests', undefined).retryAfterMs).toBe(60_000);
    expect(errorFromResponse(429, 'x', headers({ 'retry-after': 'soon' })).retryAfterMs).toBe(60_000);
    expect(errorFromResponse(429, 'x', undefined, { defaultRetryAfterMs: 5_000 }).retryAfterMs).toBe(5_000);
    expect(errorFromResponse(429, 'Too Many Requests', undefined).outcome.issue[0].code).toBe('throttled');
  });

  it('503 with Retry-After stays transient but carries the delay; other classes carry none', () => {
    const e = errorFromResponse(503, 'Service Unavailable', headers({ 'retry-after': '5' }));
    expect(e.kind).toBe('transient');
    expect(e.retryAfterMs).toBe(5_000);
    expect(errorFromResponse(400, oo('x (RuleNumber: 10121)'), headers({ 'retry-after': '5' })).retryAfterMs).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds, dates, rejects junk and clamps', () => {
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter(' 2 ')).toBe(2000);
    expect(parseRetryAfter('1.5')).toBe(1500);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('-3')).toBeUndefined();
    expect(parseRetryAfter('tomorrow-ish')).toBeUndefined();
    expect(parseRetryAfter('999999')).toBe(MAX_RETRY_AFTER_MS);
    const now = Date.parse('2025-01-01T00:01:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:00 GMT', now)).toBe(0); // a date in the past means "now"
  });
});

describe('normaliseOutcome', () => {
  it("turns the platform's severity 'invalid' into 'error' and keeps details.text as diagnostics", () => {
    const o = normaliseOutcome({ resourceType: 'OperationOutcome', issue: [{ severity: 'invalid', code: 'value', details: { text: 'not authenticated' } }] }, 401, 'login');
    expect(o.issue[0].severity).toBe('error');
    expect(o.issue[0].code).toBe('value');
    expect(o.issue[0].details?.text).toBe('not authenticated');
    expect(o.issue[0].diagnostics).toBe('not authenticated');
  });

  it('keeps valid severities, fills a missing code, drops junk issues and non-string expressions', () => {
    const o = normaliseOutcome({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', diagnostics: 'w', expression: ['Encounter.period', 7] }, null, 'junk'] }, 400, 'processing');
    expect(o.issue).toHaveLength(1);
    expect(o.issue[0]).toEqual({ severity: 'warning', code: 'processing', diagnostics: 'w', expression: ['Encounter.period'] });
  });

  it('builds an outcome for text bodies, empty bodies, non-FHIR JSON and an OperationOutcome without issues', () => {
    expect(normaliseOutcome('Gateway Timeout', 504, 'transient').issue[0]).toEqual({ severity: 'error', code: 'transient', diagnostics: 'HTTP 504: Gateway Timeout' });
    expect(normaliseOutcome('', 502, 'transient').issue[0].diagnostics).toBe('HTTP 502');
    expect(normaliseOutcome({}, undefined, 'transient').issue[0].diagnostics).toBe('No response');
    expect(normaliseOutcome({ fault: { faultstring: 'Invalid access token', detail: { errorcode: 'keymanagement.service.InvalidAccessToken' } } }, 401, 'login').issue[0].diagnostics).toBe('HTTP 401: Invalid access token (keymanagement.service.InvalidAccessToken)');
    expect(normaliseOutcome({ success: false, message: 'Pasien sudah ada' }, 400, 'duplicate').issue[0].diagnostics).toBe('HTTP 400: Pasien sudah ada');
    expect(normaliseOutcome({ resourceType: 'OperationOutcome', issue: 'nope' }, 400, 'processing').issue[0].diagnostics).toBe('HTTP 400');
    expect(normaliseOutcome('<html>\n  <b>Bad</b>\n</html>', 502, 'transient').issue[0].diagnostics).toBe('HTTP 502: <html> <b>Bad</b> </html>');
  });

  it('redacts NIK-like numbers, given secrets and URL query strings from texts it did not write; truncates long ones', () => {
    const body = oo(`Patient ${NIK} not found at https://api.test/fhir-r4/v1/Patient?identifier=https://fhir.kemkes.go.id/id/nik|${NIK} for Budi Santoso`);
    const o = normaliseOutcome(body, 400, 'processing', ['Budi Santoso']);
    const text = JSON.stringify(o);
    expect(text).not.toContain(NIK);
    expect(text).not.toContain('Budi Santoso');
    expect(text).toContain('https://api.test/fhir-r4/v1/Patient?…');
    expect(redactText('x'.repeat(2000)).length).toBeLessThanOrEqual(501);
    expect(redactText('id 12345678901234567 stays')).toContain('12345678901234567'); // 17 digits is not a NIK
  });

  it('rulesOf reads rule numbers from normalised outcomes', () => {
    expect(rulesOf(normaliseOutcome(oo('x (RuleNumber: 10441)'), 400, 'processing'))).toEqual(['10441']);
  });
});

describe('kindForStatus precedence', () => {
  it('status classes that mean "retry" win over rule numbers', () => {
    expect(kindForStatus(500, ['20002'], [])).toBe('transient');
    expect(kindForStatus(429, ['10117'], [])).toBe('rate-limited');
    expect(kindForStatus(401, ['10117'], [])).toBe('auth');
  });
});

describe('toPlatformError', () => {
  it('passes PlatformError through unchanged', () => {
    const e = errorFromResponse(400, oo('x'), undefined);
    expect(toPlatformError(e)).toBe(e);
  });

  it("parses fhir-kit-client's error shape without ever using its message (it holds the URL with the NIK)", () => {
    const fkc = Object.assign(new Error(`HTTP 429: GET https://api.test/fhir-r4/v1/Patient?identifier=https%3A%2F%2Ffhir.kemkes.go.id%2Fid%2Fnik%7C${NIK}`), {
      response: { status: 429, data: 'Too Many Requests' },
      config: { method: 'GET', url: `https://api.test/fhir-r4/v1/Patient?identifier=x|${NIK}`, headers: new Headers({ 'retry-after': '3' }) },
    });
    const e = toPlatformError(fkc);
    expect(e.kind).toBe('rate-limited');
    expect(e.retryAfterMs).toBe(3000);
    expect(errorText(e)).not.toContain(NIK);
    expect(errorText(e)).not.toContain('api.test');
  });

  it('aborts and timeouts are transient with a timeout outcome', () => {
    const t = toPlatformError(new DOMException('x', 'TimeoutError'), { timeoutMs: 250 });
    expect(t.kind).toBe('transient');
    expect(t.status).toBeUndefined();
    expect(t.outcome.issue[0].code).toBe('timeout');
    expect(t.message).toContain('250 ms');
    expect(toPlatformError(new DOMException('x', 'AbortError')).kind).toBe('transient');
  });

  it('socket errors are transient and name the code', () => {
    const e = toPlatformError(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }));
    expect(e.kind).toBe('transient');
    expect(e.outcome.issue[0].diagnostics).toBe('Network error (ECONNRESET)');
  });

  it('unknown failures become transient with a redacted message', () => {
    const e = toPlatformError(new RangeError(`bad thing at https://x.test/Patient?identifier=${NIK}`));
    expect(e.kind).toBe('transient');
    expect(e.outcome.issue[0].code).toBe('exception');
    expect(errorText(e)).not.toContain(NIK);
    expect(toPlatformError('a string').kind).toBe('transient');
    expect(toPlatformError(undefined).kind).toBe('transient');
  });
});

describe('a 404 without a FHIR body (wrong base URL)', () => {
  it.each([
    ['plain text', 'Not Found'],
    ['an HTML page', '<html><body><h1>404 Not Found</h1></body></html>'],
    ['a JSON body that is no OperationOutcome', { error: 'not found' }],
  ])('%s: transient with reason wrong-url, never not-found (which would read as "the platform has none")', (_what, body) => {
    const e = errorFromResponse(404, body, undefined);
    expect(e.kind).toBe('transient');
    expect(e.reason).toBe('wrong-url');
  });

  it('the platform’s own 404 for a missing resource (an OperationOutcome) stays not-found', () => {
    const e = errorFromResponse(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', details: { text: 'storage_error' }, diagnostics: 'resource not found' }] }, undefined);
    expect(e.kind).toBe('not-found');
    expect(e.reason).toBeUndefined();
  });
});
