// Server-side apply: merge, ownership, conflicts, force and removal. Cases follow the
// Server-Side Apply documentation and structured-merge-diff's merge tests (multiple appliers,
// sets, nested lists), run through the same entry points the API server uses.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError, type Status } from "../../apierrors/status.ts";
import type { JsonObject } from "../patch/json.types.ts";
import { FieldSet, pathString } from "./fieldpath.ts";
import {
  scopeFor,
  updateManagedFields,
  type FieldManagementScope,
  type ManagedFieldsEntry,
} from "./managed-fields.ts";
import { applyConfig, lastAppliedAnnotation } from "./server-side-apply.ts";

const T1 = "2024-05-01T10:00:00Z";
const T2 = "2024-05-01T10:00:05Z";
const T3 = "2024-05-01T10:00:09Z";

const configMaps = scopeFor(
  {
    group: "",
    version: "v1",
    kind: "ConfigMap",
    schemaName: "io.k8s.api.core.v1.ConfigMap",
    strategy: { statusSubresource: false },
  },
  "",
);

/** structured-merge-diff's test types, as a custom resource schema. */
const testSchema = {
  type: "object",
  properties: {
    list: {
      type: "array",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: {
        type: "object",
        properties: { name: { type: "string" }, value: { type: "integer" } },
      },
    },
    listOfLists: {
      type: "array",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          value: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } },
        },
      },
    },
    set: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } },
    atomic: { type: "array", items: { type: "string" } },
    struct: {
      type: "object",
      properties: {
        name: { type: "string" },
        scalarField: { type: "string" },
        complexField: { type: "object", properties: { name: { type: "string" } } },
      },
    },
    status: { type: "object", properties: { phase: { type: "string" } } },
  },
};
const things = (statusSubresource = false, subresource = ""): FieldManagementScope =>
  scopeFor(
    {
      group: "example.com",
      version: "v1",
      kind: "Thing",
      crd: {},
      schema: testSchema,
      strategy: { statusSubresource },
    },
    subresource,
  );

/** One object, written to by appliers and updaters in turn. */
class Live {
  obj: JsonObject | undefined;
  constructor(
    private readonly scope: FieldManagementScope,
    private readonly subresource = "",
  ) {}

  private typed(body: JsonObject): JsonObject {
    return { apiVersion: this.scope.apiVersion, kind: this.scope.kind, metadata: { name: "x" }, ...body };
  }

  apply(manager: string, body: JsonObject, opts: { force?: boolean; time?: string } = {}): JsonObject {
    const result = applyConfig({
      current: this.obj,
      applied: this.typed(body),
      manager,
      force: opts.force ?? false,
      subresource: this.subresource,
      time: opts.time ?? T2,
      scope: this.scope,
    });
    this.obj = result.object;
    return result.object;
  }

  update(manager: string, body: JsonObject, time = T2): void {
    // The body's metadata if it has some, else the live object's (without managedFields).
    const meta = (body["metadata"] ?? this.obj?.["metadata"] ?? { name: "x" }) as JsonObject;
    const { managedFields: _mf, ...metadata } = meta;
    const next: JsonObject = { ...this.typed(body), metadata };
    const managedFields = updateManagedFields({
      current: this.obj,
      next,
      manager,
      subresource: this.subresource,
      time,
      scope: this.scope,
    });
    this.obj = {
      ...next,
      metadata: { ...metadata, managedFields: managedFields as unknown as JsonObject[] },
    };
  }

  /** The object without apiVersion, kind and metadata. */
  body(): JsonObject {
    const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = this.obj ?? {};
    return rest;
  }

  entries(): ManagedFieldsEntry[] {
    return ((this.obj?.["metadata"] as JsonObject | undefined)?.["managedFields"] ??
      []) as unknown as ManagedFieldsEntry[];
  }

  entry(manager: string): ManagedFieldsEntry | undefined {
    return this.entries().find((e) => e.manager === manager);
  }

  /** A manager's fields as paths. */
  owned(manager: string): string[] {
    const e = this.entry(manager);
    return e === undefined ? [] : FieldSet.fromFieldsV1(e.fieldsV1).paths().map(pathString);
  }
}

function statusOf(fn: () => unknown): Status {
  try {
    fn();
  } catch (err) {
    if (isStatusError(err)) return err.status;
    throw err;
  }
  assert.fail("expected a StatusError");
}

