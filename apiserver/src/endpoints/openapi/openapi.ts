// OpenAPI v3 documents as kube-apiserver v1.32 serves them at /openapi/v3 (the discovery
// index) and /openapi/v3/<api/v1 | apis/<group>/<version>> (one document per group-version).
// kubectl reads them for `explain`, for client-side apply's strategic-merge metadata and to
// learn that the server validates fields itself (a PATCH that declares `fieldValidation`).
//
// Pure functions: no I/O besides loading the generated built-in schemas once. The shapes
// follow k8s.io/apiserver's installer (built-in kinds), apiextensions-apiserver's
// controller/openapi/builder (custom resources) and kube-openapi's builder3/handler3.

import { collectRefs, schemaRefPrefix } from "./schema-refs.ts";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";

/** An OpenAPI v3 schema object (or any JSON object in a document). Treated as read-only. */
export type Schema = { readonly [key: string]: unknown };
type MutableSchema = { [key: string]: unknown };

interface Parameter extends Schema {
  readonly name: string;
  readonly in: string;
}

/** The generated file: see hack/openapi/generate.ts. */
interface BuiltinFile {
  readonly source: Schema;
  /** TypeMeta's apiVersion and kind property schemas, which custom resources get too. */
  readonly typeMeta: { readonly apiVersion: Schema; readonly kind: Schema };
  /** Query (and `namespace`/`pretty` path) parameters per action, copied from upstream. */
  readonly parameters: {
    readonly namespace: Parameter;
    readonly pretty: Parameter;
    readonly list: readonly Parameter[];
    readonly create: readonly Parameter[];
    readonly deletecollection: readonly Parameter[];
    readonly get: readonly Parameter[];
    readonly update: readonly Parameter[];
    readonly patch: readonly Parameter[];
    readonly delete: readonly Parameter[];
  };
  /** Built-in kinds whose DELETE answers with the object rather than a Status. */
  readonly deleteReturnsObject: readonly string[];
  readonly schemas: Readonly<Record<string, Schema>>;
}

const builtin = createRequire(import.meta.url)("./builtin-schemas.json") as BuiltinFile;

/**
 * Upstream's OpenAPI v3 component schemas of the built-in kinds Multiplane serves, keyed by
 * component name (`io.k8s.api.core.v1.ConfigMap`). Shared by every caller: never mutate.
 */
export const builtinSchemas: Readonly<Record<string, Schema>> = builtin.schemas;

/** Built-in kinds (schema names) whose DELETE answers the deleted object instead of a Status. */
export const deleteReturnsObject: ReadonlySet<string> = new Set(builtin.deleteReturnsObject);

/** Which package and file the built-in schemas were cut from, what it lacked and what the overlay added. */
export const builtinSchemasSource: Schema = builtin.source;

const SCHEMA_PREFIX = schemaRefPrefix;
const META = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const OBJECT_META = `${META}ObjectMeta`;
const LIST_META = `${META}ListMeta`;
const STATUS = `${META}Status`;
const DELETE_OPTIONS = `${META}DeleteOptions`;
const PATCH = `${META}Patch`;
const API_RESOURCE_LIST = `${META}APIResourceList`;

// What kube-apiserver's builder puts on custom resources (metav1beta1.PartialObjectMetadata's
// and PartialObjectMetadataList's field docs, and the embedded-resource descriptions).
const CR_METADATA_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const CR_LIST_METADATA_DESCRIPTION =
  "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const EMBEDDED_API_VERSION_DESCRIPTION =
  "apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const EMBEDDED_KIND_DESCRIPTION =
  "kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

const BUILTIN_INFO = { title: "Kubernetes", version: "unversioned" } as const;
const CRD_INFO = { title: "Kubernetes CRD Swagger", version: "v0.1.0" } as const;
const SECURITY_SCHEMES = {
  BearerToken: {
    description: "Bearer Token authentication",
    in: "header",
    name: "authorization",
    type: "apiKey",
  },
} as const;

const ALL_VERBS = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
] as const;

// ---- public types --------------------------------------------------------------------------

/** A group-version whose document the server publishes. */
export interface GroupVersion {
  /** "" for the legacy core group. */
  readonly group: string;
  readonly version: string;
}

/** One entry of the /openapi/v3 index, given by the HTTP layer (which owns the documents). */
export interface GroupVersionEntry {
  /** "api/v1" or "apis/<group>/<version>" (kube also lists "api", "apis", "version"...). */
  readonly path: string;
  /** The document's hash (see {@link hash}). */
  readonly etag: string;
}

