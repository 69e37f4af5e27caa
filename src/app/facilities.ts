// Facility overview for operators (API and CLI): counts by state, the oldest waiting record and its age, the last
// delivery, the status with its reason in the caller's language, and platform quota use over the last hour from the
// store (every instance's grants) for a configured facility.
import type { FacilityStatus, Store, VisitState } from '../store/types.js';
import { DEFAULT_LOCALE, messages, type Locale } from '../i18n/index.js';
import { facilityHoldText, facilityReasonText, iso } from './visit-view.js';
import { renderMessage } from '../i18n/issues.js';

/** The reason of a pause from the console or the CLI. */
const PAUSED = 'facility-status.paused-by-operator';
import { quotaUseOf, type QuotaUse } from './quota.js';
import type { QueryDeps, Scope } from './visits.js';

const text = messages('queries');

export interface FacilityOverviewDeps extends QueryDeps {
  /** Configured facilities: organizationId → what the configuration says of it (name, environment, quotaPerMinute, …; no secrets). */
  configured: ReadonlyMap<string, Record<string, unknown>>;
}

export interface FacilityOverview {
  organizationId: string;
  configured: boolean;
  [detail: string]: unknown;
  status: FacilityStatus;
  explanation: string;
  counts: Record<VisitState, number>;
  oldestWaitingSince?: string;
  oldestWaitingAgeSeconds?: number;
  lastSentAt?: string;
  quotaLastHour?: QuotaUse;
  quotaNote: string;
}

async function overview(deps: FacilityOverviewDeps, org: string, locale: Locale): Promise<FacilityOverview> {
  const now = deps.now();
  const st = await deps.store.getFacilityState(org);
  const facts = await deps.store.facilityFacts(org);
  const counts = (await deps.store.counts(org)).byState;
  const perMinute = deps.configured.get(org)?.quotaPerMinute;
  // The share needs the facility's quota: a facility the configuration does not know has none.
  const quota = typeof perMinute === 'number' ? await quotaUseOf(deps.store, org, perMinute, now) : undefined;
  return {
    ...(deps.configured.get(org) ?? {}),
    organizationId: org,
    configured: deps.configured.has(org),
    status: st?.status ?? 'active',
    ...(st?.cause ? { cause: st.cause } : {}),
    ...(st?.reason ? { reason: facilityReasonText(st, locale)! } : {}),
    ...(st?.notBefore && st.notBefore > now ? { notBefore: iso(st.notBefore) } : {}),
    explanation: facilityHoldText(st, now, locale) ?? text(locale, 'facility.active'),
    counts,
    ...(facts.oldestWaitingSince !== undefined
      ? { oldestWaitingSince: iso(facts.oldestWaitingSince), oldestWaitingAgeSeconds: Math.max(0, Math.floor((now - facts.oldestWaitingSince) / 1000)) }
      : {}),
    ...(facts.lastSentAt !== undefined ? { lastSentAt: iso(facts.lastSentAt) } : {}),
    ...(quota ? { quotaLastHour: quota } : {}),
    quotaNote: text(locale, quota ? 'facility.quota.all-instances' : 'facility.quota.unknown'),
  };
}

/** One facility, if the scope may see it and it is configured or known to the store. */
export async function facilityOverview(deps: FacilityOverviewDeps, scope: Scope, org: string, locale: Locale = DEFAULT_LOCALE):
  Promise<FacilityOverview | undefined> {
  if ('organizationId' in scope && scope.organizationId !== org) return undefined;
  if (!deps.configured.has(org) && !(await deps.store.organizations()).includes(org)) return undefined;
  return overview(deps, org, locale);
}

/** Every facility the scope may see: the configured ones and any other the store holds records of, by organizationId. */
export async function facilityOverviews(deps: FacilityOverviewDeps, scope: Scope, locale: Locale = DEFAULT_LOCALE): Promise<FacilityOverview[]> {
  const orgs = 'organizationId' in scope ? [scope.organizationId] : [...new Set([...deps.configured.keys(), ...(await deps.store.organizations())])].sort();
  const out: FacilityOverview[] = [];
  for (const org of orgs) out.push(await overview(deps, org, locale));
  return out;
}

/** An operator's pause (`paused`) or resume (`active`, which also clears auth-failed / config-error) of a facility's deliveries. */
export async function setFacilityStatus(store: Store, organizationId: string, status: 'paused' | 'active', at: number): Promise<void> {
  await store.putFacilityState({
    organizationId, status, ...(status === 'paused' ? { cause: 'operator' as const, reason: renderMessage('en', PAUSED), reasonMessage: { key: PAUSED, params: {} } } : {}), updatedAt: at,
  });
}
