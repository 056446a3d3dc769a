import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { isStatusError } from "../apierrors/status.ts";
import { builtinResources, type ResourceDef } from "../registry/resources.ts";
import { ResourceIndex } from "../tenancy/instance.ts";
import {
  openAPIV2ProtobufContentType,
  serveOpenAPI,
  type OpenAPIRequestHeaders,
  type OpenAPIResponse,
} from "./openapi.handler.ts";
import { decodeOpenAPIV2Protobuf } from "./openapi/openapi-v2.encoder.ts";
import { hash } from "./openapi/openapi.ts";

const none = new URLSearchParams();

/** A custom resource's def as the CRD controller makes it (only what OpenAPI reads matters). */
function customResource(group: string, description: string): ResourceDef {
  const { schemaName: _builtinOnly, ...template } = builtinResources.find((d) => d.kind === "ConfigMap")!;
  return {
    ...template,
    group,
    version: "v1",
    kind: "Thing",
    listKind: "ThingList",
    plural: "things",
    singular: "thing",
    schema: { type: "object", properties: { spec: { type: "string", description } } },
    crd: { uid: `uid-${group}`, storageVersion: "v1" },
  };
}

function serve(path: string, request: OpenAPIRequestHeaders, index: ResourceIndex, query = none) {
  return serveOpenAPI(path, query, request, index);
}

/** A JSON answer's body. */
function text(res: OpenAPIResponse): string {
  assert.equal(typeof res.body, "string");
  return res.body as string;
}

const protobufType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

describe("/openapi/v2", () => {
  const index = new ResourceIndex(builtinResources);

  test("answers JSON with kube-openapi's ETag and Vary: Accept", () => {
    const res = serve("/openapi/v2", {}, index);
    assert.equal(res.status, 200);
    assert.equal(res.headers["Content-Type"], "application/json");
    assert.equal(res.headers["Vary"], "Accept");
    assert.equal(res.headers["ETag"], `"${hash(text(res))}"`);
    assert.match(res.headers["ETag"] ?? "", /^"[0-9A-F]{128}"$/);
    assert.ok(res.headers["Last-Modified"]?.endsWith(" GMT"));
    const doc = JSON.parse(text(res)) as { swagger: string; paths: Record<string, unknown> };
    assert.equal(doc.swagger, "2.0");
    assert.ok(doc.paths["/api/v1/namespaces/{namespace}/configmaps"]);
  });

  test("conditional GETs: If-None-Match (lists, weak tags, *) and If-Modified-Since answer 304", () => {
    const { headers, body } = serve("/openapi/v2", {}, index);
    const etag = headers["ETag"]!;
    for (const ifNoneMatch of [etag, `"other", ${etag}`, `W/${etag}`, "*"]) {
      const res = serve("/openapi/v2", { ifNoneMatch }, index);
      assert.equal(res.status, 304, ifNoneMatch);
      assert.equal(res.body, "");
      assert.equal(res.headers["ETag"], etag);
      assert.equal(res.headers["Last-Modified"], undefined);
    }
    const changed = serve("/openapi/v2", { ifNoneMatch: '"0F"' }, index);
    assert.equal(changed.status, 200);
    assert.equal(changed.body, body);
    // If-None-Match wins over If-Modified-Since, as in net/http.
    const later = new Date(Date.now() + 60_000).toUTCString();
    assert.equal(serve("/openapi/v2", { ifNoneMatch: '"0F"', ifModifiedSince: later }, index).status, 200);
    assert.equal(serve("/openapi/v2", { ifModifiedSince: later }, index).status, 304);
    assert.equal(
      serve("/openapi/v2", { ifModifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT" }, index).status,
      200,
    );
  });

  test("content negotiation: the first clause (best first) that names JSON or protobuf wins", () => {
    for (const [accept, contentType] of [
      ["application/json", "application/json"],
      ["application/json, */*", "application/json"],
      ["*/*", "application/json"],
      ["application/*", "application/json"],
      [undefined, "application/json"],
      [`${protobufType}, application/json`, openAPIV2ProtobufContentType],
      [protobufType, openAPIV2ProtobufContentType],
      [openAPIV2ProtobufContentType, openAPIV2ProtobufContentType],
      [`${openAPIV2ProtobufContentType};q=0.9,application/json;q=0.8`, openAPIV2ProtobufContentType],
      [`application/json;q=0.5, ${protobufType}`, openAPIV2ProtobufContentType],
      [`*/*, ${protobufType}`, openAPIV2ProtobufContentType],
      [`text/html, ${protobufType};q=0.5`, openAPIV2ProtobufContentType],
    ] as const) {
      const res = serve("/openapi/v2", { accept }, index);
      assert.equal(res.status, 200, accept);
      assert.equal(res.headers["Content-Type"], contentType, accept);
      assert.equal(res.headers["Vary"], "Accept", accept);
    }
    for (const accept of ["text/html", "application/json;q=0", "application/yaml"]) {
      assert.throws(
        () => serve("/openapi/v2", { accept }, index),
        (err: unknown) =>
          isStatusError(err) && err.status.code === 406 && err.status.reason === "NotAcceptable",
        accept,
      );
    }
  });

  test("protobuf: gnostic's Document, with the JSON's ETag, Last-Modified and 304s", () => {
    const json = serve("/openapi/v2", {}, index);
    const res = serve("/openapi/v2", { accept: protobufType }, index);
    assert.ok(res.body instanceof Uint8Array);
    assert.equal(res.headers["ETag"], json.headers["ETag"]);
    assert.equal(res.headers["Last-Modified"], json.headers["Last-Modified"]);
    const doc = decodeOpenAPIV2Protobuf(res.body) as { swagger: string; info: { title: string } };
    assert.equal(doc.swagger, "2.0");
    assert.equal(doc.info.title, "Kubernetes");
    // Encoded once per document: the same bytes again.
    assert.equal(serve("/openapi/v2", { accept: protobufType }, index).body, res.body);

    const notModified = serve(
      "/openapi/v2",
      { accept: protobufType, ifNoneMatch: res.headers["ETag"] },
      index,
    );
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, "");
    assert.equal(notModified.headers["Content-Type"], openAPIV2ProtobufContentType);
    assert.equal(serve("/openapi/v2", { accept: protobufType, ifNoneMatch: '"0F"' }, index).status, 200);
  });

  test("is cached per resource index and rebuilt only when the custom resources change", (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: Date.parse("2026-01-01T00:00:00Z") });
    const one = new ResourceIndex([...builtinResources, customResource("one.example.com", "A")]);
    const first = serve("/openapi/v2", {}, one);
    assert.equal(first.headers["Last-Modified"], "Thu, 01 Jan 2026 00:00:00 GMT");
    assert.match(text(first), /"com\.example\.one\.v1\.Thing"/);

    t.mock.timers.tick(5_000);
    // A new index (a CRD changed) publishing the same custom resources: the same document.
    const same = new ResourceIndex([...builtinResources, customResource("one.example.com", "A")]);
    const again = serve("/openapi/v2", {}, same);
    assert.equal(again.headers["ETag"], first.headers["ETag"]);
    assert.equal(again.headers["Last-Modified"], "Thu, 01 Jan 2026 00:00:00 GMT");

    // A changed schema: a new document.
    const changed = new ResourceIndex([...builtinResources, customResource("one.example.com", "B")]);
    const rebuilt = serve("/openapi/v2", {}, changed);
    assert.notEqual(rebuilt.headers["ETag"], first.headers["ETag"]);
    assert.equal(rebuilt.headers["Last-Modified"], "Thu, 01 Jan 2026 00:00:05 GMT");
  });
});

