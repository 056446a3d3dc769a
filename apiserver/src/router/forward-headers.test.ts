// Header hygiene: what a client says about identity never reaches the shard; what the router
// authenticated goes as X-Remote-*; the rest passes as sent.

import assert from "node:assert/strict";
import { test } from "node:test";
import { escapeExtraKey, forwardHeaders } from "./forward-headers.ts";

const alice = {
  name: "alice",
  uid: "u-1",
  groups: ["dev", "system:authenticated"],
  extra: { "authentication.kubernetes.io/credential-id": ["JTI=1"], scopes: ["a", "b"] },
};

const spoofing = {
  authorization: ["Bearer t0k3n"],
  "x-remote-user": ["admin"],
  "x-remote-group": ["system:masters", "other"],
  "x-remote-extra-scopes": ["all"],
  "x-remote-uid": ["0"],
  "x-multiplane-tenant": ["ab"],
  "x-forwarded-for": ["10.9.9.9"],
  "x-real-ip": ["10.8.8.8"],
  "impersonate-user": ["bob"],
  "impersonate-group": ["g1", "g2"],
  accept: ["application/json"],
  "audit-id": ["abc"],
  connection: ["keep-alive, x-hop"],
  "x-hop": ["1"],
  "keep-alive": ["timeout=5"],
  "transfer-encoding": ["chunked"],
  "proxy-authorization": ["Basic x"],
  host: ["router.example"],
};

test("an unauthenticated request: identity headers stripped, Authorization kept for the shard", () => {
  const out = forwardHeaders({ headers: spoofing, clientAddress: "::ffff:10.0.0.5", user: undefined });
  assert.deepEqual(out, {
    authorization: "Bearer t0k3n",
    "impersonate-user": "bob",
    "impersonate-group": ["g1", "g2"],
    accept: "application/json",
    "audit-id": "abc",
    "x-forwarded-for": "10.0.0.5",
  });
});

test("an authenticated request: the router's identity only, Authorization removed", () => {
  const out = forwardHeaders({ headers: spoofing, clientAddress: "10.0.0.5", user: alice });
  assert.equal(out["authorization"], undefined);
  assert.equal(out["x-remote-user"], "alice");
  assert.equal(out["x-remote-uid"], "u-1");
  assert.deepEqual(out["x-remote-group"], ["dev", "system:authenticated"]);
  assert.deepEqual(out["x-remote-extra-authentication.kubernetes.io%2Fcredential-id"], ["JTI=1"]);
  assert.deepEqual(out["x-remote-extra-scopes"], ["a", "b"]);
  assert.equal(out["x-multiplane-tenant"], undefined);
  assert.equal(out["x-real-ip"], undefined);
  assert.equal(out["x-forwarded-for"], "10.0.0.5");
  assert.deepEqual(out["impersonate-group"], ["g1", "g2"]);
  const remote = Object.keys(out).filter((k) => k.startsWith("x-remote-"));
  assert.deepEqual(remote.sort(), [
    "x-remote-extra-authentication.kubernetes.io%2Fcredential-id",
    "x-remote-extra-scopes",
    "x-remote-group",
    "x-remote-uid",
    "x-remote-user",
  ]);
});

test("a user with no groups, UID or extra sends no empty identity headers", () => {
  const out = forwardHeaders({
    headers: { "x-remote-group": ["system:masters"] },
    clientAddress: undefined,
    user: { name: "n", uid: "", groups: [], extra: { empty: [] } },
  });
  assert.deepEqual(out, { "x-remote-user": "n" });
});

test("extra keys are %-escaped as kube's requestheader expects", () => {
  assert.equal(escapeExtraKey("example.org/Scopes (all)"), "example.org%2FScopes%20%28all%29");
  assert.equal(decodeURIComponent(escapeExtraKey("a/b!c")), "a/b!c");
});
