// Watch plumbing of the tenant's garbage collector: keeps the ownership index current from
// the tenant cache's events and turns each event into the keys whose state it may change.
// The decisions are in garbage-collector.reconcile.ts.

import type { Logger } from "pino";
import type { CacheEvent, CachedObject } from "../registry/watch-cache.ts";
import { tenantPrefix } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { reconcileGarbage } from "./garbage-collector.reconcile.ts";
import { logKeys, queueFailureLogger } from "./log.ts";
import { OwnerIndex, ownerRefsOf } from "./owner-index.ts";
import { foregroundFinalizer, orphanFinalizer } from "./tenant-objects.ts";
import { WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

/** Whether the collector has anything to decide about this object's own state. */
function needsCollector(c: CachedObject): boolean {
  const meta = c.obj.metadata;
  if ((meta?.ownerReferences ?? []).length > 0) return true;
  return (
    meta?.deletionTimestamp !== undefined &&
    (meta.finalizers ?? []).some((f) => f === orphanFinalizer || f === foregroundFinalizer)
  );
}

/** One tenant's garbage collector. Started and stopped by the tenant instance (controllers/index.ts). */
export class GarbageCollector {
  private readonly index = new OwnerIndex();
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly instance: TenantInstance,
    log: Logger,
    queueOptions: WorkQueueOptions = {},
  ) {
    this.queue = new WorkQueue(
      (key) =>
        reconcileGarbage(
          {
            instance,
            index: this.index,
            enqueue: (k) => this.queue.add(k),
            log: log.child({ [logKeys.key]: key }),
          },
          key,
        ),
      queueFailureLogger(log),
      queueOptions,
    );
  }

  start(): void {
    const prefix = tenantPrefix({ uid: this.instance.tenant.uid });
    // Subscribed and listed in the same tick: no event is missed or seen twice.
    this.unsubscribe = this.instance.cache.subscribe(prefix, (events) => this.onEvents(events));
    const all = this.instance.cache.list(prefix);
    for (const c of all) this.index.put(c);
    for (const c of all) if (needsCollector(c)) this.queue.add(c.key);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.shutdown();
  }

  /** Keys waiting or running (0 when idle). */
  get pending(): number {
    return this.queue.length;
  }

  private onEvents(events: readonly CacheEvent[]): void {
    for (const e of events) {
      this.index.apply([e]);
      if (e.type !== "DELETED") {
        if (needsCollector(e.object)) this.queue.add(e.key);
      } else {
        // Its dependents may have lost their last owner.
        const uid = e.object.obj.metadata?.uid;
        if (uid !== undefined) for (const dep of this.index.dependentsOf(uid)) this.queue.add(dep);
      }
      // Owners being deleted wait for (foreground) or rewrite (orphan) this object: look again.
      for (const ref of [...ownerRefsOf(e.object), ...ownerRefsOf(e.prev)]) {
        const owner = this.index.keyOf(ref.uid);
        if (owner !== undefined && this.instance.cache.get(owner)?.obj.metadata?.deletionTimestamp) {
          this.queue.add(owner);
        }
      }
    }
  }
}
