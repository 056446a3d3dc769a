// The protobuf /openapi/v2 document: our bytes decoded with the same schema say what the JSON
// document says (definitions, vendor extensions, operations, parameters, responses), nothing
// Multiplane builds is left out, gnostic's oneof and map mappings hold, and the field numbers
// on the wire are gnostic's.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import YAML from "yaml";

import { builtinResources } from "../../registry/resources.ts";
import { buildOpenAPIV2Document } from "./openapi-v2.builder.ts";
import {
  decodeOpenAPIV2Protobuf,
  encodeOpenAPIV2Protobuf,
  toOpenAPIV2Message,
} from "./openapi-v2.encoder.ts";
import type { ResourceDescription } from "./openapi.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Plain = Record<string, unknown>;

const gizmos: ResourceDescription = {
  group: "example.com",
  version: "v1",
  kind: "Gizmo",
  listKind: "GizmoList",
  plural: "gizmos",
  namespaced: true,
  subresources: ["status"],
  schema: {
    type: "object",
    properties: {
      spec: {
        type: "object",
        properties: {
          size: { type: "integer", minimum: 0, maximum: 10, description: "How big." },
          mode: { type: "string", enum: ["on", "off", "yes"] },
          port: { "x-kubernetes-int-or-string": true },
          tags: { type: "array", items: { type: "string" }, maxItems: 3 },
          labels: { type: "object", additionalProperties: { type: "string" } },
          extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      },
    },
  },
};

/** The served JSON, parsed back (what kube-openapi's ToProtoBinary reads). */
const json = JSON.parse(
  JSON.stringify(buildOpenAPIV2Document([...builtinResources, gizmos], { infoVersion: "v1.32.4" })),
) as { [key: string]: Json } & {
  definitions: Record<string, Json>;
  paths: Record<string, Record<string, Json>>;
};
const decoded = decodeOpenAPIV2Protobuf(encodeOpenAPIV2Protobuf(json));

function list(value: unknown): Plain[] {
  return Array.isArray(value) ? (value as Plain[]) : [];
}

function named(pairs: unknown, name: string): Plain {
  const pair = list(pairs).find((p) => p["name"] === name);
  assert.ok(pair, `no pair named ${name}`);
  return pair["value"] as Plain;
}

/** Vendor extensions back as JSON: their YAML parsed. */
function extensions(message: Plain): Record<string, unknown> {
  return Object.fromEntries(
    list(message["vendor_extension"]).map((e) => [
      e["name"] as string,
      YAML.parse((e["value"] as Plain)["yaml"] as string) as unknown,
    ]),
  );
}

// ---- the inverse of gnostic's mapping, to compare a decoded document with the JSON ----------

const pairMaps = new Set(["definitions", "properties", "security_definitions", "additional_properties"]);

/** JSON of a decoded Schema (the only kind of message under `definitions`). */
function schemaJson(schema: Plain): Json {
  const out: { [key: string]: Json } = {};
  for (const [field, value] of Object.entries(schema)) {
    switch (field) {
      case "vendor_extension":
        Object.assign(out, extensions(schema) as Record<string, Json>);
        break;
      case "_ref":
        out["$ref"] = value as string;
        break;
      case "type": {
        const types = (value as { value: string[] }).value;
        out["type"] = types.length === 1 ? types[0]! : types;
        break;
      }
      case "items": {
        const items = list((value as Plain)["schema"]).map(schemaJson);
        out["items"] = items.length === 1 ? items[0]! : items;
        break;
      }
      case "additional_properties": {
        const v = value as Plain;
        out["additionalProperties"] =
          "boolean" in v ? (v["boolean"] as boolean) : schemaJson(v["schema"] as Plain);
        break;
      }
      case "properties":
        out["properties"] = Object.fromEntries(
          list((value as Plain)["additional_properties"]).map((p) => [
            p["name"] as string,
            schemaJson(p["value"] as Plain),
          ]),
        );
        break;
      case "all_of":
        out["allOf"] = list(value).map(schemaJson);
        break;
      case "enum":
        out["enum"] = list(value).map((a) => YAML.parse(a["yaml"] as string) as Json);
        break;
      default:
        assert.ok(!pairMaps.has(field), field);
        out[field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = value as Json;
    }
  }
  return out;
}

/**
 * A schema without the keywords proto3 cannot tell from absent (0, "", false scalars outside
 * a oneof), which proto.Marshal leaves out for kube too: `minimum: 0` does not reach kubectl.
 */
function withoutZeros(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(withoutZeros);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-") || key === "enum") out[key] = value;
    else if (key === "properties" && typeof value === "object" && value !== null && !Array.isArray(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutZeros(v)]));
    } else if (key === "additionalProperties" && typeof value === "boolean") out[key] = value;
    else if (value !== 0 && value !== "" && value !== false) out[key] = withoutZeros(value);
  }
  return out;
}

