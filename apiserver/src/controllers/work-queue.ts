// A work queue of keys for level-triggered reconcilers, after client-go's rate-limited
// workqueue: a key is never reconciled twice at once, adds during a reconcile collapse
// into one more run after it, failures back off per key (5 ms doubling to 1000 s) and
// terminal errors are dropped. Every timer it holds is cleared by `shutdown()`.

/** What a reconcile may ask for besides success: to look again after a while. */
export type ReconcileResult = void | { readonly requeueAfterMs: number };

/** Thrown by a reconcile when retrying cannot help (bad input): the key is dropped, not retried. */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
}

export interface WorkQueueOptions {
  /** First retry delay after a failure; doubles per consecutive failure of the key. */
  readonly baseDelayMs?: number;
  /** Cap of the per-key retry delay. */
  readonly maxDelayMs?: number;
  /** How many different keys may be reconciled at once. */
  readonly concurrency?: number;
}

/**
 * Called by the queue after a failed reconcile, once per failure: `retryInMs` is undefined when
 * the error was terminal and the key was dropped; `failures` counts the key's failures in a row.
 * The queue logs nothing itself.
 */
export type FailureHandler = (
  key: string,
  err: unknown,
  retryInMs: number | undefined,
  failures: number,
) => void;

export class WorkQueue {
  /** Keys ready to run, in order. */
  private readonly ready: string[] = [];
  /** Keys waiting to run: in `ready`, or to be put back there when their current run ends. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** Delayed adds: one timer per key, the earliest wins. */
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly concurrency: number;

  /** `reconcile` is called with one key at a time per key; it may throw to be retried with backoff. */
  constructor(
    private readonly reconcile: (key: string) => Promise<ReconcileResult>,
    private readonly onFailure: FailureHandler = () => {},
    opts: WorkQueueOptions = {},
  ) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.concurrency = opts.concurrency ?? 2;
  }

  /** Queues `key` (a no-op when it is already waiting, or after shutdown). */
  add(key: string): void {
    if (this.stopped || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.processing.has(key)) this.ready.push(key);
    this.pump();
  }

  /** Queues `key` after `delayMs`, unless an earlier delayed add of it is already pending. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    // A pending retry must not keep the process alive; shutdown() clears it anyway.
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Consecutive failures of `key` so far (0 after a success). */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting, running or delayed: 0 means the queue is idle. */
  get length(): number {
    return new Set([...this.dirty, ...this.processing, ...this.delayed.keys()]).size;
  }

  /** Stops taking keys, clears every timer and waits for the reconciles in flight. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.ready.length = 0;
    this.dirty.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private pump(): void {
    while (!this.stopped && this.processing.size < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      this.dirty.delete(key);
      this.processing.add(key);
      const run = this.run(key);
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const result = await this.reconcile(key);
      this.failures.delete(key);
      if (result !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      if (this.stopped) return; // Shut down meanwhile (its storage may be closing): nothing to retry.
      if (err instanceof TerminalError) {
        this.failures.delete(key);
        this.onFailure(key, err, undefined, 1);
      } else {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const delay = Math.min(this.baseDelayMs * 2 ** (n - 1), this.maxDelayMs);
        this.onFailure(key, err, delay, n);
        this.addAfter(key, delay);
      }
    } finally {
      this.processing.delete(key);
      // Added while it ran: run it once more, now.
      if (this.dirty.has(key) && !this.stopped) this.ready.push(key);
      this.pump();
    }
  }
}
