// The HTTPS server: fastify for TLS, HTTP parsing and body limits; every request goes
// through the one handler chain (chain.ts). A router in the same process hands its requests
// to the chain directly (serveRouted, routed.ts).

import type { X509Certificate } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { TLSSocket } from "node:tls";
import Fastify, { type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { requestEntityTooLarge, badRequest, isStatusError } from "../apierrors/status.ts";
import type { Authenticator } from "../authn/user.ts";
import { peerCertificates } from "../authn/x509-verify.ts";
import type { JwtIssuer } from "../authn/jwt-keys.ts";
import {
  TenantAuditSinks,
  WebhookSink,
  type AuditPolicy,
  type Auditor,
  type WebhookSinkOptions,
} from "../audit/index.ts";
import type { ApiserverMetrics } from "../metrics/index.ts";
import type { Tenant, TenantManager } from "../tenancy/instance.ts";
import { sendStatus, serveRequest, type ChainDeps, type ChainRequest } from "./chain.ts";
import { readBody, routedChainRequest, routedMethods, type ServeRouted } from "./routed.ts";
import type { ServingPKI } from "./pki.ts";
import { ShardFairness, type ShardFairnessOptions } from "./fairness.ts";

/** kube-apiserver's limit on a request body. */
export const maxRequestBytes = 3 * 1024 * 1024;

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly pki: ServingPKI;
  readonly tenants: TenantManager;
  readonly authenticator: Authenticator;
  readonly issuer?: JwtIssuer;
  readonly auditor?: Auditor;
  readonly auditPolicy?: (tenant: Tenant) => AuditPolicy | undefined;
  /** Tuning of the tenants' own audit webhook sinks (their policy's audit.webhook); kube's defaults otherwise. */
  readonly tenantAuditWebhook?: Pick<
    WebhookSinkOptions,
    "bufferSize" | "initialBackoffMs" | "maxBatchWaitMs"
  >;
  readonly metrics?: ApiserverMetrics;
  /** Per-tenant in-flight limits (a tenant's policy overrides the default) and queue. */
  readonly fairness?: ShardFairnessOptions;
  readonly log: Logger;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** The entry of a router in this process (`multiplane up`): the chain without a network hop. */
  readonly serveRouted: ServeRouted;
  close(): Promise<void>;
}

const certificatesOf = new WeakMap<object, X509Certificate[]>();
/** The client's certificate chain, read once per connection (for x509 and requestheader). */
function peerCertificatesOf(socket: IncomingMessage["socket"]): X509Certificate[] {
  let certs = certificatesOf.get(socket);
  if (certs === undefined) {
    certs = socket instanceof TLSSocket ? peerCertificates(socket) : [];
    certificatesOf.set(socket, certs);
  }
  return certs;
}

/** The chain's view of a request off the network. */
function networkRequest(raw: IncomingMessage): ChainRequest {
  return {
    method: raw.method ?? "GET",
    url: raw.url ?? "/",
    headers: raw.headers,
    // Node builds headersDistinct on first read: only requestheader's proxy requests read it.
    get headersDistinct() {
      return raw.headersDistinct;
    },
    remoteAddress: raw.socket.remoteAddress,
    peerCertificates: () => peerCertificatesOf(raw.socket),
  };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const app: FastifyInstance = Fastify({
    https: {
      key: opts.pki.serving.keyPem,
      cert: opts.pki.serving.certPem,
      minVersion: "TLSv1.2",
      // Client certificates are asked for, never required: the authenticators verify them
      // (x509 against the client CA, requestheader against the router's CA).
      requestCert: true,
      rejectUnauthorized: false,
      ca: [opts.pki.ca.certPem, opts.pki.requestHeaderCA.certPem],
    },
    bodyLimit: maxRequestBytes,
    logger: false,
    // Kubernetes names may hold ":" and other characters fastify's router would treat specially.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 4096 },
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, _req, reply) => {
    const status =
      err.code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? requestEntityTooLarge(`Request entity too large: limit is ${maxRequestBytes}`).status
        : badRequest(err.message).status;
    reply.hijack();
    sendStatus(reply.raw, status);
  });

  const watches = new Set<ServerResponse>();
  const fairness = new ShardFairness(opts.fairness);
  // Each tenant's audit webhooks, when the server audits.
  const tenantAuditSinks =
    opts.auditor === undefined
      ? undefined
      : new TenantAuditSinks(
          (webhook) =>
            new WebhookSink({
              url: webhook.url,
              ...(webhook.caPem !== undefined ? { ca: webhook.caPem } : {}),
              ...opts.tenantAuditWebhook,
              ...(opts.metrics !== undefined ? { metrics: opts.metrics.audit } : {}),
              log: opts.log,
            }),
        );
  // A tenant gone from the shard leaves no metrics series and no audit sink behind; an evicted
  // one's sinks are flushed and closed with its instance.
  const offRemoved = opts.tenants.onRemoved((tenant) => {
    opts.metrics?.forgetTenant(tenant.name);
    void tenantAuditSinks?.forget(tenant.name);
  });
  const offEvicted = opts.tenants.onEvicted((tenant) => void tenantAuditSinks?.forget(tenant.name, tenant));
  const deps: ChainDeps = {
    tenants: opts.tenants,
    authenticator: opts.authenticator,
    ...(opts.issuer !== undefined ? { issuer: opts.issuer } : {}),
    ...(opts.auditor !== undefined ? { auditor: opts.auditor } : {}),
    ...(opts.auditPolicy !== undefined ? { auditPolicy: opts.auditPolicy } : {}),
    ...(tenantAuditSinks !== undefined ? { tenantAuditSinks } : {}),
    ...(opts.metrics !== undefined ? { metrics: opts.metrics } : {}),
    fairness,
    log: opts.log,
    watches,
  };
  app.route({
    method: [...routedMethods],
    url: "/*",
    handler: async (req, reply) => {
      reply.hijack();
      await serveRequest(
        deps,
        networkRequest(req.raw),
        reply.raw,
        Buffer.isBuffer(req.body) ? req.body : undefined,
      );
    },
  });
  // Answers as fastify's body reading and error handler above do; the chain never throws.
  const serveRouted: ServeRouted = async (client, res, routed) => {
    const request = routedChainRequest(client, routed);
    let body: Buffer | undefined;
    try {
      // The client's own framing headers (Content-Length, Transfer-Encoding) tell its body.
      body = await readBody(client, request.method, client.headers, maxRequestBytes);
    } catch (err) {
      if (isStatusError(err)) sendStatus(res, err.status);
      else res.destroy(); // the client's stream broke: nobody to answer
      return;
    }
    await serveRequest(deps, request, res, body);
  };

  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : opts.port;
  return {
    url: `https://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`,
    port,
    serveRouted,
    close: async () => {
      offRemoved();
      offEvicted();
      // Watches never end by themselves: end them (a clean end; clients re-watch), then drain.
      const closing = app.close();
      for (const res of watches) res.end();
      app.server.closeIdleConnections();
      await closing;
      await tenantAuditSinks?.close();
    },
  };
}
