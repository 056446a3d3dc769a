// The namespace controller's decision for one namespace (kube-controller-manager's
// namespacedResourcesDeleter): once a namespace is being deleted, delete every object of
// every namespaced resource the tenant serves in it (custom resources included), let their
// own finalizers run, report progress in the namespace's conditions, and when nothing is
// left remove "kubernetes" from spec.finalizers through the finalize subresource — the
// store then removes the namespace.

import type { Logger } from "pino";
import type { KubeObject } from "../registry/printers.ts";
import { nowTimestamp } from "../registry/store.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import {
  failingConditions,
  mergeConditions,
  type ContentTotals,
  type NamespaceCondition,
} from "./namespace-conditions.ts";
import {
  hasCode,
  namespacedResources,
  namespaceFinalizer,
  namespacePrefixOf,
  storeFor,
} from "./tenant-objects.ts";
import type { ReconcileResult } from "./work-queue.ts";

/** What the reconciler needs. Built by the namespace controller. */
export interface NamespaceReconcileContext {
  readonly instance: TenantInstance;
  readonly log: Logger;
  /** How long to wait before looking again while content with finalizers remains. */
  readonly recheckMs: number;
}

interface NamespaceStatus {
  phase?: string;
  conditions?: NamespaceCondition[];
}

const specFinalizersOf = (ns: KubeObject): string[] =>
  ((ns["spec"] as { finalizers?: string[] } | undefined)?.finalizers ?? []).slice();
const statusOf = (ns: KubeObject): NamespaceStatus => (ns["status"] as NamespaceStatus | undefined) ?? {};

function namespacesDef(instance: TenantInstance) {
  const def = instance.resources.lookup("", "v1", "namespaces");
  if (def === undefined) throw new Error("namespaces are not served");
  return def;
}

/** Reconciles the namespace `name`. Throws to be retried with backoff. */
export async function reconcileNamespace(
  ctx: NamespaceReconcileContext,
  name: string,
): Promise<ReconcileResult> {
  const { instance, log } = ctx;
  await instance.cache.consistent();
  const def = namespacesDef(instance);
  const store = storeFor(instance, def);
  const ns = instance.cache.get(instance.key(def, undefined, name));
  if (ns === undefined || ns.obj.metadata?.deletionTimestamp === undefined) return;

  const specFinalizers = specFinalizersOf(ns.obj);
  if (!specFinalizers.includes(namespaceFinalizer)) {
    // Finalized by us already. With no finalizer of any kind left nothing else will remove it
    // (a namespace created with `finalizers: []`): delete it now.
    if (specFinalizers.length === 0 && (ns.obj.metadata.finalizers ?? []).length === 0) {
      try {
        await store.delete("", name, { dryRun: false, preconditions: { uid: ns.obj.metadata.uid ?? "" } });
      } catch (err) {
        if (!hasCode(err, 404, 409)) throw err;
      }
    }
    return;
  }

  const totals = await deleteAllContent(ctx, name);
  await writeStatus(ctx, name, totals);
  if (totals.errors.length > 0) {
    throw new Error(`namespace ${name}: ${[...totals.errors].sort().join(", ")}`);
  }
  if (totals.remaining.size > 0) {
    log.debug({ remaining: Object.fromEntries(totals.remaining) }, "content remains, waiting");
    return { requeueAfterMs: ctx.recheckMs };
  }

  // Empty: our part is done. Without other finalizers the store deletes the namespace now.
  log.debug("namespace is empty, finalizing");
  try {
    await store.update(
      "",
      name,
      (current) => {
        const spec = (current["spec"] as Record<string, unknown> | undefined) ?? {};
        current["spec"] = {
          ...spec,
          finalizers: specFinalizersOf(current).filter((f) => f !== namespaceFinalizer),
        };
        return current;
      },
      { dryRun: false, subresource: "finalize", expectedRevision: "" },
    );
  } catch (err) {
    if (!hasCode(err, 404)) throw err;
  }
  return;
}

/**
 * Deletes (background propagation) every object in the namespace that is not already being
 * deleted, then counts what is left, by resource and by finalizer.
 */
async function deleteAllContent(ctx: NamespaceReconcileContext, namespace: string): Promise<ContentTotals> {
  const { instance } = ctx;
  const defs = namespacedResources(instance);
  const errors = new Map<string, string>();
  for (const def of defs) {
    const store = storeFor(instance, def);
    for (const item of instance.cache.list(namespacePrefixOf(instance, def, namespace))) {
      const meta = item.obj.metadata ?? {};
      if (meta.deletionTimestamp !== undefined || meta.name === undefined) continue;
      try {
        await store.delete(namespace, meta.name, {
          dryRun: false,
          propagationPolicy: "Background",
          ...(meta.uid === undefined ? {} : { preconditions: { uid: meta.uid } }),
        });
      } catch (err) {
        // Gone already, or replaced (counted below if it stays).
        if (hasCode(err, 404, 409)) continue;
        const id = `${def.group}/${def.plural}`;
        if (!errors.has(id)) errors.set(id, (err as Error).message);
      }
    }
  }

  await instance.cache.consistent();
  const remaining = new Map<string, number>();
  const finalizers = new Map<string, number>();
  for (const def of defs) {
    const left = instance.cache.list(namespacePrefixOf(instance, def, namespace));
    if (left.length === 0) continue;
    remaining.set(`${def.plural}.${def.group}`, left.length);
    let pending = 0;
    for (const item of left) {
      const fs = item.obj.metadata?.finalizers ?? [];
      // Being deleted: waiting for its finalizers, or for the store's delete after the last one went.
      if (fs.length > 0 || item.obj.metadata?.deletionTimestamp !== undefined) pending++;
      for (const f of fs) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    }
    const id = `${def.group}/${def.plural}`;
    if (pending === 0 && !errors.has(id)) {
      // Deleted, yet still there and not being deleted: something is wrong.
      errors.set(
        id,
        `unexpected items still remain in namespace: ${namespace} for gvr: ${def.group}/${def.version}, Resource=${def.plural}`,
      );
    }
  }
  return { remaining, finalizers, errors: [...errors.values()] };
}

/** Writes phase Terminating and the deletion conditions, when they changed. */
async function writeStatus(
  ctx: NamespaceReconcileContext,
  name: string,
  totals: ContentTotals,
): Promise<void> {
  const { instance } = ctx;
  const current = instance.cache.get(instance.key(namespacesDef(instance), undefined, name));
  if (current === undefined) return;
  const now = nowTimestamp();
  const status = statusOf(current.obj);
  const { changed } = mergeConditions(status.conditions ?? [], failingConditions(totals, now), now);
  if (!changed && status.phase === "Terminating") return;
  try {
    await storeFor(instance, namespacesDef(instance)).update(
      "",
      name,
      (latest) => {
        const s = statusOf(latest);
        const merged = mergeConditions(s.conditions ?? [], failingConditions(totals, now), now);
        latest["status"] = { ...s, phase: "Terminating", conditions: merged.conditions };
        return latest;
      },
      { dryRun: false, subresource: "status", expectedRevision: "" },
    );
  } catch (err) {
    if (!hasCode(err, 404)) throw err;
  }
}
