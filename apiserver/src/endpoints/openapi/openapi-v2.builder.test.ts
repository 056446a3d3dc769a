import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { builtinResources } from "../../registry/resources.ts";
import { buildOpenAPIV2Document, schemaToV2, type OpenAPIV2Document } from "./openapi-v2.builder.ts";
import { buildOpenAPIV3Document, type ResourceDescription, type Schema } from "./openapi.ts";

type Json = Record<string, unknown>;

const gizmos: ResourceDescription = {
  group: "example.com",
  version: "v1",
  kind: "Gizmo",
  listKind: "GizmoList",
  plural: "gizmos",
  namespaced: false,
  subresources: ["status", "scale"],
  schema: {
    type: "object",
    properties: {
      spec: {
        type: "object",
        required: ["size", "note"],
        properties: {
          size: { type: "integer", default: 1, description: "How big." },
          note: { type: "string", nullable: true },
          port: { "x-kubernetes-int-or-string": true },
          tags: { type: "array", items: { type: "string" } },
          raw: { type: "array", "x-kubernetes-preserve-unknown-fields": true, items: { type: "string" } },
          extra: {
            type: "object",
            "x-kubernetes-preserve-unknown-fields": true,
            properties: { known: { type: "string" } },
          },
          choice: { type: "string", oneOf: [{ enum: ["a"] }, { enum: ["b"] }], not: { enum: ["c"] } },
          labels: { type: "object", additionalProperties: { type: "string", nullable: true } },
        },
      },
    },
  },
};

const schemaless: ResourceDescription = { ...gizmos, kind: "Blob", listKind: "BlobList", plural: "blobs" };
delete (schemaless as { schema?: Schema }).schema;

const preserving: ResourceDescription = {
  ...gizmos,
  kind: "Bag",
  listKind: "BagList",
  plural: "bags",
  schema: {
    type: "object",
    "x-kubernetes-preserve-unknown-fields": true,
    properties: { a: { type: "string" } },
  },
};

function v2(resources: readonly ResourceDescription[]): OpenAPIV2Document {
  return buildOpenAPIV2Document(resources, { infoVersion: "v1.32.4" });
}

function op(doc: OpenAPIV2Document, path: string, method: string): Json {
  const item = doc.paths[path];
  assert.ok(item, `no path ${path}`);
  const o = item[method];
  assert.ok(typeof o === "object" && o !== null, `no ${method} on ${path}`);
  return o as Json;
}

/** Every `$ref` value in a document, skipping property names and literal keywords. */
function refs(node: unknown, into: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, into);
  else if (typeof node === "object" && node !== null) {
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === "$ref" && typeof v === "string") into.push(v);
      else if (k === "properties" && typeof v === "object" && v !== null) {
        for (const p of Object.values(v as Record<string, unknown>)) refs(p, into);
      } else if (k !== "enum" && k !== "example") refs(v, into);
    }
  }
  return into;
}

/** How often `keyword` is used as a schema keyword (property names are not keywords). */
function keywordCount(node: unknown, keyword: string): number {
  if (Array.isArray(node)) return node.reduce((n: number, x) => n + keywordCount(x, keyword), 0);
  if (typeof node !== "object" || node === null) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === keyword) n++;
    else if (k === "properties" && typeof v === "object" && v !== null) {
      for (const p of Object.values(v as Record<string, unknown>)) n += keywordCount(p, keyword);
    } else if (k !== "enum" && k !== "example") n += keywordCount(v, keyword);
  }
  return n;
}

