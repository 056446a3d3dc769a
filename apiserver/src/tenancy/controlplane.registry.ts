// The ControlPlane registry of one shard: watches the ControlPlanes in the root tenant's cache
// and keeps the shard's TenantManager in step (tenants placed on this shard registered, replaced
// when their policy changes, refused while being deleted, removed when gone or placed elsewhere),
// and writes their status. It also watches the shards' leases (shard-membership.ts): the first
// live shard by name places new tenants and those of dead shards; a change of the live shards
// queues every ControlPlane. Watch plumbing only; the decisions are in
// controlplane.reconcile.ts. A change of an organization queues its projects too (their
// effective policy derives from it). It is also an in-process TenantDirectory: each tenant's
// uid, phase, shard and policy, answered from memory. A timer queues, once per usage interval,
// the tenants active here whose status.usage is out of date.

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
import { ShardMembership, shardNamespace, type LeaseObject } from "./shard-membership.ts";

export interface ControlPlaneRegistryOptions {
  readonly tenants: TenantManager;
  readonly storage: Storage;
  /** The shard's name: it serves the tenants whose status.shard names it. */
  readonly shard: string;
  /** Where clients reach the tenants: status.endpoint is `<serverURL>/clusters/<tenant>`. */
  readonly serverURL: string;
  /** This shard's own URL (its lease's), for shardURL; default serverURL. */
  readonly shardURL?: string;
  readonly log: Logger;
  readonly queue?: WorkQueueOptions;
  /** Delay before re-subscribing when the root tenant's cache failed (default 1 s). */
  readonly restartDelayMs?: number;
  /** The least time between two writes of a tenant's status.usage (default 5 s). */
  readonly usageIntervalMs?: number;
}

/** status.usage of a tenant is written at most this often by default. */
export const defaultUsageIntervalMs = 5_000;

/** How often the registry looks for leases that expired (shards that died). */
const livenessCheckMs = 1_000;

const controlPlanesPrefix = resourcePrefix(
  { uid: rootTenant.uid },
  { group: controlPlaneGroup, resource: controlPlanePlural },
);
const shardLeasesPrefix = resourcePrefix(
  { uid: rootTenant.uid },
  { group: "coordination.k8s.io", resource: "leases" },
  shardNamespace,
);

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
  private livenessTimer: NodeJS.Timeout | undefined;
  private readonly membership = new ShardMembership();
  /**
   * The project ControlPlanes of each organization (`acme` → {`acme.web`}), kept from the root's
   * events, so that an organization's change queues its projects without a scan of them all.
   */
  private readonly projectsOf = new Map<string, Set<string>>();
  /** The live shards as last seen (sorted names, joined): a change queues every ControlPlane. */
  private liveShards = "";
  /** Placements run one at a time, each seeing the ones before it (least-loaded needs it). */
  private placing: Promise<unknown> = Promise.resolve();
  private root: TenantInstance | undefined;
  private unsubscribe: (() => void) | undefined;
  private unsubscribeLeases: (() => void) | undefined;
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
    const prefix = controlPlanesPrefix;
    // Subscribed and listed in the same tick: no event is missed.
    this.unsubscribe = root.cache.subscribe(prefix, (events) => {
      for (const e of events) {
        this.trackProject(e.object.obj.metadata?.name, e.type === "DELETED");
        this.queueName(e.object.obj.metadata?.name);
      }
      this.notify();
    });
    this.unsubscribeLeases = root.cache.subscribe(shardLeasesPrefix, (events) => {
      let changed = false;
      for (const e of events) {
        const lease = e.object.obj as LeaseObject;
        changed =
          (e.type === "DELETED" ? this.membership.forget(lease) : this.membership.observe(lease)) || changed;
      }
      if (changed) this.notify();
      this.checkLiveness();
    });
    this.membership.reset(root.cache.list(shardLeasesPrefix).map((c) => c.obj as LeaseObject));
    this.liveShards = this.liveShardNames().join(",");
    this.projectsOf.clear();
    for (const c of root.cache.list(prefix)) this.trackProject(c.obj.metadata?.name, false);
    for (const c of root.cache.list(prefix)) this.queueName(c.obj.metadata?.name);
    if (this.livenessTimer === undefined) {
      this.livenessTimer = setInterval(() => this.checkLiveness(), livenessCheckMs);
      this.livenessTimer.unref(); // stop() clears it
    }
    if (this.usageTimer === undefined && this.usageIntervalMs > 0) {
      this.usageTimer = setInterval(() => this.queueStaleUsage(), this.usageIntervalMs);
      this.usageTimer.unref(); // stop() clears it
    }
    // The root's cache failed (its instance is rebuilt on the next use): start over on the new one.
    this.offClose = root.cache.onClose(() => {
      this.unsubscribe?.();
      this.unsubscribeLeases?.();
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
    clearInterval(this.livenessTimer);
    this.livenessTimer = undefined;
    this.unsubscribe?.();
    this.unsubscribeLeases?.();
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

  /** A shard's URL: this shard's own, another's from its lease. */
  shardURL(shard: string): string | undefined {
    return shard === this.opts.shard
      ? (this.opts.shardURL ?? this.opts.serverURL)
      : this.membership.url(shard);
  }

  /** The live shards by name, this one always among them (it runs). */
  private liveShardNames(): string[] {
    return [...new Set([...this.membership.liveShards(), this.opts.shard])].sort();
  }

  /** Queues every ControlPlane when the live shards changed (a shard came, died or left). */
  private checkLiveness(): void {
    if (this.stopped || this.root === undefined) return;
    const live = this.liveShardNames().join(",");
    if (live === this.liveShards) return;
    this.opts.log.info({ shards: live, before: this.liveShards }, "live shards changed");
    this.liveShards = live;
    for (const c of this.root.cache.list(controlPlanesPrefix)) this.queue.add(c.obj.metadata?.name ?? "");
    this.notify();
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
    for (const project of this.projectsOf.get(name) ?? []) this.queue.add(project);
  }

  /** Keeps projectsOf: `name` (a project's ControlPlane, `org.project`) is there, or is gone. */
  private trackProject(name: string | undefined, gone: boolean): void {
    const dot = name?.indexOf(".") ?? -1;
    if (name === undefined || dot < 0) return;
    const org = name.slice(0, dot);
    const projects = this.projectsOf.get(org);
    if (!gone) {
      if (projects === undefined) this.projectsOf.set(org, new Set([name]));
      else projects.add(name);
    } else if (projects !== undefined) {
      projects.delete(name);
      if (projects.size === 0) this.projectsOf.delete(org);
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
      shards: {
        isLive: (shard) => shard === this.opts.shard || this.membership.isLive(shard),
        liveShards: () => this.liveShardNames(),
      },
      serialized: (fn) => {
        const run = this.placing.then(fn, fn);
        this.placing = run.catch(() => undefined);
        return run;
      },
    };
  }
}
