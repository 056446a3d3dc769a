// The type information field management walks objects with: structured-merge-diff's schema
// (scalars, lists that are atomic or associative, maps that are granular, separable or
// atomic), read from OpenAPI v3 schemas the way kube-openapi's schemaconv converts them:
//
//   - x-kubernetes-list-type atomic | set | map (with x-kubernetes-list-map-keys); without it,
//     x-kubernetes-patch-strategy "merge" makes a list associative, keyed by
//     x-kubernetes-patch-merge-key, or a set when it has none; any other list is atomic.
//   - x-kubernetes-map-type atomic | granular on an object (on the field or the type).
//   - An object with `properties` is a struct (separable); with only `additionalProperties`
//     a map (granular); with neither, or x-kubernetes-preserve-unknown-fields, it is
//     "deduced": maps are walked key by key and every list is atomic (upstream's
//     __untyped_deduced_), as is anything the schema does not describe.

import { builtinSchemas, type Schema } from "../openapi/openapi.ts";
import type { JsonValue } from "../patch/json.types.ts";

export interface ScalarType {
  readonly kind: "scalar";
}

export interface ListType {
  readonly kind: "list";
  readonly relationship: "atomic" | "associative";
  /** Key fields of an associative list of maps; empty for a set of scalars. */
  readonly keys: readonly string[];
  /** Schema defaults of key fields, used when an item omits the key. */
  readonly keyDefaults: ReadonlyMap<string, JsonValue>;
  element(): FieldType;
}

export interface MapType {
  readonly kind: "map";
  /** separable: a struct; granular: a map; atomic: owned as a whole. */
  readonly relationship: "separable" | "granular" | "atomic";
  /** The type of a declared field (struct property), or undefined. */
  field(name: string): FieldType | undefined;
  /** The type of any other key (additionalProperties); undefined when the schema declares none. */
  element(): FieldType | undefined;
}

/** No schema: maps are walked key by key, lists are atomic, everything below a list too. */
export interface DeducedType {
  readonly kind: "deduced";
  /** Inside a list: everything is atomic. */
  readonly atomic: boolean;
}

export type FieldType = ScalarType | ListType | MapType | DeducedType;

export const scalarType: ScalarType = { kind: "scalar" };
export const deducedType: DeducedType = { kind: "deduced", atomic: false };
export const atomicDeducedType: DeducedType = { kind: "deduced", atomic: true };

type Node = { readonly [key: string]: unknown };
const asNode = (v: unknown): Node | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Node) : undefined;

const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/**
 * Builds field types over OpenAPI component schemas (`#/components/schemas/X` references),
 * lazily and cached per schema node, so recursive schemas are fine. `schemas` is read, never
 * changed.
 */
export class OpenAPITypes {
  private readonly cache = new WeakMap<Node, FieldType>();

  constructor(private readonly schemas: Readonly<Record<string, Schema>>) {}

  private deref(node: Node, seen = new Set<string>()): Node {
    const ref = typeof node["$ref"] === "string" ? node["$ref"] : undefined;
    const allOf = Array.isArray(node["allOf"]) ? (node["allOf"] as unknown[]) : undefined;
    const viaAllOf = allOf?.length === 1 ? (asNode(allOf[0])?.["$ref"] as string | undefined) : undefined;
    const target = ref ?? viaAllOf;
    const m = target === undefined ? null : /^#\/(?:components\/schemas|definitions)\/(.+)$/.exec(target);
    const name = m?.[1]?.replace(/~1/g, "/").replace(/~0/g, "~");
    if (name === undefined || seen.has(name)) return node;
    seen.add(name);
    const resolved = asNode(this.schemas[name]);
    return resolved === undefined ? node : this.deref(resolved, seen);
  }

  /** The type a schema node describes; the node's own extensions win over its reference's. */
  typeOf(node: Node): FieldType {
    const cached = this.cache.get(node);
    if (cached !== undefined) return cached;
    const resolved = this.deref(node);
    const ext = (name: string): unknown => node[name] ?? resolved[name];
    const type = this.build(resolved, ext);
    this.cache.set(node, type);
    return type;
  }

  /** The type of a named component (`io.k8s.api.core.v1.ConfigMap`), or undefined. */
  named(name: string): FieldType | undefined {
    const node = asNode(this.schemas[name]);
    return node === undefined ? undefined : this.typeOf(node);
  }

