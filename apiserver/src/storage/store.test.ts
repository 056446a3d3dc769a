import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStorageError } from "./errors.ts";
import { decodeContinue, encodeContinue } from "./store.ts";

describe("continue tokens", () => {
  test("round-trip in kube's format", () => {
    const token = encodeContinue(42, "ns/name\u0000");
    assert.deepEqual(JSON.parse(Buffer.from(token, "base64").toString()), {
      v: "meta.k8s.io/v1",
      rv: 42,
      start: "ns/name\u0000",
    });
    assert.deepEqual(decodeContinue(token), { v: "meta.k8s.io/v1", rv: 42, start: "ns/name\u0000" });
  });

  test("reject garbage with InvalidArgument", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    for (const bad of [
      "%%%",
      b64("not json"),
      b64("null"),
      b64(JSON.stringify({ v: "other", rv: 1, start: "x" })),
      b64(JSON.stringify({ v: "meta.k8s.io/v1", rv: -1, start: "x" })),
      b64(JSON.stringify({ v: "meta.k8s.io/v1", rv: 1.5, start: "x" })),
      b64(JSON.stringify({ v: "meta.k8s.io/v1", rv: 3, start: "" })),
    ]) {
      assert.throws(
        () => decodeContinue(bad),
        (e) => isStorageError(e, "InvalidArgument"),
        bad,
      );
    }
  });
});
