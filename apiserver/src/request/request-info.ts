// URL → request info, as k8s.io/apiserver's RequestInfoFactory reads it:
//
//   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
//   /apis/{group}/{version}/{resource}/{name}
//   /api/v1/watch/namespaces/{ns}/{resource}          (deprecated watch prefix)
//   anything else                                     (a non-resource request: /healthz, /version…)
//
// Pure: it reads the method, the path (tenant prefix already stripped) and the query.

export interface RequestInfo {
  readonly isResourceRequest: boolean;
  /** The path as received (for non-resource requests, what authorization sees). */
  readonly path: string;
  /** get list watch create update patch delete deletecollection, or the lowercase method for non-resource requests. */
  readonly verb: string;
  readonly apiPrefix: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** The path segments from the resource on. */
  readonly parts: readonly string[];
}

const apiPrefixes = new Set(["api", "apis"]);
const legacyPrefix = "api";
// Verbs that may appear as a path segment before the resource.
const specialVerbs = new Set(["proxy", "watch"]);
// Verbs after which the third segment is not a subresource.
const specialVerbsNoSubresources = new Set(["proxy"]);
// Subresources of a namespace that must not be taken for a resource inside it.
const namespaceSubresources = new Set(["status", "finalize"]);

const methodVerbs: Record<string, string> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

function nonResource(method: string, path: string): RequestInfo {
  return {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: "",
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
    parts: [],
  };
}

/** The value of metadata.name in a field selector such as `metadata.name=foo,metadata.namespace=bar`. */
function nameFromFieldSelector(selector: string | null): string | undefined {
  if (!selector) return undefined;
  for (const term of selector.split(",")) {
    const m = /^\s*metadata\.name\s*(?:==|=)\s*(.*?)\s*$/.exec(term);
    if (m) return m[1];
  }
  return undefined;
}

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const segments = path.replace(/^\/+|\/+$/g, "").split("/");
  if (segments.length === 0 || !apiPrefixes.has(segments[0]!)) return nonResource(method, path);
  const apiPrefix = segments[0]!;
  let parts = segments.slice(1);

  let apiGroup = "";
  if (apiPrefix !== legacyPrefix) {
    // /apis/{group}/{version}/…: fewer than that is discovery, a non-resource request.
    if (parts.length < 3) return nonResource(method, path);
    apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  // /api/{version}/… with at least a resource after the version.
  if (parts.length < 2) return nonResource(method, path);
  const apiVersion = parts[0]!;
  parts = parts.slice(1);

  let verb = methodVerbs[method.toUpperCase()] ?? method.toLowerCase();
  if (specialVerbs.has(parts[0]!)) {
    if (parts.length < 2) return nonResource(method, path);
    verb = parts[0]!;
    parts = parts.slice(1);
  }

  let namespace = "";
  if (parts[0] === "namespaces") {
    if (parts.length > 1) {
      namespace = parts[1]!;
      // namespaces/{ns}/{resource}: the resource lives inside the namespace, unless it is
      // one of the namespace's own subresources (namespaces/{ns}/status).
      if (parts.length > 2 && !namespaceSubresources.has(parts[2]!)) parts = parts.slice(2);
    }
  }

  const resource = parts[0] ?? "";
  let name = parts.length >= 2 ? parts[1]! : "";
  const subresource = parts.length >= 3 && !specialVerbsNoSubresources.has(verb) ? parts[2]! : "";

  // A collection: GET lists (or watches with ?watch), DELETE deletes the collection.
  if (name === "" && verb === "get") {
    verb = isWatch(query) ? "watch" : "list";
  } else if (name === "" && verb === "delete") {
    verb = "deletecollection";
  }
  // list/watch of a single object by field selector: authorization sees the name.
  if (verb === "list" || verb === "watch") {
    const selected = nameFromFieldSelector(query.get("fieldSelector"));
    if (selected !== undefined && name === "") name = selected;
  }

  return {
    isResourceRequest: true,
    path,
    verb,
    apiPrefix,
    apiGroup,
    apiVersion,
    namespace,
    resource,
    subresource,
    name,
    parts,
  };
}

/** `watch=true|1` (kube accepts any value ParseBool reads as true). */
function isWatch(query: URLSearchParams): boolean {
  const w = query.get("watch");
  return w !== null && ["1", "t", "T", "true", "TRUE", "True"].includes(w);
}
