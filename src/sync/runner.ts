// One sync tick over the durable outbox: every facility with due work is served at the same time (each has its own
// credential and quota), each capped at its per-facility concurrency, under a global cap on visits in flight. Free
// slots go round-robin over the facilities waiting for one, so one Puskesmas with a large backlog cannot starve the
// others. Each outcome is recorded as one committed state change; a claim's lease is renewed while its delivery runs.
// The tick stops when nothing is due or its time budget is spent.
import type { ClaimedVisit, FacilityState } from '../store/types.js';
import type { Logger } from '../util/logger.js';
import { AppError } from '../util/app-error.js';
import type { SyncMetricsHook } from '../util/metrics.js';
import type { VisitRecordLike } from './contracts.js';
import { deliverVisit, type DeliveryDeps, type FacilityRuntime } from './deliver.js';
import { classify, type Decision, type FacilityAction, type RetryPolicy } from './policy.js';
import { scrubOutcome } from './scrub.js';

export interface RunnerSettings {
  /** Visits in flight at once across all facilities (the global cap). */
  concurrency: number;
  /** Visits in flight at once for one facility (its quota is per credential). */
  perFacilityConcurrency: number;
  /** Visits of one facility per turn; between turns the facility's due work and status are looked at again. */
  batchSize: number;
  /** A claim belongs to its claimer this long; renewed every leaseMs/3 while the delivery runs. */
  leaseMs: number;
  timeBudgetMs: number;
}

export interface RunnerDeps<Tables = unknown> extends Omit<DeliveryDeps<Tables>, 'logger'> {
  facilities: Map<string, FacilityRuntime>;
  settings: RunnerSettings;
  policy: RetryPolicy;
  logger: Logger;
  /** Test hook: called with each claimed row before delivery. */
  onClaim?: (row: ClaimedVisit) => void | Promise<void>;
  /** Prometheus hooks (outcomes, tick duration); optional. */
  metrics?: SyncMetricsHook;
  /** Waits out a Retry-After within a tick (default: real setTimeout); tests with a virtual clock advance it instead. */
  sleep?: (ms: number) => Promise<void>;
}

export interface TickSummary {
  sent: number;
  retried: number;
  needsCorrection: number;
  blocked: number;
  deadLetter: number;
  /** Facilities with due work that were not served this tick (paused, auth-failed, config-error, rate-limited, not configured). */
  skipped: number;
  /** Outcomes that could not be recorded (store closed under us): those rows stay `sending` until their lease ends. */
  unrecorded: number;
  facilities: number;
  durationMs: number;
  stoppedBy: 'drained' | 'budget' | 'stopped';
}

const emptySummary = (): TickSummary => ({
  sent: 0, retried: 0, needsCorrection: 0, blocked: 0, deadLetter: 0, skipped: 0, unrecorded: 0, facilities: 0, durationMs: 0, stoppedBy: 'drained',
});

/** The last finished tick (for GET /sync/status after an asynchronous POST /sync/run). */
export interface LastTick {
  summary: TickSummary;
  finishedAt: number;
}

export class SyncRunner<Tables = unknown> {
  private current?: Promise<TickSummary>;
  private last?: LastTick;
  private stopping = false;
  private readonly inFlight = new Set<string>();
  /** Rotates the starting facility between ticks. */
  private rotation = 0;

  constructor(private readonly deps: RunnerDeps<Tables>) {}

  get busy(): boolean {
    return this.current !== undefined;
  }

  get lastTick(): LastTick | undefined {
    return this.last;
  }

  /** Runs one tick; a call while a tick runs joins that tick instead of starting another. */
  tick(): Promise<TickSummary> {
    if (this.stopping) return Promise.resolve({ ...emptySummary(), stoppedBy: 'stopped' });
    if (!this.current) this.current = this.runTick().finally(() => (this.current = undefined));
    return this.current;
  }

