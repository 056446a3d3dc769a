import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStorageError } from "./errors.ts";
import { objectKey, prefixEnd, resourcePrefix, tenantPrefix, type TenantRef } from "./keys.ts";

const acme: TenantRef = { uid: "7f0c1e4a-0000-4000-8000-000000000001" };
const configmaps = { group: "", resource: "configmaps" };

describe("storage keys", () => {
  test("lay out tenant first, core group written core", () => {
    assert.equal(
      objectKey(acme, configmaps, "default", "app"),
      `/multiplane/tenants/${acme.uid}/core/configmaps/default/app`,
    );
    assert.equal(
      objectKey(
        acme,
        { group: "rbac.authorization.k8s.io", resource: "clusterroles" },
        undefined,
        "system:admin",
      ),
      `/multiplane/tenants/${acme.uid}/rbac.authorization.k8s.io/clusterroles/system:admin`,
    );
    assert.equal(
      objectKey(acme, configmaps, "ns", "n", "other-root"),
      `/other-root/tenants/${acme.uid}/core/configmaps/ns/n`,
    );
  });

  test("every prefix ends with a slash, so tenant a never matches tenant ab", () => {
    const a = tenantPrefix({ uid: "a" });
    const ab = tenantPrefix({ uid: "ab" });
    assert.ok(a.endsWith("/") && ab.endsWith("/"));
    assert.ok(!ab.startsWith(a));
    assert.ok(resourcePrefix({ uid: "a" }, configmaps).endsWith("/"));
    assert.ok(resourcePrefix({ uid: "a" }, configmaps, "ns").endsWith("/ns/"));
  });

  test("throws without a tenant", () => {
    for (const tenant of [undefined, null, { uid: "" }] as unknown as TenantRef[]) {
      assert.throws(
        () => objectKey(tenant, configmaps, "default", "x"),
        (e) => isStorageError(e, "InvalidArgument"),
      );
      assert.throws(
        () => tenantPrefix(tenant),
        (e) => isStorageError(e, "InvalidArgument"),
      );
    }
  });

  test("refuses segments that could escape their place", () => {
    for (const bad of ["", ".", "..", "a/b", "../x", "a%2fb", "a\u0000b", "line\nbreak", "\u007f"]) {
      assert.throws(
        () => objectKey(acme, configmaps, "default", bad),
        (e) => isStorageError(e, "InvalidArgument"),
        bad,
      );
      assert.throws(
        () => objectKey(acme, configmaps, bad, "x"),
        (e) => isStorageError(e, "InvalidArgument"),
        bad,
      );
      assert.throws(
        () => tenantPrefix({ uid: bad }),
        (e) => isStorageError(e, "InvalidArgument"),
        bad,
      );
      assert.throws(
        () => resourcePrefix(acme, { group: "", resource: bad }),
        (e) => isStorageError(e, "InvalidArgument"),
      );
    }
  });

  test("prefixEnd is the first key after the prefix's range", () => {
    const p = tenantPrefix({ uid: "a" });
    const end = prefixEnd(p);
    assert.ok(`${p}zzz` < end);
    assert.ok(`${p}\uffff` < end);
    assert.ok(tenantPrefix({ uid: "a0" }) >= end || !tenantPrefix({ uid: "a0" }).startsWith(p));
    assert.equal(end, "/multiplane/tenants/a0");
  });
});
