// readJsonPath as printer columns and selectable fields use it: simple paths, indexes and
// kube's `[?(@.field=="value")]` filters (first match, as the tableconvertor keeps).

import assert from "node:assert/strict";
import { test } from "node:test";
import { readJsonPath } from "./crd-resources.ts";

const obj = {
  spec: { replicas: 3, ports: [{ port: 80 }, { port: 443, name: "https" }] },
  metadata: { labels: { app: "web" } },
  status: {
    conditions: [
      { type: "Available", status: "False" },
      { type: "Ready", status: "True" },
    ],
  },
};

test("simple paths, with or without the leading dot or braces", () => {
  assert.equal(readJsonPath(obj, ".spec.replicas"), 3);
  assert.equal(readJsonPath(obj, "spec.replicas"), 3);
  assert.equal(readJsonPath(obj, "{.metadata.labels.app}"), "web");
  assert.equal(readJsonPath(obj, ".spec.ports[1].name"), "https");
  assert.equal(readJsonPath(obj, ".spec.nope.deeper"), undefined);
});

test("filters keep the first match", () => {
  assert.equal(readJsonPath(obj, '.status.conditions[?(@.type=="Ready")].status'), "True");
  assert.equal(readJsonPath(obj, ".status.conditions[?(@.type=='Available')].status"), "False");
  assert.equal(readJsonPath(obj, ".spec.ports[?(@.port==443)].name"), "https");
  assert.equal(readJsonPath(obj, '.status.conditions[?(@.type=="Gone")].status'), undefined);
});