  /**
   * Stops claiming and waits for the deliveries in flight, at most `graceMs` (default: as long as they take). A tick
   * that outlasts the grace is left running: each claim it still holds keeps its lease, so after a restart the visit
   * is due again once the lease ends and its delivery is reconciled, never recorded twice. `abandoned` counts those.
   */
  async stop(graceMs = Number.POSITIVE_INFINITY): Promise<{ settled: boolean; abandoned: number }> {
    this.stopping = true;
    const tick = this.current?.then(() => true, () => true);
    if (!tick) return { settled: true, abandoned: 0 };
    if (!Number.isFinite(graceMs)) return { settled: await tick, abandoned: 0 };
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), Math.max(0, graceMs))));
    const settled = await Promise.race([tick, graceOver]);
    clearTimeout(timer);
    return { settled, abandoned: settled ? 0 : this.inFlight.size };
  }

  /** Facilities whose status lets the runner call the platform now. */
  private async eligibility(org: string, now: number): Promise<'ok' | string> {
    if (!this.deps.facilities.has(org)) return 'not configured in the facilities file';
    const st = await this.deps.store.getFacilityState(org);
    if (!st) return 'ok';
    if (st.status === 'paused') return 'paused by an operator';
    if (st.status === 'config-error') return 'configuration error (resume after fixing)';
    if (st.notBefore && st.notBefore > now) return st.status === 'auth-failed' ? 'auth-failed (waiting for the next probe)' : 'rate-limited';
    return 'ok';
  }

  private async runTick(): Promise<TickSummary> {
    const { store, settings, logger } = this.deps;
    const started = this.deps.now();
    const summary = emptySummary();
    const tickDone = this.deps.metrics?.tickStarted();
    const due = await store.facilitiesWithDueWork(started);
    const queue: string[] = [];
    for (const org of rotate(due, this.rotation++)) {
      const why = await this.eligibility(org, started);
      if (why === 'ok') queue.push(org);
      else {
        summary.skipped++;
        logger.debug({ org, why }, 'facility skipped this tick');
      }
    }
    summary.facilities = queue.length;
    const deadline = started + settings.timeBudgetMs;
    const outOfTime = () => this.deps.now() >= deadline;
    const slots = new FairSlots(Math.max(1, settings.concurrency));
    let cutShort = false;

    // One loop per facility, all at once: turn after turn while it has due work; a facility waiting out a Retry-After
    // within this tick sleeps (in short real-time steps: the clock may be injected, and stop()/the budget must be noticed).
    const serve = async (org: string) => {
      for (;;) {
        if (this.stopping) return;
        if (outOfTime()) {
          cutShort = true;
          return;
        }
        const next = await this.serveFacility(org, summary, slots);
        if (next === 'done') return;
        if (typeof next === 'number') {
          if (next >= deadline) return;
          const wait = this.deps.sleep ?? sleep;
          while (!this.stopping && !outOfTime() && this.deps.now() < next) await wait(Math.min(200, Math.max(1, next - this.deps.now())));
        }
      }
    };
    await Promise.all(queue.map(serve));
    summary.durationMs = this.deps.now() - started;
    summary.stoppedBy = this.stopping ? 'stopped' : cutShort ? 'budget' : 'drained';
    this.last = { summary, finishedAt: this.deps.now() };
    tickDone?.(summary.stoppedBy);
    if (summary.sent + summary.retried + summary.needsCorrection + summary.blocked + summary.deadLetter > 0 || summary.skipped) {
      logger.info({ summary }, 'sync tick finished');
    }
    return summary;
  }

  /**
   * One turn of one facility: up to `batchSize` visits, `perFacilityConcurrency` at a time, each holding one of the
   * tick's global slots. Each worker claims ONE row right before delivering it, so a facility that hits a wall (auth,
   * config, quota) stops claiming at once and no claimed-but-unattempted row spends an attempt.
   * 'more' ⇒ probably more due; number ⇒ rate-limited until then.
   */
  private async serveFacility(org: string, summary: TickSummary, slots: FairSlots): Promise<'more' | 'done' | number> {
    const { store, settings } = this.deps;
    const facility = this.deps.facilities.get(org)!;
    let halt: FacilityAction | undefined;
    let haltAt = 0;
    let succeeded = false;
    let budget = settings.batchSize;
    let exhausted = false;
    const work = async () => {
      while (!halt && !this.stopping && !exhausted && budget > 0) {
        budget--;
        await slots.acquire(org);
        try {
          if (halt || this.stopping || exhausted) return;
          const row = (await store.claimDue(org, this.deps.now(), 1, settings.leaseMs))[0];
          if (!row) {
            exhausted = true;
            return;
          }
          const key = `${org}\u0000${row.visitId}`;
          if (this.inFlight.has(key)) continue; // our own earlier claim is still running; it will record the outcome
          this.inFlight.add(key);
          const lease = this.keepLease(row);
          try {
            await this.deps.onClaim?.(row);
            const res = await deliverVisit(row, facility, this.deps);
            succeeded = true;
            if (res.marked) summary.sent++;
            if (res.marked) this.deps.metrics?.syncOutcome(org, 'sent');
            this.deps.logger.info({ org, visit: row.visitId, revision: row.revision, sent: res.sent, adopted: res.adopted }, 'visit delivered');
          } catch (err) {
            const decision = classify(err, row.attempts, this.deps.policy);
            const action = decision.record === 'retry' ? decision.facility : undefined;
            if (action && !halt) {
              halt = action;
              haltAt = this.deps.now();
              await this.applyFacilityAction(org, action);
            }
            await this.record(row, decision, summary, action, err instanceof AppError ? err.rules : []);
          } finally {
            lease.stop();
            this.inFlight.delete(key);
          }
        } finally {
          slots.release();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.perFacilityConcurrency, settings.batchSize)) }, work));
    if (succeeded && !halt) await this.markActiveIfRecovering(org);
    const h = halt as FacilityAction | undefined;
    if (h) return h.status === 'rate-limited' ? haltAt + h.notBeforeMs : 'done';
    return exhausted ? 'done' : 'more';
  }

  /**
   * Renews a claimed row's lease every leaseMs/3 (runner clock) while its delivery runs: a delivery of several platform
   * calls with timeouts and quota waits can outlast the lease, and another runner on the same database would then
   * claim and send the visit a second time. A failed renewal means the claim is no longer ours (a new revision, or
   * taken over after an expiry we could not prevent): logged once; its outcome is then refused (fenced by the claim).
   * Renewal goes on until the delivery ends, since it also keeps a newer revision held back while this attempt runs.
   */
  private keepLease(row: ClaimedVisit): { stop(): void } {
    const { store, settings, logger } = this.deps;
    let lost = false;
    let stopped = false;
    // One renewal at a time: a slow store must not pile them up.
    let renewing = false;
    const every = settings.leaseMs / 3;
    let renewedAt = this.deps.now();
    const renew = async () => {
      renewing = true;
      let renewed = false;
      try {
        renewed = await store.renewLease(row.claim, this.deps.now() + settings.leaseMs);
      } catch (err) {
        logger.error({ org: row.organizationId, visit: row.visitId, err }, 'could not renew the lease of a visit in delivery');
        return; // a store hiccup: try again at the next interval while the lease still runs
      } finally {
        renewing = false;
      }
      // After stop() the outcome is recorded, so a refusal then says nothing about the claim (fencing keeps it harmless).
      if (!renewed && !lost && !stopped) {
        lost = true;
        logger.warn(
          { org: row.organizationId, visit: row.visitId, revision: row.revision, attempts: row.attempts },
          'lease of a visit in delivery could not be renewed: a newer revision arrived or another runner took the claim over',
        );
      }
    };
    // Checked often in real time, renewed by the runner's clock (which tests may run faster than the wall clock).
    const timer = setInterval(() => {
      if (renewing || this.deps.now() - renewedAt < every) return;
      renewedAt = this.deps.now();
      void renew();
    }, Math.max(10, Math.min(1_000, Math.floor(every / 2))));
    timer.unref();
    return {
      stop: () => {
        stopped = true;
        clearInterval(timer);
      },
    };
  }

  /** `rules`: the failure's Kamus Validasi rule numbers as the error carries them (for the log). */
  private async record(row: ClaimedVisit, decision: Decision, summary: TickSummary, facilityAction: FacilityAction | undefined, rules: readonly string[]): Promise<void> {
    const { store, logger } = this.deps;
    const now = this.deps.now();
    const record = row.record as VisitRecordLike;
    const outcome = scrubOutcome(decision.outcome, record);
    try {
      switch (decision.record) {
        case 'retry': {
          // A facility-wide stop must not look like this record's fault: it comes back when the facility may call again.
          const at = now + decision.delayMs;
          await store.markRetry(row.claim, at, outcome, now, { refundAttempt: facilityAction !== undefined });
          summary.retried++;
          this.deps.metrics?.syncOutcome(row.organizationId, 'retried');
          if (!facilityAction) logger.warn({ org: row.organizationId, visit: row.visitId, attempts: row.attempts, retryInMs: decision.delayMs, rules }, 'delivery failed; will retry');
          break;
        }
        case 'needs-correction':
        case 'blocked':
        case 'dead-letter':
          await store.markFinal(row.claim, decision.record, outcome, now);
          if (decision.record === 'needs-correction') summary.needsCorrection++;
          else if (decision.record === 'blocked') summary.blocked++;
          else summary.deadLetter++;
          this.deps.metrics?.syncOutcome(row.organizationId, decision.record);
          logger.warn({ org: row.organizationId, visit: row.visitId, state: decision.record, attempts: row.attempts, rules }, 'visit needs attention');
          break;
      }
    } catch (e) {
      // The store is gone (shutdown/crash): the row stays `sending` and is due again when its lease ends.
      summary.unrecorded++;
      logger.error({ org: row.organizationId, visit: row.visitId, err: e }, 'could not record the delivery outcome');
    }
  }

  private async applyFacilityAction(org: string, action: FacilityAction): Promise<void> {
    const { store, logger } = this.deps;
    const now = this.deps.now();
    const prev = await store.getFacilityState(org);
    let next: FacilityState;
    switch (action.status) {
      case 'auth-failed':
        next = { organizationId: org, status: 'auth-failed', cause: 'credentials', reason: action.reason, ...(action.reasonMessage ? { reasonMessage: action.reasonMessage } : {}), notBefore: now + action.notBeforeMs, updatedAt: now };
        logger.error({ org, reason: action.reason, probeAt: new Date(now + action.notBeforeMs).toISOString() }, 'SATUSEHAT authentication failed for facility; sync paused until the next probe');
        break;
      case 'config-error':
        next = { organizationId: org, status: 'config-error', cause: action.cause, reason: action.reason, ...(action.reasonMessage ? { reasonMessage: action.reasonMessage } : {}), updatedAt: now };
        logger.error({ org, reason: action.reason }, 'SATUSEHAT refused access for facility; sync stopped until an operator resumes it');
        break;
      case 'rate-limited':
        next = { ...(prev ?? { organizationId: org, status: 'active' }), notBefore: now + action.notBeforeMs, updatedAt: now };
        logger.warn({ org, retryAfterMs: action.notBeforeMs }, 'SATUSEHAT rate limit reached for facility');
        break;
    }
    try {
      await store.putFacilityState(next);
    } catch (e) {
      logger.error({ org, err: e }, 'could not record the facility state');
    }
  }

  private async markActiveIfRecovering(org: string): Promise<void> {
    const st = await this.deps.store.getFacilityState(org);
    if (st?.status === 'auth-failed') {
      await this.deps.store.putFacilityState({ organizationId: org, status: 'active', updatedAt: this.deps.now() });
      this.deps.logger.info({ org }, 'facility authenticated again; sync resumed');
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The tick's global cap on visits in flight, handed out round-robin by facility: a free slot goes to the facility
 * that has waited longest since its last grant, so a facility with a large backlog (and all its workers waiting)
 * gets one slot per round like every other. Grants are made in a microtask, after every worker started in the same
 * synchronous pass has asked, so the first round reaches every facility before any gets a second slot.
 */
export class FairSlots {
  private free: number;
  /** Facilities with waiting workers, in grant order (a Map keeps insertion order; re-inserting moves to the back). */
  private readonly waiting = new Map<string, Array<() => void>>();
  private pumping = false;

  constructor(capacity: number) {
    this.free = capacity;
  }

  acquire(key: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const q = this.waiting.get(key);
      if (q) q.push(resolve);
      else this.waiting.set(key, [resolve]);
      this.schedule();
    });
  }

  release(): void {
    this.free++;
    this.schedule();
  }

  private schedule(): void {
    if (this.pumping) return;
    this.pumping = true;
    queueMicrotask(() => {
      this.pumping = false;
      while (this.free > 0 && this.waiting.size) {
        const [key, q] = this.waiting.entries().next().value as [string, Array<() => void>];
        this.waiting.delete(key);
        const grant = q.shift()!;
        if (q.length) this.waiting.set(key, q);
        this.free--;
        grant();
      }
    });
  }
}

function rotate<T>(list: T[], by: number): T[] {
  if (!list.length) return list;
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
