// The tenant quota admission plugin: what a tenant may keep in the shared storage, from its
// policy's `maxObjects` and `maxStorageBytes`. A create that would take the tenant past either,
// or an update that would grow it past `maxStorageBytes`, is refused with a 403 in the words of
// kube's ResourceQuota ("exceeded tenant quota: acme, requested: …, used: …, limited: …").
// Usage is read from the tenant's cache (kept current from its watch, every object counted: the
// tenant's bootstrap objects too), after it caught up with storage (so a client's previous write
// is counted); two writes in flight at once racing for the last room may both pass, as with
// kube's ResourceQuota read from an informer. Deletes are never refused. Only requests pass
// admission: the tenant's own controllers (namespace finalizer, garbage collector, status
// writers) write without it and are never blocked.

import { Buffer } from "node:buffer";
import { forbidden } from "../apierrors/status.ts";
import type { KubeObject } from "../registry/printers.ts";
import type { AdmissionAttributes, AdmissionPlugin } from "./interface.ts";

/** The bytes `obj` takes in storage (as the store encodes it: resourceVersion is never stored). */
export function storedSize(obj: KubeObject): number {
  const { resourceVersion: _rv, ...metadata } = obj.metadata ?? {};
  return Buffer.byteLength(JSON.stringify({ ...obj, metadata }));
}

const prettyPrint = (m: Record<string, number>): string =>
  Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k]}`)
    .join(",");

/** The stored size of the object being replaced: the cache's exact size, else an estimate. */
function oldSize(a: AdmissionAttributes): number {
  try {
    const key = a.instance.key(
      { group: a.resource.group, plural: a.resource.resource },
      a.namespace === "" ? undefined : a.namespace,
      a.name,
    );
    const cached = a.instance.cache.get(key);
    if (cached !== undefined) return cached.size;
  } catch {
    // a name no key can hold: estimate from the object
  }
  return a.oldObject === undefined ? 0 : storedSize(a.oldObject);
}

/** Validating; handles CREATE and UPDATE (deletes only free room). */
export const tenantQuotaAdmission: AdmissionPlugin = {
  name: "TenantQuota",
  handles: (op) => op === "CREATE" || op === "UPDATE",
  async validate(a) {
    const quotas = a.instance.tenant.policy?.quotas;
    if (quotas === undefined || a.object === undefined) return;
    const { maxObjects, maxStorageBytes } = quotas;
    if (maxObjects === undefined && maxStorageBytes === undefined) return;
    // An object being deleted may always shed its finalizers and status (it is about to free room).
    if (a.operation === "UPDATE" && a.oldObject?.metadata?.deletionTimestamp !== undefined) return;

    // One revision read shared by concurrent writers (as a consistent list makes).
    await a.instance.cache.consistent();
    const used = a.instance.cache.usage();
    const requested: Record<string, number> = {};
    const usedNow: Record<string, number> = {};
    const limited: Record<string, number> = {};
    if (a.operation === "CREATE" && maxObjects !== undefined && used.objects + 1 > maxObjects) {
      requested["objects"] = 1;
      usedNow["objects"] = used.objects;
      limited["objects"] = maxObjects;
    }
    if (maxStorageBytes !== undefined) {
      const growth = storedSize(a.object) - (a.operation === "UPDATE" ? oldSize(a) : 0);
      // Shrinking or keeping the size is always allowed, even over the limit (it frees room).
      if (growth > 0 && used.bytes + growth > maxStorageBytes) {
        requested["storageBytes"] = growth;
        usedNow["storageBytes"] = used.bytes;
        limited["storageBytes"] = maxStorageBytes;
      }
    }
    if (Object.keys(requested).length === 0) return;
    throw forbidden(
      { group: a.resource.group, resource: a.resource.resource },
      a.name,
      `exceeded tenant quota: ${a.instance.tenant.name}, requested: ${prettyPrint(requested)}, used: ${prettyPrint(usedNow)}, limited: ${prettyPrint(limited)}`,
    );
  },
};
