// Platform quota use over the last hour, per facility, from the limiter's running count of granted requests. The
// limiter lives in this process, so the figure is this process's use only (another process sharing the credential —
// `ilp-adapter sync --once`, a second instance — is not counted): every answer says so.

export const QUOTA_WINDOW_MS = 3_600_000;
const SAMPLE_EVERY_MS = 60_000;

export interface QuotaUse {
  /** Platform requests this process was granted since `since`. */
  requests: number;
  since: string;
  /** Requests the window could have held at the facility's quota (whole minutes since `since`, at least one). */
  capacity: number;
  /** requests / capacity, 0–1 (3 decimals). */
  share: number;
  quotaPerMinute: number;
  scope: 'this-process';
}

/** Samples of one facility's granted count, at most one a minute, covering the last hour. */
export class GrantHistory {
  private readonly samples: { at: number; granted: number }[] = [];

  /** Records the running count (call about once a minute; extra calls within a minute are ignored). */
  sample(now: number, granted: number): void {
    const last = this.samples[this.samples.length - 1];
    if (!last || now - last.at >= SAMPLE_EVERY_MS) this.samples.push({ at: now, granted });
    // Keep the newest sample at or before the window start: it is the baseline of the hour.
    while (this.samples.length > 1 && this.samples[1]!.at <= now - QUOTA_WINDOW_MS) this.samples.shift();
  }

  /** Use since the oldest sample within the last hour (the process's start, if younger). */
  use(now: number, granted: number, quotaPerMinute: number): QuotaUse {
    this.sample(now, granted);
    const base = this.samples.find((s) => s.at >= now - QUOTA_WINDOW_MS) ?? this.samples[this.samples.length - 1]!;
    const requests = Math.max(0, granted - base.granted);
    // Whole minutes covered (at least one): a young process is not shown as over its quota after a few requests.
    const capacity = Math.max(1, Math.ceil((now - base.at) / 60_000)) * quotaPerMinute;
    return {
      requests, since: new Date(base.at).toISOString(), capacity, share: Math.min(1, Math.round((requests / capacity) * 1000) / 1000),
      quotaPerMinute, scope: 'this-process',
    };
  }
}
