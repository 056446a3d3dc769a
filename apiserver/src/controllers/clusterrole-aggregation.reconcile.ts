// The ClusterRole aggregation controller's decision for one ClusterRole (kube-controller-
// manager's clusterroleaggregation): a role with an aggregationRule holds, in its stored
// rules, the rules of every ClusterRole its selectors pick, so RBAC and readers of the role
// see the same grants.

import { aggregateClusterRole, type ClusterRole } from "../authz/rbac.authorizer.ts";
import { rbacGroup } from "../authz/rbac.source.ts";
import type { KubeObject } from "../registry/printers.ts";
import { resourcePrefix } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { hasCode, storeFor } from "./tenant-objects.ts";
import { TerminalError } from "./work-queue.ts";

export const clusterRolesRef = { group: rbacGroup, resource: "clusterroles" } as const;

export const clusterRolesPrefix = (instance: TenantInstance): string =>
  resourcePrefix({ uid: instance.tenant.uid }, clusterRolesRef);

/** Writes the aggregated rules into the ClusterRole `name` when they differ from its stored ones. */
export async function reconcileAggregation(instance: TenantInstance, name: string): Promise<void> {
  const prefix = clusterRolesPrefix(instance);
  const role = instance.cache.get(`${prefix}${name}`)?.obj as unknown as ClusterRole | undefined;
  if (role?.aggregationRule === undefined || role.aggregationRule === null) return;
  const all = instance.cache.list(prefix).map((c) => c.obj as unknown as ClusterRole);
  let rules;
  try {
    rules = aggregateClusterRole(role, all);
  } catch (err) {
    // An invalid selector cannot be stored (validation refuses it); nothing to retry.
    throw new TerminalError(`clusterrole ${name}: ${(err as Error).message}`);
  }
  if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) return;
  const def = instance.resources.lookup(rbacGroup, "v1", "clusterroles");
  if (def === undefined) return;
  try {
    await storeFor(instance, def).update("", name, (current: KubeObject) => ({ ...current, rules }), {
      dryRun: false,
    });
  } catch (err) {
    if (hasCode(err, 404)) return; // deleted meanwhile
    throw err;
  }
}
