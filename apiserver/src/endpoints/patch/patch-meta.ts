// The schema lookup a strategic merge patch is driven by, modelled on upstream's
// strategicpatch.LookupPatchMeta, and its adapter over OpenAPI v3 component schemas carrying
// x-kubernetes-patch-strategy and x-kubernetes-patch-merge-key.

/** What the schema says about one field. */
export interface FieldPatchMeta {
  /**
   * The schema of the field's value, to look further fields up in: for a list, of its elements
   * (upstream's LookupPatchMetadataForSlice); otherwise of the value itself
   * (LookupPatchMetadataForStruct).
   */
  readonly meta: PatchMeta;
  /**
   * x-kubernetes-patch-strategy split on ",": e.g. ["merge"], ["retainKeys"],
   * ["merge", "retainKeys"]; empty when the field has none. Lists without "merge" are replaced;
   * maps are merged unless "replace".
   */
  readonly strategies: readonly string[];
  /** x-kubernetes-patch-merge-key, for lists of objects merged by key ("name", "containerPort", "uid"). */
  readonly mergeKey?: string;
}

/**
 * A schema node the strategic merge patch walks down. Implemented by patchMetaFromOpenAPI (or by
 * hand in tests); called by applyStrategicMergePatch only, which never changes it.
 */
export interface PatchMeta {
  /** The type's name in upstream's errors ("cannot merge lists without merge key for struct"). */
  readonly name: string;
  /** The field's patch metadata, or undefined for a field the schema does not know: merged like JSON merge patch. */
  field(name: string): FieldPatchMeta | undefined;
}

/** A schema that knows no field: every map merges, every list is replaced. */
export const unknownPatchMeta: PatchMeta = { name: "struct", field: () => undefined };

type Schema = Record<string, unknown>;

const asSchema = (v: unknown): Schema | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Schema) : undefined;

/** The component a "$ref" names: "#/components/schemas/X" (v3) or "#/definitions/X" (v2). */
function refName(ref: unknown): string | undefined {
  if (typeof ref !== "string") return undefined;
  const m = /^#\/(?:components\/schemas|definitions)\/(.+)$/.exec(ref);
  return m?.[1]?.replace(/~1/g, "/").replace(/~0/g, "~");
}

/**
 * An adapter from OpenAPI v3 component schemas (the `components.schemas` of /openapi/v3, keyed
 * like "io.k8s.api.core.v1.ConfigMap") to PatchMeta, rooted at `rootSchemaName`. It follows
 * "$ref" and "allOf: [{$ref}]" (kube's way to put extensions next to a reference), "items" for
 * arrays and "additionalProperties" for maps. Field lookups are resolved lazily and cached, so
 * recursive schemas (JSONSchemaProps) are fine. Called by the PATCH handler's setup; it never
 * changes `schemas`.
 */
export function patchMetaFromOpenAPI(
  schemas: Readonly<Record<string, object>>,
  rootSchemaName: string,
): PatchMeta {
  const byNode = new WeakMap<Schema, PatchMeta>();

  /** A schema with every reference followed: its own properties, or the first referenced one's. */
  const resolve = (schema: Schema, seen: Set<string> = new Set()): Schema => {
    const direct = refName(schema.$ref);
    const viaAllOf = Array.isArray(schema.allOf)
      ? schema.allOf.map((s) => refName(asSchema(s)?.$ref)).find((n) => n !== undefined)
      : undefined;
    const name = direct ?? viaAllOf;
    if (name === undefined || seen.has(name)) return schema;
    seen.add(name);
    const target = asSchema(schemas[name]);
    return target === undefined ? schema : resolve(target, seen);
  };

  const metaOf = (schema: Schema): PatchMeta => {
    const resolved = resolve(schema);
    const cached = byNode.get(resolved);
    if (cached !== undefined) return cached;
    const fields = new Map<string, FieldPatchMeta | undefined>();
    const meta: PatchMeta = {
      name: "struct",
      field(name: string): FieldPatchMeta | undefined {
        if (fields.has(name)) return fields.get(name);
        const result = lookup(resolved, name);
        fields.set(name, result);
        return result;
      },
    };
    byNode.set(resolved, meta);
    return meta;
  };

  const lookup = (schema: Schema, name: string): FieldPatchMeta | undefined => {
    const properties = asSchema(schema.properties);
    let field =
      properties !== undefined && Object.hasOwn(properties, name) ? asSchema(properties[name]) : undefined;
    // A map (additionalProperties) has the same schema under every key, with no strategy.
    if (field === undefined) field = asSchema(schema.additionalProperties);
    if (field === undefined) return undefined;
    const strategy = field["x-kubernetes-patch-strategy"];
    const mergeKey = field["x-kubernetes-patch-merge-key"];
    const resolved = resolve(field);
    const items = asSchema(resolved.items) ?? asSchema(field.items);
    return {
      meta: metaOf(items ?? resolved),
      strategies: typeof strategy === "string" && strategy !== "" ? strategy.split(",") : [],
      ...(typeof mergeKey === "string" && mergeKey !== "" ? { mergeKey } : {}),
    };
  };

  const root = asSchema(schemas[rootSchemaName]);
  return root === undefined ? unknownPatchMeta : metaOf(root);
}
