// /openapi/v3 and /openapi/v3/<group-version>: documents built from a tenant's resources.
// Built-in group-versions are the same for every tenant and built once; documents of
// groups with custom resources are built per tenant resource index.

import { resourceNotFound } from "../apierrors/status.ts";
import type { ResourceDef } from "../registry/resources.ts";
import type { ResourceIndex } from "../tenancy/instance.ts";
import { buildOpenAPIV3Document, buildOpenAPIV3Index, groupVersionPath, hash } from "./openapi/openapi.ts";

interface Doc {
  readonly json: string;
  readonly etag: string;
}

const builtinDocs = new Map<string, Doc>();
const tenantDocs = new WeakMap<ResourceIndex, Map<string, Doc>>();

function build(defs: readonly ResourceDef[]): Doc {
  const first = defs[0]!;
  const doc = buildOpenAPIV3Document({ group: first.group, version: first.version }, defs);
  const json = JSON.stringify(doc);
  return { json, etag: hash(json) };
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

export interface OpenAPIResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export function serveOpenAPI(
  path: string,
  query: URLSearchParams,
  ifNoneMatch: string | undefined,
  index: ResourceIndex,
): OpenAPIResponse {
  const docs = documents(index);
  if (path === "/openapi/v3" || path === "/openapi/v3/") {
    const body = JSON.stringify(buildOpenAPIV3Index([...docs].map(([p, d]) => ({ path: p, etag: d.etag }))));
    return { status: 200, body, headers: { "Content-Type": "application/json" } };
  }
  const doc = docs.get(path.slice("/openapi/v3/".length));
  if (doc === undefined) throw resourceNotFound();
  const etag = `"${doc.etag}"`;
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    ETag: etag,
    // A URL with the document's hash never changes: clients may cache it for good.
    "Cache-Control": query.get("hash") === doc.etag ? "public, immutable" : "no-cache, private",
  };
  if (ifNoneMatch === etag) return { status: 304, body: "", headers };
  return { status: 200, body: doc.json, headers };
}
