// An informer after client-go's reflector and shared informer: it lists a collection
// (paginated), then watches it from the list's resourceVersion with bookmarks, keeps a
// cache keyed "namespace/name" (or "name"), and tells its handlers of adds, updates and
// deletes. A watch that the server ends is resumed from the last resourceVersion seen; a
// 410 Gone (the server's history no longer reaches back there) relists and delivers the
// difference; other failures retry with backoff (800 ms doubling to 30 s). A periodic
// resync re-delivers "update" for every cached object, so that level-triggered
// controllers look at everything again now and then.
//
// Watches go through client-node's `Watch`; lists through RestClient (raw paths, since an
// informer is given a path, not a kind).

import { Watch, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import pino, { type Logger } from "pino";
import { Backoff, sleep } from "./backoff.ts";
import { RestClient } from "./rest.ts";

/** The cache key of an object: "namespace/name", or "name" for cluster-scoped objects. */
export const keyOf = (obj: KubernetesObject): string => {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
};

export type InformerEvent = "add" | "update" | "delete";

/**
 * Called by the informer after its cache has changed. `old` is the cached object an update
 * replaced (the same object on a resync). Handlers must not change the objects: they are the
 * cache's. A handler that throws is logged; the others still run.
 */
export type InformerHandler<T> = (obj: T, old?: T) => void;

export interface InformerOptions {
  /** Re-deliver "update" for every cached object this often (0 or absent: never). */
  readonly resyncMs?: number;
  /** Only objects matching this label selector (the API's syntax). */
  readonly labelSelector?: string;
  readonly log?: Logger;
}

/** How one watch ended. */
type WatchEnd =
  | { readonly kind: "closed"; readonly received: boolean }
  | { readonly kind: "expired" }
  | { readonly kind: "failed"; readonly err: unknown; readonly relist: boolean };

/** Objects per list page, as client-go's pager asks. */
const pageSize = 500;

/** A page of a list as the server sends it (client-node's V1ListMeta calls `continue` `_continue`). */
interface ListPage<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

interface WatchEvent {
  type?: string;
  object?: KubernetesObject & { code?: number; message?: string; reason?: string };
}

/**
 * Objects are JSON as the server sends it (timestamps are strings, whatever client-node's
 * types say); items of a list get the list's apiVersion and kind when they lack them.
 */
export class Informer<T extends KubernetesObject> {
  private readonly rest: RestClient;
  private readonly watcher: Watch;
  private readonly log: Logger;
  private readonly resyncMs: number;
  private readonly labelSelector: string | undefined;
  private cache = new Map<string, T>();
  private readonly handlers: Record<InformerEvent, Set<InformerHandler<T>>> = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
  };
  /** Where the next watch resumes: the last list's or event's resourceVersion. */
  private resourceVersion = "";
  /** apiVersion and kind of the collection's objects, learnt from the list. */
  private typeMeta: { apiVersion?: string; kind?: string } = {};
  private running: { abort: AbortController; resync: NodeJS.Timeout | undefined } | undefined;

  constructor(
    kc: KubeConfig,
    private readonly listPath: string,
    opts: InformerOptions = {},
  ) {
    this.rest = new RestClient(kc);
    this.watcher = new Watch(kc);
    this.log = (opts.log ?? pino({ name: "informer" })).child({ informer: listPath });
    this.resyncMs = opts.resyncMs ?? 0;
    this.labelSelector = opts.labelSelector;
  }

  /**
   * Lists and starts watching; resolves once the first list is in the cache (retrying a failed
   * list with backoff meanwhile), rejects when stop() comes first. Starting a started informer
   * is an error; a stopped one may start again (it relists and delivers the difference).
   */
  start(): Promise<void> {
    if (this.running !== undefined) throw new Error(`informer for ${this.listPath} already started`);
    const abort = new AbortController();
    const synced = new Promise<void>((resolve, reject) => {
      abort.signal.addEventListener(
        "abort",
        () => reject(new Error(`informer for ${this.listPath} stopped`)),
        {
          once: true,
        },
      );
      void this.run(abort.signal, resolve);
    });
    const resync =
      this.resyncMs > 0
        ? setInterval(() => {
            for (const obj of this.cache.values()) this.emit("update", obj, obj);
          }, this.resyncMs)
        : undefined;
    resync?.unref();
    this.running = { abort, resync };
    return synced;
  }

  /** Ends the watch and any wait; the cache stays as it was. */
  stop(): void {
    if (this.running === undefined) return;
    clearInterval(this.running.resync);
    this.running.abort.abort();
    this.running = undefined;
  }

  /** The cached object under `key` ("namespace/name" or "name"); callers must not change it. */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Every cached object (a new array of the cache's objects, which callers must not change). */
  list(): T[] {
    return [...this.cache.values()];
  }

  /** Adds a handler; the function returned removes it. */
  on(event: InformerEvent, fn: InformerHandler<T>): () => void {
    this.handlers[event].add(fn);
    return () => this.handlers[event].delete(fn);
  }

  /** List, then watch, until `signal` is aborted. `synced` is called after the first list. */
  private async run(signal: AbortSignal, synced: () => void): Promise<void> {
    const backoff = new Backoff(800, 30_000);
    let relist = true;
    while (!signal.aborted) {
      if (relist) {
        try {
          await this.relist(signal);
        } catch (err) {
          if (signal.aborted) return;
          this.log.warn({ err }, "list failed; retrying");
          await sleep(backoff.next(), signal);
          continue;
        }
        relist = false;
        backoff.reset();
        synced();
      }
      const end = await this.watch(signal);
      if (signal.aborted) return;
      switch (end.kind) {
        case "closed":
          // The server ended the watch (its timeout, or its shutdown): resume where it was.
          // Only a watch that closes at once, again and again, waits in between.
          if (end.received) backoff.reset();
          else await sleep(backoff.next(), signal);
          break;
        case "expired":
          this.log.info({ resourceVersion: this.resourceVersion }, "watch history expired (410); relisting");
          relist = true;
          break;
        case "failed":
          this.log.warn({ err: end.err, relist: end.relist }, "watch failed; retrying");
          relist = end.relist;
          await sleep(backoff.next(), signal);
          break;
      }
    }
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams(extra);
    if (this.labelSelector !== undefined) q.set("labelSelector", this.labelSelector);
    return q.toString();
  }

  /** Lists every page, replaces the cache and delivers the difference. */
  private async relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont = "";
    let list: ListPage<T>;
    do {
      const query = this.query({ limit: String(pageSize), ...(cont ? { continue: cont } : {}) });
      list = await this.rest.request<ListPage<T>>(`${this.listPath}?${query}`, { signal });
      items.push(...list.items);
      cont = list.metadata?.continue ?? "";
    } while (cont !== "");
    if (signal.aborted) return;
    this.typeMeta = {
      ...(list.apiVersion ? { apiVersion: list.apiVersion } : {}),
      ...(list.kind?.endsWith("List") ? { kind: list.kind.slice(0, -"List".length) } : {}),
    };
    const previous = this.cache;
    this.cache = new Map();
    for (const item of items) {
      const obj = this.typed(item);
      const key = keyOf(obj);
      const old = previous.get(key);
      previous.delete(key);
      this.cache.set(key, obj);
      if (old === undefined) this.emit("add", obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit("update", obj, old);
    }
    // What the cache held and the list no longer has was deleted while nobody watched.
    for (const old of previous.values()) this.emit("delete", old);
    // Every page carries the resourceVersion of the one snapshot they were all read at.
    this.resourceVersion = list.metadata?.resourceVersion ?? "";
  }

  /** One watch from `resourceVersion`, applying its events; resolves with how it ended. */
  private watch(signal: AbortSignal): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let request: AbortController | undefined;
      let received = false;
      let end: WatchEnd | undefined;
      const abort = (): void => request?.abort();
      const onEvent = (type: string, object: WatchEvent["object"]): void => {
        if (end !== undefined || object === undefined) return;
        received = true;
        if (type === "ERROR") {
          // A metav1.Status; the server closes the watch after it.
          end =
            object.code === 410
              ? { kind: "expired" }
              : {
                  kind: "failed",
                  err: new Error(`watch error: ${object.message ?? JSON.stringify(object)}`),
                  relist: true,
                };
          abort();
          return;
        }
        this.apply(type, object);
      };
      const done = (err: unknown): void => {
        signal.removeEventListener("abort", abort);
        if (end === undefined) {
          const code = (err as { statusCode?: unknown } | null)?.statusCode;
          end =
            err === null || err === undefined
              ? { kind: "closed", received }
              : code === 410
                ? { kind: "expired" }
                : { kind: "failed", err, relist: false };
        }
        resolve(end);
      };
      signal.addEventListener("abort", abort, { once: true });
      const params = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: "true",
        // As client-go: a random 5 to 10 minutes, so that watches of many clients do not end in step.
        timeoutSeconds: String(Math.floor(300 + Math.random() * 300)),
        ...(this.labelSelector !== undefined ? { labelSelector: this.labelSelector } : {}),
      };
      this.watcher.watch(this.listPath, params, onEvent, done).then(
        (controller) => {
          request = controller;
          if (signal.aborted || end !== undefined) controller.abort();
        },
        (err: unknown) => done(err),
      );
    });
  }

  private apply(type: string, object: KubernetesObject): void {
    const rv = object.metadata?.resourceVersion;
    switch (type) {
      case "ADDED":
      case "MODIFIED": {
        const obj = this.typed(object as T);
        const key = keyOf(obj);
        const old = this.cache.get(key);
        this.cache.set(key, obj);
        if (old === undefined) this.emit("add", obj);
        else this.emit("update", obj, old);
        break;
      }
      case "DELETED": {
        const obj = this.typed(object as T);
        const key = keyOf(obj);
        if (this.cache.delete(key)) this.emit("delete", obj);
        break;
      }
      case "BOOKMARK":
        // Only a resourceVersion to resume from.
        break;
      default:
        this.log.warn({ type }, "unknown watch event type");
        return;
    }
    if (rv) this.resourceVersion = rv;
  }

  /** The object with the collection's apiVersion and kind when it has none. */
  private typed(obj: T): T {
    if (obj.apiVersion && obj.kind) return obj;
    return { ...this.typeMeta, ...obj };
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const fn of this.handlers[event]) {
      try {
        fn(obj, old);
      } catch (err) {
        this.log.error({ err, event, key: keyOf(obj) }, "informer handler failed");
      }
    }
  }
}
