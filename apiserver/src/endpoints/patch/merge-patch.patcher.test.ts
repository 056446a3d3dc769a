import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError, type Status } from "../../apierrors/status.ts";
import type { FieldValidation, JsonObject } from "./json.types.ts";
import { applyMergePatch } from "./merge-patch.patcher.ts";

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

const pick = (s: Status): Want => ({ code: s.code, reason: s.reason, message: s.message });

describe("merge patch: RFC 7386 as evanphx/json-patch v4 merges", () => {
  // [name, original, patch, result]; the first ones are RFC 7386's appendix A.
  const cases: [string, JsonObject, JsonObject, JsonObject][] = [
    ["replace a value", { a: "b" }, { a: "c" }, { a: "c" }],
    ["add a value", { a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    ["null deletes", { a: "b" }, { a: null }, {}],
    ["null deletes one of two", { a: "b", b: "c" }, { a: null }, { b: "c" }],
    ["a list replaces a string", { a: ["b"] }, { a: "c" }, { a: "c" }],
    ["a string replaces a list", { a: "c" }, { a: ["b"] }, { a: ["b"] }],
    ["objects merge recursively", { a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    ["lists replace, never merge", { a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    ["an object replaces a scalar, its nulls pruned", { e: null }, { a: 1 }, { e: null, a: 1 }],
    ["nulls pruned at any depth of an added value", {}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ["a value over a null is an added value", { a: null }, { a: { b: null, c: 1 } }, { a: { c: 1 } }],
    [
      "nulls pruned inside objects in an added list; null elements kept",
      {},
      { a: [{ b: null, c: 1 }, null] },
      { a: [{ c: 1 }, null] },
    ],
    [
      "a list over an object keeps its nulls as sent",
      { a: { b: 1 } },
      { a: [{ b: null }] },
      { a: [{ b: null }] },
    ],
    ["a list over a string is pruned", { a: "s" }, { a: [{ b: null }] }, { a: [{}] }],
    ["an empty patch changes nothing", { a: { b: 1 } }, {}, { a: { b: 1 } }],
    [
      "a ConfigMap: labels and data",
      { kind: "ConfigMap", metadata: { name: "cm", labels: { a: "1", b: "2" } }, data: { k: "v" } },
      { metadata: { labels: { a: null, c: "3" } }, data: { k: "w" } },
      { kind: "ConfigMap", metadata: { name: "cm", labels: { b: "2", c: "3" } }, data: { k: "w" } },
    ],
    [
      "finalizers are replaced whole",
      { metadata: { finalizers: ["a", "b"] } },
      { metadata: { finalizers: ["c"] } },
      { metadata: { finalizers: ["c"] } },
    ],
  ];
  for (const [name, original, patch, want] of cases) {
    test(name, () => {
      const before = structuredClone(original);
      const patchBefore = structuredClone(patch);
      assert.deepEqual(applyMergePatch(original, JSON.stringify(patch)), want);
      assert.deepEqual(applyMergePatch(original, patch), want, "decoded patch");
      assert.deepEqual(original, before, "original mutated");
      assert.deepEqual(patch, patchBefore, "patch mutated");
    });
  }
  test("a __proto__ key stays data", () => {
    const got = applyMergePatch({ a: 1 }, '{"__proto__": {"polluted": true}}');
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.deepEqual(Object.keys(got), ["a", "__proto__"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe("merge patch: bodies kube refuses", () => {
  const cases: [string, string, FieldValidation | undefined, Want][] = [
    ["null", "null", undefined, { code: 400, reason: "BadRequest", message: "Invalid JSON Patch" }],
    [
      "null with fieldValidation=Ignore",
      "null",
      "Ignore",
      { code: 400, reason: "BadRequest", message: "Invalid JSON Patch" },
    ],
    [
      "an array",
      "[1]",
      undefined,
      {
        code: 400,
        reason: "BadRequest",
        message:
          "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}",
      },
    ],
    [
      "a string",
      '"x"',
      "Strict",
      {
        code: 400,
        reason: "BadRequest",
        message:
          "error decoding patch: json: cannot unmarshal string into Go value of type map[string]interface {}",
      },
    ],
    [
      "a number with fieldValidation=Ignore",
      "1",
      "Ignore",
      { code: 400, reason: "BadRequest", message: "Invalid JSON Patch" },
    ],
    [
      "not JSON",
      '{"a":}',
      undefined,
      {
        code: 400,
        reason: "BadRequest",
        message: "error decoding patch: invalid character '}' looking for beginning of value",
      },
    ],
    [
      "not JSON with fieldValidation=Ignore",
      '{"a":}',
      "Ignore",
      { code: 400, reason: "BadRequest", message: "Invalid JSON Patch" },
    ],
    [
      "trailing garbage",
      '{"a":1} x',
      "Warn",
      {
        code: 400,
        reason: "BadRequest",
        message: "error decoding patch: invalid character 'x' after top-level value",
      },
    ],
  ];
  for (const [name, body, fieldValidation, want] of cases) {
    test(name, () => {
      const options = fieldValidation === undefined ? {} : { fieldValidation };
      assert.deepEqual(pick(statusOf(() => applyMergePatch({ a: 1 }, body, options))), want);
    });
  }
  test("an array with fieldValidation=Ignore replaces the document, which no longer decodes: 422", () => {
    const status = statusOf(() => applyMergePatch({ a: 1 }, "[1,null]", { fieldValidation: "Ignore" }));
    assert.equal(status.code, 422);
    assert.equal(status.reason, "Invalid");
    assert.equal(status.details?.causes?.[0]?.field, "patch");
    assert.ok(
      status.message.startsWith(' "" is invalid: patch: Invalid value: "[1,null]": '),
      status.message,
    );
  });
});