  private build(s: Node, ext: (name: string) => unknown): FieldType {
    if (ext("x-kubernetes-int-or-string") === true) return scalarType;
    const type = s["type"];
    const items = asNode(s["items"]);
    if (type === "array" || items !== undefined) return this.list(items, ext);
    const properties = asNode(s["properties"]);
    const additional = s["additionalProperties"];
    const isObject = type === "object" || properties !== undefined || additional !== undefined;
    // No type at all (upstream's JSON, or a reference this document lacks): untyped.
    if (!isObject) return type === undefined ? deducedType : scalarType;
    const mapType = ext("x-kubernetes-map-type");
    if (properties === undefined && asNode(additional) === undefined) {
      // A free-form object (RawExtension, preserve-unknown-fields, `type: object` alone).
      return mapType === "atomic" ? { ...atomicDeducedType } : deducedType;
    }
    const additionalNode = asNode(additional);
    const preserve = ext("x-kubernetes-preserve-unknown-fields") === true;
    const fields = new Map<string, FieldType | undefined>();
    return {
      kind: "map",
      relationship:
        mapType === "atomic"
          ? "atomic"
          : properties !== undefined && mapType !== "granular"
            ? "separable"
            : "granular",
      field: (name: string): FieldType | undefined => {
        if (properties === undefined || !Object.hasOwn(properties, name)) return undefined;
        if (!fields.has(name)) {
          const f = asNode(properties[name]);
          fields.set(name, f === undefined ? deducedType : this.typeOf(f));
        }
        return fields.get(name);
      },
      element: (): FieldType | undefined => {
        if (additionalNode !== undefined) return this.typeOf(additionalNode);
        return preserve ? deducedType : undefined;
      },
    };
  }

  private list(items: Node | undefined, ext: (name: string) => unknown): ListType {
    const listType = ext("x-kubernetes-list-type");
    const strategy = ext("x-kubernetes-patch-strategy");
    const mergeKey = ext("x-kubernetes-patch-merge-key");
    let relationship: ListType["relationship"] = "atomic";
    let keys: string[] = [];
    if (listType === "set") relationship = "associative";
    else if (listType === "map") {
      relationship = "associative";
      const mapKeys = ext("x-kubernetes-list-map-keys");
      keys = Array.isArray(mapKeys) ? mapKeys.filter((k): k is string => typeof k === "string") : [];
    } else if (
      listType === undefined &&
      typeof strategy === "string" &&
      strategy.split(",").includes("merge")
    ) {
      relationship = "associative";
      if (typeof mergeKey === "string" && mergeKey !== "") keys = [mergeKey];
    }
    let element: FieldType | undefined;
    const keyDefaults = new Map<string, JsonValue>();
    if (items !== undefined && keys.length > 0) {
      const props = asNode(this.deref(items)["properties"]);
      for (const k of keys) {
        const p = asNode(props?.[k]);
        const d = p === undefined ? undefined : (p["default"] ?? this.deref(p)["default"]);
        if (d !== undefined) keyDefaults.set(k, d as JsonValue);
      }
    }
    return {
      kind: "list",
      relationship,
      keys,
      keyDefaults,
      element: (): FieldType => {
        element ??= items === undefined ? atomicDeducedType : this.typeOf(items);
        return element;
      },
    };
  }
}

/** The built-in kinds' types, shared by every tenant. */
export const builtinTypes = new OpenAPITypes(builtinSchemas);

/**
 * The root type of a kind's objects: the built-in schema by component name, or a custom
 * resource version's openAPIV3Schema (whose `metadata` is always ObjectMeta, as kube
 * publishes it); deduced when there is neither. Called per request; cheap after the first.
 */
export function rootTypeOf(def: {
  readonly schemaName?: string;
  readonly schema?: Record<string, unknown>;
}): FieldType {
  if (def.schemaName !== undefined) {
    const t = builtinTypes.named(def.schemaName);
    if (t !== undefined) return withObjectMeta(t);
  }
  if (def.schema !== undefined) return withObjectMeta(crdTypes(def.schema));
  return withObjectMeta(deducedType);
}

const crdCache = new WeakMap<object, FieldType>();
function crdTypes(schema: Record<string, unknown>): FieldType {
  let t = crdCache.get(schema);
  if (t === undefined) {
    t = new OpenAPITypes({}).typeOf(schema);
    crdCache.set(schema, t);
  }
  return t;
}

const objectMetaType = (): FieldType => builtinTypes.named(OBJECT_META) ?? deducedType;

/** `t` with metadata typed as ObjectMeta and apiVersion/kind as scalars. */
function withObjectMeta(t: FieldType): FieldType {
  const base = t.kind === "map" ? t : undefined;
  return {
    kind: "map",
    relationship: "separable",
    field(name: string): FieldType | undefined {
      if (name === "metadata") return objectMetaType();
      if (name === "apiVersion" || name === "kind") return scalarType;
      if (base !== undefined) return base.field(name);
      return undefined;
    },
    element(): FieldType | undefined {
      if (base !== undefined) return base.element();
      return deducedType;
    },
  };
}
