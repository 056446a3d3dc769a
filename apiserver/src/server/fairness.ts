// The shard's fairness stage (position 6 of the handler chain): each tenant's requests in
// flight are limited by its policy's `maxRequestsInFlight` (the server's default otherwise);
// they run on `maxTotalRequestsInFlight` seats shared by all tenants, each active tenant
// holding at most its fair share, with fair queuing across tenants and a short queue per
// tenant shared with the router's implementation (router/fairness.ts); past it a 429
// TooManyRequests with Retry-After. The seats are few, since all requests share one event
// loop: a request's latency grows with the number running beside it. A seat is for running,
// not for waiting on another server: a request gives it back while an admission or
// authorization webhook answers (the Seat's `away`, handed to them as request/outbound.ts's
// Outbound), so a tenant with slow webhooks holds no seat while it waits. Watches are
// long-running and exempt from that limit (kube's max-in-flight filter exempts them too), but
// each tenant instance holds at most `maxWatches` open watches: one more is a 429 as well.

import type { ServerResponse } from "node:http";
import { tooManyRequests } from "../apierrors/status.ts";
import { requestKind, type ApiserverMetrics } from "../metrics/index.ts";
import type { RequestInfo } from "../request/request-info.ts";
import { direct } from "../request/outbound.ts";
import { TenantFairness, type Seat } from "../router/fairness.ts";
import type { Tenant, TenantInstance } from "../tenancy/instance.ts";

/** kube-apiserver's --max-requests-inflight default is 400 for a whole server; this is per tenant. */
export const defaultMaxRequestsInFlight = 64;

/** All tenants' requests running at once by default (see ShardFairnessOptions). */
export const defaultMaxTotalRequestsInFlight = 8;

export interface ShardFairnessOptions {
  /** A tenant's requests served at once when its policy sets no limit (default 64). */
  readonly maxRequestsInFlight?: number;
  /**
   * Seats: all tenants' requests running at once (default 8: few, as the file comment says; a
   * request waiting on a webhook holds none). A tenant alone takes half of them.
   */
  readonly maxTotalRequestsInFlight?: number;
  /** A tenant's requests waiting past its maxRequestsInFlight (default 128); more are refused. */
  readonly maxQueued?: number;
  /** Longest wait in the queue before a 429 (default 5 s). */
  readonly maxWaitMs?: number;
  /** The Retry-After of a 429, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
  /** Told how long each admitted request waited for its first seat (benchmarks). */
  readonly observeWait?: (tenant: string, seconds: number) => void;
}

/**
 * One per server, shared by every tenant it serves. Called by the handler chain once per
 * request, after authentication and impersonation; never changes the request.
 */
export class ShardFairness {
  private readonly queues: TenantFairness;
  private readonly maxInflight: number;
  private readonly retryAfterSeconds: number;
  /** Open watches per tenant instance (a rebuilt instance starts at 0: its old watches end). */
  private readonly watches = new WeakMap<TenantInstance, number>();

  constructor(options: ShardFairnessOptions = {}) {
    this.maxInflight = options.maxRequestsInFlight ?? defaultMaxRequestsInFlight;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.queues = new TenantFairness({
      maxInflight: this.maxInflight,
      retryAfterSeconds: this.retryAfterSeconds,
      maxTotalInflight: options.maxTotalRequestsInFlight ?? defaultMaxTotalRequestsInFlight,
      ...(options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {}),
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
      ...(options.observeWait !== undefined ? { observeWait: options.observeWait } : {}),
    });
  }

  /**
   * Admits one request of `tenant`: waits for a seat (or, for a watch, takes one of the
   * instance's watch slots) and returns it, to be released once the request is answered (for a
   * watch: once it ends). Throws a 429 StatusError past the limits. A request whose client goes
   * away while it waits is given up (`res` closing).
   */
  async admit(
    tenant: Tenant,
    info: RequestInfo,
    res: ServerResponse,
    instance: () => Promise<TenantInstance>,
    metrics?: ApiserverMetrics,
  ): Promise<Seat> {
    if (info.verb === "watch") return { release: this.openWatch(await instance()), away: direct };
    const limit = tenant.policy?.quotas?.maxRequestsInFlight ?? this.maxInflight;
    const counted = (seat: Seat): Seat => {
      const done = metrics?.inflight(requestKind(info));
      return {
        release: () => {
          done?.();
          seat.release();
        },
        away: seat.away,
      };
    };
    // A free slot is taken at once; only a full tenant queues (and may be refused).
    const free = this.queues.tryAcquire(tenant.name, limit);
    if (free !== undefined) return counted(free);
    const gone = new AbortController();
    // A StatusError, not a 500: nobody reads it, but the audit event and metrics record a 429.
    const onClose = (): void =>
      gone.abort(tooManyRequests(this.retryAfterSeconds, "the client went away while waiting for a slot"));
    res.once("close", onClose);
    let seat: Seat;
    try {
      seat = await this.queues.acquire(tenant.name, gone.signal, limit);
    } finally {
      res.off("close", onClose);
    }
    return counted(seat);
  }

  /** Takes one of the instance's watch slots; the answer gives it back (idempotent). */
  openWatch(instance: TenantInstance): () => void {
    const max = instance.tenant.policy?.quotas?.maxWatches;
    const open = this.watches.get(instance) ?? 0;
    if (max !== undefined && open >= max) {
      throw tooManyRequests(
        this.retryAfterSeconds,
        `too many watches: tenant ${instance.tenant.name} has ${open} open, limited: ${max}`,
      );
    }
    this.watches.set(instance, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.watches.set(instance, (this.watches.get(instance) ?? 1) - 1);
    };
  }

  /** Open watches of an instance (for tests and metrics). */
  openWatches(instance: TenantInstance): number {
    return this.watches.get(instance) ?? 0;
  }

  /** Requests of a tenant in flight and waiting (for tests and metrics). */
  load(tenant: string): { inflight: number; queued: number } {
    return this.queues.load(tenant);
  }
}
