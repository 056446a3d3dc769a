// What an open watch keeps alive: nothing of the history or initial list it started with once
// these are sent. A watch lives up to an hour; the root tenant's watches (operators, routers)
// resumed after a mass deletion of tenants kept every deleted ControlPlane in memory through
// the handler's frame. Real embedded storage, a tenant instance, handleWatch behind a real HTTP
// server; the heap is collected with V8's gc (exposed at run time) and WeakRefs tell what stayed.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, get, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { UserInfo } from "../authn/user.ts";
import { parseRequestInfo } from "../request/request-info.ts";
import type { KubeObject } from "../registry/printers.ts";
import { GenericStore } from "../registry/store.ts";
import { historyRetention, sweepHistory } from "../registry/watch-cache.ts";
import { openStorage } from "../storage/index.ts";
import type { Storage } from "../storage/interface.ts";
import { resourcePrefix } from "../storage/keys.ts";
import { rootTenant, TenantManager, type TenantInstance } from "../tenancy/instance.ts";
import { handleWatch } from "./resource.handler.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let dir: string;
let storage: Storage;
let manager: TenantManager;
let instance: TenantInstance;
let server: Server;

const admin: UserInfo = { name: "admin", uid: "", groups: ["system:masters"], extra: {} };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "multiplane-watch-retention-"));
  storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  manager = new TenantManager(storage);
  instance = await manager.instance(rootTenant);
  // handleWatch as the chain calls it, for GETs of configmaps with ?watch.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.searchParams);
    handleWatch(
      {
        instance,
        user: admin,
        admission: { user: admin, warnings: [], auditAnnotations: {} },
        info,
        query: url.searchParams,
        headers: req.headers,
        body: undefined,
      },
      res,
    ).catch((err: unknown) => res.destroy(err as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await manager.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const configMaps = (): GenericStore =>
  new GenericStore(instance, instance.resources.lookup("", "v1", "configmaps")!);

const configMap = (name: string, namespace: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  data: { payload: "x".repeat(2_000) },
});

/** Opens a watch and resolves once `frames` lines have arrived; the response stays open. */
function watch(path: string, frames: number): Promise<IncomingMessage> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path }, (res) => {
      let lines = 0;
      const onData = (chunk: Buffer): void => {
        lines += chunk.toString().split("\n").length - 1;
        if (lines < frames) return;
        res.off("data", onData);
        res.resume();
        resolve(res);
      };
      res.on("data", onData);
      res.once("error", reject);
    }).once("error", reject);
  });
}

/** Weak references to the cached objects of every event under `prefix` after `revision`. */
function cachedObjectsSince(prefix: string, revision: number): WeakRef<object>[] {
  const events = instance.cache.eventsSince(prefix, revision) ?? [];
  return events
    .flatMap((e) => [e.object, ...(e.prev !== undefined ? [e.prev] : [])])
    .map((c) => new WeakRef(c));
}

async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
}

test("a watch resumed from history keeps none of the history's objects once they are sent", async () => {
  const store = configMaps();
  const from = instance.cache.revision;
  const names = Array.from({ length: 20 }, (_, i) => `gone-${i}`);
  for (const name of names) await store.create(configMap(name, "default"), "default", { dryRun: false });
  for (const name of names) await store.delete("default", name, { dryRun: false });
  await instance.cache.consistent();
  const prefix = resourcePrefix({ uid: rootTenant.uid }, { group: "", resource: "configmaps" }, "default");
  const refs = cachedObjectsSince(prefix, from);
  assert.equal(refs.length, names.length * 3, "each create an object, each delete an object and its prev");

  // Resumed from before the creations: the history (created, then deleted) is its first frames.
  const res = await watch(`/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${from}`, 40);

  // Past the history window: enough later events elsewhere, then the sweeper's pass.
  for (let i = 0; i <= historyRetention.minEvents; i++)
    await store.create(configMap(`later-${i}`, "kube-public"), "kube-public", { dryRun: false });
  await instance.cache.consistent();
  sweepHistory(Date.now() + historyRetention.freshMs + 1);
  assert.equal(instance.cache.eventsSince(prefix, from), undefined, "the history no longer holds them");
  await collect();

  const alive = refs.filter((r) => r.deref() !== undefined).length;
  assert.equal(res.destroyed, false, "the watch is still open");
  assert.equal(alive, 0, `${alive} of ${refs.length} cached objects of the history kept by the open watch`);
  res.destroy();
});

test("a watch that started with the initial list keeps none of its objects once they are sent", async () => {
  const store = configMaps();
  const names = Array.from({ length: 20 }, (_, i) => `listed-${i}`);
  for (const name of names)
    await store.create(configMap(name, "kube-node-lease"), "kube-node-lease", { dryRun: false });
  await instance.cache.consistent();
  const prefix = resourcePrefix(
    { uid: rootTenant.uid },
    { group: "", resource: "configmaps" },
    "kube-node-lease",
  );
  const refs = instance.cache.list(prefix).map((c) => new WeakRef(c.obj));
  assert.equal(refs.length, names.length);

  const res = await watch(`/api/v1/namespaces/kube-node-lease/configmaps?watch=1`, names.length);
  for (const name of names) await store.delete("kube-node-lease", name, { dryRun: false });
  for (let i = 0; i <= historyRetention.minEvents; i++)
    await store.create(configMap(`after-${i}`, "kube-public"), "kube-public", { dryRun: false });
  await instance.cache.consistent();
  sweepHistory(Date.now() + historyRetention.freshMs + 1);
  await collect();

  const alive = refs.filter((r) => r.deref() !== undefined).length;
  assert.equal(res.destroyed, false, "the watch is still open");
  assert.equal(alive, 0, `${alive} of ${refs.length} listed objects kept by the open watch`);
  res.destroy();
});
