// A tenant's usage as its watch cache keeps it: objects and the bytes of their stored values,
// moved exactly by create, update and delete events (another tenant's writes never count), and
// rebuilt from storage by a new cache (a restart) to the same figures storage reports.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { openStorage, type Storage } from "../storage/index.ts";
import { objectKey, tenantPrefix, type ResourceRef, type TenantRef } from "../storage/keys.ts";
import { TenantCache } from "./watch-cache.ts";

const configmaps: ResourceRef = { group: "", resource: "configmaps" };
const namespaces: ResourceRef = { group: "", resource: "namespaces" };

async function openTemp(t: TestContext): Promise<{ storage: Storage; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), "multiplane-usage-"));
  const path = join(dir, "state.db");
  const storage = openStorage({ kind: "embedded", path });
  t.after(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { storage, path };
}

async function startCache(t: TestContext, storage: Storage, tenant: TenantRef): Promise<TenantCache> {
  const cache = new TenantCache(storage, tenant);
  await cache.start();
  t.after(() => cache.stop());
  return cache;
}

const value = (name: string, data = ""): Buffer =>
  Buffer.from(
    JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: "default" },
      data: { data },
    }),
  );

test("create, update and delete events move the counters by exactly the stored sizes", async (t) => {
  const { storage } = await openTemp(t);
  const tenant: TenantRef = { uid: randomUUID() };
  const other: TenantRef = { uid: randomUUID() };
  const cache = await startCache(t, storage, tenant);
  assert.deepEqual(cache.usage(), { objects: 0, bytes: 0 });

  const a = value("a", "x".repeat(100));
  const b = value("b");
  const ns = Buffer.from(
    JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } }),
  );
  await storage.create(objectKey(tenant, configmaps, "default", "a"), a);
  await storage.create(objectKey(tenant, configmaps, "default", "b"), b);
  await storage.create(objectKey(tenant, namespaces, undefined, "default"), ns);
  // Another tenant's writes are never this tenant's usage.
  await storage.create(objectKey(other, configmaps, "default", "a"), value("a", "y".repeat(5000)));
  await cache.consistent();
  assert.deepEqual(cache.usage(), { objects: 3, bytes: a.length + b.length + ns.length });

  // An update moves the bytes by the difference and never the count.
  const bigger = value("a", "x".repeat(1000));
  await storage.guaranteedUpdate(objectKey(tenant, configmaps, "default", "a"), () => bigger);
  await cache.consistent();
  assert.deepEqual(cache.usage(), { objects: 3, bytes: bigger.length + b.length + ns.length });
  const smaller = value("a");
  await storage.guaranteedUpdate(objectKey(tenant, configmaps, "default", "a"), () => smaller);
  await cache.consistent();
  assert.deepEqual(cache.usage(), { objects: 3, bytes: smaller.length + b.length + ns.length });

  await storage.delete(objectKey(tenant, configmaps, "default", "b"));
  await cache.consistent();
  assert.deepEqual(cache.usage(), { objects: 2, bytes: smaller.length + ns.length });
  await storage.deletePrefix(tenantPrefix(tenant));
  await cache.consistent();
  assert.deepEqual(cache.usage(), { objects: 0, bytes: 0 });
});

test("a restart rebuilds the same usage from storage", async (t) => {
  const { storage, path } = await openTemp(t);
  const tenant: TenantRef = { uid: randomUUID() };
  const first = await startCache(t, storage, tenant);
  let expectedBytes = 0;
  for (let i = 0; i < 25; i++) {
    const v = value(`cm-${i}`, "z".repeat(i * 7));
    expectedBytes += v.length;
    await storage.create(objectKey(tenant, configmaps, "default", `cm-${i}`), v);
  }
  for (let i = 0; i < 5; i++) {
    const key = objectKey(tenant, configmaps, "default", `cm-${i}`);
    expectedBytes -= (await storage.get(key)).kv.value.byteLength;
    await storage.delete(key);
  }
  await first.consistent();
  assert.deepEqual(first.usage(), { objects: 20, bytes: expectedBytes });
  await first.stop();

  // A new storage client on the same file (a restarted process) and a new cache from its list.
  await storage.close();
  const reopened = openStorage({ kind: "embedded", path });
  t.after(() => reopened.close());
  const second = await startCache(t, reopened, tenant);
  assert.deepEqual(second.usage(), { objects: 20, bytes: expectedBytes });
  // Storage's own count agrees on the keys (its bytes also count the keys themselves).
  const stored = await reopened.usage(tenantPrefix(tenant));
  assert.equal(stored.keys, 20);
  assert.ok(stored.bytes > expectedBytes);
});
