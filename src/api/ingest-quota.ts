// Per-facility quotas on ingest: records per minute (a fixed window per facility, rate-limiter-flexible) and a cap on
// the facility's records still waiting for delivery (queued or sending). Both refuse a push whole — nothing of it is
// stored — with 429, Retry-After and an OperationOutcome that names the limit: one facility (or one leaked key) cannot
// fill the disk or the outbox that every other facility shares.
import type { MessageRef } from '../validation/outcome.js';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface IngestQuotaOptions {
  /** Records one facility may push per minute, valid or not (each costs a check, a mapping and a validation). */
  recordsPerMinute: number;
  /** Records of one facility not yet final beyond which a push is refused. */
  maxQueuedPerFacility: number;
  /** The facility's records not yet final (store.pendingCount). */
  pendingCount: (organizationId: string) => Promise<number>;
}

export interface QuotaRefusal {
  /** 429 when waiting helps, 413 when the batch alone is larger than the per-minute limit. */
  status: 429 | 413;
  retryAfterSeconds?: number;
  /** Why, as a message of messages/api.json (said in the caller's language). */
  message: MessageRef;
}

/** While the queue drains, try again after about this long (deliveries run within each facility's platform quota). */
export const QUEUED_RETRY_AFTER_SECONDS = 60;

export class IngestQuota {
  private readonly perMinute: RateLimiterMemory;

  constructor(private readonly opts: IngestQuotaOptions) {
    this.perMinute = new RateLimiterMemory({ points: opts.recordsPerMinute, duration: 60, keyPrefix: 'ingest-records' });
  }

  /**
   * Takes the records of a push from each facility's per-minute budget. A refused push gives back what it took, so
   * it costs the facility nothing; undefined ⇒ allowed.
   */
  async takeRate(recordsByOrg: ReadonlyMap<string, number>): Promise<QuotaRefusal | undefined> {
    const limit = this.opts.recordsPerMinute;
    for (const n of recordsByOrg.values()) {
      if (n > limit) return { status: 413, message: { key: 'api.quota.batch', params: { count: n, limit } } };
    }
    const taken: Array<[string, number]> = [];
    for (const [org, n] of recordsByOrg) {
      try {
        await this.perMinute.consume(org, n);
        taken.push([org, n]);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        taken.push([org, n]); // a refused consume still counted its points
        await this.giveBack(taken);
        const retryAfterSeconds = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        return {
          status: 429,
          retryAfterSeconds,
          message: { key: 'api.quota.rate', params: { limit, seconds: retryAfterSeconds } },
        };
      }
    }
    return undefined;
  }

  /**
   * Refuses a push that would take a facility past its cap on records waiting for delivery, counting every record of
   * the push (a re-push of unchanged records is counted too: the check runs before the records are looked at).
   * The caller runs it and the store write that follows as one section (src/util/serial.ts), so that both see the same outbox.
   */
  async checkQueued(recordsByOrg: ReadonlyMap<string, number>): Promise<QuotaRefusal | undefined> {
    const cap = this.opts.maxQueuedPerFacility;
    for (const [org, n] of recordsByOrg) {
      const pending = await this.opts.pendingCount(org);
      if (pending + n > cap) {
        return {
          status: 429,
          retryAfterSeconds: QUEUED_RETRY_AFTER_SECONDS,
          message: { key: 'api.quota.queued', params: { pending, cap, count: n, seconds: QUEUED_RETRY_AFTER_SECONDS } },
        };
      }
    }
    return undefined;
  }

  /** Returns points taken by a push that was refused afterwards (e.g. by the queued cap). */
  async giveBack(taken: Iterable<[string, number]>): Promise<void> {
    for (const [org, n] of taken) await this.perMinute.reward(org, n);
  }
}
