// Placement of ControlPlanes across shards, as two shards' reconcilers decide it on one shared
// storage (embedded; each shard its own TenantManager and root instance): only the first live
// shard by name places, on the least-loaded live shard (ties by name); the shard named serves
// the tenant and the other never registers it; when a shard's lease is no longer live its
// tenants are placed again on a live shard, which serves them, and the dead shard's registry
// drops them; an admin's write of status.shard moves a tenant; deletion is done by its shard.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pino from "pino";
import { platformCRDsDir, readCRDs, installCRDs } from "../registry/crd/crd.installer.ts";
import { GenericStore } from "../registry/store.ts";
import { openStorage } from "../storage/index.ts";
import type { Storage } from "../storage/interface.ts";
import {
  controlPlaneDef,
  reconcileControlPlane,
  type ControlPlaneReconcileContext,
} from "./controlplane.reconcile.ts";
import type { ControlPlane, ControlPlaneStatus } from "./controlplane.types.ts";
import { rootTenant, TenantManager, type TenantInstance } from "./instance.ts";

let dir: string;
let storage: Storage;
/** The shards whose lease the test says is live. */
const live = new Set(["a", "b"]);

interface Shard {
  readonly manager: TenantManager;
  readonly root: TenantInstance;
  readonly ctx: ControlPlaneReconcileContext;
}
const shards = new Map<string, Shard>();

function shardContext(name: string, shard: Omit<Shard, "ctx">): ControlPlaneReconcileContext {
  let placing: Promise<unknown> = Promise.resolve();
  return {
    root: shard.root,
    tenants: shard.manager,
    storage,
    shard: name,
    serverURL: "https://multiplane.invalid",
    log: pino({ level: "silent" }),
    managed: new Map(),
    usageWrittenAt: new Map(),
    usageIntervalMs: 5_000,
    now: Date.now,
    shards: {
      isLive: (s) => s === name || live.has(s),
      liveShards: () => [...new Set([...live, name])].sort(),
    },
    serialized: (fn) => {
      const run = placing.then(fn, fn);
      placing = run.catch(() => undefined);
      return run;
    },
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "multiplane-cp-placement-"));
  storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  // a installs the platform's CRDs; b's root instance is built once they are Established.
  for (const name of ["a", "b"]) {
    const manager = new TenantManager(storage);
    const root = await manager.instance(rootTenant);
    if (name === "a") await installCRDs(root, await readCRDs(platformCRDsDir));
    const shard = { manager, root };
    shards.set(name, { ...shard, ctx: shardContext(name, shard) });
  }
});
after(async () => {
  for (const s of shards.values()) await s.manager.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

/** Shard `name`'s view of the ControlPlane, from its root instance's cache. */
async function controlPlane(name: string): Promise<ControlPlane> {
  const a = shards.get("a")!;
  return await new GenericStore(a.root, controlPlaneDef(a.root)).get("", name);
}

/** Reconciles every ControlPlane named on every shard until nothing changes (at most 6 rounds). */
async function settle(names: readonly string[]): Promise<void> {
  for (let round = 0; round < 6; round++) {
    const before = JSON.stringify(await Promise.all(names.map((n) => controlPlane(n).catch(() => null))));
    for (const s of shards.values()) {
      await s.root.cache.consistent();
      for (const n of names) await reconcileControlPlane(s.ctx, n);
    }
    const now = JSON.stringify(await Promise.all(names.map((n) => controlPlane(n).catch(() => null))));
    if (now === before) return;
  }
}

const statusOf = async (name: string): Promise<ControlPlaneStatus | undefined> =>
  (await controlPlane(name)).status;

test("placement, failover, an admin's move and deletion across two shards", async () => {
  const a = shards.get("a")!;
  const cps = new GenericStore(a.root, controlPlaneDef(a.root));
  const names = ["t1", "t2", "t3"];
  for (const n of names) {
    await cps.create(
      {
        apiVersion: "core.multiplane.dev/v1alpha1",
        kind: "ControlPlane",
        metadata: { name: n },
        spec: { organization: n },
      },
      "",
      { dryRun: false },
    );
  }

  // b is not the placer: nothing happens on its reconciles.
  for (const n of names) await reconcileControlPlane(shards.get("b")!.ctx, n);
  for (const n of names) assert.equal((await statusOf(n))?.shard, undefined);

  await settle(names);
  const placed = await Promise.all(names.map(async (n) => (await statusOf(n))?.shard));
  assert.deepEqual(placed, ["a", "b", "a"], "least-loaded, ties by name, one at a time");
  for (const n of names) assert.equal((await statusOf(n))?.phase, "Ready");
  assert.deepEqual(a.manager.tenantNames().sort(), ["root", "t1", "t3"]);
  assert.deepEqual(shards.get("b")!.manager.tenantNames().sort(), ["root", "t2"]);

  // a's lease expires: b places a's tenants on itself and serves them; a (still running) drops them.
  live.delete("a");
  await settle(names);
  for (const n of names)
    assert.deepEqual([(await statusOf(n))?.shard, (await statusOf(n))?.phase], ["b", "Ready"]);
  live.add("a");
  await settle(names);
  assert.deepEqual(a.manager.tenantNames(), ["root"]);
  assert.deepEqual(shards.get("b")!.manager.tenantNames().sort(), ["root", "t1", "t2", "t3"]);

  // An admin moves t2 to a by writing status.shard.
  await cps.update(
    "",
    "t2",
    (cur) => {
      cur["status"] = { ...(cur["status"] as ControlPlaneStatus), shard: "a" };
      return cur;
    },
    { dryRun: false, subresource: "status" },
  );
  await settle(names);
  assert.deepEqual([(await statusOf("t2"))?.shard, (await statusOf("t2"))?.phase], ["a", "Ready"]);
  assert.deepEqual(a.manager.tenantNames().sort(), ["root", "t2"]);
  assert.ok(!shards.get("b")!.manager.tenantNames().includes("t2"));

  // Deletion: the shard of each tenant wipes it and lets it go; no shard keeps it registered.
  for (const n of names) await cps.delete("", n, { dryRun: false });
  await settle(names);
  for (const n of names) await assert.rejects(controlPlane(n), /not found/);
  for (const s of shards.values()) assert.deepEqual(s.manager.tenantNames(), ["root"]);
});
