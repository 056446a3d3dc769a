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

/** Returns `value` without undeclared fields; their paths (e.g. `spec.foo`) go to `unknown`. */
function prune(value: unknown, schema: Schema | undefined, path: string, unknown: string[]): unknown {
  const s = resolve(schema);
  if (s === undefined) return value;
  if (Array.isArray(value)) {
    const items = s["items"] as Schema | undefined;
    return items === undefined ? value : value.map((v, i) => prune(v, items, `${path}[${i}]`, unknown));
  }
  if (!isObject(value)) return value;
  const properties = isObject(s["properties"]) ? (s["properties"] as Record<string, Schema>) : undefined;
  const additional = isObject(s["additionalProperties"]) ? (s["additionalProperties"] as Schema) : undefined;
  if (properties === undefined) {
    if (additional === undefined) return value; // opaque (RawExtension, free-form maps)
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, prune(v, additional, `${path}.${k}`, unknown)]),
    );
  }
  if (s["x-kubernetes-preserve-unknown-fields"] === true) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const field = path === "" ? k : `${path}.${k}`;
    const declared = properties[k];
    if (declared !== undefined) out[k] = prune(v, declared, field, unknown);
    else if (additional !== undefined) out[k] = prune(v, additional, field, unknown);
    else unknown.push(field);
  }
  return out;
}

/** The object with undeclared fields dropped, and their paths. Unknown schema: unchanged. */
export function pruneUnknownFields(
  schemaName: string | undefined,
  obj: Record<string, unknown>,
): { obj: Record<string, unknown>; unknown: string[] } {
  const schema = schemaName === undefined ? undefined : builtinSchemas[schemaName];
  if (schema === undefined) return { obj, unknown: [] };
  const unknown: string[] = [];
  const pruned = prune(obj, schema, "", unknown) as Record<string, unknown>;
  return { obj: pruned, unknown };
}
