// The OpenAPI v2 document in protobuf: the JSON document (openapi-v2.builder.ts) converted into
// gnostic's `openapi.v2.Document` (openapi-v2.proto.ts) the way gnostic's ParseDocument reads
// JSON, then encoded with protobufjs. kube-openapi serves exactly that (ToProtoBinary) for
// `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`.
//
// gnostic's mapping, which this follows:
//   - a JSON key names the field of the same name in snake_case (`operationId` →
//     `operation_id`); `$ref` is `_ref`;
//   - `x-*` keys become `vendor_extension` entries: NamedAny{name, value: Any{yaml}}, the
//     value's YAML text; `default`, `example` and each `enum` value are such an Any too;
//   - maps become repeated Named* pairs in the JSON's key order (`definitions`, `properties`,
//     `paths` (key `path`), `responses` (key `response_code`), `securityDefinitions`…);
//   - `type` is TypeItem{value: [..]} (a string or a list), `items` is ItemsItem{schema: [..]}
//     (one schema or a list), `additionalProperties` is the oneof of `boolean` and `schema`;
//   - the oneof wrappers pick their member from the JSON: a parameter with `$ref` is a
//     JsonReference, `in: body` a BodyParameter, any other `in` the NonBodyParameter
//     sub-schema of that location; a security definition by its `type` (and OAuth2 `flow`).
// proto3 drops zero scalars (empty strings, false, 0) outside a oneof, as proto.Marshal does.
// A key gnostic would reject (not in the schema, or of the wrong JSON type) is left out and
// reported: openapi-v2.encoder.test.ts proves the documents Multiplane builds have none.

import protobuf from "protobufjs";
import YAML from "yaml";
import { openAPIV2DocumentMessage, openAPIV2Root } from "./openapi-v2.proto.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
/** A plain object in the shape of a protobufjs message (keys are .proto field names). */
type Plain = Record<string, unknown>;

