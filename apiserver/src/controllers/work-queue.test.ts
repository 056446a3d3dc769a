// The work queue: one run per key at a time, bursts collapsed, per-key backoff on a fake
// clock, terminal errors dropped, and nothing left scheduled after shutdown.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { TerminalError, WorkQueue, type ReconcileResult } from "./work-queue.ts";

/** Lets pending promise callbacks run (reconciles here resolve without timers). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe("WorkQueue", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"] }));
  afterEach(() => mock.timers.reset());

  test("collapses adds of a waiting key and never runs one key twice at once", async () => {
    const runs: string[] = [];
    const running = new Set<string>();
    let overlap = false;
    const gates = new Map<string, () => void>();
    const q = new WorkQueue(
      async (key) => {
        if (running.has(key)) overlap = true;
        running.add(key);
        runs.push(key);
        await new Promise<void>((r) => gates.set(key, r));
        running.delete(key);
      },
      undefined,
      { concurrency: 1 },
    );
    const finish = async (key: string) => {
      gates.get(key)!();
      gates.delete(key);
      await settle();
    };
    q.add("a");
    q.add("b");
    q.add("b");
    q.add("b");
    await settle();
    assert.deepEqual(runs, ["a"], "one at a time");
    // While "a" runs, three adds of it become one more run after it.
    q.add("a");
    q.add("a");
    q.add("a");
    await finish("a");
    assert.deepEqual(runs, ["a", "b"]);
    await finish("b");
    assert.deepEqual(runs, ["a", "b", "a"]);
    await finish("a");
    assert.deepEqual(runs, ["a", "b", "a"]);
    assert.equal(q.length, 0);
    assert.equal(overlap, false);
    await q.shutdown();
  });

  test("backs off per key, doubling from 5 ms, and forgets after a success", async () => {
    const at: number[] = [];
    let fail = 4;
    const failures: number[] = [];
    const q = new WorkQueue(
      () => {
        at.push(Date.now());
        if (fail-- > 0) return Promise.reject(new Error("boom"));
        return Promise.resolve();
      },
      (_key, _err, retryInMs) => failures.push(retryInMs ?? -1),
    );
    q.add("k");
    await settle();
    for (const step of [5, 10, 20, 40]) {
      mock.timers.tick(step - 1);
      await settle();
      const before = at.length;
      mock.timers.tick(1);
      await settle();
      assert.equal(at.length, before + 1, `retried after ${step} ms`);
    }
    assert.deepEqual(failures, [5, 10, 20, 40]);
    assert.deepEqual(
      at.slice(1).map((t, i) => t - at[i]!),
      [5, 10, 20, 40],
    );
    assert.equal(q.failuresOf("k"), 0);
    await q.shutdown();
  });

  test("caps the delay at 1000 s", async () => {
    const delays: (number | undefined)[] = [];
    const q = new WorkQueue(
      () => Promise.reject(new Error("always")),
      (_k, _e, retryInMs) => delays.push(retryInMs),
    );
    q.add("k");
    await settle();
    for (let i = 0; i < 20; i++) {
      mock.timers.tick(1_000_000);
      await settle();
    }
    assert.equal(delays.at(-1), 1_000_000);
    assert.ok(delays.every((d) => d !== undefined && d <= 1_000_000));
    await q.shutdown();
  });

  test("drops a key after a terminal error", async () => {
    let runs = 0;
    const reported: (number | undefined)[] = [];
    const q = new WorkQueue(
      () => {
        runs++;
        return Promise.reject(new TerminalError("bad input"));
      },
      (_k, _e, retryInMs) => reported.push(retryInMs),
    );
    q.add("k");
    await settle();
    mock.timers.tick(10_000);
    await settle();
    assert.equal(runs, 1);
    assert.deepEqual(reported, [undefined]);
    assert.equal(q.length, 0);
    await q.shutdown();
  });

  test("requeues after what the reconcile asks; an earlier add wins", async () => {
    const at: number[] = [];
    const q = new WorkQueue((): Promise<ReconcileResult> => {
      at.push(Date.now());
      return Promise.resolve(at.length === 1 ? { requeueAfterMs: 1000 } : undefined);
    });
    q.add("k");
    await settle();
    q.addAfter("k", 5000); // later than the pending 1000 ms: ignored
    mock.timers.tick(999);
    await settle();
    assert.equal(at.length, 1);
    mock.timers.tick(1);
    await settle();
    assert.equal(at.length, 2);
    assert.equal(at[1]! - at[0]!, 1000);
    mock.timers.tick(10_000);
    await settle();
    assert.equal(at.length, 2);
    await q.shutdown();
  });

  test("shutdown clears every pending timer and runs nothing more", async () => {
    let runs = 0;
    const q = new WorkQueue(() => {
      runs++;
      return Promise.reject(new Error("retry me"));
    });
    q.add("a");
    q.addAfter("b", 60_000);
    await settle();
    assert.equal(runs, 1);
    assert.equal(q.length, 2, "a waits for its retry, b for its delay");
    await q.shutdown();
    assert.equal(q.length, 0);
    mock.timers.tick(10_000_000);
    await settle();
    assert.equal(runs, 1);
    q.add("c");
    await settle();
    assert.equal(runs, 1, "a stopped queue takes nothing");
  });
});
