// TenantManager: instances built on first use, rebuilt when a tenant's registration changes,
// stopped and dropped when it is removed or idle (an open watch counts as use), and requests
// to an unknown or terminating tenant refused with their Status. Real instances on the
// embedded storage; the clock is a variable the tests move.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isStatusError } from "../apierrors/status.ts";
import { openStorage } from "../storage/index.ts";
import type { Storage } from "../storage/interface.ts";
import { tenantPrefix } from "../storage/keys.ts";
import { rootTenant, TenantManager, type Tenant } from "./instance.ts";

let dir: string;
let storage: Storage;
let clock = 0;
let manager: TenantManager;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "multiplane-tenants-"));
  storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  manager = new TenantManager(storage, undefined, undefined, { idleTimeoutMs: 1_000, now: () => clock });
});
after(async () => {
  await manager.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const statusCode = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
  } catch (err) {
    if (isStatusError(err)) return err.code;
    throw err;
  }
  return 200;
};

/** Resolves once `instance`'s cache has stopped. */
const stopped = (cache: { onClose(l: () => void): () => void }): Promise<void> =>
  new Promise((resolve) => cache.onClose(() => resolve()));

describe("TenantManager", () => {
  test("an instance is built once, on first use, and shared", async () => {
    const t: Tenant = { name: "one", uid: "uid-one" };
    manager.addTenant(t);
    assert.deepEqual(manager.activeTenants(), []);
    const [a, b] = await Promise.all([manager.instance(t), manager.instance(t)]);
    assert.equal(a, b);
    assert.deepEqual(manager.activeTenants(), ["one"]);
    assert.ok((await storage.list(tenantPrefix(t))).items.length > 0, "bootstrap objects written");
  });

  test("a replaced registration (a policy change) rebuilds the instance; the old one is stopped", async () => {
    const first: Tenant = { name: "two", uid: "uid-two" };
    await manager.setTenant(first);
    const old = await manager.instance(first);
    const closed = stopped(old.cache);
    const second: Tenant = { name: "two", uid: "uid-two", policy: { quotas: { maxObjects: 5 } } };
    await manager.setTenant(second);
    await closed;
    // A request that looked the tenant up before the change gets the current registration.
    const fresh = await manager.instance(first);
    assert.notEqual(fresh, old);
    assert.equal(fresh.tenant, second);
    assert.equal(await manager.instance(second), fresh);
  });

  test("removing a tenant stops its instance; later requests are a 404", async () => {
    const t: Tenant = { name: "three", uid: "uid-three" };
    await manager.setTenant(t);
    const inst = await manager.instance(t);
    const closed = stopped(inst.cache);
    await manager.removeTenant("three");
    await closed;
    assert.ok(!manager.activeTenants().includes("three"));
    assert.equal(manager.lookup("three"), undefined);
    assert.equal(await statusCode(manager.instance(t)), 404);
  });

  test("onRemoved hears of a removed tenant once its instance is stopped, not of a replaced one", async () => {
    const heard: string[] = [];
    const off = manager.onRemoved((tenant) => heard.push(`${tenant.name}/${tenant.uid}`));
    try {
      const t: Tenant = { name: "heard", uid: "uid-heard" };
      await manager.setTenant(t);
      await manager.instance(t);
      const replaced: Tenant = { ...t, uid: "uid-heard-2" };
      await manager.setTenant(replaced);
      assert.deepEqual(heard, []);
      const inst = await manager.instance(replaced);
      let stoppedFirst = false;
      inst.cache.onClose(() => (stoppedFirst = heard.length === 0));
      await manager.removeTenant("heard");
      await manager.removeTenant("heard"); // no longer registered: nothing more
      assert.deepEqual(heard, ["heard/uid-heard-2"]);
      assert.ok(stoppedFirst);
    } finally {
      off();
    }
  });

  test("onEvicted hears of an evicted instance's registration, after it stopped", async () => {
    const heard: Tenant[] = [];
    const off = manager.onEvicted((tenant) => heard.push(tenant));
    try {
      const t: Tenant = { name: "evicted", uid: "uid-evicted" };
      await manager.setTenant(t);
      await manager.evict("evicted"); // no instance: nothing to hear
      assert.deepEqual(heard, []);
      const inst = await manager.instance(t);
      let stoppedFirst = false;
      inst.cache.onClose(() => (stoppedFirst = heard.length === 0));
      await manager.evict("evicted");
      assert.deepEqual(heard, [t]);
      assert.ok(stoppedFirst);
      await manager.removeTenant("evicted"); // a removal is no eviction
      assert.equal(heard.length, 1);
    } finally {
      off();
    }
  });

  test("a re-activated tenant writes nothing: its bootstrap objects are in its cache", async (t) => {
    const tenant: Tenant = { name: "again", uid: "uid-again" };
    await manager.setTenant(tenant);
    const create = t.mock.method(storage, "create");
    const first = await manager.instance(tenant);
    const written = create.mock.callCount();
    assert.ok(written >= 20, `a new tenant's bootstrap wrote ${written} objects`);
    assert.equal(first.cache.list(tenantPrefix(tenant)).length, written);
    await manager.evict("again");
    const again = await manager.instance(tenant);
    assert.notEqual(again, first);
    assert.equal(create.mock.callCount(), written, "the second activation sent creates");
    assert.equal(again.cache.list(tenantPrefix(tenant)).length, written);
  });

  test("a terminating tenant builds no instance: 403", async () => {
    const t: Tenant = { name: "four", uid: "uid-four" };
    await manager.setTenant(t);
    await manager.instance(t);
    await manager.setTenant({ ...t, terminating: true });
    assert.ok(!manager.activeTenants().includes("four"));
    assert.equal(await statusCode(manager.instance(t)), 403);
    assert.ok(!manager.activeTenants().includes("four"));
  });

  test("a new UID under the same name drops the old UID's instance", async () => {
    const old: Tenant = { name: "five", uid: "uid-five-a" };
    await manager.setTenant(old);
    const inst = await manager.instance(old);
    await manager.setTenant({ name: "five", uid: "uid-five-b" });
    assert.ok(!manager.activeTenants().includes("five"));
    assert.equal(await statusCode(manager.instance(old)), 404);
    await new Promise<void>((resolve) => inst.cache.onClose(() => resolve()));
  });

  test("idle instances are evicted, except while retained (an open watch) and the root tenant", async () => {
    const idle: Tenant = { name: "idle", uid: "uid-idle" };
    const watched: Tenant = { name: "watched", uid: "uid-watched" };
    manager.addTenant(idle);
    manager.addTenant(watched);
    await manager.instance(rootTenant);
    const idleInstance = await manager.instance(idle);
    const release = manager.retain(await manager.instance(watched));
    clock += 999;
    manager.evictIdle();
    assert.ok(manager.activeTenants().includes("idle"), "not idle long enough yet");
    clock += 1;
    const closed = stopped(idleInstance.cache);
    manager.evictIdle();
    await closed;
    assert.deepEqual(
      manager
        .activeTenants()
        .filter((n) => ["idle", "watched", "root"].includes(n))
        .sort(),
      ["root", "watched"],
    );
    // Released: idle from now on.
    release();
    clock += 1_000;
    manager.evictIdle();
    assert.ok(!manager.activeTenants().includes("watched"));
    // The next request builds it again.
    await manager.instance(idle);
    assert.ok(manager.activeTenants().includes("idle"));
  });

  test("evict drops an instance now; the tenant stays registered and is built again on use", async () => {
    const t: Tenant = { name: "evicted", uid: "uid-evicted" };
    manager.addTenant(t);
    const first = await manager.instance(t);
    const closed = stopped(first.cache);
    await manager.evict("evicted");
    await closed;
    assert.ok(!manager.activeTenants().includes("evicted"));
    assert.equal(manager.lookup("evicted"), t);
    const second = await manager.instance(t);
    assert.notEqual(second, first);
    // The root tenant is never evicted; an unknown name is a no-op.
    const root = await manager.instance(rootTenant);
    await manager.evict("root");
    await manager.evict("nope");
    assert.equal(await manager.instance(rootTenant), root);
  });

  test("the root tenant can be neither replaced nor removed", async () => {
    await assert.rejects(manager.setTenant({ name: "root", uid: "other" }), /cannot be replaced/);
    await assert.rejects(manager.removeTenant("root"), /always served/);
  });
});
