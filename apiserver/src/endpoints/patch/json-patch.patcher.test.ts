import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError, type Status } from "../../apierrors/status.ts";
import { applyJsonPatch } from "./json-patch.patcher.ts";
import type { FieldValidation } from "./json.types.ts";

type Want = Pick<Status, "code" | "reason" | "message">;

function statusOf(fn: () => unknown): Status {
  try {
    fn();
  } catch (err) {
    assert.ok(isStatusError(err), `expected a StatusError, got ${String(err)}`);
    return err.status;
  }
  assert.fail("expected an error");
}

const notApplied: Want = {
  code: 422,
  reason: "Invalid",
  message: "the server rejected our request due to an error in our request",
};

const doc = () => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cm", labels: { app: "a" }, finalizers: ["x", "y"] },
  data: { a: "1", "b/c": "2", "d~e": "3", n: null },
});

describe("JSON patch: applies as evanphx/json-patch v4 does", () => {
  const cases: [string, unknown[], (d: ReturnType<typeof doc>) => unknown][] = [
    [
      "add a key",
      [{ op: "add", path: "/data/z", value: "9" }],
      (d) => ({ ...d, data: { ...d.data, z: "9" } }),
    ],
    [
      "add into a list, by index and at the end",
      [
        { op: "add", path: "/metadata/finalizers/0", value: "w" },
        { op: "add", path: "/metadata/finalizers/-", value: "z" },
      ],
      (d) => ({ ...d, metadata: { ...d.metadata, finalizers: ["w", "x", "y", "z"] } }),
    ],
    [
      "a negative index counts from the end (add -1 appends)",
      [{ op: "add", path: "/metadata/finalizers/-1", value: "z" }],
      (d) => ({ ...d, metadata: { ...d.metadata, finalizers: ["x", "y", "z"] } }),
    ],
    [
      "remove a key and a list element (negative index)",
      [
        { op: "remove", path: "/metadata/labels/app" },
        { op: "remove", path: "/metadata/finalizers/-2" },
      ],
      (d) => ({ ...d, metadata: { ...d.metadata, labels: {}, finalizers: ["y"] } }),
    ],
    [
      "replace an existing value",
      [{ op: "replace", path: "/data/a", value: "one" }],
      (d) => ({ ...d, data: { ...d.data, a: "one" } }),
    ],
    [
      "replace of a missing object key adds it",
      [{ op: "replace", path: "/data/new", value: "v" }],
      (d) => ({ ...d, data: { ...d.data, new: "v" } }),
    ],
    [
      "escaped segments: ~1 is / and ~0 is ~",
      [
        { op: "replace", path: "/data/b~1c", value: "bc" },
        { op: "remove", path: "/data/d~0e" },
      ],
      (d) => ({ ...d, data: { a: "1", "b/c": "bc", n: null } }),
    ],
    [
      "move and copy",
      [
        { op: "move", from: "/data/a", path: "/metadata/labels/moved" },
        { op: "copy", from: "/metadata/finalizers", path: "/data/list" },
      ],
      (d) => ({
        ...d,
        metadata: { ...d.metadata, labels: { app: "a", moved: "1" } },
        data: { "b/c": "2", "d~e": "3", n: null, list: ["x", "y"] },
      }),
    ],
    [
      "copy from a missing key copies null",
      [{ op: "copy", from: "/data/missing", path: "/data/copied" }],
      (d) => ({ ...d, data: { ...d.data, copied: null } }),
    ],
    [
      "add without a value adds null",
      [{ op: "add", path: "/data/nothing" }],
      (d) => ({ ...d, data: { ...d.data, nothing: null } }),
    ],
    [
      "test passes, then the rest applies; test null matches a missing key and a null",
      [
        { op: "test", path: "/metadata/name", value: "cm" },
        { op: "test", path: "/data/missing", value: null },
        { op: "test", path: "/data/n", value: null },
        { op: "test", path: "/metadata/labels", value: { app: "a" } },
        { op: "remove", path: "/data/n" },
      ],
      (d) => ({ ...d, data: { a: "1", "b/c": "2", "d~e": "3" } }),
    ],
    [
      "a path without a leading slash names its last segment under the root",
      [{ op: "add", path: "whatever/extra", value: 1 }],
      (d) => ({ ...d, extra: 1 }),
    ],
    ["an empty patch", [], (d) => d],
  ];
  for (const [name, ops, want] of cases) {
    test(name, () => {
      const original = doc();
      const got = applyJsonPatch(original, JSON.stringify(ops));
      assert.deepEqual(got, want(doc()));
      assert.deepEqual(original, doc(), "original mutated");
    });
  }
  test("a null body is no patch", () => assert.deepEqual(applyJsonPatch(doc(), "null"), doc()));
  test("a Buffer body", () =>
    assert.deepEqual(applyJsonPatch(doc(), Buffer.from('[{"op":"remove","path":"/data"}]')), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: doc().metadata,
    }));
});

