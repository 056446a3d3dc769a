import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { goSyntaxError } from "./go-json.decoder.ts";
import { goFormat, goSliceStable } from "./go-values.ts";

describe("Go's JSON scanner messages", () => {
  const cases: [string, string | undefined][] = [
    ['{"a": [1, 2.5e3, true, null, "x\\u00e9"]}', undefined],
    ["  7  ", undefined],
    ["", "unexpected end of JSON input"],
    ["[1,", "unexpected end of JSON input"],
    ["tru", "invalid character ' ' in literal true (expecting 'e')"],
    ["x", "invalid character 'x' looking for beginning of value"],
    ["{1:2}", "invalid character '1' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b"}', "invalid character '\"' after object key:value pair"],
    ["[1 2]", "invalid character '2' after array element"],
    ["{} {}", "invalid character '{' after top-level value"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ["-a", "invalid character 'a' in numeric literal"],
    ["1.e", "invalid character 'e' after decimal point in numeric literal"],
    ["1e+", "invalid character ' ' in exponent of numeric literal"],
    ["nul1", "invalid character '1' in literal null (expecting 'l')"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ["\u00e9", "invalid character 'Ã' looking for beginning of value"],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => assert.equal(goSyntaxError(new TextEncoder().encode(input)), want));
  }
});

describe("Go values", () => {
  test("fmt %v of decoded JSON", () => {
    assert.equal(
      goFormat({ b: [1, "x", null], a: { c: true, d: 1.5 } }),
      "map[a:map[c:true d:1.5] b:[1 x <nil>]]",
    );
    assert.equal(goFormat(0.00001), "1e-05");
    assert.equal(goFormat(1234567.5), "1.2345675e+06");
    assert.equal(goFormat(true, "s"), "%!s(bool=true)");
  });
  test("sort.SliceStable with upstream's non-strict comparator", () => {
    // Items missing from the order are "less" than anything, as in normalizeSliceOrder.
    const order = ["c", "a"];
    const data = ["a", "x", "c", "y"];
    goSliceStable(data, (p, q) => {
      const i = order.indexOf(p);
      const j = order.indexOf(q);
      return i >= 0 && j >= 0 ? i < j : true;
    });
    assert.deepEqual(data, ["y", "c", "x", "a"]);
  });
});
