// The reconcilers' cached reads, as controller-runtime's client reads from its informers: an API
// path of a collection an informer holds (Organizations, namespaces, Roles…) is answered from
// that informer's cache, with no request. An object the operator has just written is answered
// as written until the informer has caught up with it (client-go's MutationCache), so the next
// reconcile does not repeat a write it cannot yet see. A collection no informer holds is not
// answered here (the caller asks the API).

import type { KubernetesObject } from "@kubernetes/client-node";
import { keyOf, type Informer } from "../runtime/index.ts";

/** An API path taken apart: `/api/v1/namespaces/ns/secrets/name/status` and the like. */
export interface ParsedPath {
  /** The collection across namespaces: `/api/v1/secrets`. */
  readonly collection: string;
  readonly namespace?: string;
  readonly name?: string;
}

const namespaceSubresources = new Set(["status", "finalize"]);

/** The parts of a resource path; undefined for anything else (discovery, /clusters/…). Pure. */
export function parsePath(path: string): ParsedPath | undefined {
  const segs = path.split("?")[0]!.split("/").slice(1);
  let gv: string;
  if (segs[0] === "api" && segs.length >= 3) gv = `/api/${segs[1]}`;
  else if (segs[0] === "apis" && segs.length >= 4) gv = `/apis/${segs[1]}/${segs[2]}`;
  else return undefined;
  let rest = segs.slice(gv.split("/").length - 1);
  let namespace: string | undefined;
  // namespaces/<ns>/<resource>…, but not a namespace's own subresources (namespaces/<ns>/status).
  if (
    rest[0] === "namespaces" &&
    rest.length >= 3 &&
    !(rest.length === 3 && namespaceSubresources.has(rest[2]!))
  ) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const [resource, name] = rest;
  if (resource === undefined || resource === "" || rest.length > 3) return undefined;
  return {
    collection: `${gv}/${resource}`,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined && name !== "" ? { name: decodeURIComponent(name) } : {}),
  };
}

/** An object the operator wrote that its informer had not delivered yet. */
interface Written {
  readonly obj: KubernetesObject;
  readonly at: number;
}

interface Source {
  readonly informer: Informer<KubernetesObject>;
  readonly written: Map<string, Written>;
  readonly off: () => void;
}

/** How long a write is answered without its informer confirming it (a broken watch's bound). */
const writtenTtlMs = 30_000;

/** resourceVersions are etcd (or SQLite) revisions here; NaN for anything else. */
const revisionOf = (obj: KubernetesObject | undefined): number =>
  Number(obj?.metadata?.resourceVersion ?? NaN);

/** Whether `a` is a later state than `b` (or `b` is absent); false when `a` has no revision. */
const newer = (a: KubernetesObject, b: KubernetesObject | undefined): boolean =>
  Number.isFinite(revisionOf(a)) && (b === undefined || revisionOf(a) > revisionOf(b));

/** One per ApiClient; filled by startOperator (cover), read and told of writes by ApiClient. */
export class ObjectCache {
  readonly #sources = new Map<string, Source>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Answers reads of `collection` (e.g. `/api/v1/secrets`) from `informer` from now on. */
  cover(collection: string, informer: Informer<KubernetesObject>): void {
    this.#sources.get(collection)?.off();
    const written = new Map<string, Written>();
    // Once the informer delivers a write (or anything newer, or the object's deletion), the
    // informer answers for it again.
    const caughtUp = (obj: KubernetesObject): void => {
      const key = keyOf(obj);
      const w = written.get(key);
      if (w !== undefined && !newer(w.obj, obj)) written.delete(key);
    };
    const offs = [
      informer.on("add", caughtUp),
      informer.on("update", caughtUp),
      informer.on("delete", (obj) => written.delete(keyOf(obj))),
    ];
    this.#sources.set(collection, { informer, written, off: () => offs.forEach((off) => off()) });
  }

  /** Stops answering from every informer (they stopped). */
  clear(): void {
    for (const s of this.#sources.values()) s.off();
    this.#sources.clear();
  }

  /**
   * The object at `path` as the cache knows it ({obj: undefined}: it does not exist), or
   * undefined when no informer holds its collection. Callers must not change the object.
   */
  lookup<T>(path: string): { readonly obj: T | undefined } | undefined {
    const p = parsePath(path);
    if (p?.name === undefined) return undefined;
    const source = this.#sources.get(p.collection);
    if (source === undefined) return undefined;
    const key = p.namespace !== undefined ? `${p.namespace}/${p.name}` : p.name;
    const cached = source.informer.get(key);
    const w = source.written.get(key);
    if (w !== undefined) {
      if (newer(w.obj, cached) && this.now() - w.at < writtenTtlMs) return { obj: w.obj as T };
      source.written.delete(key);
    }
    return { obj: cached as T | undefined };
  }

  /** `obj` was just written (the answer to a create, update or patch of `path`). */
  wrote(path: string, obj: unknown): void {
    const p = parsePath(path);
    const source = p === undefined ? undefined : this.#sources.get(p.collection);
    const o = obj as KubernetesObject | undefined;
    if (source === undefined || o?.metadata?.name === undefined) return;
    const key = keyOf(o);
    if (newer(o, source.informer.get(key))) source.written.set(key, { obj: o, at: this.now() });
  }

  /** The object at `path` was deleted by the operator: the informer answers for it again. */
  deleted(path: string): void {
    const p = parsePath(path);
    if (p?.name === undefined) return;
    this.#sources
      .get(p.collection)
      ?.written.delete(p.namespace !== undefined ? `${p.namespace}/${p.name}` : p.name);
  }
}
