// The tenant quota plugin on real tenant instances (embedded storage), through the store as a
// request writes: a create past maxObjects and a write past maxStorageBytes are refused with a
// 403 in kube's words, deletes free room, shrinking is always allowed, an object being deleted
// may still be written, and the tenant's own controllers (stores without admission) never block.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isStatusError } from "../apierrors/status.ts";
import type { UserInfo } from "../authn/user.ts";
import type { KubeObject } from "../registry/printers.ts";
import type { ResourceDef } from "../registry/resources.ts";
import { GenericStore } from "../registry/store.ts";
import { openStorage } from "../storage/index.ts";
import type { Storage } from "../storage/interface.ts";
import { tenantPrefix } from "../storage/keys.ts";
import { TenantManager, type Tenant, type TenantInstance } from "../tenancy/instance.ts";
import type { TenantQuotas } from "../tenancy/policy.ts";
import { storedSize } from "./tenant-quota.admission.ts";

let dir: string;
let storage: Storage;
let manager: TenantManager;
let tenantCount = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "multiplane-tenant-quota-"));
  storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  manager = new TenantManager(storage);
});
after(async () => {
  await manager.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const alice: UserInfo = { name: "alice", uid: "alice", groups: ["system:masters"], extra: {} };

/** How many objects and value bytes a new tenant holds once bootstrapped. */
async function baseline(uid: string): Promise<{ objects: number; bytes: number }> {
  await manager.bootstrap({ uid });
  const list = await storage.list(tenantPrefix({ uid }));
  return { objects: list.items.length, bytes: list.items.reduce((n, kv) => n + kv.value.byteLength, 0) };
}

/** A new tenant whose quotas are computed from its bootstrapped baseline. */
async function tenantWith(
  quotas: (base: { objects: number; bytes: number }) => TenantQuotas,
): Promise<TenantInstance> {
  const uid = `uid-quota-${++tenantCount}`;
  const tenant: Tenant = {
    name: `quota-${tenantCount}`,
    uid,
    policy: { quotas: quotas(await baseline(uid)) },
  };
  await manager.setTenant(tenant);
  return manager.instance(tenant);
}

const configMapsOf = (instance: TenantInstance): ResourceDef =>
  instance.resources.lookup("", "v1", "configmaps")!;
/** The store a request of alice writes through (with admission). */
const requestStore = (instance: TenantInstance): GenericStore =>
  new GenericStore(instance, configMapsOf(instance), { user: alice, warnings: [], auditAnnotations: {} });

const configMap = (name: string, data = "", extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data: { data },
  ...extra,
});

/** The Status message of a refused write (fails the test when it was not a 403). */
async function forbiddenMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStatusError(err), `not a Status: ${String(err)}`);
    assert.equal(err.code, 403);
    assert.equal(err.reason, "Forbidden");
    return err.status.message ?? "";
  }
  return assert.fail("the write was allowed");
}

