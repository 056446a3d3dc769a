// The Swagger 2.0 document kube-apiserver v1.32 serves at /openapi/v2: one document for every
// group-version the tenant serves, built-in kinds and custom resources together. Older clients
// (and `kubectl explain --output=plaintext-openapiv2`) read it.
//
// It is derived from the per-group-version OpenAPI v3 documents (openapi.ts), so both versions
// publish the same paths, operationIds and schemas: v3 operations become v2 ones (a request body
// becomes the `body` parameter, content types become consumes/produces, parameter schemas are
// inlined), `#/components/schemas/X` becomes `#/definitions/X`, and what v2 cannot express is
// dropped the way kube's builders drop it (custom resources: ToStructuralOpenAPIV2 in openapi.ts;
// everyone: the `allOf` wrapper of a described `$ref`, and defaults, pruned as kube-openapi's
// PruneDefaults does for the served v2 document). Pure functions, no I/O.

import {
  buildOpenAPIV3Document,
  builtinSchemas,
  groupVersionPath,
  type GroupVersion,
  type ResourceDescription,
  type Schema,
} from "./openapi.ts";
import { collectRefs, literalKeywords, schemaMapKeywords, schemaRefPrefix } from "./schema-refs.ts";

type MutableSchema = { [key: string]: unknown };

const DEFINITIONS_PREFIX = "#/definitions/";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const KUBE_CONTENT_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];
const CUSTOM_CONTENT_TYPES = ["application/json", "application/yaml"];
/** The order kube's route builders declare media types in (v3 keeps them as sorted map keys). */
const MEDIA_TYPE_ORDER = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
  "application/json",
  "application/yaml",
  "application/vnd.kubernetes.protobuf",
  "application/json;stream=watch",
  "application/vnd.kubernetes.protobuf;stream=watch",
];

function mediaTypes(content: unknown): string[] {
  const rank = (t: string): number => {
    const i = MEDIA_TYPE_ORDER.indexOf(t);
    return i === -1 ? MEDIA_TYPE_ORDER.length : i;
  };
  return Object.keys(isObject(content) ? content : {}).sort(
    (a, b) => rank(a) - rank(b) || compareStrings(a, b),
  );
}

/** The Swagger 2.0 document. Freshly built on each call: the caller owns it. */
export interface OpenAPIV2Document {
  readonly swagger: "2.0";
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Readonly<Record<string, Schema>>;
  readonly definitions: Readonly<Record<string, Schema>>;
  readonly security: readonly Schema[];
  readonly securityDefinitions: Readonly<Record<string, Schema>>;
}

/** Options of {@link buildOpenAPIV2Document}. */
export interface OpenAPIV2Options {
  /** `info.version`: kube-apiserver publishes its gitVersion (e.g. "v1.32.4"). */
  readonly infoVersion: string;
}

function isObject(value: unknown): value is MutableSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: MutableSchema = {};
  for (const key of Object.keys(value).sort(compareStrings)) out[key] = sortKeys(value[key]);
  return out;
}

/** k8s.io/apiserver's ToValidOperationID (the same rule openapi.ts applies). */
function toValidOperationID(s: string, capitalizeFirst: boolean): string {
  let out = "";
  let capitalize = capitalizeFirst;
  let first = true;
  for (const r of s) {
    if (/\p{L}/u.test(r) || r === "_" || (!first && /\p{Nd}/u.test(r))) {
      out += capitalize ? r.toUpperCase() : r;
      capitalize = false;
    } else {
      capitalize = true;
    }
    first = false;
  }
  return out;
}

// ---- schemas ---------------------------------------------------------------------------------

/**
 * A v3 schema in v2 form: refs point into #/definitions, `allOf: [{$ref}]` beside other
 * keywords (how v3 describes a reference) becomes the `$ref` with those siblings, as in
 * upstream's swagger.json, and `default` is pruned (kube-openapi's PruneDefaults).
 */
export function schemaToV2(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(schemaToV2);
  if (!isObject(node)) return node;
  const out: MutableSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "default") continue;
    if (key === "$ref" && typeof value === "string") {
      out[key] = value.startsWith(schemaRefPrefix)
        ? DEFINITIONS_PREFIX + value.slice(schemaRefPrefix.length)
        : value;
    } else if (literalKeywords.has(key)) {
      out[key] = value;
    } else if (schemaMapKeywords.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, schemaToV2(v)]));
    } else {
      out[key] = schemaToV2(value);
    }
  }
  const allOf = out["allOf"];
  if (Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0])) {
    const only = allOf[0];
    if (Object.keys(only).length === 1 && typeof only["$ref"] === "string" && out["$ref"] === undefined) {
      delete out["allOf"];
      out["$ref"] = only["$ref"];
    }
  }
  return out;
}

// ---- operations ------------------------------------------------------------------------------

/** A v3 parameter in v2 form: its schema's keywords move onto the parameter. */
function parameterToV2(param: unknown): MutableSchema {
  if (!isObject(param)) throw new Error("OpenAPI parameter is not an object");
  const { schema, ...rest } = param;
  return { ...rest, ...(isObject(schema) ? (schemaToV2(schema) as MutableSchema) : {}) };
}

/** The schema of the first content type of a v3 requestBody or response. */
function contentSchema(content: unknown): unknown {
  if (!isObject(content)) return undefined;
  const first = Object.values(content)[0];
  return isObject(first) ? first["schema"] : undefined;
}

