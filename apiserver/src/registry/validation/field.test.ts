import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as field from "./field.ts";
import { GoRepr, Path, goQuote, goStringSlice } from "./field.ts";

describe("field paths", () => {
  const cases: [string, Path, string][] = [
    ["child", Path.root("metadata").child("name"), "metadata.name"],
    ["key", Path.root("data").key("a.b"), "data[a.b]"],
    ["index then child", Path.root("spec", "ports").index(2).child("port"), "spec.ports[2].port"],
    ["nameless root", Path.root(""), "[]"],
    ["dotted root", Path.root("series.count"), "series.count"],
  ];
  for (const [name, path, want] of cases) test(name, () => assert.equal(path.toString(), want));
});

describe("error bodies (ErrorBody)", () => {
  const p = Path.root("f");
  const cases: [string, ReturnType<typeof field.invalid>, string][] = [
    ["invalid string", field.invalid(p, "Foo", "bad"), 'Invalid value: "Foo": bad'],
    [
      "invalid number",
      field.invalid(p, -1, "must be greater than or equal to 0"),
      "Invalid value: -1: must be greater than or equal to 0",
    ],
    [
      "invalid null",
      field.invalid(p, null, "field is immutable"),
      'Invalid value: "null": field is immutable',
    ],
    [
      "invalid Go repr",
      field.invalid(p, goStringSlice("string", ["a"]), "x"),
      'Invalid value: []string{"a"}: x',
    ],
    ["required no detail", field.required(p), "Required value"],
    [
      "required detail",
      field.required(p, "name or generateName is required"),
      "Required value: name or generateName is required",
    ],
    ["forbidden", field.forbidden(p, "not allowed on this type"), "Forbidden: not allowed on this type"],
    ["duplicate", field.duplicate(p, "x"), 'Duplicate value: "x"'],
    [
      "not supported",
      field.notSupported(p, "Foo", ["Role", "ClusterRole"]),
      'Unsupported value: "Foo": supported values: "Role", "ClusterRole"',
    ],
    ["too long", field.tooLong(p, 262144), "Too long: may not be more than 262144 bytes"],
    ["too many", field.tooMany(p, 65, 64), "Too many: 65: must have at most 64 items"],
    [
      "type invalid",
      field.typeInvalid(p, "string", "must be of type object"),
      'Invalid value: "string": must be of type object',
    ],
    ["internal", field.internalError(p, "boom"), "Internal error: boom"],
  ];
  for (const [name, err, want] of cases) test(name, () => assert.equal(err.detail, want));

  test("cause types", () => {
    assert.equal(field.tooLong(p, 1).type, "FieldValueTooLong");
    assert.equal(field.typeInvalid(p, "x", "y").type, "FieldValueTypeInvalid");
    assert.equal(field.invalid(p, new GoRepr("x"), "y").field, "f");
  });

  test("Go quoting", () => {
    assert.equal(goQuote('a"b\\c\n\x01\u00a0é'), '"a\\"b\\\\c\\n\\x01\\u00a0é"');
    assert.equal(goStringSlice("string", undefined).text, "[]string(nil)");
  });

  test("uniqueErrors keeps the first of each field: detail", () => {
    const a = field.required(p);
    assert.deepEqual(field.uniqueErrors([a, field.required(p), field.required(Path.root("g"))]).length, 2);
  });
});
