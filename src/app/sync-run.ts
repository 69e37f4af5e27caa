// The sync run as a use case: ticks of the runner until nothing is due now (`ilp-adapter sync --once`, the service's
// drain), and what an operator must know afterwards (facilities that deliver nothing until someone acts).
import type { Store, VisitState } from '../store/types.js';
import type { SyncRunner, TickSummary } from '../sync/runner.js';

export interface SyncRunDeps {
  runner: Pick<SyncRunner, 'tick'>;
  store: Store;
  now: () => number;
  /** Organizations this instance delivers for; due work of others does not keep the run going. */
  delivered: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  /** Settles when the start-up token probes have answered: a facility held for credentials earlier is lifted first if they work now. */
  probed?: Promise<void>;
}

const COUNTED = ['sent', 'retried', 'needsCorrection', 'blocked', 'deadLetter', 'unrecorded'] as const;

/** Runs ticks until nothing is due now, a tick changes nothing, or `maxTicks`; the summaries added up. */
export async function drainDue(deps: SyncRunDeps, maxTicks = 1000): Promise<TickSummary> {
  await deps.probed;
  const total: TickSummary = { sent: 0, retried: 0, needsCorrection: 0, blocked: 0, deadLetter: 0, skipped: 0, unrecorded: 0, facilities: 0, durationMs: 0, stoppedBy: 'drained' };
  for (let i = 0; i < maxTicks; i++) {
    const s = await deps.runner.tick();
    for (const k of COUNTED) total[k] += s[k];
    total.skipped = s.skipped;
    total.facilities = Math.max(total.facilities, s.facilities);
    total.durationMs += s.durationMs;
    total.stoppedBy = s.stoppedBy;
    const dueNow = (await deps.store.facilitiesWithDueWork(deps.now())).filter((org) => deps.delivered.has(org));
    if (s.stoppedBy === 'stopped' || dueNow.length === 0 || (s.sent + s.retried + s.needsCorrection + s.blocked + s.deadLetter === 0)) break;
  }
  return total;
}

export interface FacilityProblem {
  organizationId: string;
  status: string;
  /** The platform's reason text (PII- and secret-free). */
  reason?: string;
}

export interface SyncOnceReport {
  summary: TickSummary;
  counts: Record<VisitState, number>;
  /** Facilities that are not active (paused, auth-failed, config-error). */
  facilityProblems: FacilityProblem[];
  /** Some facility cannot deliver at all until someone acts (auth-failed, config-error). */
  blockedFacility: boolean;
}

/** One drain, then the counts by state and the facilities that are not delivering. */
export async function syncOnce(deps: SyncRunDeps & { organizations: readonly string[] }, maxTicks: number): Promise<SyncOnceReport> {
  const summary = await drainDue(deps, maxTicks);
  const counts = (await deps.store.counts()).byState;
  const facilityProblems: FacilityProblem[] = [];
  for (const org of deps.organizations) {
    const st = await deps.store.getFacilityState(org);
    if (st && st.status !== 'active') facilityProblems.push({ organizationId: org, status: st.status, ...(st.reason ? { reason: st.reason } : {}) });
  }
  const blockedFacility = facilityProblems.some((p) => p.status === 'auth-failed' || p.status === 'config-error');
  return { summary, counts, facilityProblems, blockedFacility };
}
