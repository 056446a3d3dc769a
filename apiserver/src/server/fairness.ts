// The shard's fairness stage (position 6 of the handler chain): each tenant's requests in
// flight are limited by its policy's `maxRequestsInFlight` (the server's default otherwise),
// all tenants' together by `maxTotalRequestsInFlight`, with fair queuing across tenants and a
// short queue per tenant shared with the router's implementation (router/fairness.ts); past it
// a 429 TooManyRequests with Retry-After. Watches are long-running and exempt from that limit
// (kube's max-in-flight filter exempts them too), but each tenant instance holds at most
// `maxWatches` open watches: one more is a 429 as well.

import type { ServerResponse } from "node:http";
import { tooManyRequests } from "../apierrors/status.ts";
import { requestKind, type ApiserverMetrics } from "../metrics/index.ts";
import type { RequestInfo } from "../request/request-info.ts";
import { TenantFairness } from "../router/fairness.ts";
import type { Tenant, TenantInstance } from "../tenancy/instance.ts";

/** kube-apiserver's --max-requests-inflight default is 400 for a whole server; this is per tenant. */
export const defaultMaxRequestsInFlight = 64;

/** All tenants' requests served at once by default (see ShardFairnessOptions). */
export const defaultMaxTotalRequestsInFlight = 8;

export interface ShardFairnessOptions {
  /** A tenant's requests served at once when its policy sets no limit (default 64). */
  readonly maxRequestsInFlight?: number;
  /**
   * All tenants' requests served at once (default 8: small, as router/fairness.ts says, but twice
   * a router's total per shard, so that one router's requests never wait here a second time).
   */
  readonly maxTotalRequestsInFlight?: number;
  /** A tenant's requests waiting past its maxRequestsInFlight (default 128); more are refused. */
  readonly maxQueued?: number;
  /** Longest wait in the queue before a 429 (default 5 s). */
  readonly maxWaitMs?: number;
  /** The Retry-After of a 429, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
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
    });
  }

  /**
   * Admits one request of `tenant`: waits for a slot (or, for a watch, takes one of the
   * instance's watch slots) and returns what releases it, to be called once the request is
   * answered (for a watch: once it ends). Throws a 429 StatusError past the limits. A request
   * whose client goes away while it waits is given up (`res` closing).
   */
  async admit(
    tenant: Tenant,
    info: RequestInfo,
    res: ServerResponse,
    instance: () => Promise<TenantInstance>,
    metrics?: ApiserverMetrics,
  ): Promise<() => void> {
    if (info.verb === "watch") return this.openWatch(await instance());
    const limit = tenant.policy?.quotas?.maxRequestsInFlight ?? this.maxInflight;
    const counted = (release: () => void): (() => void) => {
      const done = metrics?.inflight(requestKind(info));
      return () => {
        done?.();
        release();
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
    let release: () => void;
    try {
      release = await this.queues.acquire(tenant.name, gone.signal, limit);
    } finally {
      res.off("close", onClose);
    }
    return counted(release);
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
