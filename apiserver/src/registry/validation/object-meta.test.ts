import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nameIsDNSSubdomain, pathSegmentName } from "./names.ts";
import { validateLabelSelector, validateObjectMetaCreate, validateObjectMetaUpdate } from "./object-meta.ts";
import { Path } from "./field.ts";
import { flat, labelValueMsg, qualifiedNamePartMsg, subdomainMsg } from "./upstream-messages.testdata.ts";

const core = { namespaced: true, nameValidator: nameIsDNSSubdomain, kubeFinalizers: true };
const clusterScoped = { namespaced: false, nameValidator: nameIsDNSSubdomain };

describe("validateObjectMetaCreate", () => {
  const cases: [string, unknown, typeof core | typeof clusterScoped, [string, string, string][]][] = [
    ["valid", { name: "foo", namespace: "default", labels: { "app.kubernetes.io/name": "x" } }, core, []],
    [
      "no name",
      { namespace: "default" },
      core,
      [["FieldValueRequired", "metadata.name", "Required value: name or generateName is required"]],
    ],
    [
      "bad name",
      { name: "Foo", namespace: "default" },
      core,
      [["FieldValueInvalid", "metadata.name", `Invalid value: "Foo": ${subdomainMsg}`]],
    ],
    [
      "bad generateName is checked as a prefix",
      { name: "ok", generateName: "Foo-", namespace: "default" },
      core,
      [["FieldValueInvalid", "metadata.generateName", `Invalid value: "Foo-": ${subdomainMsg}`]],
    ],
    [
      "namespace required",
      { name: "foo" },
      core,
      [["FieldValueRequired", "metadata.namespace", "Required value"]],
    ],
    [
      "namespace forbidden on cluster-scoped kinds",
      { name: "foo", namespace: "default" },
      clusterScoped,
      [["FieldValueForbidden", "metadata.namespace", "Forbidden: not allowed on this type"]],
    ],
    [
      "namespace must be a label",
      { name: "foo", namespace: "a.b" },
      core,
      [["FieldValueInvalid", "metadata.namespace", 'Invalid value: "a.b": must not contain dots']],
    ],
    [
      "label key and value errors name the map",
      { name: "foo", namespace: "d", labels: { "a b": "-x" } },
      core,
      [
        ["FieldValueInvalid", "metadata.labels", `Invalid value: "a b": ${qualifiedNamePartMsg}`],
        ["FieldValueInvalid", "metadata.labels", `Invalid value: "-x": ${labelValueMsg}`],
      ],
    ],
    [
      "annotation keys are checked lower-cased, reported as written",
      { name: "foo", namespace: "d", annotations: { "Example.com/Key": "v", "a b": "v" } },
      core,
      [["FieldValueInvalid", "metadata.annotations", `Invalid value: "a b": ${qualifiedNamePartMsg}`]],
    ],
    [
      "annotations over 256 KiB",
      { name: "foo", namespace: "d", annotations: { a: "x".repeat(256 * 1024) } },
      core,
      [["FieldValueTooLong", "metadata.annotations", "Too long: may not be more than 262144 bytes"]],
    ],
    [
      "finalizers: orphan with foregroundDeletion, and an unqualified custom one",
      { name: "foo", namespace: "d", finalizers: ["orphan", "foregroundDeletion", "custom"] },
      core,
      [
        [
          "FieldValueInvalid",
          "metadata.finalizers",
          'Invalid value: []string{"orphan", "foregroundDeletion", "custom"}: finalizer orphan and foregroundDeletion cannot be both set',
        ],
        [
          "FieldValueInvalid",
          "metadata.finalizers[2]",
          'Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
        ],
      ],
    ],
    [
      "owner references: missing fields and two controllers",
      {
        name: "foo",
        namespace: "d",
        ownerReferences: [
          { apiVersion: "v1", kind: "Pod", name: "a", uid: "1", controller: true },
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "b", uid: "", controller: true },
        ],
      },
      core,
      [
        ["FieldValueInvalid", "metadata.ownerReferences.uid", 'Invalid value: "": must not be empty'],
        [
          "FieldValueInvalid",
          "metadata.ownerReferences",
          'Invalid value: []v1.OwnerReference{v1.OwnerReference{APIVersion:"v1", Kind:"Pod", Name:"a", UID:"1", Controller:(*bool)(0xc000000000), BlockOwnerDeletion:(*bool)(nil)}, v1.OwnerReference{APIVersion:"apps/v1", Kind:"ReplicaSet", Name:"b", UID:"", Controller:(*bool)(0xc000000000), BlockOwnerDeletion:(*bool)(nil)}}: Only one reference can have Controller set to true. Found "true" in references for Pod/a and ReplicaSet/b',
        ],
      ],
    ],
    [
      "events cannot own",
      {
        name: "foo",
        namespace: "d",
        ownerReferences: [{ apiVersion: "v1", kind: "Event", name: "e", uid: "1" }],
      },
      core,
      [
        [
          "FieldValueInvalid",
          "metadata.ownerReferences",
          'Invalid value: v1.OwnerReference{APIVersion:"v1", Kind:"Event", Name:"e", UID:"1", Controller:(*bool)(nil), BlockOwnerDeletion:(*bool)(nil)}: /v1, Kind=Event is disallowed from being an owner',
        ],
      ],
    ],
    [
      "managed fields",
      {
        name: "foo",
        namespace: "d",
        managedFields: [{ operation: "Patch", manager: "m", fieldsType: "FieldsV2" }],
      },
      core,
      [
        [
          "FieldValueInvalid",
          "metadata.managedFields[0].operation",
          'Invalid value: "Patch": must be `Apply` or `Update`',
        ],
        [
          "FieldValueInvalid",
          "metadata.managedFields[0].fieldsType",
          'Invalid value: "FieldsV2": must be `FieldsV1`',
        ],
      ],
    ],
    [
      "wrong types are field errors, not crashes",
      { name: 5, namespace: "d", labels: "app=x", finalizers: "x" },
      core,
      [
        ["FieldValueTypeInvalid", "metadata.name", 'Invalid value: "integer": must be of type string'],
        ["FieldValueRequired", "metadata.name", "Required value: name or generateName is required"],
        ["FieldValueTypeInvalid", "metadata.labels", 'Invalid value: "string": must be of type object'],
        ["FieldValueTypeInvalid", "metadata.finalizers", 'Invalid value: "string": must be of type array'],
      ],
    ],
  ];
  for (const [name, m, opts, want] of cases)
    test(name, () => assert.deepEqual(flat(validateObjectMetaCreate(m, opts)), want));

  test("path-segment names accept what DNS names refuse", () =>
    assert.deepEqual(
      validateObjectMetaCreate(
        { name: "system:Admin" },
        { namespaced: false, nameValidator: pathSegmentName },
      ),
      [],
    ));
});

