// The verified-token cache: exact answers per key, generation and clock; bounded.

import assert from "node:assert/strict";
import { test } from "node:test";
import { VerifiedTokenCache } from "./verified-token.cache.ts";

test("an entry is answered for its generation, within exp and nbf plus the 60 s leeway", () => {
  let nowMs = 1_000_000_000;
  const cache = new VerifiedTokenCache<string>({ now: () => nowMs });
  const key = VerifiedTokenCache.key("t", { name: "acme", uid: "u1" });
  cache.set(key, { value: "alice", generation: 3, expires: 1_000_000 + 100, notBefore: 1_000_000 });
  assert.equal(cache.get(key, 3), "alice");
  assert.equal(cache.get(key, 4), undefined, "another key set generation");
  assert.equal(cache.size, 0, "a stale entry is dropped");
  cache.set(key, { value: "alice", generation: 3, expires: 1_000_000 + 100, notBefore: 1_000_000 });
  nowMs += (100 + 59) * 1000;
  assert.equal(cache.get(key, 3), "alice");
  nowMs += 1000;
  assert.equal(cache.get(key, 3), undefined, "exp <= now - leeway");
  cache.set(key, { value: "bob", generation: 3, expires: 2_000_000_000, notBefore: 1_000_000 + 300 });
  nowMs = (1_000_000 + 239) * 1000;
  assert.equal(cache.get(key, 3), undefined, "nbf > now + leeway");
});

test("keys name the tenant as well as the token, and hold no token", () => {
  const a = VerifiedTokenCache.key("secret-token", { name: "acme", uid: "u1" });
  assert.notEqual(a, VerifiedTokenCache.key("secret-token", { name: "acme", uid: "u2" }));
  assert.notEqual(a, VerifiedTokenCache.key("secret-token", { name: "globex", uid: "u1" }));
  assert.ok(!a.includes("secret"));
});

test("a full cache drops its oldest entry", () => {
  const cache = new VerifiedTokenCache<number>({ maxEntries: 2, now: () => 0 });
  for (const k of ["a", "b", "c"]) cache.set(k, { value: 1, generation: 0, expires: 1000 });
  assert.equal(cache.size, 2);
  assert.equal(cache.get("a", 0), undefined);
  assert.equal(cache.get("c", 0), 1);
});
