// The ControlPlane registry of one shard: watches the ControlPlanes in the root tenant's cache
// and keeps the shard's TenantManager in step (tenants registered, replaced when their policy
// changes, refused while being deleted, removed when gone), and writes their status. Watch
// plumbing only; the decisions are in controlplane.reconcile.ts. A change of an organization
// queues its projects too (their effective policy derives from it). It is also the router's
// TenantDirectory: each tenant's uid, phase, shard and policy, answered from memory. A timer
// queues, once per usage interval, the tenants active here whose status.usage is out of date.

import type { Logger } from "pino";
import { logKeys, queueFailureLogger } from "../controllers/log.ts";
import { WorkQueue, type WorkQueueOptions } from "../controllers/work-queue.ts";
import type { RoutedTenant, TenantDirectory, TenantPhase } from "../router/tenant-directory.ts";
import type { Storage } from "../storage/interface.ts";
import { objectKey, resourcePrefix } from "../storage/keys.ts";
import { controlPlaneGroup, controlPlanePlural, type ControlPlane } from "./controlplane.types.ts";
import { controlPlaneOfTenant } from "./names.ts";
import {
  currentUsage,
  reconcileControlPlane,
  sameUsage,
  type ControlPlaneReconcileContext,
} from "./controlplane.reconcile.ts";
import { rootTenant, type TenantInstance, type TenantManager } from "./instance.ts";

export interface ControlPlaneRegistryOptions {
  readonly tenants: TenantManager;
  readonly storage: Storage;
  /** The shard's name, written to status.shard (one shard for now). */
  readonly shard: string;
  /** Where clients reach the tenants: status.endpoint is `<serverURL>/clusters/<tenant>`. */
  readonly serverURL: string;
  readonly log: Logger;
  readonly queue?: WorkQueueOptions;
  /** Delay before re-subscribing when the root tenant's cache failed (default 1 s). */
  readonly restartDelayMs?: number;
  /** The least time between two writes of a tenant's status.usage (default 5 s). */
  readonly usageIntervalMs?: number;
}

/** status.usage of a tenant is written at most this often by default. */
export const defaultUsageIntervalMs = 5_000;

/**
 * Started by `multiplane up` once the root tenant serves the ControlPlane CRD; stopped before
 * the TenantManager closes. Reads the root tenant's cache, writes ControlPlanes through its store.
 */