describe("/openapi/v3", () => {
  const index = new ResourceIndex(builtinResources);

  test("the index and each document answer 304 to a matching If-None-Match", () => {
    const discovery = serve("/openapi/v3", {}, index);
    assert.equal(discovery.status, 200);
    assert.equal(serve("/openapi/v3", { ifNoneMatch: discovery.headers["ETag"] }, index).status, 304);
    const doc = serve("/openapi/v3/api/v1", {}, index);
    assert.equal(doc.headers["Cache-Control"], "no-cache, private");
    assert.equal(serve("/openapi/v3/api/v1", { ifNoneMatch: `W/${doc.headers["ETag"]}` }, index).status, 304);
  });

  test("a URL with the current hash is immutable; an outdated hash is redirected", () => {
    const paths = (
      JSON.parse(text(serve("/openapi/v3", {}, index))) as {
        paths: Record<string, { serverRelativeURL: string }>;
      }
    ).paths;
    const url = new URL(paths["apis/rbac.authorization.k8s.io/v1"]!.serverRelativeURL, "https://x");
    const current = serve(url.pathname, {}, index, url.searchParams);
    assert.equal(current.status, 200);
    assert.equal(current.headers["Cache-Control"], "public, immutable");
    assert.ok(Date.parse(current.headers["Expires"] ?? "") > Date.now() + 364 * 24 * 3600 * 1000);
    const etag = url.searchParams.get("hash")!;
    const stale = serve(url.pathname, {}, index, new URLSearchParams({ hash: "0ABC" }));
    assert.equal(stale.status, 301);
    assert.equal(stale.headers["Location"], `v1?hash=${etag}`);
    // Resolved against the request's URL, the Location keeps a tenant's prefix.
    assert.equal(
      new URL(
        stale.headers["Location"] ?? "",
        "https://h/clusters/t1/openapi/v3/apis/rbac.authorization.k8s.io/v1?hash=0ABC",
      ).pathname,
      "/clusters/t1/openapi/v3/apis/rbac.authorization.k8s.io/v1",
    );
  });

  test("an unknown group-version is a 404", () => {
    assert.throws(
      () => serve("/openapi/v3/apis/nope.example.com/v1", {}, index),
      (err: unknown) => isStatusError(err) && err.status.code === 404,
    );
  });
});