describe("server-side apply of a ConfigMap (the SSA documentation's example)", () => {
  const manifest: JsonObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "test-cm", namespace: "default", labels: { "test-label": "test" } },
    data: { key: "some value" },
  };

  test("creates the object; the applier owns exactly what it applied", () => {
    const { object, changed } = applyConfig({
      current: undefined,
      applied: manifest,
      manager: "kubectl",
      force: false,
      subresource: "",
      time: T1,
      scope: configMaps,
    });
    assert.ok(changed);
    assert.deepEqual(object, {
      ...manifest,
      metadata: {
        ...(manifest["metadata"] as JsonObject),
        managedFields: [
          {
            manager: "kubectl",
            operation: "Apply",
            apiVersion: "v1",
            time: T1,
            fieldsType: "FieldsV1",
            fieldsV1: { "f:data": { "f:key": {} }, "f:metadata": { "f:labels": { "f:test-label": {} } } },
          },
        ],
      },
    });
  });

  test("a change by an updater conflicts with a later apply; the 409 names manager, version and field", () => {
    const live = new Live(configMaps);
    live.apply("kubectl", { data: { key: "some value" } }, { time: T1 });
    live.update("kubectl-client-side-apply", { data: { key: "other" } }, T2);
    const status = statusOf(() => live.apply("kubectl", { data: { key: "new value" } }));
    assert.deepEqual(status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.key',
      reason: "Conflict",
      details: {
        causes: [
          {
            reason: "FieldManagerConflict",
            message: 'conflict with "kubectl-client-side-apply" using v1',
            field: ".data.key",
          },
        ],
      },
      code: 409,
    });
  });

  test("conflicts with several managers: counted, grouped by manager; appliers print without a version", () => {
    const live = new Live(configMaps);
    live.apply("first", { data: { a: "1", b: "1" } }, { time: T1 });
    live.update("editor", { data: { a: "1", b: "1", c: "1" } }, T2);
    const status = statusOf(() => live.apply("second", { data: { a: "2", b: "2", c: "2" } }));
    assert.equal(
      status.message,
      'Apply failed with 3 conflicts: conflicts with "editor" using v1:\n- .data.c\nconflicts with "first":\n- .data.a\n- .data.b',
    );
    assert.deepEqual(
      status.details?.causes?.map((c) => `${c.message} ${c.field}`),
      [
        'conflict with "editor" using v1 .data.c',
        'conflict with "first" .data.a',
        'conflict with "first" .data.b',
      ],
    );
  });

  test("force takes the conflicting field over; the other manager loses it", () => {
    const live = new Live(configMaps);
    live.apply("kubectl", { data: { key: "a", other: "b" } }, { time: T1 });
    live.apply("other", { data: { key: "changed" } }, { force: true, time: T3 });
    assert.deepEqual(live.body(), { data: { key: "changed", other: "b" } });
    assert.deepEqual(live.owned("kubectl"), [".data.other"]);
    assert.deepEqual(live.owned("other"), [".data.key"]);
    assert.equal(live.entry("other")?.time, T3);
  });

  test("applying the same value shares the field without conflict (and without a new time)", () => {
    const live = new Live(configMaps);
    live.apply("one", { data: { key: "v" } }, { time: T1 });
    const before = live.obj;
    live.apply("two", { data: { key: "v" } }, { time: T3 });
    assert.deepEqual(live.body(), { data: { key: "v" } });
    assert.deepEqual(live.owned("one"), [".data.key"]);
    assert.deepEqual(live.owned("two"), [".data.key"]);
    assert.equal(live.entry("two")?.time, undefined);
    assert.deepEqual(
      live.entry("one"),
      (before?.["metadata"] as unknown as { managedFields: ManagedFieldsEntry[] }).managedFields[0],
    );
    // Now neither may change it alone.
    assert.match(
      statusOf(() => live.apply("one", { data: { key: "w" } })).message,
      /conflict with "two": \.data\.key$/,
    );
  });

  test("a field applied before and omitted now is removed, unless another manager owns it", () => {
    const live = new Live(configMaps);
    live.apply("one", { data: { a: "1", b: "2", c: "3" } }, { time: T1 });
    live.apply("two", { data: { b: "2" } });
    live.update("editor", { data: { a: "1", b: "2", c: "30" } });
    live.apply("one", { data: { a: "1" } });
    // b stays (applied by two), c stays (changed by an updater, who owns it now).
    assert.deepEqual(live.body(), { data: { a: "1", b: "2", c: "30" } });
    live.apply("one", { data: {} });
    assert.deepEqual(live.body(), { data: { b: "2", c: "30" } });
  });

  test("apiVersion/kind must match the endpoint; managedFields may not be applied", () => {
    const args = {
      current: undefined,
      manager: "m",
      force: false,
      subresource: "",
      time: T1,
      scope: configMaps,
    };
    const wrongKind = statusOf(() =>
      applyConfig({ ...args, applied: { apiVersion: "v1", kind: "Secret", metadata: { name: "x" } } }),
    );
    assert.equal(wrongKind.code, 400);
    assert.equal(wrongKind.message, "invalid object type: /v1, Kind=Secret");
    const wrongVersion = statusOf(() =>
      applyConfig({
        ...args,
        applied: { apiVersion: "apps/v1", kind: "ConfigMap", metadata: { name: "x" } },
      }),
    );
    assert.equal(wrongVersion.message, "invalid object type: apps/v1, Kind=ConfigMap");
    const mf = statusOf(() =>
      applyConfig({
        ...args,
        applied: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", managedFields: [] } },
      }),
    );
    assert.equal(mf.message, "metadata.managedFields must be nil");
  });

  test("kubectl may take over fields its client-side apply left in last-applied-configuration", () => {
    const lastApplied =
      '{"apiVersion":"v1","data":{"key":"a"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"x"}}\n';
    const live = new Live(configMaps);
    live.update("kubectl-client-side-apply", {
      metadata: { name: "x", annotations: { [lastAppliedAnnotation]: lastApplied } },
      data: { key: "a" },
    });
    // Another manager conflicts…
    assert.equal(statusOf(() => live.apply("other", { data: { key: "b" } })).code, 409);
    // …"kubectl" (kubectl apply --server-side) does not, and keeps the annotation in step.
    live.apply("kubectl", { data: { key: "b" } });
    assert.deepEqual(live.body(), { data: { key: "b" } });
    assert.deepEqual(live.owned("kubectl"), [".data.key"]);
    const annotations = (live.obj?.["metadata"] as JsonObject)["annotations"] as Record<string, string>;
    assert.equal(
      annotations[lastAppliedAnnotation],
      '{"apiVersion":"v1","data":{"key":"b"},"kind":"ConfigMap","metadata":{"name":"x"}}\n',
    );
  });

  test("an apply that changes nothing keeps the object and the applier's time", () => {
    const live = new Live(configMaps);
    live.apply("m", { data: { a: "1" } }, { time: T1 });
    const { changed, object } = applyConfig({
      current: live.obj,
      applied: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: "1" } },
      manager: "m",
      force: false,
      subresource: "",
      time: T3,
      scope: configMaps,
    });
    assert.equal(changed, false);
    assert.deepEqual(object, live.obj);
  });
});

