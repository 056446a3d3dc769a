import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { invalid } from "../../apierrors/status.ts";
import { uniqueErrors, validatorsByKind } from "./index.ts";
import { flat, subdomainMsg } from "./upstream-messages.testdata.ts";

describe("validatorsByKind", () => {
  test("covers the served built-in kinds", () =>
    assert.deepEqual(Object.keys(validatorsByKind).sort(), [
      "/ConfigMap",
      "/Event",
      "/LimitRange",
      "/Namespace",
      "/ResourceQuota",
      "/Secret",
      "/Service",
      "/ServiceAccount",
      "admissionregistration.k8s.io/MutatingWebhookConfiguration",
      "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
      "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
      "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
      "coordination.k8s.io/Lease",
      "events.k8s.io/Event",
      "rbac.authorization.k8s.io/ClusterRole",
      "rbac.authorization.k8s.io/ClusterRoleBinding",
      "rbac.authorization.k8s.io/Role",
      "rbac.authorization.k8s.io/RoleBinding",
    ]));

  const get = (k: string) => {
    const v = validatorsByKind[k];
    if (v === undefined) throw new Error(k);
    return v;
  };

  test("the 422 kube sends for a bad ConfigMap name", () => {
    const errs = get("/ConfigMap").create({ metadata: { name: "Foo", namespace: "default" } });
    const err = invalid({ group: "", kind: "ConfigMap" }, "Foo", errs);
    assert.equal(
      err.status.message,
      `ConfigMap "Foo" is invalid: metadata.name: Invalid value: "Foo": ${subdomainMsg}`,
    );
    assert.deepEqual(err.status.details?.causes, [
      {
        reason: "FieldValueInvalid",
        message: `Invalid value: "Foo": ${subdomainMsg}`,
        field: "metadata.name",
      },
    ]);
  });

  test("a core/v1 Event's name only has to be a path segment, checked after the event rules", () => {
    const ev = get("/Event");
    assert.deepEqual(
      ev.create({
        metadata: { name: "Pod.17a8f", namespace: "default" },
        involvedObject: { namespace: "default" },
      }),
      [],
    );
    assert.deepEqual(
      flat(
        ev.create({
          metadata: { name: "a/b", namespace: "default" },
          involvedObject: { namespace: "default" },
        }),
      ),
      [["FieldValueInvalid", "metadata.name", `Invalid value: "a/b": may not contain '/'`]],
    );
  });

  test("updates run the common metadata rules first, as rest.BeforeUpdate does", () => {
    const old = { metadata: { name: "cm", namespace: "default", resourceVersion: "3" }, data: { a: "1" } };
    const errs = get("/ConfigMap").update(
      { metadata: { name: "cm", namespace: "default" }, data: { a: "2" } },
      old,
    );
    const rv = [
      "FieldValueInvalid",
      "metadata.resourceVersion",
      'Invalid value: "": must be specified for an update',
    ];
    assert.deepEqual(flat(errs), [rv, rv]);
    assert.equal(uniqueErrors(errs).length, 1);
  });

  test("wrong shapes never throw", () => {
    for (const [k, v] of Object.entries(validatorsByKind)) {
      for (const bad of [
        { metadata: "x", spec: 1, data: [], rules: "r", webhooks: {} },
        { metadata: { name: 1 } },
        {},
      ]) {
        assert.doesNotThrow(() => v.create(bad), k);
        assert.doesNotThrow(() => v.update(bad, { metadata: 5 }), k);
      }
    }
  });
});
