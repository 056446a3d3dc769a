// Waiting between retries: an exponential backoff with jitter for reconnecting clients
// (client-go's reflector waits 800 ms doubling to 30 s) and a sleep that ends early when
// its signal is aborted, so that stop() never waits for a backoff to run out.

import { setTimeout as delay } from "node:timers/promises";

/** Called by loops that retry a failing call; not shared between loops. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    /** Up to this fraction is added at random, so that many clients do not retry in step. */
    private readonly jitter = 0.5,
  ) {}

  /** The wait before the next attempt; each call doubles the next one, up to the cap. */
  next(): number {
    const base = Math.min(this.initialMs * 2 ** this.failures, this.maxMs);
    this.failures++;
    return Math.round(base * (1 + Math.random() * this.jitter));
  }

  /** After a success: the next wait is the initial one again. */
  reset(): void {
    this.failures = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` is aborted (never rejects). */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // Aborted: the caller checks its signal.
  }
}
