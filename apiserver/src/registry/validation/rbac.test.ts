import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FieldError } from "../../apierrors/status.ts";
import {
  validateClusterRole,
  validateClusterRoleBinding,
  validateClusterRoleBindingUpdate,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
} from "./rbac.ts";
import { flat, subdomainMsg } from "./upstream-messages.testdata.ts";

type Row = [string, () => FieldError[], [string, string, string][]];
const run = (rows: Row[]): void => {
  for (const [name, fn, want] of rows) test(name, () => assert.deepEqual(flat(fn()), want));
};
const ns = { name: "r", namespace: "default" };
const roleRef = (r: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiGroup: "rbac.authorization.k8s.io",
  kind: "ClusterRole",
  name: "view",
  ...r,
});

describe("roles", () => {
  run([
    [
      "valid role",
      () => validateRole({ metadata: ns, rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }] }),
      [],
    ],
    [
      "names are path segments only",
      () => validateClusterRole({ metadata: { name: "system:aggregate-to-view" }, rules: [] }),
      [],
    ],
    [
      "a name with a slash",
      () => validateClusterRole({ metadata: { name: "a/b" } }),
      [["FieldValueInvalid", "metadata.name", `Invalid value: "a/b": may not contain '/'`]],
    ],
    [
      "verbs, api groups and resources are required",
      () => validateRole({ metadata: ns, rules: [{}] }),
      [
        ["FieldValueRequired", "rules[0].verbs", "Required value: verbs must contain at least one value"],
        [
          "FieldValueRequired",
          "rules[0].apiGroups",
          "Required value: resource rules must supply at least one api group",
        ],
        [
          "FieldValueRequired",
          "rules[0].resources",
          "Required value: resource rules must supply at least one resource",
        ],
      ],
    ],
    [
      "non-resource URLs: only in cluster roles, never with resources",
      () =>
        validateRole({
          metadata: ns,
          rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"], resources: ["pods"] }],
        }),
      [
        [
          "FieldValueInvalid",
          "rules[0].nonResourceURLs",
          'Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
        ],
        [
          "FieldValueInvalid",
          "rules[0].nonResourceURLs",
          'Invalid value: []string{"/healthz"}: rules cannot apply to both regular resources and non-resource URLs',
        ],
      ],
    ],
    [
      "cluster roles may name non-resource URLs",
      () =>
        validateClusterRole({
          metadata: { name: "c" },
          rules: [{ verbs: ["get"], nonResourceURLs: ["/metrics"] }],
        }),
      [],
    ],
    [
      "resource names with several resources",
      () =>
        validateRole({
          metadata: ns,
          rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods", "secrets"], resourceNames: ["x"] }],
        }),
      [
        [
          "FieldValueRequired",
          "rules[0].resourceNames",
          "Required value: resource names cannot apply to multiple resources",
        ],
      ],
    ],
    [
      "rules of the wrong type",
      () => validateRole({ metadata: ns, rules: [{ verbs: "get", apiGroups: [""], resources: ["pods"] }] }),
      [
        ["FieldValueTypeInvalid", "rules[0].verbs", 'Invalid value: "string": must be of type array'],
        ["FieldValueRequired", "rules[0].verbs", "Required value: verbs must contain at least one value"],
      ],
    ],
  ]);
});

describe("bindings", () => {
  run([
    [
      "valid role binding",
      () =>
        validateRoleBinding({
          metadata: ns,
          roleRef: roleRef(),
          subjects: [
            { kind: "ServiceAccount", name: "default" },
            { kind: "User", name: "jane", apiGroup: "rbac.authorization.k8s.io" },
            { kind: "Group", name: "system:authenticated", apiGroup: "rbac.authorization.k8s.io" },
          ],
        }),
      [],
    ],
    [
      "roleRef group, kind and name",
      () =>
        validateClusterRoleBinding({ metadata: { name: "b" }, roleRef: { apiGroup: "rbac", kind: "Role" } }),
      [
        [
          "FieldValueNotSupported",
          "roleRef.apiGroup",
          'Unsupported value: "rbac": supported values: "rbac.authorization.k8s.io"',
        ],
        [
          "FieldValueNotSupported",
          "roleRef.kind",
          'Unsupported value: "Role": supported values: "ClusterRole"',
        ],
        ["FieldValueRequired", "roleRef.name", "Required value"],
      ],
    ],
    [
      "a role binding may reference a Role or a ClusterRole",
      () => validateRoleBinding({ metadata: ns, roleRef: roleRef({ kind: "Policy" }) }),
      [
        [
          "FieldValueNotSupported",
          "roleRef.kind",
          'Unsupported value: "Policy": supported values: "Role", "ClusterRole"',
        ],
      ],
    ],
    [
      "service account subjects",
      () =>
        validateClusterRoleBinding({
          metadata: { name: "b" },
          roleRef: roleRef(),
          subjects: [{ kind: "ServiceAccount", name: "Bad", apiGroup: "x" }],
        }),
      [
        ["FieldValueInvalid", "subjects[0].name", `Invalid value: "Bad": ${subdomainMsg}`],
        ["FieldValueNotSupported", "subjects[0].apiGroup", 'Unsupported value: "x": supported values: ""'],
        ["FieldValueRequired", "subjects[0].namespace", "Required value"],
      ],
    ],
    [
      "user and unknown subjects",
      () =>
        validateRoleBinding({
          metadata: ns,
          roleRef: roleRef(),
          subjects: [
            { kind: "User", name: "" },
            { kind: "Robot", name: "r" },
          ],
        }),
      [
        ["FieldValueRequired", "subjects[0].name", "Required value"],
        ["FieldValueInvalid", "subjects[0].name", 'Invalid value: "": user name cannot be empty'],
        [
          "FieldValueNotSupported",
          "subjects[0].apiGroup",
          'Unsupported value: "": supported values: "rbac.authorization.k8s.io"',
        ],
        [
          "FieldValueNotSupported",
          "subjects[1].kind",
          'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
        ],
      ],
    ],
    [
      "roleRef cannot change",
      () =>
        validateRoleBindingUpdate(
          { metadata: { ...ns, resourceVersion: "2" }, roleRef: roleRef({ name: "edit" }) },
          { metadata: { ...ns, resourceVersion: "1" }, roleRef: roleRef() },
        ),
      [
        [
          "FieldValueInvalid",
          "roleRef",
          'Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
        ],
      ],
    ],
    [
      "subjects may change",
      () =>
        validateClusterRoleBindingUpdate(
          {
            metadata: { name: "b", resourceVersion: "2" },
            roleRef: roleRef(),
            subjects: [{ kind: "Group", name: "g", apiGroup: "rbac.authorization.k8s.io" }],
          },
          { metadata: { name: "b", resourceVersion: "1" }, roleRef: roleRef() },
        ),
      [],
    ],
  ]);
});
