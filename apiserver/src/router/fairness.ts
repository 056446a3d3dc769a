// Per-tenant fairness (item 5), shared by the router and the shard's chain (server/fairness.ts):
// fair queuing of requests across tenants, as kube's API Priority and Fairness queues flows and
// shares seats. A request runs holding a seat; `maxTotalInflight` seats are shared by all
// tenants, and each active tenant (one with requests running, waiting or away) holds at most
// its fair share of them, ceil(total / (active tenants + 1)): a share is always left for a
// tenant that comes next, so no tenant can take another's seats, even with requests that are
// slow for reasons of their own. A tenant's requests in flight (holding a seat or away) are
// also limited by its own `maxInflight` (its policy).
//
// A request that cannot run at once waits in its tenant's line; a freed seat goes to the next
// tenant in round-robin order that has a request able to run (one request per turn), so a light
// tenant's request never waits behind a heavy tenant's backlog. A request may give its seat back
// while it waits on an outbound call (Seat.away: an admission or authorization webhook) and
// waits for one again after, ahead of its tenant's new requests and never refused: it was
// admitted. A tenant may have `maxInflight + maxQueued` requests admitted (in flight or
// waiting); past that, or after waiting `maxWaitMs`, a request is refused with 429
// TooManyRequests and Retry-After. Watches and other long-running requests do not come here
// (kube's max-in-flight filter exempts them too): they would hold a seat for hours.
// The lines are kept here rather than in one p-queue per tenant: p-queue has no way to share
// one concurrency limit fairly between queues.

import { tooManyRequests } from "../apierrors/status.ts";
import type { Outbound } from "../request/outbound.ts";

export interface FairnessOptions {
  /** Requests of one tenant in flight at once, holding a seat or away (default 32). */
  readonly maxInflight?: number;
  /** Seats: requests of all tenants running at once (default 16, see defaultMaxTotalInflight). */
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
  /** Told how long each admitted request waited for its first seat (metrics, benchmarks). */
  readonly observeWait?: (tenant: string, seconds: number) => void;
}

/**
 * The router's default seats per shard: twice the shard's (server/fairness.ts), as the router
 * cannot see what a request waits on at the shard (a webhook, etcd) while the shard gives its
 * seat back during webhooks; few, as every request the router forwards adds to the work the
 * shard's one event loop interleaves, the light tenants' requests' included (bench:fairness,
 * on a loaded machine: a light tenant's p50 beside a saturating one was 2.5× its p50 alone
 * with 8 router and 4 shard seats, 3.5× with 16 and 8, 5× with 64 and 8). A tenant alone holds
 * half of them.
 */
export const defaultMaxTotalInflight = 16;

/** The default of maxQueued (see FairnessOptions). */
export const defaultMaxQueued = 128;

/** A request's hold on a seat, from the moment it may run until it is released. */
export interface Seat {
  /** Gives the seat back for good (idempotent); the request is over. */
  readonly release: () => void;
  /** Runs an outbound call with the seat given back, and takes a seat again before answering. */
  readonly away: Outbound;
}

/** Why a wait was given up: the signal's reason (an Error from our callers) or one naming it. */
const abortError = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new Error(`aborted: ${String(signal.reason)}`);

/** A request waiting for a seat: told when it has one, or why it will not. */
interface Waiter {
  readonly grant: () => void;
  readonly fail: (err: Error) => void;
}

/** A tenant's requests; exists only while it has any. */
interface Line {
  /** Holding a seat. */
  running: number;
  /** Admitted, seat given back while an outbound call runs. */
  away: number;
  /** New requests waiting for their first seat, in arrival order. */
  readonly waiting: Waiter[];
  /** Requests back from an outbound call, waiting for a seat again; served first. */
  readonly returning: Waiter[];
  /** The tenant's own limit, as its latest request gave it (its policy may change). */
  limit: number;
}

