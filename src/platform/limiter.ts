// Per-credential quota and concurrency. Every platform call of a facility (token, searches, bundles) takes a point from the
// same sliding-window budget and, except token requests, one of a few concurrency slots. The budget is in memory for one
// process, or the store's (QuotaStore) when instances share a database: the FIFO, slots, priorities, pauses and close stay
// here either way; only where the points come from changes.
import { PlatformError } from './types.js';
import { ownOutcome } from './errors.js';
import { AppError, type MessageRef } from '../util/app-error.js';

/** What a budget answers (the store's QuotaAnswer has the same shape). */
export type BudgetAnswer = { granted: true; at?: number } | { granted: false; retryInMs: number };

/** Where the points come from. */
export interface QuotaBudget {
  /** One point now, or how long until one may be (the caller waits exactly that long, then asks again). */
  take(): Promise<BudgetAnswer>;
  /** Retry-After seen: tell every instance sharing this budget (the limiter keeps its own pause besides). */
  pause?(ms: number): Promise<void>;
}

/** What a store offers for a shared budget (src/store QuotaStore). */
export interface QuotaSource {
  takeQuotaPoint(credential: string, limit: number, windowMs: number, now: number): Promise<BudgetAnswer>;
  pauseQuota(credential: string, ms: number, now: number): Promise<void>;
}

/**
 * The points per window granted of a facility's quota at `percent` (PLATFORM_QUOTA_GRANT_PERCENT): requests granted in
 * order may reach the platform out of order (latency differs per request and instance), so a budget of the full quota
 * could still put one more request into some 60-second window at the platform. At least one point.
 */
export function grantLimit(quotaPerMinute: number, percent: number): number {
  return Math.max(1, Math.floor((quotaPerMinute * percent) / 100));
}

/** A sliding window in this process: the grant times of the last window, oldest first. */
export function memoryBudget(limit: number, windowMs: number, now: () => number = Date.now): QuotaBudget {
  const grants: number[] = [];
  return {
    take() {
      const t = now();
      while (grants.length && grants[0]! <= t - windowMs) grants.shift();
      if (grants.length >= limit) return Promise.resolve({ granted: false, retryInMs: Math.max(1, grants[grants.length - limit]! + windowMs - t) });
      grants.push(t);
      return Promise.resolve({ granted: true, at: t });
    },
  };
}

/** The store's budget: every instance on the database counts into one grant log per credential (the database clock on PostgreSQL). */
export function storeBudget(source: QuotaSource, credential: string, limit: number, windowMs: number, now: () => number = Date.now): QuotaBudget {
  return {
    take: () => source.takeQuotaPoint(credential, limit, windowMs, now()),
    pause: (ms) => source.pauseQuota(credential, ms, now()),
  };
}

export const DEFAULT_QUOTA_PER_MINUTE = 150;
export const DEFAULT_MAX_CONCURRENT = 4;
export const DEFAULT_MAX_QUEUE = 10_000;

export interface LimiterOptions {
  /** Points per window; every request costs one. Default 150. */
  quotaPerMinute?: number;
  /** Window length; 60 000 ms in production (tests may shrink it). */
  windowMs?: number;
  /** Requests in flight at once for this credential (token requests excepted). Default 4. */
  maxConcurrent?: number;
  /** Waiters beyond this are refused at once with a 'transient' PlatformError instead of growing memory without bound. */
  maxQueue?: number;
  /** Clock for pauses (Retry-After) and the in-memory window. */
  now?: () => number;
  /** Where points come from; default an in-memory sliding window of quotaPerMinute points per windowMs. */
  budget?: QuotaBudget;
}

export interface AcquireOptions {
  /** Jump the queue (token requests: the requests waiting for the token hold slots, so the token must not wait behind them). */
  priority?: boolean;
  /** Take a concurrency slot (default true). Token requests take none, so a full set of slots waiting for a token cannot deadlock. */
  slot?: boolean;
  signal?: AbortSignal;
}

export interface LimiterStats {
  key: string;
  quotaPerMinute: number;
  pending: number;
  inFlight: number;
  /** Points granted since creation (for "share of quota used" figures). */
  granted: number;
  pausedUntil: number;
}

export interface FacilityLimiter {
  readonly key: string;
  readonly quotaPerMinute: number;
  /** Waits for a quota point (and a slot unless `slot: false`); resolves with an idempotent release function. */
  acquire(opts?: AcquireOptions): Promise<() => void>;
  /** acquire → fn → release. */
  schedule<T>(fn: () => Promise<T>, opts?: AcquireOptions): Promise<T>;
  /** Platform said Retry-After: hand out nothing until then (never shortens an existing pause). */
  pauseFor(ms: number): void;
  /** Epoch ms until which the facility is paused; 0 when not paused. */
  pausedUntil(): number;
  pending(): number;
  inFlight(): number;
  stats(): LimiterStats;
  /** Refuses every waiter and every later acquire (shutdown). */
  close(): void;
}

interface Waiter {
  slot: boolean;
  resolve: (release: () => void) => void;
  reject: (e: unknown) => void;
  cleanup?: () => void;
}

function limiterError(diagnostics: string, key: string, params: MessageRef['params'] = {}): PlatformError {
  return new PlatformError('transient', undefined, ownOutcome('transient', diagnostics, { key, params }));
}

/** The budget's own failure said as a fragment when it carries a catalogue ref (a StorageError does), else its text. */
function budgetUnavailable(e: unknown): PlatformError {
  const text = e instanceof Error ? e.message : String(e);
  const ref = e instanceof AppError ? e.ref : undefined;
  return limiterError(`Quota budget unavailable: ${text}`, 'sync.limiter.budget-unavailable',
    ref ? { ...ref.params, '@reason': ref.key } : { reason: text });
}

