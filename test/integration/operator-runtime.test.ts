// The operator runtime against a real API server (Multiplane's own, embedded storage, over
// TLS with the admin's token): an Informer following ConfigMaps through adds, updates,
// deletes and resyncs, relisting after a 410 Gone; two LeaderElectors on one Lease (the
// leader cut off from the server loses it and the other takes over after the lease
// duration, never both at once; a released Lease is taken at once); the EventRecorder's
// Events and their aggregated counts; and a Controller driven by an Informer.
// A TCP proxy (test/support/tcp-proxy.ts) stands for a frozen process or a broken network.

import { KubeConfig, Watch, type KubernetesObject, type V1ConfigMap } from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import { objectKey, resourcePrefix } from "../../apiserver/src/storage/keys.ts";
import {
  Controller,
  EventRecorder,
  Informer,
  LeaderElector,
  OperatorMetrics,
  RestClient,
  serveMetrics,
} from "../../operator/src/runtime/index.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";

let mp: TestMultiplane;
let kc: KubeConfig;
let rest: RestClient;

before(async () => {
  mp = await startMultiplane();
  kc = new KubeConfig();
  kc.loadFromFile(mp.kubeconfigPath);
  rest = new RestClient(kc);
});

after(async () => {
  await mp?.destroy();
});

// ---------------------------------------------------------------------------
// Helpers

const suffix = (): string => randomBytes(3).toString("hex");

/** A logger whose lines the test can read. */
function capturedLog(): { log: pino.Logger; lines: { msg?: string; level: number }[] } {
  const lines: { msg?: string; level: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line) lines.push(JSON.parse(line) as { msg?: string; level: number });
      }
      done();
    },
  });
  return { log: pino({ level: "debug" }, sink), lines };
}

async function freshNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${suffix()}`;
  await rest.request("/api/v1/namespaces", { method: "POST", body: { metadata: { name } } });
  return name;
}

const configMaps = (ns: string): string => `/api/v1/namespaces/${ns}/configmaps`;

function createConfigMap(ns: string, name: string, data: Record<string, string> = {}): Promise<V1ConfigMap> {
  return rest.request<V1ConfigMap>(configMaps(ns), { method: "POST", body: { metadata: { name }, data } });
}

function patchConfigMap(ns: string, name: string, data: Record<string, string>): Promise<V1ConfigMap> {
  return rest.request<V1ConfigMap>(`${configMaps(ns)}/${name}`, {
    method: "PATCH",
    contentType: "application/merge-patch+json",
    body: { data },
  });
}

function deleteConfigMap(ns: string, name: string): Promise<unknown> {
  return rest.request(`${configMaps(ns)}/${name}`, { method: "DELETE" });
}

/** Polls `check` until it holds; fails with `what` and the last observation otherwise. */
async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  describeState: () => unknown = () => undefined,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      assert.fail(
        `timed out after ${timeoutMs} ms waiting for ${what}; last state: ${JSON.stringify(describeState())}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The first event of a watch from `resourceVersion` (or "none" when there is none at once). */
async function firstWatchEvent(
  path: string,
  resourceVersion: string,
): Promise<{ type: string; code?: number }> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let request: AbortController | undefined;
    // Resolves before aborting: the abort calls the watch's done callback, hence finish, again.
    const finish = (v: { type: string; code?: number }): void => {
      resolve(v);
      clearTimeout(timer);
      request?.abort();
    };
    new Watch(kc)
      .watch(
        path,
        { resourceVersion },
        (type: string, obj: { code?: number }) => finish({ type, ...(obj.code ? { code: obj.code } : {}) }),
        () => finish({ type: "none" }),
      )
      .then((r) => {
        request = r;
        timer = setTimeout(() => finish({ type: "none" }), 1000);
      }, reject);
  });
}

/**
 * Writes events into the root tenant's storage (under a resource nobody watches) until a
 * watch of `path` from `resourceVersion` is answered with 410 Gone: the server's watch
 * history (at most 10,000 events) no longer reaches back there.
 */
