// status.usage of a ControlPlane, as the registry's reconciler writes it on real instances
// (embedded storage, the platform's CRDs in the root tenant): only once the tenant's instance
// is active here, equal to what the tenant stores, and rewritten at most once per interval per
// tenant however often the ControlPlane is reconciled (the clock is a variable the test moves).

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
import { tenantPrefix } from "../storage/keys.ts";
import {
  controlPlaneDef,
  reconcileControlPlane,
  type ControlPlaneReconcileContext,
} from "./controlplane.reconcile.ts";
import type { ControlPlane } from "./controlplane.types.ts";
import { rootTenant, TenantManager, type TenantInstance } from "./instance.ts";

let dir: string;
let storage: Storage;
let manager: TenantManager;
let root: TenantInstance;
let clock = 1_000_000;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "multiplane-cp-usage-"));
  storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  manager = new TenantManager(storage);
  root = await manager.instance(rootTenant);
  await installCRDs(root, await readCRDs(platformCRDsDir));
});
after(async () => {
  await manager.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const context: ControlPlaneReconcileContext = {
  get root() {
    return root;
  },
  get tenants() {
    return manager;
  },
  get storage() {
    return storage;
  },
  shard: "local",
  serverURL: "https://multiplane.invalid",
  log: pino({ level: "silent" }),
  managed: new Map(),
  usageWrittenAt: new Map(),
  usageIntervalMs: 5_000,
  now: () => clock,
  shards: { isLive: (shard) => shard === "local", liveShards: () => ["local"] },
  serialized: (fn) => fn(),
};

async function controlPlane(name: string): Promise<ControlPlane> {
  const cp: ControlPlane = await new GenericStore(root, controlPlaneDef(root)).get("", name);
  return cp;
}

/** What the tenant stores: its keys and the bytes of their values. */
async function stored(uid: string): Promise<{ objects: number; storageBytes: number }> {
  const list = await storage.list(tenantPrefix({ uid }));
  return {
    objects: list.items.length,
    storageBytes: list.items.reduce((n, kv) => n + kv.value.byteLength, 0),
  };
}

test("status.usage: written once the tenant is active, what it stores, at most once per interval", async () => {
  const cps = new GenericStore(root, controlPlaneDef(root));
  await cps.create(
    {
      apiVersion: "core.multiplane.dev/v1alpha1",
      kind: "ControlPlane",
      metadata: { name: "acme" },
      spec: { organization: "acme" },
    },
    "",
    { dryRun: false },
  );
  // The first reconciles place the tenant on this shard, then register it (finalizer, then
  // Ready): no instance, no usage.
  await reconcileControlPlane(context, "acme");
  await reconcileControlPlane(context, "acme");
  await reconcileControlPlane(context, "acme");
  let cp = await controlPlane("acme");
  assert.equal(cp.status?.phase, "Ready");
  assert.equal(cp.status?.usage, undefined);

  // Active: the next reconcile writes what the tenant stores.
  const tenant = manager.lookup("acme")!;
  const instance = await manager.instance(tenant);
  await reconcileControlPlane(context, "acme");
  cp = await controlPlane("acme");
  const first = await stored(tenant.uid);
  assert.deepEqual(cp.status?.usage, first);
  assert.ok(first.objects > 0 && first.storageBytes > 0);

  // The tenant grows; reconciles within the interval leave status.usage as it was.
  const configMaps = new GenericStore(instance, instance.resources.lookup("", "v1", "configmaps")!);
  await configMaps.create(
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "grow" }, data: { k: "v".repeat(300) } },
    "default",
    { dryRun: false },
  );
  await instance.cache.consistent();
  clock += 4_999;
  await reconcileControlPlane(context, "acme");
  await reconcileControlPlane(context, "acme");
  assert.deepEqual((await controlPlane("acme")).status?.usage, first);

  // Once the interval has passed, it follows.
  clock += 1;
  await reconcileControlPlane(context, "acme");
  const second = await stored(tenant.uid);
  assert.deepEqual(second.objects, first.objects + 1);
  assert.deepEqual((await controlPlane("acme")).status?.usage, second);
  assert.equal(context.usageWrittenAt.get("acme"), clock);

  // A tenant no longer active keeps its last usage.
  await manager.setTenant({ ...tenant });
  await reconcileControlPlane(context, "acme");
  assert.deepEqual((await controlPlane("acme")).status?.usage, second);
});
