import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pruneUnknownFields } from "./unknown-fields.ts";

const cm = "io.k8s.api.core.v1.ConfigMap";
const svc = "io.k8s.api.core.v1.Service";
const quota = "io.k8s.api.core.v1.ResourceQuota";

describe("unknown and mistyped fields of built-in kinds", () => {
  test("undeclared fields are dropped and named by path", () => {
    const r = pruneUnknownFields(cm, {
      metadata: { name: "x", bogus: 1 },
      data: { a: "1" },
      spec: { foo: 1 },
    });
    assert.deepEqual(r.obj, { metadata: { name: "x" }, data: { a: "1" } });
    assert.deepEqual(r.unknown.sort(), ["metadata.bogus", "spec"]);
    assert.deepEqual(r.mistyped, []);
  });

  test("values of the wrong JSON type are reported as Go's decoder does", () => {
    assert.deepEqual(pruneUnknownFields(cm, { metadata: { name: "x" }, data: { k: 5 } }).mistyped, [
      "json: cannot unmarshal number into Go struct field data.k of type string",
    ]);
    assert.deepEqual(pruneUnknownFields(cm, { metadata: { name: "x", labels: [1] } }).mistyped, [
      "json: cannot unmarshal array into Go struct field metadata.labels of type object",
    ]);
    assert.equal(pruneUnknownFields(cm, { metadata: { name: "x" }, immutable: "yes" }).mistyped.length, 1);
  });

  test("null, int-or-string and numeric quantities decode", () => {
    assert.deepEqual(
      pruneUnknownFields(cm, { metadata: { name: "x", annotations: null }, data: null }).mistyped,
      [],
    );
    const service = {
      metadata: { name: "s" },
      spec: {
        ports: [
          { port: 80, targetPort: 8080 },
          { port: 81, targetPort: "http" },
        ],
      },
    };
    assert.deepEqual(pruneUnknownFields(svc, service).mistyped, []);
    assert.deepEqual(
      pruneUnknownFields(quota, { metadata: { name: "q" }, spec: { hard: { pods: 10, cpu: "1" } } }).mistyped,
      [],
    );
  });

  test("an unknown schema leaves the object as it is", () => {
    const obj = { anything: { goes: [1] } };
    assert.deepEqual(pruneUnknownFields(undefined, obj), { obj, unknown: [], mistyped: [] });
  });
});
