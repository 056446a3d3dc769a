// The shard's fairness stage: a tenant's maxRequestsInFlight (or the server's default) with a
// short queue, 429 with Retry-After past it and other tenants untouched; watches exempt from it
// but limited per tenant instance by maxWatches, each slot given back when its watch ends.

import assert from "node:assert/strict";
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isStatusError } from "../apierrors/status.ts";
import { parseRequestInfo } from "../request/request-info.ts";
import { openStorage } from "../storage/index.ts";
import type { Storage } from "../storage/interface.ts";
import { TenantManager, type Tenant, type TenantInstance } from "../tenancy/instance.ts";
import { ShardFairness } from "./fairness.ts";

let dir: string;
let storage: Storage;
let manager: TenantManager;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "multiplane-fairness-"));
  storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  manager = new TenantManager(storage);
});
after(async () => {
  await manager.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const list = parseRequestInfo("GET", "/api/v1/namespaces/default/configmaps", new URLSearchParams());
const watch = parseRequestInfo("GET", "/api/v1/configmaps", new URLSearchParams("watch=true"));
const response = (): ServerResponse => new ServerResponse(new IncomingMessage(new Socket()));

async function tooMany(p: Promise<unknown>): Promise<{ message: string; retryAfter: number | undefined }> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStatusError(err), `not a Status: ${String(err)}`);
    assert.equal(err.code, 429);
    assert.equal(err.reason, "TooManyRequests");
    return { message: err.status.message ?? "", retryAfter: err.status.details?.retryAfterSeconds };
  }
  return assert.fail("the request was admitted");
}

async function instanceOf(tenant: Tenant): Promise<TenantInstance> {
  await manager.setTenant(tenant);
  return manager.instance(tenant);
}

describe("shard fairness", () => {
  test("a tenant's maxRequestsInFlight and queue: 429 with Retry-After past them; others still run", async () => {
    const fairness = new ShardFairness({
      maxRequestsInFlight: 10,
      maxTotalRequestsInFlight: 40,
      maxQueued: 1,
      retryAfterSeconds: 2,
    });
    const a: Tenant = { name: "fa", uid: "uid-fa", policy: { quotas: { maxRequestsInFlight: 2 } } };
    const b: Tenant = { name: "fb", uid: "uid-fb" };
    const never = (): Promise<TenantInstance> =>
      assert.fail("a request other than a watch needs no instance");
    const held = [
      await fairness.admit(a, list, response(), never),
      await fairness.admit(a, list, response(), never),
    ];
    // The third waits in the queue; the fourth finds it full.
    const waiting = fairness.admit(a, list, response(), never);
    assert.deepEqual(fairness.load("fa"), { inflight: 2, queued: 1 });
    const refused = await tooMany(fairness.admit(a, list, response(), never));
    assert.equal(refused.retryAfter, 2);
    // Another tenant has its own line (and the server's default limit).
    const others = await Promise.all(
      Array.from({ length: 10 }, () => fairness.admit(b, list, response(), never)),
    );
    assert.deepEqual(fairness.load("fb"), { inflight: 10, queued: 0 });
    for (const seat of others) seat.release();

    // A seat given back lets the waiting request in; releasing twice frees nothing more.
    held[0]!.release();
    held[0]!.release();
    const third = await waiting;
    assert.deepEqual(fairness.load("fa"), { inflight: 2, queued: 0 });
    third.release();
    held[1]!.release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fairness.load("fa"), { inflight: 0, queued: 0 });
  });

  test("a request whose client goes away while it waits is given up", async () => {
    const fairness = new ShardFairness({ maxRequestsInFlight: 1, maxQueued: 5 });
    const t: Tenant = { name: "fc", uid: "uid-fc" };
    const never = (): Promise<TenantInstance> => assert.fail("no instance needed");
    const first = await fairness.admit(t, list, response(), never);
    const res = response();
    const waiting = fairness.admit(t, list, res, never);
    res.emit("close");
    await tooMany(waiting);
    first.release();
  });

  test("watches are exempt from the in-flight limit but limited by maxWatches per instance", async () => {
    const fairness = new ShardFairness({ maxRequestsInFlight: 1, maxQueued: 0 });
    const t: Tenant = { name: "fw", uid: "uid-fw", policy: { quotas: { maxWatches: 2 } } };
    const instance = await instanceOf(t);
    const get = (): Promise<TenantInstance> => Promise.resolve(instance);
    const request = await fairness.admit(t, list, response(), get);
    const w1 = await fairness.admit(t, watch, response(), get);
    const w2 = await fairness.admit(t, watch, response(), get);
    assert.equal(fairness.openWatches(instance), 2);
    const refused = await tooMany(fairness.admit(t, watch, response(), get));
    assert.equal(refused.message, "too many watches: tenant fw has 2 open, limited: 2");
    assert.equal(refused.retryAfter, 1);
    // The in-flight slot is still held by the list, not by the watches.
    await tooMany(fairness.admit(t, list, response(), get));
    request.release();

    // A watch that ends gives its slot back (once).
    w1.release();
    w1.release();
    assert.equal(fairness.openWatches(instance), 1);
    const w3 = await fairness.admit(t, watch, response(), get);
    await tooMany(fairness.admit(t, watch, response(), get));
    w2.release();
    w3.release();
    assert.equal(fairness.openWatches(instance), 0);

    // A rebuilt instance (a new policy) counts its own watches, under its own limit.
    const wider: Tenant = { ...t, policy: { quotas: { maxWatches: 3 } } };
    const rebuilt = await instanceOf(wider);
    const again = (): Promise<TenantInstance> => Promise.resolve(rebuilt);
    const open = [
      await fairness.admit(wider, watch, response(), again),
      await fairness.admit(wider, watch, response(), again),
      await fairness.admit(wider, watch, response(), again),
    ];
    await tooMany(fairness.admit(wider, watch, response(), again));
    for (const seat of open) seat.release();
  });
});