const inflight = (line: Line): number => line.running + line.away + line.returning.length;

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
  private readonly observeWait: ((tenant: string, seconds: number) => void) | undefined;

  constructor(options: FairnessOptions = {}) {
    this.maxInflight = options.maxInflight ?? 32;
    this.maxTotalInflight = options.maxTotalInflight ?? defaultMaxTotalInflight;
    this.maxQueued = options.maxQueued ?? defaultMaxQueued;
    this.maxWaitMs = options.maxWaitMs ?? 5000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.observeWait = options.observeWait;
  }

  /**
   * Runs `serve` when the tenant may run one more request, holding the seat until it settles.
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
    const seat = await this.acquire(tenant, signal, maxInflight);
    try {
      return await serve();
    } finally {
      seat.release();
    }
  }

  /**
   * Takes a seat of `tenant` as run() does and holds it until it is released: for a caller
   * whose work is not one callback, such as the shard's handler chain.
   */
  acquire(tenant: string, signal?: AbortSignal, maxInflight = this.maxInflight): Promise<Seat> {
    const now = this.tryAcquire(tenant, maxInflight);
    if (now !== undefined) return Promise.resolve(now);
    const line = this.line(tenant, maxInflight);
    if (inflight(line) + line.waiting.length >= line.limit + this.maxQueued) {
      this.forgetIfIdle(tenant, line);
      return Promise.reject(tooManyRequests(this.retryAfterSeconds));
    }
    if (signal?.aborted === true) {
      this.forgetIfIdle(tenant, line);
      return Promise.reject(abortError(signal));
    }
    const queuedAt = performance.now();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          this.observeWait?.(tenant, (performance.now() - queuedAt) / 1000);
          resolve(this.seat(tenant, line));
        },
        fail: (err) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          const i = line.waiting.indexOf(waiter);
          if (i >= 0) line.waiting.splice(i, 1);
          this.leaveTurnsIfDone(tenant, line);
          this.forgetIfIdle(tenant, line);
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
   * Takes a seat of `tenant` at once when it may run now and none of its requests waits (the
   * common case: no timer, no abort listener); undefined when the caller must wait with acquire().
   */
  tryAcquire(tenant: string, maxInflight = this.maxInflight): Seat | undefined {
    const line = this.lines.get(tenant);
    if (line !== undefined) line.limit = maxInflight; // the tenant's policy may have changed
    if (this.running >= this.maxTotalInflight) return undefined;
    if (line === undefined ? maxInflight < 1 : line.waiting.length > 0 || !this.mayStart(line))
      return undefined;
    this.observeWait?.(tenant, 0);
    return this.seat(tenant, line ?? this.line(tenant, maxInflight));
  }

  /** Requests of `tenant` in flight (holding a seat or away) and waiting for a first seat. */
  load(tenant: string): { inflight: number; queued: number } {
    const line = this.lines.get(tenant);
    return { inflight: line === undefined ? 0 : inflight(line), queued: line?.waiting.length ?? 0 };
  }

  /** Seats held by `tenant`'s requests (for tests and metrics). */
  seats(tenant: string): number {
    return this.lines.get(tenant)?.running ?? 0;
  }

  /** A tenant's fair share of the seats when `active` tenants have requests. */
  private share(active: number): number {
    return Math.max(1, Math.ceil(this.maxTotalInflight / (active + 1)));
  }

  /** Whether a new request of the line may take a seat now (the total aside). */
  private mayStart(line: Line): boolean {
    return inflight(line) < line.limit && line.running < this.share(this.lines.size);
  }

  /** Whether the line's next request (a returning one first) may take a seat now (the total aside). */
  private mayDispatch(line: Line): boolean {
    if (line.returning.length > 0) return line.running < this.share(this.lines.size);
    return line.waiting.length > 0 && this.mayStart(line);
  }

  private line(tenant: string, limit: number): Line {
    let line = this.lines.get(tenant);
    if (line === undefined)
      this.lines.set(tenant, (line = { running: 0, away: 0, waiting: [], returning: [], limit }));
    line.limit = limit;
    return line;
  }

  private forgetIfIdle(tenant: string, line: Line): void {
    if (inflight(line) === 0 && line.waiting.length === 0 && this.lines.get(tenant) === line) {
      this.lines.delete(tenant);
      this.dispatch(); // one active tenant fewer: the others' shares grew
    }
  }

  private leaveTurnsIfDone(tenant: string, line: Line): void {
    if (line.waiting.length === 0 && line.returning.length === 0) this.turns.delete(tenant);
  }

  /** Counts one running request of `tenant`; its Seat hands the seat on when given back. */
  private seat(tenant: string, line: Line): Seat {
    line.running++;
    this.running++;
    let state: "seated" | "away" | "returning" | "released" = "seated";
    let returning: Waiter | undefined;
    const giveBack = (): void => {
      line.running--;
      this.running--;
    };
    return {
      release: () => {
        switch (state) {
          case "released":
            return;
          case "seated":
            giveBack();
            break;
          case "away":
            line.away--;
            break;
          case "returning": {
            // Released while it waited for a seat again (its client went away): it takes none.
            const i = line.returning.indexOf(returning!);
            if (i >= 0) line.returning.splice(i, 1);
            this.leaveTurnsIfDone(tenant, line);
            returning!.fail(new Error("released"));
            break;
          }
        }
        state = "released";
        this.forgetIfIdle(tenant, line);
        this.dispatch();
      },
      away: async <T>(call: () => Promise<T>): Promise<T> => {
        if (state !== "seated") return call();
        giveBack();
        line.away++;
        state = "away";
        this.dispatch();
        try {
          return await call();
        } finally {
          // Still admitted: a seat again, ahead of the tenant's new requests, never refused.
          if (state === "away") {
            line.away--;
            state = "returning";
            await new Promise<void>((resolve) => {
              returning = {
                grant: () => {
                  line.running++;
                  this.running++;
                  state = "seated";
                  resolve();
                },
                fail: () => resolve(),
              };
              line.returning.push(returning);
              this.turns.add(tenant);
              this.dispatch();
            });
            returning = undefined;
          }
        }
      },
    };
  }

  /** Gives free seats to waiting requests, one per tenant per turn, in turn order. */
  private dispatch(): void {
    while (this.running < this.maxTotalInflight) {
      let next: { tenant: string; line: Line } | undefined;
      for (const tenant of this.turns) {
        const line = this.lines.get(tenant)!;
        if (this.mayDispatch(line)) {
          next = { tenant, line };
          break;
        }
      }
      if (next === undefined) return;
      const { tenant, line } = next;
      // Its turn is over: to the back of the order if it still has requests waiting.
      this.turns.delete(tenant);
      const waiter = line.returning.shift() ?? line.waiting.shift()!;
      if (line.waiting.length > 0 || line.returning.length > 0) this.turns.add(tenant);
      waiter.grant(); // takes the seat at once
    }
  }
}
