// The reconcilers' client of a Kubernetes API (the host, Multiplane's root, or one tenant): the
// runtime's RestClient (JSON by path, the KubeConfig's credentials, keep-alive connections)
// with the verbs the reconcilers speak: a read that answers undefined for a missing object
// and a delete that does not mind one. Paths rather than typed clients: the reconcilers handle
// a handful of kinds as plain objects, and merge patches and status writes need no per-kind
// plumbing this way. Reads that may be answered from the operator's informers (`read`) go
// through its ObjectCache; `get` always asks the API.

import type { KubeConfig } from "@kubernetes/client-node";
import type https from "node:https";
import { isStatus, RestClient } from "../runtime/index.ts";
import { ObjectCache } from "./object-cache.ts";

export { ApiError, isStatus } from "../runtime/index.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Used by the reconcilers; one per KubeConfig (so per host, root or tenant credential). */
export class ApiClient {
  readonly #rest: RestClient;
  /** The informers' objects `read` answers from (none until startOperator covers collections). */
  readonly cache = new ObjectCache();

  /** `agent`: connections shared with other clients of the same server (tenant clients). */
  constructor(kc: KubeConfig, agent?: https.Agent) {
    this.#rest = new RestClient(kc, agent !== undefined ? { agent } : {});
  }

  /** Sends a request; resolves with the parsed answer, throws ApiError on a non-2xx answer. */
  async request<T>(method: Method, path: string, body?: unknown, contentType?: string): Promise<T> {
    const answer = await this.#rest.request<T>(path, {
      method,
      ...(body !== undefined ? { body } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
    });
    if (method === "DELETE") this.cache.deleted(path);
    else if (method !== "GET") this.cache.wrote(path, answer);
    return answer;
  }

  /**
   * The object at `path` as the operator's informers hold it (no request), or from the API when
   * none holds its kind; undefined when it does not exist. May lag behind the API (not behind
   * the operator's own writes): writes based on it carry its resourceVersion or tolerate
   * AlreadyExists. Callers must not change the object.
   */
  async read<T>(path: string): Promise<T | undefined> {
    const cached = this.cache.lookup<T>(path);
    return cached !== undefined ? cached.obj : this.get<T>(path);
  }

  /** The object at `path`, or undefined when it does not exist. */
  async get<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>("GET", path);
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  /** Deletes the object at `path`; true when it was there (a 404 is no error). */
  async delete(path: string, options: Record<string, unknown> = {}): Promise<boolean> {
    try {
      await this.request("DELETE", path, { apiVersion: "v1", kind: "DeleteOptions", ...options });
      return true;
    } catch (err) {
      if (isStatus(err, 404)) return false;
      throw err;
    }
  }

  /** Drops the kept-alive connections. */
  close(): void {
    this.#rest.close();
  }
}
