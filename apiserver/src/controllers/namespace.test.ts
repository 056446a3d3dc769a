// Namespace lifecycle against a real tenant instance on the embedded storage: a delete marks
// the namespace Terminating, the namespace controller empties it (custom resources too),
// waits for finalizers with upstream's conditions, finalizes it, and the store removes it.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { isStatusError } from "../apierrors/status.ts";
import type { KubeObject } from "../registry/printers.ts";
import type { CacheEvent } from "../registry/watch-cache.ts";
import { objectKey, resourcePrefix } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import type { NamespaceCondition } from "./namespace-conditions.ts";
import { eventually, find, openFixture, storeOf, type Fixture } from "./tenant.fixture.ts";

let fx: Fixture;
let tenant: TenantInstance;
const tenantUid = randomUUID();

before(async () => {
  fx = await openFixture();
  // A namespace already being deleted before the instance (and its controller) starts.
  const raw = (obj: KubeObject) => Buffer.from(JSON.stringify(obj));
  await fx.storage.create(
    objectKey({ uid: tenantUid }, { group: "", resource: "namespaces" }, undefined, "left-over"),
    raw({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "left-over", uid: randomUUID(), deletionTimestamp: "2026-01-01T00:00:00Z" },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Terminating" },
    }),
  );
  await fx.storage.create(
    objectKey({ uid: tenantUid }, { group: "", resource: "configmaps" }, "left-over", "stale"),
    raw({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "stale", namespace: "left-over", uid: randomUUID() },
    }),
  );
  tenant = await fx.start({ name: "acme", uid: tenantUid });
});
after(async () => {
  await fx?.close();
});

const write = { dryRun: false };
const namespaces = () => storeOf(tenant, "namespaces");
const nsGone = (name: string) => async () => (await find(tenant, "namespaces", "", name)) === undefined;
const conditionsOf = (ns: KubeObject | undefined): NamespaceCondition[] =>
  (ns?.["status"] as { conditions?: NamespaceCondition[] } | undefined)?.conditions ?? [];

async function fill(ns: string): Promise<void> {
  await namespaces().create({ metadata: { name: ns } }, "", write);
  await storeOf(tenant, "configmaps").create({ metadata: { name: "a" }, data: { k: "v" } }, ns, write);
  await storeOf(tenant, "secrets").create({ metadata: { name: "s" } }, ns, write);
  await storeOf(tenant, "serviceaccounts").create({ metadata: { name: "robot" } }, ns, write);
  await storeOf(tenant, "roles.rbac.authorization.k8s.io").create(
    { metadata: { name: "r" }, rules: [] },
    ns,
    write,
  );
  await storeOf(tenant, "leases.coordination.k8s.io").create(
    { metadata: { name: "l" }, spec: {} },
    ns,
    write,
  );
}

