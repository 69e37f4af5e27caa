// One sync tick over the durable outbox: which facilities have due work, round-robin between them in small claimed
// batches (so one Puskesmas with a large backlog cannot starve the others), bounded concurrency, and each outcome
// recorded as one committed state change. The tick stops when nothing is due or its time budget is spent.
import type { FacilityState, Store, VisitRow } from '../store/types.js';
import type { Logger } from '../util/logger.js';
import type { SyncMetricsHook } from '../util/metrics.js';
import type { VisitRecordLike } from './contracts.js';
import { deliverVisit, type DeliveryDeps, type FacilityRuntime } from './deliver.js';
import { classify, type Decision, type FacilityAction, type RetryPolicy } from './policy.js';
import { scrubOutcome } from './scrub.js';

export interface RunnerSettings {
  /** Visits in flight at once across all facilities. */
  concurrency: number;
  /** Visits in flight at once for one facility. */
  perFacilityConcurrency: number;
  /** Records claimed per facility turn. */
  batchSize: number;
  leaseMs: number;
  timeBudgetMs: number;
}

export interface RunnerDeps<Tables = unknown> extends Omit<DeliveryDeps<Tables>, 'logger'> {
  facilities: Map<string, FacilityRuntime>;
  settings: RunnerSettings;
  policy: RetryPolicy;
  logger: Logger;
  /** Test hook: called with each claimed row before delivery. */
  onClaim?: (row: VisitRow) => void | Promise<void>;
  /** Prometheus hooks (outcomes, tick duration); optional. */
  metrics?: SyncMetricsHook;
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

export class SyncRunner<Tables = unknown> {
  private current?: Promise<TickSummary>;
  private stopping = false;
  private readonly inFlight = new Set<string>();
  /** Rotates the starting facility between ticks. */
  private rotation = 0;

  constructor(private readonly deps: RunnerDeps<Tables>) {}

  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Runs one tick; a call while a tick runs joins that tick instead of starting another. */
  tick(): Promise<TickSummary> {
    if (this.stopping) return Promise.resolve({ ...emptySummary(), stoppedBy: 'stopped' });
    if (!this.current) this.current = this.runTick().finally(() => (this.current = undefined));
    return this.current;
  }

  /** Stops claiming and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.current?.catch(() => undefined);
  }

  /** Facilities whose status lets the runner call the platform now. */
  private eligibility(org: string, now: number): 'ok' | string {
    if (!this.deps.facilities.has(org)) return 'not configured in the facilities file';
    const st = this.deps.store.getFacilityState(org);
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
    const due = store.facilitiesWithDueWork(started);
    const queue: string[] = [];
    for (const org of rotate(due, this.rotation++)) {
      const why = this.eligibility(org, started);
      if (why === 'ok') queue.push(org);
      else {
        summary.skipped++;
        logger.debug({ org, why }, 'facility skipped this tick');
      }
    }
    summary.facilities = queue.length;
    // Facilities waiting out a Retry-After within this tick: back in the queue once their time has come.
    const delayed: Array<{ org: string; at: number }> = [];
    const deadline = started + settings.timeBudgetMs;
    const outOfTime = () => this.deps.now() >= deadline;
    const promoteDue = () => {
      const t = this.deps.now();
      for (let i = delayed.length - 1; i >= 0; i--) if (delayed[i]!.at <= t) queue.push(delayed.splice(i, 1)[0]!.org);
    };

    const lanes = Math.max(1, Math.floor(settings.concurrency / settings.perFacilityConcurrency));
    const worker = async () => {
      for (;;) {
        if (this.stopping || outOfTime()) return;
        promoteDue();
        const org = queue.shift();
        if (org === undefined) {
          if (!delayed.length) return;
          // Poll in short real-time steps: the clock may be injected, and stop()/the budget must be noticed.
          const earliest = Math.min(...delayed.map((d) => d.at));
          await sleep(Math.min(200, Math.max(1, earliest - this.deps.now())));
          continue;
        }
        const next = await this.serveFacility(org, summary);
        if (next === 'more') queue.push(org);
        else if (typeof next === 'number' && next < deadline) delayed.push({ org, at: next });
      }
    };
    await Promise.all(Array.from({ length: lanes }, worker));
    summary.durationMs = this.deps.now() - started;
    summary.stoppedBy = this.stopping ? 'stopped' : outOfTime() && queue.length + delayed.length > 0 ? 'budget' : 'drained';
    tickDone?.(summary.stoppedBy);
    if (summary.sent + summary.retried + summary.needsCorrection + summary.blocked + summary.deadLetter > 0 || summary.skipped) {
      logger.info({ summary }, 'sync tick finished');
    }
    return summary;
  }

