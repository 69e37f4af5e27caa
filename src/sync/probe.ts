// One token request per facility to learn whether its configuration works before any visit depends on it: at start-up,
// and again when an operator resumes a facility after fixing its credentials. The probe goes through the facility's
// token provider, so it takes a quota point like any call and never breaks the platform's 1-per-minute auth lockout.
import type { MessageRef } from '../validation/outcome.js';
import { renderMessage } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../util/logger.js';
import { PlatformError } from '../platform/types.js';

/**
 * - `ok`: a token was granted.
 * - `auth-failed`: the platform refused the credentials (reason: its words).
 * - `wrong-url`: the token endpoint does not exist at the configured URL (environment / simulatorUrl).
 * - `unreachable`: no answer, or the platform answered 5xx / 429: says nothing about the configuration.
 * - `pending`: not probed yet.
 */
export type ProbeStatus = 'ok' | 'auth-failed' | 'wrong-url' | 'unreachable' | 'pending';

export interface ProbeResult {
  status: ProbeStatus;
  /** Epoch ms of the answer (absent while pending). */
  checkedAt?: number;
  /** HTTP status of the token endpoint's answer, when there was one. */
  httpStatus?: number;
  /** What an operator should know, PII- and secret-free (English). */
  reason?: string;
  /** `reason` as its catalogue message (messages/facility.json), said in the reader's language. */
  reasonMessage?: MessageRef;
}

/** A result's reason from catalogue message `key`: the English text and the message. */
const because = (key: string, params: Params = {}): Pick<ProbeResult, 'reason' | 'reasonMessage'> =>
  ({ reason: renderMessage('en', key, params).slice(0, 400), reasonMessage: { key, params } });

/** Token-endpoint failure → probe result. Pure: the runner's policy reads `wrong-url` the same way. */
export function probeResultOf(err: unknown, authBaseUrl: string, at: number): ProbeResult {
  if (!(err instanceof PlatformError)) return { status: 'unreachable', checkedAt: at, ...because('facility-status.probe.unexpected') };
  const said = err.outcome.issue?.[0]?.details?.text ?? err.outcome.issue?.[0]?.diagnostics;
  const base = { checkedAt: at, ...(err.status ? { httpStatus: err.status } : {}) };
  if (isWrongUrl(err)) {
    return { ...base, status: 'wrong-url', ...because('facility-status.probe.wrong-url', { url: authBaseUrl }) };
  }
  if (err.kind === 'auth') {
    // The platform's own words ({said}) are quoted as it wrote them.
    const key = err.reason === 'token-forbidden' || err.status === 403 ? 'facility-status.probe.forbidden' : 'facility-status.probe.refused';
    return { ...base, status: 'auth-failed', ...(said ? because(`${key}-said`, { said }) : because(key)) };
  }
  const why: Params = err.kind === 'rate-limited' ? { '@why': 'facility-status.probe.why.quota' }
    : err.status ? { '@why': 'facility-status.probe.why.http', status: err.status } : { '@why': 'facility-status.probe.why.no-answer' };
  return { ...base, status: 'unreachable', ...because('facility-status.probe.unreachable', why) };
}

const reasonMessageOf = (r: ProbeResult) => (r.reasonMessage ? { reasonMessage: r.reasonMessage } : {});

/**
 * Nothing at the configured URL: a 404 from the token endpoint (the credential was never looked at), or a 404 without a
 * FHIR body from a FHIR call (the platform's own 404 for a missing resource is an OperationOutcome).
 */
export function isWrongUrl(err: PlatformError): boolean {
  return err.reason === 'wrong-url' || (err.status === 404 && err.kind === 'auth');
}

/** What a probe needs of one facility: where its token endpoint is, and a way to ask it for a token. */
export interface ProbeTarget {
  authBaseUrl: string;
  /** The facility's token provider's `get()`: cached, single-flight, quota-counted, lockout-aware. */
  requestToken: () => Promise<unknown>;
}

export interface ProbeDeps {
  facilities: Map<string, ProbeTarget>;
  store: Store;
  now: () => number;
  logger: Logger;
  /** How long an auth-failed facility waits before the runner tries again on its own (the retry policy's probe delay). */
  authProbeDelayMs: number;
}

export class FacilityProbes {
  private readonly results = new Map<string, ProbeResult>();
  private readonly running = new Map<string, Promise<ProbeResult>>();

  constructor(private readonly deps: ProbeDeps) {}

  /** The last result per configured facility (`pending` before the first answer). */
  result(org: string): ProbeResult | undefined {
    if (!this.deps.facilities.has(org)) return undefined;
    return this.results.get(org) ?? { status: 'pending' };
  }

  /** Probes every configured facility at once; resolves when all have answered. */
  async probeAll(): Promise<void> {
    await Promise.all([...this.deps.facilities.keys()].map((org) => this.probe(org)));
  }

  /** One probe of one facility (concurrent calls share it), recorded in the facility state. */
  probe(org: string): Promise<ProbeResult> {
    const running = this.running.get(org);
    if (running) return running;
    const p = this.run(org).finally(() => this.running.delete(org));
    this.running.set(org, p);
    return p;
  }

  private async run(org: string): Promise<ProbeResult> {
    const rt = this.deps.facilities.get(org);
    if (!rt) return { status: 'pending' };
    const { logger } = this.deps;
    let result: ProbeResult;
    try {
      await rt.requestToken();
      result = { status: 'ok', checkedAt: this.deps.now() };
    } catch (e) {
      result = probeResultOf(e, rt.authBaseUrl, this.deps.now());
    }
    this.results.set(org, result);
    try {
      await this.record(org, result);
    } catch (e) {
      // The store may be closing under a late probe: the result is still known in memory.
      logger.warn({ org, err: e }, 'could not record the token probe in the facility state');
    }
    return result;
  }

  private async record(org: string, result: ProbeResult): Promise<void> {
    const { logger, store } = this.deps;
    const at = result.checkedAt ?? this.deps.now();
    const prev = await store.getFacilityState(org);
    switch (result.status) {
      case 'ok':
        logger.info({ org, probe: 'ok' }, 'SATUSEHAT token probe: credentials accepted');
        // Credentials and URL work again (fixed, then restarted or resumed): stop waiting for the next scheduled probe.
        // A hold for access (403) or by an operator is not about the token: only a resume lifts it.
        if (prev && prev.status !== 'active' && (prev.cause === 'credentials' || prev.cause === 'url')) {
          await store.putFacilityState({ organizationId: org, status: 'active', updatedAt: at });
          logger.info({ org, was: prev.status }, 'facility lifted from hold: the token probe passed');
        }
        break;
      case 'auth-failed':
        logger.error({ org, probe: result.status, httpStatus: result.httpStatus, reason: result.reason }, 'SATUSEHAT token probe: credentials refused');
        if (prev?.status !== 'paused') {
          await store.putFacilityState({ organizationId: org, status: 'auth-failed', cause: 'credentials', reason: result.reason!, ...reasonMessageOf(result), notBefore: at + this.deps.authProbeDelayMs, updatedAt: at });
        }
        break;
      case 'wrong-url':
        logger.error({ org, probe: result.status, reason: result.reason }, 'SATUSEHAT token probe: wrong URL');
        if (prev?.status !== 'paused') await store.putFacilityState({ organizationId: org, status: 'config-error', cause: 'url', reason: result.reason!, ...reasonMessageOf(result), updatedAt: at });
        break;
      default:
        logger.warn({ org, probe: result.status, httpStatus: result.httpStatus, reason: result.reason }, 'SATUSEHAT token probe: platform unreachable');
    }
  }
}
