import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRequestInfo } from "./request-info.ts";

const info = (method: string, url: string) => {
  const u = new URL(url, "https://x");
  const r = parseRequestInfo(method, u.pathname, u.searchParams);
  return {
    resourceRequest: r.isResourceRequest,
    verb: r.verb,
    group: r.apiGroup,
    version: r.apiVersion,
    namespace: r.namespace,
    resource: r.resource,
    subresource: r.subresource,
    name: r.name,
  };
};

describe("request info", () => {
  const cases: [string, string, Partial<ReturnType<typeof info>>][] = [
    ["GET", "/api/v1/namespaces", { verb: "list", resource: "namespaces", namespace: "" }],
    [
      "GET",
      "/api/v1/namespaces/other",
      { verb: "get", resource: "namespaces", name: "other", namespace: "other" },
    ],
    [
      "GET",
      "/api/v1/namespaces/other/pods/foo",
      { verb: "get", resource: "pods", name: "foo", namespace: "other" },
    ],
    ["GET", "/api/v1/namespaces/other/pods", { verb: "list", resource: "pods", namespace: "other" }],
    ["GET", "/api/v1/namespaces/other/pods?watch=true", { verb: "watch", resource: "pods" }],
    ["GET", "/api/v1/watch/namespaces/other/pods", { verb: "watch", resource: "pods", namespace: "other" }],
    ["GET", "/api/v1/pods", { verb: "list", resource: "pods", namespace: "" }],
    ["POST", "/api/v1/namespaces/other/pods", { verb: "create", resource: "pods" }],
    [
      "PUT",
      "/api/v1/namespaces/other/pods/foo/status",
      { verb: "update", subresource: "status", name: "foo" },
    ],
    ["PATCH", "/api/v1/namespaces/other/pods/foo", { verb: "patch", name: "foo" }],
    ["DELETE", "/api/v1/namespaces/other/pods/foo", { verb: "delete", name: "foo" }],
    ["DELETE", "/api/v1/namespaces/other/pods", { verb: "deletecollection", resource: "pods" }],
    [
      "PUT",
      "/api/v1/namespaces/ns/finalize",
      { verb: "update", resource: "namespaces", name: "ns", subresource: "finalize" },
    ],
    [
      "GET",
      "/api/v1/namespaces/ns/status",
      { verb: "get", resource: "namespaces", name: "ns", subresource: "status" },
    ],
    [
      "POST",
      "/api/v1/namespaces/ns/serviceaccounts/default/token",
      { verb: "create", resource: "serviceaccounts", subresource: "token" },
    ],
    [
      "GET",
      "/apis/rbac.authorization.k8s.io/v1/clusterroles",
      { verb: "list", group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles" },
    ],
    [
      "GET",
      "/apis/apps/v1/namespaces/ns/deployments/d/scale",
      { group: "apps", name: "d", subresource: "scale", namespace: "ns" },
    ],
    [
      "GET",
      "/api/v1/namespaces/ns/configmaps?fieldSelector=metadata.name%3Dfoo",
      { verb: "list", name: "foo" },
    ],
    [
      "GET",
      "/api/v1/namespaces/ns/configmaps?watch=1&fieldSelector=metadata.name%3D%3Dbar",
      { verb: "watch", name: "bar" },
    ],
  ];
  for (const [method, url, want] of cases) {
    test(`${method} ${url}`, () => {
      const got = info(method, url);
      assert.equal(got.resourceRequest, true);
      for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, k);
    });
  }

  test("non-resource requests keep the lowercase method as verb", () => {
    for (const url of [
      "/healthz",
      "/version",
      "/api",
      "/api/v1",
      "/apis",
      "/apis/apps",
      "/apis/apps/v1",
      "/openapi/v3",
    ]) {
      const got = info("GET", url);
      assert.equal(got.resourceRequest, false, url);
      assert.equal(got.verb, "get");
    }
    assert.equal(info("POST", "/logs").verb, "post");
  });
});
