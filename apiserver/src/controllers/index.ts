// The controllers every tenant instance runs inside the shard, as kube-controller-manager
// runs them for a cluster: namespace lifecycle (empty a deleted namespace, then finalize
// it) and the garbage collector (ownerReferences: background, foreground and orphan
// deletion). Each tenant's controllers read only that tenant's cache and write only
// through its store; nothing is shared between tenants. Watch plumbing lives in
// `*.controller.ts`, decisions in `*.reconcile.ts`, the queue in work-queue.ts.

import type { Logger } from "pino";
import type { TenantInstance } from "../tenancy/instance.ts";
import { ClusterRoleAggregationController } from "./clusterrole-aggregation.controller.ts";
import { GarbageCollector } from "./garbage-collector.controller.ts";
import { ResourceQuotaController } from "./resource-quota.controller.ts";
import { ServiceAccountTokenController } from "./serviceaccount-token.controller.ts";
import { defaultControllerLogger, logKeys } from "./log.ts";
import { NamespaceController, type NamespaceControllerOptions } from "./namespace.controller.ts";
import type { WorkQueueOptions } from "./work-queue.ts";
// [vap] ValidatingAdmissionPolicy status (observedGeneration, typeChecking).
import { PolicyStatusController } from "../admission/policy/policy-status.controller.ts";

export { ClusterRoleAggregationController } from "./clusterrole-aggregation.controller.ts";
export { GarbageCollector } from "./garbage-collector.controller.ts";
export { NamespaceController } from "./namespace.controller.ts";
export { TerminalError, WorkQueue } from "./work-queue.ts";

/** A tenant's running controllers. */
export interface TenantControllers {
  readonly garbageCollector: GarbageCollector;
  readonly namespaces: NamespaceController;
  readonly aggregation: ClusterRoleAggregationController;
  readonly quotas: ResourceQuotaController;
  /** Present when the tenant has a token signer (legacy Secret-based tokens). */
  readonly tokens: ServiceAccountTokenController | undefined;
  /** Stops them all (idempotent): no reconcile runs and no timer is left once it resolves. */
  stop(): Promise<void>;
}

export interface TenantControllerOptions {
  readonly log?: Logger;
  readonly garbageCollector?: WorkQueueOptions;
  readonly namespaces?: NamespaceControllerOptions;
}

/**
 * Starts the controllers of one tenant instance. Called by TenantInstance.start() once its
 * cache is running; the instance calls stop() when it is dropped.
 */
export function startTenantControllers(
  instance: TenantInstance,
  opts: TenantControllerOptions = {},
): TenantControllers {
  const log = (opts.log ?? defaultControllerLogger()).child({ [logKeys.tenant]: instance.tenant.name });
  const garbageCollector = new GarbageCollector(
    instance,
    log.child({ [logKeys.controller]: "garbage-collector" }),
    opts.garbageCollector,
  );
  const namespaces = new NamespaceController(
    instance,
    log.child({ [logKeys.controller]: "namespace" }),
    opts.namespaces,
  );
  const aggregation = new ClusterRoleAggregationController(instance, log);
  garbageCollector.start();
  namespaces.start();
  const quotas = new ResourceQuotaController(instance, log);
  const policyStatus = new PolicyStatusController(
    instance,
    log.child({ [logKeys.controller]: "vap-status" }),
  );
  aggregation.start();
  quotas.start();
  policyStatus.start();
  const signing = instance.tokenSigning;
  const tokens =
    signing === undefined ? undefined : new ServiceAccountTokenController(instance, signing, log);
  tokens?.start();
  let stopping: Promise<void> | undefined;
  return {
    garbageCollector,
    namespaces,
    aggregation,
    quotas,
    tokens,
    stop: () =>
      (stopping ??= Promise.all([
        garbageCollector.stop(),
        namespaces.stop(),
        aggregation.stop(),
        quotas.stop(),
        policyStatus.stop(),
        tokens?.stop(),
      ]).then(() => undefined)),
  };
}