function operationToV2(op: MutableSchema, custom: boolean): MutableSchema {
  const out: MutableSchema = {};
  for (const key of [
    "description",
    "operationId",
    "tags",
    "x-kubernetes-action",
    "x-kubernetes-group-version-kind",
  ]) {
    if (op[key] !== undefined) out[key] = op[key];
  }
  const parameters: MutableSchema[] = [];
  const body = op["requestBody"];
  if (isObject(body)) {
    out["consumes"] = mediaTypes(body["content"]);
    parameters.push({
      in: "body",
      name: "body",
      ...(body["required"] === true ? { required: true } : {}),
      schema: schemaToV2(contentSchema(body["content"])),
    });
  } else {
    // kube's installer declares "*/*" for reads; the CRD builder json and yaml for everything.
    out["consumes"] = custom ? CUSTOM_CONTENT_TYPES : ["*/*"];
  }
  if (Array.isArray(op["parameters"])) parameters.push(...op["parameters"].map(parameterToV2));
  if (parameters.length > 0) out["parameters"] = parameters;

  const responses: MutableSchema = {};
  let produces: string[] = [];
  for (const [code, response] of Object.entries(isObject(op["responses"]) ? op["responses"] : {})) {
    if (!isObject(response)) continue;
    const schema = contentSchema(response["content"]);
    responses[code] = {
      description: response["description"],
      ...(schema === undefined ? {} : { schema: schemaToV2(schema) }),
    };
    if (code === "200") produces = mediaTypes(response["content"]);
  }
  out["produces"] = produces;
  out["responses"] = responses;
  out["schemes"] = ["https"];
  return out;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"] as const;

function pathItemToV2(item: Schema, custom: boolean): MutableSchema {
  const out: MutableSchema = {};
  for (const method of METHODS) {
    const op = item[method];
    if (isObject(op)) out[method] = operationToV2(op, custom);
  }
  if (Array.isArray(item["parameters"])) out["parameters"] = item["parameters"].map(parameterToV2);
  return out;
}

/** A discovery path (/api/, /apis/, /apis/<group>/) as kube-apiserver's v2 document lists it. */
function discoveryPath(description: string, operationId: string, tag: string, schema: string): Schema {
  return {
    get: {
      consumes: KUBE_CONTENT_TYPES,
      description,
      operationId,
      produces: KUBE_CONTENT_TYPES,
      responses: {
        "200": { description: "OK", schema: { $ref: DEFINITIONS_PREFIX + META + schema } },
        "401": { description: "Unauthorized" },
      },
      schemes: ["https"],
      tags: [tag],
    },
  };
}

// ---- the document ----------------------------------------------------------------------------

/**
 * The /openapi/v2 document of a tenant serving `resources` (built-in kinds and custom
 * resources; any order). Nothing given is modified; keys are sorted (deterministic JSON).
 * Throws when two group-versions define one schema name differently, or a referenced schema
 * exists nowhere.
 */
export function buildOpenAPIV2Document(
  resources: readonly ResourceDescription[],
  options: OpenAPIV2Options,
): OpenAPIV2Document {
  const byGroupVersion = new Map<string, { gv: GroupVersion; resources: ResourceDescription[] }>();
  for (const r of resources) {
    const key = groupVersionPath(r);
    const entry = byGroupVersion.get(key) ?? { gv: { group: r.group, version: r.version }, resources: [] };
    entry.resources.push(r);
    byGroupVersion.set(key, entry);
  }

  const paths: Record<string, Schema> = {};
  const definitions: Record<string, Schema> = {};
  const builtinGroups = new Set<string>();
  for (const { gv, resources: defs } of byGroupVersion.values()) {
    const custom = defs.every((d) => d.schemaName === undefined);
    if (!custom) builtinGroups.add(gv.group);
    const doc = buildOpenAPIV3Document(gv, defs, {}, { v2: true });
    for (const [path, item] of Object.entries(doc.paths)) paths[path] = pathItemToV2(item, custom);
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      const converted = schemaToV2(schema) as Schema;
      const known = definitions[name];
      if (known !== undefined && JSON.stringify(sortKeys(known)) !== JSON.stringify(sortKeys(converted))) {
        throw new Error(`OpenAPI schema ${name} is defined differently by two group-versions`);
      }
      definitions[name] = converted;
    }
  }

  if (builtinGroups.has("")) {
    paths["/api/"] = discoveryPath("get available API versions", "getCoreAPIVersions", "core", "APIVersions");
  }
  paths["/apis/"] = discoveryPath("get available API versions", "getAPIVersions", "apis", "APIGroupList");
  for (const group of builtinGroups) {
    if (group === "") continue;
    const name = group.replace(/\.k8s\.io$/, "");
    paths[`/apis/${group}/`] = discoveryPath(
      "get information of a group",
      `get${toValidOperationID(name, true)}APIGroup`,
      toValidOperationID(name, false),
      "APIGroup",
    );
  }
  // The discovery paths' schemas, and what they refer to.
  const queue = new Set(["APIVersions", "APIGroupList", "APIGroup"].map((n) => META + n));
  for (const name of queue) {
    const schema = builtinSchemas[name];
    if (schema === undefined) throw new Error(`OpenAPI schema ${name} is referenced but not defined`);
    definitions[name] ??= schemaToV2(schema) as Schema;
    collectRefs(schema, queue);
  }

  return sortKeys({
    definitions,
    info: { title: "Kubernetes", version: options.infoVersion },
    paths,
    security: [{ BearerToken: [] }],
    securityDefinitions: {
      BearerToken: {
        description: "Bearer Token authentication",
        in: "header",
        name: "authorization",
        type: "apiKey",
      },
    },
    swagger: "2.0",
  }) as OpenAPIV2Document;
}
