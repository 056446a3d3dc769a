// Checks the JSON schema cannot express: x-kubernetes-list-type set/map uniqueness
// (structurallisttype.ValidateListSetsAndMaps) and the TypeMeta/ObjectMeta of embedded
// resources (schemaobjectmeta.Validate). Pure: neither changes the object.

import type { FieldError } from "../../apierrors/status.ts";
import { isDNS1035Label } from "../validation/names.ts";
import * as e from "./errors.ts";
import {
  additionalSchema,
  FieldPath,
  isEmbedded,
  isObject,
  itemsSchema,
  propertySchema,
  type JSONSchemaProps,
} from "./schema.ts";

const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
};

function validateListSet(path: FieldPath, list: unknown[]): FieldError[] {
  const seen = new Map<string, number>();
  const errs: FieldError[] = [];
  list.forEach((x, i) => {
    const k = canonical(x);
    const times = seen.get(k) ?? 0;
    seen.set(k, times + 1);
    if (times === 1) errs.push(e.duplicate(path.index(i), e.json(x)));
  });
  return errs;
}

function validateListMap(path: FieldPath, s: JSONSchemaProps, list: unknown[]): FieldError[] {
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (x !== null && !isObject(x)) {
      return [e.invalid(path.index(i), e.json(x), "must be an object for an array of list-type map")];
    }
  }
  const keys = s["x-kubernetes-list-map-keys"] ?? [];
  const items = itemsSchema(s);
  const seen = new Set<string>();
  const errs: FieldError[] = [];
  list.forEach((x, i) => {
    if (!isObject(x)) return;
    const keyValues: Record<string, unknown> = {};
    for (const k of keys) {
      if (Object.hasOwn(x, k)) keyValues[k] = x[k];
      else {
        const d = propertySchema(items, k)?.default;
        if (d !== undefined) keyValues[k] = d;
      }
    }
    const id = canonical(
      keys.map((k) => (Object.hasOwn(keyValues, k) ? keyValues[k] : { unspecified: true })),
    );
    if (seen.has(id)) errs.push(e.duplicate(path.index(i), e.json(keyValues)));
    seen.add(id);
  });
  return errs;
}

/** Uniqueness of x-kubernetes-list-type set and map lists, everywhere in `obj`. */
export function validateListTypes(
  s: JSONSchemaProps | undefined,
  obj: unknown,
  path = FieldPath.root,
): FieldError[] {
  if (s === undefined) return [];
  const errs: FieldError[] = [];
  if (Array.isArray(obj)) {
    const listType = s["x-kubernetes-list-type"];
    if (listType === "set") errs.push(...validateListSet(path, obj));
    else if (listType === "map") errs.push(...validateListMap(path, s, obj));
    const items = itemsSchema(s);
    obj.forEach((v, i) => errs.push(...validateListTypes(items, v, path.index(i))));
  } else if (isObject(obj)) {
    const additional = additionalSchema(s);
    for (const [k, v] of Object.entries(obj)) {
      const prop = propertySchema(s, k);
      if (prop !== undefined) errs.push(...validateListTypes(prop, v, path.child(k)));
      else if (additional !== undefined) errs.push(...validateListTypes(additional, v, path.key(k)));
    }
  }
  return errs;
}

const groupVersionError = (apiVersion: string): string | undefined => {
  const parts = apiVersion.split("/");
  if (parts.length > 2) return `unexpected GroupVersion string: ${apiVersion}`;
  return undefined;
};

function validateEmbeddedResource(path: FieldPath, x: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  if (!Object.hasOwn(x, "apiVersion")) errs.push(e.required(path.child("apiVersion"), "must not be empty"));
  if (!Object.hasOwn(x, "kind")) errs.push(e.required(path.child("kind"), "must not be empty"));
  for (const [k, v] of Object.entries(x)) {
    if (k === "apiVersion") {
      if (typeof v !== "string") errs.push(e.invalid(path.child(k), e.json(v), "must be a string"));
      else if (v === "") errs.push(e.invalid(path.child(k), e.json(v), "must not be empty"));
      else {
        const gvErr = groupVersionError(v);
        if (gvErr !== undefined) errs.push(e.invalid(path.child(k), e.json(v), gvErr));
      }
    } else if (k === "kind") {
      if (typeof v !== "string") errs.push(e.invalid(path.child(k), e.json(v), "must be a string"));
      else if (v === "") errs.push(e.invalid(path.child(k), e.json(v), "must not be empty"));
      else {
        const msgs = isDNS1035Label(v.toLowerCase());
        if (msgs.length > 0) {
          errs.push(
            e.invalid(
              path.child(k),
              e.json(v),
              `may have mixed case, but should otherwise match: ${msgs.join(",")}`,
            ),
          );
        }
      }
    } else if (k === "metadata" && v !== null && !isObject(v)) {
      errs.push(e.invalid(path.child(k), e.json(v), "must be an object"));
    }
  }
  return errs;
}

/** TypeMeta of x-kubernetes-embedded-resource objects below the root. */
export function validateEmbedded(
  s: JSONSchemaProps | undefined,
  obj: unknown,
  path = FieldPath.root,
): FieldError[] {
  if (s === undefined) return [];
  const errs: FieldError[] = [];
  if (Array.isArray(obj)) {
    const items = itemsSchema(s);
    obj.forEach((v, i) => errs.push(...validateEmbedded(items, v, path.index(i))));
  } else if (isObject(obj)) {
    if (isEmbedded(s) && !path.isRoot) errs.push(...validateEmbeddedResource(path, obj));
    const additional = additionalSchema(s);
    for (const [k, v] of Object.entries(obj)) {
      const prop = propertySchema(s, k);
      if (prop !== undefined) errs.push(...validateEmbedded(prop, v, path.child(k)));
      else if (additional !== undefined) errs.push(...validateEmbedded(additional, v, path.key(k)));
    }
  }
  return errs;
}
