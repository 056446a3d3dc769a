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
