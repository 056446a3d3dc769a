// The handler chain: the one place that decides the order in which a request passes
// the stages (k8s.io/apiserver's DefaultBuildHandlerChain). There is ordering here in
// play: each stage puts its result on the request context for the ones after it.

import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { randomUUID, type X509Certificate } from "node:crypto";
import type { JwtIssuer } from "../authn/jwt-keys.ts";
import {
  auditAnnotations,
  authorizationDecisions,
  nowMicros,
  platformDefaultAuditPolicy,
  sourceIPs,
  type AuditPolicy,
  type AuditRecorder,
  type AuditSink,
  type Auditor,
  type TenantAuditSinks,
} from "../audit/index.ts";
import type { ApiserverMetrics } from "../metrics/index.ts";
import type { Logger } from "pino";
import {
  forbidden,
  internalError,
  isStatusError,
  notFound,
  unauthorized,
  type Status,
} from "../apierrors/status.ts";
import { isStorageError } from "../storage/errors.ts";
import { anonymousUser, parseBearerToken, type Authenticator, type UserInfo } from "../authn/user.ts";
import { parseRequestInfo, type RequestInfo } from "../request/request-info.ts";
import { forbiddenMessage, type Attributes } from "../authz/authorizer.ts";
import { impersonate, wantsImpersonation } from "./impersonation.ts";
import type { ShardFairness } from "./fairness.ts";
import type { TokenReviewer } from "../endpoints/reviews.handler.ts";
import type { RequestAdmission } from "../registry/store.ts";
import {
  rootTenant,
  tenantNotFound,
  tenantTerminating,
  type TenantInstance,
  type TenantManager,
  type Tenant,
} from "../tenancy/instance.ts";
import { handleNonResource } from "../endpoints/nonresource.handler.ts";
import { handleResource, handleWatch, type Response } from "../endpoints/resource.handler.ts";
import { serialize } from "../endpoints/negotiation.ts";

/**
 * What the chain reads of a request. server.ts makes it from a request off the network; a
 * router in the same process hands one over without a network hop (server.ts serveRouted).
 */
export interface ChainRequest {
  readonly method: string;
  /** Path and query as received: `/clusters/<tenant>/…` or a root tenant path. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Every value of each header, names lowercase (read by requestheader's proxy requests only). */
  readonly headersDistinct: Readonly<Record<string, string[] | undefined>>;
  readonly remoteAddress: string | undefined;
  /** The client certificate chain the connection presented, leaf first ([] when none). */
  readonly peerCertificates: () => X509Certificate[];
}

export interface RequestContext {
  readonly auditId: string;
  readonly method: string;
  /** The path inside the tenant (the /clusters/<tenant> prefix stripped). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer | undefined;
  info?: RequestInfo;
  tenant?: Tenant;
  instance?: TenantInstance;
  /** Who the request acts as (after impersonation). */
  user?: UserInfo;
  /** Who authenticated, when that is not `user` (impersonation). */
  requester?: UserInfo;
  /** What admission left for the response and the audit event. */
  admission?: RequestAdmission;
  /** The request's audit recorder (absent when the server audits nothing). */
  audit?: AuditRecorder;
}

export interface ChainDeps {
  readonly tenants: TenantManager;
  readonly authenticator: Authenticator;
  /** The service-account issuer whose discovery documents the server publishes. */
  readonly issuer?: JwtIssuer;
  /** Audit: the recorder every request begins with, and each tenant's policy (platform default otherwise). */
  readonly auditor?: Auditor;
  readonly auditPolicy?: (tenant: Tenant) => AuditPolicy | undefined;
  /** Each tenant's own audit webhooks: its requests' events go there too. */
  readonly tenantAuditSinks?: TenantAuditSinks;
  /** Prometheus metrics, served at /metrics. */
  readonly metrics?: ApiserverMetrics;
  /** Per-tenant in-flight and watch limits (position 6). */
  readonly fairness: ShardFairness;
  readonly log: Logger;
  /** Open watch streams, ended by the server on shutdown so clients re-watch elsewhere. */
  readonly watches: Set<ServerResponse>;
}