async function expireWatchHistory(path: string, resourceVersion: string): Promise<void> {
  const tenant = { uid: mp.tenants.lookup("root")?.uid ?? assert.fail("no root tenant") };
  const filler = { group: "history-filler.example.com", resource: "fillers" };
  const value = Buffer.from(JSON.stringify({ apiVersion: "history-filler.example.com/v1", kind: "Filler" }));
  for (let round = 0; round < 10; round++) {
    const event = await firstWatchEvent(path, resourceVersion);
    if (event.type === "ERROR" && event.code === 410) return;
    let next = 0;
    const writer = async (): Promise<void> => {
      while (next < 2_500) {
        const i = next++;
        await mp.storage.create(objectKey(tenant, filler, undefined, `f-${round}-${i}`), value);
      }
    };
    await Promise.all(Array.from({ length: 32 }, writer));
    await mp.storage.deletePrefix(resourcePrefix(tenant, filler));
  }
  assert.fail(`${path} still replays history from ${resourceVersion} after 50,000 events`);
}

// ---------------------------------------------------------------------------

describe("Informer", () => {
  test("lists, then follows adds, updates and deletes; keys are namespace/name", async () => {
    const ns = await freshNamespace("informer");
    await createConfigMap(ns, "before", { v: "0" });
    const informer = new Informer<V1ConfigMap>(kc, configMaps(ns), { log: capturedLog().log });
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on("update", (o, old) =>
      seen.push(`update ${o.metadata?.name} ${old?.data?.["v"]}->${o.data?.["v"]}`),
    );
    informer.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    try {
      assert.deepEqual(seen, ["add before"], "start() resolves with the list in the cache");
      const listed = informer.get(`${ns}/before`) ?? assert.fail("before is cached");
      assert.equal(listed.kind, "ConfigMap", "list items get the list's kind");
      assert.equal(listed.apiVersion, "v1");

      await createConfigMap(ns, "a", { v: "1" });
      await waitFor(
        "a to be cached",
        () => informer.get(`${ns}/a`) !== undefined,
        () => seen,
      );
      await patchConfigMap(ns, "a", { v: "2" });
      await waitFor(
        "a's update",
        () => informer.get(`${ns}/a`)?.data?.["v"] === "2",
        () => seen,
      );
      await deleteConfigMap(ns, "a");
      await waitFor(
        "a's delete",
        () => informer.get(`${ns}/a`) === undefined,
        () => seen,
      );
      assert.deepEqual(seen, ["add before", "add a", "update a 1->2", "delete a"]);
      assert.deepEqual(
        informer.list().map((o) => o.metadata?.name),
        ["before"],
      );
    } finally {
      informer.stop();
    }
  });

  test("a label selector limits what it sees", async () => {
    const ns = await freshNamespace("selector");
    await rest.request(configMaps(ns), {
      method: "POST",
      body: { metadata: { name: "mine", labels: { app: "x" } } },
    });
    await createConfigMap(ns, "other");
    const informer = new Informer<V1ConfigMap>(kc, configMaps(ns), {
      labelSelector: "app=x",
      log: capturedLog().log,
    });
    await informer.start();
    try {
      assert.deepEqual(
        informer.list().map((o) => o.metadata?.name),
        ["mine"],
      );
    } finally {
      informer.stop();
    }
  });

  test("resync re-delivers every cached object as an update of itself", async () => {
    const ns = await freshNamespace("resync");
    await createConfigMap(ns, "x");
    await createConfigMap(ns, "y");
    const informer = new Informer<V1ConfigMap>(kc, configMaps(ns), { resyncMs: 200, log: capturedLog().log });
    const resynced = new Map<string, number>();
    let notItself = 0;
    informer.on("update", (o, old) => {
      if (o !== old) notItself++;
      resynced.set(o.metadata?.name ?? "", (resynced.get(o.metadata?.name ?? "") ?? 0) + 1);
    });
    await informer.start();
    try {
      await waitFor(
        "two resyncs of x and y",
        () => (resynced.get("x") ?? 0) >= 2 && (resynced.get("y") ?? 0) >= 2,
        () => [...resynced],
      );
      assert.equal(notItself, 0, "a resync's old object is the cached one");
    } finally {
      informer.stop();
    }
  });

  test("relists after 410 Gone and delivers what it missed, then watches on", async () => {
    const ns = await freshNamespace("gone");
    const proxy = await startTcpProxy(mp.url);
    const { log, lines } = capturedLog();
    const informer = new Informer<V1ConfigMap>(proxy.kubeconfig(kc), configMaps(ns), { log });
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
    const state = (): unknown => ({ seen, cache: informer.list().map((o) => o.metadata?.name), lines });
    await informer.start();
    try {
      await createConfigMap(ns, "b");
      await waitFor("b to be cached", () => informer.get(`${ns}/b`) !== undefined, state);
      const rv = informer.get(`${ns}/b`)?.metadata?.resourceVersion ?? assert.fail("b has a resourceVersion");

      // Cut off, the informer misses b's delete and c's create, and the server's history
      // moves past the resourceVersion it will resume from.
      proxy.cut();
      await deleteConfigMap(ns, "b");
      await createConfigMap(ns, "c");
      await expireWatchHistory(configMaps(ns), rv);
      seen.length = 0;
      proxy.restore();

      await waitFor(
        "the relisted cache to hold c and not b",
        () => informer.get(`${ns}/c`) !== undefined && informer.get(`${ns}/b`) === undefined,
        state,
      );
      assert.deepEqual([...seen].sort(), ["add c", "delete b"]);
      assert.ok(
        lines.some((l) => l.msg === "watch history expired (410); relisting"),
        "the informer relisted because of a 410",
      );

      // ... and keeps watching after the relist.
      await createConfigMap(ns, "d");
      await waitFor("d to be cached", () => informer.get(`${ns}/d`) !== undefined, state);
    } finally {
      informer.stop();
      await proxy.close();
    }
  });

  test("start() retries a failing list and resolves once it succeeds; stop() before that rejects it", async () => {
    const ns = await freshNamespace("retry");
    await createConfigMap(ns, "late");
    const proxy = await startTcpProxy(mp.url);
    proxy.cut();
    const informer = new Informer<V1ConfigMap>(proxy.kubeconfig(kc), configMaps(ns), {
      log: capturedLog().log,
    });
    const started = informer.start();
    setTimeout(() => proxy.restore(), 300);
    await started;
    assert.ok(informer.get(`${ns}/late`));
    informer.stop();

    proxy.cut();
    const again = informer.start();
    informer.stop();
    await assert.rejects(again, /stopped/);
    await proxy.close();
  });
});