/** What {@link toOpenAPIV2Message} returns. */
export interface OpenAPIV2Message {
  /** The Document as a plain object with the .proto's field names. */
  readonly message: Plain;
  /** JSON pointers (RFC 6901) of what gnostic would reject and the conversion left out. */
  readonly dropped: readonly string[];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `operationId` → `operation_id`, `$ref` → `_ref`. */
function fieldName(key: string): string {
  return key === "$ref" ? "_ref" : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function pointer(path: string, key: string): string {
  return `${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/**
 * The YAML text gnostic puts in an Any (it marshals the value's yaml.Node). Written as YAML
 * 1.1, which is what Go's YAML readers parse: strings such as "yes" or "on" are quoted.
 */
function yamlOf(value: Json): string {
  return YAML.stringify(value, { version: "1.1" });
}

/** Converts one JSON value into a message of one type; records what it leaves out. */
class Converter {
  readonly dropped: string[] = [];

  private drop(path: string): undefined {
    this.dropped.push(path);
    return undefined;
  }

  /** A value of type `type` (a message name) at `path`; undefined when gnostic would reject it. */
  message(type: protobuf.Type, value: Json, path: string): Plain | undefined {
    switch (type.name) {
      case "Any":
        return { yaml: yamlOf(value) };
      case "TypeItem":
        if (typeof value === "string") return { value: [value] };
        if (Array.isArray(value) && value.every((v) => typeof v === "string")) return { value };
        return this.drop(path);
      case "ItemsItem": {
        const schemaType = type.fields["schema"]!.resolvedType as protobuf.Type;
        const list = Array.isArray(value) ? value : [value];
        const schemas = list.map((v, i) =>
          this.message(schemaType, v, Array.isArray(value) ? `${path}/${i}` : path),
        );
        return schemas.every((s) => s !== undefined) ? { schema: schemas } : undefined;
      }
      case "AdditionalPropertiesItem":
        if (typeof value === "boolean") return { boolean: value };
        return this.oneof(type, "schema", value, path);
      case "StringArray":
        if (Array.isArray(value) && value.every((v) => typeof v === "string")) return { value };
        return this.drop(path);
      case "Paths":
        return this.namedMap(type, "path", value, path);
      case "Responses":
        return this.namedMap(type, "response_code", value, path);
      case "ParametersItem":
      case "ResponseValue":
        if (!isObject(value)) return this.drop(path);
        return value["$ref"] !== undefined
          ? this.oneof(type, "json_reference", value, path)
          : this.oneof(type, type.name === "ParametersItem" ? "parameter" : "response", value, path);
      case "Parameter":
        if (!isObject(value)) return this.drop(path);
        return this.oneof(
          type,
          value["in"] === "body" ? "body_parameter" : "non_body_parameter",
          value,
          path,
        );
      case "NonBodyParameter": {
        const member =
          isObject(value) && typeof value["in"] === "string" ? nonBodyMembers[value["in"]] : undefined;
        return member === undefined ? this.drop(path) : this.oneof(type, member, value, path);
      }
      case "SchemaItem":
        return this.oneof(type, "schema", value, path);
      case "SecurityDefinitionsItem": {
        const member = isObject(value) ? securityMember(value) : undefined;
        return member === undefined ? this.drop(path) : this.oneof(type, member, value, path);
      }
      default:
        if (isNamedMap(type)) return this.namedMap(type, "additional_properties", value, path);
        return this.object(type, value, path);
    }
  }

  /** A oneof wrapper with its member `member` set to `value`. */
  private oneof(type: protobuf.Type, member: string, value: Json, path: string): Plain | undefined {
    const converted = this.message(type.fields[member]!.resolvedType as protobuf.Type, value, path);
    return converted === undefined ? undefined : { [member]: converted };
  }

  /**
   * A message holding a map as repeated Named* pairs in field `field`; in Paths and Responses
   * the `x-*` keys are vendor extensions instead.
   */
  private namedMap(type: protobuf.Type, field: string, value: Json, path: string): Plain | undefined {
    if (!isObject(value)) return this.drop(path);
    const pairType = type.fields[field]!.resolvedType as protobuf.Type;
    const valueType = pairType.fields["value"]!;
    const pairs: Plain[] = [];
    const extensions: Plain[] = [];
    for (const [key, v] of Object.entries(value)) {
      const at = pointer(path, key);
      if (key.startsWith("x-") && type.fields["vendor_extension"] !== undefined) {
        extensions.push({ name: key, value: { yaml: yamlOf(v) } });
        continue;
      }
      const converted =
        valueType.resolvedType instanceof protobuf.Type
          ? this.message(valueType.resolvedType, v, at)
          : this.scalar(valueType, v, at);
      if (converted !== undefined) pairs.push({ name: key, value: converted });
    }
    const out: Plain = {};
    if (pairs.length > 0) out[field] = pairs;
    if (extensions.length > 0) out["vendor_extension"] = extensions;
    return out;
  }

  /** A message whose fields are the object's keys. */
  private object(type: protobuf.Type, value: Json, path: string): Plain | undefined {
    if (!isObject(value)) return this.drop(path);
    const out: Plain = {};
    const extensions: Plain[] = [];
    for (const [key, v] of Object.entries(value)) {
      const at = pointer(path, key);
      if (key.startsWith("x-") && type.fields["vendor_extension"] !== undefined) {
        extensions.push({ name: key, value: { yaml: yamlOf(v) } });
        continue;
      }
      const field = type.fields[fieldName(key)];
      if (field === undefined) {
        this.drop(at);
        continue;
      }
      const converted = field.repeated ? this.repeated(field, v, at) : this.single(field, v, at);
      if (converted !== undefined) out[field.name] = converted;
    }
    if (extensions.length > 0) out["vendor_extension"] = extensions;
    return out;
  }

  private repeated(field: protobuf.Field, value: Json, path: string): unknown[] | undefined {
    if (!Array.isArray(value)) return this.drop(path);
    const out: unknown[] = [];
    value.forEach((v, i) => {
      const converted = this.single(field, v, `${path}/${i}`, true);
      if (converted !== undefined) out.push(converted);
    });
    return out.length > 0 ? out : undefined;
  }

  /** One value of `field`; zero scalars are left out (proto3), except in a list. */
  private single(field: protobuf.Field, value: Json, path: string, inList = false): unknown {
    if (field.resolvedType instanceof protobuf.Type) return this.message(field.resolvedType, value, path);
    const scalar = this.scalar(field, value, path);
    return inList || (scalar !== "" && scalar !== false && scalar !== 0) ? scalar : undefined;
  }

  private scalar(field: protobuf.Field, value: Json, path: string): string | boolean | number | undefined {
    switch (field.type) {
      case "string":
        return typeof value === "string" ? value : this.drop(path);
      case "bool":
        return typeof value === "boolean" ? value : this.drop(path);
      case "double":
        return typeof value === "number" ? value : this.drop(path);
      case "int64":
        return typeof value === "number" && Number.isSafeInteger(value) ? value : this.drop(path);
      default:
        return this.drop(path);
    }
  }
}

/** NonBodyParameter's member for each parameter location. */
const nonBodyMembers: Readonly<Record<string, string>> = {
  header: "header_parameter_sub_schema",
  formData: "form_data_parameter_sub_schema",
  query: "query_parameter_sub_schema",
  path: "path_parameter_sub_schema",
};

/** SecurityDefinitionsItem's member for a security definition. */
function securityMember(value: JsonObject): string | undefined {
  if (value["type"] === "basic") return "basic_authentication_security";
  if (value["type"] === "apiKey") return "api_key_security";
  if (value["type"] !== "oauth2") return undefined;
  const flows: Readonly<Record<string, string>> = {
    implicit: "oauth2_implicit_security",
    password: "oauth2_password_security",
    application: "oauth2_application_security",
    accessCode: "oauth2_access_code_security",
  };
  return typeof value["flow"] === "string" ? flows[value["flow"]] : undefined;
}

/** Definitions, Properties, SecurityDefinitions…: one repeated `additional_properties` of pairs. */
function isNamedMap(type: protobuf.Type): boolean {
  const only = type.fieldsArray.length === 1 ? type.fieldsArray[0] : undefined;
  return only?.name === "additional_properties" && only.repeated;
}

const Document = openAPIV2Root.lookupType(openAPIV2DocumentMessage);

/**
 * The gnostic `openapi.v2.Document` of a JSON OpenAPI v2 document (parsed JSON, whose key order
 * is kept). Pure: does not modify `document`. Throws when `document` is not an object.
 */
export function toOpenAPIV2Message(document: unknown): OpenAPIV2Message {
  if (!isObject(document)) throw new Error("the OpenAPI v2 document is not a JSON object");
  const converter = new Converter();
  const message = converter.message(Document, document, "") ?? {};
  return { message, dropped: converter.dropped };
}

/**
 * The protobuf encoding kube-apiserver serves for /openapi/v2 (gnostic's Document, as
 * proto.Marshal writes it: fields in number order). Called by openapi.handler.ts, which caches
 * the bytes per document. What gnostic would reject is left out (see toOpenAPIV2Message).
 */
export function encodeOpenAPIV2Protobuf(document: unknown): Uint8Array {
  const { message } = toOpenAPIV2Message(document);
  return Document.encode(Document.fromObject(message)).finish();
}

/**
 * Decodes bytes of {@link encodeOpenAPIV2Protobuf} into a plain object with the .proto's names:
 * only what is on the wire (no defaults, no empty lists), int64s as numbers. For tests and tools.
 */
export function decodeOpenAPIV2Protobuf(bytes: Uint8Array): Plain {
  return Document.toObject(Document.decode(bytes), { longs: Number });
}
