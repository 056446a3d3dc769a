// ShardMembership: which shards live, from their leases, on this process's clock (the test
// moves it): a lease lives for its duration after it was last seen to change; a relist keeps
// the age of unchanged leases; leases that are not shard leases are ignored.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ShardMembership, shardURLAnnotation, type LeaseObject } from "./shard-membership.ts";

const lease = (
  shard: string,
  rv: string,
  url = `https://${shard}:6443`,
  name = `shard-${shard}`,
): LeaseObject => ({
  metadata: {
    name,
    namespace: "multiplane-system",
    resourceVersion: rv,
    annotations: { [shardURLAnnotation]: url },
  },
  spec: { holderIdentity: shard, leaseDurationSeconds: 10 },
});

test("a lease lives for its duration after its last change, on the local clock", () => {
  let now = 1_000_000;
  const m = new ShardMembership(() => now);
  assert.equal(m.observe(lease("b", "1")), true);
  assert.equal(m.observe(lease("a", "2")), true);
  assert.deepEqual(m.liveShards(), ["a", "b"]);
  assert.equal(m.url("a"), "https://a:6443");
  now += 9_000;
  assert.equal(m.observe(lease("a", "3")), false, "a renewal changes nothing readers see");
  now += 1_000;
  assert.deepEqual(m.liveShards(), ["a"], "b expired");
  assert.equal(m.isLive("b"), false);
  assert.equal(m.url("b"), "https://b:6443", "a dead shard's URL is still known");
  assert.equal(m.observe(lease("b", "4")), true, "b is back");
  // A relist: unchanged leases keep their age, missing ones go.
  now += 5_000;
  m.reset([lease("a", "3")]);
  assert.equal(m.url("b"), undefined);
  now += 5_000;
  assert.deepEqual(m.liveShards(), [], "a's lease was not renewed since it was seen last");
  assert.equal(m.forget(lease("a", "3")), true);
});

test("only shard leases count: name shard-<holder>, a holder", () => {
  const m = new ShardMembership(() => 0);
  assert.equal(m.observe(lease("a", "1", "https://a", "leader")), false);
  assert.equal(m.observe(lease("a", "1", "https://a", "shard-b")), false);
  assert.equal(m.observe({ metadata: { name: "shard-c", resourceVersion: "1" }, spec: {} }), false);
  assert.deepEqual(m.liveShards(), []);
});
