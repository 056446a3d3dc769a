// The label values kube-apiserver reports for a request (k8s.io/apiserver/pkg/endpoints/
// metrics: CleanScope, CanonicalVerb, CleanVerb, cleanDryRun): upper-case verbs where a
// collection GET is LIST, a watch is WATCH, a server-side apply PATCH is APPLY and a
// log/exec/attach/portforward/proxy subresource is CONNECT; anything else is "other".
// Pure functions over the request info, the method, the query and the content type.

import type { RequestInfo } from "../request/request-info.ts";

export const apiserverComponent = "apiserver";
export const otherRequestMethod = "other";

const validRequestMethods = new Set([
  "APPLY",
  "CONNECT",
  "CREATE",
  "DELETE",
  "DELETECOLLECTION",
  "GET",
  "LIST",
  "PATCH",
  "POST",
  "PROXY",
  "PUT",
  "UPDATE",
  "WATCH",
  "WATCHLIST",
]);

const connectSubresources = new Set(["log", "exec", "portforward", "attach", "proxy"]);

const applyPatchContentType = "application/apply-patch+yaml";

export type RequestScope = "resource" | "namespace" | "cluster" | "";

/** What the metrics read of one request. */
export interface RequestLabelInput {
  readonly info: RequestInfo;
  /** The HTTP method (GET, POST…). */
  readonly method: string;
  readonly query?: URLSearchParams;
  readonly contentType?: string;
}

/**
 * The scope label: "resource" for a create or a path naming an object, "namespace" inside a
 * namespace, "cluster" otherwise, "" for non-resource requests. A list narrowed by a
 * metadata.name field selector keeps its collection scope (kube takes the route's scope;
 * our request info moves the selected name into `name` for authorization).
 */
export function requestScope(info: RequestInfo): RequestScope {
  if (!info.isResourceRequest) return "";
  const namedInPath = info.parts.length >= 2 && info.parts[1] !== "";
  if (info.verb === "create" || namedInPath) return "resource";
  if (info.namespace !== "") return "namespace";
  return "cluster";
}

/** kube's watch test on the query: `watch` present and not "0" or "false". */
function watchQuery(query: URLSearchParams | undefined): boolean {
  const v = query?.get("watch");
  if (v === null || v === undefined) return false;
  const lower = v.toLowerCase();
  return lower !== "0" && lower !== "false";
}

/** The verb label of apiserver_request_total and friends. */
export function requestVerb(
  input: RequestLabelInput,
  scope: RequestScope = requestScope(input.info),
): string {
  const method = input.method.toUpperCase();
  const { info } = input;
  // The deprecated /watch/ path prefix (and ?watch) make the request info's verb "watch".
  if (info.verb === "watch") return "WATCH";
  let verb =
    method === "GET" || method === "HEAD" ? (scope !== "resource" && scope !== "" ? "LIST" : "GET") : method;
  if ((method === "GET" || method === "LIST") && watchQuery(input.query)) verb = "WATCH";
  if (verb === "WATCHLIST") verb = "WATCH";
  if (
    method === "PATCH" &&
    input.contentType?.split(";")[0]?.trim().toLowerCase() === applyPatchContentType
  ) {
    verb = "APPLY";
  }
  if (info.isResourceRequest && connectSubresources.has(info.subresource)) verb = "CONNECT";
  return validRequestMethods.has(verb) ? verb : otherRequestMethod;
}

/** The dry_run label: "" without dryRun, "invalid" for an unknown value, else the sorted set ("All"). */
export function dryRunLabel(query: URLSearchParams | undefined): string {
  const values = query?.getAll("dryRun") ?? [];
  if (values.length === 0) return "";
  if (values.some((v) => v !== "All")) return "invalid";
  return [...new Set(values)].sort().join(",");
}

/** readOnly for get/list/watch (kube's non-mutating verbs), mutating for everything else. */
export function requestKind(info: RequestInfo): "readOnly" | "mutating" {
  return info.verb === "get" || info.verb === "list" || info.verb === "watch" ? "readOnly" : "mutating";
}

/** The label set shared by the request metrics (without code and dry_run). */
export interface RequestLabels {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: string;
  component: string;
}

/**
 * Labels of one request. Non-resource requests carry no group, version, resource or
 * subresource, so that arbitrary paths cannot grow the series.
 */
export function requestLabels(input: RequestLabelInput): RequestLabels {
  const scope = requestScope(input.info);
  const { info } = input;
  return {
    verb: requestVerb(input, scope),
    group: info.isResourceRequest ? info.apiGroup : "",
    version: info.isResourceRequest ? info.apiVersion : "",
    resource: info.isResourceRequest ? info.resource : "",
    subresource: info.isResourceRequest ? info.subresource : "",
    scope,
    component: apiserverComponent,
  };
}
