// The garbage collector against real tenant instances on the embedded storage: background,
// foreground and orphan propagation, owners resolved by namespace, kind and uid, state found
// at start, and tenants that never see each other's owners.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { KubeObject } from "../registry/printers.ts";
import { objectKey } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { eventually, find, openFixture, ownerRef, storeOf, type Fixture } from "./tenant.fixture.ts";

let fx: Fixture;
let tenant: TenantInstance;

before(async () => {
  fx = await openFixture();
  tenant = await fx.start({ name: "acme", uid: randomUUID() });
});
after(async () => {
  await fx?.close();
});

const write = { dryRun: false };

async function namespace(name: string): Promise<void> {
  await storeOf(tenant, "namespaces").create({ metadata: { name } }, "", write);
}

async function configMap(ns: string, name: string, meta: KubeObject["metadata"] = {}): Promise<KubeObject> {
  return storeOf(tenant, "configmaps").create({ metadata: { name, ...meta } }, ns, write);
}

const gone =
  (ns: string, name: string, t = tenant) =>
  async () =>
    (await find(t, "configmaps", ns, name)) === undefined;

describe("garbage collector", () => {
  test("background: a dependent whose only owner is deleted is deleted", async () => {
    await namespace("gc-bg");
    const owner = await configMap("gc-bg", "owner");
    await configMap("gc-bg", "dep", { ownerReferences: [ownerRef(owner)] });
    await configMap("gc-bg", "grandchild", {
      ownerReferences: [ownerRef((await find(tenant, "configmaps", "gc-bg", "dep"))!)],
    });
    const { deleted } = await storeOf(tenant, "configmaps").delete("gc-bg", "owner", {
      ...write,
      propagationPolicy: "Background",
    });
    assert.equal(deleted, true);
    await eventually("dep to be collected", gone("gc-bg", "dep"));
    await eventually("grandchild to be collected", gone("gc-bg", "grandchild"));
  });

  test("background: a dependent with another owner still standing only loses the reference", async () => {
    await namespace("gc-two");
    const a = await configMap("gc-two", "a");
    const b = await configMap("gc-two", "b");
    await configMap("gc-two", "dep", { ownerReferences: [ownerRef(a), ownerRef(b)] });
    await storeOf(tenant, "configmaps").delete("gc-two", "a", write);
    const dep = await eventually("the reference to a to go", async () => {
      const d = await find(tenant, "configmaps", "gc-two", "dep");
      return d?.metadata?.ownerReferences?.length === 1 ? d : undefined;
    });
    assert.equal(dep.metadata?.ownerReferences?.[0]?.uid, b.metadata?.uid);
    await storeOf(tenant, "configmaps").delete("gc-two", "b", write);
    await eventually("dep to be collected with its last owner", gone("gc-two", "dep"));
  });

  test("an owner that is absent, replaced (other uid) or in another namespace is gone", async () => {
    await namespace("gc-dangling");
    await namespace("gc-elsewhere");
    const elsewhere = await configMap("gc-elsewhere", "owner");
    const replacedOwner = await configMap("gc-dangling", "owner");
    await storeOf(tenant, "configmaps").delete("gc-dangling", "owner", write);
    await configMap("gc-dangling", "owner"); // same name, new uid
    await configMap("gc-dangling", "to-replaced", { ownerReferences: [ownerRef(replacedOwner)] });
    await configMap("gc-dangling", "to-absent", {
      ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "nobody", uid: randomUUID() }],
    });
    // Names an owner in another namespace: resolved in its own namespace, where it is absent.
    await configMap("gc-dangling", "to-elsewhere", { ownerReferences: [ownerRef(elsewhere)] });
    await eventually("to-replaced to be collected", gone("gc-dangling", "to-replaced"));
    await eventually("to-absent to be collected", gone("gc-dangling", "to-absent"));
    await eventually("to-elsewhere to be collected", gone("gc-dangling", "to-elsewhere"));
    assert.ok(await find(tenant, "configmaps", "gc-elsewhere", "owner"));
    assert.ok(await find(tenant, "configmaps", "gc-dangling", "owner"));
  });

  test("a cluster-scoped owner (a ClusterRole) owns namespaced dependents", async () => {
    await namespace("gc-cluster");
    const role = await storeOf(tenant, "clusterroles.rbac.authorization.k8s.io").create(
      { metadata: { name: "gc-owner-role" }, rules: [] },
      "",
      write,
    );
    await configMap("gc-cluster", "dep", { ownerReferences: [ownerRef(role)] });
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(await find(tenant, "configmaps", "gc-cluster", "dep"), "kept while its owner stands");
    await storeOf(tenant, "clusterroles.rbac.authorization.k8s.io").delete("", "gc-owner-role", write);
    await eventually("dep to be collected", gone("gc-cluster", "dep"));
  });

  test("a dependent whose owner kind is not served is kept", async () => {
    await namespace("gc-unknown");
    await configMap("gc-unknown", "dep", {
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: randomUUID() }],
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(await find(tenant, "configmaps", "gc-unknown", "dep"));
  });

  test("foreground: the owner waits, marked, until its blocking dependents are gone", async () => {
    await namespace("gc-fg");
    const cms = storeOf(tenant, "configmaps");
    const owner = await configMap("gc-fg", "owner");
    await configMap("gc-fg", "blocking", {
      ownerReferences: [ownerRef(owner, { blockOwnerDeletion: true })],
      finalizers: ["example.com/hold"],
    });
    await configMap("gc-fg", "loose", { ownerReferences: [ownerRef(owner)] });
    const { obj, deleted } = await cms.delete("gc-fg", "owner", {
      ...write,
      propagationPolicy: "Foreground",
    });
    assert.equal(deleted, false);
    assert.deepEqual(obj.metadata?.finalizers, ["foregroundDeletion"]);
    assert.ok(obj.metadata?.deletionTimestamp);

    // The blocking dependent is deleted but held by its own finalizer, so the owner stays.
    const blocking = await eventually("blocking to be marked for deletion", async () => {
      const b = await find(tenant, "configmaps", "gc-fg", "blocking");
      return b?.metadata?.deletionTimestamp ? b : undefined;
    });
    assert.deepEqual(blocking.metadata?.finalizers, ["example.com/hold"]);
    await eventually("loose to be deleted", gone("gc-fg", "loose"));
    await new Promise((r) => setTimeout(r, 100));
    const waiting = await find(tenant, "configmaps", "gc-fg", "owner");
    assert.deepEqual(waiting?.metadata?.finalizers, ["foregroundDeletion"]);

    await cms.update(
      "gc-fg",
      "blocking",
      (c) => {
        delete c.metadata!.finalizers;
        return c;
      },
      write,
    );
    await eventually("blocking to be gone", gone("gc-fg", "blocking"));
    await eventually("the owner to be gone once nothing blocks it", gone("gc-fg", "owner"));
  });

  test("foreground: a dependent with dependents of its own is deleted in the foreground too", async () => {
    await namespace("gc-fg-chain");
    const owner = await configMap("gc-fg-chain", "owner");
    const mid = await configMap("gc-fg-chain", "mid", {
      ownerReferences: [ownerRef(owner, { blockOwnerDeletion: true })],
    });
    await configMap("gc-fg-chain", "leaf", {
      ownerReferences: [ownerRef(mid, { blockOwnerDeletion: true })],
      finalizers: ["example.com/hold"],
    });
    await storeOf(tenant, "configmaps").delete("gc-fg-chain", "owner", {
      ...write,
      propagationPolicy: "Foreground",
    });
    const marked = await eventually("mid to wait for its dependents", async () => {
      const m = await find(tenant, "configmaps", "gc-fg-chain", "mid");
      return m?.metadata?.finalizers?.includes("foregroundDeletion") ? m : undefined;
    });
    assert.ok(marked.metadata?.deletionTimestamp);
    await storeOf(tenant, "configmaps").update(
      "gc-fg-chain",
      "leaf",
      (c) => {
        delete c.metadata!.finalizers;
        return c;
      },
      write,
    );
    await eventually("leaf to go", gone("gc-fg-chain", "leaf"));
    await eventually("mid to go", gone("gc-fg-chain", "mid"));
    await eventually("owner to go", gone("gc-fg-chain", "owner"));
  });

  test("foreground: a dependent with another standing owner only loses the reference", async () => {
    await namespace("gc-fg-shared");
    const owner = await configMap("gc-fg-shared", "owner");
    const other = await configMap("gc-fg-shared", "other");
    await configMap("gc-fg-shared", "dep", {
      ownerReferences: [ownerRef(owner, { blockOwnerDeletion: true }), ownerRef(other)],
    });
    await storeOf(tenant, "configmaps").delete("gc-fg-shared", "owner", {
      ...write,
      propagationPolicy: "Foreground",
    });
    await eventually("owner to go", gone("gc-fg-shared", "owner"));
    const dep = await find(tenant, "configmaps", "gc-fg-shared", "dep");
    assert.deepEqual(
      dep?.metadata?.ownerReferences?.map((r) => r.name),
      ["other"],
    );
  });

  test("orphan: dependents keep living without the reference, then the owner goes", async () => {
    await namespace("gc-orphan");
    const owner = await configMap("gc-orphan", "owner");
    const other = await configMap("gc-orphan", "other");
    await configMap("gc-orphan", "only", {
      ownerReferences: [ownerRef(owner, { blockOwnerDeletion: true })],
    });
    await configMap("gc-orphan", "shared", { ownerReferences: [ownerRef(owner), ownerRef(other)] });
    const { obj } = await storeOf(tenant, "configmaps").delete("gc-orphan", "owner", {
      ...write,
      propagationPolicy: "Orphan",
    });
    assert.deepEqual(obj.metadata?.finalizers, ["orphan"]);
    await eventually("owner to go", gone("gc-orphan", "owner"));
    const only = await find(tenant, "configmaps", "gc-orphan", "only");
    assert.ok(only);
    assert.equal(only.metadata?.ownerReferences, undefined);
    const shared = await find(tenant, "configmaps", "gc-orphan", "shared");
    assert.deepEqual(
      shared?.metadata?.ownerReferences?.map((r) => r.name),
      ["other"],
    );
  });

  test("a background delete clears an orphan finalizer already set; no policy keeps it", async () => {
    await namespace("gc-policy");
    const cms = storeOf(tenant, "configmaps");
    await configMap("gc-policy", "held", { finalizers: ["orphan", "example.com/hold"] });
    const first = await cms.delete("gc-policy", "held", write);
    assert.deepEqual(first.obj.metadata?.finalizers, ["orphan", "example.com/hold"]);
    await eventually("the collector to drop its orphan finalizer", async () => {
      const h = await find(tenant, "configmaps", "gc-policy", "held");
      return h?.metadata?.finalizers?.join() === "example.com/hold" ? h : undefined;
    });
    await configMap("gc-policy", "plain", { finalizers: ["orphan"] });
    const { deleted } = await cms.delete("gc-policy", "plain", { ...write, propagationPolicy: "Background" });
    assert.equal(deleted, true, "no finalizer left: deleted at once");
  });

  test("state found at start is collected (level-triggered), only within the tenant", async () => {
    // Tenant acme has an owner "gone": it must not count for tenant beta's objects.
    const acmeOwner = await configMap("default", "gone");
    // Written straight to storage before tenant beta's instance (and its collector) exists.
    // (Written last in this file: a write under another tenant's prefix stalls this tenant's
    // consistent reads until the next progress notification.)
    const other = { name: "beta", uid: randomUUID() };
    const raw = (obj: KubeObject) => Buffer.from(JSON.stringify(obj));
    const stored = (name: string, refs: KubeObject[]) =>
      fx.storage.create(
        objectKey({ uid: other.uid }, { group: "", resource: "configmaps" }, "default", name),
        raw({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name,
            namespace: "default",
            uid: randomUUID(),
            ownerReferences: refs.map((r) => ownerRef(r)),
          },
        }),
      );
    await stored("orphaned", [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "nobody", uid: randomUUID() } },
    ]);
    await stored("cross-tenant", [acmeOwner]);
    const beta = await fx.start(other);
    await eventually("orphaned to be collected at start", gone("default", "orphaned", beta));
    await eventually("cross-tenant to be collected", gone("default", "cross-tenant", beta));
    assert.ok(tenant.cache.get(tenant.key({ group: "", plural: "configmaps" }, "default", "gone")));
  });
});
