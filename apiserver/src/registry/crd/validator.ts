// Validation of a custom resource against its version's structural schema, with ajv doing the
// JSON-schema work and this file making it Kubernetes: the schema is translated (nullable,
// x-kubernetes-int-or-string, boolean exclusive bounds, kube's formats), and ajv's errors are
// turned into the field errors kube-openapi's validator produces through
// apiservervalidation.ValidateCustomResource (paths like `spec.items[0].name`, messages like
// `spec.replicas in body must be of type integer: "string"`).

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { FieldError } from "../../apierrors/status.ts";
import { compilePattern } from "../../cel/index.ts";
import * as e from "./errors.ts";
import { formats } from "./formats.ts";
import { FieldPath, isIntOrString, isObject, itemsSchema, jsonType, type JSONSchemaProps } from "./schema.ts";

/** RE2 patterns as JavaScript RegExps (shared with CEL's regex library). */
export { compilePattern };

const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: false,
  validateSchema: false,
  addUsedSchema: false,
  code: {
    regExp: Object.assign(
      (pattern: string, flags: string) => compilePattern(flags.includes("i") ? `(?i)${pattern}` : pattern),
      { code: "compilePattern" },
    ),
  },
});
for (const [name, test] of Object.entries(formats)) ajv.addFormat(name, { type: "string", validate: test });

/** The schema translated for ajv; Kubernetes' own keywords are kept for error rendering. */
function toAjv(s: JSONSchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const types: string[] = [];
  if (isIntOrString(s)) types.push("integer", "string");
  else if (s.type !== undefined && s.type !== "") types.push(s.type);
  if (types.length > 0) {
    if (s.nullable === true) types.push("null");
    out["type"] = types.length === 1 ? types[0] : types;
  }
  if (s.nullable === true) out["nullable"] = true;
  if (isIntOrString(s)) out["x-kubernetes-int-or-string"] = true;
  if (s.enum !== undefined) out["enum"] = s.nullable === true ? [...s.enum, null] : s.enum;
  if (s.pattern !== undefined) out["pattern"] = s.pattern;
  if (s.format !== undefined && Object.hasOwn(formats, s.format)) out["format"] = s.format;
  if (s.maximum !== undefined) out[s.exclusiveMaximum === true ? "exclusiveMaximum" : "maximum"] = s.maximum;
  if (s.minimum !== undefined) out[s.exclusiveMinimum === true ? "exclusiveMinimum" : "minimum"] = s.minimum;
  for (const k of [
    "multipleOf",
    "maxLength",
    "minLength",
    "maxItems",
    "minItems",
    "maxProperties",
    "minProperties",
  ] as const) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  if (s.required !== undefined && s.required.length > 0) out["required"] = s.required;
  if (s.properties !== undefined) {
    out["properties"] = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toAjv(v)]));
  }
  if (isObject(s.additionalProperties)) out["additionalProperties"] = toAjv(s.additionalProperties);
  const items = itemsSchema(s);
  if (items !== undefined) out["items"] = toAjv(items);
  if (s.allOf !== undefined) out["allOf"] = s.allOf.map(toAjv);
  if (s.anyOf !== undefined) out["anyOf"] = s.anyOf.map(toAjv);
  if (s.oneOf !== undefined) out["oneOf"] = s.oneOf.map(toAjv);
  if (s.not !== undefined) out["not"] = toAjv(s.not);
  return out;
}

/** A compiled schema: `validate(obj, path)` lists kube's field errors (empty when valid). */
export interface SchemaValidator {
  validate(obj: unknown, at?: FieldPath): FieldError[];
}

/** Turns an ajv instancePath (`/spec/items/0`) into kube's path, looking at `data` for indices. */
function kubePath(base: FieldPath, instancePath: string, data: unknown): FieldPath {
  let p = base;
  let cur = data;
  if (instancePath === "") return p;
  for (const raw of instancePath.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      p = p.index(Number(seg));
      cur = cur[Number(seg)];
    } else {
      p = p.child(seg);
      cur = isObject(cur) ? cur[seg] : undefined;
    }
  }
  return p;
}

/** Go's %v of a float64 bound. */
const num = (n: unknown): string => String(n);

function typeName(parent: Record<string, unknown> | undefined): string {
  if (parent?.["x-kubernetes-int-or-string"] === true) return "integer,string";
  const t = parent?.["type"];
  if (Array.isArray(t)) return t.filter((x) => x !== "null").join(",");
  return typeof t === "string" ? t : "";
}

