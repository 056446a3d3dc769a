// Field sets, comparisons, merges and removals over typed objects: built-in schemas
// (ConfigMap, Service, Namespace, ObjectMeta) and a custom resource's openAPIV3Schema.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JsonObject } from "../patch/json.types.ts";
import { FieldSet, pathString } from "./fieldpath.ts";
import { rootTypeOf } from "./schema-types.ts";
import { compare, merge, removeItems, toFieldSet, validateApplied } from "./typed-value.ts";

const configMap = rootTypeOf({ schemaName: "io.k8s.api.core.v1.ConfigMap" });
const service = rootTypeOf({ schemaName: "io.k8s.api.core.v1.Service" });

/** A custom resource schema with every list and map flavour. */
const widgetSchema = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      properties: {
        ports: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["port", "protocol"],
          items: {
            type: "object",
            properties: {
              port: { type: "integer" },
              protocol: { type: "string", default: "TCP" },
              name: { type: "string" },
            },
          },
        },
        tags: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } },
        args: { type: "array", items: { type: "string" } },
        selector: {
          type: "object",
          "x-kubernetes-map-type": "atomic",
          additionalProperties: { type: "string" },
        },
        config: { type: "object", additionalProperties: { type: "string" } },
        extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
    },
  },
};
const widget = rootTypeOf({ schema: widgetSchema });

const fieldsV1 = (set: FieldSet): string => JSON.stringify(set.toFieldsV1());
const paths = (set: FieldSet): string[] => set.paths().map(pathString);

describe("toFieldSet", () => {
  test("the SSA docs' ConfigMap: map keys are owned, struct fields only through them", () => {
    const applied: JsonObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "test-cm", namespace: "default", labels: { "test-label": "test" } },
      data: { key: "some value" },
    };
    const set = toFieldSet(applied, configMap);
    assert.deepEqual(paths(set), [
      ".apiVersion",
      ".kind",
      ".data.key",
      ".metadata.name",
      ".metadata.namespace",
      ".metadata.labels.test-label",
    ]);
  });

  test("associative lists by their keys, with a schema default for an omitted key", () => {
    const set = toFieldSet({ spec: { ports: [{ port: 80, name: "http" }] } }, widget);
    assert.equal(
      fieldsV1(set),
      JSON.stringify({
        "f:spec": {
          "f:ports": { 'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:name": {}, "f:port": {} } },
        },
      }),
    );
  });

  test("sets by value, atomic lists and atomic maps as a whole", () => {
    const set = toFieldSet(
      { spec: { tags: ["b", "a"], args: ["x", "y"], selector: { app: "a" }, config: { k: "v" } } },
      widget,
    );
    assert.deepEqual(paths(set), [
      ".spec.args",
      ".spec.selector",
      ".spec.config.k",
      '.spec.tags[="a"]',
      '.spec.tags[="b"]',
    ]);
  });

  test("unknown and preserve-unknown-fields parts are deduced: maps walked, lists atomic", () => {
    const set = toFieldSet({ spec: { extra: { a: { b: [1, 2] } } }, other: { x: 1 } }, widget);
    assert.deepEqual(paths(set), [".other", ".other.x", ".spec.extra.a", ".spec.extra.a.b"]);
  });

  test("built-in Service ports are keyed by port and protocol; selector is atomic", () => {
    const set = toFieldSet(
      { spec: { ports: [{ port: 443, protocol: "TCP", targetPort: 8443 }], selector: { app: "x" } } },
      service,
    );
    assert.deepEqual(paths(set), [
      ".spec.selector",
      '.spec.ports[port=443,protocol="TCP"]',
      '.spec.ports[port=443,protocol="TCP"].port',
      '.spec.ports[port=443,protocol="TCP"].protocol',
      '.spec.ports[port=443,protocol="TCP"].targetPort',
    ]);
  });

  test("ObjectMeta's finalizers are a set and ownerReferences are keyed by uid", () => {
    const set = toFieldSet(
      {
        metadata: {
          finalizers: ["a/b"],
          ownerReferences: [{ uid: "u1", name: "o", kind: "K", apiVersion: "v1" }],
        },
      },
      configMap,
    );
    assert.deepEqual(paths(set), ['.metadata.finalizers[="a/b"]', '.metadata.ownerReferences[uid="u1"]']);
  });
});