/** The /openapi/v3 discovery document (kube-openapi handler3.OpenAPIV3Discovery). */
export interface OpenAPIV3Discovery {
  readonly paths: Readonly<Record<string, { readonly serverRelativeURL: string }>>;
}

/** One group-version's OpenAPI v3 document. Freshly built on each call: the caller owns it. */
export interface OpenAPIV3Document {
  readonly openapi: "3.0.0";
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Readonly<Record<string, Schema>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, Schema>>;
    readonly securitySchemes?: Readonly<Record<string, Schema>>;
  };
}

/**
 * A resource to publish, as the registry knows it. Built-in kinds name their upstream schema
 * (`schemaName`); custom resources carry their CRD version's `openAPIV3Schema` (`schema`,
 * absent for a schemaless CRD) and get kube's wrapping (TypeMeta, ObjectMeta, GVK, List).
 * Read only; structurally compatible with the registry's ResourceDef.
 */
export interface ResourceDescription {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** "status" and "scale"; built-ins may also have "token" (ServiceAccount) and "finalize" (Namespace). Others are ignored. */
  readonly subresources: readonly string[];
  /** Discovery verbs (create, delete, deletecollection, get, list, patch, update, watch); all when absent. */
  readonly verbs?: readonly string[];
  /** The component name of a built-in kind's schema, in {@link builtinSchemas} or `customSchemas`. */
  readonly schemaName?: string;
  /** A custom resource version's openAPIV3Schema. Ignored when `schemaName` is set. */
  readonly schema?: Schema;
}

/** Options of {@link buildOpenAPIV3Document}. */
export interface DocumentOptions {
  /** `info.version` of built-in documents; kube-apiserver publishes "unversioned" in its repository. */
  readonly infoVersion?: string;
  /**
   * Give custom resources the schema kube's OpenAPI v2 builder gives them (what v2 cannot
   * express stripped: see {@link toStructuralOpenAPIV2}) instead of the v3 one. Set by
   * buildOpenAPIV2Document (openapi-v2.builder.ts), which converts the rest itself.
   */
  readonly v2?: boolean;
}

// ---- index and hash --------------------------------------------------------------------------

/** "api/v1" for the core group, "apis/<group>/<version>" otherwise. */
export function groupVersionPath(gv: GroupVersion): string {
  return gv.group === "" ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
}

/**
 * The /openapi/v3 document: each group-version's URL carries its document's hash, so a client
 * caches documents until the index changes. Keys sorted as Go's encoding/json does.
 */
