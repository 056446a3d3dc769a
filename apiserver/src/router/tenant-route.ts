// Which tenant a request is for, and the path it is forwarded with: from the path
// `/clusters/<org>[:<project>]/…`, from the host `<org>[.<project>].<base-domain>`, the root
// tenant otherwise. The rules, decided here once (and proven in tenant-route.test.ts):
//   - The path must be canonical: no `.` or `..` segment (also percent-encoded), no empty
//     segment (`//`) except one trailing slash, no encoded `/` or `\` (`%2F`, `%5C`), no raw
//     `\`. Anything else is 400 BadRequest: a path a normalizing intermediary could read as
//     another tenant's is refused rather than guessed at.
//   - The tenant segment is `org` or `org:project`, each a DNS-1123 label; the colon may be
//     written `%3A` (clients escape it in path segments). Any other form (upper case, other
//     escapes, three parts, empty) names no tenant that can exist: 404 NotFound, as the
//     shard answers for an unknown tenant.
//   - A host under the base domain with one or two labels names `org` or `org:project`;
//     the base domain itself, other hosts and IP addresses name nothing. More labels: 404.
//   - Host and path naming different tenants: 400 BadRequest (the request is contradictory,
//     not about a missing tenant). Naming the same one is fine.

import { badRequest, notFound, type StatusError } from "../apierrors/status.ts";

export const rootTenantName = "root";

/** The tenant a request is for and the shard path (always `/clusters/<tenant>/…`, query kept). */
export interface TenantRoute {
  readonly tenant: string;
  /** The path inside the tenant (`/api/v1/…`), without the query. */
  readonly path: string;
  /** The raw query string with its `?`, or "". */
  readonly search: string;
  /** What the router requests from the shard. */
  readonly upstreamPath: string;
}

const label = "[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?";
const tenantNamePattern = new RegExp(`^${label}(?::${label})?$`);

/** Is `name` a tenant name (`org` or `org:project`, DNS-1123 labels)? */
export function isTenantName(name: string): boolean {
  return tenantNamePattern.test(name);
}

/** A tenant not found, in the shard's words. */
export const tenantNotFound = (name: string): StatusError =>
  notFound({ group: "", resource: "tenants" }, name);

/** Refuses a path that is not canonical (see the rules above); undefined when it is fine. */
export function nonCanonicalPath(path: string): string | undefined {
  if (!path.startsWith("/")) return "the request path must begin with /";
  if (path.includes("\\")) return "the request path must not contain a backslash";
  if (/%(2f|5c)/i.test(path)) return "the request path must not contain an encoded slash or backslash";
  const segments = path.slice(1).split("/");
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    // One trailing slash is fine (`/clusters/a/`); an empty segment anywhere else is not.
    if (s === "" && i < segments.length - 1) return "the request path must not contain empty segments";
    if (/^(\.|%2e){1,2}$/i.test(s)) return "the request path must not contain . or .. segments";
  }
  return undefined;
}

/** The tenant a host names, undefined when it names none (not under the base domain). */
export function tenantFromHost(host: string | undefined, baseDomain: string | undefined): string | undefined {
  if (host === undefined || baseDomain === undefined || baseDomain === "") return undefined;
  // Drop the port (also of [v6]:port) and a trailing dot; host names are case-insensitive.
  const name = host.replace(/:\d+$/, "").replace(/\.$/, "").toLowerCase();
  const base = baseDomain.replace(/^\.|\.$/g, "").toLowerCase();
  if (!name.endsWith(`.${base}`)) return undefined;
  const labels = name.slice(0, -(base.length + 1)).split(".");
  const tenant = labels.join(":");
  if (labels.length > 2 || !isTenantName(tenant)) throw tenantNotFound(tenant);
  return tenant;
}

/**
 * The route of a request: its raw URL (`req.url`, never decoded by Node) and Host header.
 * Throws a StatusError (400 or 404) for the paths and hosts the rules above refuse. Pure.
 */
export function routeRequest(rawUrl: string, host: string | undefined, baseDomain?: string): TenantRoute {
  const q = rawUrl.indexOf("?");
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const search = q === -1 ? "" : rawUrl.slice(q);
  const problem = nonCanonicalPath(rawPath);
  if (problem !== undefined) throw badRequest(problem);
  const fromHost = tenantFromHost(host, baseDomain);

  let fromPath: string | undefined;
  let path = rawPath;
  if (rawPath === "/clusters" || rawPath.startsWith("/clusters/")) {
    const rest = rawPath.slice("/clusters/".length);
    const slash = rest.indexOf("/");
    const segment = slash === -1 ? rest : rest.slice(0, slash);
    path = slash === -1 ? "/" : rest.slice(slash);
    fromPath = segment.replace(/%3a/gi, ":");
    if (!isTenantName(fromPath)) throw tenantNotFound(fromPath);
  }
  if (fromHost !== undefined && fromPath !== undefined && fromHost !== fromPath) {
    throw badRequest(`the host names tenant "${fromHost}" and the path names tenant "${fromPath}"`);
  }
  const tenant = fromPath ?? fromHost ?? rootTenantName;
  return { tenant, path, search, upstreamPath: `/clusters/${tenant}${path}${search}` };
}
