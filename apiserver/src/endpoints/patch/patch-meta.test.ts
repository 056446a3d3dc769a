import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { patchMetaFromOpenAPI, unknownPatchMeta } from "./patch-meta.ts";
import { mergeItemSchemas } from "./strategic-merge-patch.cases.ts";

describe("patchMetaFromOpenAPI", () => {
  const root = patchMetaFromOpenAPI(mergeItemSchemas, "mergeItem");

  test("a list with strategy and merge key, through items.allOf[$ref]", () => {
    const f = root.field("mergingList");
    assert.deepEqual(f?.strategies, ["merge"]);
    assert.equal(f?.mergeKey, "name");
    // The element schema is mergeItem again (recursive), and resolved once.
    assert.equal(f?.meta, root);
  });
  test("strategies split on commas", () => {
    assert.deepEqual(root.field("retainKeysMergingList")?.strategies, ["merge", "retainKeys"]);
  });
  test("a field next to allOf[$ref] keeps its own extensions", () => {
    const f = root.field("retainKeysMap");
    assert.deepEqual(f?.strategies, ["retainKeys"]);
    assert.deepEqual(f?.meta.field("mergingIntList")?.strategies, ["merge"]);
    assert.equal(f?.meta.field("mergeItemPtr"), undefined);
  });
  test("a field without strategy, a map's values, an unknown field", () => {
    assert.deepEqual(root.field("nonMergingList")?.strategies, []);
    assert.equal(root.field("nonMergingList")?.mergeKey, undefined);
    assert.deepEqual(root.field("simpleMap")?.meta.field("anyKey")?.strategies, []);
    assert.equal(root.field("nope"), undefined);
  });
  test("an unknown root knows no field", () => {
    assert.equal(patchMetaFromOpenAPI(mergeItemSchemas, "io.k8s.api.core.v1.Missing"), unknownPatchMeta);
  });
  test("v2 style #/definitions references", () => {
    const meta = patchMetaFromOpenAPI(
      {
        A: { properties: { b: { $ref: "#/definitions/B" } } },
        B: { properties: { c: { type: "array", "x-kubernetes-patch-strategy": "merge" } } },
      },
      "A",
    );
    assert.deepEqual(meta.field("b")?.meta.field("c")?.strategies, ["merge"]);
  });
});