  /**
   * One turn of one facility: up to `batchSize` visits, `perFacilityConcurrency` at a time. Each worker claims ONE row
   * right before delivering it, so a facility that hits a wall (auth, config, quota) stops claiming at once and no
   * claimed-but-unattempted row spends an attempt. 'more' ⇒ probably more due; number ⇒ rate-limited until then.
   */
  private async serveFacility(org: string, summary: TickSummary): Promise<'more' | 'done' | number> {
    const { store, settings } = this.deps;
    const facility = this.deps.facilities.get(org)!;
    let halt: FacilityAction | undefined;
    let haltAt = 0;
    let succeeded = false;
    let budget = settings.batchSize;
    let exhausted = false;
    const work = async () => {
      while (!halt && !this.stopping && budget > 0) {
        budget--;
        const row = store.claimDue(org, this.deps.now(), 1, settings.leaseMs)[0];
        if (!row) {
          exhausted = true;
          return;
        }
        const key = `${org}\u0000${row.visitId}`;
        if (this.inFlight.has(key)) continue; // our own earlier claim is still running; it will record the outcome
        this.inFlight.add(key);
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
            this.applyFacilityAction(org, action);
          }
          this.record(row, decision, summary, action);
        } finally {
          this.inFlight.delete(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.perFacilityConcurrency, settings.batchSize)) }, work));
    if (succeeded && !halt) this.markActiveIfRecovering(org);
    const h = halt as FacilityAction | undefined;
    if (h) return h.status === 'rate-limited' ? haltAt + h.notBeforeMs : 'done';
    return exhausted ? 'done' : 'more';
  }

  private record(row: VisitRow, decision: Decision, summary: TickSummary, facilityAction?: FacilityAction): void {
    const { store, logger } = this.deps;
    const now = this.deps.now();
    const record = row.record as VisitRecordLike;
    const outcome = scrubOutcome(decision.outcome, record);
    const rules = outcome.issue.map((i) => /RuleNumber:\s*(\d+)/.exec(i.details?.text ?? i.diagnostics ?? '')?.[1]).filter(Boolean);
    try {
      switch (decision.record) {
        case 'retry': {
          // A facility-wide stop must not look like this record's fault: it comes back when the facility may call again.
          const at = now + decision.delayMs;
          store.markRetry(row.organizationId, row.visitId, row.revision, at, outcome, now, { refundAttempt: facilityAction !== undefined });
          summary.retried++;
          this.deps.metrics?.syncOutcome(row.organizationId, 'retried');
          if (!facilityAction) logger.warn({ org: row.organizationId, visit: row.visitId, attempts: row.attempts, retryInMs: decision.delayMs, rules }, 'delivery failed; will retry');
          break;
        }
        case 'needs-correction':
        case 'blocked':
        case 'dead-letter':
          store.markFinal(row.organizationId, row.visitId, row.revision, decision.record, outcome, now);
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

  private applyFacilityAction(org: string, action: FacilityAction): void {
    const { store, logger } = this.deps;
    const now = this.deps.now();
    const prev = store.getFacilityState(org);
    let next: FacilityState;
    switch (action.status) {
      case 'auth-failed':
        next = { organizationId: org, status: 'auth-failed', reason: action.reason, notBefore: now + action.notBeforeMs, updatedAt: now };
        logger.error({ org, reason: action.reason, probeAt: new Date(now + action.notBeforeMs).toISOString() }, 'SATUSEHAT authentication failed for facility; sync paused until the next probe');
        break;
      case 'config-error':
        next = { organizationId: org, status: 'config-error', reason: action.reason, updatedAt: now };
        logger.error({ org, reason: action.reason }, 'SATUSEHAT refused access for facility; sync stopped until an operator resumes it');
        break;
      case 'rate-limited':
        next = { organizationId: org, status: prev?.status === 'paused' ? 'paused' : prev?.status ?? 'active', ...(prev?.reason ? { reason: prev.reason } : {}), notBefore: now + action.notBeforeMs, updatedAt: now };
        logger.warn({ org, retryAfterMs: action.notBeforeMs }, 'SATUSEHAT rate limit reached for facility');
        break;
    }
    try {
      store.putFacilityState(next);
    } catch (e) {
      logger.error({ org, err: e }, 'could not record the facility state');
    }
  }

  private markActiveIfRecovering(org: string): void {
    const st = this.deps.store.getFacilityState(org);
    if (st?.status === 'auth-failed') {
      this.deps.store.putFacilityState({ organizationId: org, status: 'active', updatedAt: this.deps.now() });
      this.deps.logger.info({ org }, 'facility authenticated again; sync resumed');
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function rotate<T>(list: T[], by: number): T[] {
  if (!list.length) return list;
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
