// The tenant watch cache on the embedded engine, with its default (5 s) progress interval:
// tenants share one storage, and a consistent read in one tenant must not wait for a
// periodic PROGRESS after writes in another.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { openStorage, type Storage } from "../storage/index.ts";
import { objectKey, resourcePrefix, type ResourceRef, type TenantRef } from "../storage/keys.ts";
import { sweepHistory, TenantCache } from "./watch-cache.ts";

const configmaps: ResourceRef = { group: "", resource: "configmaps" };

async function openTemp(t: TestContext): Promise<Storage> {
  const dir = await mkdtemp(join(tmpdir(), "multiplane-watch-cache-"));
  const storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  t.after(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  return storage;
}

async function startCache(t: TestContext, storage: Storage, tenant: TenantRef): Promise<TenantCache> {
  const cache = new TenantCache(storage, tenant);
  await cache.start();
  t.after(() => cache.stop());
  return cache;
}

const configMap = (name: string): Uint8Array =>
  Buffer.from(
    JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" } }),
  );

const createIn = (storage: Storage, tenant: TenantRef, name: string) =>
  storage.create(objectKey(tenant, configmaps, "default", name), configMap(name));

/** Runs `fn` and returns its result with how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

test("a consistent read in one tenant completes at once after a write in another tenant", async (t) => {
  const storage = await openTemp(t);
  const tenantA: TenantRef = { uid: randomUUID() };
  const tenantB: TenantRef = { uid: randomUUID() };
  const cacheA = await startCache(t, storage, tenantA);
  const cacheB = await startCache(t, storage, tenantB);

  const written = await createIn(storage, tenantB, "b1");
  const read = await timed(() => cacheA.consistent());
  assert.ok(read.ms < 1000, `the consistent read in tenant A took ${read.ms} ms`);
  assert.ok(
    read.value >= written.modRevision,
    `read at ${read.value}, below the write at ${written.modRevision}`,
  );
  assert.ok(cacheA.revision >= written.modRevision);
  assert.deepEqual(cacheA.list(resourcePrefix(tenantA, configmaps)), [], "tenant A sees nothing of B");

  // Tenant B's own read sees its object.
  await cacheB.consistent();
  assert.equal(cacheB.get(written.key)?.obj.metadata?.name, "b1");
});

test("concurrent consistent reads share the wait and all complete promptly, round after round", async (t) => {
  const storage = await openTemp(t);
  const tenantA: TenantRef = { uid: randomUUID() };
  const tenantB: TenantRef = { uid: randomUUID() };
  const cacheA = await startCache(t, storage, tenantA);
  await startCache(t, storage, tenantB);

  for (let round = 0; round < 5; round++) {
    // A write acknowledged before the reads, and one still in flight while they start.
    const acknowledged = await createIn(storage, tenantB, `before-${round}`);
    const inFlight = createIn(storage, tenantB, `during-${round}`);
    const reads = await timed(() => Promise.all(Array.from({ length: 8 }, () => cacheA.consistent())));
    await inFlight;
    assert.ok(reads.ms < 1000, `round ${round}: the consistent reads took ${reads.ms} ms`);
    for (const revision of reads.value) assert.ok(revision >= acknowledged.modRevision);
  }
  // A tenant's own writes are seen by its next consistent read, as before.
  const own = await createIn(storage, tenantA, "a1");
  await cacheA.consistent();
  assert.equal(cacheA.get(own.key)?.modRevision, own.modRevision);
});

test("history keeps 75 s of events (at least 100): older resumes are refused, as kube's watch cache does", async (t) => {
  const storage = await openTemp(t);
  const tenant = { uid: randomUUID() };
  const cache = await startCache(t, storage, tenant);
  const prefix = resourcePrefix(tenant, configmaps);
  let now = Date.now();
  t.mock.method(Date, "now", () => now);
  const first = await createIn(storage, tenant, "cm-0");
  for (let i = 1; i < 150; i++) await createIn(storage, tenant, `cm-${i}`);
  await cache.consistent();
  // Within 75 s everything can be resumed from, however many events.
  assert.equal(cache.eventsSince(prefix, first.modRevision - 1)?.length, 150);
  // 76 s later, one more event: the old ones go, but never below the last 100.
  now += 76_000;
  await createIn(storage, tenant, "cm-late");
  await cache.consistent();
  assert.equal(cache.eventsSince(prefix, first.modRevision - 1), undefined);
  const kept = cache.eventsSince(prefix, cache.oldestResumable);
  assert.equal(kept?.length, 100);
  assert.equal(kept.at(-1)?.object.obj.metadata?.name, "cm-late");
});

test("expired history goes without a new event: a quiet tenant keeps no old objects", async (t) => {
  const storage = await openTemp(t);
  const tenant = { uid: randomUUID() };
  const cache = await startCache(t, storage, tenant);
  const prefix = resourcePrefix(tenant, configmaps);
  let now = Date.now();
  t.mock.method(Date, "now", () => now);
  const first = await createIn(storage, tenant, "cm-0");
  for (let i = 1; i < 150; i++) await createIn(storage, tenant, `cm-${i}`);
  await cache.consistent();
  assert.equal(cache.eventsSince(prefix, first.modRevision - 1)?.length, 150);
  // No write for 76 s: what the process-wide sweeper runs drops all but the last 100.
  now += 76_000;
  sweepHistory();
  assert.equal(cache.eventsSince(prefix, first.modRevision - 1), undefined);
  assert.equal(cache.eventsSince(prefix, cache.oldestResumable)?.length, 100);
});
