// Watch plumbing of the tenant's ClusterRole aggregation controller: whenever a ClusterRole
// changes, every ClusterRole with an aggregationRule is queued (a change to any role may
// change what a selector picks). Decisions are in clusterrole-aggregation.reconcile.ts.

import type { Logger } from "pino";
import type { ClusterRole } from "../authz/rbac.authorizer.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { clusterRolesPrefix, reconcileAggregation } from "./clusterrole-aggregation.reconcile.ts";
import { logKeys, queueFailureLogger } from "./log.ts";
import { WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

/** One tenant's aggregation controller. Started and stopped with the tenant's controllers. */
export class ClusterRoleAggregationController {
  private readonly queue: WorkQueue;
  private readonly prefix: string;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly instance: TenantInstance,
    log: Logger,
    opts: WorkQueueOptions = {},
  ) {
    this.prefix = clusterRolesPrefix(instance);
    this.queue = new WorkQueue(
      (name) => reconcileAggregation(instance, name),
      queueFailureLogger(log.child({ [logKeys.controller]: "clusterrole-aggregation" })),
      opts,
    );
  }

  start(): void {
    // Subscribed and listed in the same tick: no change is missed.
    this.unsubscribe = this.instance.cache.subscribe(this.prefix, () => this.queueAggregating());
    this.queueAggregating();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.shutdown();
  }

  /** Keys waiting, running or delayed (0 when idle). */
  get pending(): number {
    return this.queue.length;
  }

  private queueAggregating(): void {
    for (const c of this.instance.cache.list(this.prefix)) {
      const role = c.obj as unknown as ClusterRole;
      if (role.aggregationRule !== undefined && role.aggregationRule !== null) {
        this.queue.add(role.metadata.name);
      }
    }
  }
}
