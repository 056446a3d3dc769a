// Per-tenant fairness: a tenant's in-flight limit and queue, 429 past them, other tenants
// untouched, and a waiting request given up when its client goes away.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isStatusError } from "../apierrors/status.ts";
import { TenantFairness } from "./fairness.ts";

/** A request that runs until released. */
function held(): { promise: Promise<string>; release: () => void } {
  let release: () => void = () => undefined;
  const promise = new Promise<string>((r) => (release = () => r("done")));
  return { promise, release };
}

test("past the in-flight limit and the queue: 429 with Retry-After; other tenants still run", async () => {
  const f = new TenantFairness({ maxInflight: 2, maxQueued: 1, retryAfterSeconds: 3 });
  const a = [held(), held(), held()];
  const running = a.map((h) => f.run("a", () => h.promise));
  assert.deepEqual(f.load("a"), { inflight: 2, queued: 1 });
  await assert.rejects(
    f.run("a", () => Promise.resolve("x")),
    (err: unknown) => {
      assert.ok(isStatusError(err));
      assert.equal(err.code, 429);
      assert.equal(err.reason, "TooManyRequests");
      assert.equal(err.status.details?.retryAfterSeconds, 3);
      return true;
    },
  );
  assert.equal(await f.run("b", () => Promise.resolve("b ran")), "b ran");
  for (const h of a) h.release();
  assert.deepEqual(await Promise.all(running), ["done", "done", "done"]);
  assert.deepEqual(f.load("a"), { inflight: 0, queued: 0 });
});

test("a request that waits longer than maxWaitMs is refused with 429", async () => {
  const f = new TenantFairness({ maxInflight: 1, maxQueued: 5, maxWaitMs: 20 });
  const first = held();
  const running = f.run("a", () => first.promise);
  let ranLate = false;
  await assert.rejects(
    f.run("a", () => {
      ranLate = true;
      return Promise.resolve("late");
    }),
    (err: unknown) => isStatusError(err) && err.code === 429,
  );
  first.release();
  await running;
  assert.equal(ranLate, false, "a request given up never runs");
});

test("a waiting request whose client went away is dropped; a running one keeps its slot", async () => {
  const f = new TenantFairness({ maxInflight: 1, maxQueued: 5 });
  const first = held();
  const gone = new AbortController();
  const running = f.run("a", () => first.promise, gone.signal);
  const waiting = new AbortController();
  const queued = f.run("a", () => Promise.resolve("never"), waiting.signal);
  waiting.abort(new Error("client closed"));
  await assert.rejects(queued, /client closed/);
  gone.abort(new Error("too late"));
  assert.equal(f.load("a").inflight, 1, "aborting a running request does not free its slot");
  first.release();
  assert.equal(await running, "done");
});

test("the total limit is shared fairly: a freed slot goes to the next tenant waiting, not the heavy one's backlog", async () => {
  const f = new TenantFairness({ maxInflight: 10, maxTotalInflight: 2, maxQueued: 10 });
  const order: string[] = [];
  const a = Array.from({ length: 6 }, () => held());
  const runningA = a.map((h, i) =>
    f.run("a", () => {
      order.push(`a${i}`);
      return h.promise;
    }),
  );
  assert.deepEqual(f.load("a"), { inflight: 2, queued: 4 });
  const b = [held(), held()];
  const runningB = b.map((h, i) =>
    f.run("b", () => {
      order.push(`b${i}`);
      return h.promise;
    }),
  );
  const c = held();
  const runningC = f.run("c", () => {
    order.push("c0");
    return c.promise;
  });
  assert.deepEqual(f.load("b"), { inflight: 0, queued: 2 });
  // Each freed slot goes to the tenants in turn: a (it waited first), b, c, a, b, a…
  for (const h of [a[0]!, a[1]!, a[2]!, b[0]!, c, a[3]!, b[1]!, a[4]!, a[5]!]) {
    h.release();
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all([...runningA, ...runningB, runningC]);
  assert.deepEqual(order, ["a0", "a1", "a2", "b0", "c0", "a3", "b1", "a4", "a5"]);
  assert.deepEqual(f.load("a"), { inflight: 0, queued: 0 });
});

test("a tenant's own limit holds under the total one; requests waiting for a total slot count in its line", async () => {
  const f = new TenantFairness({ maxInflight: 1, maxTotalInflight: 4, maxQueued: 1 });
  const first = held();
  const running = f.run("a", () => first.promise);
  const queued = f.run("a", () => Promise.resolve("second"));
  assert.deepEqual(f.load("a"), { inflight: 1, queued: 1 });
  await assert.rejects(
    f.run("a", () => Promise.resolve("third")),
    (err: unknown) => isStatusError(err) && err.code === 429,
  );
  // Another tenant runs at once: the total limit has room.
  assert.equal(await f.run("b", () => Promise.resolve("b ran")), "b ran");
  first.release();
  assert.equal(await running, "done");
  assert.equal(await queued, "second");
});
