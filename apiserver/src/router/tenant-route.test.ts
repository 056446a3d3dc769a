// The router's tenant rules: path and host parsing, the accepted encodings, and the paths
// refused before any tenant is looked up.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError } from "../apierrors/status.ts";
import { routeRequest, tenantFromHost } from "./tenant-route.ts";

/** The Status code and reason a route is refused with. */
function refused(url: string, host?: string, base?: string): { code: number; reason: string } {
  try {
    routeRequest(url, host, base);
  } catch (err) {
    assert.ok(isStatusError(err), `a StatusError, not ${String(err)}`);
    return { code: err.code, reason: err.reason };
  }
  assert.fail(`${url} was accepted`);
}

describe("tenant from the path", () => {
  test("an organization, the rest of the path and the query", () => {
    assert.deepEqual(routeRequest("/clusters/a/api/v1/namespaces?watch=1&x=%2F", undefined), {
      tenant: "a",
      path: "/api/v1/namespaces",
      search: "?watch=1&x=%2F",
      upstreamPath: "/clusters/a/api/v1/namespaces?watch=1&x=%2F",
    });
  });

  test("a project, with its colon raw or %3A-encoded in either case", () => {
    for (const seg of ["a:x", "a%3Ax", "a%3ax"]) {
      const r = routeRequest(`/clusters/${seg}/api`, undefined);
      assert.equal(r.tenant, "a:x");
      assert.equal(r.upstreamPath, "/clusters/a:x/api");
    }
  });

  test("the tenant alone, with or without a trailing slash, is the tenant's root", () => {
    assert.equal(routeRequest("/clusters/ab", undefined).upstreamPath, "/clusters/ab/");
    assert.equal(routeRequest("/clusters/ab/", undefined).upstreamPath, "/clusters/ab/");
  });

  test("no /clusters prefix: the root tenant, path kept", () => {
    const r = routeRequest("/api/v1/pods", undefined);
    assert.equal(r.tenant, "root");
    assert.equal(r.upstreamPath, "/clusters/root/api/v1/pods");
    assert.equal(routeRequest("/clustersx/a", undefined).upstreamPath, "/clusters/root/clustersx/a");
  });

  test("a path whose resource segment is 'clusters' is not a tenant path", () => {
    assert.equal(routeRequest("/apis/x.io/v1/clusters/a", undefined).tenant, "root");
  });

  test("names no tenant can have: 404 NotFound", () => {
    for (const url of [
      "/clusters",
      "/clusters/",
      "/clusters/A/api",
      "/clusters/a:b:c/api",
      "/clusters/a:/api",
      "/clusters/:a/api",
      "/clusters/-a/api",
      "/clusters/a%20b/api",
      "/clusters/a%3A%3Ab/api",
      "/clusters/%61/api",
      `/clusters/${"a".repeat(64)}/api`,
    ]) {
      assert.deepEqual(refused(url), { code: 404, reason: "NotFound" }, url);
    }
  });

  test("dot segments, encoded slashes and backslashes, empty segments: 400 BadRequest", () => {
    for (const url of [
      "/clusters/../api",
      "/clusters/a/../ab/api",
      "/clusters/a/%2e%2e/ab/api",
      "/clusters/a/.%2E/api",
      "/clusters/a/./api",
      "/clusters/a%2Fb/api",
      "/clusters/a%2fb/api",
      "/clusters/a/api%2F..%2Fab",
      "/clusters/a%5Cb/api",
      "/clusters/a\\b/api",
      "/clusters//a/api",
      "/clusters/a//api",
      "//clusters/a/api",
      "/api//v1",
      "https://evil/clusters/a/api",
      "*",
    ]) {
      assert.deepEqual(refused(url), { code: 400, reason: "BadRequest" }, url);
    }
  });

  test("a dot inside a segment is fine (names like a.b)", () => {
    assert.equal(
      routeRequest("/clusters/a/api/v1/namespaces/n/configmaps/a..b", undefined).path,
      "/api/v1/namespaces/n/configmaps/a..b",
    );
  });
});

describe("tenant from the host", () => {
  const base = "mp.example.com";

  test("<org>.<base> and <org>.<project>.<base>, any case, port and trailing dot ignored", () => {
    assert.equal(tenantFromHost("a.mp.example.com", base), "a");
    assert.equal(tenantFromHost("A.MP.example.com:8443", base), "a");
    assert.equal(tenantFromHost("a.x.mp.example.com.", base), "a:x");
    assert.equal(routeRequest("/api", "a.x.mp.example.com", base).upstreamPath, "/clusters/a:x/api");
  });

  test("hosts that name no tenant: the base itself, other domains, IPs, no base configured", () => {
    assert.equal(tenantFromHost("mp.example.com", base), undefined);
    assert.equal(tenantFromHost("a.mp.example.org", base), undefined);
    assert.equal(tenantFromHost("amp.example.com", base), undefined);
    assert.equal(tenantFromHost("127.0.0.1:8443", base), undefined);
    assert.equal(tenantFromHost("[::1]:8443", base), undefined);
    assert.equal(tenantFromHost("a.mp.example.com", undefined), undefined);
    assert.equal(routeRequest("/api", "mp.example.com", base).tenant, "root");
  });

  test("three labels or a bad label under the base: 404", () => {
    assert.deepEqual(refused("/api", "a.b.c.mp.example.com", base), { code: 404, reason: "NotFound" });
    assert.deepEqual(refused("/api", "a_b.mp.example.com", base), { code: 404, reason: "NotFound" });
  });

  test("host and path naming the same tenant agree; different ones are 400", () => {
    assert.equal(routeRequest("/clusters/a/api", "a.mp.example.com", base).tenant, "a");
    assert.equal(routeRequest("/clusters/a%3Ax/api", "a.x.mp.example.com", base).tenant, "a:x");
    assert.deepEqual(refused("/clusters/ab/api", "a.mp.example.com", base), {
      code: 400,
      reason: "BadRequest",
    });
    assert.deepEqual(refused("/clusters/a:x/api", "a.mp.example.com", base), {
      code: 400,
      reason: "BadRequest",
    });
  });
});
