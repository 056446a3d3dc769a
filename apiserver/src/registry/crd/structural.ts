// Structural schema rules (apiextensions-apiserver pkg/apiserver/schema ValidateStructural,
// v1.32): every field has a type, value validations (allOf/anyOf/oneOf/not) only restrict
// what the structural part declares, metadata at the root may only restrict name and
// generateName, and the x-kubernetes extensions are used consistently. Errors are sorted by
// their text, as upstream sorts them. Pure.

import type { FieldError } from "../../apierrors/status.ts";
import * as e from "./errors.ts";
import { compilePattern } from "./validator.ts";
import type { FieldPath } from "./schema.ts";
import { isObject, itemsSchema, type JSONSchemaProps } from "./schema.ts";

type Level = "root" | "item" | "field";

const isIntOrStringAnyOf = (anyOf: JSONSchemaProps[] | undefined): boolean =>
  anyOf !== undefined &&
  anyOf.length === 2 &&
  Object.keys(anyOf[0] ?? {}).join() === "type" &&
  anyOf[0]?.type === "integer" &&
  Object.keys(anyOf[1] ?? {}).join() === "type" &&
  anyOf[1]?.type === "string";

function validateNested(
  v: JSONSchemaProps | undefined,
  skipAnyOf: boolean,
  skipFirstAllOfAnyOf: boolean,
  path: FieldPath,
  errs: FieldError[],
): void {
  if (v === undefined) return;
  validateValueValidation(v, skipAnyOf, skipFirstAllOfAnyOf, path, errs);
  const items = itemsSchema(v);
  if (items !== undefined) validateNested(items, false, false, path.child("items"), errs);
  for (const [k, p] of Object.entries(v.properties ?? {}))
    validateNested(p, false, false, path.child("properties").key(k), errs);
  if (v.type !== undefined && v.type !== "")
    errs.push(e.forbidden(path.child("type"), "must be empty to be structural"));
  if (v.additionalProperties !== undefined)
    errs.push(e.forbidden(path.child("additionalProperties"), "must be undefined to be structural"));
  if (v.default !== undefined)
    errs.push(e.forbidden(path.child("default"), "must be undefined to be structural"));
  if ((v.title ?? "") !== "") errs.push(e.forbidden(path.child("title"), "must be empty to be structural"));
  if ((v.description ?? "") !== "")
    errs.push(e.forbidden(path.child("description"), "must be empty to be structural"));
  if (v.nullable === true) errs.push(e.forbidden(path.child("nullable"), "must be false to be structural"));
  if (v.externalDocs !== undefined)
    errs.push(e.forbidden(path.child("externalDocs"), "must be undefined to be structural"));
  if (v["x-kubernetes-preserve-unknown-fields"] === true) {
    errs.push(
      e.forbidden(path.child("x-kubernetes-preserve-unknown-fields"), "must be false to be structural"),
    );
  }
  if (v["x-kubernetes-embedded-resource"] === true) {
    errs.push(e.forbidden(path.child("x-kubernetes-embedded-resource"), "must be false to be structural"));
  }
  if (v["x-kubernetes-int-or-string"] === true) {
    errs.push(e.forbidden(path.child("x-kubernetes-int-or-string"), "must be false to be structural"));
  }
  if ((v["x-kubernetes-list-map-keys"] ?? []).length > 0) {
    errs.push(e.forbidden(path.child("x-kubernetes-list-map-keys"), "must be empty to be structural"));
  }
  if (v["x-kubernetes-list-type"] !== undefined) {
    errs.push(e.forbidden(path.child("x-kubernetes-list-type"), "must be undefined to be structural"));
  }
  if (v["x-kubernetes-map-type"] !== undefined) {
    errs.push(e.forbidden(path.child("x-kubernetes-map-type"), "must be undefined to be structural"));
  }
  if ((v["x-kubernetes-validations"] ?? []).length > 0) {
    errs.push(e.forbidden(path.child("x-kubernetes-validations"), "must be empty to be structural"));
  }
  if (v.properties !== undefined && Object.hasOwn(v.properties, "metadata")) {
    errs.push(
      e.forbidden(path.child("properties").key("metadata"), "must not be specified in a nested context"),
    );
  }
}

