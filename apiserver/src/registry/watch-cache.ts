// A tenant's watch cache: every object of one tenant, kept current from the tenant's
// one storage watch and fanned out in process to the API's watches (kube's Cacher,
// one per tenant instead of one per resource). Reads that need the latest state wait
// until the cache has caught up with storage's current revision, and concurrent
// readers share one revision check (kube's ConsistentListFromCache). It also keeps the
// tenant's usage (objects and stored bytes) current as events arrive, for quotas.

import { Buffer } from "node:buffer";
import type { KeyValue, Storage, Watch, WatchEvent } from "../storage/interface.ts";
import { isUnder, tenantPrefix, type StoragePrefix, type TenantRef } from "../storage/keys.ts";
import type { KubeObject } from "./printers.ts";

/** An object as cached: parsed once, shared by every reader. Never mutate `obj`. */
export interface CachedObject {
  readonly key: string;
  readonly obj: KubeObject;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly size: number;
}

export interface CacheEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly key: string;
  /** The object after the event; for DELETED the last state, with the deletion's resourceVersion. */
  readonly object: CachedObject;
  /** The state before the event (MODIFIED, DELETED). */
  readonly prev?: CachedObject;
  readonly revision: number;
}

export type CacheListener = (events: readonly CacheEvent[]) => void;

/** Decodes a stored value and stamps the resourceVersion (storage never stores it). */
export function decodeStored(kv: KeyValue, revision = kv.modRevision): CachedObject {
  const obj = JSON.parse(
    Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength).toString("utf8"),
  ) as KubeObject;
  obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(revision) };
  return {
    key: kv.key,
    obj,
    modRevision: kv.modRevision,
    createRevision: kv.createRevision,
    size: kv.value.byteLength,
  };
}

/**
 * How much history a tenant keeps for watches that resume from a resourceVersion, as kube's
 * watch cache sizes itself: what happened in the last 75 s (its eventFreshDuration), never
 * fewer than the last 100 events and never more than 10,000. Older resumes get 410 Gone and
 * relist, as kube's clients do. Bounded by time so that an idle tenant's cache (and the root
 * tenant's, after a burst of ControlPlane writes) does not hold old objects for ever.
 */
export const historyRetention = { minEvents: 100, maxEvents: 10_000, freshMs: 75_000 } as const;

/**
 * How often the started caches drop expired history without waiting for their next event: a
 * tenant that goes quiet (or whose objects were all deleted) would otherwise keep its last
 * 75 s of events, objects included, until its next write or etcd's next PROGRESS (10 min).
 */
export const historySweepMs = 10_000;

/** The started caches, swept by one process-wide timer (never one timer per tenant). */
const sweptCaches = new Set<TenantCache>();
let historySweeper: NodeJS.Timeout | undefined;

/** What the sweeper runs: every started cache drops its expired history (exported for tests). */
export function sweepHistory(now = Date.now()): void {
  for (const cache of sweptCaches) cache.expireHistory(now);
}

function trackHistory(cache: TenantCache): void {
  sweptCaches.add(cache);
  if (historySweeper !== undefined) return;
  historySweeper = setInterval(() => sweepHistory(), historySweepMs);
  historySweeper.unref(); // never keeps the process alive; cleared when no cache is left
}

function untrackHistory(cache: TenantCache): void {
  sweptCaches.delete(cache);
  if (sweptCaches.size > 0 || historySweeper === undefined) return;
  clearInterval(historySweeper);
  historySweeper = undefined;
}

/** What a tenant stores: its keys, and the bytes of their values as stored (resourceVersion never is). */
export interface TenantUsage {
  readonly objects: number;
  readonly bytes: number;
}

