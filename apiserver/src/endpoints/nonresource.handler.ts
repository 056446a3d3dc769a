// Non-resource requests: version, health, discovery and OpenAPI.

import type { IncomingHttpHeaders } from "node:http";
import { notFound, resourceNotFound } from "../apierrors/status.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import {
  aggregatedDiscovery,
  apiGroupFor,
  apiGroupList,
  apiResourceList,
  apiVersions,
  serverVersion,
} from "./discovery.ts";
import { negotiatePlain, parseAccept, type Output } from "./negotiation.ts";
import { serveOpenAPI } from "./openapi.handler.ts";
import {
  jwksContentType,
  jwksDocument,
  jwksPath,
  openidCacheControl,
  openidConfiguration,
  openidConfigurationContentType,
  type JwtIssuer,
} from "../authn/index.ts";
import type { Response } from "./resource.handler.ts";

const aggregatedType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

function wantsAggregated(accept: string | undefined): boolean {
  for (const m of parseAccept(accept)) {
    if (m.q <= 0) continue;
    if (
      m.params.get("as") === "APIGroupDiscoveryList" &&
      m.params.get("g") === "apidiscovery.k8s.io" &&
      m.params.get("v") === "v2"
    ) {
      return true;
    }
    if (m.type === "application/json" && !m.params.has("as")) return false;
  }
  return false;
}

const healthChecks = ["ping", "log", "etcd", "poststarthook/tenant-registry"];

function health(path: string, query: URLSearchParams): Response | undefined {
  const m = /^\/(healthz|livez|readyz)(?:\/(.*))?$/.exec(path);
  if (!m) return undefined;
  const text = (body: string): Response => ({
    status: 200,
    body,
    output: { contentType: "text/plain; charset=utf-8", format: "json", as: "object", metaVersion: "v1" },
  });
  if (m[2] !== undefined) {
    if (!healthChecks.includes(m[2])) throw notFound({ group: "", resource: "" }, m[2]);
    return text("ok");
  }
  if (query.has("verbose")) {
    return text(`${healthChecks.map((c) => `[+]${c} ok`).join("\n")}\n${m[1]} check passed\n`);
  }
  return text("ok");
}

export async function handleNonResource(
  path: string,
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  instance: () => Promise<TenantInstance>,
  issuer?: JwtIssuer,
): Promise<Response> {
  // The service-account issuer's discovery documents (kube's OIDC discovery for its tokens).
  if (issuer !== undefined && (path === "/.well-known/openid-configuration" || path === jwksPath)) {
    const isConfig = path !== jwksPath;
    const body = isConfig ? openidConfiguration(issuer.url) : await jwksDocument(issuer.keys);
    return {
      status: 200,
      body: JSON.stringify(body),
      headers: {
        "Content-Type": isConfig ? openidConfigurationContentType : jwksContentType,
        "Cache-Control": openidCacheControl,
      },
    };
  }
  const format = negotiatePlain(headers.accept);
  const plain = (body: unknown, status = 200): Response => ({
    status,
    body,
    output: {
      contentType: format === "yaml" ? "application/yaml" : "application/json",
      format,
      as: "object",
      metaVersion: "v1",
    } satisfies Output,
  });
  const healthResponse = health(path, query);
  if (healthResponse) return healthResponse;
  if (path === "/version") return plain(serverVersion);

  const p = path.replace(/\/+$/, "") || "/";
  if (p === "/api" || p === "/apis") {
    const index = (await instance()).resources;
    if (wantsAggregated(headers.accept)) {
      return {
        status: 200,
        body: aggregatedDiscovery(index, p === "/api"),
        output: { contentType: aggregatedType, format: "json", as: "object", metaVersion: "v1" },
      };
    }
    return plain(p === "/api" ? apiVersions() : apiGroupList(index));
  }
  const legacy = /^\/api\/([^/]+)$/.exec(p);
  if (legacy) {
    const index = (await instance()).resources;
    if (!index.servesGroupVersion("", legacy[1]!)) throw resourceNotFound();
    return plain(apiResourceList(index, "", legacy[1]!));
  }
  const group = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(p);
  if (group) {
    const index = (await instance()).resources;
    const [, g, v] = group;
    if (v === undefined) {
      const body = apiGroupFor(index, g!);
      if (body === undefined) throw resourceNotFound();
      return plain(body);
    }
    if (!index.servesGroupVersion(g!, v)) throw resourceNotFound();
    return plain(apiResourceList(index, g!, v));
  }
  if (p === "/openapi/v2" || p === "/openapi/v3" || p.startsWith("/openapi/v3/")) {
    const request = {
      accept: headers.accept,
      ifNoneMatch: headers["if-none-match"],
      ifModifiedSince: headers["if-modified-since"],
    };
    const res = serveOpenAPI(p, query, request, (await instance()).resources);
    return { status: res.status, body: res.body, headers: res.headers };
  }
  if (p === "/") {
    return plain({
      paths: [
        "/api",
        "/api/v1",
        "/apis",
        "/healthz",
        "/livez",
        "/readyz",
        "/version",
        "/openapi/v2",
        "/openapi/v3",
      ],
    });
  }
  throw resourceNotFound();
}