/** Paths anonymous requests may reach (kube's system:public-info-viewer). */
const publicPaths = new Set([
  "/healthz",
  "/livez",
  "/readyz",
  "/version",
  "/.well-known/openid-configuration",
  "/openid/v1/jwks",
]);
const isPublic = (path: string): boolean =>
  publicPaths.has(path) ||
  path.startsWith("/healthz/") ||
  path.startsWith("/livez/") ||
  path.startsWith("/readyz/");

/** Verbs that change a tenant's content (refused while the tenant is being deleted). */
const writeVerbs = new Set(["create", "update", "patch", "delete", "deletecollection"]);

/** Splits `/clusters/<tenant>/rest` into the tenant name and the rest. */
export function splitTenantPath(path: string): { tenant: string; path: string } {
  const m = /^\/clusters\/([^/]+)(\/.*)?$/.exec(path);
  if (!m) return { tenant: "root", path };
  return { tenant: decodeURIComponent(m[1]!), path: m[2] ?? "/" };
}

function sendStatus(res: ServerResponse, status: Status, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const retry = status.details?.retryAfterSeconds;
  res.writeHead(status.code, {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    ...(retry !== undefined ? { "Retry-After": String(retry) } : {}),
    ...extraHeaders,
  });
  res.end(JSON.stringify(status));
}

function sendResponse(res: ServerResponse, method: string, response: Response): void {
  const format = response.output?.format ?? "json";
  // Strings and bytes (the protobuf OpenAPI document) are sent as they are.
  const body =
    typeof response.body === "string" || response.body instanceof Uint8Array
      ? response.body
      : serialize(response.body, format);
  res.writeHead(response.status, {
    "Content-Type": response.output?.contentType ?? "application/json",
    "Cache-Control": "no-cache, private",
    // A known length: headers and body leave in one write, without chunked framing.
    "Content-Length": typeof body === "string" ? Buffer.byteLength(body) : body.byteLength,
    ...(response.warnings?.length ? { Warning: warningHeaders(response.warnings) } : {}),
    ...response.headers,
  });
  res.end(method === "HEAD" ? undefined : body);
}

/** kube's warning recorder limits: 4 KiB of warnings in all, each cut to 256 characters past that. */
const maxWarningsLength = 4096;
const truncatedWarningLength = 256;

/**
 * The Warning header values of a response (RFC 7234 `299 - "text"`, one per warning, as kube
 * writes them): deduplicated; when they exceed 4 KiB each is truncated to 256 characters, and
 * what still does not fit is left out.
 */
export function warningHeaders(warnings: readonly string[]): string[] {
  let unique = [...new Set(warnings.filter((w) => w !== ""))];
  const total = (ws: readonly string[]) => ws.reduce((n, w) => n + [...w].length, 0);
  if (total(unique) > maxWarningsLength) {
    unique = unique.map((w) =>
      [...w].length > truncatedWarningLength ? [...w].slice(0, truncatedWarningLength).join("") : w,
    );
  }
  const kept: string[] = [];
  let size = 0;
  for (const w of unique) {
    size += [...w].length;
    if (size > maxWarningsLength) break;
    kept.push(w);
  }
  return kept.map((w) => `299 - ${JSON.stringify(w)}`);
}

