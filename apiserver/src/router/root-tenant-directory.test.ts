// RootTenantDirectory against a fake shard (HTTPS with the router's client certificate): the
// first lists make it ready; tenants are answered from ControlPlanes (phase, shard, a
// project's effective policy from its organization's, Pending without its organization),
// shard URLs from Leases; watch events are seen at once (a deletion, a move); an ERROR 410 on
// the watch lists again; the router's identity headers are sent on every request. The watch
// keeps nothing of a list once it is delivered (V8's gc, exposed at run time, and WeakRefs).

import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pino from "pino";
import { generateCA, issueCertificate, type CertKeyPair } from "../server/pki.ts";
import { RootTenantDirectory } from "./root-tenant-directory.ts";
import { RootWatch } from "./root-watch.ts";

const cpPath = "/apis/core.multiplane.dev/v1alpha1/controlplanes";
const leasePath = "/apis/coordination.k8s.io/v1/namespaces/multiplane-system/leases";

let ca: CertKeyPair;
let client: CertKeyPair;
let server: Server;
let url: string;
let rv = 10;
/** What the fake shard lists, by collection path. */
const objects = new Map<string, Map<string, object>>([
  [cpPath, new Map()],
  [leasePath, new Map()],
]);
const watchers = new Map<string, Set<ServerResponse>>([
  [cpPath, new Set()],
  [leasePath, new Set()],
]);
const lists = new Map<string, number>();
const identities = new Set<string>();
/** When set, watches are held unanswered (not even headers) and kept here. */
let holdWatches = false;
const held = new Set<ServerResponse>();

const controlPlane = (name: string, spec: object, status?: object, meta: object = {}) => ({
  apiVersion: "core.multiplane.dev/v1alpha1",
  kind: "ControlPlane",
  metadata: { name, uid: `uid-${name}`, resourceVersion: String(++rv), ...meta },
  spec,
  ...(status !== undefined ? { status } : {}),
});

const lease = (shard: string, shardURL: string) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: {
    name: `shard-${shard}`,
    namespace: "multiplane-system",
    resourceVersion: String(++rv),
    annotations: { "multiplane.dev/shard-url": shardURL },
  },
  spec: { holderIdentity: shard, leaseDurationSeconds: 10 },
});

/** Stores the object and sends the event to the collection's watches. */
function emit(
  path: string,
  type: "ADDED" | "MODIFIED" | "DELETED",
  obj: { metadata: { name: string } },
): void {
  if (type === "DELETED") objects.get(path)!.delete(obj.metadata.name);
  else objects.get(path)!.set(obj.metadata.name, obj);
  for (const w of watchers.get(path)!) w.write(`${JSON.stringify({ type, object: obj })}\n`);
}

before(async () => {
  ca = await generateCA("directory-test-ca");
  const serving = await issueCertificate(ca, { commonName: "shard", hosts: ["127.0.0.1"], usage: "server" });
  client = await issueCertificate(ca, { commonName: "multiplane-router", usage: "client" });
  server = createServer(
    {
      key: serving.keyPem,
      cert: serving.certPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      identities.add(`${String(req.headers["x-remote-user"])}|${String(req.headers["x-remote-group"])}`);
      const u = new URL(req.url ?? "/", "https://x");
      const items = objects.get(u.pathname);
      if (items === undefined) {
        res.writeHead(404).end();
        return;
      }
      if (u.searchParams.get("watch") !== "true") {
        lists.set(u.pathname, (lists.get(u.pathname) ?? 0) + 1);
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ items: [...items.values()], metadata: { resourceVersion: String(rv) } }));
        return;
      }
      if (holdWatches) {
        held.add(res);
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      watchers.get(u.pathname)!.add(res);
      res.on("close", () => watchers.get(u.pathname)!.delete(res));
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const set of watchers.values()) for (const w of set) w.destroy();
  for (const w of held) w.destroy();
  await new Promise((r) => server.close(r));
});

