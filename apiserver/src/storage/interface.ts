// The storage contract the registry builds on, and the smaller backend contract
// the two engines (etcd, embedded SQLite) implement underneath it.
//
// `Storage` (store.ts, one implementation) owns what must be identical on every
// engine: key checks, typed errors, preconditions, the guaranteedUpdate retry
// loop, continue tokens and watch event types. A `Backend` only moves bytes
// with revisions, the way etcd's KV and Watch APIs do.

import type { StorageKey, StoragePrefix } from "./keys.ts";

/** A stored value at one revision. `value` is opaque bytes (the API server's JSON, maybe encrypted later). */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the write that created this key (since its last deletion). */
  readonly createRevision: number;
  /** Revision of the last write to this key: the object's resourceVersion. */
  readonly modRevision: number;
}

export interface Preconditions {
  /** The stored object's metadata.uid must equal this. */
  readonly uid?: string;
  /** The stored object's modRevision must equal this. */
  readonly resourceVersion?: number;
}

export interface ReadOptions {
  /** Read at exactly this revision (kube's resourceVersionMatch=Exact); absent or 0 reads the latest. */
  readonly revision?: number;
}

export interface ListOptions extends ReadOptions {
  /** At most this many items; absent or 0 means all. */
  readonly limit?: number;
  /** A token from a previous ListResult; pins the revision of the first page. */
  readonly continue?: string;
}

export interface ListResult {
  readonly items: KeyValue[];
  /** The revision the whole list (every page) is consistent at. */
  readonly revision: number;
  /** Present when more items follow. */
  readonly continue?: string;
  /** How many items follow this page (kube's remainingItemCount), when `continue` is present. */
  readonly remainingItemCount?: number;
}

export interface GetResult {
  readonly kv: KeyValue;
  /** The revision of the store when read (etcd's header revision). */
  readonly revision: number;
}

export type WatchEvent =
  | { readonly type: "ADDED"; readonly kv: KeyValue }
  | { readonly type: "MODIFIED"; readonly kv: KeyValue; readonly prev?: KeyValue }
  /** `kv` is the last state before deletion; its modRevision is that state's, `revision` the deletion's. */
  | { readonly type: "DELETED"; readonly kv: KeyValue; readonly revision: number }
  /**
   * Every event up to `revision` under the watched prefix was delivered (for BOOKMARKs and
   * consistent reads): periodic with `progressNotify`, or asked for with `Watch.requestProgress()`.
   */
  | { readonly type: "PROGRESS"; readonly revision: number };

export interface WatchOptions {
  /**
   * Deliver events with revisions strictly greater than this (kube: watch from resourceVersion R).
   * Absent or 0: from when the backend has registered the watch (a write racing the call may be missed;
   * callers that must not miss one pass the revision they last read).
   */
  readonly afterRevision?: number;
  /** Ask the backend for periodic PROGRESS events. */
  readonly progressNotify?: boolean;
}

/**
 * A running watch. Events arrive in revision order, each once. It ends by `onError`
 * (a StorageError: Gone when the start revision was compacted) or by `stop()`.
 */
export interface Watch {
  /** Stops delivery; no callback runs after it resolves. Idempotent. */
  stop(): Promise<void>;
  /**
   * Asks for a PROGRESS event, as soon as possible, at or above the store's revision at the time
   * of the call, also when nothing changed under this watch's prefix (etcd's WatchProgressRequest).
   * It is delivered after every event of this watch up to its revision, never ahead of one;
   * writes still uncommitted at the call may or may not be covered. Calls may be coalesced: one
   * PROGRESS can answer several. Called by the watch cache when a consistent read finds it behind
   * (TenantCache.consistent). Never calls back before it returns; a no-op once the watch ended.
   *
   * On etcd the revision is the one of the member serving the watch stream: one lagging behind
   * the member that answered a `currentRevision()` may answer below it, so a caller waiting for a
   * revision asks again while it waits (as kube's progress requester does). etcd before 3.4.24
   * and 3.5.8 may answer ahead of the history a watch started in the past is still replaying
   * (etcd-io/etcd#15220; see etcd/etcd.watch.ts).
   */
  requestProgress(): void;
}