describe("LeaderElector", () => {
  interface Lease {
    metadata: { resourceVersion: string };
    spec: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number };
  }
  let ns: string;
  const readLease = (name: string): Promise<Lease> =>
    rest.request<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`);

  before(async () => {
    ns = await freshNamespace("leases");
  });

  /** An elector that records when it led; `work` ends when its signal aborts. */
  function candidate(
    identity: string,
    lease: string,
    kubeconfig: KubeConfig,
    timing: Partial<Record<string, number>>,
  ) {
    const metrics = new OperatorMetrics();
    const periods: { started: number; stopped?: number }[] = [];
    const elector = new LeaderElector({
      kc: kubeconfig,
      namespace: ns,
      name: lease,
      identity,
      metrics,
      log: capturedLog().log,
      ...timing,
    });
    const running = elector.run(async (signal) => {
      const period: { started: number; stopped?: number } = { started: Date.now() };
      periods.push(period);
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      period.stopped = Date.now();
    });
    return { identity, elector, metrics, periods, running };
  }

  test("one of two leads; cut off, it stops leading and the other takes over after the lease duration", async () => {
    // a stops leading at most retryPeriod + renewDeadline (2.5 s) after its last renewal; b
    // takes over no sooner than leaseDuration (4 s) after it: never two leaders at once.
    const timing = { leaseDurationMs: 4000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
    const proxyA = await startTcpProxy(mp.url);
    const a = candidate("a", "cut", proxyA.kubeconfig(kc), timing);
    await waitFor("a to lead", () => a.elector.isLeader);
    const b = candidate("b", "cut", kc, timing);
    try {
      const lease = await readLease("cut");
      assert.equal(lease.spec.holderIdentity, "a");
      assert.equal(lease.spec.leaseDurationSeconds, 4);
      assert.equal(lease.spec.leaseTransitions, 0);
      // b keeps trying while a renews: a's renewals change the record, so it never expires for b.
      await new Promise((r) => setTimeout(r, timing.leaseDurationMs + 500));
      assert.equal(b.elector.isLeader, false, "b does not take a Lease that is being renewed");
      assert.equal(b.periods.length, 0);
      assert.match(await a.metrics.registry.metrics(), /leader_election_master_status\{name="cut"\} 1/);

      // a is cut off (a frozen process, a broken network): it cannot renew.
      proxyA.cut();
      await waitFor("b to lead", () => b.elector.isLeader, undefined, 2 * timing.leaseDurationMs);
      assert.equal(a.elector.isLeader, false);
      const aStopped = a.periods[0]?.stopped ?? assert.fail("a's work was stopped");
      assert.ok(aStopped <= b.periods[0]!.started, "a stopped leading before b started: never two leaders");
      const taken = await readLease("cut");
      assert.equal(taken.spec.holderIdentity, "b");
      assert.equal(taken.spec.leaseTransitions, 1);
      assert.match(await a.metrics.registry.metrics(), /leader_election_master_status\{name="cut"\} 0/);

      // a, stopped while cut off and not leading, ends at once and writes nothing.
      await a.elector.stop();
      await a.running;
      assert.equal((await readLease("cut")).spec.holderIdentity, "b");
    } finally {
      await a.elector.stop();
      await b.elector.stop();
      await proxyA.close();
    }
  });

  test("stop() ends the work, then releases the Lease; the other candidate takes it at once", async () => {
    // A lease of 60 s: the second candidate can only get it this quickly through the release.
    const timing = { leaseDurationMs: 60_000, renewDeadlineMs: 2000, retryPeriodMs: 200 };
    const first = candidate("first", "release", kc, timing);
    await waitFor("first to lead", () => first.elector.isLeader);
    const second = candidate("second", "release", kc, timing);
    try {
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(second.elector.isLeader, false);
      await first.elector.stop();
      assert.ok(first.periods[0]?.stopped !== undefined, "stop() resolved after the work ended");
      assert.equal(first.elector.isLeader, false);
      await waitFor("second to lead", () => second.elector.isLeader, undefined, 10_000);
      const lease = await readLease("release");
      assert.equal(lease.spec.holderIdentity, "second");
      assert.equal(lease.spec.leaseTransitions, 1);
      assert.ok(first.periods[0].stopped <= second.periods[0]!.started);

      const server = await serveMetrics(second.metrics.registry, 0, "127.0.0.1");
      try {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        assert.match(text, /leader_election_master_status\{name="release"\} 1/);
        // The Helm chart probes these on the metrics port.
        for (const probe of ["/livez", "/readyz", "/healthz"]) {
          const res = await fetch(`${server.url}${probe}`);
          assert.deepEqual([probe, res.status, await res.text()], [probe, 200, "ok"]);
        }
        assert.equal((await fetch(`${server.url}/nope`)).status, 404);
      } finally {
        await server.close();
      }
    } finally {
      await first.elector.stop();
      await second.elector.stop();
    }
    const released = await readLease("release");
    assert.equal(released.spec.holderIdentity, "", "the last leader released it too");
  });
});

describe("graceful shutdown", () => {
  test("the leader's stop() waits for its controller's running reconcile, then releases the Lease", async () => {
    const ns = await freshNamespace("shutdown");
    await createConfigMap(ns, "slow");
    const lease = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/operator`;
    const holder = async (): Promise<string | undefined> =>
      (await rest.request<{ spec: { holderIdentity?: string } }>(lease)).spec.holderIdentity;
    const elector = new LeaderElector({
      kc,
      namespace: ns,
      name: "operator",
      identity: "replica-1",
      log: capturedLog().log,
    });
    let finishReconcile!: () => void;
    let reconcileStarted!: () => void;
    const reconciling = new Promise<void>((r) => (reconcileStarted = r));
    const running = elector.run(async (signal) => {
      const informer = new Informer<V1ConfigMap>(kc, configMaps(ns), { log: capturedLog().log });
      const controller = new Controller({
        name: "slow",
        log: capturedLog().log,
        reconcile: () => {
          reconcileStarted();
          return new Promise<void>((r) => (finishReconcile = r));
        },
      }).watch(informer);
      await informer.start();
      controller.start();
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      await controller.stop();
      informer.stop();
    });
    await reconciling;
    let stopped = false;
    const stopping = elector.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stopped, false, "stop() waits for the running reconcile");
    assert.equal(await holder(), "replica-1", "the Lease stays held while the work runs");
    finishReconcile();
    await stopping;
    await running;
    assert.equal(await holder(), "", "released once the work ended");
  });
});

