// What the tenant's controllers share: finding an object's kind from its storage key or
// from an ownerReference, within one tenant's resources (built-ins and its own CRDs).

import { isStatusError } from "../apierrors/status.ts";
import type { ResourceDef } from "../registry/resources.ts";
import { GenericStore } from "../registry/store.ts";
import { resourcePrefix, tenantPrefix } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";

/** metav1.FinalizerOrphanDependents. */
export const orphanFinalizer = "orphan";
/** metav1.FinalizerDeleteDependents. */
export const foregroundFinalizer = "foregroundDeletion";
/** The namespace controller's token in a namespace's spec.finalizers. */
export const namespaceFinalizer = "kubernetes";

/** One object of the tenant, as the controllers address it. */
export interface ObjectAddress {
  readonly def: ResourceDef;
  /** "" for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
}

/**
 * The definition to write objects of `group/plural` through: for custom resources the
 * storage version's, so a controller's write never changes the stored apiVersion.
 */
function writableDef(defs: readonly ResourceDef[], group: string, plural: string): ResourceDef | undefined {
  const candidates = defs.filter((d) => d.group === group && d.plural === plural);
  return candidates.find((d) => d.crd === undefined || d.version === d.crd.storageVersion) ?? candidates[0];
}

/** Where a storage key of the tenant points, or undefined when its kind is not served. */
export function addressOf(instance: TenantInstance, key: string): ObjectAddress | undefined {
  const prefix = tenantPrefix({ uid: instance.tenant.uid });
  if (!key.startsWith(prefix)) return undefined;
  // Segments never contain "/" (keys.ts refuses them), so the split is exact.
  const [group, plural, ...rest] = key.slice(prefix.length).split("/");
  if (group === undefined || plural === undefined) return undefined;
  const def = writableDef(instance.resources.all, group === "core" ? "" : group, plural);
  if (def === undefined) return undefined;
  if (def.namespaced && rest.length === 2) return { def, namespace: rest[0]!, name: rest[1]! };
  if (!def.namespaced && rest.length === 1) return { def, namespace: "", name: rest[0]! };
  return undefined;
}

/** The served kind an ownerReference names (any served version of its group and kind). */
export function defOfKind(
  instance: TenantInstance,
  apiVersion: string,
  kind: string,
): ResourceDef | undefined {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const candidates = instance.resources.all.filter((d) => d.group === group && d.kind === kind);
  const first = candidates[0];
  return first === undefined ? undefined : writableDef(candidates, group, first.plural);
}

/** Every namespaced resource the tenant serves, once per group and resource. */
export function namespacedResources(instance: TenantInstance): ResourceDef[] {
  const seen = new Set<string>();
  const out: ResourceDef[] = [];
  for (const d of instance.resources.all) {
    const id = `${d.group}/${d.plural}`;
    if (!d.namespaced || !d.verbs.includes("delete") || seen.has(id)) continue;
    seen.add(id);
    out.push(writableDef(instance.resources.all, d.group, d.plural)!);
  }
  return out;
}

/** The prefix holding `def`'s objects in one namespace. */
export function namespacePrefixOf(instance: TenantInstance, def: ResourceDef, namespace: string): string {
  return resourcePrefix({ uid: instance.tenant.uid }, { group: def.group, resource: def.plural }, namespace);
}

export const storeFor = (instance: TenantInstance, def: ResourceDef): GenericStore =>
  new GenericStore(instance, def);

/** True for a Status error with this HTTP code (404: already gone; 409: changed or replaced). */
export const hasCode = (err: unknown, ...codes: number[]): boolean =>
  isStatusError(err) && codes.includes(err.code);
