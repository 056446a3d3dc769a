// The garbage collector's decision for one object of the tenant, from the tenant's current
// state (kube-controller-manager's attemptToDeleteItem, processDeletingDependentsItem and
// attemptToOrphan, on one path):
//
// - an object being deleted with the `orphan` finalizer: drop its uid from every dependent's
//   ownerReferences, then remove the finalizer;
// - an object being deleted with `foregroundDeletion`: once no dependent blocks it
//   (blockOwnerDeletion), remove the finalizer; until then look at its dependents;
// - an object with ownerReferences: when one owner still stands, drop the references to owners
//   that are gone or waiting for their dependents; when none stands, delete the object
//   (foreground when it has dependents and an owner waits for it, else as its own
//   finalizers say, else background).
//
// Owners are resolved by kind, name and uid, in the dependent's namespace for namespaced kinds.

import type { Logger } from "pino";
import type { KubeObject, OwnerReference } from "../registry/printers.ts";
import type { DeleteOptions } from "../registry/store.ts";
import type { CachedObject } from "../registry/watch-cache.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { ownerRefsOf, type OwnerIndex } from "./owner-index.ts";
import {
  addressOf,
  defOfKind,
  foregroundFinalizer,
  hasCode,
  orphanFinalizer,
  storeFor,
  type ObjectAddress,
} from "./tenant-objects.ts";
import { TerminalError } from "./work-queue.ts";

/** What the reconciler reads and may ask for. Built by the garbage collector's controller. */
export interface GarbageCollectorContext {
  readonly instance: TenantInstance;
  /** Ownership in the tenant, current with the cache. Read only. */
  readonly index: OwnerIndex;
  /** Queues another object (by storage key) for the collector. */
  enqueue(key: string): void;
  readonly log: Logger;
}

const finalizersOf = (obj: KubeObject): readonly string[] => obj.metadata?.finalizers ?? [];
const isDeleting = (obj: KubeObject): boolean => obj.metadata?.deletionTimestamp !== undefined;
const isDeletingDependents = (obj: KubeObject): boolean =>
  isDeleting(obj) && finalizersOf(obj).includes(foregroundFinalizer);

/** Reconciles the object at storage key `key`. Throws to be retried; TerminalError to be dropped. */
export async function reconcileGarbage(ctx: GarbageCollectorContext, key: string): Promise<void> {
  const { instance } = ctx;
  // Decide on state at least as recent as storage's (upstream reads owners live for this):
  // an owner created before its dependent is then always seen.
  await instance.cache.consistent();
  const item = instance.cache.get(key);
  if (item === undefined) return;
  const at = addressOf(instance, key);
  if (at === undefined) return; // Its kind is no longer served (a removed CRD): not ours to judge.
  const obj = item.obj;

  if (isDeleting(obj)) {
    if (finalizersOf(obj).includes(orphanFinalizer)) {
      await orphanDependents(ctx, item, at);
      return;
    }
    if (finalizersOf(obj).includes(foregroundFinalizer)) {
      await processDeletingDependents(ctx, item, at);
    }
    // Otherwise deleted by someone else: its dependents are looked at once it is gone.
    return;
  }

  const refs = ownerRefsOf(item);
  if (refs.length === 0) return;
  const solid: OwnerReference[] = [];
  const gone: OwnerReference[] = [];
  const waiting: OwnerReference[] = [];
  for (const ref of refs) {
    const owner = resolveOwner(instance, at, ref);
    if (owner === undefined) gone.push(ref);
    else if (isDeletingDependents(owner.obj)) waiting.push(ref);
    else solid.push(ref);
  }

  if (solid.length > 0) {
    if (gone.length === 0 && waiting.length === 0) return;
    // A waiting owner must not wait for an object that another owner keeps: drop that reference.
    const drop = new Set([...gone, ...waiting].map((r) => r.uid));
    ctx.log.debug({ drop: [...drop] }, "removing references to absent and waiting owners");
    await updateMeta(instance, at, item, (meta) => {
      const kept = (meta.ownerReferences ?? []).filter((r) => !drop.has(r.uid));
      if (kept.length === 0) delete meta.ownerReferences;
      else meta.ownerReferences = kept;
    });
    return;
  }

  const dependents = dependentsOf(ctx, item);
  if (waiting.length > 0 && dependents.length > 0) {
    if (dependents.some((d) => isDeletingDependents(d.obj))) {
      // An owner and a dependent both wait for their dependents: a possible cycle. Stop blocking
      // the owners, then go on in the foreground (upstream's unblockOwnerReferences).
      await updateMeta(instance, at, item, (meta) => {
        meta.ownerReferences = (meta.ownerReferences ?? []).map((r) =>
          r.blockOwnerDeletion === true ? { ...r, blockOwnerDeletion: false } : r,
        );
      });
    }
    ctx.log.debug("deleting in the foreground: an owner waits for it and it has dependents");
    await deleteObject(instance, at, item, "Foreground");
    return;
  }

  // No owner stands: collect it, keeping a propagation its own finalizers ask for.
  const finalizers = finalizersOf(obj);
  const policy = finalizers.includes(orphanFinalizer)
    ? "Orphan"
    : finalizers.includes(foregroundFinalizer)
      ? "Foreground"
      : "Background";
  ctx.log.debug({ policy }, "deleting: every owner is gone");
  await deleteObject(instance, at, item, policy);
}

/**
 * The owner an ownerReference names, or undefined when it is absent (not found, or another
 * object by that name). Throws when its kind is not served (retried: a CRD may come), and a
 * TerminalError for a cluster-scoped object naming a namespaced owner (never valid).
 */
