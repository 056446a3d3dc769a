// Watch plumbing of the tenant's namespace controller: a namespace is queued when it is
// being deleted, and again whenever anything inside it changes (an object gone, a finalizer
// removed), so its deletion moves on as soon as it can. The decisions are in
// namespace.reconcile.ts.

import type { Logger } from "pino";
import type { CacheEvent } from "../registry/watch-cache.ts";
import { resourcePrefix, tenantPrefix } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { logKeys, queueFailureLogger } from "./log.ts";
import { reconcileNamespace } from "./namespace.reconcile.ts";
import { WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

/** Upstream requeues a namespace whose content waits on finalizers after about half of 15 s. */
const defaultRecheckMs = 7_500;

export interface NamespaceControllerOptions extends WorkQueueOptions {
  /** Look again after this long while content with finalizers remains (events usually come first). */
  readonly recheckMs?: number;
}

/** One tenant's namespace controller. Started and stopped by the tenant instance (controllers/index.ts). */
export class NamespaceController {
  private readonly queue: WorkQueue;
  private readonly namespacesPrefix: string;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly instance: TenantInstance,
    log: Logger,
    opts: NamespaceControllerOptions = {},
  ) {
    const recheckMs = opts.recheckMs ?? defaultRecheckMs;
    this.namespacesPrefix = resourcePrefix(
      { uid: instance.tenant.uid },
      { group: "", resource: "namespaces" },
    );
    this.queue = new WorkQueue(
      (name) => reconcileNamespace({ instance, log: log.child({ [logKeys.key]: name }), recheckMs }, name),
      queueFailureLogger(log),
      opts,
    );
  }

  start(): void {
    const prefix = tenantPrefix({ uid: this.instance.tenant.uid });
    // Subscribed and listed in the same tick: no event is missed or seen twice.
    this.unsubscribe = this.instance.cache.subscribe(prefix, (events) => this.onEvents(events));
    for (const ns of this.instance.cache.list(this.namespacesPrefix)) {
      const meta = ns.obj.metadata;
      if (meta?.deletionTimestamp !== undefined && meta.name !== undefined) this.queue.add(meta.name);
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.shutdown();
  }

  /** Keys waiting, running or delayed (0 when idle). */
  get pending(): number {
    return this.queue.length;
  }

  private onEvents(events: readonly CacheEvent[]): void {
    for (const e of events) {
      const meta = e.object.obj.metadata;
      if (e.key.startsWith(this.namespacesPrefix)) {
        if (e.type !== "DELETED" && meta?.deletionTimestamp !== undefined && meta.name !== undefined) {
          this.queue.add(meta.name);
        }
        continue;
      }
      const namespace = meta?.namespace;
      if (namespace === undefined || namespace === "") continue;
      const ns = this.instance.cache.get(`${this.namespacesPrefix}${namespace}`);
      if (ns?.obj.metadata?.deletionTimestamp !== undefined) this.queue.add(namespace);
    }
  }
}
