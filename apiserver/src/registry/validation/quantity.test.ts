import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  goQuantityRepr,
  parseQuantity,
  quantityCmp,
  quantityErrors,
  quantityMilliValue,
  quantityString,
  type Quantity,
} from "./quantity.ts";

const must = (s: string): Quantity => {
  const q = parseQuantity(s);
  if ("error" in q) throw new Error(q.error);
  return q;
};

describe("resource.Quantity", () => {
  const canonical: [string, string][] = [
    ["0", "0"],
    ["1", "1"],
    ["1000m", "1"],
    ["1.5", "1500m"],
    ["0.1", "100m"],
    ["100m", "100m"],
    ["1Ki", "1Ki"],
    ["2048Ki", "2Mi"],
    ["1.5Gi", "1536Mi"],
    ["0.5Ki", "512"],
    ["1024", "1024"],
    ["10e2", "1e3"],
    ["5e-1", "500e-3"],
    ["0.0000000001", "1n"],
    ["0.000001", "1u"],
    ["-1.5", "-1500m"],
  ];
  for (const [input, want] of canonical)
    test(`${input} prints as ${want}`, () => assert.equal(quantityString(must(input)), want));

  const errors: [string, string][] = [
    ["", quantityErrors.formatWrong],
    ["abc", quantityErrors.formatWrong],
    ["1Kix", quantityErrors.formatWrong],
    ["1e", quantityErrors.suffix],
    ["1Q", quantityErrors.formatWrong],
    ["1kb", quantityErrors.formatWrong],
  ];
  for (const [input, want] of errors) {
    test(`${JSON.stringify(input)} is rejected`, () =>
      assert.deepEqual(parseQuantity(input), { error: want }));
  }

  test("the regexp in the message is upstream's", () =>
    assert.equal(
      quantityErrors.formatWrong,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ));

  test("compare and milli values", () => {
    assert.equal(quantityCmp(must("1Gi"), must("1G")), 1);
    assert.equal(quantityCmp(must("1000m"), must("1")), 0);
    assert.equal(quantityMilliValue(must("1.5")), 1500n);
    assert.equal(quantityMilliValue(must("0.0001")), 1n); // rounded up
  });

  test("%#v as validation messages print it", () =>
    assert.equal(
      goQuantityRepr(must("1500m")),
      'resource.Quantity{i:resource.int64Amount{value:1500, scale:-3}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"1500m", Format:"DecimalSI"}',
    ));
});