export function buildOpenAPIV3Index(groupVersions: readonly GroupVersionEntry[]): OpenAPIV3Discovery {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const entries = groupVersions
    .map((gv) => ({ path: gv.path.replace(/^\/+|\/+$/g, ""), etag: gv.etag }))
    .sort((a, b) => compareStrings(a.path, b.path));
  for (const { path, etag } of entries) {
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${encodeURIComponent(etag)}` };
  }
  return { paths };
}

/**
 * kube-openapi's ETag: the upper-case hex SHA-512 of the served JSON bytes. Pass the exact
 * string served, or the document (hashed as `JSON.stringify(doc)`, which is then what the HTTP
 * layer must serve byte for byte).
 */
export function hash(doc: unknown): string {
  const bytes = typeof doc === "string" ? doc : JSON.stringify(doc);
  return createHash("sha512").update(bytes).digest("hex").toUpperCase();
}

// ---- names -----------------------------------------------------------------------------------

/** kube-openapi util.ToRESTFriendlyName: "stable.example.com/v1.CronTab" → "com.example.stable.v1.CronTab". */
function restFriendlyName(name: string): string {
  const parts = name.split("/");
  const first = parts[0] ?? "";
  if (first.includes(".")) parts[0] = first.split(".").reverse().join(".");
  return parts.join(".");
}

/** The component name kube gives a custom resource's schema. */
export function customResourceSchemaName(group: string, version: string, kind: string): string {
  return restFriendlyName(`${group}/${version}.${kind}`);
}

/** k8s.io/apiserver endpoints/openapi.ToValidOperationID. */
function toValidOperationID(s: string, capitalizeFirstLetter: boolean): string {
  let out = "";
  let capitalize = capitalizeFirstLetter;
  let i = 0;
  for (const r of s) {
    if (/\p{L}/u.test(r) || r === "_" || (i !== 0 && /\p{Nd}/u.test(r))) {
      out += capitalize ? r.toUpperCase() : r;
      capitalize = false;
    } else {
      capitalize = true;
    }
    i += r.length;
  }
  return out;
}

/** endpoints.GetArticleForNoun: " a ", " an ", or " " for plurals. */
function articleFor(noun: string): string {
  if (!noun.endsWith("ss") && noun.endsWith("s")) return " ";
  return /^[aeiou]/i.test(noun) ? " an " : " a ";
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- operations ------------------------------------------------------------------------------

type Method = "get" | "post" | "put" | "patch" | "delete";
type Action = "list" | "post" | "deletecollection" | "get" | "put" | "patch" | "delete";
type OperationVerb = "list" | "create" | "deletecollection" | "read" | "replace" | "patch" | "delete";

interface Gvk {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** How one resource is published: which flavour of kube's builders, and its schema names. */
interface Publication {
  readonly resource: ResourceDescription;
  readonly custom: boolean;
  readonly kindSchema: string;
  readonly listSchema: string;
  readonly watch: boolean;
}

interface Route {
  readonly method: Method;
  readonly action: Action;
  readonly verb: OperationVerb;
  /** "" for the resource itself. */
  readonly subresource: string;
  readonly forAllNamespaces?: boolean;
  readonly gvk: Gvk;
  readonly response: string;
  readonly request?: string;
  readonly parameters: readonly Parameter[];
}

const P = builtin.parameters;

function ref(name: string): Schema {
  return { $ref: SCHEMA_PREFIX + name };
}

function namedParameter(list: readonly Parameter[], name: string): Parameter {
  const found = list.find((p) => p.name === name);
  if (found === undefined) throw new Error(`builtin-schemas.json lacks the "${name}" parameter`);
  return found;
}

function tagFor(gv: GroupVersion): string {
  const group = gv.group === "" ? "core" : gv.group.replace(/\.k8s\.io$/, "");
  return `${toValidOperationID(group, false)}_${toValidOperationID(gv.version, false)}`;
}

/** endpoints/openapi.GetOperationIDAndTags applied to the installer's operation name. */
function operationId(pub: Publication, route: Route): string {
  const r = pub.resource;
  const scope = r.namespaced && route.forAllNamespaces !== true ? "Namespaced" : "";
  const suffix = route.forAllNamespaces === true ? "ForAllNamespaces" : "";
  const name = `${route.verb}${scope}${r.kind}${capitalize(route.subresource)}${suffix}`;
  // The verb trie answers the shortest verb: "deletecollection…" is "delete" + "collection…".
  const verb = route.verb === "deletecollection" ? "delete" : route.verb;
  const group = r.group === "" ? "core" : r.group.replace(/\.k8s\.io$/, "");
  const prefix = verb + toValidOperationID(group, true) + toValidOperationID(r.version, true);
  return prefix + toValidOperationID(name.slice(verb.length), true);
}

/** The builders' descriptionFor. */
function describe(pub: Publication, route: Route): string {
  const kind = pub.resource.kind;
  const sub = route.subresource === "" ? "" : ` ${route.subresource} of`;
  switch (route.verb) {
    case "list":
      return `list${pub.watch && !pub.custom ? " or watch" : ""}${sub} objects of kind ${kind}`;
    case "read":
    case "replace":
      return `${route.verb}${sub} the specified ${kind}`;
    case "patch":
      return `partially update${sub} the specified ${kind}`;
    case "create":
    case "delete":
      return `${route.verb}${sub}${articleFor(kind)}${kind}`;
    case "deletecollection":
      return `delete collection of${sub === "" ? "" : `${sub} a`} ${kind}`;
  }
}

function content(types: readonly string[], schemaName: string): Schema {
  return Object.fromEntries(types.map((t) => [t, { schema: ref(schemaName) }]));
}

function responseTypes(pub: Publication, route: Route): string[] {
  const types = pub.custom
    ? ["application/json", "application/yaml"]
    : ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];
  if (route.action === "list" && pub.watch && !pub.custom) {
    types.push("application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch");
  }
  return types;
}

function requestBody(pub: Publication, route: Route): Schema | undefined {
  if (route.request === undefined) return undefined;
  if (route.method === "patch") {
    const types = pub.custom
      ? ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
      : [
          "application/json-patch+json",
          "application/merge-patch+json",
          "application/strategic-merge-patch+json",
          "application/apply-patch+yaml",
        ];
    return { content: content(types, route.request), required: true };
  }
  const types = pub.custom ? ["application/json", "application/yaml"] : ["*/*"];
  // DeleteOptions is an optional body; objects to create or replace are required.
  return route.request === DELETE_OPTIONS
    ? { content: content(types, route.request) }
    : { content: content(types, route.request), required: true };
}

function responses(pub: Publication, route: Route): Schema {
  const ok = content(responseTypes(pub, route), route.response);
  const out: MutableSchema = { "200": { content: ok, description: "OK" } };
  const created = { content: ok, description: "Created" };
  const accepted = { content: ok, description: "Accepted" };
  switch (route.action) {
    case "post":
      out["201"] = created;
      out["202"] = accepted;
      break;
    case "put":
      out["201"] = created;
      break;
    case "patch":
      if (!pub.custom) out["201"] = created;
      break;
    case "delete":
      out["202"] = accepted;
      break;
    case "list":
    case "get":
    case "deletecollection":
      break;
  }
  out["401"] = { description: "Unauthorized" };
  return out;
}

function operation(pub: Publication, route: Route, parameters: readonly Parameter[]): Schema {
  const op: MutableSchema = {
    description: describe(pub, route),
    operationId: operationId(pub, route),
    responses: responses(pub, route),
    tags: [tagFor(pub.resource)],
    "x-kubernetes-action": route.action,
    "x-kubernetes-group-version-kind": {
      group: route.gvk.group,
      kind: route.gvk.kind,
      version: route.gvk.version,
    },
  };
  if (parameters.length > 0) op["parameters"] = parameters;
  const body = requestBody(pub, route);
  if (body !== undefined) op["requestBody"] = body;
  return op;
}

function sortParameters(params: Parameter[]): Parameter[] {
  return params.sort((a, b) => compareStrings(a.name, b.name) || compareStrings(a.in, b.in));
}

/**
 * One path item: parameters every operation shares move to the path level, as kube-openapi's
 * builder3 does (so a path with a single operation has all its parameters there).
 */
function pathItem(pub: Publication, routes: readonly Route[], pathParams: readonly Parameter[]): Schema {
  const key = (p: Parameter): string => `${p.in}\u0000${p.name}`;
  const all = routes.map((r) => [...pathParams, ...r.parameters]);
  const counts = new Map<string, number>();
  for (const params of all) for (const p of params) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
  const common = new Map<string, Parameter>();
  for (const params of all) {
    for (const p of params) if (counts.get(key(p)) === routes.length) common.set(key(p), p);
  }
  const item: MutableSchema = {};
  routes.forEach((route, i) => {
    const own = (all[i] ?? []).filter((p) => !common.has(key(p)));
    item[route.method] = operation(pub, route, sortParameters(own));
  });
  if (common.size > 0) item["parameters"] = sortParameters([...common.values()]);
  return item;
}

function nameParameter(kind: string): Parameter {
  return {
    description: `name of the ${kind}`,
    in: "path",
    name: "name",
    required: true,
    schema: { type: "string", uniqueItems: true },
  };
}

/** The paths kube-apiserver registers for one resource (watch paths left out: deprecated). */
function resourcePaths(pub: Publication, lookup: SchemaLookup): Record<string, Schema> {
  const r = pub.resource;
  const verbs = new Set(r.verbs ?? ALL_VERBS);
  const gvk: Gvk = { group: r.group, version: r.version, kind: r.kind };
  const prefix = `/${groupVersionPath(r)}`;
  const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
  const item = `${collection}/{name}`;
  const scopeParams = r.namespaced ? [P.namespace] : [];
  const crdGetParams = [namedParameter(P.list, "resourceVersion")];
  const deleteResponse =
    !pub.custom && builtin.deleteReturnsObject.includes(pub.kindSchema) ? pub.kindSchema : STATUS;
  const out: Record<string, Schema> = {};

  if (verbs.has("list") && r.namespaced) {
    const route: Route = {
      method: "get",
      action: "list",
      verb: "list",
      subresource: "",
      forAllNamespaces: true,
      gvk,
      response: pub.listSchema,
      parameters: P.list,
    };
    out[`${prefix}/${r.plural}`] = pathItem(pub, [route], [P.pretty]);
  }

  const onCollection: Route[] = [];
  if (verbs.has("list")) {
    onCollection.push({
      method: "get",
      action: "list",
      verb: "list",
      subresource: "",
      gvk,
      response: pub.listSchema,
      parameters: P.list,
    });
  }
  if (verbs.has("create")) {
    onCollection.push({
      method: "post",
      action: "post",
      verb: "create",
      subresource: "",
      gvk,
      response: pub.kindSchema,
      request: pub.kindSchema,
      parameters: P.create,
    });
  }
  if (verbs.has("deletecollection")) {
    onCollection.push({
      method: "delete",
      action: "deletecollection",
      verb: "deletecollection",
      subresource: "",
      gvk,
      response: STATUS,
      // Custom resources' collection DELETE reads no body and takes ListOptions only.
      ...(pub.custom ? {} : { request: DELETE_OPTIONS }),
      parameters: pub.custom ? P.list : P.deletecollection,
    });
  }
  if (onCollection.length > 0) out[collection] = pathItem(pub, onCollection, [...scopeParams, P.pretty]);

  const itemParams = [nameParameter(r.kind), ...scopeParams, P.pretty];
  const onItem: Route[] = [];
  if (verbs.has("get")) {
    onItem.push({
      method: "get",
      action: "get",
      verb: "read",
      subresource: "",
      gvk,
      response: pub.kindSchema,
      parameters: pub.custom ? crdGetParams : P.get,
    });
  }
  if (verbs.has("update")) {
    onItem.push({
      method: "put",
      action: "put",
      verb: "replace",
      subresource: "",
      gvk,
      response: pub.kindSchema,
      request: pub.kindSchema,
      parameters: P.update,
    });
  }
  if (verbs.has("patch")) {
    onItem.push({
      method: "patch",
      action: "patch",
      verb: "patch",
      subresource: "",
      gvk,
      response: pub.kindSchema,
      request: PATCH,
      parameters: P.patch,
    });
  }
  if (verbs.has("delete")) {
    onItem.push({
      method: "delete",
      action: "delete",
      verb: "delete",
      subresource: "",
      gvk,
      response: pub.custom ? STATUS : deleteResponse,
      request: DELETE_OPTIONS,
      parameters: P.delete,
    });
  }
  if (onItem.length > 0) out[item] = pathItem(pub, onItem, itemParams);

  for (const sub of r.subresources) {
    const target = subresourceTarget(pub, sub, lookup);
    if (target === undefined) continue;
    const subParams = [nameParameter(target.nameKind), ...scopeParams, P.pretty];
    const routes = target.routes.map((method): Route => ({
      method,
      action: method,
      verb: method === "get" ? "read" : method === "put" ? "replace" : method === "post" ? "create" : "patch",
      subresource: sub,
      gvk: target.gvk,
      response: target.schema,
      ...(method === "get" ? {} : { request: method === "patch" ? PATCH : target.schema }),
      parameters:
        method === "get"
          ? pub.custom
            ? crdGetParams
            : P.get
          : method === "put"
            ? P.update
            : method === "post"
              ? P.create
              : P.patch,
    }));
    out[`${item}/${sub}`] = pathItem(pub, routes, subParams);
  }
  return out;
}

interface SubresourceTarget {
  readonly routes: readonly ("get" | "put" | "patch" | "post")[];
  readonly gvk: Gvk;
  readonly schema: string;
  /** Whose name the `name` parameter describes. */
  readonly nameKind: string;
}

function subresourceTarget(
  pub: Publication,
  sub: string,
  lookup: SchemaLookup,
): SubresourceTarget | undefined {
  const r = pub.resource;
  const own: Gvk = { group: r.group, version: r.version, kind: r.kind };
  switch (sub) {
    case "status":
      return { routes: ["get", "put", "patch"], gvk: own, schema: pub.kindSchema, nameKind: r.kind };
    case "scale": {
      const scale: Gvk = { group: "autoscaling", version: "v1", kind: "Scale" };
      const schema = lookup.byGvk(scale) ?? "io.k8s.api.autoscaling.v1.Scale";
      // Custom resources' scale routes carry the resource's own GVK and name.
      return pub.custom
        ? { routes: ["get", "put", "patch"], gvk: own, schema, nameKind: r.kind }
        : { routes: ["get", "put", "patch"], gvk: scale, schema, nameKind: "Scale" };
    }
    case "token": {
      if (pub.custom) return undefined;
      const tokenRequest: Gvk = { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" };
      const schema = lookup.byGvk(tokenRequest);
      return schema === undefined
        ? undefined
        : { routes: ["post"], gvk: tokenRequest, schema, nameKind: "TokenRequest" };
    }
    case "finalize":
      return pub.custom ? undefined : { routes: ["put"], gvk: own, schema: pub.kindSchema, nameKind: r.kind };
    default:
      return undefined;
  }
}

function apiResourcesPath(gv: GroupVersion): Schema {
  const group = gv.group === "" ? "core" : gv.group.replace(/\.k8s\.io$/, "");
  return {
    get: {
      description: "get available resources",
      operationId: `get${toValidOperationID(group, true)}${toValidOperationID(gv.version, true)}APIResources`,
      responses: {
        "200": {
          content: content(
            ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
            API_RESOURCE_LIST,
          ),
          description: "OK",
        },
        "401": { description: "Unauthorized" },
      },
      tags: [tagFor(gv)],
    },
  };
}

// ---- schemas ---------------------------------------------------------------------------------

function isObject(value: unknown): value is MutableSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: MutableSchema = {};
  for (const key of Object.keys(value).sort(compareStrings)) out[key] = sortKeys(value[key]);
  return out;
}

function gvkExtension(gvk: Gvk): Schema[] {
  return [{ group: gvk.group, kind: gvk.kind, version: gvk.version }];
}

function hasGvk(schema: Schema, gvk: Gvk): boolean {
  const ext = schema["x-kubernetes-group-version-kind"];
  return (
    Array.isArray(ext) &&
    ext.some(
      (g: unknown) =>
        isObject(g) && g["group"] === gvk.group && g["version"] === gvk.version && g["kind"] === gvk.kind,
    )
  );
}

class SchemaLookup {
  /** Schemas this document defines itself (custom resources, placeholders). */
  readonly local = new Map<string, Schema>();
  constructor(private readonly custom: Readonly<Record<string, Schema>>) {}

  get(name: string): Schema | undefined {
    return this.local.get(name) ?? this.custom[name] ?? builtinSchemas[name];
  }

  /** A kind's own schema: the one whose GVK list names it alone (shared meta types list many). */
  byGvk(gvk: Gvk): string | undefined {
    const candidates: [string, Schema][] = [
      ...this.local.entries(),
      ...Object.entries(this.custom),
      ...Object.entries(builtinSchemas),
    ];
    const matches = candidates.filter(([, s]) => hasGvk(s, gvk));
    const own = matches.find(([, s]) => {
      const ext = s["x-kubernetes-group-version-kind"];
      return Array.isArray(ext) && ext.length === 1;
    });
    return (own ?? matches[0])?.[0];
  }
}

/** Sets `anyOf: [integer, string]` on x-kubernetes-int-or-string nodes (structural Unfold). */
function unfoldIntOrString(node: MutableSchema): void {
  if (node["x-kubernetes-int-or-string"] !== true) return;
  const pattern = JSON.stringify([{ type: "integer" }, { type: "string" }]);
  const anyOf = node["anyOf"];
  const allOf = node["allOf"];
  if (JSON.stringify(anyOf) === pattern) return;
  if (Array.isArray(allOf) && isObject(allOf[0]) && JSON.stringify(allOf[0]["anyOf"]) === pattern) return;
  const intOrString = [{ type: "integer" }, { type: "string" }];
  if (anyOf === undefined) node["anyOf"] = intOrString;
  else node["allOf"] = [{ anyOf: intOrString }, ...(Array.isArray(allOf) ? (allOf as unknown[]) : [])];
}

/** addEmbeddedProperties: TypeMeta and ObjectMeta on x-kubernetes-embedded-resource nodes. */
function addEmbeddedProperties(node: MutableSchema): void {
  if (node["x-kubernetes-embedded-resource"] !== true) return;
  const properties = isObject(node["properties"]) ? node["properties"] : {};
  properties["apiVersion"] = {
    ...builtin.typeMeta.apiVersion,
    description: EMBEDDED_API_VERSION_DESCRIPTION,
  };
  properties["kind"] = { ...builtin.typeMeta.kind, description: EMBEDDED_KIND_DESCRIPTION };
  properties["metadata"] = { allOf: [ref(OBJECT_META)], description: CR_METADATA_DESCRIPTION };
  node["properties"] = properties;
  const required = Array.isArray(node["required"]) ? (node["required"] as unknown[]) : [];
  if (!required.includes("kind")) required.push("kind");
  if (!required.includes("apiVersion")) required.push("apiVersion");
  node["required"] = required;
}

/** Visits the structural parts of a CRD schema: properties, items, additionalProperties. */
function visitStructural(node: unknown, visit: (node: MutableSchema) => void): void {
  if (!isObject(node)) return;
  const properties = node["properties"];
  if (isObject(properties)) for (const p of Object.values(properties)) visitStructural(p, visit);
  visitStructural(node["items"], visit);
  visitStructural(node["additionalProperties"], visit);
  visit(node);
}

/**
 * apiextensions' ToStructuralOpenAPIV2 on one node, before its children are visited (the
 * structural Visitor's order): OpenAPI v2 has no junctors and no `nullable`, and kubectl's v2
 * model breaks on untyped values with fields and on arrays without items.
 */
function toStructuralOpenAPIV2(node: MutableSchema): void {
  for (const junctor of ["allOf", "oneOf", "anyOf", "not"]) delete node[junctor];
  const preserveUnknown = node["x-kubernetes-preserve-unknown-fields"] === true;
  if (node["nullable"] === true) {
    delete node["type"];
    delete node["nullable"];
    delete node["items"];
    delete node["properties"];
  }
  if (preserveUnknown) {
    delete node["items"];
    delete node["properties"];
  }
  if (node["items"] === undefined && node["type"] === "array") delete node["type"];
  if (preserveUnknown && node["type"] === "object") delete node["type"];
  const properties = node["properties"];
  if (isObject(properties) && Array.isArray(node["required"])) {
    const nullable = new Set(
      Object.entries(properties)
        .filter(([, p]) => isObject(p) && p["nullable"] === true)
        .map(([name]) => name),
    );
    const required = (node["required"] as unknown[]).filter((n) => !nullable.has(n as string));
    if (required.length === 0) delete node["required"];
    else node["required"] = required;
  }
  const additional = node["additionalProperties"];
  if (isObject(additional) && additional["nullable"] === true) delete node["required"];
}

/** visitStructural's counterpart for ToStructuralOpenAPIV2: parents before children. */
function visitStructuralPreOrder(node: unknown, visit: (node: MutableSchema) => void): void {
  if (!isObject(node)) return;
  visit(node);
  visitStructuralPreOrder(node["items"], visit);
  const properties = node["properties"];
  if (isObject(properties)) for (const p of Object.values(properties)) visitStructuralPreOrder(p, visit);
  visitStructuralPreOrder(node["additionalProperties"], visit);
}

/**
 * buildKubeNative: the CRD schema with kube's TypeMeta, ObjectMeta and GVK. For v2, a schema
 * that preserves unknown fields at its root is published as a bare object (kubectl's v2 model
 * would otherwise forbid every field it does not list), and the rest is made v2-expressible.
 */
function customResourceSchema(r: ResourceDescription, v2: boolean): Schema {
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const bare = { type: "object", "x-kubernetes-group-version-kind": gvkExtension(gvk) };
  if (r.schema === undefined) return bare;
  if (v2 && r.schema["x-kubernetes-preserve-unknown-fields"] === true) return bare;
  const schema = structuredClone<MutableSchema>(r.schema);
  if (v2) visitStructuralPreOrder(schema, toStructuralOpenAPIV2);
  visitStructural(schema, (node) => {
    // v2 has no anyOf to unfold int-or-string into, and no properties on preserving nodes.
    if (v2 && node["x-kubernetes-preserve-unknown-fields"] === true) return;
    if (!v2) unfoldIntOrString(node);
    addEmbeddedProperties(node);
  });
  const properties = isObject(schema["properties"]) ? schema["properties"] : {};
  properties["metadata"] = { allOf: [ref(OBJECT_META)], description: CR_METADATA_DESCRIPTION };
  properties["apiVersion"] = builtin.typeMeta.apiVersion;
  properties["kind"] = builtin.typeMeta.kind;
  schema["properties"] = properties;
  schema["x-kubernetes-group-version-kind"] = gvkExtension(gvk);
  return schema;
}

/** buildListSchema: the List kind kube defines for a custom resource. */
function customListSchema(r: ResourceDescription, itemSchema: string): Schema {
  return {
    description: `${r.listKind} is a list of ${r.kind}`,
    properties: {
      apiVersion: builtin.typeMeta.apiVersion,
      items: {
        description: `List of ${r.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        items: ref(itemSchema),
        type: "array",
      },
      kind: builtin.typeMeta.kind,
      metadata: { allOf: [ref(LIST_META)], description: CR_LIST_METADATA_DESCRIPTION },
    },
    required: ["items"],
    type: "object",
    "x-kubernetes-group-version-kind": gvkExtension({ group: r.group, version: r.version, kind: r.listKind }),
  };
}

