// A CRD version's openAPIV3Schema as it arrives on the wire (apiextensions.k8s.io/v1
// JSONSchemaProps), with the helpers every schema algorithm here shares: reading the
// Kubernetes extensions, walking the value-carrying parts of a structural schema, and
// kube's field paths (`spec.items[0].name`).

export interface ValidationRule {
  rule?: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** JSONSchemaProps: every keyword kube accepts, all optional; unknown keys are ignored. */
export interface JSONSchemaProps {
  type?: string;
  format?: string;
  title?: string;
  description?: string;
  default?: unknown;
  example?: unknown;
  nullable?: boolean;
  enum?: unknown[];
  pattern?: string;
  maximum?: number;
  minimum?: number;
  exclusiveMaximum?: boolean;
  exclusiveMinimum?: boolean;
  multipleOf?: number;
  maxLength?: number;
  minLength?: number;
  maxItems?: number;
  minItems?: number;
  uniqueItems?: boolean;
  maxProperties?: number;
  minProperties?: number;
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps | JSONSchemaProps[];
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  externalDocs?: unknown;
  id?: string;
  $ref?: string;
  $schema?: string;
  definitions?: Record<string, JSONSchemaProps>;
  patternProperties?: Record<string, JSONSchemaProps>;
  dependencies?: Record<string, unknown>;
  additionalItems?: unknown;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: string;
  "x-kubernetes-validations"?: ValidationRule[];
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The schema of a property, or undefined when the schema does not declare it. */
export const propertySchema = (s: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined =>
  s?.properties !== undefined && Object.hasOwn(s.properties, key) ? s.properties[key] : undefined;

/** additionalProperties as a schema: `true` means "anything" (an empty schema), `false` none. */
export function additionalSchema(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  const ap = s?.additionalProperties;
  if (ap === undefined || ap === false) return undefined;
  return ap === true ? {} : ap;
}

/** The single items schema of an array (kube forbids the tuple form). */
export const itemsSchema = (s: JSONSchemaProps | undefined): JSONSchemaProps | undefined =>
  s?.items === undefined || Array.isArray(s.items) ? undefined : s.items;

export const preservesUnknown = (s: JSONSchemaProps | undefined): boolean =>
  s?.["x-kubernetes-preserve-unknown-fields"] === true;

export const isEmbedded = (s: JSONSchemaProps | undefined): boolean =>
  s?.["x-kubernetes-embedded-resource"] === true;

export const isIntOrString = (s: JSONSchemaProps | undefined): boolean =>
  s?.["x-kubernetes-int-or-string"] === true;

/** The fields of a resource (the root and every embedded resource) that ObjectMeta/TypeMeta own. */
export const metaFields = new Set(["apiVersion", "kind", "metadata"]);

/** The JSON type of a value as kube-openapi names it for errors ("integer" for whole numbers). */
export function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "object") return "object";
  return typeof v;
}

/** A kube field path built segment by segment, printed like field.Path.String(). */
export class FieldPath {
  private constructor(private readonly text: string) {}
  static readonly root = new FieldPath("");
  static of(text: string): FieldPath {
    return new FieldPath(text);
  }
  child(name: string): FieldPath {
    return new FieldPath(this.text === "" ? name : `${this.text}.${name}`);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }
  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }
  get isRoot(): boolean {
    return this.text === "";
  }
  /** Go prints a nil *field.Path as "<nil>": errors about the whole object carry it. */
  toString(): string {
    return this.text === "" ? "<nil>" : this.text;
  }
  /** The path without the "<nil>" placeholder (for messages that embed it). */
  get plain(): string {
    return this.text;
  }
}

/** Deep equality of JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Go's %#v-ish rendering of a decoded JSON value, as field errors print non-scalar bad values. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return "interface {}(nil)";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goValue).join(", ")}}`;
  const entries = Object.keys(v as JsonObject)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${goValue((v as JsonObject)[k])}`);
  return `map[string]interface {}{${entries.join(", ")}}`;
}
