// The controller's work queue on a fake clock: bursts collapse, one run per key at a time,
// per-key backoff that doubles and is forgotten on success, requeueAfter, terminal errors
// dropped, the overall token bucket pacing retries, stop() waiting for running reconciles,
// the update filter of watch, and the metrics it writes.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import pino from "pino";
import type { KubernetesObject } from "@kubernetes/client-node";
import { Controller, TerminalError, type ControllerOptions, type ReconcileResult } from "./controller.ts";
import type { Informer } from "./informer.ts";
import { OperatorMetrics } from "./metrics.ts";
import { ItemBackoff, TokenBucket } from "./rate-limit.ts";

const log = pino({ level: "silent" });

/** Lets pending promise callbacks run (reconciles here resolve without timers). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** Moves the fake clock forward by `ms`, one millisecond at a time, settling promises in between. */
const advance = async (ms: number): Promise<void> => {
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    await settle();
  }
};

/** A reconcile whose runs wait until the test opens their gate. */
function gated() {
  const runs: string[] = [];
  const running = new Set<string>();
  const gates: { key: string; open: () => void }[] = [];
  let overlap = false;
  const reconcile = async (key: string): Promise<ReconcileResult> => {
    if (running.has(key)) overlap = true;
    running.add(key);
    runs.push(key);
    await new Promise<void>((open) => gates.push({ key, open }));
    running.delete(key);
  };
  const finish = async (key: string): Promise<void> => {
    const i = gates.findIndex((g) => g.key === key);
    assert.ok(i >= 0, `${key} is running`);
    gates.splice(i, 1)[0]!.open();
    await settle();
  };
  return { runs, reconcile, finish, overlap: () => overlap, running };
}

/** A reconcile from a synchronous function: it settles on the next microtask. */
const later =
  (fn: (key: string) => ReconcileResult) =>
  (key: string): Promise<ReconcileResult> =>
    Promise.resolve().then(() => fn(key));

function controller(opts: Partial<ControllerOptions> & Pick<ControllerOptions, "reconcile">): Controller {
  return new Controller({ name: "test", log, ...opts });
}

