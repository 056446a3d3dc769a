import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { promisify } from "node:util";

import {
  buildOpenAPIV3Document,
  buildOpenAPIV3Index,
  builtinSchemas,
  customResourceSchemaName,
  groupVersionPath,
  hash,
  type OpenAPIV3Document,
  type ResourceDescription,
  type Schema,
} from "./openapi.ts";

const configMaps: ResourceDescription = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  listKind: "ConfigMapList",
  plural: "configmaps",
  namespaced: true,
  subresources: [],
  schemaName: "io.k8s.api.core.v1.ConfigMap",
};

const namespaces: ResourceDescription = {
  group: "",
  version: "v1",
  kind: "Namespace",
  listKind: "NamespaceList",
  plural: "namespaces",
  namespaced: false,
  subresources: ["status", "finalize"],
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  schemaName: "io.k8s.api.core.v1.Namespace",
};

const services: ResourceDescription = {
  group: "",
  version: "v1",
  kind: "Service",
  listKind: "ServiceList",
  plural: "services",
  namespaced: true,
  subresources: ["status"],
  schemaName: "io.k8s.api.core.v1.Service",
};

const crontabSchema: Schema = {
  type: "object",
  properties: {
    metadata: { type: "object", properties: { name: { type: "string", maxLength: 20 } } },
    spec: {
      type: "object",
      description: "CronTabSpec is what the user wants.",
      properties: {
        cronSpec: { type: "string", description: "The cron schedule." },
        replicas: { type: "integer" },
        port: { "x-kubernetes-int-or-string": true },
        template: {
          type: "object",
          "x-kubernetes-embedded-resource": true,
          "x-kubernetes-preserve-unknown-fields": true,
        },
      },
    },
    status: { type: "object", properties: { replicas: { type: "integer" } } },
  },
};

const crontabs: ResourceDescription = {
  group: "stable.example.com",
  version: "v1",
  kind: "CronTab",
  listKind: "CronTabList",
  plural: "crontabs",
  namespaced: true,
  subresources: ["status", "scale"],
  schema: crontabSchema,
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every `$ref` in a document (skipping property names, which may be "$ref" in JSONSchemaProps). */
function refs(node: unknown, into: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, into);
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") into.push(v);
      else if (k === "properties" && isObject(v)) for (const p of Object.values(v)) refs(p, into);
      else if (k !== "default" && k !== "enum" && k !== "example") refs(v, into);
    }
  }
  return into;
}