describe("EventRecorder", () => {
  interface Event {
    metadata: { name: string; namespace: string };
    involvedObject: { kind?: string; name?: string; namespace?: string; uid?: string; apiVersion?: string };
    reason: string;
    message: string;
    type: string;
    count: number;
    firstTimestamp: string;
    lastTimestamp: string;
    source: { component?: string };
  }
  const events = async (ns: string): Promise<Event[]> =>
    (await rest.request<{ items: Event[] }>(`/api/v1/namespaces/${ns}/events`)).items;

  test("creates an Event on the object and counts repeats in it", async () => {
    const ns = await freshNamespace("events");
    const cm = { ...(await createConfigMap(ns, "target")), apiVersion: "v1", kind: "ConfigMap" };
    const recorder = new EventRecorder(kc, "multiplane-operator", capturedLog().log);
    recorder.event(cm, "Normal", "Synced", "all good");
    recorder.event(cm, "Normal", "Synced", "all good");
    recorder.event(cm, "Warning", "Failed", "something broke");
    recorder.event(cm, "Normal", "Synced", "all good");
    await recorder.flush();
    const list = (await events(ns)).sort((x, y) => x.reason.localeCompare(y.reason));
    assert.equal(list.length, 2, JSON.stringify(list));
    const [failed, synced] = list as [Event, Event];
    assert.equal(synced.count, 3);
    assert.equal(synced.type, "Normal");
    assert.equal(synced.message, "all good");
    assert.equal(synced.source.component, "multiplane-operator");
    assert.deepEqual(
      {
        kind: synced.involvedObject.kind,
        name: synced.involvedObject.name,
        namespace: synced.involvedObject.namespace,
        uid: synced.involvedObject.uid,
        apiVersion: synced.involvedObject.apiVersion,
      },
      { kind: "ConfigMap", name: "target", namespace: ns, uid: cm.metadata?.uid, apiVersion: "v1" },
    );
    assert.match(synced.metadata.name, /^target\.[0-9a-f]+$/);
    assert.ok(synced.firstTimestamp <= synced.lastTimestamp);
    assert.equal(failed.count, 1);
    assert.equal(failed.type, "Warning");
  });

  test("Events on cluster-scoped objects go to the default namespace", async () => {
    const name = `scoped-${suffix()}`;
    const obj: KubernetesObject = {
      ...(await rest.request<KubernetesObject>("/api/v1/namespaces", {
        method: "POST",
        body: { metadata: { name } },
      })),
      apiVersion: "v1",
      kind: "Namespace",
    };
    const recorder = new EventRecorder(kc, "multiplane-operator", capturedLog().log);
    recorder.event(obj, "Normal", "Seen", "cluster-scoped");
    await recorder.flush();
    const found = (await events("default")).filter((e) => e.involvedObject.name === name);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.involvedObject.kind, "Namespace");
  });

  test("a failed write is logged, never thrown at the caller", async () => {
    const proxy = await startTcpProxy(mp.url);
    await proxy.close(); // nothing listens there any more
    const { log, lines } = capturedLog();
    const recorder = new EventRecorder(proxy.kubeconfig(kc), "multiplane-operator", log);
    recorder.event(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "default" } },
      "Normal",
      "R",
      "m",
    );
    await recorder.flush();
    assert.ok(lines.some((l) => l.msg === "writing an event failed"));
  });
});

