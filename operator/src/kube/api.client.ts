// The reconcilers' client of a Kubernetes API (the host, Multiplane's root, or one tenant): JSON
// requests by path with the credentials of a client-node KubeConfig (CA, client certificates,
// bearer tokens, exec plugins), one keep-alive agent per client. Paths rather than typed
// clients: the reconcilers handle a handful of kinds as plain objects, and merge patches and
// status writes need no per-kind plumbing this way.

import type { KubeConfig } from "@kubernetes/client-node";
import http from "node:http";
import https from "node:https";

/** A failed request: the HTTP code and, when the server sent a metav1.Status, its reason. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether `err` is the server's answer with this HTTP code. */
export const isStatus = (err: unknown, code: number): boolean => err instanceof ApiError && err.code === code;

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Used by the reconcilers; one per KubeConfig (so per host, root or tenant credential). */
export class ApiClient {
  private agent: http.Agent | undefined;
  private readonly server: URL;

  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs = 30_000,
  ) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
  }

  /** Sends a request; resolves with the parsed answer, throws ApiError on a non-2xx answer. */
  async request<T>(
    method: Method,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<T> {
    // Asked per request: tokens from exec plugins and token files may rotate.
    const opts: https.RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    const secure = this.server.protocol === "https:";
    this.agent ??= secure
      ? new https.Agent({
          keepAlive: true,
          ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
          ...(opts.key !== undefined ? { key: opts.key } : {}),
          ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
          ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
        })
      : new http.Agent({ keepAlive: true });
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(this.server.pathname.replace(/\/$/, "") + path, this.server);
    const headers: Record<string, string> = {
      ...(opts.headers as Record<string, string>),
      Accept: "application/json",
      ...(payload !== undefined
        ? { "Content-Type": contentType, "Content-Length": String(payload.length) }
        : {}),
    };
    const send = secure ? https.request : http.request;
    return new Promise<T>((resolve, reject) => {
      const req = send(
        url,
        { method, headers, agent: this.agent, signal: AbortSignal.timeout(this.timeoutMs) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const code = res.statusCode ?? 0;
            let parsed: unknown;
            try {
              parsed = text === "" ? undefined : JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            if (code >= 200 && code < 300) return resolve(parsed as T);
            const status = (parsed ?? {}) as { reason?: unknown; message?: unknown };
            reject(
              new ApiError(
                code,
                typeof status.reason === "string" ? status.reason : "",
                `${method} ${path}: ${code} ${typeof status.message === "string" ? status.message : text.slice(0, 200)}`,
              ),
            );
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
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

  /** Drops the keep-alive connections. */
  close(): void {
    this.agent?.destroy();
  }
}
