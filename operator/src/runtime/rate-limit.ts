// The two limits a controller puts on retries, after client-go's default controller rate
// limiter (the larger of the two delays wins): a per-key exponential backoff
// (ItemExponentialFailureRateLimiter, 5 ms doubling to 1000 s, forgotten on success) and
// an overall token bucket (BucketRateLimiter, 10 per second with a burst of 100), which
// keeps many failing keys from hammering the API all at once.

/** Per-key failure counts and the delay each failure earns. Called by the controller only. */
export class ItemBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  /** Counts a failure of `key` and returns how long to wait before retrying it. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }

  /** Failures of `key` in a row so far. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** After a success: the next failure of `key` waits `baseMs` again. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}

/**
 * A token bucket as golang.org/x/time/rate's Limiter.Reserve: each call takes a token now or
 * later, and says how long to wait for it. Tokens come back at `perSecond`, at most `burst`.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    if (!(perSecond > 0) || !(burst >= 1))
      throw new Error("a token bucket needs perSecond > 0 and burst ≥ 1");
    this.tokens = burst;
    this.last = Date.now();
  }

  /** Takes a token; returns the wait (ms) until it is really available (0: now). */
  reserve(): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }
}
