// Failed-authentication throttling per client address: guessing keys costs time. Each wrong key counts; beyond
// `failuresPerMinute` the address is blocked (every request from it answered 429 with Retry-After before its key is even
// looked at), for `firstBlockMs`, doubled at each further block within `strikeWindowMs`, up to `maxBlockMs`. Other
// addresses, and correct keys from them, are untouched. A correct key does not reset the count: an attacker holding one
// key of their own could otherwise interleave it with guesses. State is per instance (memory), like the open-endpoint limits.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../util/logger.js';

export interface AuthThrottleSettings {
  /** Wrong keys one address may present per minute; the next one blocks it. */
  failuresPerMinute: number;
  firstBlockMs: number;
  maxBlockMs: number;
  /** Blocks of one address counted over this window (from its first block) for the doubling. */
  strikeWindowMs: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleSettings = {
  failuresPerMinute: 10,
  firstBlockMs: 60_000,
  maxBlockMs: 15 * 60_000,
  strikeWindowMs: 24 * 3_600_000,
};

export class AuthThrottle {
  readonly settings: AuthThrottleSettings;
  private readonly failures: RateLimiterMemory;
  private readonly strikes: RateLimiterMemory;
  private readonly logger: Logger | undefined;

  constructor(settings: Partial<AuthThrottleSettings> = {}, logger?: Logger) {
    this.settings = { ...DEFAULT_AUTH_THROTTLE, ...settings };
    this.failures = new RateLimiterMemory({ points: this.settings.failuresPerMinute, duration: 60 });
    this.strikes = new RateLimiterMemory({ points: Number.MAX_SAFE_INTEGER, duration: this.settings.strikeWindowMs / 1000 });
    this.logger = logger;
  }

  /** How long this address must still wait before a key of it is looked at (0: not blocked). */
  async retryAfterMs(address: string): Promise<number> {
    const r = await this.failures.get(address);
    return r && r.consumedPoints > this.settings.failuresPerMinute ? Math.max(1, r.msBeforeNext) : 0;
  }

  /** Counts one wrong key from this address; the block it starts now in ms (0: none). */
  async failed(address: string): Promise<number> {
    try {
      await this.failures.consume(address);
      return 0;
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      const strike = (await this.strikes.penalty(address, 1)).consumedPoints;
      const ms = Math.min(this.settings.maxBlockMs, this.settings.firstBlockMs * 2 ** Math.min(strike - 1, 30));
      await this.failures.block(address, ms / 1000);
      this.logger?.warn({ client: address, blockMs: ms, strike }, 'too many wrong API keys from one address: blocked');
      return ms;
    }
  }
}
