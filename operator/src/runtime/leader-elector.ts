// Leader election on a coordination.k8s.io/v1 Lease, with client-go's leaderelection
// semantics so that our replicas and client-go's tools read the Lease alike:
//  - a candidate takes the Lease only when it is released (no holderIdentity) or expired,
//    where "expired" is judged by this process's clock: leaseDurationSeconds after it last
//    saw the record change (not by renewTime, so clock skew between machines does not matter);
//  - every write is an optimistic update carrying the resourceVersion read, so two
//    candidates can never both win;
//  - the leader renews every retryPeriod; when it cannot renew for renewDeadline it stops
//    leading (its signal aborts) before the Lease can expire for the others
//    (renewDeadline < leaseDuration);
//  - stop() ends the work first, then releases the Lease (holderIdentity cleared,
//    leaseDurationSeconds 1), so that the next candidate takes over at once.

import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { sleep } from "./backoff.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { isStatus, RestClient } from "./rest.ts";

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  /** The Lease's name: one per group of replicas doing the same work. */
  readonly name: string;
  /** Unique per replica (a pod name, or hostname plus a random suffix). */
  readonly identity: string;
  /** How long others wait after the last renewal they saw before taking over; default 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it stops leading; default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Between attempts to acquire or renew; default 2 s. */
  readonly retryPeriodMs?: number;
  readonly metrics?: OperatorMetrics;
  readonly log: Logger;
}

/** kube's MicroTime: RFC 3339 with exactly six fractional digits. */
const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

/** Up to 20 % more than `ms`, so that candidates do not retry in step (client-go's JitterFactor 1.2). */
const jittered = (ms: number): number => ms * (1 + Math.random() * 0.2);