function toFieldError(err: ErrorObject, path: FieldPath): FieldError | undefined {
  const name = path.plain;
  const value: unknown = err.data;
  const parent = err.parentSchema as Record<string, unknown> | undefined;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case "type": {
      const actual = jsonType(value);
      return e.typeInvalid(
        path,
        e.json(actual),
        `${name} in body must be of type ${typeName(parent)}: "${actual}"`,
      );
    }
    case "required":
      return e.required(path.child(String(params["missingProperty"])));
    case "enum": {
      const allowed = ((err.schema as unknown[]) ?? [])
        .filter((v) => v !== null || parent?.["nullable"] !== true)
        .map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
      return e.notSupported(path, e.json(value), allowed);
    }
    case "pattern":
      return e.invalid(path, e.json(value), `${name} in body should match '${String(err.schema)}'`);
    case "format":
      return e.typeInvalid(
        path,
        e.json(value),
        `${name} in body must be of type ${String(err.schema)}: "${String(value)}"`,
      );
    case "maxLength":
      return e.tooLong(path, Number(err.schema));
    case "minLength":
      return e.invalid(
        path,
        e.json(value),
        `${name} in body should be at least ${num(err.schema)} chars long`,
      );
    case "maximum":
      return e.invalid(
        path,
        e.json(value),
        `${name} in body should be less than or equal to ${num(err.schema)}`,
      );
    case "exclusiveMaximum":
      return e.invalid(path, e.json(value), `${name} in body should be less than ${num(err.schema)}`);
    case "minimum":
      return e.invalid(
        path,
        e.json(value),
        `${name} in body should be greater than or equal to ${num(err.schema)}`,
      );
    case "exclusiveMinimum":
      return e.invalid(path, e.json(value), `${name} in body should be greater than ${num(err.schema)}`);
    case "multipleOf":
      return e.invalid(path, e.json(value), `${name} in body should be a multiple of ${num(err.schema)}`);
    case "maxItems":
      return e.tooMany(path, Array.isArray(value) ? value.length : -1, Number(err.schema));
    case "minItems":
      return e.invalid(
        path,
        e.json(Array.isArray(value) ? value.length : 0),
        `${name} in body should have at least ${num(err.schema)} items`,
      );
    case "maxProperties":
      return e.tooMany(path, isObject(value) ? Object.keys(value).length : -1, Number(err.schema));
    case "minProperties":
      return e.invalid(
        path,
        e.json(isObject(value) ? Object.keys(value).length : 0),
        `${name} in body should have at least ${num(err.schema)} properties`,
      );
    case "anyOf":
      return e.invalid(path, e.json(value), `${name} in body must validate at least one schema (anyOf)`);
    case "oneOf":
      return e.invalid(path, e.json(value), `${name} in body must validate one and only one schema (oneOf)`);
    case "not":
      return e.invalid(path, e.json(value), `${name} in body should not validate the schema (not)`);
    default:
      return e.invalid(path, e.json(value), `${name} in body ${err.message ?? "is invalid"}`);
  }
}

/**
 * Whether an error comes from inside an anyOf/oneOf/not branch: those are not the object's errors,
 * kube reports the junctor that failed. Walks ajv's schemaPath keyword by keyword.
 */
function insideJunctor(err: ErrorObject): boolean {
  const segs = err.schemaPath.replace(/^#\//, "").split("/");
  for (let i = 0; i < segs.length - 1; i++) {
    const k = segs[i];
    if (k === "properties")
      i++; // the next segment is a property name
    else if (k === "anyOf" || k === "oneOf") return true;
    else if (k === "allOf")
      i++; // an index
    else if (k === "not") return true;
  }
  return false;
}

export function compileSchemaValidator(schema: JSONSchemaProps): SchemaValidator {
  let fn: ValidateFunction | undefined;
  let compileError: string | undefined;
  try {
    fn = ajv.compile(toAjv(schema));
  } catch (err) {
    compileError = err instanceof Error ? err.message : String(err);
  }
  return {
    validate(obj, at = FieldPath.root) {
      if (fn === undefined)
        return [e.invalid(at, e.raw('""'), `error building validator: ${compileError ?? ""}`)];
      if (fn(obj)) return [];
      const out: FieldError[] = [];
      const seen = new Set<string>();
      for (const err of fn.errors ?? []) {
        if (insideJunctor(err)) continue;
        // A failed type check makes the value's other checks meaningless; ajv reports them anyway.
        const fe = toFieldError(err, kubePath(at, err.instancePath, obj));
        if (fe === undefined) continue;
        const k = `${fe.field}\u0000${fe.detail}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(fe);
      }
      return out;
    },
  };
}
