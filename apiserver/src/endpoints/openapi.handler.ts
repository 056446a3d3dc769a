// /openapi/v2, /openapi/v3 and /openapi/v3/<group-version>: documents built from a tenant's
// resources, served the way kube-openapi's handlers serve them (ETag = upper-case hex SHA-512
// of the JSON, conditional GETs answered 304 as net/http's ServeContent does, Vary: Accept).
//
// Built-in group-versions are the same for every tenant and built once. A tenant's resource
// index is rebuilt only when one of its CRDs changes; the v2 document (all group-versions in
// one) is cached per index, and shared by every index whose custom resources are the same, so
// a CRD change that does not change what is published (a status update) rebuilds nothing.

import { notAcceptable, resourceNotFound } from "../apierrors/status.ts";
import type { ResourceDef } from "../registry/resources.ts";
import type { ResourceIndex } from "../tenancy/instance.ts";
import { serverVersion } from "./discovery.ts";
import { parseAccept } from "./negotiation.ts";
import { buildOpenAPIV2Document } from "./openapi/openapi-v2.builder.ts";
import { buildOpenAPIV3Document, buildOpenAPIV3Index, groupVersionPath, hash } from "./openapi/openapi.ts";

interface Doc {
  readonly json: string;
  readonly etag: string;
  /** When it was built: its Last-Modified. */
  readonly modified: Date;
}

function docOf(value: unknown): Doc {
  const json = JSON.stringify(value);
  return { json, etag: hash(json), modified: new Date() };
}

// ---- v3 --------------------------------------------------------------------------------------

const builtinDocs = new Map<string, Doc>();
const tenantDocs = new WeakMap<ResourceIndex, Map<string, Doc>>();

function build(defs: readonly ResourceDef[]): Doc {
  const first = defs[0]!;
  return docOf(buildOpenAPIV3Document({ group: first.group, version: first.version }, defs));
}

/** Every group-version document of a tenant, keyed by "api/v1" / "apis/<g>/<v>". */
function documents(index: ResourceIndex): Map<string, Doc> {
  let docs = tenantDocs.get(index);
  if (docs !== undefined) return docs;
  docs = new Map();
  const byGv = new Map<string, ResourceDef[]>();
  for (const d of index.all) {
    const path = groupVersionPath(d);
    byGv.set(path, [...(byGv.get(path) ?? []), d]);
  }
  for (const [path, defs] of byGv) {
    const builtin = defs.every((d) => d.crd === undefined);
    let doc = builtin ? builtinDocs.get(path) : undefined;
    if (doc === undefined) {
      doc = build(defs);
      if (builtin) builtinDocs.set(path, doc);
    }
    docs.set(path, doc);
  }
  tenantDocs.set(index, docs);
  return docs;
}

// ---- v2 --------------------------------------------------------------------------------------

const v2ByIndex = new WeakMap<ResourceIndex, Doc>();
/** v2 documents by what their custom resources publish; least recently used dropped first. */
const v2ByCustomResources = new Map<string, Doc>();
const V2_CACHE_SIZE = 256;

/** What of a tenant's custom resources the v2 document depends on. */
function customResourcesKey(index: ResourceIndex): string {
  return JSON.stringify(
    index.all
      .filter((d) => d.crd !== undefined)
      .map((d) => [
        d.group,
        d.version,
        d.kind,
        d.listKind,
        d.plural,
        d.namespaced,
        d.verbs,
        d.subresources,
        d.schema,
      ]),
  );
}

function v2Document(index: ResourceIndex): Doc {
  let doc = v2ByIndex.get(index);
  if (doc !== undefined) return doc;
  const key = customResourcesKey(index);
  doc = v2ByCustomResources.get(key);
  if (doc === undefined) {
    doc = docOf(buildOpenAPIV2Document(index.all, { infoVersion: serverVersion.gitVersion }));
  }
  // Re-inserted on every use: the Map's first key is the least recently used one.
  v2ByCustomResources.delete(key);
  v2ByCustomResources.set(key, doc);
  while (v2ByCustomResources.size > V2_CACHE_SIZE) {
    const oldest = v2ByCustomResources.keys().next().value;
    if (oldest === undefined) break;
    v2ByCustomResources.delete(oldest);
  }
  v2ByIndex.set(index, doc);
  return doc;
}

