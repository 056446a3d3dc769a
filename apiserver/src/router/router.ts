// The front router: one HTTPS listener in front of the shards. /livez and /readyz are its own
// (ready once its directory is). For each other request, in order:
//   1. route: the tenant from the path or host (tenant-route.ts), 400/404 for bad ones;
//   2. tenant: looked up in the directory; 404 unknown, 503 + Retry-After while Pending,
//      503 without Retry-After while Terminating (client-go retries only with Retry-After, and
//      a 410 would tell reflectors to relist, forever); 503 + Retry-After when its shard is unknown;
//   3. authentication with the tenant's authenticators (authentication.ts); a bearer token
//      the router does not accept goes to the shard untouched (ServiceAccount tokens);
//   4. header hygiene and identity (forward-headers.ts);
//   5. fairness: per-tenant in-flight limit and queue, and fair queuing of the requests each
//      shard is sent (seats per shard, each tenant at most its fair share of them: the router
//      cannot see what a request waits on at the shard, a slow webhook or etcd, so no tenant
//      may fill a shard's seats), watches exempt (fairness.ts);
//   6. forwarding over mTLS with the router's client certificate to `/clusters/<tenant>/…` on
//      the shard, both bodies streamed (a watch's events reach the client as the shard writes
//      them); a client that goes away aborts the upstream request; a shard that cannot be
//      reached is a 503 Status. A shard in the router's own process (`multiplane up`) is handed
//      the same request (path, forwarded headers, the router's certificate) without the network
//      hop: its chain reads the client's body and answers the client itself.

import { X509Certificate } from "node:crypto";
import { Agent, createServer, request, type Server } from "node:https";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import { internalError, isStatusError, serviceUnavailable, type Status } from "../apierrors/status.ts";
import type { Authenticator, UserInfo } from "../authn/user.ts";
import { peerCertificates } from "../authn/x509-verify.ts";
import type { CertKeyPair } from "../server/pki.ts";
import { routedMethods, type ServeRouted } from "../server/routed.ts";
import { parseRequestInfo } from "../request/request-info.ts";
import { TenantFairness, type FairnessOptions } from "./fairness.ts";
import { forwardHeaders } from "./forward-headers.ts";
import type { RoutedTenant, TenantDirectory } from "./tenant-directory.ts";
import { routeRequest, tenantNotFound } from "./tenant-route.ts";

export interface RouterOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The router's serving certificate and key. */
  readonly serving: CertKeyPair;
  /** CAs whose client certificates the TLS handshake asks for (the x509 authenticator verifies them). */
  readonly clientCAPem: string;
  readonly directory: TenantDirectory;
  readonly authenticator: Authenticator;
  /** How the router reaches the shards: their CA and its client certificate (requestheader CA). */
  readonly upstream: { readonly caPem: string; readonly clientCertificate: CertKeyPair };
  /** The entry of a shard in this process, by shard URL (`multiplane up`); undefined: over the network. */
  readonly inProcess?: (shardURL: string) => ServeRouted | undefined;
  /** Tenants by host `<org>[.<project>].<baseDomain>`; absent: by path only. */
  readonly baseDomain?: string;
  readonly fairness?: FairnessOptions;
  /** Whether the router is ready (its /readyz): e.g. its directory listed the tenants. Default always. */
  readonly ready?: () => boolean;
  readonly log: Logger;
}

export interface RunningRouter {
  readonly url: string;
  readonly port: number;
  /** Requests forwarded to shards over the network and not yet finished (watches included). */
  readonly upstreamRequests: () => number;
  /** A tenant's requests in flight and queued under the fairness limit (watches not counted). */
  readonly fairnessLoad: (tenant: string) => { inflight: number; queued: number };
  close(): Promise<void>;
}

/** Hop-by-hop response headers: the router's connection to the client has its own. */
const hopByHopResponse = new Set(["connection", "keep-alive", "transfer-encoding", "trailer", "upgrade"]);

/** Sends a Status as the shard would (JSON, no-cache, Retry-After from its details). */
function sendStatus(res: ServerResponse, status: Status): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const retry = status.details?.retryAfterSeconds;
  res.writeHead(status.code, {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    ...(retry !== undefined ? { "Retry-After": String(retry) } : {}),
  });
  res.end(JSON.stringify(status));
}

