// Which component schemas an OpenAPI v3 schema refers to. Shared by the server's document
// builder (openapi.ts) and the generator of the built-in schemas (hack/openapi/generate.ts);
// it loads nothing, so the generator can use it before builtin-schemas.json exists.

export const schemaRefPrefix = "#/components/schemas/";

/** Keywords whose values are data, not schemas: never look for `$ref` inside them. */
export const literalKeywords: ReadonlySet<string> = new Set([
  "default",
  "enum",
  "example",
  "required",
  "x-kubernetes-group-version-kind",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-unions",
]);

/** Keywords whose values map names to schemas (the names are not keywords). */
export const schemaMapKeywords: ReadonlySet<string> = new Set([
  "properties",
  "patternProperties",
  "definitions",
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Adds to `into` the component names `node` (a schema, path item or document part) refers to. */
export function collectRefs(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, into);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string" && value.startsWith(schemaRefPrefix)) {
      into.add(value.slice(schemaRefPrefix.length));
    } else if (literalKeywords.has(key)) {
      continue;
    } else if (schemaMapKeywords.has(key) && isObject(value)) {
      for (const sub of Object.values(value)) collectRefs(sub, into);
    } else {
      collectRefs(value, into);
    }
  }
}
