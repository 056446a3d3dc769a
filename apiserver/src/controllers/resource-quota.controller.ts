// The tenant's ResourceQuota controller (kube-controller-manager's resourcequota controller,
// for object counts): status.hard mirrors spec.hard and status.used counts what the namespace
// holds, recomputed whenever a quota or an object in a namespace with quotas changes.

import type { Logger } from "pino";
import { quotaRef, usageOf, type QuotaObject } from "../admission/resource-quota.ts";
import type { KubeObject } from "../registry/printers.ts";
import type { CacheEvent } from "../registry/watch-cache.ts";
import { resourcePrefix, tenantPrefix } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { logKeys, queueFailureLogger } from "./log.ts";
import { hasCode, storeFor } from "./tenant-objects.ts";
import { WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

/** Brings one quota's status up to date (key `<namespace>/<name>`). */
async function reconcileQuota(instance: TenantInstance, key: string): Promise<void> {
  const [namespace = "", name = ""] = key.split("/");
  const prefix = resourcePrefix({ uid: instance.tenant.uid }, quotaRef, namespace);
  const quota = instance.cache.get(`${prefix}${name}`)?.obj as QuotaObject | undefined;
  if (quota === undefined || quota.metadata?.deletionTimestamp !== undefined) return;
  const status = { hard: { ...(quota.spec?.hard ?? {}) }, used: usageOf(instance, quota, namespace) };
  if (JSON.stringify(status) === JSON.stringify(quota.status ?? {})) return;
  const def = instance.resources.lookup("", "v1", "resourcequotas");
  if (def === undefined) return;
  try {
    await storeFor(instance, def).update(
      namespace,
      name,
      (current: KubeObject) => ({
        ...current,
        status: {
          hard: { ...((current as QuotaObject).spec?.hard ?? {}) },
          used: usageOf(instance, current, namespace),
        },
      }),
      { dryRun: false, subresource: "status" },
    );
  } catch (err) {
    if (hasCode(err, 404)) return;
    throw err;
  }
}

/** One tenant's quota controller. Started and stopped with the tenant's controllers. */
export class ResourceQuotaController {
  private readonly queue: WorkQueue;
  private readonly quotasPrefix: string;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly instance: TenantInstance,
    log: Logger,
    opts: WorkQueueOptions = {},
  ) {
    this.quotasPrefix = resourcePrefix({ uid: instance.tenant.uid }, quotaRef);
    this.queue = new WorkQueue(
      (key) => reconcileQuota(instance, key),
      queueFailureLogger(log.child({ [logKeys.controller]: "resourcequota" })),
      opts,
    );
  }

  start(): void {
    // Subscribed and listed in the same tick: no change is missed.
    this.unsubscribe = this.instance.cache.subscribe(
      tenantPrefix({ uid: this.instance.tenant.uid }),
      (events) => this.onEvents(events),
    );
    for (const q of this.instance.cache.list(this.quotasPrefix)) this.queueQuota(q.obj);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.shutdown();
  }

  /** Keys waiting, running or delayed (0 when idle). */
  get pending(): number {
    return this.queue.length;
  }

  private queueQuota(q: KubeObject): void {
    const m = q.metadata;
    if (m?.name !== undefined && m.namespace !== undefined) this.queue.add(`${m.namespace}/${m.name}`);
  }

  private onEvents(events: readonly CacheEvent[]): void {
    const namespaces = new Set<string>();
    for (const e of events) {
      if (e.key.startsWith(this.quotasPrefix)) {
        if (e.type !== "DELETED") this.queueQuota(e.object.obj);
        continue;
      }
      const ns = e.object.obj.metadata?.namespace;
      if (ns !== undefined && ns !== "") namespaces.add(ns);
    }
    for (const ns of namespaces) {
      for (const q of this.instance.cache.list(`${this.quotasPrefix}${ns}/`)) this.queueQuota(q.obj);
    }
  }
}
