import { PlatformError } from '../../src/platform/types.js';
import { backoffMs, BlockedError, classify, defaultRetryPolicy, LocalValidationError, type RetryPolicy } from '../../src/sync/policy.js';
import { toOperationOutcome, issue } from '../../src/validation/outcome.js';

const oo = (text: string) => toOperationOutcome([issue('error', 'value', text)]);
const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({ ...defaultRetryPolicy, baseDelayMs: 1000, maxDelayMs: 60_000, minDelayMs: 100, ...over });

describe('classify', () => {
  it.each([
    ['validation', 'needs-correction'],
    ['not-found', 'needs-correction'],
    ['duplicate', 'needs-correction'],
  ] as const)('%s → %s, without retry', (kind, expected) => {
    const d = classify(new PlatformError(kind, 400, oo('bad (RuleNumber: 10117)'), ['10117']), 1, policy());
    expect(d.record).toBe(expected);
    expect(d.outcome.issue[0]!.diagnostics).toContain('10117');
  });

  it('blocked identity → blocked', () => {
    expect(classify(new BlockedError(oo('no IHS')), 1, policy()).record).toBe('blocked');
  });

  it('local validation failure → needs-correction', () => {
    expect(classify(new LocalValidationError(oo('bad unit')), 1, policy()).record).toBe('needs-correction');
  });

  it('auth → retry after the probe delay and marks the facility auth-failed (never sooner than the lockout)', () => {
    const d = classify(new PlatformError('auth', 401, oo('client_id or client_secret unacceptable'), [], 60_000), 1, policy({ authProbeDelayMs: 600_000 }));
    expect(d.record).toBe('retry');
    if (d.record !== 'retry') throw new Error('unreachable');
    expect(d.delayMs).toBe(600_000);
    expect(d.facility).toEqual({ status: 'auth-failed', notBeforeMs: 600_000, reason: 'client_id or client_secret unacceptable' });
    const longer = classify(new PlatformError('auth', 401, oo('x'), [], 900_000), 1, policy({ authProbeDelayMs: 600_000 }));
    expect(longer.record === 'retry' && longer.delayMs).toBe(900_000);
  });

  it('forbidden → facility config-error for access', () => {
    const d = classify(new PlatformError('forbidden', 403, oo('no scope (RuleNumber: 20003)'), ['20003']), 1, policy());
    expect(d.record === 'retry' && d.facility).toMatchObject({ status: 'config-error', cause: 'access' });
  });

  it('a 404 from the token endpoint or without a FHIR body → config-error for the URL (no record or credential fix helps)', () => {
    for (const err of [
      new PlatformError('auth', 404, oo('HTTP 404: Not Found'), [], 60_000),
      new PlatformError('transient', 404, oo('HTTP 404: Not Found'), [], undefined, 'wrong-url'),
    ]) {
      const d = classify(err, 99, policy({ maxAttempts: 3 }));
      expect(d.record === 'retry' && d.facility).toMatchObject({ status: 'config-error', cause: 'url' }); // and never dead-letter
    }
  });

  it('429 honours Retry-After exactly, and does not dead-letter at max attempts', () => {
    const d = classify(new PlatformError('rate-limited', 429, oo('slow down'), [], 7_000), 99, policy({ maxAttempts: 3 }));
    expect(d.record).toBe('retry');
    if (d.record !== 'retry') throw new Error('unreachable');
    expect(d.delayMs).toBe(7_000);
    expect(d.facility).toEqual({ status: 'rate-limited', notBeforeMs: 7_000 });
  });

  it('429 without Retry-After uses the default wait', () => {
    const d = classify(new PlatformError('rate-limited', 429, oo('slow down')), 1, policy({ defaultRetryAfterMs: 45_000 }));
    expect(d.record === 'retry' && d.delayMs).toBe(45_000);
  });

  it('transient → retry with backoff until maxAttempts, then dead-letter', () => {
    const p = policy({ maxAttempts: 3, random: () => 0.5 });
    const err = new PlatformError('transient', 503, oo('Service Unavailable'));
    expect(classify(err, 1, p).record).toBe('retry');
    expect(classify(err, 2, p).record).toBe('retry');
    const last = classify(err, 3, p);
    expect(last.record).toBe('dead-letter');
    expect(last.outcome.issue.at(-1)!.diagnostics).toBe('Gave up after 3 attempts');
  });

  it('unknown errors are transient and their message is not echoed (it could carry data)', () => {
    const d = classify(new TypeError('NIK 3171012345678901 broke'), 1, policy());
    expect(d.record).toBe('retry');
    expect(JSON.stringify(d.outcome)).not.toContain('3171012345678901');
    expect(d.outcome.issue[0]!.diagnostics).toContain('TypeError');
  });
});

describe('backoffMs (full jitter)', () => {
  it('is uniform in [0, base·2^(n-1)] capped at max, floored at min', () => {
    const p = policy({ baseDelayMs: 1000, maxDelayMs: 10_000, minDelayMs: 100 });
    expect(backoffMs(1, { ...p, random: () => 0.999999 })).toBe(999);
    expect(backoffMs(3, { ...p, random: () => 0.5 })).toBe(2000);
    expect(backoffMs(10, { ...p, random: () => 0.999999 })).toBe(9999); // capped
    expect(backoffMs(5, { ...p, random: () => 0 })).toBe(100); // floor: never spins
  });

  it('stays within bounds for many random draws', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const p = policy({ baseDelayMs: 500, maxDelayMs: 8_000, minDelayMs: 50, random });
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(8_000, 500 * 2 ** (attempt - 1));
      const draws = Array.from({ length: 200 }, () => backoffMs(attempt, p));
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(50);
      expect(Math.max(...draws)).toBeLessThanOrEqual(ceiling);
      // Full jitter spreads over the whole range, not just near the ceiling.
      expect(draws.some((d) => d < ceiling / 2)).toBe(true);
    }
  });
});
