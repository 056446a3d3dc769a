// The one implementation of `Storage`, over any `Backend`. What must be identical
// on etcd and on the embedded engine lives here: the tenant check on every key,
// preconditions, the guaranteedUpdate loop, continue tokens and Gone mapping.

import { Buffer } from "node:buffer";
import {
  conflict,
  continueExpired,
  invalidArgument,
  isStorageError,
  notFound,
  alreadyExists,
  StorageError,
} from "./errors.ts";
import type {
  Backend,
  GetResult,
  KeyValue,
  ListOptions,
  ListResult,
  Preconditions,
  ReadOptions,
  Storage,
  Watch,
  WatchHandlers,
  WatchOptions,
} from "./interface.ts";
import { prefixEnd, type StorageKey, type StoragePrefix } from "./keys.ts";

// `/<root>/tenants/<uid>/…`: the shape every key and prefix must have. Checked on every
// call, not only at build time, so a key forged by a cast still cannot leave its tenant.
const tenantShape = /^\/[^/]+\/tenants\/[^/]+\//;

function assertTenantKey(key: string): void {
  if (!tenantShape.test(key) || key.endsWith("/")) throw invalidArgument(`not a tenant object key: ${key}`);
}

function assertTenantPrefix(prefix: string): void {
  if (!tenantShape.test(prefix) || !prefix.endsWith("/"))
    throw invalidArgument(`not a tenant prefix: ${prefix}`);
}

/** kube's continue token: base64(JSON {v, rv, start}); `start` is relative to the list's prefix. */
interface ContinueToken {
  v: "meta.k8s.io/v1";
  rv: number;
  start: string;
}

export function encodeContinue(rv: number, start: string): string {
  const token: ContinueToken = { v: "meta.k8s.io/v1", rv, start };
  return Buffer.from(JSON.stringify(token)).toString("base64");
}

