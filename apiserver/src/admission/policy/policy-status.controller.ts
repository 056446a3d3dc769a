// Watch plumbing of the ValidatingAdmissionPolicy status controller: every policy is queued
// when it is added or changed (and all of them at start); policy-status.reconcile.ts decides.

import type { Logger } from "pino";
import { logKeys, queueFailureLogger } from "../../controllers/log.ts";
import { WorkQueue, type WorkQueueOptions } from "../../controllers/work-queue.ts";
import { resourcePrefix } from "../../storage/keys.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import { reconcilePolicyStatus } from "./policy-status.reconcile.ts";
import { admissionGroup, policiesResource } from "./policy.types.ts";

/** One tenant's policy status controller. Started and stopped with the tenant's controllers (controllers/index.ts). */
export class PolicyStatusController {
  private readonly queue: WorkQueue;
  private readonly prefix: string;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly instance: TenantInstance,
    log: Logger,
    opts: WorkQueueOptions = {},
  ) {
    this.prefix = resourcePrefix(
      { uid: instance.tenant.uid },
      { group: admissionGroup, resource: policiesResource },
    );
    this.queue = new WorkQueue(
      (name) => reconcilePolicyStatus({ instance, log: log.child({ [logKeys.key]: name }) }, name),
      queueFailureLogger(log),
      opts,
    );
  }

  start(): void {
    // Subscribed and listed in the same tick: no event is missed or seen twice.
    this.unsubscribe = this.instance.cache.subscribe(this.prefix, (events) => {
      for (const e of events) {
        const name = e.object.obj.metadata?.name;
        if (e.type !== "DELETED" && name !== undefined) this.queue.add(name);
      }
    });
    for (const p of this.instance.cache.list(this.prefix)) {
      const name = p.obj.metadata?.name;
      if (name !== undefined) this.queue.add(name);
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
}