export class ControlPlaneRegistry implements TenantDirectory {
  private readonly queue: WorkQueue;
  private readonly listeners = new Set<() => void>();
  private readonly managed = new Map<string, string>();
  private readonly usageWrittenAt = new Map<string, number>();
  private readonly usageIntervalMs: number;
  private usageTimer: NodeJS.Timeout | undefined;
  private root: TenantInstance | undefined;
  private unsubscribe: (() => void) | undefined;
  private offClose: (() => void) | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: ControlPlaneRegistryOptions) {
    this.usageIntervalMs = opts.usageIntervalMs ?? defaultUsageIntervalMs;
    const log = opts.log.child({ [logKeys.controller]: "controlplane" });
    this.queue = new WorkQueue(
      async (name) => {
        try {
          return await reconcileControlPlane(this.context(log), name);
        } finally {
          this.notify(); // the tenant's registration may have changed
        }
      },
      queueFailureLogger(log),
      { concurrency: 4, ...opts.queue },
    );
  }

  /** Subscribes to the root tenant's ControlPlanes and queues every one. */
  async start(): Promise<void> {
    const root = await this.opts.tenants.instance(rootTenant);
    if (this.stopped) return;
    this.root = root;
    const prefix = resourcePrefix(
      { uid: rootTenant.uid },
      { group: controlPlaneGroup, resource: controlPlanePlural },
    );
    // Subscribed and listed in the same tick: no event is missed.
    this.unsubscribe = root.cache.subscribe(prefix, (events) => {
      for (const e of events) this.queueName(e.object.obj.metadata?.name);
      this.notify();
    });
    for (const c of root.cache.list(prefix)) this.queueName(c.obj.metadata?.name);
    if (this.usageTimer === undefined && this.usageIntervalMs > 0) {
      this.usageTimer = setInterval(() => this.queueStaleUsage(), this.usageIntervalMs);
      this.usageTimer.unref(); // stop() clears it
    }
    // The root's cache failed (its instance is rebuilt on the next use): start over on the new one.
    this.offClose = root.cache.onClose(() => {
      this.unsubscribe?.();
      if (this.stopped) return;
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.start().catch((err: unknown) =>
          this.opts.log.error({ [logKeys.err]: err }, "registry restart failed"),
        );
      }, this.opts.restartDelayMs ?? 1_000);
      this.restartTimer.unref();
    });
  }

  /** Stops watching and waits for reconciles in flight; the tenants stay registered. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.usageTimer);
    this.usageTimer = undefined;
    this.unsubscribe?.();
    this.offClose?.();
    await this.queue.shutdown();
  }

  /** Keys waiting, running or delayed (0 when idle). */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * The tenant as routers see it: the root tenant always Ready here; another from its
   * ControlPlane — Terminating once being deleted, Ready only once this shard serves it under
   * the ControlPlane's UID (Pending before), with the policy it is served with.
   */
  lookup(name: string): RoutedTenant | undefined {
    if (name === rootTenant.name)
      return { name, uid: rootTenant.uid, phase: "Ready", shard: this.opts.shard };
    let cpName: string;
    try {
      cpName = controlPlaneOfTenant(name);
    } catch {
      return undefined; // no ControlPlane can name it
    }
    const key = objectKey(
      { uid: rootTenant.uid },
      { group: controlPlaneGroup, resource: controlPlanePlural },
      undefined,
      cpName,
    );
    const cp = this.root?.cache.get(key)?.obj as ControlPlane | undefined;
    const uid = cp?.metadata?.uid;
    if (cp === undefined || uid === undefined) return undefined;
    const served = this.opts.tenants.lookup(name);
    const current = served?.uid === uid ? served : undefined;
    const phase: TenantPhase =
      cp.metadata?.deletionTimestamp !== undefined || current?.terminating === true
        ? "Terminating"
        : current !== undefined && cp.status?.phase === "Ready"
          ? "Ready"
          : "Pending";
    return {
      name,
      uid,
      phase,
      shard: cp.status?.shard ?? this.opts.shard,
      ...(current?.policy !== undefined ? { policy: current.policy } : {}),
    };
  }

  /** This shard's URL (one shard for now). */
  shardURL(shard: string): string | undefined {
    return shard === this.opts.shard ? this.opts.serverURL : undefined;
  }

  subscribe(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private queueName(name: string | undefined): void {
    if (name === undefined) return;
    this.queue.add(name);
    // An organization's change reaches its projects' effective policy.
    if (!name.includes(".") && this.root !== undefined) {
      const prefix = resourcePrefix(
        { uid: rootTenant.uid },
        { group: controlPlaneGroup, resource: controlPlanePlural },
      );
      for (const c of this.root.cache.list(`${prefix}${name}.`)) this.queueName(c.obj.metadata?.name);
    }
  }

  /**
   * Queues the ControlPlanes of tenants active on this shard whose status.usage differs from
   * their cache's count (O(active tenants), from memory; the reconciler writes it).
   */
  private queueStaleUsage(): void {
    const root = this.root;
    if (root === undefined || this.stopped) return;
    for (const tenantName of this.managed.keys()) {
      let cpName: string;
      try {
        cpName = controlPlaneOfTenant(tenantName);
      } catch {
        continue;
      }
      const key = objectKey(
        { uid: rootTenant.uid },
        { group: controlPlaneGroup, resource: controlPlanePlural },
        undefined,
        cpName,
      );
      const cp = root.cache.get(key)?.obj as ControlPlane | undefined;
      const uid = cp?.metadata?.uid;
      if (uid === undefined || cp?.metadata?.deletionTimestamp !== undefined) continue;
      const usage = currentUsage(this.opts.tenants, tenantName, uid);
      if (usage !== undefined && !sameUsage(usage, cp?.status?.usage)) this.queue.add(cpName);
    }
  }

  private context(log: Logger): ControlPlaneReconcileContext {
    return {
      root: this.root!,
      tenants: this.opts.tenants,
      storage: this.opts.storage,
      shard: this.opts.shard,
      serverURL: this.opts.serverURL,
      log,
      managed: this.managed,
      usageWrittenAt: this.usageWrittenAt,
      usageIntervalMs: this.usageIntervalMs,
      now: Date.now,
    };
  }
}
