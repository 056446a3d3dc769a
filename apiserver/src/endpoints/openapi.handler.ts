// /openapi/v2, /openapi/v3 and /openapi/v3/<group-version>: documents built from a tenant's
// resources, served the way kube-openapi's handlers serve them (ETag = upper-case hex SHA-512
// of the JSON, conditional GETs answered 304 as net/http's ServeContent does, Vary: Accept).
// The v2 document is also served as protobuf (gnostic's openapi.v2.Document), encoded on the
// first request that asks for it and kept beside the JSON.
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
import { encodeOpenAPIV2Protobuf } from "./openapi/openapi-v2.encoder.ts";
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

/** The v2 document's protobuf encodings, one per document (built on first use). */
const v2Protobuf = new WeakMap<Doc, Uint8Array>();

function protobufOf(doc: Doc): Uint8Array {
  let bytes = v2Protobuf.get(doc);
  if (bytes === undefined) {
    // Encoded from the served JSON, as kube-openapi's ToProtoBinary does: the same key order.
    bytes = encodeOpenAPIV2Protobuf(JSON.parse(doc.json));
    v2Protobuf.set(doc, bytes);
  }
  return bytes;
}

/** The Content-Type kube-openapi answers for both spellings of the protobuf media type. */
export const openAPIV2ProtobufContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/** The forms of the v2 document, in the order kube-openapi tries them for each Accept clause. */
const v2Forms = [
  { type: "application/json", form: "json" },
  { type: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", form: "protobuf" },
  { type: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", form: "protobuf" },
] as const;

type V2Form = (typeof v2Forms)[number]["form"];

/**
 * The form of the v2 document an Accept header gets, or undefined (406). kube-openapi walks the
 * clauses best first (goautoneg: by q, then the more specific before a wildcard) and serves
 * the first form a clause matches. A clause with q=0 is refused, as RFC 9110 says (kube-openapi
 * would serve it).
 */
function v2FormFor(accept: string | undefined): V2Form | undefined {
  const specificity = (type: string): number => (type === "*/*" ? 0 : type.endsWith("/*") ? 1 : 2);
  const clauses = parseAccept(accept)
    .filter((m) => m.q > 0)
    .map((m, i) => ({ m, i }))
    .sort((a, b) => b.m.q - a.m.q || specificity(b.m.type) - specificity(a.m.type) || a.i - b.i);
  for (const { m } of clauses) {
    const [type, subtype] = m.type.split("/");
    for (const { type: offered, form } of v2Forms) {
      const [offeredType, offeredSubtype] = offered.split("/");
      if ((type === offeredType || type === "*") && (subtype === offeredSubtype || subtype === "*")) {
        return form;
      }
    }
  }
  return undefined;
}

// ---- serving ---------------------------------------------------------------------------------

/** The request headers the OpenAPI endpoints read. */
export interface OpenAPIRequestHeaders {
  readonly accept?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
}

/** What nonresource.handler.ts sends; `body` is empty for 301 and 304, bytes for protobuf. */
export interface OpenAPIResponse {
  status: number;
  body: string | Uint8Array;
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
  body: () => string | Uint8Array = () => doc.json,
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
  return { status: 200, body: body(), headers: all };
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
    const form = v2FormFor(request.accept);
    if (form === undefined) {
      throw notAcceptable(
        `only the following media types are accepted: ${v2Forms.map((f) => f.type).join(", ")}`,
      );
    }
    const doc = v2Document(index);
    if (form === "json") {
      return serveContent(doc, request, { "Content-Type": "application/json", Vary: "Accept" });
    }
    // The JSON's ETag and Last-Modified: kube-openapi reuses them, since Vary: Accept keeps
    // caches from mixing the two forms.
    return serveContent(doc, request, { "Content-Type": openAPIV2ProtobufContentType, Vary: "Accept" }, () =>
      protobufOf(doc),
    );
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
