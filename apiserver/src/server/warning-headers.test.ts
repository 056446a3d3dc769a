// The Warning headers a response carries: kube's recorder deduplicates and bounds them.

import assert from "node:assert/strict";
import { test } from "node:test";
import { warningHeaders } from "./chain.ts";

test("one 299 header per distinct warning, quoted", () => {
  assert.deepEqual(warningHeaders(["a", 'say "hi"', "a", ""]), ['299 - "a"', '299 - "say \\"hi\\""']);
});

test("past 4 KiB each warning is cut to 256 characters, and what still does not fit is left out", () => {
  const long = (c: string) => c.repeat(1000);
  const headers = warningHeaders([long("a"), long("b"), long("c"), long("d"), long("e")]);
  assert.equal(headers.length, 5);
  for (const h of headers) assert.equal(h.length, "299 - ".length + 256 + 2);
  const many = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(300, "x"));
  const kept = warningHeaders(many);
  assert.equal(kept.length, 16, "16 × 256 = 4096 characters");
});
