// Unit tests of routed.ts: forwarded headers as the shard's HTTP parser would present them.

import assert from "node:assert/strict";
import { test } from "node:test";
import { receivedHeaders } from "./routed.ts";

test("repeated values: every one apart in headersDistinct, folded in headers as Node folds them", () => {
  const { headers, headersDistinct } = receivedHeaders({
    "x-remote-user": "alice",
    "x-remote-group": ["system:authenticated", "devs"],
    "Impersonate-Group": ["a", "b"],
    "content-type": ["application/json", "text/plain"],
    cookie: ["a=1", "b=2"],
    "content-length": 12,
  });
  assert.deepEqual(headers, {
    "x-remote-user": "alice",
    "x-remote-group": "system:authenticated, devs",
    "impersonate-group": "a, b",
    "content-type": "application/json",
    cookie: "a=1; b=2",
    "content-length": "12",
  });
  assert.deepEqual(headersDistinct, {
    "x-remote-user": ["alice"],
    "x-remote-group": ["system:authenticated", "devs"],
    "impersonate-group": ["a", "b"],
    "content-type": ["application/json", "text/plain"],
    cookie: ["a=1", "b=2"],
    "content-length": ["12"],
  });
});

test("absent and empty values are left out", () => {
  assert.deepEqual(receivedHeaders({ a: undefined, b: [] }), { headers: {}, headersDistinct: {} });
});
