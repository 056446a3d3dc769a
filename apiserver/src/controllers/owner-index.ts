// The garbage collector's view of ownership in one tenant: which object has which uid,
// and which objects name a uid among their ownerReferences. Kept current from the tenant
// cache's events by the garbage collector's controller; read by its reconciler.

import type { OwnerReference } from "../registry/printers.ts";
import type { CacheEvent, CachedObject } from "../registry/watch-cache.ts";

export const ownerRefsOf = (c: CachedObject | undefined): readonly OwnerReference[] =>
  c?.obj.metadata?.ownerReferences ?? [];

export class OwnerIndex {
  private readonly keyByUid = new Map<string, string>();
  /** Owner uid → keys of the objects that reference it. */
  private readonly dependents = new Map<string, Set<string>>();
  /** Key → what was indexed for it (to undo on change). */
  private readonly indexed = new Map<string, { uid: string | undefined; owners: string[] }>();

  /** Indexes the state after each event. Call with every event of the tenant, in order. */
  apply(events: readonly CacheEvent[]): void {
    for (const e of events) {
      if (e.type === "DELETED") this.remove(e.key);
      else this.put(e.object);
    }
  }

  put(c: CachedObject): void {
    this.remove(c.key);
    const uid = c.obj.metadata?.uid;
    const owners = [...new Set(ownerRefsOf(c).map((r) => r.uid))];
    if (uid !== undefined) this.keyByUid.set(uid, c.key);
    for (const owner of owners) {
      let set = this.dependents.get(owner);
      if (set === undefined) this.dependents.set(owner, (set = new Set()));
      set.add(c.key);
    }
    this.indexed.set(c.key, { uid, owners });
  }

  private remove(key: string): void {
    const was = this.indexed.get(key);
    if (was === undefined) return;
    this.indexed.delete(key);
    if (was.uid !== undefined && this.keyByUid.get(was.uid) === key) this.keyByUid.delete(was.uid);
    for (const owner of was.owners) {
      const set = this.dependents.get(owner);
      set?.delete(key);
      if (set?.size === 0) this.dependents.delete(owner);
    }
  }

  /** The key of the object with this uid, while it exists. */
  keyOf(uid: string): string | undefined {
    return this.keyByUid.get(uid);
  }

  /** Keys of the objects whose ownerReferences name `ownerUid` (the owner may be gone). */
  dependentsOf(ownerUid: string): string[] {
    return [...(this.dependents.get(ownerUid) ?? [])];
  }
}