function assertRefsResolve(doc: OpenAPIV3Document): void {
  const all = refs(doc);
  assert.ok(all.length > 0);
  for (const r of all) {
    assert.match(r, /^#\/components\/schemas\//);
    const name = r.slice("#/components/schemas/".length);
    assert.ok(doc.components.schemas[name] !== undefined, `unresolved ${r}`);
  }
}

function op(doc: OpenAPIV3Document, path: string, method: string): Record<string, unknown> {
  const item = doc.paths[path];
  assert.ok(item !== undefined, `no path ${path}; have ${Object.keys(doc.paths).join(", ")}`);
  const operation = item[method];
  assert.ok(isObject(operation), `no ${method} on ${path}`);
  return operation;
}

function paramNames(operation: Record<string, unknown>): string[] {
  const params = operation["parameters"];
  return Array.isArray(params) ? params.map((p: unknown) => (isObject(p) ? String(p["name"]) : "")) : [];
}

function schemaAt(doc: OpenAPIV3Document, name: string): Record<string, unknown> {
  const s = doc.components.schemas[name];
  assert.ok(isObject(s), `no schema ${name}`);
  return s;
}

describe("builtin schemas", () => {
  test("come from upstream with descriptions and x-kubernetes extensions", () => {
    const cm = builtinSchemas["io.k8s.api.core.v1.ConfigMap"];
    assert.ok(isObject(cm));
    assert.deepEqual(cm["x-kubernetes-group-version-kind"], [
      { group: "", kind: "ConfigMap", version: "v1" },
    ]);
    const props = cm["properties"];
    assert.ok(isObject(props) && isObject(props["data"]));
    assert.match(String(props["data"]["description"]), /^Data contains the configuration data\./);

    const meta = builtinSchemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"];
    assert.ok(isObject(meta) && isObject(meta["properties"]));
    const owners = meta["properties"]["ownerReferences"];
    assert.ok(isObject(owners));
    assert.equal(owners["x-kubernetes-patch-merge-key"], "uid");
    assert.equal(owners["x-kubernetes-patch-strategy"], "merge");

    const spec = builtinSchemas["io.k8s.api.core.v1.ServiceSpec"];
    assert.ok(isObject(spec) && isObject(spec["properties"]));
    const ports = spec["properties"]["ports"];
    assert.ok(isObject(ports));
    assert.equal(ports["x-kubernetes-list-type"], "map");
    assert.deepEqual(ports["x-kubernetes-list-map-keys"], ["port", "protocol"]);
    assert.equal(ports["x-kubernetes-patch-merge-key"], "port");
  });

  test("refer only to schemas they contain, in OpenAPI v3 form", () => {
    for (const [name, schema] of Object.entries(builtinSchemas)) {
      for (const r of refs(schema)) {
        assert.match(r, /^#\/components\/schemas\//, `${name}: ${r}`);
        assert.ok(builtinSchemas[r.slice("#/components/schemas/".length)] !== undefined, `${name}: ${r}`);
      }
    }
  });
});

describe("buildOpenAPIV3Index", () => {
  test("maps each group-version to its URL with the document hash, keys sorted", () => {
    const index = buildOpenAPIV3Index([
      { path: "apis/rbac.authorization.k8s.io/v1", etag: "ABC" },
      { path: "api/v1", etag: "0F1E" },
    ]);
    assert.deepEqual(index, {
      paths: {
        "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=0F1E" },
        "apis/rbac.authorization.k8s.io/v1": {
          serverRelativeURL: "/openapi/v3/apis/rbac.authorization.k8s.io/v1?hash=ABC",
        },
      },
    });
    assert.deepEqual(Object.keys(index.paths), ["api/v1", "apis/rbac.authorization.k8s.io/v1"]);
  });

  test("hash is kube-openapi's ETag: upper-case hex SHA-512 of the JSON bytes", () => {
    const doc = { openapi: "3.0.0", paths: {} };
    const want = createHash("sha512").update(JSON.stringify(doc)).digest("hex").toUpperCase();
    assert.equal(hash(doc), want);
    assert.equal(hash(JSON.stringify(doc)), want);
    assert.match(want, /^[0-9A-F]{128}$/);
  });

  test("groupVersionPath", () => {
    assert.equal(groupVersionPath({ group: "", version: "v1" }), "api/v1");
    assert.equal(groupVersionPath({ group: "apps", version: "v1" }), "apis/apps/v1");
  });
});

describe("buildOpenAPIV3Document for core/v1", () => {
  const doc = buildOpenAPIV3Document({ group: "", version: "v1" }, [configMaps, namespaces, services]);

  test("is an OpenAPI 3.0.0 document like kube-apiserver's", () => {
    assert.equal(doc.openapi, "3.0.0");
    assert.deepEqual(doc.info, { title: "Kubernetes", version: "unversioned" });
    assert.ok(doc.components.securitySchemes?.["BearerToken"] !== undefined);
    assert.deepEqual(Object.keys(doc), ["components", "info", "openapi", "paths"]);
  });

  test("PATCH declares fieldValidation, the GVK and kube's patch content types", () => {
    const patch = op(doc, "/api/v1/namespaces/{namespace}/configmaps/{name}", "patch");
    assert.equal(patch["operationId"], "patchCoreV1NamespacedConfigMap");
    assert.equal(patch["description"], "partially update the specified ConfigMap");
    assert.equal(patch["x-kubernetes-action"], "patch");
    assert.deepEqual(patch["x-kubernetes-group-version-kind"], {
      group: "",
      kind: "ConfigMap",
      version: "v1",
    });
    assert.deepEqual(patch["tags"], ["core_v1"]);
    assert.deepEqual(paramNames(patch), ["dryRun", "fieldManager", "fieldValidation", "force"]);
    const params = patch["parameters"] as Record<string, unknown>[];
    assert.ok(params.every((p) => p["in"] === "query"));
    const body = patch["requestBody"];
    assert.ok(isObject(body) && isObject(body["content"]));
    assert.deepEqual(Object.keys(body["content"]), [
      "application/apply-patch+yaml",
      "application/json-patch+json",
      "application/merge-patch+json",
      "application/strategic-merge-patch+json",
    ]);
    assert.equal(body["required"], true);
    const responses = patch["responses"];
    assert.ok(isObject(responses));
    assert.deepEqual(Object.keys(responses), ["200", "201", "401"]);
  });

  test("collection and item paths carry kube's operations and parameters", () => {
    const collection = "/api/v1/namespaces/{namespace}/configmaps";
    const list = op(doc, collection, "get");
    assert.equal(list["operationId"], "listCoreV1NamespacedConfigMap");
    assert.equal(list["description"], "list or watch objects of kind ConfigMap");
    assert.equal(list["x-kubernetes-action"], "list");
    assert.deepEqual(paramNames(list), [
      "allowWatchBookmarks",
      "continue",
      "fieldSelector",
      "labelSelector",
      "limit",
      "resourceVersion",
      "resourceVersionMatch",
      "sendInitialEvents",
      "timeoutSeconds",
      "watch",
    ]);
    const listContent = ((list["responses"] as Record<string, Record<string, unknown>>)["200"] ?? {})[
      "content"
    ];
    assert.ok(isObject(listContent));
    assert.ok("application/json;stream=watch" in listContent);

    const create = op(doc, collection, "post");
    assert.equal(create["operationId"], "createCoreV1NamespacedConfigMap");
    assert.equal(create["description"], "create a ConfigMap");
    assert.equal(create["x-kubernetes-action"], "post");
    assert.deepEqual(paramNames(create), ["dryRun", "fieldManager", "fieldValidation"]);

    const deleteCollection = op(doc, collection, "delete");
    assert.equal(deleteCollection["operationId"], "deleteCoreV1CollectionNamespacedConfigMap");
    assert.equal(deleteCollection["x-kubernetes-action"], "deletecollection");

    const pathParams = doc.paths[collection]?.["parameters"] as Record<string, unknown>[];
    assert.deepEqual(
      pathParams.map((p) => p["name"]),
      ["namespace", "pretty"],
    );

    const item = "/api/v1/namespaces/{namespace}/configmaps/{name}";
    assert.equal(op(doc, item, "get")["operationId"], "readCoreV1NamespacedConfigMap");
    assert.equal(op(doc, item, "get")["parameters"], undefined);
    const put = op(doc, item, "put");
    assert.equal(put["operationId"], "replaceCoreV1NamespacedConfigMap");
    assert.deepEqual(paramNames(put), ["dryRun", "fieldManager", "fieldValidation"]);
    assert.equal(op(doc, item, "delete")["operationId"], "deleteCoreV1NamespacedConfigMap");

    const all = op(doc, "/api/v1/configmaps", "get");
    assert.equal(all["operationId"], "listCoreV1ConfigMapForAllNamespaces");
    assert.equal(all["parameters"], undefined, "a single operation's parameters sit on the path");
  });

  test("cluster-scoped kinds, subresources and kinds that delete with the object", () => {
    assert.equal(op(doc, "/api/v1/namespaces", "post")["operationId"], "createCoreV1Namespace");
    assert.equal(doc.paths["/api/v1/namespaces"]?.["delete"], undefined, "no deletecollection verb");
    assert.equal(
      op(doc, "/api/v1/namespaces/{name}/status", "patch")["operationId"],
      "patchCoreV1NamespaceStatus",
    );
    assert.equal(
      op(doc, "/api/v1/namespaces/{name}/status", "get")["description"],
      "read status of the specified Namespace",
    );
    assert.equal(
      op(doc, "/api/v1/namespaces/{name}/finalize", "put")["operationId"],
      "replaceCoreV1NamespaceFinalize",
    );
    const del = op(doc, "/api/v1/namespaces/{namespace}/services/{name}", "delete");
    assert.deepEqual(refs(del["responses"]), [
      "#/components/schemas/io.k8s.api.core.v1.Service",
      "#/components/schemas/io.k8s.api.core.v1.Service",
      "#/components/schemas/io.k8s.api.core.v1.Service",
      "#/components/schemas/io.k8s.api.core.v1.Service",
      "#/components/schemas/io.k8s.api.core.v1.Service",
      "#/components/schemas/io.k8s.api.core.v1.Service",
    ]);
  });

  test("components hold every schema referenced, transitively, and carry GVKs", () => {
    assertRefsResolve(doc);
    assert.deepEqual(schemaAt(doc, "io.k8s.api.core.v1.ConfigMapList")["x-kubernetes-group-version-kind"], [
      { group: "", kind: "ConfigMapList", version: "v1" },
    ]);
    for (const name of [
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
      "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
      "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
      "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
      "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
      "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    ]) {
      schemaAt(doc, name);
    }
    assert.equal(doc.components.schemas["io.k8s.api.core.v1.Pod"], undefined, "only what is referenced");
  });

  test("is deterministic", () => {
    const again = buildOpenAPIV3Document({ group: "", version: "v1" }, [configMaps, namespaces, services]);
    assert.equal(JSON.stringify(again), JSON.stringify(doc));
    assert.equal(hash(again), hash(doc));
  });

  test("create-only kinds get only POST", () => {
    const reviews = buildOpenAPIV3Document({ group: "authentication.k8s.io", version: "v1" }, [
      {
        group: "authentication.k8s.io",
        version: "v1",
        kind: "TokenReview",
        listKind: "TokenReviewList",
        plural: "tokenreviews",
        namespaced: false,
        subresources: [],
        verbs: ["create"],
        schemaName: "io.k8s.api.authentication.v1.TokenReview",
      },
    ]);
    assert.deepEqual(Object.keys(reviews.paths), [
      "/apis/authentication.k8s.io/v1/",
      "/apis/authentication.k8s.io/v1/tokenreviews",
    ]);
    const create = op(reviews, "/apis/authentication.k8s.io/v1/tokenreviews", "post");
    assert.equal(create["operationId"], "createAuthenticationV1TokenReview");
    assertRefsResolve(reviews);
  });

  test("a built-in kind the schema source lacks is published schemaless, with its GVK", () => {
    const vap = buildOpenAPIV3Document({ group: "example.k8s.io", version: "v1" }, [
      {
        group: "example.k8s.io",
        version: "v1",
        kind: "Missing",
        listKind: "MissingList",
        plural: "missings",
        namespaced: false,
        subresources: [],
        schemaName: "io.k8s.api.example.v1.Missing",
      },
    ]);
    assert.deepEqual(schemaAt(vap, "io.k8s.api.example.v1.Missing"), {
      type: "object",
      "x-kubernetes-group-version-kind": [{ group: "example.k8s.io", kind: "Missing", version: "v1" }],
    });
    assert.equal(
      op(vap, "/apis/example.k8s.io/v1/missings/{name}", "patch")["operationId"],
      "patchExampleV1Missing",
    );
    assertRefsResolve(vap);
  });
});

describe("buildOpenAPIV3Document for a custom resource", () => {
  const doc = buildOpenAPIV3Document({ group: "stable.example.com", version: "v1" }, [crontabs]);
  const name = customResourceSchemaName("stable.example.com", "v1", "CronTab");

  test("names and wraps the CRD schema as kube's builder does", () => {
    assert.equal(name, "com.example.stable.v1.CronTab");
    assert.deepEqual(doc.info, { title: "Kubernetes CRD Swagger", version: "v0.1.0" });
    assert.equal(doc.components.securitySchemes, undefined);
    const schema = schemaAt(doc, name);
    assert.deepEqual(schema["x-kubernetes-group-version-kind"], [
      { group: "stable.example.com", kind: "CronTab", version: "v1" },
    ]);
    const props = schema["properties"];
    assert.ok(isObject(props));
    assert.deepEqual(props["metadata"], {
      allOf: [{ $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" }],
      description:
        "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    });
    assert.ok(isObject(props["apiVersion"]) && props["apiVersion"]["type"] === "string");
    assert.ok(isObject(props["kind"]) && props["kind"]["type"] === "string");
    const spec = props["spec"];
    assert.ok(isObject(spec) && isObject(spec["properties"]));
    const port = spec["properties"]["port"];
    assert.deepEqual(isObject(port) ? port["anyOf"] : undefined, [{ type: "integer" }, { type: "string" }]);
    const template = spec["properties"]["template"];
    assert.ok(isObject(template) && isObject(template["properties"]));
    assert.deepEqual(Object.keys(template["properties"]), ["apiVersion", "kind", "metadata"]);
    assert.deepEqual(template["required"], ["kind", "apiVersion"]);
    assert.deepEqual(crontabSchema["properties"], crontabs.schema?.["properties"], "input untouched");
  });

  test("defines the List kind", () => {
    const list = schemaAt(doc, "com.example.stable.v1.CronTabList");
    assert.deepEqual(list["x-kubernetes-group-version-kind"], [
      { group: "stable.example.com", kind: "CronTabList", version: "v1" },
    ]);
    assert.deepEqual(list["required"], ["items"]);
    assert.equal(list["description"], "CronTabList is a list of CronTab");
  });

  test("operations are the CRD builder's: no strategic merge, JSON and YAML only", () => {
    const item = "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}";
    const patch = op(doc, item, "patch");
    assert.equal(patch["operationId"], "patchStableExampleComV1NamespacedCronTab");
    assert.deepEqual(paramNames(patch), ["dryRun", "fieldManager", "fieldValidation", "force"]);
    const body = patch["requestBody"];
    assert.ok(isObject(body) && isObject(body["content"]));
    assert.deepEqual(Object.keys(body["content"]), [
      "application/apply-patch+yaml",
      "application/json-patch+json",
      "application/merge-patch+json",
    ]);
    assert.deepEqual(Object.keys(patch["responses"] as object), ["200", "401"]);
    const get = op(doc, item, "get");
    assert.deepEqual(paramNames(get), ["resourceVersion"]);
    const ok = (get["responses"] as Record<string, Record<string, unknown>>)["200"]?.["content"];
    assert.deepEqual(Object.keys(ok as object), ["application/json", "application/yaml"]);

    const collection = "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs";
    assert.equal(op(doc, collection, "get")["description"], "list objects of kind CronTab");
    const deleteCollection = op(doc, collection, "delete");
    assert.equal(deleteCollection["requestBody"], undefined);
    assert.ok(paramNames(deleteCollection).includes("watch"), "ListOptions");
    const create = op(doc, collection, "post");
    const createBody = create["requestBody"];
    assert.ok(isObject(createBody) && isObject(createBody["content"]));
    assert.deepEqual(Object.keys(createBody["content"]), ["application/json", "application/yaml"]);

    const scale = op(doc, `${item}/scale`, "get");
    assert.equal(scale["operationId"], "readStableExampleComV1NamespacedCronTabScale");
    assert.deepEqual(refs(scale["responses"])[0], "#/components/schemas/io.k8s.api.autoscaling.v1.Scale");
    assert.equal(
      op(doc, `${item}/status`, "put")["operationId"],
      "replaceStableExampleComV1NamespacedCronTabStatus",
    );
    assert.equal(
      op(doc, "/apis/stable.example.com/v1/crontabs", "get")["operationId"],
      "listStableExampleComV1CronTabForAllNamespaces",
    );
    assert.equal(doc.paths["/apis/stable.example.com/v1/"], undefined);
    assertRefsResolve(doc);
  });

  test("a schemaless CRD is an object with its GVK", () => {
    const { schema: _schema, ...schemaless } = crontabs;
    const d = buildOpenAPIV3Document({ group: "stable.example.com", version: "v1" }, [schemaless]);
    assert.deepEqual(schemaAt(d, name), {
      type: "object",
      "x-kubernetes-group-version-kind": [{ group: "stable.example.com", kind: "CronTab", version: "v1" }],
    });
  });
});

// ---- the real kubectl against a tiny HTTPS server serving these documents -------------------

const KUBECTL = "/usr/bin/kubectl";
const run = promisify(execFile);

function whichOpenssl(): boolean {
  return ["/usr/bin/openssl", "/bin/openssl"].some((p) => existsSync(p));
}

describe(
  "kubectl v1.32 explain against /openapi/v3",
  { skip: !existsSync(KUBECTL) || !whichOpenssl() },
  () => {
    let dir = "";
    let server: Server | undefined;
    let kubeconfig = "";
    const requested: string[] = [];

    const coreDoc = JSON.stringify(buildOpenAPIV3Document({ group: "", version: "v1" }, [configMaps]));
    const crdDoc = JSON.stringify(
      buildOpenAPIV3Document({ group: "stable.example.com", version: "v1" }, [crontabs]),
    );
    const documents: Record<string, string> = { "api/v1": coreDoc, "apis/stable.example.com/v1": crdDoc };
    const index = JSON.stringify(
      buildOpenAPIV3Index(Object.entries(documents).map(([path, body]) => ({ path, etag: hash(body) }))),
    );

    const resourceList = (groupVersion: string, resources: object[]): string =>
      JSON.stringify({ kind: "APIResourceList", apiVersion: "v1", groupVersion, resources });
    const verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    const routes: Record<string, string> = {
      "/version": JSON.stringify({
        major: "1",
        minor: "32",
        gitVersion: "v1.32.0",
        gitCommit: "0000000000000000000000000000000000000000",
        gitTreeState: "clean",
        buildDate: "2024-12-11T00:00:00Z",
        goVersion: "go1.23.3",
        compiler: "gc",
        platform: "linux/amd64",
      }),
      "/api": JSON.stringify({
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
      }),
      "/api/v1": resourceList("v1", [
        {
          name: "configmaps",
          singularName: "configmap",
          namespaced: true,
          kind: "ConfigMap",
          verbs,
          shortNames: ["cm"],
        },
      ]),
      "/apis": JSON.stringify({
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: [
          {
            name: "stable.example.com",
            versions: [{ groupVersion: "stable.example.com/v1", version: "v1" }],
            preferredVersion: { groupVersion: "stable.example.com/v1", version: "v1" },
          },
        ],
      }),
      "/apis/stable.example.com/v1": resourceList("stable.example.com/v1", [
        { name: "crontabs", singularName: "crontab", namespaced: true, kind: "CronTab", verbs },
      ]),
      "/openapi/v3": index,
      ...Object.fromEntries(Object.entries(documents).map(([path, body]) => [`/openapi/v3/${path}`, body])),
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "openapi-kubectl-"));
      const key = join(dir, "tls.key");
      const cert = join(dir, "tls.crt");
      await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ]);
      server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
        const url = new URL(req.url ?? "/", "https://127.0.0.1");
        requested.push(`${req.method ?? "?"} ${url.pathname}${url.search}`);
        if (req.method === "POST" && url.pathname === "/api/v1/namespaces/default/configmaps") {
          // Echo the object back, as a dry-run create does.
          const chunks: Buffer[] = [];
          req.on("data", (c: Buffer) => chunks.push(c));
          req.on("end", () => {
            res.writeHead(201, { "Content-Type": "application/json" });
            res.end(Buffer.concat(chunks));
          });
          return;
        }
        const body = req.method === "GET" ? routes[url.pathname] : undefined;
        if (body === undefined) {
          res.writeHead(404, { "Content-Type": "application/json" });
          res.end(
            JSON.stringify({
              kind: "Status",
              apiVersion: "v1",
              status: "Failure",
              reason: "NotFound",
              code: 404,
            }),
          );
          return;
        }
        const headers: Record<string, string> = { "Content-Type": "application/json" };
        if (url.pathname.startsWith("/openapi/v3/")) headers["Etag"] = JSON.stringify(hash(body));
        res.writeHead(200, headers);
        res.end(body);
      });
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      kubeconfig = join(dir, "kubeconfig");
      writeFileSync(
        kubeconfig,
        [
          "apiVersion: v1",
          "kind: Config",
          "clusters:",
          "- name: t",
          "  cluster:",
          `    server: https://127.0.0.1:${port}`,
          `    certificate-authority-data: ${readFileSync(cert).toString("base64")}`,
          "users:",
          "- name: u",
          "  user:",
          "    token: test",
          "contexts:",
          "- name: c",
          "  context: {cluster: t, user: u, namespace: default}",
          "current-context: c",
          "",
        ].join("\n"),
      );
    });

    after(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      if (dir !== "") rmSync(dir, { recursive: true, force: true });
    });

    async function kubectl(...args: string[]): Promise<string> {
      const { stdout } = await run(
        KUBECTL,
        ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), ...args],
        { env: { ...process.env, HOME: dir }, timeout: 60_000 },
      );
      return stdout;
    }

    const squash = (s: string): string => s.replace(/\s+/g, " ").trim();

    test("explain configmap.data prints upstream's description", async () => {
      const out = await kubectl("explain", "configmap.data");
      const cm = builtinSchemas["io.k8s.api.core.v1.ConfigMap"];
      const props = isObject(cm) ? cm["properties"] : undefined;
      const data = isObject(props) ? props["data"] : undefined;
      const description = isObject(data) ? String(data["description"]) : "";
      assert.ok(description.length > 0);
      assert.match(out, /KIND:\s+ConfigMap/);
      assert.match(out, /FIELD: data <map\[string\]string>/);
      assert.ok(squash(out).includes(squash(description)), out);
      assert.ok(
        requested.some((r) => r.startsWith("GET /openapi/v3/api/v1?hash=")),
        `kubectl fetched ${requested.join(", ")}`,
      );
    });

    test("create -f has the server validate fields, having found fieldValidation on PATCH", async () => {
      const manifest = join(dir, "cm.yaml");
      writeFileSync(manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\ndata:\n  a: b\n");
      const out = await kubectl("create", "-f", manifest, "--dry-run=server", "-o", "name");
      assert.equal(out.trim(), "configmap/cm1");
      const post = requested.find((r) => r.startsWith("POST /api/v1/namespaces/default/configmaps"));
      assert.ok(post !== undefined, requested.join(", "));
      assert.match(post, /[?&]fieldValidation=Strict(&|$)/);
      assert.match(post, /[?&]dryRun=All(&|$)/);
    });

    test("explain crontab.spec reads the custom resource's document", async () => {
      const out = await kubectl("explain", "crontab.spec");
      assert.match(out, /GROUP:\s+stable\.example\.com/);
      assert.match(out, /KIND:\s+CronTab/);
      assert.ok(squash(out).includes("CronTabSpec is what the user wants."), out);
      assert.match(out, /cronSpec\s+<string>/);
    });
  },
);
