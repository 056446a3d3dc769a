// The tenant's RBAC source over a real watch cache (embedded storage): the subject index
// follows every change of the bindings.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { UserInfo } from "../authn/user.ts";
import { TenantCache } from "../registry/watch-cache.ts";
import { objectKey, openStorage } from "../storage/index.ts";
import { RBACAuthorizer, type RoleBinding } from "./rbac.authorizer.ts";
import { rbacGroup, TenantRBACSource } from "./rbac.source.ts";

test("bindings and roles created, changed and deleted are seen by the next request", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "multiplane-rbac-source-"));
  const storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  const tenant = { uid: "t-1" };
  const cache = new TenantCache(storage, tenant);
  await cache.start();
  t.after(async () => {
    await cache.stop();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  const rbac = new RBACAuthorizer(new TenantRBACSource(cache, tenant.uid));
  const jane: UserInfo = { name: "jane", uid: "", groups: ["system:authenticated"], extra: {} };
  const getPod = {
    user: jane,
    verb: "get",
    isResourceRequest: true,
    path: "",
    apiGroup: "",
    apiVersion: "v1",
    resource: "pods",
    subresource: "",
    namespace: "default",
    name: "p",
  };
  const json = (o: object): Buffer => Buffer.from(JSON.stringify(o));
  const key = (resource: string, namespace: string, name: string) =>
    objectKey(tenant, { group: rbacGroup, resource }, namespace, name);
  const binding = (subject: string): RoleBinding => ({
    metadata: { name: "read-pods", namespace: "default" },
    roleRef: { apiGroup: rbacGroup, kind: "Role", name: "pod-reader" },
    subjects: [{ kind: "User", name: subject }],
  });
  const written = async (rev: Promise<{ modRevision: number } | { revision: number }>): Promise<void> => {
    const r = await rev;
    await cache.waitFor("revision" in r ? r.revision : r.modRevision);
  };

  await written(
    storage.create(
      key("roles", "default", "pod-reader"),
      json({
        metadata: { name: "pod-reader", namespace: "default" },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
      }),
    ),
  );
  assert.equal(rbac.authorize(getPod).decision, "NoOpinion");
  await written(storage.create(key("rolebindings", "default", "read-pods"), json(binding("jane"))));
  assert.equal(rbac.authorize(getPod).decision, "Allow");
  await written(
    storage.guaranteedUpdate(key("rolebindings", "default", "read-pods"), () => json(binding("john"))),
  );
  assert.equal(rbac.authorize(getPod).decision, "NoOpinion");
  assert.equal(rbac.authorize({ ...getPod, user: { ...jane, name: "john" } }).decision, "Allow");
  // The Role's rules change: the next request reads the new ones; a deleted Role grants nothing.
  await written(
    storage.guaranteedUpdate(key("roles", "default", "pod-reader"), () =>
      json({
        metadata: { name: "pod-reader", namespace: "default" },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }],
      }),
    ),
  );
  assert.equal(rbac.authorize({ ...getPod, user: { ...jane, name: "john" } }).decision, "NoOpinion");
  assert.equal(
    rbac.authorize({ ...getPod, verb: "list", user: { ...jane, name: "john" } }).decision,
    "Allow",
  );
  await written(storage.delete(key("roles", "default", "pod-reader")));
  assert.deepEqual(rbac.authorize({ ...getPod, verb: "list", user: { ...jane, name: "john" } }), {
    decision: "NoOpinion",
    reason: 'RBAC: role.rbac.authorization.k8s.io "pod-reader" not found',
  });
  await written(storage.delete(key("rolebindings", "default", "read-pods")));
  assert.equal(rbac.authorize({ ...getPod, user: { ...jane, name: "john" } }).decision, "NoOpinion");
});
