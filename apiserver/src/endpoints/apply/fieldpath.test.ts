// FieldsV1 serialization and set algebra, against upstream's fieldpath behaviour.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  FieldSet,
  compareValues,
  deserializePathElement,
  fieldElement,
  fieldPath,
  indexElement,
  keyElement,
  pathString,
  serializePathElement,
  valueElement,
} from "./fieldpath.ts";

const f = fieldElement;

describe("path elements", () => {
  test("serialize as f:, k: (keys sorted, Go JSON), v: and i:", () => {
    assert.equal(serializePathElement(f("app.kubernetes.io/name")), "f:app.kubernetes.io/name");
    assert.equal(
      serializePathElement(keyElement({ protocol: "TCP", port: 80 })),
      'k:{"port":80,"protocol":"TCP"}',
    );
    assert.equal(serializePathElement(valueElement("a<b")), 'v:"a\\u003cb"');
    assert.equal(serializePathElement(indexElement(3)), "i:3");
  });

  test("deserialize what they serialize to; unknown element types are dropped", () => {
    for (const pe of [
      f("x"),
      keyElement({ name: "c", containerPort: 8080 }),
      valueElement(true),
      indexElement(0),
    ]) {
      assert.deepEqual(deserializePathElement(serializePathElement(pe)), pe);
    }
    assert.equal(deserializePathElement("z:whatever"), undefined);
    assert.throws(() => deserializePathElement("f"), /missing colon/);
  });

  test("print as conflicts name fields", () => {
    assert.equal(pathString(fieldPath("data", "key")), ".data.key");
    assert.equal(
      pathString([f("spec"), f("ports"), keyElement({ port: 80, protocol: "TCP" }), f("targetPort")]),
      '.spec.ports[port=80,protocol="TCP"].targetPort',
    );
    assert.equal(
      pathString([f("metadata"), f("finalizers"), valueElement("a")]),
      '.metadata.finalizers[="a"]',
    );
  });

  test("values order numbers < strings < bools < lists < maps < null", () => {
    const sorted = [null, { a: 1 }, [1], true, "b", "a", 2, 1.5].sort(compareValues);
    assert.deepEqual(sorted, [1.5, 2, "a", "b", true, [1], { a: 1 }, null]);
  });
});

describe("FieldSet", () => {
  test("FieldsV1: '.' marks an element that is owned itself and has owned children", () => {
    const set = FieldSet.of(
      fieldPath("metadata", "labels"),
      fieldPath("metadata", "labels", "app"),
      fieldPath("data", "key"),
      [f("spec"), f("ports"), keyElement({ port: 80, protocol: "TCP" })],
      [f("spec"), f("ports"), keyElement({ port: 80, protocol: "TCP" }), f("port")],
    );
    assert.equal(
      JSON.stringify(set.toFieldsV1()),
      JSON.stringify({
        "f:data": { "f:key": {} },
        "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
        "f:spec": {
          "f:ports": { 'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:port": {} } },
        },
      }),
    );
  });

  test("FieldsV1 round-trips, and elements sort fields < keys < values < indexes", () => {
    const json = {
      "f:a": {},
      "f:list": { 'k:{"name":"x"}': { ".": {}, "f:name": {} }, 'v:"s"': {}, "i:0": {} },
    };
    const set = FieldSet.fromFieldsV1(json);
    assert.ok(set.has([f("list"), keyElement({ name: "x" })]));
    assert.ok(set.has([f("list"), keyElement({ name: "x" }), f("name")]));
    assert.ok(set.has([f("list"), valueElement("s")]));
    assert.ok(!set.has([f("list")]));
    assert.deepEqual(set.toFieldsV1(), json);
    assert.deepEqual(
      Object.keys(
        FieldSet.of([indexElement(0)], [valueElement("v")], [keyElement({ k: 1 })], [f("z")]).toFieldsV1(),
      ),
      ["f:z", 'k:{"k":1}', 'v:"v"', "i:0"],
    );
  });

  test("the empty path is never tracked; an element with only '.' is a member", () => {
    const set = FieldSet.of([]);
    assert.ok(set.empty());
    assert.ok(FieldSet.fromFieldsV1({ "f:a": { ".": {} } }).has(fieldPath("a")));
  });

  test("union, intersection and difference work level by level", () => {
    const a = FieldSet.of(fieldPath("a"), fieldPath("b", "c"), fieldPath("b", "d"));
    const b = FieldSet.of(fieldPath("b", "c"), fieldPath("e"));
    assert.deepEqual(a.union(b).paths().map(pathString), [".a", ".e", ".b.c", ".b.d"]);
    assert.deepEqual(a.intersection(b).paths().map(pathString), [".b.c"]);
    assert.deepEqual(a.difference(b).paths().map(pathString), [".a", ".b.d"]);
    // Differences never leave empty children behind.
    assert.ok(FieldSet.of(fieldPath("b", "c")).difference(b).empty());
  });

  test("difference keeps descendants of a removed member; recursiveDifference drops them", () => {
    const owned = FieldSet.of(fieldPath("status"), fieldPath("status", "phase"), fieldPath("spec", "x"));
    const reset = FieldSet.of(fieldPath("status"));
    assert.deepEqual(owned.difference(reset).paths().map(pathString), [".spec.x", ".status.phase"]);
    assert.deepEqual(owned.recursiveDifference(reset).paths().map(pathString), [".spec.x"]);
  });

  test("paths() iterates members before children, as Set.Iterate", () => {
    const set = FieldSet.of(fieldPath("b", "x"), fieldPath("c"), fieldPath("a", "y"), fieldPath("a"));
    assert.deepEqual(set.paths().map(pathString), [".a", ".c", ".a.y", ".b.x"]);
  });
});