class Limiter implements FacilityLimiter {
  readonly quotaPerMinute: number;
  private readonly budget: QuotaBudget;
  private readonly maxConcurrent: number;
  private readonly maxQueue: number;
  private readonly now: () => number;
  private readonly queue: Waiter[] = [];
  private active = 0;
  private grantedCount = 0;
  private paused = 0;
  private pumping = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(readonly key: string, opts: LimiterOptions = {}) {
    const quota = opts.quotaPerMinute ?? DEFAULT_QUOTA_PER_MINUTE;
    if (!Number.isInteger(quota) || quota < 1) throw new RangeError(`quotaPerMinute must be a positive integer, got ${quota}`);
    const windowMs = opts.windowMs ?? 60_000;
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
    this.quotaPerMinute = quota;
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT);
    this.maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.now = opts.now ?? Date.now;
    this.budget = opts.budget ?? memoryBudget(quota, windowMs, opts.now);
  }

  acquire(opts: AcquireOptions = {}): Promise<() => void> {
    if (this.closed) return Promise.reject(limiterError('Rate limiter closed', 'sync.limiter.closed'));
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason ?? limiterError('Aborted while waiting for quota', 'sync.limiter.aborted'));
    if (this.queue.length >= this.maxQueue) return Promise.reject(limiterError(`Too many requests waiting for quota (${this.maxQueue})`, 'sync.limiter.queue-full', { max: this.maxQueue }));
    return new Promise((resolve, reject) => {
      const w: Waiter = { slot: opts.slot !== false, resolve, reject };
      const signal = opts.signal;
      if (signal) {
        const onAbort = () => {
          const i = this.queue.indexOf(w);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal.reason ?? limiterError('Aborted while waiting for quota', 'sync.limiter.aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        w.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      if (opts.priority) {
        // Behind earlier priority waiters, ahead of the rest.
        let i = 0;
        while (i < this.queue.length && this.queue[i].slot === false) i++;
        this.queue.splice(i, 0, w);
      } else this.queue.push(w);
      void this.pump();
    });
  }

  async schedule<T>(fn: () => Promise<T>, opts?: AcquireOptions): Promise<T> {
    const release = await this.acquire(opts);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  pauseFor(ms: number): void {
    if (!(ms > 0)) return;
    const until = this.now() + ms;
    if (until <= this.paused) return;
    this.paused = until;
    // Every instance sharing the budget pauses too; if the store cannot be told, this instance still does.
    this.budget.pause?.(ms).catch(() => undefined);
    // Re-arm the wake-up for the new pause end.
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    void this.pump();
  }

  pausedUntil(): number {
    return this.paused > this.now() ? this.paused : 0;
  }

  pending(): number {
    return this.queue.length;
  }

  inFlight(): number {
    return this.active;
  }

  stats(): LimiterStats {
    return { key: this.key, quotaPerMinute: this.quotaPerMinute, pending: this.queue.length, inFlight: this.active, granted: this.grantedCount, pausedUntil: this.pausedUntil() };
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.queue.splice(0)) {
      w.cleanup?.();
      w.reject(limiterError('Rate limiter closed', 'sync.limiter.closed'));
    }
  }

  private wakeIn(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pump();
    }, Math.max(1, ms));
  }

  private release(): void {
    this.active--;
    void this.pump();
  }

  // Hands out points in FIFO order. One pump runs at a time; callers that arrive while it awaits the limiter are picked up by its loop.
  private async pump(): Promise<void> {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      while (this.queue.length && !this.closed) {
        const wait = this.paused - this.now();
        if (wait > 0) {
          this.wakeIn(wait);
          return;
        }
        const head = this.queue[0];
        if (head.slot && this.active >= this.maxConcurrent) return; // a release() pumps again
        const answer = await this.budget.take();
        if (!answer.granted) {
          this.wakeIn(answer.retryInMs);
          return;
        }
        if (this.closed) return; // granted while closing: the point is spent, nobody is left to use it
        // The head may have been aborted while we awaited; the point then goes to the next waiter that can use it now.
        const idx = this.queue.findIndex((w) => !w.slot || this.active < this.maxConcurrent);
        if (idx < 0) continue; // point spent for nothing (rare abort race); the quota stays honest
        const [w] = this.queue.splice(idx, 1);
        w.cleanup?.();
        this.grantedCount++;
        if (w.slot) {
          this.active++;
          let released = false;
          w.resolve(() => {
            if (released) return;
            released = true;
            this.release();
          });
        } else w.resolve(() => undefined);
      }
    } catch (e) {
      // The store's budget can fail (database unreachable): fail the waiters as a temporary platform error rather than hang them.
      const err = e instanceof PlatformError ? e : budgetUnavailable(e);
      for (const w of this.queue.splice(0)) {
        w.cleanup?.();
        w.reject(err);
      }
    } finally {
      this.pumping = false;
    }
  }
}

export function createFacilityLimiter(key: string, opts?: LimiterOptions): FacilityLimiter {
  return new Limiter(key, opts);
}

/** One limiter per organizationId, created on first use; the same instance for every client/token provider of that facility. */
export interface LimiterRegistry {
  get(organizationId: string, opts?: LimiterOptions): FacilityLimiter;
  all(): FacilityLimiter[];
  closeAll(): void;
}

export function createLimiterRegistry(defaults: LimiterOptions = {}): LimiterRegistry {
  const map = new Map<string, FacilityLimiter>();
  return {
    get(organizationId, opts) {
      let l = map.get(organizationId);
      if (!l) {
        l = createFacilityLimiter(organizationId, { ...defaults, ...opts });
        map.set(organizationId, l);
      }
      return l;
    },
    all: () => [...map.values()],
    closeAll() {
      for (const l of map.values()) l.close();
      map.clear();
    },
  };
}