export interface WatchHandlers {
  /** Called with each batch of events (one or more, in order). Must not throw. */
  onEvents(events: readonly WatchEvent[]): void;
  /** Called once when the watch ends for good (never after `stop()`). */
  onError(err: Error): void;
}

/**
 * The storage the registry and tenant instances call. Every key comes from keys.ts,
 * so every call is inside one tenant. Inputs are never modified.
 */
export interface Storage {
  /** Fails with AlreadyExists when the key is present. */
  create(key: StorageKey, value: Uint8Array): Promise<KeyValue>;
  /** Fails with NotFound; with `revision`, Gone when that revision was compacted. */
  get(key: StorageKey, opts?: ReadOptions): Promise<GetResult>;
  list(prefix: StoragePrefix, opts?: ListOptions): Promise<ListResult>;
  /**
   * Read-modify-write with compare-and-swap on the mod revision, retried on conflict
   * (kube's GuaranteedUpdate). `update` receives the current value (never mutate it) and
   * returns the new bytes; it may throw to abort (its error is rethrown as is). Returning
   * `current.value` itself (the same reference) writes nothing and returns `current`.
   */
  guaranteedUpdate(
    key: StorageKey,
    update: (current: KeyValue) => Uint8Array | Promise<Uint8Array>,
    opts?: { preconditions?: Preconditions; cached?: KeyValue },
  ): Promise<KeyValue>;
  /** Deletes and returns the last state; NotFound when absent; Conflict when a precondition fails. */
  delete(
    key: StorageKey,
    opts?: { preconditions?: Preconditions },
  ): Promise<{ kv: KeyValue; revision: number }>;
  /** Deletes every key under a prefix in one operation (a tenant's wipe). Returns how many. */
  deletePrefix(prefix: StoragePrefix): Promise<number>;
  /** Counts keys under a prefix and the bytes they take: key plus value, as etcd stores them (quota, accounting). */
  usage(prefix: StoragePrefix): Promise<{ keys: number; bytes: number }>;
  watch(prefix: StoragePrefix, handlers: WatchHandlers, opts?: WatchOptions): Watch;
  /** The store's current revision. */
  currentRevision(): Promise<number>;
  /** Drops history before `revision`; later reads/watches below it get Gone. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Backend: what an engine implements. Called only by store.ts.

export type TxnResult =
  | { readonly ok: true; readonly kv: KeyValue }
  | { readonly ok: false; readonly current: KeyValue | undefined };

export interface RangeResult {
  readonly kvs: KeyValue[];
  /** Total number of keys in [start, end) at `revision` (before `limit`). */
  readonly count: number;
  readonly revision: number;
}

export interface Backend {
  /** Latest (or at `revision`) value of one key; Gone (TooOldResourceVersion) below the compacted revision. */
  get(key: string, revision?: number): Promise<{ kv: KeyValue | undefined; revision: number }>;
  /** Keys in [start, end) ordered by key, at `revision` or latest; Gone below the compacted revision. */
  range(start: string, end: string, opts: { revision?: number; limit?: number }): Promise<RangeResult>;
  /** Puts only if the key is absent (create revision 0). */
  create(key: string, value: Uint8Array): Promise<TxnResult>;
  /**
   * Puts only if the key's mod revision equals `modRevision`. `createRevision`, when the
   * caller knows it (it held the state it compares against), spares the engine a read.
   */
  update(key: string, value: Uint8Array, modRevision: number, createRevision?: number): Promise<TxnResult>;
  /** Deletes only if the key's mod revision equals `modRevision`; `kv` is the deleted state, `revision` the deletion's. */
  delete(
    key: string,
    modRevision: number,
  ): Promise<{ ok: true; kv: KeyValue; revision: number } | { ok: false; current: KeyValue | undefined }>;
  deleteRange(start: string, end: string): Promise<number>;
  /** Events with revision > afterRevision for keys in [start, end). */
  watch(start: string, end: string, handlers: WatchHandlers, opts: WatchOptions): Watch;
  currentRevision(): Promise<number>;
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
