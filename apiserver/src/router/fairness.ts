// Per-tenant fairness (item 5), shared by the router and the shard's chain (server/fairness.ts):
// fair queuing of requests across tenants, as kube's API Priority and Fairness queues flows.
// Two limits hold at once: each tenant runs at most its own `maxInflight` requests, and all
// tenants together at most `maxTotalInflight`. A request that cannot run at once waits in its
// tenant's line; a freed slot goes to the next tenant in round-robin order that has a request
// waiting (one request per turn), so a light tenant's request waits for one slot to free, never
// behind a heavy tenant's backlog. The total limit is small on purpose: requests share one
// event loop, so a request's latency grows with the number running beside it — the heavy
// tenant's included — whatever the queues do. A tenant may have `maxInflight + maxQueued`
// requests admitted (running or waiting); past that, or after waiting `maxWaitMs`, a request is
// refused with 429 TooManyRequests and Retry-After. Watches and other long-running requests do
// not come here (kube's max-in-flight filter exempts them too): they would hold a slot for hours.
// The lines are kept here rather than in one p-queue per tenant: p-queue has no way to share
// one concurrency limit fairly between queues.

import { tooManyRequests } from "../apierrors/status.ts";

export interface FairnessOptions {
  /** Requests of one tenant running at once (default 32). */
  readonly maxInflight?: number;
  /** Requests of all tenants running at once (default 4: see the file comment). */
  readonly maxTotalInflight?: number;
  /**
   * Requests of one tenant admitted past its maxInflight, waiting (default 128); more are refused.
   * A waiting request costs no CPU, a refused one a whole exchange, and clients that honor
   * Retry-After come back all at once: a burst of refusals is what slows the other tenants.
   */
  readonly maxQueued?: number;
  /** Longest wait in the queue before a 429 (default 5 s). */
  readonly maxWaitMs?: number;
  /** The Retry-After of a 429, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
}

/** The default total limit: small, so a light tenant's latency stays near what it is alone. */
export const defaultMaxTotalInflight = 4;

/** The default of maxQueued (see FairnessOptions). */
export const defaultMaxQueued = 128;

/** Why a wait was given up: the signal's reason (an Error from our callers) or one naming it. */
const abortError = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new Error(`aborted: ${String(signal.reason)}`);

/** A request waiting for a slot. */
interface Waiter {
  readonly grant: (release: () => void) => void;
  readonly fail: (err: Error) => void;
}

/** A tenant's requests running and waiting; exists only while it has either. */
interface Line {
  running: number;
  readonly waiting: Waiter[];
  /** The tenant's own limit, as its latest request gave it (its policy may change). */
  limit: number;
}

/**
 * Admits requests per tenant. Called by the router for every non-long-running request and by
 * the shard's fairness stage; never changes a request.
 */
export class TenantFairness {
  private readonly lines = new Map<string, Line>();
  /** Tenants with a request waiting, in turn order: the first one able to run goes next. */
  private readonly turns = new Set<string>();
  private running = 0;
  private readonly maxInflight: number;
  private readonly maxTotalInflight: number;
  private readonly maxQueued: number;
  private readonly maxWaitMs: number;
  private readonly retryAfterSeconds: number;

  constructor(options: FairnessOptions = {}) {
    this.maxInflight = options.maxInflight ?? 32;
    this.maxTotalInflight = options.maxTotalInflight ?? defaultMaxTotalInflight;
    this.maxQueued = options.maxQueued ?? defaultMaxQueued;
    this.maxWaitMs = options.maxWaitMs ?? 5000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }

  /**
   * Runs `serve` when the tenant may run one more request, holding the slot until it settles.
   * Throws a 429 StatusError when the tenant's line is full or the wait too long, and `signal`'s
   * reason when it aborts while waiting (the client went away). Once `serve` runs, nothing here
   * stops it. `maxInflight` is the tenant's own limit (its policy), the default one otherwise.
   */
  async run<T>(
    tenant: string,
    serve: () => Promise<T>,
    signal?: AbortSignal,
    maxInflight = this.maxInflight,
  ): Promise<T> {
    const release = await this.acquire(tenant, signal, maxInflight);
    try {
      return await serve();
    } finally {
      release();
    }
  }

