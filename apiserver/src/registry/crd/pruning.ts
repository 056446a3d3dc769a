// Pruning and defaulting of custom resources, as apiextensions-apiserver does while decoding a
// request (structuralpruning.Prune, PruneNonNullableNullsWithoutDefaults, structuraldefaulting.
// Default): fields the schema does not declare are dropped (except under
// x-kubernetes-preserve-unknown-fields), nulls the schema does not allow are dropped unless a
// default replaces them, and absent fields with a default get it. Every function here changes
// the object it is given, in place.

import {
  additionalSchema,
  isEmbedded,
  isObject,
  itemsSchema,
  metaFields,
  preservesUnknown,
  propertySchema,
  type JSONSchemaProps,
} from "./schema.ts";

interface PruneState {
  readonly unknown: string[];
}

const join = (parent: string, key: string): string => (parent === "" ? key : `${parent}.${key}`);

function prune(x: unknown, s: JSONSchemaProps | undefined, path: string, st: PruneState): void {
  if (s !== undefined && preservesUnknown(s)) {
    skipPrune(x, s, path, st);
    return;
  }
  if (Array.isArray(x)) {
    const items = s === undefined ? undefined : itemsSchema(s);
    x.forEach((v, i) => prune(v, items, `${path}[${i}]`, st));
    return;
  }
  if (!isObject(x)) return;
  if (s === undefined) {
    for (const k of Object.keys(x)) {
      st.unknown.push(join(path, k));
      delete x[k];
    }
    return;
  }
  const additional = additionalSchema(s);
  const hasAdditional = s.additionalProperties !== undefined && s.additionalProperties !== false;
  for (const k of Object.keys(x)) {
    if (isEmbedded(s) && metaFields.has(k)) continue;
    const prop = propertySchema(s, k);
    if (prop !== undefined) {
      prune(x[k], prop, join(path, k), st);
    } else if (hasAdditional) {
      // additionalProperties: true is a schema-less map: its values are pruned like unknown fields.
      prune(x[k], s.additionalProperties === true ? undefined : additional, join(path, k), st);
    } else {
      if (!metaFields.has(k) || path !== "") st.unknown.push(join(path, k));
      delete x[k];
    }
  }
}

/** Under x-kubernetes-preserve-unknown-fields: declared fields are still pruned inside. */
function skipPrune(x: unknown, s: JSONSchemaProps, path: string, st: PruneState): void {
  if (Array.isArray(x)) {
    const items = itemsSchema(s);
    if (items !== undefined) x.forEach((v, i) => skipPrune(v, items, `${path}[${i}]`, st));
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    if (isEmbedded(s) && metaFields.has(k)) continue;
    const prop = propertySchema(s, k);
    if (prop !== undefined) prune(x[k], prop, join(path, k), st);
    else if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
      prune(x[k], s.additionalProperties === true ? undefined : additionalSchema(s), join(path, k), st);
    }
  }
}

/**
 * Drops the fields `schema` does not declare from `obj` (a whole resource: apiVersion, kind and
 * metadata are kept) and returns their paths, sorted, as kube reports unknown fields.
 */
export function pruneUnknown(obj: Record<string, unknown>, schema: JSONSchemaProps | undefined): string[] {
  const root: JSONSchemaProps = { ...(schema ?? {}), "x-kubernetes-embedded-resource": true };
  const st: PruneState = { unknown: [] };
  prune(obj, root, "", st);
  return st.unknown.sort();
}

const hasDefault = (s: JSONSchemaProps | undefined): boolean => s !== undefined && s.default !== undefined;
const nonNullableNull = (v: unknown, s: JSONSchemaProps | undefined): boolean =>
  v === null && s !== undefined && s.nullable !== true;

/** Drops `null` values the schema neither allows (nullable) nor replaces (default). */
export function pruneNonNullableNulls(x: unknown, s: JSONSchemaProps | undefined): void {
  if (s === undefined) return;
  if (Array.isArray(x)) {
    const items = itemsSchema(s);
    for (const v of x) pruneNonNullableNulls(v, items);
    return;
  }
  if (!isObject(x)) return;
  const additional = additionalSchema(s);
  for (const k of Object.keys(x)) {
    const prop = propertySchema(s, k) ?? additional;
    if (prop === undefined) continue;
    if (nonNullableNull(x[k], prop) && !hasDefault(prop)) delete x[k];
    else pruneNonNullableNulls(x[k], prop);
  }
}

/** Applies `default`s: absent fields, and nulls the schema does not allow, get a deep copy of it. */
export function applyDefaults(x: unknown, s: JSONSchemaProps | undefined): void {
  if (s === undefined) return;
  if (Array.isArray(x)) {
    const items = itemsSchema(s);
    x.forEach((v, i) => {
      if (nonNullableNull(v, items) && hasDefault(items)) x[i] = structuredClone(items!.default);
      applyDefaults(x[i], items);
    });
    return;
  }
  if (!isObject(x)) return;
  for (const [k, prop] of Object.entries(s.properties ?? {})) {
    if (prop.default === undefined) continue;
    if (!Object.hasOwn(x, k) || nonNullableNull(x[k], prop)) x[k] = structuredClone(prop.default);
  }
  const additional = additionalSchema(s);
  for (const k of Object.keys(x)) {
    const prop = propertySchema(s, k);
    if (prop !== undefined) applyDefaults(x[k], prop);
    else if (additional !== undefined) {
      if (nonNullableNull(x[k], additional) && hasDefault(additional))
        x[k] = structuredClone(additional.default);
      applyDefaults(x[k], additional);
    }
  }
}

/**
 * What decoding a custom resource does to it, in kube's order: prune unknown fields, drop
 * disallowed nulls, apply defaults. Changes `obj`; returns the pruned fields' paths.
 */
export function pruneAndDefault(
  obj: Record<string, unknown>,
  schema: JSONSchemaProps | undefined,
  preserveUnknownFields = false,
): string[] {
  let unknown: string[] = [];
  if (!preserveUnknownFields) {
    unknown = pruneUnknown(obj, schema);
    pruneNonNullableNulls(obj, schema);
  }
  applyDefaults(obj, schema);
  return unknown;
}
