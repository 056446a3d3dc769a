// Unknown fields of built-in kinds. kube-apiserver decodes built-in objects into Go
// structs, so a field the schema does not declare is dropped; with fieldValidation it is
// also reported: Strict refuses the request, Warn answers a Warning header, Ignore says
// nothing. The schemas are the upstream OpenAPI ones (builtinSchemas).

import { builtinSchemas, type Schema } from "../endpoints/openapi/openapi.ts";

const refPrefix = "#/components/schemas/";

function resolve(schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let i = 0; s !== undefined && i < 16; i++) {
    const ref = typeof s["$ref"] === "string" ? s["$ref"] : undefined;
    const allOf = Array.isArray(s["allOf"]) ? (s["allOf"] as Schema[]) : undefined;
    if (ref?.startsWith(refPrefix)) s = builtinSchemas[ref.slice(refPrefix.length)];
    else if (allOf && allOf.length === 1) s = allOf[0];
    else return s;
  }
  return s;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** What Go's JSON decoder calls a value's type in its "cannot unmarshal X" message. */
function jsonTypeOf(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  return typeof value === "string" ? "string" : "object";
}

/** Whether `value` can decode into a field of schema `s` (null always can: Go leaves it empty). */
function typeFits(value: unknown, s: Schema): boolean {
  if (value === null || s["x-kubernetes-int-or-string"] === true || s["format"] === "int-or-string")
    return true;
  switch (s["type"]) {
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      return true;
  }
}

const quantityRef = `${refPrefix}io.k8s.apimachinery.pkg.api.resource.Quantity`;

/** Quantities decode from JSON numbers too (resource.Quantity's UnmarshalJSON). */
function acceptsNumbers(schema: Schema | undefined, value: unknown): boolean {
  if (typeof value !== "number" || schema === undefined) return false;
  const ref =
    schema["$ref"] ??
    (Array.isArray(schema["allOf"]) ? (schema["allOf"] as Schema[])[0]?.["$ref"] : undefined);
  return ref === quantityRef;
}

/**
 * Returns `value` without undeclared fields; their paths (e.g. `spec.foo`) go to `unknown`, and
 * values of the wrong JSON type (which kube's decoder refuses) to `mistyped`.
 */
function prune(
  value: unknown,
  schema: Schema | undefined,
  path: string,
  unknown: string[],
  mistyped: string[] = [],
): unknown {
  const s = resolve(schema);
  if (s === undefined) return value;
  if (!typeFits(value, s) && !acceptsNumbers(schema, value)) {
    const want = s["type"] === "object" ? "object" : String(s["type"]);
    mistyped.push(
      `json: cannot unmarshal ${jsonTypeOf(value)} into Go struct field ${path || "."} of type ${want}`,
    );
    return value;
  }
  if (Array.isArray(value)) {
    const items = s["items"] as Schema | undefined;
    return items === undefined
      ? value
      : value.map((v, i) => prune(v, items, `${path}[${i}]`, unknown, mistyped));
  }
  if (!isObject(value)) return value;
  const properties = isObject(s["properties"]) ? (s["properties"] as Record<string, Schema>) : undefined;
  const additional = isObject(s["additionalProperties"]) ? (s["additionalProperties"] as Schema) : undefined;
  if (properties === undefined) {
    if (additional === undefined) return value; // opaque (RawExtension, free-form maps)
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, prune(v, additional, `${path}.${k}`, unknown, mistyped)]),
    );
  }
  if (s["x-kubernetes-preserve-unknown-fields"] === true) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const field = path === "" ? k : `${path}.${k}`;
    const declared = properties[k];
    if (declared !== undefined) out[k] = prune(v, declared, field, unknown, mistyped);
    else if (additional !== undefined) out[k] = prune(v, additional, field, unknown, mistyped);
    else unknown.push(field);
  }
  return out;
}

/**
 * The object with undeclared fields dropped, their paths, and decode errors for values of the
 * wrong type (the first one is what kube reports). Unknown schema: unchanged.
 */
export function pruneUnknownFields(
  schemaName: string | undefined,
  obj: Record<string, unknown>,
): { obj: Record<string, unknown>; unknown: string[]; mistyped: string[] } {
  const schema = schemaName === undefined ? undefined : builtinSchemas[schemaName];
  if (schema === undefined) return { obj, unknown: [], mistyped: [] };
  const unknown: string[] = [];
  const mistyped: string[] = [];
  const pruned = prune(obj, schema, "", unknown, mistyped) as Record<string, unknown>;
  return { obj: pruned, unknown, mistyped };
}