describe("Controller with an Informer", () => {
  test("reconciles every key once at start, again on each change, and on delete", async () => {
    const ns = await freshNamespace("controller");
    for (const name of ["one", "two", "three"]) await createConfigMap(ns, name);
    const informer = new Informer<V1ConfigMap>(kc, configMaps(ns), { log: capturedLog().log });
    const runs = new Map<string, number>();
    const exists = new Map<string, boolean>();
    const metrics = new OperatorMetrics();
    const controller = new Controller({
      name: "configmaps",
      concurrency: 2,
      metrics,
      log: capturedLog().log,
      reconcile: async (key) => {
        runs.set(key, (runs.get(key) ?? 0) + 1);
        // Level-triggered: look at the state now, whatever the event was.
        exists.set(key, informer.get(key) !== undefined);
        await Promise.resolve();
      },
    }).watch(informer);
    await informer.start();
    controller.start();
    const state = (): unknown => [...runs];
    try {
      const keys = ["one", "two", "three"].map((n) => `${ns}/${n}`);
      await waitFor("every key reconciled", () => keys.every((k) => runs.get(k) === 1), state);

      await patchConfigMap(ns, "two", { changed: "yes" });
      await waitFor("two reconciled again", () => runs.get(`${ns}/two`) === 2, state);
      await deleteConfigMap(ns, "three");
      await waitFor("three reconciled after its delete", () => runs.get(`${ns}/three`) === 2, state);
      assert.equal(exists.get(`${ns}/three`), false);
      assert.equal(runs.get(`${ns}/one`), 1, "one did not change");
      assert.match(
        await metrics.registry.metrics(),
        /controller_runtime_reconcile_total\{controller="configmaps",result="success"\} 5/,
      );
    } finally {
      await controller.stop();
      informer.stop();
    }
  });
});