  /**
   * Takes a slot of `tenant` as run() does and holds it until the returned function is called
   * (idempotent): for a caller whose work is not one callback, such as the shard's handler chain.
   */
  acquire(tenant: string, signal?: AbortSignal, maxInflight = this.maxInflight): Promise<() => void> {
    const now = this.tryAcquire(tenant, maxInflight);
    if (now !== undefined) return Promise.resolve(now);
    const line = this.line(tenant, maxInflight);
    if (line.running + line.waiting.length >= line.limit + this.maxQueued) {
      this.forgetIfIdle(tenant, line);
      return Promise.reject(tooManyRequests(this.retryAfterSeconds));
    }
    if (signal?.aborted === true) {
      this.forgetIfIdle(tenant, line);
      return Promise.reject(abortError(signal));
    }
    return new Promise((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = line.waiting.indexOf(waiter);
        if (i >= 0) line.waiting.splice(i, 1);
        if (line.waiting.length === 0) this.turns.delete(tenant);
        this.forgetIfIdle(tenant, line);
      };
      const waiter: Waiter = {
        grant: (release) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
        fail: (err) => {
          leave();
          reject(err);
        },
      };
      const timer = setTimeout(() => waiter.fail(tooManyRequests(this.retryAfterSeconds)), this.maxWaitMs);
      const onAbort = (): void => waiter.fail(abortError(signal!));
      signal?.addEventListener("abort", onAbort, { once: true });
      line.waiting.push(waiter);
      this.turns.add(tenant);
      this.dispatch(); // the tenant's limit may have grown since its requests began to wait
    });
  }

  /**
   * Takes a slot of `tenant` at once when it may run now and none of its requests waits (the
   * common case: no timer, no abort listener); undefined when the caller must wait with acquire().
   */
  tryAcquire(tenant: string, maxInflight = this.maxInflight): (() => void) | undefined {
    const line = this.lines.get(tenant);
    if (line !== undefined) line.limit = maxInflight; // the tenant's policy may have changed
    if (this.running >= this.maxTotalInflight) return undefined;
    if (line !== undefined && (line.running >= maxInflight || line.waiting.length > 0)) return undefined;
    return this.start(tenant, line ?? this.line(tenant, maxInflight));
  }

  /** Requests of `tenant` running and waiting (for tests and metrics). */
  load(tenant: string): { inflight: number; queued: number } {
    const line = this.lines.get(tenant);
    return { inflight: line?.running ?? 0, queued: line?.waiting.length ?? 0 };
  }

  private line(tenant: string, limit: number): Line {
    let line = this.lines.get(tenant);
    if (line === undefined) this.lines.set(tenant, (line = { running: 0, waiting: [], limit }));
    line.limit = limit;
    return line;
  }

  private forgetIfIdle(tenant: string, line: Line): void {
    if (line.running === 0 && line.waiting.length === 0 && this.lines.get(tenant) === line)
      this.lines.delete(tenant);
  }

  /** Counts one running request of `tenant`; the answer releases it (idempotent) and hands the slot on. */
  private start(tenant: string, line: Line): () => void {
    line.running++;
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      line.running--;
      this.running--;
      this.forgetIfIdle(tenant, line);
      this.dispatch();
    };
  }

  /** Gives free slots to waiting requests, one per tenant per turn, in turn order. */
  private dispatch(): void {
    while (this.running < this.maxTotalInflight) {
      let next: { tenant: string; line: Line } | undefined;
      for (const tenant of this.turns) {
        const line = this.lines.get(tenant)!;
        if (line.running < line.limit) {
          next = { tenant, line };
          break;
        }
      }
      if (next === undefined) return;
      const { tenant, line } = next;
      const waiter = line.waiting.shift()!;
      // Its turn is over: to the back of the order if it still has requests waiting.
      this.turns.delete(tenant);
      if (line.waiting.length > 0) this.turns.add(tenant);
      waiter.grant(this.start(tenant, line));
    }
  }
}