export class LeaderElector {
  private readonly rest: RestClient;
  private readonly path: string;
  private readonly collectionPath: string;
  private readonly identity: string;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly metrics: OperatorMetrics | undefined;
  private readonly log: Logger;
  /** The Lease as last read or written (its resourceVersion makes the next write optimistic). */
  private lease: Lease | undefined;
  /** The spec last seen, as JSON, and when (this process's clock) it was first seen so. */
  private observed: { spec: string; at: number } | undefined;
  private leading = false;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.rest = new RestClient(opts.kc);
    this.collectionPath = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases`;
    this.path = `${this.collectionPath}/${encodeURIComponent(opts.name)}`;
    this.identity = opts.identity;
    this.leaseDurationSeconds = Math.ceil((opts.leaseDurationMs ?? 15_000) / 1000);
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationSeconds * 1000) {
      throw new Error("leaseDurationMs must be greater than renewDeadlineMs");
    }
    if (this.retryPeriodMs * 1.2 >= this.renewDeadlineMs) {
      throw new Error("renewDeadlineMs must be greater than retryPeriodMs * 1.2");
    }
    this.metrics = opts.metrics;
    this.log = opts.log.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.metrics?.leaderStatus.set({ name: opts.name }, 0);
  }

  /** Whether this replica holds the Lease and has renewed it within renewDeadline. */
  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until stop(): each time it wins it calls `onStartedLeading` with a signal that
   * aborts when leadership ends (renewal failed, or stop()). The work must end when the signal
   * aborts; the elector waits for its promise before campaigning again or releasing.
   */
  run(onStartedLeading: (signal: AbortSignal) => Promise<void> | void): Promise<void> {
    if (this.running !== undefined) throw new Error("LeaderElector.run called twice");
    this.running = this.campaign(onStartedLeading);
    return this.running;
  }

  /** Stops campaigning; when leading, ends the work, then releases the Lease. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async campaign(onStartedLeading: (signal: AbortSignal) => Promise<void> | void): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      if (!(await this.acquire())) break;
      this.setLeading(true);
      this.log.info("became leader");
      const leadership = new AbortController();
      const work = (async () => onStartedLeading(leadership.signal))().catch((err: unknown) =>
        this.log.error({ err }, "leader work failed"),
      );
      await this.renewWhileLeading();
      this.setLeading(false);
      leadership.abort();
      await work;
      if (stop.aborted) await this.release();
      else this.log.warn("lost leadership: the Lease was not renewed within renewDeadline");
    }
  }

  /** Tries every retryPeriod until the Lease is ours (true) or stop() (false). */
  private async acquire(): Promise<boolean> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      if (await this.tryAcquireOrRenew(AbortSignal.any([stop, AbortSignal.timeout(this.renewDeadlineMs)]))) {
        return true;
      }
      await sleep(jittered(this.retryPeriodMs), stop);
    }
    return false;
  }

  /** Renews every retryPeriod; returns on stop(), or when a renewal did not succeed in renewDeadline. */
  private async renewWhileLeading(): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      await sleep(this.retryPeriodMs, stop);
      const deadline = Date.now() + this.renewDeadlineMs;
      let renewed = false;
      while (!stop.aborted && !renewed && Date.now() < deadline) {
        const timeout = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
        renewed = await this.tryAcquireOrRenew(AbortSignal.any([stop, timeout]));
        if (!renewed) await sleep(Math.min(this.retryPeriodMs, Math.max(0, deadline - Date.now())), stop);
      }
      if (!renewed) return;
    }
  }

  /** One attempt, as client-go's tryAcquireOrRenew: true when this replica holds the Lease now. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = microTime(new Date());
    let lease: Lease;
    try {
      lease = await this.rest.request<Lease>(this.path, { signal });
    } catch (err) {
      if (!isStatus(err, 404)) {
        this.log.warn({ err }, "reading the Lease failed");
        return false;
      }
      return this.write(
        "POST",
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: this.spec({ acquireTime: now, renewTime: now, leaseTransitions: 0 }),
        },
        signal,
      );
    }
    const old = lease.spec ?? {};
    this.observe(lease);
    const holder = old.holderIdentity ?? "";
    const mine = holder === this.identity;
    if (holder !== "" && !mine && !this.expired(old)) return false;
    const transitions = old.leaseTransitions ?? 0;
    return this.write(
      "PUT",
      {
        ...lease,
        spec: this.spec(
          mine
            ? { acquireTime: old.acquireTime ?? now, renewTime: now, leaseTransitions: transitions }
            : { acquireTime: now, renewTime: now, leaseTransitions: transitions + 1 },
        ),
      },
      signal,
    );
  }

  private spec(times: { acquireTime: string; renewTime: string; leaseTransitions: number }): LeaseSpec {
    return { holderIdentity: this.identity, leaseDurationSeconds: this.leaseDurationSeconds, ...times };
  }

  /** Remembers when the record last changed, by this process's clock. */
  private observe(lease: Lease): void {
    this.lease = lease;
    const spec = JSON.stringify(lease.spec ?? {});
    if (this.observed?.spec !== spec) this.observed = { spec, at: Date.now() };
  }

  /** Whether the holder has not renewed for its leaseDurationSeconds, as seen from here. */
  private expired(spec: LeaseSpec): boolean {
    const seenAt = this.observed?.at ?? Date.now();
    return seenAt + (spec.leaseDurationSeconds ?? 0) * 1000 <= Date.now();
  }

  /** Creates or updates (optimistically) the Lease; false when someone else wrote first. */
  private async write(method: "POST" | "PUT", lease: Lease, signal: AbortSignal): Promise<boolean> {
    try {
      const written = await this.rest.request<Lease>(method === "POST" ? this.collectionPath : this.path, {
        method,
        body: lease,
        signal,
      });
      this.observe(written);
      return true;
    } catch (err) {
      // 409: another candidate wrote between our read and write; it wins this round.
      if (!isStatus(err, 409)) this.log.warn({ err }, "writing the Lease failed");
      return false;
    }
  }

  /** Hands the Lease back (client-go's release): no holder, so the next candidate takes it at once. */
  private async release(): Promise<void> {
    const lease = this.lease;
    if (lease?.spec?.holderIdentity !== this.identity) return;
    const now = microTime(new Date());
    const released = await this.write(
      "PUT",
      {
        ...lease,
        spec: {
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: lease.spec.leaseTransitions ?? 0,
        },
      },
      AbortSignal.timeout(this.renewDeadlineMs),
    );
    if (released) this.log.info("released the Lease");
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.metrics?.leaderStatus.set({ name: this.opts.name }, leading ? 1 : 0);
  }
}
