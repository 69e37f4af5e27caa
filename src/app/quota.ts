// Platform quota use over the last hour, per facility, from the store's per-minute grant counts: every point granted
// by any instance or CLI process on the database (the budget is the store's, src/platform/limiter.ts storeBudget).

import type { QuotaStore } from '../store/types.js';

export const QUOTA_WINDOW_MS = 3_600_000;

export interface QuotaUse {
  /** Platform requests granted to the facility since `since`, by every process on the database. */
  requests: number;
  since: string;
  /** Requests the hour could have held at the facility's quota. */
  capacity: number;
  /** requests / capacity, 0–1 (3 decimals). */
  share: number;
  quotaPerMinute: number;
  scope: 'all-instances';
}

/** The facility's use of its quota over the last hour (whole minutes, the current one included). */
export async function quotaUseOf(store: Pick<QuotaStore, 'quotaUse'>, organizationId: string, quotaPerMinute: number, now: number): Promise<QuotaUse> {
  const { requests, since } = await store.quotaUse(organizationId, QUOTA_WINDOW_MS, now);
  const capacity = (QUOTA_WINDOW_MS / 60_000) * quotaPerMinute;
  return {
    requests, since: new Date(since).toISOString(), capacity, share: Math.min(1, Math.round((requests / capacity) * 1000) / 1000),
    quotaPerMinute, scope: 'all-instances',
  };
}
