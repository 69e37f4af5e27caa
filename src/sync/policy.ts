// Retry policy: what an attempt's failure means for the record and for its facility.
// One table, pure functions, injectable randomness so tests can pin the jitter.
import { AppError } from '../util/app-error.js';
import type { OperationOutcome } from 'fhir/r4.js';
import { PlatformError } from '../platform/types.js';
import { toOperationOutcome, type Issue, type MessageRef } from '../validation/outcome.js';
import { messageIssue, renderMessage } from '../i18n/issues.js';
import { isWrongUrl } from './probe.js';

export interface RetryPolicy {
  /** Attempts (claims) of one revision before a transient failure becomes `dead-letter`. */
  maxAttempts: number;
  /** First backoff ceiling; doubles each attempt (full jitter picks uniformly in [0, ceiling]). */
  baseDelayMs: number;
  /** Backoff ceiling cap. */
  maxDelayMs: number;
  /** Floor so a retry never spins, even when the random draw is 0. */
  minDelayMs: number;
  /** How long an `auth-failed` facility waits before one probe (the platform allows 1 auth request/min after a failure). */
  authProbeDelayMs: number;
  /** Used when a 429 carries no Retry-After. */
  defaultRetryAfterMs: number;
  /** [0, 1) */
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 30_000,
  maxDelayMs: 60 * 60_000,
  minDelayMs: 1_000,
  authProbeDelayMs: 10 * 60_000,
  defaultRetryAfterMs: 60_000,
  random: Math.random,
};

/** A reason the record cannot be delivered until someone acts (identity not resolvable, location not configured). */
export class BlockedError extends AppError {
  constructor(outcome: OperationOutcome) {
    super('blocked', outcome.issue?.[0]?.diagnostics ?? 'blocked', { outcome });
  }
}

/** Our own mapping/validation refused the record at send time (e.g. tables changed since ingest). */
export class LocalValidationError extends AppError {
  /** `rules`: the Kamus Validasi rule numbers of the refusing issues (Issue.rule). */
  constructor(outcome: OperationOutcome, rules: readonly string[] = []) {
    super('local-validation', outcome.issue?.[0]?.diagnostics ?? 'invalid', { outcome, rules });
  }
}

export type Decision =
  /** The record is wrong for the platform: a human must correct it at the source. No retry. */
  | { record: 'needs-correction'; outcome: OperationOutcome }
  /** An identity or configuration gap specific to this record. No retry until requeued. */
  | { record: 'blocked'; outcome: OperationOutcome }
  /** Try again at `nextAttemptAt`. */
  | { record: 'retry'; delayMs: number; outcome: OperationOutcome; facility?: FacilityAction }
  /** Transient failures exhausted the attempts. */
  | { record: 'dead-letter'; outcome: OperationOutcome };

/** What the facility as a whole must do after this failure (it shares one credential and one quota). */
export type FacilityAction =
  | { status: 'auth-failed'; notBeforeMs: number; reason: string; reasonMessage?: MessageRef }
  | { status: 'config-error'; cause: 'url' | 'access'; reason: string; reasonMessage?: MessageRef }
  | { status: 'rate-limited'; notBeforeMs: number };

/** Full jitter: uniform in [0, min(max, base·2^(attempt-1))], floored at minDelayMs. `attempt` is 1-based. */
export function backoffMs(attempt: number, p: RetryPolicy): number {
  const exp = Math.min(30, Math.max(0, attempt - 1));
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** exp);
  return Math.max(p.minDelayMs, Math.floor(p.random() * ceiling));
}

function outcomeOf(err: unknown): OperationOutcome {
  if (err instanceof PlatformError) return err.outcome;
  if (err instanceof BlockedError || err instanceof LocalValidationError) return err.outcome;
  const name = err instanceof Error ? err.name : 'Error';
  // Never echo arbitrary error text (it could carry request data); keep the error class only.
  return toOperationOutcome([messageIssue('error', 'exception', 'sync.unexpected', { name })], undefined, true);
}

/**
 * Classifies a failed attempt. `attempts` counts the attempts of this revision including the one that just failed.
 *
 * | failure                                   | record            | facility                          |
 * |-------------------------------------------|-------------------|-----------------------------------|
 * | validation (400/422 with rules), not-found| needs-correction  | —                                 |
 * | BlockedError (identity/location)          | blocked           | —                                 |
 * | auth (401 after one refresh, lockout)     | retry at probe    | auth-failed until probe           |
 * | 404 at the token URL / 404 without FHIR body | retry when fixed | config-error, cause url (restart or resume) |
 * | forbidden (403, 20003/20004/10117)        | retry when resumed| config-error (operator resumes)   |
 * | rate-limited (429)                        | retry after R-A   | notBefore = now + Retry-After     |
 * | transient (408/5xx/network/timeout/other) | backoff, full jitter; dead-letter at maxAttempts | — |
 */
export function classify(err: unknown, attempts: number, p: RetryPolicy): Decision {
  const outcome = outcomeOf(err);
  if (err instanceof BlockedError) return { record: 'blocked', outcome };
  if (err instanceof LocalValidationError) return { record: 'needs-correction', outcome };
  if (err instanceof PlatformError) {
    if (isWrongUrl(err)) {
      // Nothing answers at the configured URL: no record or credential fix helps; the facility's environment / simulatorUrl is wrong.
      return { record: 'retry', delayMs: p.authProbeDelayMs, outcome, facility: { status: 'config-error', cause: 'url', ...reasonOf(outcome, 'facility-status.hold.wrong-url') } };
    }
    switch (err.kind) {
      case 'validation':
      case 'not-found':
      case 'duplicate': // reaching here means adoption already failed: a human must look
        return { record: 'needs-correction', outcome };
      case 'auth': {
        const wait = Math.max(err.retryAfterMs ?? 0, p.authProbeDelayMs);
        return {
          record: 'retry',
          delayMs: wait,
          outcome,
          facility: { status: 'auth-failed', notBeforeMs: wait, ...reasonOf(outcome, 'facility-status.hold.credentials') },
        };
      }
      case 'forbidden':
        return {
          record: 'retry',
          delayMs: p.authProbeDelayMs,
          outcome,
          facility: { status: 'config-error', cause: 'access', ...reasonOf(outcome, 'facility-status.hold.access') },
        };
      case 'rate-limited': {
        const wait = Math.max(p.minDelayMs, err.retryAfterMs ?? p.defaultRetryAfterMs);
        return { record: 'retry', delayMs: wait, outcome, facility: { status: 'rate-limited', notBeforeMs: wait } };
      }
      case 'transient':
        break;
    }
  }
  if (attempts >= p.maxAttempts) return { record: 'dead-letter', outcome: withNote(outcome, messageIssue('error', 'incomplete', 'sync.gave-up', { attempts })) };
  return { record: 'retry', delayMs: backoffMs(attempts, p), outcome };
}

/** The facility's hold reason: the platform's words when it gave some, else our message `fallback` (messages/facility.json). */
function reasonOf(outcome: OperationOutcome, fallback: string): { reason: string; reasonMessage?: MessageRef } {
  const i = outcome.issue?.[0];
  const said = i?.details?.text ?? i?.diagnostics;
  return said !== undefined ? { reason: said.slice(0, 300) } : { reason: renderMessage('en', fallback), reasonMessage: { key: fallback, params: {} } };
}

function withNote(outcome: OperationOutcome, note: Issue): OperationOutcome {
  return { ...outcome, issue: [...(outcome.issue ?? []), ...toOperationOutcome([note], undefined, true).issue] };
}
