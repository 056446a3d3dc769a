// JSON requests to a Kubernetes API by path, with the credentials of a client-node
// KubeConfig (CA, client certificates, bearer tokens, exec plugins) and a deadline per
// request. The runtime speaks paths because informers are given list paths and because
// leader election needs a deadline on every renewal, which client-node's typed clients
// cannot set.

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

/** Whether `err` is an answer of the server with this HTTP code. */
export const isStatus = (err: unknown, code: number): boolean => err instanceof ApiError && err.code === code;

export interface RequestOptions {
  readonly method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Serialized as JSON. */
  readonly body?: unknown;
  /** Default application/json; PATCH callers name their patch type. */
  readonly contentType?: string;
  /** Ends the request (rejecting) when aborted. */
  readonly signal?: AbortSignal;
  /** Ends the request (rejecting) after this long; default 30 s. */
  readonly timeoutMs?: number;
}

/** Called by informers, leader electors and event recorders; one per KubeConfig user. */
export class RestClient {
  /** One agent for every request, so that connections (and TLS sessions) are reused. */
  private agent: http.Agent | undefined;
  /** Whether the agent is the caller's (shared with other clients: close leaves it open). */
  private readonly sharedAgent: boolean;
  private readonly server: URL;
  /** The user's TLS options and headers, when they cannot change (see tlsOptions). */
  private staticTLS: https.RequestOptions | undefined;

  /**
   * `opts.agent`: the agent to send with, shared with other clients of the same server and CA
   * (the operator's tenant clients, which differ only by path and token); the KubeConfig's
   * TLS settings on a keep-alive agent of this client's own otherwise.
   */
  constructor(
    private readonly kc: KubeConfig,
    opts: { readonly agent?: http.Agent } = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
    this.agent = opts.agent;
    this.sharedAgent = opts.agent !== undefined;
  }

  /** Sends a request to `path` (with its query) and resolves with the parsed JSON answer. */
  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const { method = "GET", body, contentType = "application/json", timeoutMs = 30_000 } = opts;
    const tls = await this.tlsOptions();
    this.agent ??= this.keepAliveAgent(tls);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(this.server.pathname.replace(/\/$/, "") + path, this.server);
    const signals = [AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])];
    const headers: http.OutgoingHttpHeaders = {
      ...(tls.headers as http.OutgoingHttpHeaders),
      Accept: "application/json",
      ...(payload ? { "Content-Type": contentType, "Content-Length": String(payload.length) } : {}),
    };
    const send = url.protocol === "https:" ? https.request : http.request;
    return new Promise<T>((resolve, reject) => {
      const req = send(
        url,
        { method, headers, agent: this.agent, signal: AbortSignal.any(signals) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) {
              try {
                resolve(JSON.parse(text) as T);
              } catch (err) {
                reject(new Error(`${method} ${path}: the answer is not JSON`, { cause: err }));
              }
              return;
            }
            reject(apiError(method, path, code, text));
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /**
   * The KubeConfig user's TLS options and headers: asked per request of a user whose token an
   * exec plugin or an auth provider (in-cluster token files) may rotate; once for a static one.
   * Callers must not change them.
   */
  private async tlsOptions(): Promise<https.RequestOptions> {
    if (this.staticTLS !== undefined) return this.staticTLS;
    const tls: https.RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(tls);
    const user = this.kc.getCurrentUser();
    if (user !== null && user.exec === undefined && user.authProvider === undefined) this.staticTLS = tls;
    return tls;
  }

  /** Drops the kept-alive connections (a client of a tenant that is gone); a shared agent stays. */
  close(): void {
    if (this.sharedAgent) return;
    this.agent?.destroy();
    this.agent = undefined;
  }

  /**
   * client-node's agent for this cluster, or, when it is a plain one (no proxy), the same TLS
   * settings on an agent that keeps connections open: lease renewals and events then reuse
   * one connection instead of a TLS handshake each.
   */
  private keepAliveAgent(tls: https.RequestOptions): http.Agent {
    const agent = tls.agent as http.Agent;
    if (agent.constructor === http.Agent) return new http.Agent({ keepAlive: true });
    if (agent.constructor !== https.Agent) return agent;
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = tls;
    return new https.Agent({
      keepAlive: true,
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(pfx !== undefined ? { pfx } : {}),
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
      ...(servername !== undefined ? { servername } : {}),
    });
  }
}

/** The error of a non-2xx answer, from its metav1.Status when there is one. */
function apiError(method: string, path: string, code: number, text: string): ApiError {
  let status: { reason?: unknown; message?: unknown } = {};
  try {
    status = JSON.parse(text) as typeof status;
  } catch {
    // Not a Status (a proxy's HTML page, say): the code says enough.
  }
  const reason = typeof status.reason === "string" ? status.reason : "";
  const message = typeof status.message === "string" ? status.message : text.slice(0, 200);
  return new ApiError(code, reason, `${method} ${path}: ${code} ${reason}: ${message}`);
}