describe("validateObjectMetaUpdate", () => {
  const old = {
    name: "foo",
    namespace: "d",
    uid: "u1",
    resourceVersion: "7",
    generation: 3,
    creationTimestamp: "2024-01-01T00:00:00Z",
  };
  const cases: [string, Record<string, unknown>, Record<string, unknown>, [string, string, string][]][] = [
    ["unchanged", { ...old }, old, []],
    [
      "identity is immutable",
      { ...old, name: "bar", namespace: "e", uid: "u2" },
      old,
      [
        ["FieldValueInvalid", "metadata.name", 'Invalid value: "bar": field is immutable'],
        ["FieldValueInvalid", "metadata.namespace", 'Invalid value: "e": field is immutable'],
        ["FieldValueInvalid", "metadata.uid", 'Invalid value: "u2": field is immutable'],
      ],
    ],
    [
      "resourceVersion required, generation not decremented",
      { ...old, resourceVersion: "", generation: 2 },
      old,
      [
        [
          "FieldValueInvalid",
          "metadata.resourceVersion",
          'Invalid value: "": must be specified for an update',
        ],
        ["FieldValueInvalid", "metadata.generation", "Invalid value: 2: must not be decremented"],
      ],
    ],
    [
      "creation timestamp printed as Go's time.String",
      { ...old, creationTimestamp: "2024-02-03T04:05:06+01:00" },
      old,
      [
        [
          "FieldValueInvalid",
          "metadata.creationTimestamp",
          "Invalid value: 2024-02-03 03:05:06 +0000 UTC: field is immutable",
        ],
      ],
    ],
    [
      "no new finalizers while deleting",
      { ...old, deletionTimestamp: "2024-01-02T00:00:00Z", finalizers: ["a.io/x", "b.io/y"] },
      { ...old, deletionTimestamp: "2024-01-02T00:00:00Z", finalizers: ["a.io/x"] },
      [
        [
          "FieldValueForbidden",
          "metadata.finalizers",
          'Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y"}',
        ],
      ],
    ],
    [
      "grace period removed",
      { ...old },
      { ...old, deletionGracePeriodSeconds: 30 },
      [
        [
          "FieldValueInvalid",
          "metadata.deletionGracePeriodSeconds",
          'Invalid value: "null": field is immutable',
        ],
      ],
    ],
  ];
  for (const [name, n, o, want] of cases)
    test(name, () => assert.deepEqual(flat(validateObjectMetaUpdate(n, o)), want));
});

describe("validateLabelSelector", () => {
  test("operators, values and keys", () =>
    assert.deepEqual(
      flat(
        validateLabelSelector(
          {
            matchExpressions: [
              { key: "a", operator: "In" },
              { key: "b", operator: "Exists", values: ["x"] },
              { key: "c", operator: "Near", values: ["-bad"] },
            ],
          },
          {},
          Path.root("sel"),
        ),
      ),
      [
        [
          "FieldValueRequired",
          "sel.matchExpressions[0].values",
          "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        ],
        [
          "FieldValueForbidden",
          "sel.matchExpressions[1].values",
          "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        ],
        [
          "FieldValueInvalid",
          "sel.matchExpressions[2].operator",
          'Invalid value: "Near": not a valid selector operator',
        ],
        ["FieldValueInvalid", "sel.matchExpressions[2].values[0]", `Invalid value: "-bad": ${labelValueMsg}`],
      ],
    ));
});