/** Runs one request through every stage, in order. Never throws. */
export async function serveRequest(
  deps: ChainDeps,
  raw: ChainRequest,
  res: ServerResponse,
  body: Buffer | undefined,
): Promise<void> {
  const startedAt = performance.now();
  const receivedAtMicros = nowMicros();
  const url = new URL(raw.url, "https://multiplane.invalid");
  const split = splitTenantPath(url.pathname);
  const ctx: RequestContext = {
    // 1. Audit ID (echoed to the client), panic recovery (the catch below) and request info.
    auditId: typeof raw.headers["audit-id"] === "string" ? raw.headers["audit-id"] : randomUUID(),
    method: raw.method,
    path: split.path,
    query: url.searchParams,
    headers: raw.headers,
    body,
  };
  res.setHeader("Audit-Id", ctx.auditId);
  let done: (() => void) | undefined;
  let outcome: Outcome;
  try {
    outcome = await stages(
      deps,
      ctx,
      raw,
      res,
      split.tenant,
      receivedAtMicros,
      (release) => (done = release),
    );
  } catch (err) {
    outcome = failure(deps, ctx, err);
    if (outcome.panic) ctx.audit?.panic(err);
    sendStatus(res, outcome.status!);
  } finally {
    done?.();
  }
  // 9. Audit ResponseComplete (also for denied and failed requests) and the request metrics.
  if (!outcome.panic) ctx.audit?.complete(outcome.status ?? outcome.code, outcome.body);
  if (deps.metrics !== undefined && ctx.info !== undefined) {
    deps.metrics.recordRequest({
      info: ctx.info,
      method: ctx.method,
      query: ctx.query,
      ...(ctx.headers["content-type"] !== undefined
        ? { contentType: headerValue(ctx.headers["content-type"])! }
        : {}),
      code: outcome.code,
      durationSeconds: (performance.now() - startedAt) / 1000,
      ...(ctx.tenant !== undefined ? { tenant: ctx.tenant.name } : {}),
    });
  }
}

