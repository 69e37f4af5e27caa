// Per-client request quota: sliding 60-second window over accepted requests (rejected ones do not count).
const WINDOW_MS = 60_000;

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
    while (drop < q.length && q[drop] <= now - WINDOW_MS) drop++;
    if (drop) q.splice(0, drop);
    if (q.length >= this.perMinute) return Math.max(1, Math.ceil((q[0] + WINDOW_MS - now) / 1000));
    q.push(now);
    return 0;
  }
}