describe("tenant quota admission", () => {
  test("a create past maxObjects is refused with kube's quota message; a delete frees room", async () => {
    let base = 0;
    const instance = await tenantWith((b) => ({ maxObjects: (base = b.objects) + 2 }));
    const store = requestStore(instance);
    await store.create(configMap("one"), "default", { dryRun: false });
    await store.create(configMap("two"), "default", { dryRun: false });
    const message = await forbiddenMessage(store.create(configMap("three"), "default", { dryRun: false }));
    assert.equal(
      message,
      `configmaps "three" is forbidden: exceeded tenant quota: ${instance.tenant.name}, requested: objects=1, used: objects=${base + 2}, limited: objects=${base + 2}`,
    );
    // A dry run is refused alike; an update never adds an object.
    await forbiddenMessage(store.create(configMap("three"), "default", { dryRun: true }));
    await store.update("default", "one", (cm) => ({ ...cm, data: { data: "changed" } }), { dryRun: false });

    await store.delete("default", "one", { dryRun: false });
    await store.create(configMap("three"), "default", { dryRun: false });
    assert.equal(instance.cache.usage().objects, base + 2);
  });

  test("a write that would grow the tenant past maxStorageBytes is refused; shrinking is allowed", async () => {
    let limit = 0;
    const instance = await tenantWith((b) => ({ maxStorageBytes: (limit = b.bytes + 2000) }));
    const store = requestStore(instance);
    const created = await store.create(configMap("big", "x".repeat(1000)), "default", { dryRun: false });
    const used = instance.cache.usage().bytes;
    assert.equal(used, limit - 2000 + storedSize(created));

    // Growing by more than what is left: refused, with the growth it asked for.
    const bigger = configMap("big", "x".repeat(2500));
    const message = await forbiddenMessage(
      store.update("default", "big", (cm) => ({ ...cm, data: bigger["data"] }), { dryRun: false }),
    );
    assert.match(
      message,
      new RegExp(
        `^configmaps "big" is forbidden: exceeded tenant quota: ${instance.tenant.name}, requested: storageBytes=1500, used: storageBytes=${used}, limited: storageBytes=${limit}$`,
      ),
    );
    const tooLarge = await forbiddenMessage(
      store.create(configMap("other", "y".repeat(1500)), "default", { dryRun: false }),
    );
    assert.match(tooLarge, /requested: storageBytes=\d+, used: storageBytes=\d+, limited: storageBytes=\d+$/);

    // Shrinking is always allowed, and what it frees can be used again.
    await store.update("default", "big", (cm) => ({ ...cm, data: { data: "" } }), { dryRun: false });
    await store.create(configMap("other", "y".repeat(1500)), "default", { dryRun: false });
  });

  test("an object being deleted may still be written; the tenant's controllers are never blocked", async () => {
    const instance = await tenantWith((b) => ({ maxObjects: b.objects + 1, maxStorageBytes: b.bytes + 600 }));
    const store = requestStore(instance);
    await store.create(
      configMap("held", "", {
        metadata: { name: "held", namespace: "default", finalizers: ["example.com/hold"] },
      }),
      "default",
      { dryRun: false },
    );
    // Full on objects; the object's finalizer keeps it while it is being deleted.
    await forbiddenMessage(store.create(configMap("more"), "default", { dryRun: false }));
    await store.delete("default", "held", { dryRun: false });
    // A client growing it while it is being deleted (status, annotations) is not refused...
    await store.update(
      "default",
      "held",
      (cm) => ({ ...cm, metadata: { ...cm.metadata, annotations: { note: "z".repeat(1000) } } }),
      { dryRun: false },
    );
    // ...and dropping its finalizer deletes it, freeing its room.
    await store.update("default", "held", (cm) => ({ ...cm, metadata: { ...cm.metadata, finalizers: [] } }), {
      dryRun: false,
    });
    await instance.cache.consistent();
    assert.equal(instance.cache.get(instance.key(configMapsOf(instance), "default", "held")), undefined);

    // A store without admission (the namespace controller, the garbage collector) writes as it must.
    const internal = new GenericStore(instance, configMapsOf(instance));
    await internal.create(configMap("internal", "w".repeat(2000)), "default", { dryRun: false });
    await internal.create(configMap("internal-2"), "default", { dryRun: false });
    await instance.cache.consistent();
    const over = instance.cache.usage();
    assert.ok(over.objects > (instance.tenant.policy?.quotas?.maxObjects ?? 0));
    // Over the limits, a request may still shrink and delete.
    await store.update("default", "internal", (cm) => ({ ...cm, data: { data: "" } }), { dryRun: false });
    await store.delete("default", "internal-2", { dryRun: false });
  });

  test("a tenant without quotas is never refused", async () => {
    const instance = await tenantWith(() => ({ maxWatches: 1 }));
    const store = requestStore(instance);
    for (let i = 0; i < 5; i++)
      await store.create(configMap(`free-${i}`, "x".repeat(10_000)), "default", { dryRun: false });
    await instance.cache.consistent();
    assert.ok(instance.cache.usage().objects >= 5);
  });
});