describe("JSON patch: operations that do not apply answer the generic 422", () => {
  const cases: [string, unknown[]][] = [
    ["a failed test", [{ op: "test", path: "/metadata/name", value: "other" }]],
    ["a test for a value on a missing key", [{ op: "test", path: "/data/missing", value: "x" }]],
    ["remove of a missing key", [{ op: "remove", path: "/metadata/annotations" }]],
    ["add under a missing parent", [{ op: "add", path: "/spec/replicas", value: 1 }]],
    ["add past the end of a list", [{ op: "add", path: "/metadata/finalizers/3", value: "z" }]],
    ["replace past the end of a list", [{ op: "replace", path: "/metadata/finalizers/2", value: "z" }]],
    ["a list index that is not a number", [{ op: "remove", path: "/metadata/finalizers/first" }]],
    ["an unknown op", [{ op: "increment", path: "/data/a" }]],
    ["an op without a path", [{ op: "add", value: 1 }]],
    ["move from a missing key", [{ op: "move", from: "/data/missing", path: "/data/x" }]],
    ["add at the root path", [{ op: "add", path: "", value: {} }]],
    [
      "a later op fails after earlier ones applied",
      [
        { op: "add", path: "/data/x", value: "1" },
        { op: "test", path: "/data/x", value: "2" },
      ],
    ],
  ];
  for (const [name, ops] of cases) {
    test(name, () => {
      const status = statusOf(() => applyJsonPatch(doc(), JSON.stringify(ops)));
      assert.deepEqual(status, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        ...notApplied,
        details: {},
      });
    });
  }
  test("copies past 3 MiB in total", () => {
    const big = { metadata: { name: "cm" }, data: { blob: "x".repeat(1024 * 1024) } };
    const ops = [1, 2, 3, 4].map((i) => ({ op: "copy", from: "/data/blob", path: `/data/c${i}` }));
    assert.deepEqual(pick(statusOf(() => applyJsonPatch(big, JSON.stringify(ops)))), notApplied);
  });
});

const pick = (s: Status): Want => ({ code: s.code, reason: s.reason, message: s.message });

describe("JSON patch: bodies kube refuses", () => {
  const cases: [string, string, FieldValidation | undefined, Want][] = [
    [
      "an object (default fieldValidation, Warn: strict decoding)",
      '{"op":"add"}',
      undefined,
      {
        code: 400,
        reason: "BadRequest",
        message:
          "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp",
      },
    ],
    [
      "an object with fieldValidation=Ignore",
      '{"op":"add"}',
      "Ignore",
      {
        code: 400,
        reason: "BadRequest",
        message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
      },
    ],
    [
      "an array of numbers",
      "[1]",
      "Strict",
      {
        code: 400,
        reason: "BadRequest",
        message:
          "error decoding patch: json: cannot unmarshal number into Go value of type handlers.jsonPatchOp",
      },
    ],
    [
      "an op that is not a string",
      '[{"op":1,"path":"/a"}]',
      "Warn",
      {
        code: 400,
        reason: "BadRequest",
        message:
          "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string",
      },
    ],
    [
      "not JSON",
      "[{op:",
      undefined,
      {
        code: 400,
        reason: "BadRequest",
        message: "error decoding patch: invalid character 'o' looking for beginning of object key string",
      },
    ],
    [
      "an empty body",
      "",
      "Ignore",
      { code: 400, reason: "BadRequest", message: "unexpected end of JSON input" },
    ],
  ];
  for (const [name, body, fieldValidation, want] of cases) {
    test(name, () => {
      const options = fieldValidation === undefined ? {} : { fieldValidation };
      assert.deepEqual(pick(statusOf(() => applyJsonPatch(doc(), body, options))), want);
    });
  }
  test("an op that is not a string is only an unknown op with fieldValidation=Ignore", () =>
    assert.deepEqual(
      pick(statusOf(() => applyJsonPatch(doc(), '[{"op":1,"path":"/a"}]', { fieldValidation: "Ignore" }))),
      notApplied,
    ));
  test("more than 10000 operations: 413", () => {
    const ops = JSON.stringify(
      Array.from({ length: 10001 }, () => ({ op: "test", path: "/kind", value: "ConfigMap" })),
    );
    assert.deepEqual(pick(statusOf(() => applyJsonPatch(doc(), ops))), {
      code: 413,
      reason: "RequestEntityTooLarge",
      message: "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001",
    });
  });
  test("10000 operations are fine", () => {
    const ops = JSON.stringify(
      Array.from({ length: 10000 }, () => ({ op: "test", path: "/kind", value: "ConfigMap" })),
    );
    assert.deepEqual(applyJsonPatch(doc(), ops), doc());
  });
  test("replacing the whole document with a list: 422 Invalid on field patch", () => {
    const status = statusOf(() => applyJsonPatch(doc(), '[{"op":"replace","path":"","value":[1,"<a>"]}]'));
    const detail =
      'Invalid value: "[1,\\"\\\\u003ca\\\\u003e\\"]": couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';
    assert.deepEqual(status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: ` "" is invalid: patch: ${detail}`,
      reason: "Invalid",
      details: {
        causes: [{ reason: "FieldValueInvalid", message: detail, field: "patch" }],
      },
      code: 422,
    });
  });
  test("replacing the whole document with an object", () =>
    assert.deepEqual(applyJsonPatch(doc(), '[{"op":"replace","path":"","value":{"kind":"Other"}}]'), {
      kind: "Other",
    }));
});
