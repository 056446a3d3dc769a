// Impersonation (k8s.io/apiserver's WithImpersonation): Impersonate-User, -Group, -Uid and
// -Extra-<key> headers switch the request's user, each requested identity checked with the
// `impersonate` verb against the tenant's authorizer before the switch.

import { internalError } from "../apierrors/status.ts";
import type { UserInfo } from "../authn/user.ts";
import type { Attributes, Authorizer } from "../authz/authorizer.ts";

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const userHeader = "impersonate-user";
const groupHeader = "impersonate-group";
const uidHeader = "impersonate-uid";
const extraPrefix = "impersonate-extra-";

const all = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** serviceaccount.SplitUsername: `system:serviceaccount:<ns>:<name>` → its parts. */
function splitServiceAccount(username: string): { namespace: string; name: string } | undefined {
  const prefix = "system:serviceaccount:";
  if (!username.startsWith(prefix)) return undefined;
  const parts = username.slice(prefix.length).split(":");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") return undefined;
  return { namespace: parts[0]!, name: parts[1]! };
}

/** One identity the caller asks to act as, with what authorizing it means. */
interface ImpersonationRequest {
  readonly attributes: Omit<Attributes, "user">;
}

const request = (
  apiGroup: string,
  resource: string,
  name: string,
  extra: { namespace?: string; subresource?: string } = {},
): ImpersonationRequest => ({
  attributes: {
    verb: "impersonate",
    isResourceRequest: true,
    path: "",
    apiGroup,
    apiVersion: "",
    resource,
    subresource: extra.subresource ?? "",
    namespace: extra.namespace ?? "",
    name,
  },
});

/** Whether the request carries any Impersonate-* header (the fast path skips the rest). */
export function wantsImpersonation(headers: Headers): boolean {
  for (const h in headers) if (h.startsWith("impersonate-")) return true;
  return false;
}

/**
 * The identity a request acts as, or throws: a 403 Forbidden Status naming the first
 * identity the requester may not impersonate, or a 500 when groups, extras or a UID are
 * asked for without a user (as kube). Called by the chain after authentication; reads the
 * headers, never changes them.
 */
export async function impersonate(
  requester: UserInfo,
  headers: Headers,
  authorizer: Authorizer,
  forbid: (a: Attributes, reason: string) => Error,
): Promise<UserInfo> {
  const requests: ImpersonationRequest[] = [];
  const username = all(headers[userHeader])[0] ?? "";
  const sa = splitServiceAccount(username);
  if (username !== "") {
    requests.push(
      sa === undefined
        ? request("", "users", username)
        : request("", "serviceaccounts", sa.name, { namespace: sa.namespace }),
    );
  }
  const groups = all(headers[groupHeader]);
  for (const g of groups) requests.push(request("", "groups", g));
  const extra: Record<string, string[]> = {};
  for (const [h, v] of Object.entries(headers)) {
    if (!h.startsWith(extraPrefix)) continue;
    // Keys are case-insensitive header names, percent-encoded where they hold other characters.
    const key = safeDecode(h.slice(extraPrefix.length).toLowerCase());
    for (const value of all(v)) {
      (extra[key] ??= []).push(value);
      requests.push(request("authentication.k8s.io", "userextras", value, { subresource: key }));
    }
  }
  const uid = all(headers[uidHeader])[0] ?? "";
  if (uid !== "") requests.push(request("authentication.k8s.io", "uids", uid));
  if (username === "" && requests.length > 0) {
    throw internalError(
      `Internal error occurred: requested ${describe(requests)} without impersonating a user`,
    );
  }

  for (const r of requests) {
    const a: Attributes = { ...r.attributes, user: requester };
    const d = await authorizer.authorize(a);
    if (d.decision !== "Allow") throw forbid(a, d.reason);
  }

  const finalGroups = [...groups];
  if (sa !== undefined && groups.length === 0) {
    finalGroups.push("system:serviceaccounts", `system:serviceaccounts:${sa.namespace}`);
  }
  if (username !== "system:anonymous") {
    if (!finalGroups.includes("system:authenticated") && !finalGroups.includes("system:unauthenticated")) {
      finalGroups.push("system:authenticated");
    }
  } else if (!finalGroups.includes("system:unauthenticated")) {
    finalGroups.push("system:unauthenticated");
  }
  return { name: username, uid, groups: finalGroups, extra };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function describe(requests: readonly ImpersonationRequest[]): string {
  return `[${requests.map((r) => `${r.attributes.resource} ${r.attributes.name}`).join(" ")}]`;
}
