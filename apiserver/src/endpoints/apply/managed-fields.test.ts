// managedFields for writes that are not applies (create, update, non-apply patch), and the
// entries' encoding, order and cap.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JsonObject } from "../patch/json.types.ts";
import {
  decodeManagedFields,
  encodeManagedFields,
  scopeFor,
  updateManagedFields,
  type FieldManagementScope,
  type ManagedFieldsEntry,
} from "./managed-fields.ts";

const core = (kind: string, statusSubresource = false) => ({
  group: "",
  version: "v1",
  kind,
  schemaName: `io.k8s.api.core.v1.${kind}`,
  strategy: { statusSubresource },
});
const configMaps = scopeFor(core("ConfigMap"), "");

const T1 = "2024-05-01T10:00:00Z";
const T2 = "2024-05-01T10:00:05Z";
const T3 = "2024-05-01T10:00:09Z";

/** A stored object: `obj` with the managedFields a write by `manager` gives it. */
function write(
  current: JsonObject | undefined,
  next: JsonObject,
  manager: string,
  time: string,
  scope: FieldManagementScope = configMaps,
  subresource = "",
): JsonObject {
  const managedFields = updateManagedFields({ current, next, manager, subresource, time, scope });
  const meta = { ...((next["metadata"] as JsonObject | undefined) ?? {}) };
  delete meta["managedFields"];
  if (managedFields.length > 0) meta["managedFields"] = managedFields as unknown as JsonObject[];
  return { ...next, metadata: meta };
}

const entries = (obj: JsonObject): ManagedFieldsEntry[] =>
  ((obj["metadata"] as JsonObject)["managedFields"] ?? []) as unknown as ManagedFieldsEntry[];
const fieldsOf = (obj: JsonObject, manager: string): unknown =>
  entries(obj).find((e) => e.manager === manager)?.fieldsV1;

const cm = (data: Record<string, string>, labels?: Record<string, string>): JsonObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cm", namespace: "default", ...(labels ? { labels } : {}) },
  data,
});