/** kube's long-running requests (exempt from in-flight limits): watches, followed logs, exec/attach/port-forward/proxy. */
function isLongRunning(method: string, path: string, search: string): boolean {
  const query = new URLSearchParams(search);
  const info = parseRequestInfo(method, path, query);
  if (info.verb === "watch") return true;
  if (info.subresource === "log" && (query.get("follow") === "true" || query.get("follow") === "1"))
    return true;
  return ["exec", "attach", "portforward", "proxy"].includes(info.subresource);
}

/** The router's own health endpoints (anonymous): "/livez" and "/readyz", query aside. */
function healthCheck(url: string): "livez" | "readyz" | undefined {
  const path = url.split("?", 1)[0];
  return path === "/livez" ? "livez" : path === "/readyz" ? "readyz" : undefined;
}

/** Whether the tenant can be served now; the Status to answer otherwise. */
function unavailable(tenant: RoutedTenant): Status | undefined {
  switch (tenant.phase) {
    case "Ready":
      return undefined;
    case "Pending":
      return serviceUnavailable(`tenant "${tenant.name}" is not ready yet`, 1).status;
    case "Terminating":
      return serviceUnavailable(`tenant "${tenant.name}" is being deleted`).status;
  }
}

export async function startRouter(opts: RouterOptions): Promise<RunningRouter> {
  /** Fairness per shard: a shard's total limit protects its event loop, not another shard's. */
  const fairness = new Map<string, TenantFairness>();
  const fairnessOf = (shardURL: string): TenantFairness => {
    let f = fairness.get(shardURL);
    if (f === undefined) fairness.set(shardURL, (f = new TenantFairness(opts.fairness)));
    return f;
  };
  /** What the router presents to a shard in its own process, as its TLS client certificate. */
  const routerCertificates = [new X509Certificate(opts.upstream.clientCertificate.certPem)];
  const agents = new Map<string, Agent>();
  const upstreams = new Set<{ destroy(): void }>();
  const agentFor = (shardURL: string): Agent => {
    let agent = agents.get(shardURL);
    if (agent === undefined) {
      agent = new Agent({
        keepAlive: true,
        ca: opts.upstream.caPem,
        cert: opts.upstream.clientCertificate.certPem,
        key: opts.upstream.clientCertificate.keyPem,
      });
      agents.set(shardURL, agent);
    }
    return agent;
  };

  /**
   * Streams one request to the shard and its answer back; settles when the exchange is over.
   * A long-running answer's headers go at once, others' with the first bytes of the body.
   */
  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    shardURL: string,
    path: string,
    headers: OutgoingHttpHeaders,
    longRunning: boolean,
  ): Promise<void> =>
    new Promise<void>((resolve) => {
      const target = new URL(shardURL);
      const upstream = request({
        agent: agentFor(shardURL),
        protocol: "https:",
        hostname: target.hostname.replace(/^\[|\]$/g, ""),
        port: target.port === "" ? 443 : Number(target.port),
        method: req.method ?? "GET",
        path,
        headers: { ...headers, host: target.host },
      });
      upstreams.add(upstream);
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        upstreams.delete(upstream);
        resolve();
      };
      upstream.on("response", (answer) => {
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !hopByHopResponse.has(name)) out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        // A watch's headers now, not with the first chunk: it may have no event for a while.
        // Any other answer's go with its body, in one write (one TLS record, one syscall).
        if (longRunning) res.flushHeaders();
        answer.pipe(res);
        answer.on("end", done);
        answer.on("error", () => {
          res.destroy();
          done();
        });
      });
      upstream.on("error", (err) => {
        if (!res.headersSent && !res.destroyed) {
          opts.log.warn({ err, shard: shardURL }, "shard request failed");
          sendStatus(res, serviceUnavailable(`the tenant's shard is unavailable: ${err.message}`, 1).status);
        } else {
          res.destroy();
        }
        done();
      });
      // The client went away (or the exchange ended): stop the upstream request, which ends a
      // watch on the shard.
      res.on("close", () => {
        if (!res.writableFinished) upstream.destroy();
        done();
      });
      req.on("error", () => upstream.destroy());
      req.pipe(upstream);
    });

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const health = healthCheck(req.url ?? "/");
    if (health !== undefined) {
      const ok = health === "livez" || (opts.ready?.() ?? true);
      res.writeHead(ok ? 200 : 500, {
        "Content-Type": "text/plain; charset=utf-8",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache, private",
      });
      res.end(ok ? "ok" : "[-]tenant-directory failed: not listed yet\nreadyz check failed\n");
      return;
    }
    const route = routeRequest(req.url ?? "/", req.headers.host, opts.baseDomain);
    const tenant = opts.directory.lookup(route.tenant);
    if (tenant === undefined) throw tenantNotFound(route.tenant);
    const notServed = unavailable(tenant);
    if (notServed !== undefined) return sendStatus(res, notServed);
    const shardURL = opts.directory.shardURL(tenant.shard);
    if (shardURL === undefined) {
      return sendStatus(
        res,
        serviceUnavailable(`shard "${tenant.shard}" of tenant "${tenant.name}" is unknown`, 1).status,
      );
    }

    // Authentication: a user, or nobody (the shard sees the Authorization header, if any).
    let user: UserInfo | null = null;
    try {
      user = await opts.authenticator.authenticate({
        headers: req.headers,
        headersDistinct: req.headersDistinct,
        tenant,
        peerCertificates: peerCertificates(req.socket as TLSSocket),
      });
    } catch (err) {
      // No authenticator took the request and one of them broke; the shard gets the chance
      // (and answers 401 when it cannot either). Tokens are never logged.
      opts.log.warn(
        { tenant: tenant.name, reason: (err as Error).message },
        "authentication error at the router",
      );
    }
    const headers = forwardHeaders({
      headers: req.headersDistinct,
      clientAddress: req.socket.remoteAddress,
      user: user ?? undefined,
    });

    const method = req.method ?? "GET";
    const longRunning = isLongRunning(method, route.path, route.search);
    const local = routedMethods.has(method) ? opts.inProcess?.(shardURL) : undefined;
    const send = (): Promise<void> =>
      local !== undefined
        ? local(req, res, { url: route.upstreamPath, headers, peerCertificates: routerCertificates })
        : forward(req, res, shardURL, route.upstreamPath, headers, longRunning);
    // Long-running requests hold no seat; a shard in this process (multiplane up) queues the
    // request itself on the same event loop, so the router does not queue it a second time.
    if (longRunning || local !== undefined) return send();
    const gone = new AbortController();
    const onClose = (): void => gone.abort(new Error("client closed the connection"));
    res.once("close", onClose);
    try {
      await fairnessOf(shardURL).run(tenant.name, send, gone.signal);
    } catch (err) {
      if (gone.signal.aborted && !isStatusError(err)) return; // nobody left to answer
      throw err;
    } finally {
      res.off("close", onClose);
    }
  };

  const server: Server = createServer(
    {
      key: opts.serving.keyPem,
      cert: opts.serving.certPem,
      minVersion: "TLSv1.2",
      // Client certificates are asked for, never required: the x509 authenticator verifies them.
      requestCert: true,
      rejectUnauthorized: false,
      ca: opts.clientCAPem,
      // Watches are long; the shard and the client decide when they end.
      requestTimeout: 0,
      keepAliveTimeout: 65_000,
    },
    (req, res) => {
      serve(req, res).catch((err: unknown) => {
        if (isStatusError(err)) return sendStatus(res, err.status);
        opts.log.error({ err, path: req.url }, "router internal error");
        sendStatus(res, internalError().status);
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : opts.port;
  return {
    url: `https://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`,
    port,
    upstreamRequests: () => upstreams.size,
    fairnessLoad: (tenant) => {
      const load = { inflight: 0, queued: 0 };
      for (const f of fairness.values()) {
        const l = f.load(tenant);
        load.inflight += l.inflight;
        load.queued += l.queued;
      }
      return load;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Watches never end by themselves: end them; clients re-watch elsewhere.
      for (const u of upstreams) u.destroy();
      server.closeIdleConnections();
      server.closeAllConnections();
      await closed;
      for (const a of agents.values()) a.destroy();
    },
  };
}