function resolveOwner(
  instance: TenantInstance,
  dependent: ObjectAddress,
  ref: OwnerReference,
): CachedObject | undefined {
  const def = defOfKind(instance, ref.apiVersion, ref.kind);
  if (def === undefined) {
    throw new Error(`unable to find the owner's kind ${ref.kind} in ${ref.apiVersion}`);
  }
  if (def.namespaced && dependent.namespace === "") {
    throw new TerminalError(
      `cluster-scoped ${dependent.def.kind} ${dependent.name} refers to a namespaced owner ${ref.kind} ${ref.name}`,
    );
  }
  let key: string;
  try {
    key = instance.key(def, def.namespaced ? dependent.namespace : undefined, ref.name);
  } catch {
    return undefined; // A name no object can have.
  }
  const owner = instance.cache.get(key);
  return owner?.obj.metadata?.uid === ref.uid ? owner : undefined;
}

/** The objects whose ownerReferences name `owner`: in its namespace, or anywhere for a cluster-scoped owner. */
function dependentsOf(ctx: GarbageCollectorContext, owner: CachedObject): CachedObject[] {
  const uid = owner.obj.metadata?.uid;
  if (uid === undefined) return [];
  const namespace = owner.obj.metadata?.namespace;
  const out: CachedObject[] = [];
  for (const key of ctx.index.dependentsOf(uid)) {
    const dep = ctx.instance.cache.get(key);
    if (dep === undefined) continue;
    if (namespace !== undefined && namespace !== "" && dep.obj.metadata?.namespace !== namespace) continue;
    if (ownerRefsOf(dep).some((r) => r.uid === uid)) out.push(dep);
  }
  return out;
}

async function orphanDependents(
  ctx: GarbageCollectorContext,
  owner: CachedObject,
  at: ObjectAddress,
): Promise<void> {
  const uid = owner.obj.metadata?.uid ?? "";
  const failures: string[] = [];
  for (const dep of dependentsOf(ctx, owner)) {
    const depAt = addressOf(ctx.instance, dep.key);
    if (depAt === undefined) continue;
    try {
      await updateMeta(ctx.instance, depAt, dep, (meta) => {
        const kept = (meta.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (kept.length === 0) delete meta.ownerReferences;
        else meta.ownerReferences = kept;
      });
    } catch (err) {
      failures.push(`${depAt.def.plural} ${depAt.name}: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) {
    throw new Error(`orphaning dependents of ${at.def.plural} ${at.name} failed: ${failures.join("; ")}`);
  }
  ctx.log.debug("dependents orphaned, removing the orphan finalizer");
  await removeFinalizer(ctx.instance, at, owner, orphanFinalizer);
}

async function processDeletingDependents(
  ctx: GarbageCollectorContext,
  owner: CachedObject,
  at: ObjectAddress,
): Promise<void> {
  const uid = owner.obj.metadata?.uid ?? "";
  const dependents = dependentsOf(ctx, owner);
  const blocking = dependents.filter((d) =>
    ownerRefsOf(d).some((r) => r.uid === uid && r.blockOwnerDeletion === true),
  );
  if (blocking.length === 0) {
    ctx.log.debug("no dependent blocks the owner, removing the foregroundDeletion finalizer");
    await removeFinalizer(ctx.instance, at, owner, foregroundFinalizer);
    return;
  }
  // Each dependent not yet being deleted sees its owner waiting and decides for itself; their
  // deletion (or a dropped reference) brings the owner back here.
  for (const d of dependents) if (!isDeleting(d.obj)) ctx.enqueue(d.key);
}

/** Deletes `item` (only that object: a uid precondition) with a propagation policy. */
async function deleteObject(
  instance: TenantInstance,
  at: ObjectAddress,
  item: CachedObject,
  policy: NonNullable<DeleteOptions["propagationPolicy"]>,
): Promise<void> {
  const uid = item.obj.metadata?.uid;
  try {
    await storeFor(instance, at.def).delete(at.namespace, at.name, {
      dryRun: false,
      propagationPolicy: policy,
      ...(uid === undefined ? {} : { preconditions: { uid } }),
    });
  } catch (err) {
    // Gone already, or replaced by another object of that name: nothing left to do.
    if (!hasCode(err, 404, 409)) throw err;
  }
}

const replaced = new Error("replaced");

/** Rewrites `item`'s metadata (on its latest state), unless it is gone or replaced meanwhile. */
async function updateMeta(
  instance: TenantInstance,
  at: ObjectAddress,
  item: CachedObject,
  change: (meta: NonNullable<KubeObject["metadata"]>) => void,
): Promise<void> {
  const uid = item.obj.metadata?.uid;
  try {
    await storeFor(instance, at.def).update(
      at.namespace,
      at.name,
      (current) => {
        if (current.metadata?.uid !== uid) throw replaced;
        current.metadata ??= {};
        change(current.metadata);
        return current;
      },
      { dryRun: false, expectedRevision: "" },
    );
  } catch (err) {
    if (err !== replaced && !hasCode(err, 404)) throw err;
  }
}

/** Removes one finalizer; the store completes the deletion when it was the last. */
function removeFinalizer(
  instance: TenantInstance,
  at: ObjectAddress,
  item: CachedObject,
  finalizer: string,
): Promise<void> {
  return updateMeta(instance, at, item, (meta) => {
    const kept = (meta.finalizers ?? []).filter((f) => f !== finalizer);
    if (kept.length === 0) delete meta.finalizers;
    else meta.finalizers = kept;
  });
}