describe("updateManagedFields", () => {
  test("a create owns what it sets: maps and their keys, never name, namespace or uid", () => {
    const created = write(undefined, cm({ key: "v" }, { app: "a" }), "kubectl-create", T1);
    assert.deepEqual(entries(created), [
      {
        manager: "kubectl-create",
        operation: "Update",
        apiVersion: "v1",
        time: T1,
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:data": { ".": {}, "f:key": {} },
          "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
        },
      },
    ]);
    // Keys in upstream's order: manager, operation, apiVersion, time, fieldsType, fieldsV1.
    assert.deepEqual(Object.keys(entries(created)[0]!), [
      "manager",
      "operation",
      "apiVersion",
      "time",
      "fieldsType",
      "fieldsV1",
    ]);
  });

  test("server-owned metadata is never owned, generateName is", () => {
    const obj: JsonObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "x",
        generateName: "x-",
        uid: "u",
        resourceVersion: "3",
        creationTimestamp: "t",
        generation: 1,
      },
    };
    assert.deepEqual(fieldsOf(write(undefined, obj, "m", T1), "m"), {
      "f:metadata": { "f:generateName": {} },
    });
  });

  test("changing a value moves it to the writer; the others keep the rest", () => {
    const created = write(undefined, cm({ a: "1", b: "2" }), "creator", T1);
    const edited = write(created, cm({ a: "1", b: "3" }), "kubectl-edit", T2);
    assert.deepEqual(fieldsOf(edited, "creator"), { "f:data": { ".": {}, "f:a": {} } });
    assert.deepEqual(fieldsOf(edited, "kubectl-edit"), { "f:data": { "f:b": {} } });
    assert.deepEqual(
      entries(edited).map((e) => [e.manager, e.time]),
      [
        ["creator", T1],
        ["kubectl-edit", T2],
      ],
    );
  });

  test("a removed field leaves every entry; an entry left empty disappears", () => {
    const created = write(undefined, cm({ a: "1" }), "creator", T1);
    const edited = write(created, cm({ a: "1", b: "2" }), "editor", T2);
    const removed = write(edited, cm({ a: "1" }), "remover", T3);
    assert.deepEqual(
      entries(removed).map((e) => e.manager),
      ["creator"],
    );
  });

  test("a write that changes nothing adds no entry and keeps the times", () => {
    const created = write(undefined, cm({ a: "1" }), "creator", T1);
    const same = write(created, cm({ a: "1" }), "other", T2);
    assert.deepEqual(entries(same), entries(created));
  });

  test("the same manager writing again keeps its fields and takes the new time", () => {
    const created = write(undefined, cm({ a: "1" }), "m", T1);
    const again = write(created, cm({ a: "1", b: "2" }), "m", T2);
    assert.deepEqual(entries(again).length, 1);
    assert.equal(entries(again)[0]?.time, T2);
    assert.deepEqual(fieldsOf(again, "m"), { "f:data": { ".": {}, "f:a": {}, "f:b": {} } });
  });

  test("a built-in create compares with Go's zero value (an empty spec); a custom resource's with nothing", () => {
    const services = scopeFor(core("Service", true), "");
    const svc = write(
      undefined,
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "s" },
        spec: { ports: [{ port: 80, protocol: "TCP" }], type: "ClusterIP" },
      },
      "kubectl-create",
      T1,
      services,
    );
    assert.deepEqual(fieldsOf(svc, "kubectl-create"), {
      "f:spec": {
        "f:ports": { ".": {}, 'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:port": {}, "f:protocol": {} } },
        "f:type": {},
      },
    });
    const widgets = scopeFor(
      {
        group: "example.com",
        version: "v1",
        kind: "Widget",
        crd: {},
        schema: {
          type: "object",
          properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
        },
        strategy: { statusSubresource: false },
      },
      "",
    );
    const w = write(
      undefined,
      { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { size: 1 } },
      "m",
      T1,
      widgets,
    );
    assert.deepEqual(entries(w)[0]?.apiVersion, "example.com/v1");
    assert.deepEqual(fieldsOf(w, "m"), { "f:spec": { ".": {}, "f:size": {} } });
  });

  test("status is not owned through the main resource of a kind with a status subresource; /status has its own entry", () => {
    const namespaces = scopeFor(core("Namespace", true), "");
    const ns = write(
      undefined,
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "n", labels: { a: "b" } },
        status: { phase: "Active" },
      },
      "kubectl-create",
      T1,
      namespaces,
    );
    assert.deepEqual(fieldsOf(ns, "kubectl-create"), {
      "f:metadata": { "f:labels": { ".": {}, "f:a": {} } },
    });
    const status = write(
      ns,
      { ...ns, status: { phase: "Terminating" } },
      "controller",
      T2,
      scopeFor(core("Namespace", true), "status"),
      "status",
    );
    const entry = entries(status).find((e) => e.manager === "controller");
    assert.equal(entry?.subresource, "status");
    assert.deepEqual(entry?.fieldsV1, { "f:status": { "f:phase": {} } });
    assert.equal(Object.keys(entry ?? {}).at(-1), "subresource");
  });

  test("managedFields a client sends are kept; [] resets them; unreadable ones are ignored", () => {
    const created = write(undefined, cm({ a: "1" }), "creator", T1);
    const given: ManagedFieldsEntry = {
      manager: "someone",
      operation: "Update",
      apiVersion: "v1",
      time: T1,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:data": { "f:a": {} } },
    };
    const rewritten = write(
      created,
      { ...cm({ a: "1" }), metadata: { name: "cm", managedFields: [given] } } as unknown as JsonObject,
      "x",
      T2,
    );
    assert.deepEqual(entries(rewritten), [given]);
    const reset = write(created, { ...cm({ a: "1" }), metadata: { name: "cm", managedFields: [] } }, "x", T2);
    assert.deepEqual(entries(reset), []);
    // The documented way to clear them with a patch: a list holding one empty entry.
    const cleared = write(
      created,
      { ...cm({ a: "1" }), metadata: { name: "cm", managedFields: [{}] } },
      "x",
      T2,
    );
    assert.deepEqual(entries(cleared), []);
    const broken = write(
      created,
      { ...cm({ a: "1" }), metadata: { name: "cm", managedFields: [{ operation: "Patch" }] } },
      "x",
      T2,
    );
    assert.deepEqual(entries(broken), entries(created));
  });

  test("more than ten update managers: the oldest are folded into ancient-changes", () => {
    let obj = write(undefined, cm({ k0: "v" }), "m0", "2024-01-01T00:00:00Z");
    for (let i = 1; i <= 11; i++) {
      const data: Record<string, string> = {};
      for (let j = 0; j <= i; j++) data[`k${j}`] = "v";
      obj = write(obj, cm(data), `m${i}`, `2024-01-01T00:00:${String(i).padStart(2, "0")}Z`);
    }
    const managers = entries(obj).map((e) => e.manager);
    assert.equal(managers.length, 10);
    assert.equal(managers[0], "ancient-changes");
    assert.deepEqual(fieldsOf(obj, "ancient-changes"), {
      "f:data": { ".": {}, "f:k0": {}, "f:k1": {}, "f:k2": {} },
    });
    assert.equal(entries(obj)[0]?.time, "2024-01-01T00:00:02Z");
  });
});

describe("encodeManagedFields", () => {
  test("Apply entries first, then by time, manager, apiVersion and subresource", () => {
    const decoded = decodeManagedFields([
      {
        manager: "b",
        operation: "Update",
        apiVersion: "v1",
        time: T1,
        fieldsType: "FieldsV1",
        fieldsV1: { "f:x": {} },
      },
      {
        manager: "a",
        operation: "Update",
        apiVersion: "v1",
        time: T2,
        fieldsType: "FieldsV1",
        fieldsV1: { "f:y": {} },
      },
      {
        manager: "z",
        operation: "Apply",
        apiVersion: "v1",
        time: T3,
        fieldsType: "FieldsV1",
        fieldsV1: { "f:z": {} },
      },
      {
        manager: "a",
        operation: "Update",
        apiVersion: "v1",
        time: T1,
        fieldsType: "FieldsV1",
        fieldsV1: { "f:w": {} },
        subresource: "status",
      },
    ]);
    assert.deepEqual(
      encodeManagedFields(decoded).map((e) => `${e.operation}/${e.manager}/${e.subresource ?? ""}`),
      ["Apply/z/", "Update/a/status", "Update/b/", "Update/a/"],
    );
  });

  test("decoding refuses what upstream refuses", () => {
    assert.throws(
      () =>
        decodeManagedFields([{ manager: "m", operation: "Patch", apiVersion: "v1", fieldsType: "FieldsV1" }]),
      /operation must be `Apply` or `Update`/,
    );
    assert.throws(
      () => decodeManagedFields([{ manager: "m", operation: "Update", apiVersion: "v1" }]),
      /missing fieldsType in managed fields entry 0/,
    );
    assert.throws(
      () =>
        decodeManagedFields([
          { manager: "m", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV2" },
        ]),
      /invalid fieldsType "FieldsV2"/,
    );
  });
});