describe("validateApplied", () => {
  test("reports duplicate keys and items an associative list cannot key", () => {
    assert.deepEqual(
      validateApplied(
        { spec: { ports: [{ port: 1 }, { port: 1 }, { name: "x" }], tags: [{ a: 1 }] } },
        widget,
      ),
      [
        '.spec.ports: duplicate entries for key [port=1,protocol="TCP"]',
        '.spec.ports: element 2: associative list with keys has an element that omits key field "port" (and doesn\'t have default value)',
        ".spec.tags: element 0: associative list without keys has an element that's a map type",
      ],
    );
  });
});

describe("compare", () => {
  test("a new map is added itself (its '.'), a changed leaf is modified, a dropped one removed", () => {
    const c = compare(
      { metadata: { name: "x" }, data: { a: "1", b: "2" } },
      { metadata: { name: "x", labels: { app: "y" } }, data: { a: "3" } },
      configMap,
    );
    assert.deepEqual(paths(c.added), [".metadata.labels", ".metadata.labels.app"]);
    assert.deepEqual(paths(c.modified), [".data.a"]);
    assert.deepEqual(paths(c.removed), [".data.b"]);
  });

  test("list items by key: a new item and its fields are added; atomic lists change as a whole", () => {
    const c = compare(
      { spec: { ports: [{ port: 80, protocol: "TCP" }], args: ["a"] } },
      {
        spec: {
          ports: [
            { port: 80, protocol: "TCP" },
            { port: 81, protocol: "UDP" },
          ],
          args: ["a", "b"],
        },
      },
      widget,
    );
    assert.deepEqual(paths(c.added), [
      '.spec.ports[port=81,protocol="UDP"]',
      '.spec.ports[port=81,protocol="UDP"].port',
      '.spec.ports[port=81,protocol="UDP"].protocol',
    ]);
    assert.deepEqual(paths(c.modified), [".spec.args"]);
    assert.ok(c.removed.empty());
  });

  test("empty and absent maps compare as leaves, so {} → absent is a removal", () => {
    const c = compare({ data: {} }, {}, configMap);
    assert.deepEqual(paths(c.removed), [".data"]);
  });
});

describe("merge", () => {
  test("maps merge key by key; atomic maps and lists are replaced", () => {
    const out = merge(
      { spec: { config: { a: "1" }, selector: { x: "1" }, args: ["a", "b"] } },
      { spec: { config: { b: "2" }, selector: { y: "2" }, args: ["c"] } },
      widget,
    );
    assert.deepEqual(out, { spec: { config: { a: "1", b: "2" }, selector: { y: "2" }, args: ["c"] } });
  });

  test("associative lists merge by key, keeping live order and the applied order of shared items", () => {
    const out = merge(
      { spec: { tags: ["a", "b", "c", "d"] } },
      { spec: { tags: ["a", "aprime", "c", "cprime"] } },
      widget,
    );
    assert.deepEqual(out, { spec: { tags: ["a", "b", "aprime", "c", "d", "cprime"] } });
    const reordered = merge({ spec: { tags: ["a", "b", "c"] } }, { spec: { tags: ["c", "a"] } }, widget);
    assert.deepEqual(reordered, { spec: { tags: ["b", "c", "a"] } });
  });

  test("list items merge field by field", () => {
    const out = merge(
      {
        spec: {
          ports: [
            { port: 80, protocol: "TCP", name: "old" },
            { port: 90, protocol: "TCP" },
          ],
        },
      },
      { spec: { ports: [{ port: 80, name: "new" }] } },
      widget,
    );
    assert.deepEqual(out, {
      spec: {
        ports: [
          { port: 80, protocol: "TCP", name: "new" },
          { port: 90, protocol: "TCP" },
        ],
      },
    });
  });
});

describe("removeItems", () => {
  test("removes members with everything under them; maps left empty disappear", () => {
    const out = removeItems(
      {
        data: { a: "1" },
        spec: {
          ports: [
            { port: 1, protocol: "TCP" },
            { port: 2, protocol: "TCP" },
          ],
        },
      },
      FieldSet.fromFieldsV1({
        "f:data": { "f:a": {} },
        "f:spec": { "f:ports": { 'k:{"port":2,"protocol":"TCP"}': {} } },
      }),
      widget,
    );
    assert.deepEqual(out, { spec: { ports: [{ port: 1, protocol: "TCP" }] } });
  });
});
