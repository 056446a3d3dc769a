// Unit tests of routed.ts: forwarded headers as the shard's HTTP parser would present them, and
// the body as fastify would read it.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { StatusError } from "../apierrors/status.ts";
import { readBody, receivedHeaders } from "./routed.ts";

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

/** A client request whose body is `chunks`, then ended (or, with `abort`, destroyed). */
function client(chunks: string[], abort = false): IncomingMessage {
  const stream = new Readable({ read() {} });
  for (const c of chunks) stream.push(Buffer.from(c));
  if (abort) setImmediate(() => stream.destroy());
  else stream.push(null);
  return stream as unknown as IncomingMessage;
}

const json = (length?: number) => ({
  "content-type": "application/json",
  ...(length !== undefined ? { "content-length": String(length) } : { "transfer-encoding": "chunked" }),
});

test("readBody: the body whole, chunked or with Content-Length; none for GET or when none is announced", async () => {
  assert.equal((await readBody(client(["{}", "[]"]), "POST", json(4), 100))?.toString(), "{}[]");
  assert.equal((await readBody(client(["ab"]), "PATCH", json(), 100))?.toString(), "ab");
  assert.equal(await readBody(client([]), "GET", {}, 100), undefined);
  assert.equal(await readBody(client([]), "DELETE", {}, 100), undefined);
  assert.equal((await readBody(client([]), "POST", json(0), 100))?.length, 0);
});

test("readBody: 413 past the limit (announced or streamed), 400 on a short body, an error when the client leaves", async () => {
  const reason = (err: unknown) => (err as StatusError).status.reason;
  await assert.rejects(
    readBody(client(["x".repeat(11)]), "POST", json(11), 10),
    (e) => reason(e) === "RequestEntityTooLarge",
  );
  await assert.rejects(
    readBody(client(["x".repeat(6), "x".repeat(6)]), "POST", json(), 10),
    (e) => reason(e) === "RequestEntityTooLarge",
  );
  await assert.rejects(readBody(client(["abc"]), "POST", json(5), 10), (e) => reason(e) === "BadRequest");
  await assert.rejects(readBody(client(["abc"], true), "POST", json(5), 10), /closed the connection/);
});
