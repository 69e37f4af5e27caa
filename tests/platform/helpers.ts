// Shared fixtures for the platform tests (not a test file itself).
import nock from 'nock';
import { PlatformError, type FacilityConfig } from '../../src/platform/types.js';
import type { FacilityLimiter } from '../../src/platform/limiter.js';

export const AUTH_ORIGIN = 'https://auth.satusehat.test';
export const AUTH_PATH = '/oauth2/v1/accesstoken';
export const FHIR_ORIGIN = 'https://api.satusehat.test';
export const FHIR_PATH = '/fhir-r4/v1';
export const ORG = '100011961';
export const SECRET = 'sEcReT-client-secret-value';
export const CLIENT_ID = 'client-id-abc123';
/** A sandbox dummy NIK (docs §1.5); tests assert it never appears in errors or logs. */
export const NIK = '9271060312000001';

export function facility(over: Partial<FacilityConfig> = {}): FacilityConfig {
  return {
    organizationId: ORG,
    environment: 'sandbox',
    authBaseUrl: `${AUTH_ORIGIN}/oauth2/v1`,
    fhirBaseUrl: `${FHIR_ORIGIN}${FHIR_PATH}`,
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    timezone: 'Asia/Jakarta',
    quotaPerMinute: 150,
    locations: {},
    ...over,
  };
}

/** The platform's token answer: every value a string (docs §1.3). */
export function tokenBody(token: string, expiresIn = '3599', issuedAt = '1671109805593'): Record<string, unknown> {
  return {
    refresh_token_expires_in: '0',
    api_product_list: '[api-sandbox]',
    api_product_list_json: ['api-sandbox'],
    organization_name: 'ihs-prod-1',
    'developer.email': 'dev@example.test',
    token_type: 'BearerToken',
    issued_at: issuedAt,
    client_id: CLIENT_ID,
    access_token: token,
    application_name: '992291b8-a613-40aa-b27c-41e480c7585f',
    scope: '',
    expires_in: expiresIn,
    refresh_count: '0',
    status: 'approved',
  };
}

export const BAD_CREDENTIALS = {
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'invalid', code: 'value', details: { text: 'The user or system was not able to be authenticated (either client_id or client_secret combination is unacceptable)' } }],
};

export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

export interface LogEntry { level: string; obj: object; msg?: string }
export function captureLogger(): { logger: { debug(o: object, m?: string): void; info(o: object, m?: string): void; warn(o: object, m?: string): void }; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg?: string) => { entries.push({ level, obj, msg }); };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn') }, entries };
}

/** Everything an error exposes, as text: for "no NIK / secret / token in errors" assertions. */
export function errorText(e: unknown): string {
  const err = e as Error;
  return [err?.message, err?.stack, JSON.stringify(e)].join('\n');
}

/** The PlatformError a call rejects with; its message, stack and JSON never carry the NIK or the client secret. */
export async function failure(p: Promise<unknown>): Promise<PlatformError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PlatformError);
    expect(errorText(e)).not.toContain(NIK);
    expect(errorText(e)).not.toContain(SECRET);
    return e as PlatformError;
  }
  throw new Error('expected a rejection');
}

/**
 * Registers the nock lifecycle of a platform test file (no real network; interceptors and limiters cleared after each
 * test) and returns the list a test pushes its limiters onto so they are closed.
 */
export function nockLifecycle(): FacilityLimiter[] {
  const limiters: FacilityLimiter[] = [];
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    nock.abortPendingRequests();
    nock.cleanAll();
    for (const l of limiters.splice(0)) l.close();
  });
  afterAll(() => nock.enableNetConnect());
  return limiters;
}

/** No real network for the file's tests; every interceptor and pending request gone after each test. */
export function offlineWithNock(): void {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    nock.abortPendingRequests();
    nock.cleanAll();
  });
  afterAll(() => nock.enableNetConnect());
}

/** The token endpoint's interceptor. */
export const tokenEndpoint = () => nock(AUTH_ORIGIN).post(AUTH_PATH).query({ grant_type: 'client_credentials' });