describe("buildOpenAPIV2Document for the built-in kinds", () => {
  const doc = v2(builtinResources);

  test("is kube-apiserver's Swagger 2.0 envelope", () => {
    assert.equal(doc.swagger, "2.0");
    assert.deepEqual(doc.info, { title: "Kubernetes", version: "v1.32.4" });
    assert.deepEqual(doc.security, [{ BearerToken: [] }]);
    assert.deepEqual(doc.securityDefinitions, {
      BearerToken: {
        description: "Bearer Token authentication",
        in: "header",
        name: "authorization",
        type: "apiKey",
      },
    });
    assert.deepEqual(Object.keys(doc), [
      "definitions",
      "info",
      "paths",
      "security",
      "securityDefinitions",
      "swagger",
    ]);
  });

  test("every $ref points into #/definitions and resolves", () => {
    const all = refs(doc);
    assert.ok(all.length > 100);
    for (const r of all) {
      assert.ok(r.startsWith("#/definitions/"), r);
      assert.ok(doc.definitions[r.slice("#/definitions/".length)], `unresolved ${r}`);
    }
  });

  test("a ConfigMap's operations as kube's v2 installer lists them", () => {
    const create = op(doc, "/api/v1/namespaces/{namespace}/configmaps", "post");
    assert.equal(create["operationId"], "createCoreV1NamespacedConfigMap");
    assert.equal(create["description"], "create a ConfigMap");
    assert.deepEqual(create["consumes"], ["*/*"]);
    assert.deepEqual(create["produces"], [
      "application/json",
      "application/yaml",
      "application/vnd.kubernetes.protobuf",
    ]);
    assert.deepEqual(create["schemes"], ["https"]);
    assert.deepEqual(create["tags"], ["core_v1"]);
    assert.equal(create["x-kubernetes-action"], "post");
    assert.deepEqual(create["x-kubernetes-group-version-kind"], {
      group: "",
      kind: "ConfigMap",
      version: "v1",
    });
    const params = create["parameters"] as Json[];
    assert.deepEqual(params[0], {
      in: "body",
      name: "body",
      required: true,
      schema: { $ref: "#/definitions/io.k8s.api.core.v1.ConfigMap" },
    });
    assert.deepEqual(
      params.map((p) => p["name"]),
      ["body", "dryRun", "fieldManager", "fieldValidation"],
    );
    // Query parameters carry their type inline (v2 has no parameter schema).
    assert.equal(params[1]?.["type"], "string");
    assert.equal(params[1]?.["schema"], undefined);
    assert.deepEqual(create["responses"], {
      "200": { description: "OK", schema: { $ref: "#/definitions/io.k8s.api.core.v1.ConfigMap" } },
      "201": { description: "Created", schema: { $ref: "#/definitions/io.k8s.api.core.v1.ConfigMap" } },
      "202": { description: "Accepted", schema: { $ref: "#/definitions/io.k8s.api.core.v1.ConfigMap" } },
      "401": { description: "Unauthorized" },
    });

    const read = op(doc, "/api/v1/namespaces/{namespace}/configmaps/{name}", "get");
    assert.equal(read["operationId"], "readCoreV1NamespacedConfigMap");
    assert.deepEqual(read["consumes"], ["*/*"]);
    const del = op(doc, "/api/v1/namespaces/{namespace}/configmaps/{name}", "delete");
    assert.deepEqual((del["parameters"] as Json[])[0], {
      in: "body",
      name: "body",
      schema: { $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions" },
    });
    const item = doc.paths["/api/v1/namespaces/{namespace}/configmaps/{name}"] as Json;
    assert.deepEqual(
      (item["parameters"] as Json[]).map((p) => [p["name"], p["in"], p["type"]]),
      [
        ["name", "path", "string"],
        ["namespace", "path", "string"],
        ["pretty", "query", "string"],
      ],
    );
    assert.equal(op(doc, "/api/v1/configmaps", "get")["operationId"], "listCoreV1ConfigMapForAllNamespaces");
  });

  test("subresources and discovery paths", () => {
    assert.equal(
      op(doc, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/{name}/status", "patch")[
        "operationId"
      ],
      "patchAdmissionregistrationV1ValidatingAdmissionPolicyStatus",
    );
    assert.equal(
      op(doc, "/api/v1/namespaces/{name}/finalize", "put")["operationId"],
      "replaceCoreV1NamespaceFinalize",
    );
    assert.equal(
      op(doc, "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", "post")["operationId"],
      "createCoreV1NamespacedServiceAccountToken",
    );
    assert.equal(op(doc, "/api/", "get")["operationId"], "getCoreAPIVersions");
    assert.equal(op(doc, "/apis/", "get")["operationId"], "getAPIVersions");
    assert.equal(op(doc, "/api/v1/", "get")["operationId"], "getCoreV1APIResources");
    assert.deepEqual(op(doc, "/apis/coordination.k8s.io/", "get")["responses"], {
      "200": {
        description: "OK",
        schema: { $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup" },
      },
      "401": { description: "Unauthorized" },
    });
  });

  test("the review kinds are create-only: one POST on the collection", () => {
    const reviews = builtinResources.filter((r) => r.review === true);
    assert.equal(reviews.length, 6);
    for (const r of reviews) {
      const prefix = r.group === "" ? "/api/v1" : `/apis/${r.group}/${r.version}`;
      const path = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
      const item = doc.paths[path] as Json;
      assert.deepEqual(Object.keys(item).sort(), ["parameters", "post"], path);
      assert.equal(doc.paths[`${path}/{name}`], undefined);
      assert.equal(doc.paths[`${prefix}/${r.plural}`] === undefined, r.namespaced, path);
    }
  });

  test("definitions: described references as $ref with siblings, no defaults, the v1.32 overlay", () => {
    // v3 wraps a described reference in allOf; v2 puts the description beside the $ref.
    const vap = doc.definitions["io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy"] as Json;
    const spec = (vap["properties"] as Json)["spec"] as Json;
    assert.deepEqual(spec, {
      $ref: "#/definitions/io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec",
      description: "Specification of the desired behavior of the ValidatingAdmissionPolicy.",
    });
    assert.ok(doc.definitions["io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec"]);
    assert.ok(doc.definitions["io.k8s.api.authentication.v1.SelfSubjectReviewStatus"]);
    assert.equal(keywordCount(doc.definitions, "default"), 0, "defaults are pruned");
    // JSONSchemaProps has properties named "default" and "$ref": they are data, not keywords.
    const props = doc.definitions[
      "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
    ]?.["properties"] as Json;
    assert.ok(props["default"]);
    assert.ok(props["$ref"]);
  });
});

describe("buildOpenAPIV2Document for custom resources", () => {
  const doc = v2([...builtinResources, gizmos, schemaless, preserving]);
  const gizmo = doc.definitions["com.example.v1.Gizmo"] as Json;
  const spec = (gizmo["properties"] as Json)["spec"] as {
    properties: Record<string, Json>;
    required?: string[];
  };

  test("paths as apiextensions' builder makes them, in the same document as the built-ins", () => {
    const list = op(doc, "/apis/example.com/v1/gizmos", "get");
    assert.equal(list["operationId"], "listExampleComV1Gizmo");
    assert.equal(list["description"], "list objects of kind Gizmo");
    assert.deepEqual(list["consumes"], ["application/json", "application/yaml"]);
    assert.deepEqual(list["produces"], ["application/json", "application/yaml"]);
    const scale = op(doc, "/apis/example.com/v1/gizmos/{name}/scale", "put");
    assert.equal(scale["operationId"], "replaceExampleComV1GizmoScale");
    assert.deepEqual((scale["parameters"] as Json[])[0]?.["schema"], {
      $ref: "#/definitions/io.k8s.api.autoscaling.v1.Scale",
    });
    assert.deepEqual(op(doc, "/apis/example.com/v1/gizmos/{name}", "patch")["consumes"], [
      "application/json-patch+json",
      "application/merge-patch+json",
      "application/apply-patch+yaml",
    ]);
    assert.ok(doc.paths["/api/v1/namespaces/{namespace}/configmaps"]);
    // A group of custom resources only has no discovery path in the v2 document.
    assert.equal(doc.paths["/apis/example.com/"], undefined);
  });

  test("kube-native wrapping: TypeMeta, ObjectMeta by $ref, GVK, a List", () => {
    assert.deepEqual(gizmo["x-kubernetes-group-version-kind"], [
      { group: "example.com", kind: "Gizmo", version: "v1" },
    ]);
    const props = gizmo["properties"] as Record<string, Json>;
    assert.equal(
      props["metadata"]?.["$ref"],
      "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    );
    assert.equal(props["apiVersion"]?.["type"], "string");
    const list = doc.definitions["com.example.v1.GizmoList"] as Json;
    assert.deepEqual(((list["properties"] as Json)["items"] as Json)["items"], {
      $ref: "#/definitions/com.example.v1.Gizmo",
    });
  });

  test("what v2 cannot express is stripped as ToStructuralOpenAPIV2 does", () => {
    assert.deepEqual(spec.properties["size"], { description: "How big.", type: "integer" }, "default pruned");
    assert.deepEqual(spec.properties["note"], {}, "nullable: untyped");
    assert.deepEqual(spec.required, ["size"], "a nullable field is not required");
    assert.deepEqual(spec.properties["port"], { "x-kubernetes-int-or-string": true }, "no anyOf unfolding");
    assert.deepEqual(spec.properties["tags"], { items: { type: "string" }, type: "array" });
    assert.deepEqual(spec.properties["raw"], { "x-kubernetes-preserve-unknown-fields": true });
    assert.deepEqual(spec.properties["extra"], { "x-kubernetes-preserve-unknown-fields": true });
    assert.deepEqual(spec.properties["choice"], { type: "string" }, "junctors dropped");
    assert.deepEqual(spec.properties["labels"], { additionalProperties: {}, type: "object" });
  });

  test("a schemaless CRD and a root that preserves unknown fields are bare objects", () => {
    for (const name of ["com.example.v1.Blob", "com.example.v1.Bag"]) {
      assert.deepEqual(doc.definitions[name], {
        type: "object",
        "x-kubernetes-group-version-kind": [
          { group: "example.com", kind: name.split(".").pop(), version: "v1" },
        ],
      });
    }
  });

  test("the v3 document of the same CRD keeps what v2 strips", () => {
    const v3 = buildOpenAPIV3Document({ group: "example.com", version: "v1" }, [gizmos]);
    const v3spec = ((v3.components.schemas["com.example.v1.Gizmo"]?.["properties"] as Json)["spec"] as Json)[
      "properties"
    ] as Record<string, Json>;
    assert.equal(v3spec["note"]?.["nullable"], true);
    assert.deepEqual(v3spec["port"]?.["anyOf"], [{ type: "integer" }, { type: "string" }]);
    assert.equal(v3spec["size"]?.["default"], 1);
  });

  test("builds deterministically and leaves its input alone", () => {
    const before = JSON.stringify(gizmos);
    assert.equal(
      JSON.stringify(v2([gizmos, ...builtinResources])),
      JSON.stringify(v2([...builtinResources, gizmos])),
    );
    assert.equal(JSON.stringify(gizmos), before);
  });
});

describe("schemaToV2", () => {
  test("unwraps a described reference and rewrites refs, leaving literals alone", () => {
    assert.deepEqual(
      schemaToV2({
        allOf: [{ $ref: "#/components/schemas/a.B" }],
        description: "d",
        default: {},
        enum: [{ $ref: "#/components/schemas/not.a.ref" }],
      }),
      { $ref: "#/definitions/a.B", description: "d", enum: [{ $ref: "#/components/schemas/not.a.ref" }] },
    );
    // An allOf of more than a reference stays.
    const both = { allOf: [{ $ref: "#/components/schemas/a.B" }, { type: "object" }] };
    assert.deepEqual(schemaToV2(both), { allOf: [{ $ref: "#/definitions/a.B" }, { type: "object" }] });
  });
});