function publish(r: ResourceDescription, lookup: SchemaLookup, v2: boolean): Publication {
  const watch = (r.verbs ?? ALL_VERBS).includes("watch");
  if (r.schemaName === undefined) {
    const kindSchema = customResourceSchemaName(r.group, r.version, r.kind);
    const listSchema = customResourceSchemaName(r.group, r.version, r.listKind);
    lookup.local.set(kindSchema, customResourceSchema(r, v2));
    lookup.local.set(listSchema, customListSchema(r, kindSchema));
    return { resource: r, custom: true, kindSchema, listSchema, watch };
  }
  const kindSchema = r.schemaName;
  if (lookup.get(kindSchema) === undefined) {
    // A kind the schema source lacks: publish it schemaless, as kube does for a CRD without
    // a schema, so its paths (and kubectl's fieldValidation check) still work.
    lookup.local.set(kindSchema, {
      type: "object",
      "x-kubernetes-group-version-kind": gvkExtension({ group: r.group, version: r.version, kind: r.kind }),
    });
  }
  const listGvk = { group: r.group, version: r.version, kind: r.listKind };
  let listSchema = lookup.byGvk(listGvk);
  if (listSchema === undefined) {
    listSchema = `${kindSchema}List`;
    lookup.local.set(listSchema, customListSchema(r, kindSchema));
  }
  return { resource: r, custom: false, kindSchema, listSchema, watch };
}

