// Per-client request quota: sliding 60-second window over accepted requests (rejected ones do not count).
export const QUOTA_WINDOW_MS = 60_000;

export class SlidingWindowQuota {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly perMinute: number, private readonly clock: () => number) {}

  /** Records a request for `key`; returns 0 when allowed, else the seconds until a slot frees (Retry-After). */
  take(key: string): number {
    if (this.perMinute <= 0) return 0;
    const now = this.clock();
    let q = this.hits.get(key);
    if (!q) this.hits.set(key, (q = []));
    // Timestamps are appended in order, so the expired ones are at the front.
    let drop = 0;
    while (drop < q.length && q[drop] <= now - QUOTA_WINDOW_MS) drop++;
    if (drop) q.splice(0, drop);
    if (q.length >= this.perMinute) return Math.max(1, Math.ceil((q[0] + QUOTA_WINDOW_MS - now) / 1000));
    q.push(now);
    return 0;
  }
}

/**
 * Every request the quota let through, per client, with its time: what a test or benchmark needs to check that several
 * service instances together stayed within a facility's quota in every sliding window (the simulator's own quota only
 * refuses the excess; it does not say how far over the callers tried to go). Kept even when the quota is off (0).
 */
export class GrantLog {
  private readonly times = new Map<string, number[]>();

  record(clientId: string, at: number): void {
    let t = this.times.get(clientId);
    if (!t) this.times.set(clientId, (t = []));
    t.push(at);
  }

  /** Grant times of one client (epoch ms of the simulator's clock), in the order granted. */
  grants(clientId: string): number[] {
    return [...(this.times.get(clientId) ?? [])];
  }

  /** Per client: the most grants inside any window (t − windowMs, t], the same window the quota uses. */
  maxInWindow(windowMs = QUOTA_WINDOW_MS): Record<string, number> {
    return Object.fromEntries([...this.times].map(([clientId, times]) => [clientId, maxInSlidingWindow(times, windowMs)]));
  }
}

/** The most of `times` (ascending or nearly: sorted here) that fall inside any window (t − windowMs, t]. */
export function maxInSlidingWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[first]! <= sorted[last]! - windowMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}