export class TenantCache {
  /** Objects by storage key. */
  private readonly objects = new Map<string, CachedObject>();
  /** The same objects bucketed by resource (`<group>/<resource>/`), so a list scans one kind only. */
  private readonly byResource = new Map<string, Map<string, CachedObject>>();
  /** And by namespace (`<group>/<resource>/<namespace>/`), so a namespace's list scans only it. */
  private readonly byNamespace = new Map<string, Map<string, CachedObject>>();
  /** How many times each resource bucket changed (for derived state such as the CRD index). */
  private readonly bucketChanges = new Map<string, number>();
  private readonly listeners = new Set<{ prefix: string; listener: CacheListener }>();
  private readonly closeListeners = new Set<(err: Error) => void>();
  /** Recent events, oldest first, for watches that resume from a resourceVersion. */
  private readonly history: CacheEvent[] = [];
  /** When each event of `history` arrived (ms), for the time bound. */
  private readonly historyTimes: number[] = [];
  /** Every event after this revision is in `history`. */
  private historyStart = 0;
  private revisionNow = 0;
  /** The tenant's usage: moved by put() and remove() as events arrive, never recounted. */
  private objectCount = 0;
  private storedBytes = 0;
  private waiters: { revision: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private watch: Watch | undefined;
  private failure: Error | undefined;
  private pendingRevisionCheck: Promise<number> | undefined;
  private readonly prefix: StoragePrefix;

  constructor(
    private readonly storage: Storage,
    tenant: TenantRef,
    root?: string,
    private readonly onFailure: (err: Error) => void = () => {},
  ) {
    this.prefix = root === undefined ? tenantPrefix(tenant) : tenantPrefix(tenant, root);
  }

  /** Lists the tenant and starts its watch. Call once. */
  async start(): Promise<void> {
    const list = await this.storage.list(this.prefix);
    for (const kv of list.items) this.put(decodeStored(kv));
    this.revisionNow = list.revision;
    this.historyStart = list.revision;
    this.watch = this.storage.watch(
      this.prefix,
      {
        onEvents: (events) => this.apply(events),
        onError: (err) => this.fail(err),
      },
      { afterRevision: list.revision, progressNotify: true },
    );
    if (this.failure === undefined) trackHistory(this);
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
    this.fail(new Error("tenant cache stopped"));
  }

  /**
   * Drops the history historyRetention no longer keeps, as if an event arrived `now` (ms). Run
   * by the process-wide sweeper every historySweepMs and on PROGRESS; public for tests.
   */
  expireHistory(now = Date.now()): void {
    this.pruneHistory(now);
  }

  /** The revision the cache reflects. */
  get revision(): number {
    return this.revisionNow;
  }

  /** The oldest revision a watch may resume from. */
  get oldestResumable(): number {
    return this.historyStart;
  }

  get(key: string): CachedObject | undefined {
    return this.objects.get(key);
  }

  /** Objects and stored bytes of the tenant as of `revision` (O(1): kept as events arrive). */
  usage(): TenantUsage {
    return { objects: this.objectCount, bytes: this.storedBytes };
  }

  /** Objects under `prefix`, in key order. */
  list(prefix: string): CachedObject[] {
    // A namespace's list reads its namespace bucket; a resource's its resource bucket.
    const ns = this.namespaceOf(prefix);
    const bucket =
      ns !== "" && prefix.endsWith("/")
        ? this.byNamespace.get(ns)
        : this.byResource.get(this.resourceOf(prefix));
    if (ns !== "" && prefix.endsWith("/") && bucket === undefined) return [];
    const out: CachedObject[] = [];
    for (const [key, o] of bucket ?? this.objects) if (key.startsWith(prefix)) out.push(o);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** `<group>/<resource>/` of a key or of a prefix at least that deep ("" when shallower). */
  private resourceOf(key: string): string {
    const rest = key.slice(this.prefix.length);
    const first = rest.indexOf("/");
    const second = first < 0 ? -1 : rest.indexOf("/", first + 1);
    return second < 0 ? "" : rest.slice(0, second + 1);
  }

  /**
   * `<group>/<resource>/<namespace>/` of a namespaced object's key or of a prefix that deep
   * ("" otherwise: a cluster-scoped key has only three segments and no trailing one).
   */
  private namespaceOf(key: string): string {
    const r = this.resourceOf(key);
    if (r === "") return "";
    const rest = key.slice(this.prefix.length + r.length);
    const slash = rest.indexOf("/");
    return slash < 0 ? "" : r + rest.slice(0, slash + 1);
  }

  /** A number that changes whenever an object of the resource `prefix` names changes. */
  changesOf(prefix: string): number {
    return this.bucketChanges.get(this.resourceOf(prefix)) ?? 0;
  }

  private put(o: CachedObject): void {
    const prev = this.objects.get(o.key);
    if (prev === undefined) this.objectCount++;
    this.storedBytes += o.size - (prev?.size ?? 0);
    this.objects.set(o.key, o);
    const r = this.resourceOf(o.key);
    this.bucketChanges.set(r, (this.bucketChanges.get(r) ?? 0) + 1);
    let bucket = this.byResource.get(r);
    if (bucket === undefined) this.byResource.set(r, (bucket = new Map<string, CachedObject>()));
    bucket.set(o.key, o);
    const ns = this.namespaceOf(o.key);
    if (ns !== "") {
      let nsBucket = this.byNamespace.get(ns);
      if (nsBucket === undefined) this.byNamespace.set(ns, (nsBucket = new Map<string, CachedObject>()));
      nsBucket.set(o.key, o);
    }
  }

  private remove(key: string): void {
    const prev = this.objects.get(key);
    if (prev !== undefined) {
      this.objectCount--;
      this.storedBytes -= prev.size;
    }
    this.objects.delete(key);
    const r = this.resourceOf(key);
    this.byResource.get(r)?.delete(key);
    const ns = this.namespaceOf(key);
    if (ns !== "") {
      const nsBucket = this.byNamespace.get(ns);
      nsBucket?.delete(key);
      if (nsBucket?.size === 0) this.byNamespace.delete(ns);
    }
    this.bucketChanges.set(r, (this.bucketChanges.get(r) ?? 0) + 1);
  }

  /** Waits until the cache has caught up with storage's current revision; returns that revision. */
  async consistent(): Promise<number> {
    // Concurrent readers share one revision check and the progress request it makes. The cache
    // moves only on its tenant's events and on PROGRESS, so after a write in another tenant it
    // would wait for the next periodic PROGRESS (up to etcd's progress_notify interval): it asks
    // for one now instead (kube's ConsistentListFromCache). The request follows the read, so the
    // PROGRESS it brings is at or above `revision`.
    this.pendingRevisionCheck ??= this.storage
      .currentRevision()
      .then((revision) => {
        if (this.revisionNow < revision) this.watch?.requestProgress();
        return revision;
      })
      .finally(() => {
        this.pendingRevisionCheck = undefined;
      });
    const revision = await this.pendingRevisionCheck;
    // Asks again while waiting, as kube's progress requester does every 100 ms: an etcd member
    // serving the watch behind the one that answered the read answers below `revision`.
    const again =
      this.revisionNow < revision ? setInterval(() => this.watch?.requestProgress(), 100) : undefined;
    again?.unref();
    try {
      await this.waitFor(revision);
    } finally {
      clearInterval(again);
    }
    return Math.max(revision, this.revisionNow);
  }

  /** Resolves once the cache reflects `revision`. */
  waitFor(revision: number, timeoutMs = 3000): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.revisionNow >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { revision, resolve, reject };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `watch cache did not reach revision ${revision} in ${timeoutMs} ms (at ${this.revisionNow})`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Subscribes to events under `prefix`. Registered synchronously with the current state, so a
   * caller that reads `list()` or `eventsSince()` in the same tick misses nothing and sees nothing twice.
   */
  /**
   * Calls `listener` once when the cache stops or fails (its tenant's instance is dropped), so
   * the API's watches end instead of waiting on a dead cache. At once when it already has.
   */
  onClose(listener: (err: Error) => void): () => void {
    if (this.failure) {
      listener(this.failure);
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  subscribe(prefix: string, listener: CacheListener): () => void {
    const entry = { prefix, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Drops what historyRetention no longer keeps; every event after historyStart stays. */
  private pruneHistory(now: number): void {
    const { minEvents, maxEvents, freshMs } = historyRetention;
    let drop = Math.max(0, this.history.length - maxEvents);
    while (this.history.length - drop > minEvents && (this.historyTimes[drop] ?? now) < now - freshMs) {
      drop++;
    }
    if (drop === 0) return;
    const dropped = this.history.splice(0, drop);
    this.historyTimes.splice(0, drop);
    this.historyStart = dropped.at(-1)?.revision ?? this.historyStart;
  }

  /** Events under `prefix` after `revision`, or undefined when they are no longer in history. */
  eventsSince(prefix: string, revision: number): CacheEvent[] | undefined {
    if (revision < this.historyStart) return undefined;
    return this.history.filter((e) => e.revision > revision && e.key.startsWith(prefix));
  }

  private apply(events: readonly WatchEvent[]): void {
    const out: CacheEvent[] = [];
    let progress = this.revisionNow;
    for (const e of events) {
      if (e.type === "PROGRESS") {
        progress = Math.max(progress, e.revision);
        continue;
      }
      const prev = this.objects.get(e.kv.key);
      if (e.type === "DELETED") {
        const object = decodeStored(e.kv, e.revision);
        this.remove(e.kv.key);
        out.push({ type: "DELETED", key: e.kv.key, object, ...(prev ? { prev } : {}), revision: e.revision });
        progress = Math.max(progress, e.revision);
      } else {
        const object = decodeStored(e.kv);
        this.put(object);
        out.push({
          type: prev ? "MODIFIED" : "ADDED",
          key: e.kv.key,
          object,
          ...(prev ? { prev } : {}),
          revision: e.kv.modRevision,
        });
        progress = Math.max(progress, e.kv.modRevision);
      }
    }
    this.revisionNow = progress;
    // A PROGRESS alone moves the clock of the history too.
    if (out.length === 0 && this.history.length > 0) this.pruneHistory(Date.now());
    if (out.length > 0) {
      this.history.push(...out);
      const now = Date.now();
      for (let i = 0; i < out.length; i++) this.historyTimes.push(now);
      this.pruneHistory(now);
      for (const { prefix, listener } of this.listeners) {
        const mine = out.filter((e) => e.key.startsWith(prefix));
        if (mine.length > 0) listener(mine);
      }
    }
    this.waiters = this.waiters.filter((w) => {
      if (w.revision > this.revisionNow) return true;
      w.resolve();
      return false;
    });
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    untrackHistory(this);
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    const closing = [...this.closeListeners];
    this.closeListeners.clear();
    for (const l of closing) l(err);
    this.onFailure(err);
  }

  /** Whether `key` belongs to this cache's tenant. */
  owns(key: string): boolean {
    return isUnder(key, this.prefix);
  }
}