describe("structured-merge-diff's cases", () => {
  test("sets: apply, update, apply without overlap (apply_update_apply_no_overlap)", () => {
    const live = new Live(things());
    live.apply("default", { set: ["a", "c"] });
    live.update("controller", { set: ["a", "b", "c", "d"] });
    live.apply("default", { set: ["a", "aprime", "c", "cprime"] });
    assert.deepEqual(live.body(), { set: ["a", "b", "aprime", "c", "d", "cprime"] });
    assert.deepEqual(live.owned("default"), [
      '.set[="a"]',
      '.set[="aprime"]',
      '.set[="c"]',
      '.set[="cprime"]',
    ]);
    assert.deepEqual(live.owned("controller"), ['.set[="b"]', '.set[="d"]']);
  });

  test("sets: applying fewer items removes the ones only the applier had (apply_twice_remove)", () => {
    const live = new Live(things());
    live.apply("default", { set: ["a", "b", "c", "d"] });
    live.apply("default", { set: ["a", "c"] });
    assert.deepEqual(live.body(), { set: ["a", "c"] });
  });

  test("associative lists: remove_one_keep_one across two appliers", () => {
    const live = new Live(things());
    live.apply("apply-one", { list: [{ name: "a" }, { name: "b" }, { name: "c" }] });
    live.apply("apply-two", { list: [{ name: "c" }, { name: "d" }] });
    live.apply("apply-one", { list: [{ name: "a" }] });
    assert.deepEqual(live.body(), { list: [{ name: "a" }, { name: "c" }, { name: "d" }] });
    assert.deepEqual(live.owned("apply-one"), ['.list[name="a"]', '.list[name="a"].name']);
    assert.deepEqual(live.owned("apply-two"), [
      '.list[name="c"]',
      '.list[name="d"]',
      '.list[name="c"].name',
      '.list[name="d"].name',
    ]);
  });

  test("associative lists: same_value_no_conflict, then change_value_yes_conflict", () => {
    const live = new Live(things());
    live.apply("apply-one", { list: [{ name: "a", value: 0 }] });
    live.apply("apply-two", { list: [{ name: "a", value: 0 }] });
    assert.deepEqual(live.owned("apply-two"), [
      '.list[name="a"]',
      '.list[name="a"].name',
      '.list[name="a"].value',
    ]);
    const status = statusOf(() => live.apply("apply-two", { list: [{ name: "a", value: 1 }] }));
    assert.equal(
      status.message,
      'Apply failed with 1 conflict: conflict with "apply-one": .list[name="a"].value',
    );
    assert.deepEqual(status.details?.causes?.[0]?.field, '.list[name="a"].value');
  });

  test("nested: remove_one_keep_one_with_dangling_subitem", () => {
    const live = new Live(things());
    live.apply("apply-one", { listOfLists: [{ name: "a" }, { name: "b", value: ["c"] }] });
    live.apply("apply-two", { listOfLists: [{ name: "b", value: ["d"] }] });
    live.update("controller", { listOfLists: [{ name: "a" }, { name: "b", value: ["c", "d", "e"] }] });
    live.apply("apply-one", { listOfLists: [{ name: "a" }] });
    assert.deepEqual(live.body(), { listOfLists: [{ name: "a" }, { name: "b", value: ["d", "e"] }] });
    assert.deepEqual(live.owned("controller"), ['.listOfLists[name="b"].value[="e"]']);
    assert.deepEqual(live.owned("apply-two"), [
      '.listOfLists[name="b"]',
      '.listOfLists[name="b"].name',
      '.listOfLists[name="b"].value[="d"]',
    ]);
  });

  test("struct fields: unset_scalar_sole_owner and unset_scalar_shared_with_updater", () => {
    const sole = new Live(things());
    sole.apply("apply-one", { struct: { name: "a", scalarField: "a" } });
    sole.apply("apply-one", { struct: { name: "a" } });
    assert.deepEqual(sole.body(), { struct: { name: "a" } });
    assert.deepEqual(sole.owned("apply-one"), [".struct.name"]);

    const shared = new Live(things());
    shared.update("updater", { struct: { name: "a", scalarField: "a" } });
    shared.apply("applier", { struct: { name: "a", scalarField: "a" } });
    shared.apply("applier", { struct: { name: "a" } });
    assert.deepEqual(shared.body(), { struct: { name: "a", scalarField: "a" } });
    assert.deepEqual(shared.owned("updater"), [".struct", ".struct.name", ".struct.scalarField"]);
    assert.deepEqual(shared.owned("applier"), [".struct.name"]);
  });

  test("struct fields: unset_complex_sole_owner removes the whole sub-struct", () => {
    const live = new Live(things());
    live.apply("apply-one", { struct: { name: "a", complexField: { name: "b" } } });
    live.apply("apply-one", { struct: { name: "a" } });
    assert.deepEqual(live.body(), { struct: { name: "a" } });
  });

  test("an updater claims a field by changing it (updater_claims_field); the applier keeps the rest", () => {
    const live = new Live(things());
    live.apply("applier", { struct: { name: "a", scalarField: "a" } });
    live.update("updater", { struct: { name: "a", scalarField: "b" } });
    assert.deepEqual(live.owned("updater"), [".struct.scalarField"]);
    assert.deepEqual(live.owned("applier"), [".struct.name"]);
  });

  test("atomic lists are owned and replaced as a whole", () => {
    const live = new Live(things());
    live.apply("one", { atomic: ["a", "b"] });
    assert.deepEqual(live.owned("one"), [".atomic"]);
    const status = statusOf(() => live.apply("two", { atomic: ["a", "b", "c"] }));
    assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "one": .atomic');
    live.apply("two", { atomic: ["c"] }, { force: true });
    assert.deepEqual(live.body(), { atomic: ["c"] });
    assert.deepEqual(live.owned("one"), []);
  });

  test("duplicate or keyless items in an applied associative list are refused like upstream (500)", () => {
    const live = new Live(things());
    const status = statusOf(() => live.apply("m", { list: [{ name: "a" }, { name: "a" }, { value: 1 }] }));
    assert.equal(status.code, 500);
    assert.equal(status.reason, "");
    assert.equal(
      status.message,
      'failed to create typed patch object (/x; example.com/v1, Kind=Thing): errors:\n  .list: duplicate entries for key [name="a"]\n  .list: element 2: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );
  });

  test("status applied through the main resource of a kind with a status subresource is not owned", () => {
    const live = new Live(things(true));
    live.apply("m", { struct: { name: "a" }, status: { phase: "x" } });
    assert.deepEqual(live.owned("m"), [".struct.name"]);
  });

  test("a conflict with a /status writer names its subresource", () => {
    const live = new Live(things(true, "status"), "status");
    live.update("controller", { status: { phase: "Running" } });
    assert.equal(live.entry("controller")?.subresource, "status");
    const err = statusOf(() => live.apply("other", { status: { phase: "Done" } }));
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "controller" with subresource "status" using example.com/v1: .status.phase',
    );
  });
});
