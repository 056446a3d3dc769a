// Per-tenant fairness: a tenant's in-flight limit and queue, 429 past them, other tenants
// untouched, a waiting request given up when its client goes away, fair shares of the seats,
// and seats given back while a request waits on an outbound call.

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

test("seats are shared fairly: a tenant alone holds half, a newcomer gets in at once, freed seats go round-robin", async () => {
  const f = new TenantFairness({ maxInflight: 10, maxTotalInflight: 4, maxQueued: 10 });
  const order: string[] = [];
  const start = (tenant: string, i: number) => {
    const h = held();
    const done = f.run(tenant, () => {
      order.push(`${tenant}${i}`);
      return h.promise;
    });
    return { ...h, done };
  };
  const a = Array.from({ length: 6 }, (_, i) => start("a", i));
  // Alone, a tenant holds its share, ceil(4 / 2): the other half waits for whoever comes next.
  assert.deepEqual(f.load("a"), { inflight: 2, queued: 4 });
  const b = Array.from({ length: 3 }, (_, i) => start("b", i));
  assert.deepEqual(f.load("b"), { inflight: 2, queued: 1 }, "b runs at once, up to the total");
  const c = start("c", 0);
  assert.deepEqual(f.load("c"), { inflight: 0, queued: 1 }, "all seats are taken");
  const step = async (h: { release: () => void }): Promise<void> => {
    h.release();
    await new Promise((r) => setImmediate(r));
  };
  // Three tenants active: a share is ceil(4 / 4) = 1; the freed seat goes to c, not a's backlog.
  await step(a[0]!);
  assert.deepEqual(order, ["a0", "a1", "b0", "b1", "c0"]);
  // a and b are over their share: the seat stays free for a newcomer.
  await step(b[0]!);
  assert.deepEqual(order, ["a0", "a1", "b0", "b1", "c0"]);
  // c is done: two tenants, shares of 2, a's turn first.
  await step(c);
  assert.deepEqual(order, ["a0", "a1", "b0", "b1", "c0", "a2", "b2"]);
  for (const h of [a[1]!, b[1]!, a[2]!, b[2]!, a[3]!, a[4]!, a[5]!]) await step(h);
  await Promise.all([...a, ...b, c].map((h) => h.done));
  assert.deepEqual(order, ["a0", "a1", "b0", "b1", "c0", "a2", "b2", "a3", "a4", "a5"]);
  assert.deepEqual(f.load("a"), { inflight: 0, queued: 0 });
});

test("a request waiting on an outbound call gives its seat back and gets one again before its tenant's new requests", async () => {
  const f = new TenantFairness({ maxInflight: 3, maxTotalInflight: 2, maxQueued: 10 });
  const a0 = await f.acquire("a");
  const hook = held();
  let answered = false;
  const call = a0
    .away(() => hook.promise)
    .then((v) => {
      answered = true;
      return v;
    });
  assert.equal(f.seats("a"), 0, "no seat while away");
  // The seat is free for a's next request and for b.
  const a1 = await f.acquire("a");
  const b0 = await f.acquire("b");
  assert.deepEqual(f.load("a"), { inflight: 2, queued: 0 });
  // Back from the call: a's share (1) is taken, so it waits, ahead of a's new request.
  hook.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(answered, false);
  const a2 = f.acquire("a");
  assert.deepEqual(f.load("a"), { inflight: 2, queued: 1 });
  assert.equal(f.seats("a"), 1);
  // a1's seat goes to the request back from its call, not to a2.
  a1.release();
  assert.equal(await call, "done");
  assert.equal(f.seats("a"), 1);
  a0.release();
  (await a2).release();
  b0.release();
  assert.deepEqual(f.load("a"), { inflight: 0, queued: 0 });
  assert.deepEqual(f.load("b"), { inflight: 0, queued: 0 });
});

test("requests away count against their tenant's own limit", async () => {
  const f = new TenantFairness({ maxInflight: 1, maxTotalInflight: 8, maxQueued: 10 });
  const a0 = await f.acquire("a");
  const hook = held();
  const call = a0.away(() => hook.promise);
  let second = false;
  const a1 = f.acquire("a").then((seat) => {
    second = true;
    return seat;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(second, false, "one request in flight (away) is a's whole limit");
  hook.release();
  await call;
  a0.release();
  (await a1).release();
  assert.equal(second, true);
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
