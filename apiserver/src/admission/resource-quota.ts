// Object-count ResourceQuota (kube's ResourceQuota admission plugin and quota evaluators,
// limited to what a tenant stores): `count/<resource>[.<group>]` and the legacy core names
// (configmaps, secrets, services, resourcequotas…) in a quota's spec.hard limit how many
// objects of a kind a namespace holds. Shared by the admission plugin and the status controller.

import type { KubeObject } from "../registry/printers.ts";
import { resourcePrefix } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";

export const quotaRef = { group: "", resource: "resourcequotas" } as const;

/** The core resources a quota may name without `count/` (kube's legacy object-count names). */
const legacyNames = new Set([
  "configmaps",
  "secrets",
  "services",
  "resourcequotas",
  "persistentvolumeclaims",
  "pods",
  "replicationcontrollers",
]);

/** What a quota key counts: a group and resource, or undefined when it is not an object count. */
export function countedResource(key: string): { group: string; resource: string } | undefined {
  if (key.startsWith("count/")) {
    const rest = key.slice("count/".length);
    const dot = rest.indexOf(".");
    return dot < 0
      ? { group: "", resource: rest }
      : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
  }
  return legacyNames.has(key) ? { group: "", resource: key } : undefined;
}

/** The quota keys that count objects of `group/resource`. */
export const keysFor = (group: string, resource: string): string[] =>
  group === ""
    ? [`count/${resource}`, ...(legacyNames.has(resource) ? [resource] : [])]
    : [`count/${resource}.${group}`];

export interface QuotaObject extends KubeObject {
  spec?: { hard?: Record<string, string> };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

/** The quotas of a namespace, from the tenant's cache. */
export function quotasIn(instance: TenantInstance, namespace: string): QuotaObject[] {
  const prefix = resourcePrefix({ uid: instance.tenant.uid }, quotaRef, namespace);
  return instance.cache.list(prefix).map((c) => c.obj as QuotaObject);
}

/** How many objects of `group/resource` the namespace holds now. */
export function countIn(
  instance: TenantInstance,
  group: string,
  resource: string,
  namespace: string,
): number {
  try {
    return instance.cache.list(resourcePrefix({ uid: instance.tenant.uid }, { group, resource }, namespace))
      .length;
  } catch {
    return 0; // a resource name no key can hold holds nothing
  }
}

/** status.used for a quota: every hard key, object counts measured, others 0. */
export function usageOf(
  instance: TenantInstance,
  quota: QuotaObject,
  namespace: string,
): Record<string, string> {
  const used: Record<string, string> = {};
  for (const key of Object.keys(quota.spec?.hard ?? {}).sort()) {
    const counted = countedResource(key);
    used[key] = String(
      counted === undefined ? 0 : countIn(instance, counted.group, counted.resource, namespace),
    );
  }
  return used;
}