/** How a request ended: its code, and the Status or object answered (for the audit event). */
interface Outcome {
  readonly code: number;
  readonly status?: Status;
  readonly body?: unknown;
  /** An unexpected error (kube's panic recovery): audited at the Panic stage. */
  readonly panic?: boolean;
}

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Stages 2 to 8. Throws a StatusError (or anything, for a 500); answers the client itself otherwise. */
async function stages(
  deps: ChainDeps,
  ctx: RequestContext,
  raw: ChainRequest,
  res: ServerResponse,
  tenantName: string,
  receivedAtMicros: number,
  holdInflight: (release: () => void) => void,
): Promise<Outcome> {
  const info = (ctx.info = parseRequestInfo(ctx.method, ctx.path, ctx.query));

  // 2. Tenant: from the path (the router will set it by header for its own requests). A tenant
  //    no ControlPlane names is a 404; one whose ControlPlane is being deleted serves nothing
  //    (its instance is stopped and its data wiped): a 403 as kube's NamespaceLifecycle answers.
  const tenant = deps.tenants.lookup(tenantName);
  if (tenant === undefined) throw tenantNotFound(tenantName);
  ctx.tenant = tenant;
  if (tenant.terminating === true) {
    const write = info.isResourceRequest && writeVerbs.has(info.verb);
    throw tenantTerminating(
      tenant.name,
      write ? { group: info.apiGroup, resource: info.resource, name: info.name } : undefined,
    );
  }

  // 3. Authentication: the union of authenticators; anonymous only for public paths.
  const authStarted = performance.now();
  const peerCertificates = raw.peerCertificates();
  const user = await deps.authenticator.authenticate({
    headers: ctx.headers,
    bearer: parseBearerToken(ctx.headers),
    // Node builds headersDistinct on first read: only requestheader's proxy requests read it.
    get headersDistinct() {
      return raw.headersDistinct;
    },
    tenant,
    peerCertificates,
  });
  deps.metrics?.recordAuthentication(
    user === null ? "failure" : "success",
    (performance.now() - authStarted) / 1000,
  );
  // What the audit events say of the request: built only when the server audits.
  const auditRequest = () => ({
    auditId: ctx.auditId,
    tenant: tenant.name,
    policy: deps.auditPolicy?.(tenant) ?? platformDefaultAuditPolicy,
    info,
    requestURI: raw.url,
    sourceIPs: sourceIPs(raw.headers, raw.remoteAddress),
    ...(raw.headers["user-agent"] !== undefined ? { userAgent: raw.headers["user-agent"] } : {}),
    receivedAtMicros,
    ...tenantSinkOf(deps, tenant),
  });
  if (user === null && !isPublic(ctx.path)) {
    deps.auditor?.failedAuthentication({
      ...auditRequest(),
      headers: ctx.headers,
      query: ctx.query,
      clientCertificate: peerCertificates.length > 0,
    });
    throw unauthorized();
  }
  ctx.user = user ?? anonymousUser;

  // 4. Audit RequestReceived: the policy matches who is asking (before impersonation).
  if (deps.auditor !== undefined) ctx.audit = deps.auditor.begin({ ...auditRequest(), user: ctx.user });

  // 5. Impersonation: Impersonate-* headers switch the user, each identity authorized first.
  if (wantsImpersonation(ctx.headers)) {
    ctx.requester = ctx.user;
    ctx.user = await impersonate(ctx.user, ctx.headers, (await instanceOf(deps, ctx)).authorizer, forbid);
    ctx.audit?.impersonate(ctx.user);
  }

  // 6. Fairness: the tenant's in-flight limit with a short queue (watches exempt), and its open
  //    watches against maxWatches; 429 with Retry-After past either (fairness.ts).
  //    The seat is given back while a webhook answers (request/outbound.ts).
  const seat = await deps.fairness.admit(tenant, info, res, () => instanceOf(deps, ctx), deps.metrics);
  holdInflight(seat.release);

  // 7. Authorization: the tenant's union (system:masters, then RBAC); anything but Allow is a
  //    403 with kube's text; an authorizer that throws is a 500 (failure() below).
  if (!isPublic(ctx.path)) {
    const attributes = { ...attributesOf(ctx.user, info), outbound: seat.away };
    const authzStarted = performance.now();
    let decision;
    try {
      decision = await (await instanceOf(deps, ctx)).authorizer.authorize(attributes);
    } catch (err) {
      ctx.audit?.annotate(auditAnnotations.authorizationDecision, authorizationDecisions.forbid);
      ctx.audit?.annotate(auditAnnotations.authorizationReason, "internal error");
      deps.metrics?.recordAuthorization("error", (performance.now() - authzStarted) / 1000);
      throw err;
    }
    const allowed = decision.decision === "Allow";
    deps.metrics?.recordAuthorization(
      allowed ? "allowed" : decision.decision === "Deny" ? "denied" : "no-opinion",
      (performance.now() - authzStarted) / 1000,
    );
    ctx.audit?.annotate(
      auditAnnotations.authorizationDecision,
      allowed ? authorizationDecisions.allow : authorizationDecisions.forbid,
    );
    ctx.audit?.annotate(auditAnnotations.authorizationReason, decision.reason);
    if (!allowed) throw forbid(attributes, decision.reason);
  }

  // 8. Handler.
  if (!info.isResourceRequest) {
    // The shard's metrics are the platform's, served at the root tenant only: they count every
    // tenant's requests (multiplane_tenant_requests_total{tenant=…}, apiserver_request_total by
    // group and resource), so a tenant's own cluster-admin reading /clusters/<tenant>/metrics
    // would learn which other tenants exist, how busy they are and the kinds they serve.
    // Elsewhere the path is unknown (404 from the non-resource handler), as on a cluster without it.
    if (deps.metrics !== undefined && ctx.path === "/metrics" && ctx.tenant?.uid === rootTenant.uid) {
      const rendered = await deps.metrics.render();
      sendResponse(res, ctx.method, {
        status: 200,
        body: rendered.body,
        headers: { "Content-Type": rendered.contentType },
      });
      return { code: 200 };
    }
    const response = await handleNonResource(
      ctx.path,
      ctx.headers,
      ctx.query,
      () => instanceOf(deps, ctx),
      deps.issuer,
    );
    sendResponse(res, ctx.method, response);
    return { code: response.status };
  }
  if (ctx.body !== undefined) ctx.audit?.setRequestObject(ctx.body);
  const instance = await instanceOf(deps, ctx);
  const request = {
    instance,
    user: ctx.user,
    reviewToken: tokenReviewer(deps.authenticator, instance.tenant),
    ...(deps.issuer !== undefined ? { issuer: deps.issuer } : {}),
    admission: (ctx.admission = {
      user: ctx.user,
      warnings: [],
      auditAnnotations: {},
      outbound: seat.away,
    }),
    info,
    query: ctx.query,
    headers: ctx.headers,
    body: ctx.body,
  };
  try {
    if (info.verb === "watch") {
      deps.watches.add(res);
      const ended = deps.metrics?.longRunning({ info, method: ctx.method, query: ctx.query });
      // An open watch keeps its tenant's instance from idle eviction.
      const release = deps.tenants.retain(instance);
      res.once("close", () => {
        deps.watches.delete(res);
        release();
        ended?.();
      });
      await handleWatch({ ...request, onResponseStarted: () => ctx.audit?.responseStarted(200) }, res);
      return { code: 200 };
    }
    const response = await handleResource(request);
    sendResponse(res, ctx.method, response);
    return { code: response.status, body: response.body };
  } finally {
    for (const [k, v] of Object.entries(ctx.admission.auditAnnotations)) ctx.audit?.annotate(k, v);
  }
}