export function decodeContinue(token: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
  } catch {
    throw invalidArgument("continue key is not valid: invalid encoding");
  }
  const t = parsed as Partial<ContinueToken> | null;
  if (t === null || typeof t !== "object" || t.v !== "meta.k8s.io/v1") {
    throw invalidArgument(
      "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    );
  }
  if (typeof t.rv !== "number" || !Number.isSafeInteger(t.rv) || t.rv <= 0) {
    throw invalidArgument(
      "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    );
  }
  if (typeof t.start !== "string" || t.start === "") {
    throw invalidArgument("continue key is not valid: encoded start key is empty");
  }
  return { v: t.v, rv: t.rv, start: t.start };
}

function uidOf(value: Uint8Array): string | undefined {
  try {
    const obj = JSON.parse(
      Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8"),
    ) as {
      metadata?: { uid?: unknown };
    };
    return typeof obj.metadata?.uid === "string" ? obj.metadata.uid : undefined;
  } catch {
    return undefined;
  }
}

/** Throws Conflict (kube's "Precondition failed" message) when `kv` does not satisfy `pre`. */
function checkPreconditions(key: string, kv: KeyValue, pre: Preconditions | undefined): void {
  if (pre === undefined) return;
  if (pre.uid !== undefined) {
    const uid = uidOf(kv.value);
    if (uid !== pre.uid) {
      throw conflict(
        key,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${uid ?? ""}`,
      );
    }
  }
  if (pre.resourceVersion !== undefined && pre.resourceVersion !== kv.modRevision) {
    throw conflict(
      key,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${kv.modRevision}`,
      kv.modRevision,
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || Buffer.compare(a, b) === 0;
}

export class Store implements Storage {
  constructor(private readonly backend: Backend) {}

  async create(key: StorageKey, value: Uint8Array): Promise<KeyValue> {
    assertTenantKey(key);
    const res = await this.backend.create(key, value);
    if (!res.ok) throw alreadyExists(key);
    return res.kv;
  }

  async get(key: StorageKey, opts: ReadOptions = {}): Promise<GetResult> {
    assertTenantKey(key);
    const { kv, revision } = await this.backend.get(key, opts.revision || undefined);
    if (kv === undefined) throw notFound(key);
    return { kv, revision };
  }

  async list(prefix: StoragePrefix, opts: ListOptions = {}): Promise<ListResult> {
    assertTenantPrefix(prefix);
    const limit = opts.limit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) throw invalidArgument(`invalid limit: ${limit}`);
    let start: string = prefix;
    let revision = opts.revision || undefined;
    if (opts.continue !== undefined && opts.continue !== "") {
      if (revision !== undefined) {
        throw invalidArgument("specifying resource version is not allowed when using continue");
      }
      const token = decodeContinue(opts.continue);
      start = prefix + token.start;
      revision = token.rv;
    }
    const end = prefixEnd(prefix);
    let res;
    try {
      res = await this.backend.range(start, end, {
        ...(revision === undefined ? {} : { revision }),
        ...(limit > 0 ? { limit } : {}),
      });
    } catch (err) {
      if (opts.continue && isStorageError(err, "Gone"))
        throw continueExpired(revision ?? 0, err.details.revision ?? 0);
      throw err;
    }
    const more = res.count > res.kvs.length;
    const last = res.kvs.at(-1);
    if (!more || last === undefined) return { items: res.kvs, revision: res.revision };
    return {
      items: res.kvs,
      revision: res.revision,
      // "\0" makes the next page start strictly after the last key.
      continue: encodeContinue(res.revision, last.key.slice(prefix.length) + "\u0000"),
      remainingItemCount: res.count - res.kvs.length,
    };
  }

  async guaranteedUpdate(
    key: StorageKey,
    update: (current: KeyValue) => Uint8Array | Promise<Uint8Array>,
    opts: { preconditions?: Preconditions; cached?: KeyValue } = {},
  ): Promise<KeyValue> {
    assertTenantKey(key);
    let current = opts.cached;
    // A cached state may be stale: on any failure against it, read the truth once and retry.
    let stale = current !== undefined;
    if (current === undefined) current = (await this.get(key)).kv;
    for (;;) {
      try {
        checkPreconditions(key, current, opts.preconditions);
      } catch (err) {
        if (!stale) throw err;
        current = (await this.get(key)).kv;
        stale = false;
        continue;
      }
      const next = await update(current);
      if (sameBytes(next, current.value)) {
        // Nothing to write, but only a fresh state may be returned as the truth.
        if (!stale) return current;
        current = (await this.get(key)).kv;
        stale = false;
        continue;
      }
      const res = await this.backend.update(key, next, current.modRevision, current.createRevision);
      if (res.ok) return res.kv;
      if (res.current === undefined) throw notFound(key);
      current = res.current;
      stale = false;
    }
  }

  async delete(
    key: StorageKey,
    opts: { preconditions?: Preconditions } = {},
  ): Promise<{ kv: KeyValue; revision: number }> {
    assertTenantKey(key);
    let current = (await this.get(key)).kv;
    for (;;) {
      checkPreconditions(key, current, opts.preconditions);
      const res = await this.backend.delete(key, current.modRevision);
      if (res.ok) return { kv: res.kv, revision: res.revision };
      if (res.current === undefined) throw notFound(key);
      current = res.current;
    }
  }

  async deletePrefix(prefix: StoragePrefix): Promise<number> {
    assertTenantPrefix(prefix);
    return this.backend.deleteRange(prefix, prefixEnd(prefix));
  }

  async usage(prefix: StoragePrefix): Promise<{ keys: number; bytes: number }> {
    assertTenantPrefix(prefix);
    const res = await this.backend.range(prefix, prefixEnd(prefix), {});
    let bytes = 0;
    for (const kv of res.kvs) bytes += kv.key.length + kv.value.byteLength;
    return { keys: res.count, bytes };
  }

  watch(prefix: StoragePrefix, handlers: WatchHandlers, opts: WatchOptions = {}): Watch {
    assertTenantPrefix(prefix);
    return this.backend.watch(prefix, prefixEnd(prefix), handlers, opts);
  }

  currentRevision(): Promise<number> {
    return this.backend.currentRevision();
  }

  async compact(revision: number): Promise<void> {
    if (!Number.isSafeInteger(revision) || revision <= 0)
      throw invalidArgument(`invalid compaction revision ${revision}`);
    await this.backend.compact(revision);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}

export { StorageError };
