// Watch plumbing of a tenant's CRD controller: every CRD is queued when the controller starts
// and whenever it changes; a change to one CRD also queues the other CRDs of its group (names
// it gave up may now be free), and a change to a custom resource of a CRD being deleted queues
// that CRD (its cleanup moves on). Decisions are in crd.reconcile.ts. One key runs at a time,
// so two CRDs never claim the same name in the same instant.

import type { Logger } from "pino";
import { logKeys, queueFailureLogger } from "../../controllers/log.ts";
import { WorkQueue, type WorkQueueOptions } from "../../controllers/work-queue.ts";
import { resourcePrefix, tenantPrefix } from "../../storage/keys.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import type { CacheEvent } from "../watch-cache.ts";
import { crdResource, reconcileCRD } from "./crd.reconcile.ts";
import type { CRD } from "./crd.validation.ts";

export interface CRDControllerOptions extends WorkQueueOptions {
  /** Look again after this long while custom resources with finalizers remain. */
  readonly recheckMs?: number;
}

/** One tenant's CRD controller. Started and stopped with the tenant instance. */
export class CRDController {
  private readonly queue: WorkQueue;
  private readonly crdPrefix: string;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly instance: TenantInstance,
    log: Logger,
    opts: CRDControllerOptions = {},
  ) {
    this.crdPrefix = resourcePrefix(
      { uid: instance.tenant.uid },
      { group: crdResource.group, resource: crdResource.plural },
    );
    const ctx = { instance, recheckMs: opts.recheckMs ?? 1_000 };
    this.queue = new WorkQueue(
      (name) => reconcileCRD(ctx, name),
      queueFailureLogger(log.child({ [logKeys.controller]: "crd" })),
      {
        concurrency: 1,
        ...opts,
      },
    );
  }

  start(): void {
    // Subscribed and listed in the same tick: no event is missed or seen twice.
    this.unsubscribe = this.instance.cache.subscribe(
      tenantPrefix({ uid: this.instance.tenant.uid }),
      (events) => this.onEvents(events),
    );
    for (const c of this.instance.cache.list(this.crdPrefix)) this.queueCRD(c.obj);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.shutdown();
  }

  /** Keys waiting, running or delayed (0 when idle). */
  get pending(): number {
    return this.queue.length;
  }

  /** The tenant's CRDs as of `seenChanges` (see onEvents). */
  private crds: CRD[] = [];
  private seenChanges = -1;
  private anyTerminating = false;

  private queueCRD(crd: CRD): void {
    const name = crd.metadata?.name;
    if (name !== undefined) this.queue.add(name);
  }

  private onEvents(events: readonly CacheEvent[]): void {
    // Every write of the tenant passes here: list the CRDs only when a CRD changed or one is
    // being deleted (the cache counts changes per resource, so the check is cheap).
    const changes = this.instance.cache.changesOf(this.crdPrefix);
    if (changes !== this.seenChanges) {
      this.seenChanges = changes;
      this.crds = this.instance.cache.list(this.crdPrefix).map((c) => c.obj as CRD);
      this.anyTerminating = this.crds.some((c) => c.metadata?.deletionTimestamp !== undefined);
    }
    if (!this.anyTerminating && !events.some((e) => e.key.startsWith(this.crdPrefix))) return;
    const crds = this.crds;
    for (const e of events) {
      if (e.key.startsWith(this.crdPrefix)) {
        const crd = e.object.obj as CRD;
        if (e.type !== "DELETED") this.queueCRD(crd);
        for (const other of crds)
          if (other.spec?.group === crd.spec?.group && other !== crd) this.queueCRD(other);
        continue;
      }
      // A custom resource changed: if its CRD is being deleted, cleanup may move on.
      for (const c of crds) {
        if (c.metadata?.deletionTimestamp === undefined) continue;
        const prefix = resourcePrefix(
          { uid: this.instance.tenant.uid },
          { group: c.spec?.group ?? "", resource: c.spec?.names?.plural ?? "" },
        );
        if (e.key.startsWith(prefix)) this.queueCRD(c);
      }
    }
  }
}

/** Starts the CRD controller of a tenant instance (called once its cache is running). */
export function startCRDController(
  instance: TenantInstance,
  log: Logger,
  opts?: CRDControllerOptions,
): CRDController {
  const c = new CRDController(instance, log.child({ [logKeys.tenant]: instance.tenant.name }), opts);
  c.start();
  return c;
}
