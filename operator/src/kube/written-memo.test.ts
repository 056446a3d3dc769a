// The memo of what the operator made objects inside tenants hold: the same content within
// its time is known, other content or a later time is not, and a forgotten key is unknown.

import assert from "node:assert/strict";
import { test } from "node:test";
import { WrittenMemo } from "./written-memo.ts";

test("WrittenMemo holds what was set for its time, and knows the key after it", () => {
  let now = 0;
  const memo = new WrittenMemo(1_000, () => now);
  assert.equal(memo.knows("uid/binding"), false);
  memo.set("uid/binding", "[a]");
  assert.equal(memo.holds("uid/binding", "[a]"), true);
  assert.equal(memo.holds("uid/binding", "[a,b]"), false, "other content is a change");
  now = 1_000;
  assert.equal(memo.holds("uid/binding", "[a]"), false, "read again after its time");
  assert.equal(memo.knows("uid/binding"), true);
  memo.forget("uid/binding");
  assert.equal(memo.knows("uid/binding"), false);
});