describe("Controller", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"] }));
  afterEach(() => mock.timers.reset());

  test("a key queued many times before it runs, runs once; keys added before start() wait for it", async () => {
    const g = gated();
    const c = controller({ reconcile: g.reconcile, concurrency: 1 });
    c.enqueue("a");
    c.enqueue("b");
    c.enqueue("b");
    c.enqueue("a");
    await settle();
    assert.deepEqual(g.runs, [], "nothing runs before start()");
    c.start();
    await settle();
    assert.deepEqual(g.runs, ["a"], "one at a time");
    c.enqueue("b");
    await g.finish("a");
    assert.deepEqual(g.runs, ["a", "b"]);
    await g.finish("b");
    assert.deepEqual(g.runs, ["a", "b"], "b ran once for its three adds");
    assert.equal(c.length, 0);
    await c.stop();
  });

  test("never reconciles one key twice at once; adds during a run become one more run after it", async () => {
    const g = gated();
    const c = controller({ reconcile: g.reconcile, concurrency: 4 });
    c.start();
    c.enqueue("a");
    await settle();
    c.enqueue("a");
    c.enqueue("a");
    c.enqueue("b");
    await settle();
    assert.deepEqual(g.runs, ["a", "b"], "b runs beside a, the second a waits");
    await g.finish("a");
    assert.deepEqual(g.runs, ["a", "b", "a"]);
    await g.finish("a");
    await g.finish("b");
    assert.deepEqual(g.runs, ["a", "b", "a"]);
    assert.equal(g.overlap(), false);
    await c.stop();
  });

  test("retries a failing key after 5, 10, 20, 40 ms; a success forgets its failures", async () => {
    const at: number[] = [];
    let fail = true;
    const c = controller({
      reconcile: later(() => {
        at.push(Date.now());
        if (fail) throw new Error("not yet");
      }),
    });
    c.start();
    const t0 = Date.now();
    c.enqueue("a");
    await settle();
    await advance(5 + 10 + 20 + 40);
    assert.deepEqual(
      at.map((t) => t - t0),
      [0, 5, 15, 35, 75],
    );
    fail = false;
    await advance(80);
    assert.equal(at.length, 6, "the sixth run (at 155 ms) succeeded");
    assert.equal(at.at(-1)! - t0, 155);
    fail = true;
    c.enqueue("a");
    await settle();
    await advance(5);
    assert.deepEqual(
      at.slice(6).map((t) => t - at[6]!),
      [0, 5],
      "after the success, the backoff starts again at 5 ms",
    );
    await c.stop();
  });

  test("the per-key backoff doubles up to 1000 s", () => {
    const b = new ItemBackoff();
    const delays = Array.from({ length: 30 }, () => b.when("a"));
    assert.deepEqual(delays.slice(0, 4), [5, 10, 20, 40]);
    assert.equal(delays[17], 5 * 2 ** 17);
    assert.equal(delays.at(-1), 1_000_000);
    assert.equal(b.when("b"), 5, "per key");
    b.forget("a");
    assert.equal(b.when("a"), 5);
  });

  test("requeueAfterMs looks again after that long, without counting a failure", async () => {
    const at: number[] = [];
    const c = controller({
      reconcile: later(() => {
        at.push(Date.now());
        return at.length < 3 ? { requeueAfterMs: 1000 } : undefined;
      }),
    });
    c.start();
    const t0 = Date.now();
    c.enqueue("a");
    await settle();
    await advance(999);
    assert.equal(at.length, 1);
    await advance(1);
    assert.equal(at.length, 2);
    await advance(1000);
    await advance(5000);
    assert.deepEqual(
      at.map((t) => t - t0),
      [0, 1000, 2000],
    );
    await c.stop();
  });

  test("enqueue with a delay: the earliest pending delayed add wins", async () => {
    const at: number[] = [];
    const c = controller({
      reconcile: later(() => {
        at.push(Date.now());
      }),
    });
    c.start();
    const t0 = Date.now();
    c.enqueue("a", 500);
    c.enqueue("a", 100);
    c.enqueue("a", 300);
    await advance(600);
    assert.deepEqual(
      at.map((t) => t - t0),
      [100],
    );
    await c.stop();
  });

  test("a TerminalError drops the key: no retry", async () => {
    let runs = 0;
    const metrics = new OperatorMetrics();
    const c = controller({
      metrics,
      reconcile: later(() => {
        runs++;
        throw new TerminalError("bad spec");
      }),
    });
    c.start();
    c.enqueue("a");
    await settle();
    await advance(2000);
    assert.equal(runs, 1);
    assert.equal(c.length, 0);
    const text = await metrics.registry.metrics();
    assert.match(text, /controller_runtime_terminal_reconcile_errors_total\{controller="test"\} 1/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="test",result="error"\} 1/);
    await c.stop();
  });

  test("the token bucket paces retries of many keys: burst, then perSecond", async () => {
    const at = new Map<string, number[]>();
    const c = controller({
      concurrency: 10,
      rateLimit: { perSecond: 2, burst: 3 },
      reconcile: later((key) => {
        const runs = at.get(key) ?? [];
        runs.push(Date.now());
        at.set(key, runs);
        if (runs.length === 1) throw new Error("first run fails");
      }),
    });
    c.start();
    const t0 = Date.now();
    for (const key of ["a", "b", "c", "d", "e"]) c.enqueue(key);
    await settle();
    await advance(1600);
    const retries = [...at.values()].map((runs) => runs[1]! - t0).sort((x, y) => x - y);
    // Three tokens at once (each retry still waits its 5 ms backoff), then one per 500 ms.
    assert.deepEqual(retries, [5, 5, 5, 500, 1000]);
    await c.stop();
  });

  test("the token bucket refills at perSecond up to burst", () => {
    const bucket = new TokenBucket(10, 2);
    assert.deepEqual(
      [bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()],
      [0, 0, 100, 200],
    );
    mock.timers.tick(10_000);
    assert.deepEqual([bucket.reserve(), bucket.reserve(), bucket.reserve()], [0, 0, 100]);
  });

  test("stop() waits for running reconciles, drops waiting and delayed keys, and takes no more", async () => {
    const g = gated();
    const c = controller({ reconcile: g.reconcile, concurrency: 1 });
    c.start();
    c.enqueue("a");
    c.enqueue("b");
    c.enqueue("c", 100);
    await settle();
    assert.deepEqual(g.runs, ["a"]);
    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, "a is still running");
    c.enqueue("d");
    await g.finish("a");
    await stopping;
    assert.equal(stopped, true);
    await advance(200);
    assert.deepEqual(g.runs, ["a"], "b, c and d never ran");
  });

  test("watch: every add and delete queues; an update only when `changed` says so, a resync always", async () => {
    type Obj = KubernetesObject & { status?: string };
    const handlers: Record<string, ((obj: Obj, old?: Obj) => void)[]> = { add: [], update: [], delete: [] };
    const held: Obj = { metadata: { name: "held", generation: 1 } };
    const informer = {
      list: () => [held],
      on: (event: string, fn: (obj: Obj, old?: Obj) => void) => {
        handlers[event]!.push(fn);
        return () => undefined;
      },
    } as unknown as Informer<Obj>;
    const runs: string[] = [];
    const c = controller({ reconcile: later((key) => void runs.push(key)) }).watch(
      informer,
      undefined,
      (obj, old) => obj.metadata?.generation !== old.metadata?.generation,
    );
    c.start();
    await settle();
    assert.deepEqual(runs, ["held"], "what the informer holds is queued at once");
    const emit = async (event: string, obj: Obj, old?: Obj): Promise<void> => {
      for (const fn of handlers[event]!) fn(obj, old);
      await settle();
    };
    const a1: Obj = { metadata: { name: "a", generation: 1 } };
    await emit("add", a1);
    await emit("update", { ...a1, status: "written by the reconciler" }, a1);
    assert.deepEqual(runs, ["held", "a"], "a status-only update queues nothing");
    await emit("update", { metadata: { name: "a", generation: 2 } }, a1);
    await emit("update", a1, a1);
    await emit("delete", a1);
    assert.deepEqual(runs, ["held", "a", "a", "a", "a"], "a spec change, a resync and a delete each queue");
    await c.stop();
  });

  test("metrics: adds, depth, reconciles by result, duration, retries", async () => {
    const metrics = new OperatorMetrics();
    let failures = 0;
    const c = controller({
      metrics,
      reconcile: later((key) => {
        if (key === "fail" && failures++ < 2) throw new Error("boom");
        if (key === "later") return { requeueAfterMs: 60_000 };
      }),
    });
    c.enqueue("ok");
    c.enqueue("ok");
    c.enqueue("fail");
    c.enqueue("later");
    const before = await metrics.registry.getSingleMetricAsString("workqueue_depth");
    assert.match(before, /workqueue_depth\{name="test"\} 3/);
    c.start();
    await settle();
    await advance(50);
    const text = await metrics.registry.metrics();
    assert.match(text, /workqueue_depth\{name="test"\} 0/);
    assert.match(text, /workqueue_adds_total\{name="test"\} 5/, "3 distinct adds and 2 retries");
    assert.match(text, /workqueue_retries_total\{name="test"\} 2/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="test",result="success"\} 2/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="test",result="error"\} 2/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="test",result="requeue_after"\} 1/);
    assert.match(text, /controller_runtime_reconcile_errors_total\{controller="test"\} 2/);
    assert.match(text, /controller_runtime_reconcile_time_seconds_count\{controller="test"\} 5/);
    assert.match(text, /controller_runtime_active_workers\{controller="test"\} 0/);
    await c.stop();
  });
});
