// The headers a forwarded request carries to the shard. The router is the edge, so what a
// client says about identity is never passed on:
//   - every X-Remote-* header (the requestheader identity the shard believes from the router's
//     certificate) and every X-Multiplane-* header (reserved for the router, e.g. a tenant
//     header) is deleted, whatever its case or repetition;
//   - X-Forwarded-For is set to the client's address alone and X-Real-Ip is deleted: the shard
//     audits sourceIPs from them, and a client's own claim would be believed otherwise;
//   - hop-by-hop headers (Connection and the headers it names, Keep-Alive, TE, Trailer,
//     Transfer-Encoding, Upgrade, Proxy-*) stay on their hop; Host is the shard's.
// Impersonate-* headers are forwarded as sent: impersonation is authorized by the tenant's
// RBAC on the shard (the `impersonate` verb), which the router has no cache of; the shard
// checks them against the identity the router forwards, so they cannot widen it.
// When the router authenticated the request, the identity goes as X-Remote-User,
// X-Remote-Uid, X-Remote-Group (one header per group) and X-Remote-Extra-<key> (key
// %-escaped as kube's requestheader expects), and Authorization is removed; otherwise the
// client's Authorization goes untouched for the shard to authenticate (ServiceAccount tokens).

import type { OutgoingHttpHeaders } from "node:http";
import type { UserInfo } from "../authn/user.ts";

const hopByHop = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "host",
]);

/** Header names (lowercase) the router deletes from every request before anything else. */
export function isClientIdentityHeader(name: string): boolean {
  const n = name.toLowerCase();
  return (
    n.startsWith("x-remote-") || n.startsWith("x-multiplane-") || n === "x-forwarded-for" || n === "x-real-ip"
  );
}

/** kube's requestheader extra key escaping (url.PathEscape): the shard %-decodes it back. */
export function escapeExtraKey(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface ForwardInput {
  /**
   * The client's headers, each value kept apart (Node's `headersDistinct`, names lowercase), so
   * that repeated headers (Impersonate-Group) reach the shard as sent; read only.
   */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
  /** The client's address (the socket's remote address). */
  readonly clientAddress: string | undefined;
  /** The user the router authenticated, or undefined to let the shard authenticate. */
  readonly user: UserInfo | undefined;
}

/** The headers of the upstream request. Pure: `input.headers` is not changed. */
export function forwardHeaders(input: ForwardInput): OutgoingHttpHeaders {
  const connectionListed = new Set(
    (input.headers["connection"] ?? [])
      .join(",")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== ""),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(input.headers)) {
    if (value === undefined) continue;
    const n = name.toLowerCase();
    if (hopByHop.has(n) || connectionListed.has(n) || n.startsWith("proxy-") || isClientIdentityHeader(n))
      continue;
    out[n] = value.length === 1 ? value[0] : [...value];
  }
  if (input.clientAddress !== undefined) out["x-forwarded-for"] = input.clientAddress.replace(/^::ffff:/, "");
  const user = input.user;
  if (user !== undefined) {
    delete out["authorization"];
    out["x-remote-user"] = user.name;
    if (user.uid !== "") out["x-remote-uid"] = user.uid;
    if (user.groups.length > 0) out["x-remote-group"] = [...user.groups];
    for (const [key, values] of Object.entries(user.extra)) {
      if (values.length > 0) out[`x-remote-extra-${escapeExtraKey(key)}`] = [...values];
    }
  }
  return out;
}