describe("namespace lifecycle", () => {
  test("a namespace found Terminating at start is emptied and removed (level-triggered)", async () => {
    await eventually("left-over to be removed", nsGone("left-over"));
    assert.equal(
      tenant.cache.get(tenant.key({ group: "", plural: "configmaps" }, "left-over", "stale")),
      undefined,
    );
  });

  test("delete marks it Terminating and answers it; the controller empties and removes it", async () => {
    await fill("doomed");
    const events: CacheEvent[] = [];
    const unsubscribe = tenant.cache.subscribe(
      resourcePrefix({ uid: tenantUid }, { group: "", resource: "namespaces" }),
      (es) => events.push(...es),
    );
    try {
      const { obj, deleted } = await namespaces().delete("", "doomed", write);
      assert.equal(deleted, false);
      assert.ok(obj.metadata?.deletionTimestamp);
      assert.equal((obj["status"] as { phase: string }).phase, "Terminating");
      assert.deepEqual((obj["spec"] as { finalizers: string[] }).finalizers, ["kubernetes"]);
      assert.equal(obj.metadata?.finalizers, undefined);

      await eventually("doomed to be removed", nsGone("doomed"));
      for (const r of ["configmaps", "secrets", "serviceaccounts"]) {
        assert.deepEqual((await storeOf(tenant, r).listCached("doomed", true)).items, [], r);
      }
      await eventually("the DELETED event", () =>
        events.some((e) => e.type === "DELETED" && e.object.obj.metadata?.name === "doomed"),
      );
      // Finalizing the last spec finalizer deletes the namespace in the same step (kube's
      // ShouldDeleteDuringUpdate): one DELETED event, no intermediate write with empty finalizers.
      const mine = events.filter((e) => e.object.obj.metadata?.name === "doomed");
      assert.equal(mine.filter((e) => e.type === "DELETED").length, 1);
      assert.equal(mine.at(-1)?.type, "DELETED");
    } finally {
      unsubscribe();
    }
  });

  test("content held by a finalizer keeps it Terminating with upstream's conditions", async () => {
    await namespaces().create({ metadata: { name: "held" } }, "", write);
    const cms = storeOf(tenant, "configmaps");
    await cms.create({ metadata: { name: "keep", finalizers: ["example.com/hold"] } }, "held", write);
    await cms.create({ metadata: { name: "free" } }, "held", write);
    await namespaces().delete("", "held", write);

    const ns = await eventually("conditions", async () => {
      const n = await find(tenant, "namespaces", "", "held");
      return conditionsOf(n).length === 5 && (await find(tenant, "configmaps", "held", "free")) === undefined
        ? n
        : undefined;
    });
    const byType = Object.fromEntries(conditionsOf(ns).map((c) => [c.type, c]));
    assert.deepEqual(
      conditionsOf(ns).map((c) => c.type),
      [
        "NamespaceDeletionDiscoveryFailure",
        "NamespaceDeletionGroupVersionParsingFailure",
        "NamespaceDeletionContentFailure",
        "NamespaceContentRemaining",
        "NamespaceFinalizersRemaining",
      ],
    );
    assert.deepEqual(
      { ...byType["NamespaceContentRemaining"], lastTransitionTime: "" },
      {
        type: "NamespaceContentRemaining",
        status: "True",
        lastTransitionTime: "",
        reason: "SomeResourcesRemain",
        message: "Some resources are remaining: configmaps. has 1 resource instances",
      },
    );
    assert.equal(byType["NamespaceFinalizersRemaining"]?.status, "True");
    assert.equal(byType["NamespaceFinalizersRemaining"]?.reason, "SomeFinalizersRemain");
    assert.equal(
      byType["NamespaceFinalizersRemaining"]?.message,
      "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
    );
    assert.equal(byType["NamespaceDeletionContentFailure"]?.status, "False");
    assert.equal(byType["NamespaceDeletionContentFailure"]?.reason, "ContentDeleted");
    assert.equal(byType["NamespaceDeletionDiscoveryFailure"]?.reason, "ResourcesDiscovered");
    assert.equal((ns?.["spec"] as { finalizers: string[] }).finalizers[0], "kubernetes");
    const kept = await find(tenant, "configmaps", "held", "keep");
    assert.ok(kept?.metadata?.deletionTimestamp);

    // Nothing new may be created while it terminates.
    await assert.rejects(
      cms.create({ metadata: { name: "x" } }, "held", write),
      (err: unknown) =>
        isStatusError(err) &&
        err.code === 403 &&
        err.message ===
          'configmaps "x" is forbidden: unable to create new content in namespace held because it is being terminated',
    );

    await cms.update(
      "held",
      "keep",
      (c) => {
        delete c.metadata!.finalizers;
        return c;
      },
      write,
    );
    await eventually("held to be removed once its content is gone", nsGone("held"));
  });

  test("custom resources in the namespace are deleted too", async () => {
    const crds = storeOf(tenant, "customresourcedefinitions.apiextensions.k8s.io");
    await crds.create(
      {
        metadata: { name: "widgets.example.com" },
        spec: {
          group: "example.com",
          scope: "Namespaced",
          names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
            },
          ],
        },
      },
      "",
      write,
    );
    // No CRD controller here: establish it by hand.
    await crds.update(
      "",
      "widgets.example.com",
      (c) => ({
        ...c,
        status: { conditions: [{ type: "Established", status: "True", reason: "InitialNamesAccepted" }] },
      }),
      { ...write, subresource: "status" },
    );
    await namespaces().create({ metadata: { name: "with-crs" } }, "", write);
    const widgets = await eventually("widgets to be served", () =>
      tenant.resources.lookup("example.com", "v1", "widgets")
        ? storeOf(tenant, "widgets.example.com")
        : undefined,
    );
    await widgets.create(
      { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1" } },
      "with-crs",
      write,
    );
    await widgets.create(
      {
        apiVersion: "example.com/v1",
        kind: "Widget",
        metadata: { name: "w2", finalizers: ["example.com/w"] },
      },
      "with-crs",
      write,
    );
    await namespaces().delete("", "with-crs", write);
    const ns = await eventually("the CR finalizer to be reported", async () => {
      const n = await find(tenant, "namespaces", "", "with-crs");
      return conditionsOf(n).find((c) => c.type === "NamespaceContentRemaining")?.message ===
        "Some resources are remaining: widgets.example.com has 1 resource instances"
        ? n
        : undefined;
    });
    assert.ok(ns);
    assert.equal(await find(tenant, "widgets.example.com", "with-crs", "w1"), undefined);
    await widgets.update(
      "with-crs",
      "w2",
      (c) => {
        delete c.metadata!.finalizers;
        return c;
      },
      write,
    );
    await eventually("with-crs to be removed", nsGone("with-crs"));
  });

  test("the system namespaces may not be deleted; kube-node-lease may", async () => {
    for (const name of ["default", "kube-system", "kube-public"]) {
      await assert.rejects(
        namespaces().delete("", name, write),
        (err: unknown) =>
          isStatusError(err) &&
          err.code === 403 &&
          err.reason === "Forbidden" &&
          err.message === `namespaces "${name}" is forbidden: this namespace may not be deleted`,
      );
    }
    const { deleted } = await namespaces().delete("", "kube-node-lease", write);
    assert.equal(deleted, false);
    await eventually("kube-node-lease to go", nsGone("kube-node-lease"));
  });

  test("finalize replaces spec.finalizers only; another token keeps the namespace until removed", async () => {
    await namespaces().create(
      { metadata: { name: "two-tokens" }, spec: { finalizers: ["kubernetes", "example.com/mine"] } },
      "",
      write,
    );
    const updated = await namespaces().update(
      "",
      "two-tokens",
      (c) => ({
        ...c,
        metadata: { ...c.metadata, labels: { ignored: "yes" } },
        spec: { finalizers: ["kubernetes", "example.com/mine", "example.com/more"] },
        status: { phase: "Bogus" },
      }),
      { ...write, subresource: "finalize" },
    );
    assert.deepEqual((updated["spec"] as { finalizers: string[] }).finalizers, [
      "kubernetes",
      "example.com/mine",
      "example.com/more",
    ]);
    assert.equal(updated.metadata?.labels?.["ignored"], undefined);
    assert.equal((updated["status"] as { phase: string }).phase, "Active");

    await namespaces().delete("", "two-tokens", write);
    const ns = await eventually("the controller to remove its own token", async () => {
      const n = await find(tenant, "namespaces", "", "two-tokens");
      const fs = (n?.["spec"] as { finalizers?: string[] } | undefined)?.finalizers;
      return fs !== undefined && !fs.includes("kubernetes") ? n : undefined;
    });
    assert.deepEqual((ns["spec"] as { finalizers: string[] }).finalizers, [
      "example.com/mine",
      "example.com/more",
    ]);
    // Another delete changes nothing while spec.finalizers remain.
    assert.equal((await namespaces().delete("", "two-tokens", write)).deleted, false);
    // A Go client omits an empty list: `spec: {}` clears them all, and the namespace goes.
    await namespaces().update("", "two-tokens", (c) => ({ ...c, spec: {} }), {
      ...write,
      subresource: "finalize",
    });
    await eventually("two-tokens to go", nsGone("two-tokens"));
  });

  test("an orphan delete of a namespace: the collector clears its finalizer, then it goes", async () => {
    await fill("orphaning");
    const { obj } = await namespaces().delete("", "orphaning", { ...write, propagationPolicy: "Orphan" });
    assert.deepEqual(obj.metadata?.finalizers, ["orphan"]);
    await eventually("orphaning to go", nsGone("orphaning"));
  });

  test("a status write to a Terminating namespace does not remove it", async () => {
    await namespaces().create({ metadata: { name: "status-write" } }, "", write);
    await storeOf(tenant, "configmaps").create(
      { metadata: { name: "hold", finalizers: ["example.com/hold"] } },
      "status-write",
      write,
    );
    await namespaces().delete("", "status-write", write);
    await namespaces().update(
      "",
      "status-write",
      (c) => ({ ...c, status: { ...(c["status"] as object), phase: "Terminating" } }),
      { ...write, subresource: "status" },
    );
    assert.ok(await find(tenant, "namespaces", "", "status-write"));
    await storeOf(tenant, "configmaps").update(
      "status-write",
      "hold",
      (c) => {
        delete c.metadata!.finalizers;
        return c;
      },
      write,
    );
    await eventually("status-write to go", nsGone("status-write"));
  });
});