describe("the protobuf OpenAPI v2 document", () => {
  test("leaves nothing out of the documents Multiplane builds", () => {
    assert.deepEqual(toOpenAPIV2Message(json).dropped, []);
  });

  test("has the envelope: swagger, info, security and its definitions", () => {
    assert.equal(decoded["swagger"], "2.0");
    assert.deepEqual(decoded["info"], { title: "Kubernetes", version: "v1.32.4" });
    assert.deepEqual(decoded["security"], [{ additional_properties: [{ name: "BearerToken", value: {} }] }]);
    assert.deepEqual(decoded["security_definitions"], {
      additional_properties: [
        {
          name: "BearerToken",
          value: {
            api_key_security: {
              type: "apiKey",
              name: "authorization",
              in: "header",
              description: "Bearer Token authentication",
            },
          },
        },
      ],
    });
  });

  test("every definition, in the JSON's order, says what the JSON says", () => {
    const definitions = list((decoded["definitions"] as Plain)["additional_properties"]);
    assert.deepEqual(
      definitions.map((d) => d["name"]),
      Object.keys(json.definitions),
    );
    for (const d of definitions) {
      const name = d["name"] as string;
      assert.deepEqual(schemaJson(d["value"] as Plain), withoutZeros(json.definitions[name]!), name);
    }
  });

  test("a definition's x-kubernetes-group-version-kind is YAML of the JSON value", () => {
    const configMap = named(
      (decoded["definitions"] as Plain)["additional_properties"],
      "io.k8s.api.core.v1.ConfigMap",
    );
    const gvk = list(configMap["vendor_extension"]).find(
      (e) => e["name"] === "x-kubernetes-group-version-kind",
    );
    assert.ok(gvk);
    const yaml = (gvk["value"] as Plain)["yaml"] as string;
    assert.deepEqual(YAML.parse(yaml), [{ group: "", kind: "ConfigMap", version: "v1" }]);
    assert.deepEqual(
      YAML.parse(yaml),
      json.definitions["io.k8s.api.core.v1.ConfigMap"]!["x-kubernetes-group-version-kind" as never],
    );
    assert.deepEqual((configMap["type"] as Plain)["value"], ["object"]);
    const metadata = named((configMap["properties"] as Plain)["additional_properties"], "metadata");
    assert.equal(metadata["_ref"], "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  });

  test("a custom resource's schema: enum values as YAML 1.1 Anys, items, additionalProperties", () => {
    const gizmo = named((decoded["definitions"] as Plain)["additional_properties"], "com.example.v1.Gizmo");
    const spec = named((gizmo["properties"] as Plain)["additional_properties"], "spec");
    const props = (spec["properties"] as Plain)["additional_properties"];
    const mode = named(props, "mode");
    // "on" and "yes" are booleans to Go's YAML 1.1 readers unless quoted.
    assert.deepEqual(
      list(mode["enum"]).map((a) => a["yaml"]),
      ['"on"\n', '"off"\n', '"yes"\n'],
    );
    assert.deepEqual(named(props, "tags")["items"], { schema: [{ type: { value: ["string"] } }] });
    assert.equal(named(props, "tags")["max_items"], 3);
    assert.deepEqual(named(props, "labels")["additional_properties"], {
      schema: { type: { value: ["string"] } },
    });
    assert.equal(named(props, "size")["maximum"], 10);
    // minimum: 0 is proto3's zero: not on the wire, as in proto.Marshal.
    assert.equal(named(props, "size")["minimum"], undefined);
    assert.deepEqual(extensions(named(props, "extra")), { "x-kubernetes-preserve-unknown-fields": true });
  });

  test("a path's operations, parameters and responses", () => {
    const paths = decoded["paths"] as Plain;
    assert.deepEqual(
      list(paths["path"]).map((p) => p["name"]),
      Object.keys(json.paths),
    );
    const item = named(paths["path"], "/api/v1/namespaces/{namespace}/configmaps/{name}");
    const jsonItem = json.paths["/api/v1/namespaces/{namespace}/configmaps/{name}"]!;
    assert.deepEqual(
      list(item["parameters"]).map((p) => {
        const nonBody = (p["parameter"] as Plain)["non_body_parameter"] as Plain;
        return Object.keys(nonBody)[0];
      }),
      ["path_parameter_sub_schema", "path_parameter_sub_schema", "query_parameter_sub_schema"],
    );
    const patch = item["patch"] as Plain;
    const jsonPatch = jsonItem["patch"] as { [key: string]: Json };
    assert.equal(patch["operation_id"], "patchCoreV1NamespacedConfigMap");
    assert.equal(patch["operation_id"], jsonPatch["operationId"]);
    assert.equal(patch["description"], jsonPatch["description"]);
    assert.deepEqual(patch["tags"], jsonPatch["tags"]);
    assert.deepEqual(patch["consumes"], jsonPatch["consumes"]);
    assert.deepEqual(patch["produces"], jsonPatch["produces"]);
    assert.deepEqual(patch["schemes"], ["https"]);
    assert.deepEqual(extensions(patch), {
      "x-kubernetes-action": "patch",
      "x-kubernetes-group-version-kind": { group: "", kind: "ConfigMap", version: "v1" },
    });

    const parameters = list(patch["parameters"]).map((p) => p["parameter"] as Plain);
    assert.deepEqual(parameters[0], {
      body_parameter: {
        name: "body",
        in: "body",
        required: true,
        schema: { _ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" },
      },
    });
    const query = parameters
      .slice(1)
      .map((p) => (p["non_body_parameter"] as Plain)["query_parameter_sub_schema"] as Plain);
    const jsonQuery = (jsonPatch["parameters"] as { [key: string]: Json }[]).slice(1);
    assert.deepEqual(
      query.map((q) => q["name"]),
      jsonQuery.map((q) => q["name"]),
    );
    assert.ok(query.map((q) => q["name"]).includes("fieldValidation"));
    const force = query.find((q) => q["name"] === "force")!;
    assert.equal(force["type"], "boolean");
    assert.equal(force["in"], "query");
    assert.equal(force["unique_items"], true);

    const responses = list((patch["responses"] as Plain)["response_code"]);
    assert.deepEqual(
      responses.map((r) => r["name"]),
      Object.keys(jsonPatch["responses"] as object),
    );
    assert.deepEqual(responses[0], {
      name: "200",
      value: {
        response: {
          description: "OK",
          schema: { schema: { _ref: "#/definitions/io.k8s.api.core.v1.ConfigMap" } },
        },
      },
    });
  });
});

describe("gnostic's mapping of what Multiplane does not build", () => {
  test("oneofs, references, other locations, boolean additionalProperties, type lists", () => {
    const doc = {
      swagger: "2.0",
      info: { title: "t", version: "1", contact: { name: "n" }, "x-info": { a: 1 } },
      paths: {
        "x-paths": "p",
        "/a": {
          parameters: [{ $ref: "#/parameters/p" }],
          get: {
            parameters: [
              { in: "header", name: "h", type: "string" },
              { in: "formData", name: "f", type: "file", allowEmptyValue: true },
              { in: "query", name: "q", type: "array", items: { type: "integer" }, enum: [[1]] },
            ],
            // (A JavaScript object lists an integer key such as "200" first, whatever the JSON's order.)
            responses: { "200": { description: "ok" }, default: { $ref: "#/responses/r" }, "x-r": true },
          },
        },
      },
      definitions: {
        open: { type: ["string", "null"], additionalProperties: false, items: [{ type: "string" }, {}] },
      },
      securityDefinitions: {
        basic: { type: "basic" },
        oauth: { type: "oauth2", flow: "accessCode", scopes: { read: "reads" }, tokenUrl: "t" },
      },
    };
    const { message, dropped } = toOpenAPIV2Message(doc);
    assert.deepEqual(dropped, []);
    const back = decodeOpenAPIV2Protobuf(encodeOpenAPIV2Protobuf(doc));
    assert.deepEqual(back["info"], {
      title: "t",
      version: "1",
      contact: { name: "n" },
      vendor_extension: [{ name: "x-info", value: { yaml: "a: 1\n" } }],
    });
    const paths = back["paths"] as Plain;
    assert.deepEqual(paths["vendor_extension"], [{ name: "x-paths", value: { yaml: "p\n" } }]);
    const item = named(paths["path"], "/a");
    assert.deepEqual(item["parameters"], [{ json_reference: { _ref: "#/parameters/p" } }]);
    const get = item["get"] as Plain;
    assert.deepEqual(
      list(get["parameters"]).map((p) => (p["parameter"] as Plain)["non_body_parameter"]),
      [
        { header_parameter_sub_schema: { in: "header", name: "h", type: "string" } },
        {
          form_data_parameter_sub_schema: {
            in: "formData",
            name: "f",
            type: "file",
            allow_empty_value: true,
          },
        },
        {
          query_parameter_sub_schema: {
            in: "query",
            name: "q",
            type: "array",
            items: { type: "integer" },
            enum: [{ yaml: "- 1\n" }],
          },
        },
      ],
    );
    assert.deepEqual(get["responses"], {
      response_code: [
        { name: "200", value: { response: { description: "ok" } } },
        { name: "default", value: { json_reference: { _ref: "#/responses/r" } } },
      ],
      vendor_extension: [{ name: "x-r", value: { yaml: "true\n" } }],
    });
    // additionalProperties: false is a oneof member: on the wire although it is a zero.
    assert.deepEqual(named((back["definitions"] as Plain)["additional_properties"], "open"), {
      type: { value: ["string", "null"] },
      additional_properties: { boolean: false },
      items: { schema: [{ type: { value: ["string"] } }, {}] },
    });
    assert.deepEqual((back["security_definitions"] as Plain)["additional_properties"], [
      { name: "basic", value: { basic_authentication_security: { type: "basic" } } },
      {
        name: "oauth",
        value: {
          oauth2_access_code_security: {
            type: "oauth2",
            flow: "accessCode",
            scopes: { additional_properties: [{ name: "read", value: "reads" }] },
            token_url: "t",
          },
        },
      },
    ]);
    assert.ok(message["paths"]);
  });

  test("what gnostic would reject is left out and reported by JSON pointer", () => {
    const { dropped } = toOpenAPIV2Message({
      swagger: "2.0",
      definitions: {
        "a/b": { type: "object", nullable: true, properties: { x: { maxLength: 1.5, anyOf: [] } } },
      },
      paths: { "/p": { get: { parameters: [{ in: "cookie", name: "c" }] } } },
    });
    assert.deepEqual(dropped, [
      "/definitions/a~1b/nullable",
      "/definitions/a~1b/properties/x/maxLength",
      "/definitions/a~1b/properties/x/anyOf",
      "/paths/~1p/get/parameters/0",
    ]);
  });
});

describe("the wire", () => {
  test("carries gnostic's field numbers", () => {
    const hex = (doc: unknown): string => Buffer.from(encodeOpenAPIV2Protobuf(doc)).toString("hex");
    // Document.swagger = 1 (tag 0x0a), "2.0".
    assert.equal(hex({ swagger: "2.0" }), "0a03322e30");
    // Document.paths = 8 (0x42) → Paths.path = 2 (0x12) → NamedPathItem{name = 1, value = 2}
    // → PathItem.get = 2 (0x12) → Operation.operation_id = 5 (0x2a) "o".
    assert.equal(
      hex({ paths: { "/": { get: { operationId: "o" } } } }),
      "420c" + "120a" + "0a012f" + "1205" + "12032a016f",
    );
    // Document.definitions = 9 (0x4a) → NamedSchema → Schema._ref = 1 (0x0a) and
    // Schema.vendor_extension = 31 (0xfa 0x01) → NamedAny{name, value: Any.yaml = 2 (0x12)}.
    assert.equal(
      hex({ definitions: { s: { $ref: "r", "x-a": 1 } } }),
      "4a18" + "0a16" + "0a0173" + "1211" + "0a0172" + "fa010b" + "0a03782d61" + "1204" + "1202310a",
    );
  });
});