/**
 * The OpenAPI v3 document of one group-version, as kube-apiserver builds it: for each resource
 * its collection and item paths (plus status/scale subresources), each operation with kube's
 * operationId, x-kubernetes-action, x-kubernetes-group-version-kind, parameters and content
 * types, and `components.schemas` with every schema those paths refer to, transitively.
 *
 * `customSchemas` adds (or overrides) components that `schemaName`s may refer to. Nothing
 * given is modified; the result is a new object with keys sorted (deterministic JSON).
 * Throws when a referenced schema exists nowhere.
 */
export function buildOpenAPIV3Document(
  gv: GroupVersion,
  resources: readonly ResourceDescription[],
  customSchemas: Readonly<Record<string, Schema>> = {},
  options: DocumentOptions = {},
): OpenAPIV3Document {
  const lookup = new SchemaLookup(customSchemas);
  const paths: Record<string, Schema> = {};
  let anyBuiltin = false;
  for (const r of resources) {
    if (r.group !== gv.group || r.version !== gv.version) {
      throw new Error(`resource ${r.plural} is in ${groupVersionPath(r)}, not ${groupVersionPath(gv)}`);
    }
    const pub = publish(r, lookup, options.v2 === true);
    anyBuiltin ||= !pub.custom;
    Object.assign(paths, resourcePaths(pub, lookup));
  }
  if (anyBuiltin || resources.length === 0) paths[`/${groupVersionPath(gv)}/`] = apiResourcesPath(gv);

  const schemas: Record<string, Schema> = {};
  const queue = new Set<string>();
  collectRefs(paths, queue);
  for (const name of queue) {
    const schema = lookup.get(name);
    if (schema === undefined) throw new Error(`OpenAPI schema ${name} is referenced but not defined`);
    schemas[name] = schema;
    const refs = new Set<string>();
    collectRefs(schema, refs);
    for (const next of refs) queue.add(next);
  }

  const components: MutableSchema = { schemas };
  if (anyBuiltin) components["securitySchemes"] = SECURITY_SCHEMES;
  const info = anyBuiltin || resources.length === 0 ? BUILTIN_INFO : CRD_INFO;
  return sortKeys({
    components,
    info: {
      ...info,
      ...(anyBuiltin && options.infoVersion !== undefined ? { version: options.infoVersion } : {}),
    },
    openapi: "3.0.0",
    paths,
  }) as OpenAPIV3Document;
}