/**
 * Whether an Accept header lets the v2 document be answered in JSON. kube-openapi walks the
 * clauses best first and serves the first it can (JSON or protobuf: the
 * application/com.github.proto-openapi.spec.v2[@.]v1.0+protobuf types, gnostic's OpenAPIv2
 * Document); Multiplane does not encode the protobuf form, so a protobuf clause is passed over and a JSON fallback later in
 * the list is served instead. Only an Accept with no JSON at all is refused (406).
 */
function acceptsJSON(accept: string | undefined): boolean {
  return parseAccept(accept).some(
    (m) => m.q > 0 && (m.type === "application/json" || m.type === "application/*" || m.type === "*/*"),
  );
}

// ---- serving ---------------------------------------------------------------------------------

/** The request headers the OpenAPI endpoints read. */
export interface OpenAPIRequestHeaders {
  readonly accept?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
}

/** What nonresource.handler.ts sends; `body` is empty for 301 and 304. */
export interface OpenAPIResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** net/http's checkIfNoneMatch: a list of entity tags or "*", compared weakly. */
function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const strip = (t: string): string => t.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || strip(t) === strip(etag));
}

/** http.ServeContent: 304 when If-None-Match matches, or (without it) nothing changed since If-Modified-Since. */
function serveContent(
  doc: Doc,
  request: OpenAPIRequestHeaders,
  headers: Record<string, string>,
): OpenAPIResponse {
  const etag = `"${doc.etag}"`;
  const all = { ...headers, ETag: etag, "Last-Modified": doc.modified.toUTCString() };
  if (request.ifNoneMatch !== undefined) {
    if (etagMatches(request.ifNoneMatch, etag)) {
      // Like writeNotModified: no Last-Modified beside an ETag.
      const { "Last-Modified": _dropped, ...notModified } = all;
      return { status: 304, body: "", headers: notModified };
    }
  } else if (request.ifModifiedSince !== undefined) {
    const since = Date.parse(request.ifModifiedSince);
    if (!Number.isNaN(since) && Math.floor(doc.modified.getTime() / 1000) * 1000 <= since) {
      return { status: 304, body: "", headers: all };
    }
  }
  return { status: 200, body: doc.json, headers: all };
}

/**
 * Serves `path` (one of /openapi/v2, /openapi/v3, /openapi/v3/<group-version>, tenant-relative)
 * from the tenant's resource index. Throws a StatusError for a missing document (404) or an
 * unacceptable v2 media type (406).
 */
export function serveOpenAPI(
  path: string,
  query: URLSearchParams,
  request: OpenAPIRequestHeaders,
  index: ResourceIndex,
): OpenAPIResponse {
  if (path === "/openapi/v2") {
    if (!acceptsJSON(request.accept)) {
      throw notAcceptable(
        "only the following media types are accepted: application/json (this server does not serve " +
          "the OpenAPI v2 document as application/com.github.proto-openapi.spec.v2.v1.0+protobuf)",
      );
    }
    return serveContent(v2Document(index), request, { "Content-Type": "application/json", Vary: "Accept" });
  }
  const docs = documents(index);
  if (path === "/openapi/v3" || path === "/openapi/v3/") {
    const index3 = docOf(buildOpenAPIV3Index([...docs].map(([p, d]) => ({ path: p, etag: d.etag }))));
    return serveContent(index3, request, { "Content-Type": "application/json" });
  }
  const gvPath = path.slice("/openapi/v3/".length);
  const doc = docs.get(gvPath);
  if (doc === undefined) throw resourceNotFound();
  const headers: Record<string, string> = { "Content-Type": "application/json", Vary: "Accept" };
  const wanted = query.get("hash");
  if (wanted !== null && wanted !== "") {
    if (wanted !== doc.etag) {
      // handler3: an outdated hash is redirected to the current document's URL. Relative to
      // the request's path, so a tenant's /clusters/<tenant>/ prefix is kept.
      const last = gvPath.split("/").pop() ?? "";
      return {
        status: 301,
        body: "",
        headers: { ...headers, Location: `${last}?hash=${encodeURIComponent(doc.etag)}` },
      };
    }
    // A URL with the document's hash never changes: clients may cache it for a year.
    headers["Cache-Control"] = "public, immutable";
    headers["Expires"] = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
  } else {
    headers["Cache-Control"] = "no-cache, private";
  }
  return serveContent(doc, request, headers);
}
