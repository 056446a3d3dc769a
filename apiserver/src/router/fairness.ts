// The router's per-tenant fairness (item 5, router side): each tenant has its own in-flight
// limit and a short queue (`p-queue`), so one tenant at full load waits in its own line and
// never in another's. Past the queue, or after waiting too long in it, a request is refused
// with 429 TooManyRequests and Retry-After. Watches and other long-running requests do not
// count (kube's max-in-flight filter exempts them too): they would hold a slot for hours.
// The shard's chain (server/fairness.ts) uses the same queues, with each tenant's own limit.

import PQueue from "p-queue";
import { tooManyRequests } from "../apierrors/status.ts";

export interface FairnessOptions {
  /** Requests of one tenant served at once (default 32). */
  readonly maxInflight?: number;
  /** Requests of one tenant waiting for a slot (default 16); more are refused. */
  readonly maxQueued?: number;
  /** Longest wait in the queue before a 429 (default 5 s). */
  readonly maxWaitMs?: number;
  /** The Retry-After of a 429, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
}

/**
 * Admits requests per tenant. Called by the router for every non-long-running request; a
 * tenant's queue exists only while it has requests in flight or waiting.
 */
export class TenantFairness {
  private readonly queues = new Map<string, PQueue>();
  private readonly maxInflight: number;
  private readonly maxQueued: number;
  private readonly maxWaitMs: number;
  private readonly retryAfterSeconds: number;

  constructor(options: FairnessOptions = {}) {
    this.maxInflight = options.maxInflight ?? 32;
    this.maxQueued = options.maxQueued ?? 16;
    this.maxWaitMs = options.maxWaitMs ?? 5000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }

  /**
   * Runs `serve` when the tenant has a free slot, holding the slot until it settles. Throws a
   * 429 StatusError when the queue is full or the wait too long, and `signal`'s reason when it
   * aborts while waiting (the client went away). Once `serve` runs, nothing here stops it.
   * `maxInflight` is the tenant's own limit (its policy), the default one otherwise.
   */
  async run<T>(
    tenant: string,
    serve: () => Promise<T>,
    signal?: AbortSignal,
    maxInflight = this.maxInflight,
  ): Promise<T> {
    let queue = this.queues.get(tenant);
    if (queue === undefined) {
      queue = new PQueue({ concurrency: maxInflight });
      this.queues.set(tenant, queue);
    } else if (queue.concurrency !== maxInflight) {
      queue.concurrency = maxInflight; // the tenant's policy changed
    }
    const q = queue;
    if (q.pending >= maxInflight && q.size >= this.maxQueued) {
      throw tooManyRequests(this.retryAfterSeconds);
    }
    // p-queue 8 drops an aborted task only when it reaches the front, and an abort signal
    // would also free the slot of a running task: the wait is bounded here instead. A task
    // given up while waiting runs as a no-op when its turn comes.
    let state: "waiting" | "running" | "abandoned" = "waiting";
    let giveUp: (err: unknown) => void = () => undefined;
    const gaveUp = new Promise<never>((_, reject) => (giveUp = reject));
    const abandon = (err: unknown): void => {
      if (state !== "waiting") return;
      state = "abandoned";
      giveUp(err);
    };
    const timer = setTimeout(() => abandon(tooManyRequests(this.retryAfterSeconds)), this.maxWaitMs);
    const onAbort = (): void => abandon(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const task = q.add(async () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (state === "abandoned") return undefined;
      state = "running";
      return { value: await serve() };
    });
    try {
      const done = await Promise.race([task, gaveUp]);
      return done!.value;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      // Forget an idle tenant's queue once its last task (possibly a no-op) is done.
      const forget = (): void => {
        if (q.size === 0 && q.pending === 0 && this.queues.get(tenant) === q) this.queues.delete(tenant);
      };
      task.then(forget, forget);
    }
  }

  /**
   * Takes a slot of `tenant` as run() does and holds it until the returned function is called
   * (idempotent): for a caller whose work is not one callback, such as the shard's handler chain.
   */
  acquire(tenant: string, signal?: AbortSignal, maxInflight?: number): Promise<() => void> {
    return new Promise((resolve, reject) => {
      this.run(
        tenant,
        () => new Promise<void>((release) => resolve(() => release())),
        signal,
        maxInflight,
      ).catch(reject);
    });
  }

  /**
   * Takes a slot of `tenant` at once when one is free and nobody waits (the common case: no
   * timer, no abort listener, no race); undefined when the caller must queue with acquire().
   */
  tryAcquire(tenant: string, maxInflight = this.maxInflight): (() => void) | undefined {
    let queue = this.queues.get(tenant);
    if (queue === undefined) {
      queue = new PQueue({ concurrency: maxInflight });
      this.queues.set(tenant, queue);
    } else if (queue.concurrency !== maxInflight) {
      queue.concurrency = maxInflight;
    }
    const q = queue;
    if (q.pending >= maxInflight || q.size > 0) return undefined;
    let release: (() => void) | undefined;
    // p-queue starts a task synchronously when a slot is free, so `release` is set on return.
    const task = q.add(() => new Promise<void>((r) => (release = r)));
    const forget = (): void => {
      if (q.size === 0 && q.pending === 0 && this.queues.get(tenant) === q) this.queues.delete(tenant);
    };
    void task.then(forget, forget);
    if (release === undefined) throw new Error("fairness: a free slot was not taken at once");
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release!();
    };
  }

  /** Requests of `tenant` in flight and waiting (for tests and metrics). */
  load(tenant: string): { inflight: number; queued: number } {
    const q = this.queues.get(tenant);
    return { inflight: q?.pending ?? 0, queued: q?.size ?? 0 };
  }
}
