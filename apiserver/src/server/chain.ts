// The handler chain: the one place that decides the order in which a request passes
// the stages (k8s.io/apiserver's DefaultBuildHandlerChain). There is ordering here in
// play: each stage puts its result on the request context for the ones after it.

import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID, type X509Certificate } from "node:crypto";
import { TLSSocket } from "node:tls";
import { peerCertificates } from "../authn/x509-verify.ts";
import type { JwtIssuer } from "../authn/jwt-keys.ts";
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
import { anonymousUser, type Authenticator, type UserInfo } from "../authn/user.ts";
import { parseRequestInfo, type RequestInfo } from "../request/request-info.ts";
import { forbiddenMessage, type Attributes } from "../authz/authorizer.ts";
import { impersonate, wantsImpersonation } from "./impersonation.ts";
import type { TokenReviewer } from "../endpoints/reviews.handler.ts";
import type { RequestAdmission } from "../registry/store.ts";
import type { TenantInstance, TenantManager, Tenant } from "../tenancy/instance.ts";
import { handleNonResource } from "../endpoints/nonresource.handler.ts";
import { handleResource, handleWatch, type Response } from "../endpoints/resource.handler.ts";
import { serialize } from "../endpoints/negotiation.ts";

export interface RequestContext {
  readonly auditId: string;
  readonly method: string;
  /** The path inside the tenant (the /clusters/<tenant> prefix stripped). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
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
}

export interface ChainDeps {
  readonly tenants: TenantManager;
  readonly authenticator: Authenticator;
  /** The service-account issuer whose discovery documents the server publishes. */
  readonly issuer?: JwtIssuer;
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
  const body = typeof response.body === "string" ? response.body : serialize(response.body, format);
  res.writeHead(response.status, {
    "Content-Type": response.output?.contentType ?? "application/json",
    "Cache-Control": "no-cache, private",
    ...(response.warnings?.length
      ? { Warning: response.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ") }
      : {}),
    ...response.headers,
  });
  res.end(method === "HEAD" ? undefined : body);
}

/** Runs one request through every stage, in order. Never throws. */
export async function serveRequest(
  deps: ChainDeps,
  raw: IncomingMessage,
  res: ServerResponse,
  body: Buffer | undefined,
): Promise<void> {
  const url = new URL(raw.url ?? "/", "https://multiplane.invalid");
  const split = splitTenantPath(url.pathname);
  const ctx: RequestContext = {
    // 1. Audit ID (echoed to the client), panic recovery (the catch below) and request info.
    auditId: typeof raw.headers["audit-id"] === "string" ? raw.headers["audit-id"] : randomUUID(),
    method: raw.method ?? "GET",
    path: split.path,
    query: url.searchParams,
    headers: raw.headers,
    body,
  };
  res.setHeader("Audit-Id", ctx.auditId);
  try {
    ctx.info = parseRequestInfo(ctx.method, ctx.path, ctx.query);

    // 2. Tenant: from the path (the router will set it by header for its own requests).
    const tenant = deps.tenants.lookup(split.tenant);
    if (tenant === undefined) throw notFound({ group: "", resource: "tenants" }, split.tenant);
    ctx.tenant = tenant;

    // 3. Authentication: the union of authenticators; anonymous only for public paths.
    const user = await deps.authenticator.authenticate({
      headers: ctx.headers,
      headersDistinct: raw.headersDistinct,
      tenant: ctx.tenant,
      peerCertificates: peerCertificatesOf(raw.socket),
    });
    if (user === null && !isPublic(ctx.path)) throw unauthorized();
    ctx.user = user ?? anonymousUser;

    // 4. Audit RequestReceived — the pipeline issue adds audit here.

    // 5. Impersonation: Impersonate-* headers switch the user, each identity authorized first.
    if (wantsImpersonation(ctx.headers)) {
      ctx.requester = ctx.user;
      ctx.user = await impersonate(ctx.user, ctx.headers, (await instanceOf(deps, ctx)).authorizer, forbid);
    }

    // 6. Fairness — per-tenant in-flight limits come with multi-tenancy.

    // 7. Authorization: the tenant's union (system:masters, then RBAC); anything but Allow is a
    //    403 with kube's text; an authorizer that throws is a 500 (the catch below).
    if (!isPublic(ctx.path)) {
      const attributes = attributesOf(ctx.user, ctx.info);
      const decision = await (await instanceOf(deps, ctx)).authorizer.authorize(attributes);
      if (decision.decision !== "Allow") throw forbid(attributes, decision.reason);
    }

    // 8. Handler.
    if (!ctx.info.isResourceRequest) {
      const response = await handleNonResource(
        ctx.path,
        ctx.headers,
        ctx.query,
        () => instanceOf(deps, ctx),
        deps.issuer,
      );
      sendResponse(res, ctx.method, response);
      return;
    }
    const instance = await instanceOf(deps, ctx);
    const request = {
      instance,
      user: ctx.user,
      reviewToken: tokenReviewer(deps.authenticator, instance.tenant),
      ...(deps.issuer !== undefined ? { issuer: deps.issuer } : {}),
      admission: (ctx.admission = { user: ctx.user, warnings: [], auditAnnotations: {} }),
      info: ctx.info,
      query: ctx.query,
      headers: ctx.headers,
      body: ctx.body,
    };
    if (ctx.info.verb === "watch") {
      deps.watches.add(res);
      res.once("close", () => deps.watches.delete(res));
      await handleWatch(request, res);
      return;
    }
    sendResponse(res, ctx.method, await handleResource(request));
    // 9. Audit ResponseComplete — the pipeline issue adds it here (also for failures).
  } catch (err) {
    if (isStatusError(err)) {
      sendStatus(res, err.status);
      return;
    }
    // A name or namespace from the URL that cannot be a key segment ("a/b", "..") names
    // nothing that can exist: 404, as kube answers for such paths.
    if (isStorageError(err, "InvalidArgument") && ctx.info?.isResourceRequest) {
      sendStatus(
        res,
        notFound({ group: ctx.info.apiGroup, resource: ctx.info.resource }, ctx.info.name).status,
      );
      return;
    }
    // The request's child logger is made only when there is something to log (not on the hot path).
    deps.log
      .child({ auditId: ctx.auditId })
      .error({ err, path: ctx.path, method: ctx.method }, "internal error");
    sendStatus(res, internalError().status);
  }
}

async function instanceOf(deps: ChainDeps, ctx: RequestContext): Promise<TenantInstance> {
  ctx.instance ??= await deps.tenants.instance(ctx.tenant!);
  return ctx.instance;
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