async function eventually(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not true in time: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("tenants and shards from the root tenant's watch", async () => {
  emit(leasePath, "ADDED", lease("a", "https://shard-a:6443"));
  emit(
    cpPath,
    "ADDED",
    controlPlane(
      "acme",
      { organization: "acme", policy: { quotas: { maxObjects: 100 } } },
      { phase: "Ready", shard: "a" },
    ),
  );
  emit(
    cpPath,
    "ADDED",
    controlPlane(
      "acme.web",
      { organization: "acme", project: "web", policy: { quotas: { maxObjects: 500 } } },
      { phase: "Ready", shard: "a" },
    ),
  );
  emit(
    cpPath,
    "ADDED",
    controlPlane("lone.web", { organization: "lone", project: "web" }, { phase: "Ready", shard: "a" }),
  );
  emit(cpPath, "ADDED", controlPlane("fresh", { organization: "fresh" }));

  const directory = new RootTenantDirectory({
    rootURLs: ["https://127.0.0.1:1", url], // the first answers nothing: the next is tried
    caPem: ca.certPem,
    clientCertificate: client,
    log: pino({ level: "silent" }),
  });
  assert.equal(directory.ready, false);
  await directory.start();
  try {
    assert.equal(directory.ready, true);
    assert.deepEqual([...identities], ["system:multiplane:router|system:masters"]);
    assert.deepEqual(directory.lookup("root"), { name: "root", uid: "root", phase: "Ready", shard: "a" });
    assert.equal(directory.shardURL("a"), "https://shard-a:6443");
    const acme = directory.lookup("acme");
    assert.deepEqual([acme?.uid, acme?.phase, acme?.shard], ["uid-acme", "Ready", "a"]);
    // A project's effective policy is never wider than its organization's.
    assert.equal(directory.lookup("acme:web")?.policy?.quotas?.maxObjects, 100);
    assert.equal(directory.lookup("lone:web")?.phase, "Pending", "its organization does not exist");
    assert.deepEqual([directory.lookup("fresh")?.phase, directory.lookup("fresh")?.shard], ["Pending", ""]);
    assert.equal(directory.lookup("nope"), undefined);
    assert.equal(directory.lookup("a/b"), undefined);

    // A move and a deletion are seen as their events arrive (the fake shard keeps no history:
    // the watches must be open first).
    await eventually(
      "both watches open",
      () => watchers.get(cpPath)!.size > 0 && watchers.get(leasePath)!.size > 0,
    );
    emit(leasePath, "ADDED", lease("b", "https://shard-b:6443"));
    emit(cpPath, "MODIFIED", controlPlane("acme", { organization: "acme" }, { phase: "Ready", shard: "b" }));
    await eventually("acme moved to b", () => directory.lookup("acme")?.shard === "b");
    await eventually("shard b's URL", () => directory.shardURL("b") === "https://shard-b:6443");
    assert.equal(
      directory.lookup("acme:web")?.policy?.quotas?.maxObjects,
      500,
      "the organization's cap is gone",
    );
    emit(
      cpPath,
      "MODIFIED",
      controlPlane("fresh", { organization: "fresh" }, {}, { deletionTimestamp: "2026-01-01T00:00:00Z" }),
    );
    await eventually("fresh Terminating", () => directory.lookup("fresh")?.phase === "Terminating");
    emit(cpPath, "DELETED", controlPlane("fresh", { organization: "fresh" }));
    await eventually("fresh gone", () => directory.lookup("fresh") === undefined);

    // 410 Gone on the watch: a fresh list (that has what happened in between).
    const listed = lists.get(cpPath) ?? 0;
    objects
      .get(cpPath)!
      .set("late", controlPlane("late", { organization: "late" }, { phase: "Ready", shard: "b" }));
    for (const w of watchers.get(cpPath)!) {
      w.end(
        `${JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } })}\n`,
      );
    }
    await eventually("listed again", () => (lists.get(cpPath) ?? 0) > listed);
    await eventually("late is known", () => directory.lookup("late")?.phase === "Ready");
  } finally {
    await directory.stop();
  }
});

test("stop() ends a watch whose answer has not come yet", async () => {
  holdWatches = true;
  held.clear();
  const directory = new RootTenantDirectory({
    rootURLs: [url],
    caPem: ca.certPem,
    clientCertificate: client,
    log: pino({ level: "silent" }),
  });
  try {
    await directory.start();
    await eventually("both watches sent, unanswered", () => held.size === 2);
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      directory.stop().then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5_000))),
    ]);
    clearTimeout(timer);
    assert.equal(stopped, true, "stop() returned while the watches were waiting for their answers");
  } finally {
    holdWatches = false;
  }
});

test("a RootWatch keeps nothing of a list it delivered while it watches", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  for (let i = 0; i < 50; i++) {
    const name = `listed-${i}`;
    objects.get(cpPath)!.set(name, controlPlane(name, { organization: name, padding: "x".repeat(1000) }));
  }
  let refs: WeakRef<object>[] = [];
  const watch = new RootWatch({
    urls: [url],
    path: cpPath,
    caPem: ca.certPem,
    clientCertificate: client,
    onList: (items) => (refs = items.map((o) => new WeakRef(o))),
    onEvent: () => {},
    log: pino({ level: "silent" }),
  });
  try {
    await watch.start();
    assert.ok(refs.length >= 50);
    await eventually("the watch open", () => watchers.get(cpPath)!.size > 0);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.equal(alive, 0, `${alive} of ${refs.length} listed objects kept while watching`);
  } finally {
    await watch.stop();
  }
});