/** The Status an error answers with: a StatusError as is, anything else a logged, generic 500. */
function failure(deps: ChainDeps, ctx: RequestContext, err: unknown): Outcome & { status: Status } {
  if (isStatusError(err)) return { code: err.status.code, status: err.status };
  // A name or namespace from the URL that cannot be a key segment ("a/b", "..") names
  // nothing that can exist: 404, as kube answers for such paths.
  if (isStorageError(err, "InvalidArgument") && ctx.info?.isResourceRequest) {
    const status = notFound({ group: ctx.info.apiGroup, resource: ctx.info.resource }, ctx.info.name).status;
    return { code: status.code, status };
  }
  // The request's child logger is made only when there is something to log (not on the hot path).
  deps.log
    .child({ auditId: ctx.auditId })
    .error({ err, path: ctx.path, method: ctx.method }, "internal error");
  const status = internalError().status;
  return { code: status.code, status, panic: true };
}

/** The tenant's own audit sink for this request, when its policy names webhooks. */
function tenantSinkOf(deps: ChainDeps, tenant: Tenant): { tenantSink?: AuditSink } {
  const sink = deps.tenantAuditSinks?.sinkFor(tenant);
  return sink === undefined ? {} : { tenantSink: sink };
}

async function instanceOf(deps: ChainDeps, ctx: RequestContext): Promise<TenantInstance> {
  ctx.instance ??= await deps.tenants.instance(ctx.tenant!);
  return ctx.instance;
}

/** TokenReview: the token as a bearer credential through the tenant's authenticators. */
function tokenReviewer(authenticator: Authenticator, tenant: Tenant): TokenReviewer {
  return async (token, audiences) => {
    try {
      const user = await authenticator.authenticate({
        headers: { authorization: `Bearer ${token}` },
        tenant,
      });
      return user === null ? { error: "invalid bearer token" } : { user, audiences };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
}

/** What the authorizers are asked: the request info with its user. */
export function attributesOf(user: UserInfo, info: RequestInfo): Attributes {
  return {
    user,
    verb: info.verb,
    isResourceRequest: info.isResourceRequest,
    path: info.path,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
  };
}

/** kube's responsewriters.Forbidden: the 403 Status for a request the authorizers did not allow. */
export function forbid(a: Attributes, reason: string): Error {
  const message = reason === "" ? forbiddenMessage(a) : `${forbiddenMessage(a)}: ${reason}`;
  if (a.isResourceRequest) return forbidden({ group: a.apiGroup, resource: a.resource }, a.name, message);
  const err = forbidden({ group: "", resource: "" }, "", "");
  err.status.message = `forbidden: ${message}`;
  return err;
}

export { sendStatus };