function validateValueValidation(
  s: JSONSchemaProps,
  skipAnyOf: boolean,
  skipFirstAllOfAnyOf: boolean,
  path: FieldPath,
  errs: FieldError[],
): void {
  if (!skipAnyOf)
    (s.anyOf ?? []).forEach((x, i) => validateNested(x, false, false, path.child("anyOf").index(i), errs));
  (s.allOf ?? []).forEach((x, i) =>
    validateNested(x, skipFirstAllOfAnyOf && i === 0, false, path.child("allOf").index(i), errs),
  );
  (s.oneOf ?? []).forEach((x, i) => validateNested(x, false, false, path.child("oneOf").index(i), errs));
  validateNested(s.not, false, false, path.child("not"), errs);
  if (s.pattern !== undefined && s.pattern !== "") {
    try {
      compilePattern(s.pattern);
    } catch (err) {
      errs.push(
        e.invalid(
          path.child("pattern"),
          e.json(s.pattern),
          `must be a valid regular expression, but isn't: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    }
  }
}

/** Root metadata may only be `type: object` with at most name and generateName properties. */
function validateMetadata(
  m: JSONSchemaProps,
  checkMetadata: boolean,
  level: Level,
  path: FieldPath,
  errs: FieldError[],
): void {
  if (checkMetadata && m.type !== "object")
    errs.push(e.invalid(path.child("type"), e.json(m.type ?? ""), "must be object"));
  if (level !== "root") return;
  const props = Object.keys(m.properties ?? {});
  const onlyNames = props.every((k) => k === "name" || k === "generateName");
  const rest = Object.keys(m).filter(
    (k) =>
      k !== "type" &&
      k !== "default" &&
      !(k === "properties" && onlyNames) &&
      (m as Record<string, unknown>)[k] !== undefined,
  );
  if (rest.length > 0) {
    errs.push(
      e.forbidden(
        path,
        "must not specify anything other than name and generateName, but metadata is implicitly specified",
      ),
    );
  }
}

function validateInvariants(
  s: JSONSchemaProps | undefined,
  level: Level,
  path: FieldPath,
  errs: FieldError[],
): void {
  if (s === undefined) return;
  const raw: unknown = s;
  if (!isObject(raw)) {
    errs.push(e.invalid(path, e.json(raw), "must be a schema object"));
    return;
  }
  const items = itemsSchema(s);
  if (s.type === "array" && s.items === undefined)
    errs.push(e.required(path.child("items"), "must be specified"));
  if (items !== undefined) validateInvariants(items, "item", path.child("items"), errs);
  for (const [k, p] of Object.entries(s.properties ?? {}))
    validateInvariants(p, "field", path.child("properties").key(k), errs);
  if (s.additionalProperties !== undefined) {
    if (level === "root")
      errs.push(e.forbidden(path.child("additionalProperties"), "must not be used at the root"));
    if (isObject(s.additionalProperties))
      validateInvariants(s.additionalProperties, "field", path.child("additionalProperties"), errs);
  }
  const intOrString = s["x-kubernetes-int-or-string"] === true;
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  const embedded = s["x-kubernetes-embedded-resource"] === true;
  if (intOrString && preserve) {
    errs.push(
      e.invalid(
        path.child("x-kubernetes-preserve-unknown-fields"),
        e.json(true),
        "must be false if x-kubernetes-int-or-string is true",
      ),
    );
  }
  if (intOrString && embedded) {
    errs.push(
      e.invalid(
        path.child("x-kubernetes-embedded-resource"),
        e.json(true),
        "must be false if x-kubernetes-int-or-string is true",
      ),
    );
  }
  const skipAnyOf = isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOfAnyOf = (s.allOf ?? []).length >= 1 && isIntOrStringAnyOf(s.allOf?.[0]?.anyOf);
  validateValueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, path, errs);

  const checkMetadata = level === "root" || embedded;
  const type = s.type ?? "";
  if (embedded && type !== "object") {
    if (type === "")
      errs.push(e.required(path.child("type"), "must be object if x-kubernetes-embedded-resource is true"));
    else
      errs.push(
        e.invalid(
          path.child("type"),
          e.json(type),
          "must be object if x-kubernetes-embedded-resource is true",
        ),
      );
  } else if (type === "" && !intOrString && !preserve) {
    const where = {
      root: "at the root",
      item: "for specified array items",
      field: "for specified object fields",
    }[level];
    errs.push(e.required(path.child("type"), `must not be empty ${where}`));
  }
  if (embedded && s.additionalProperties !== undefined) {
    errs.push(
      e.forbidden(
        path.child("additionalProperties"),
        "must not be used if x-kubernetes-embedded-resource is set",
      ),
    );
  }
  if (level === "root" && type !== "" && type !== "object")
    errs.push(e.invalid(path.child("type"), e.json(type), "must be object at the root"));
  const kind = s.properties?.["kind"];
  if (kind !== undefined && checkMetadata && kind.type !== "string") {
    errs.push(
      e.invalid(
        path.child("properties").key("kind").child("type"),
        e.json(kind.type ?? ""),
        "must be string",
      ),
    );
  }
  const apiVersion = s.properties?.["apiVersion"];
  if (apiVersion !== undefined && checkMetadata && apiVersion.type !== "string") {
    errs.push(
      e.invalid(
        path.child("properties").key("apiVersion").child("type"),
        e.json(apiVersion.type ?? ""),
        "must be string",
      ),
    );
  }
  const metadata = s.properties?.["metadata"];
  if (metadata !== undefined)
    validateMetadata(metadata, checkMetadata, level, path.child("properties").key("metadata"), errs);
  if (embedded && !preserve && Object.keys(s.properties ?? {}).length === 0) {
    errs.push(
      e.required(
        path.child("properties"),
        "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
      ),
    );
  }
}

/** Every field or array a value validation names must also be declared structurally. */
function validateCompleteness(
  v: JSONSchemaProps | undefined,
  s: JSONSchemaProps | undefined,
  sPath: FieldPath,
  vPath: FieldPath,
  errs: FieldError[],
  nested: boolean,
): void {
  if (v === undefined) return;
  if (s === undefined) {
    errs.push(e.required(sPath, `because it is defined in ${vPath.plain}`));
    return;
  }
  if (nested) {
    const vItems = itemsSchema(v);
    if (vItems !== undefined)
      validateCompleteness(vItems, itemsSchema(s), sPath.child("items"), vPath.child("items"), errs, true);
    for (const [k, p] of Object.entries(v.properties ?? {})) {
      const sp = s.properties?.[k];
      if (sp === undefined) {
        errs.push(
          e.required(
            sPath.child("properties").key(k),
            `because it is defined in ${vPath.child("properties").key(k).plain}`,
          ),
        );
      } else
        validateCompleteness(
          p,
          sp,
          sPath.child("properties").key(k),
          vPath.child("properties").key(k),
          errs,
          true,
        );
    }
  }
  validateCompleteness(v.not, s, sPath, vPath.child("not"), errs, true);
  for (const kw of ["allOf", "anyOf", "oneOf"] as const) {
    (v[kw] ?? []).forEach((x, i) => validateCompleteness(x, s, sPath, vPath.child(kw).index(i), errs, true));
  }
}

/** ValidateStructural: the errors, sorted by their text (field and detail). */
export function validateStructural(schema: JSONSchemaProps, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  validateInvariants(schema, "root", path, errs);
  // As upstream, only the root's value validations are checked for completeness.
  validateCompleteness(schema, schema, path, path, errs, false);
  const text = (x: FieldError): string => `${x.field}: ${x.detail}`;
  return errs.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}
