// Fault injection, decided by the seeded PRNG so a test run is reproducible: latency, 5xx, 429s, hangs, lost responses.
import { DEFAULT_TIMEOUT_HANG_MS, type SimulatorOptions } from './options.js';

export type PreFault =
  | { kind: 'none' }
  | { kind: 'timeout'; hangMs: number }
  | { kind: 'error5xx'; status: number; contentType: string; body: string }
  | { kind: 'throttled'; retryAfterS: number };

// 500 as the gateway's Apigee fault JSON (production; the shape {fault:{faultstring,detail:{errorcode}}} is recorded, the
// wording here is ours), 504 as the documented text/plain `Gateway Timeout` (error-5xx-gateway-timeout-text-docexample.json).
export const APIGEE_FAULT_BODY = JSON.stringify({
  fault: { faultstring: 'Execution of ServiceCallout failed. Reason: simulated upstream error', detail: { errorcode: 'steps.servicecallout.ExecutionFailed' } },
});

const GATEWAY_ERRORS = [
  { status: 500, contentType: 'application/json', body: APIGEE_FAULT_BODY },
  { status: 502, contentType: 'text/plain; charset=utf-8', body: 'Bad Gateway' },
  { status: 503, contentType: 'text/plain; charset=utf-8', body: 'Service Unavailable' },
  { status: 504, contentType: 'text/plain; charset=utf-8', body: 'Gateway Timeout' },
];

/**
 * Requests are drawn from one PRNG stream per kind, so the n-th transaction meets the same fault whatever reads or
 * token requests concurrency put before it: with a fixed seed, how many transactions lose their response is fixed.
 */
export type FaultStream = 'token' | 'read' | 'transaction' | 'write';

/** Retry-After of an injected 429: a short upstream burst limit, not the per-minute quota. */
export const THROTTLE_RETRY_AFTER_S = 1;

export class FaultInjector {
  private readonly streams = new Map<FaultStream, () => number>();

  constructor(private readonly o: SimulatorOptions, private readonly streamFor: (kind: FaultStream) => () => number) {}

  private rand(kind: FaultStream): number {
    let r = this.streams.get(kind);
    if (!r) this.streams.set(kind, (r = this.streamFor(kind)));
    return r();
  }

  /** Whether faults apply to this request at all. */
  applies(method: string, isToken: boolean): boolean {
    if (isToken) return !!this.o.faultsOnToken;
    const write = method !== 'GET' && method !== 'HEAD';
    const scope = this.o.faultScope ?? 'all';
    return scope === 'all' || (scope === 'writes') === write;
  }

  latencyMs(kind: FaultStream): number {
    const l = this.o.latencyMs;
    if (!l) return 0;
    if (typeof l === 'number') return l;
    return l.min + Math.floor(this.rand(kind) * (l.max - l.min + 1));
  }

  /** Decided before the request is handled: nothing is committed when one fires. */
  beforeHandling(kind: FaultStream): PreFault {
    if (this.hit(kind, this.o.timeoutRate)) return { kind: 'timeout', hangMs: this.o.timeoutHangMs ?? DEFAULT_TIMEOUT_HANG_MS };
    if (this.hit(kind, this.o.errorRate5xx)) {
      const e = GATEWAY_ERRORS[Math.floor(this.rand(kind) * GATEWAY_ERRORS.length)];
      return { kind: 'error5xx', ...e };
    }
    if (this.hit(kind, this.o.throttleRate)) return { kind: 'throttled', retryAfterS: THROTTLE_RETRY_AFTER_S };
    return { kind: 'none' };
  }

  /** Decided after a write committed: true → destroy the socket instead of answering. */
  dropAfterCommit(kind: FaultStream): boolean {
    return this.hit(kind, this.o.dropAfterCommitRate);
  }

  private hit(kind: FaultStream, rate: number | undefined): boolean {
    if (!rate) return false;
    return rate >= 1 || this.rand(kind) < rate;
  }
}
