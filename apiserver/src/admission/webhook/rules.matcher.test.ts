// Rule matching as kube's predicates/rules: operations, groups, versions, resources with
// subresources and their wildcards, scope (a Namespace is cluster-scoped), and the admission
// configuration kinds that never reach webhooks.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Operation } from "../interface.ts";
import { isExemptAdmissionConfiguration, ruleMatches, type RuleTarget } from "./rules.matcher.ts";
import type { RuleWithOperations } from "./webhook.types.ts";

const pods = (over: Partial<RuleTarget> = {}): RuleTarget => ({
  operation: "CREATE",
  resource: { group: "", version: "v1", resource: "pods" },
  subresource: "",
  namespace: "default",
  ...over,
});

const rule = (over: Partial<RuleWithOperations> = {}): RuleWithOperations => ({
  operations: ["CREATE"],
  apiGroups: [""],
  apiVersions: ["v1"],
  resources: ["pods"],
  scope: "*",
  ...over,
});

describe("rules", () => {
  test("operations: the listed ones or *", () => {
    assert.equal(ruleMatches(rule(), pods()), true);
    assert.equal(ruleMatches(rule(), pods({ operation: "UPDATE" })), false);
    for (const op of ["CREATE", "UPDATE", "DELETE", "CONNECT"] as Operation[]) {
      assert.equal(ruleMatches(rule({ operations: ["*"] }), pods({ operation: op })), true, op);
    }
    assert.equal(ruleMatches(rule({ operations: [] }), pods()), false);
  });

  test("groups and versions: exact or *", () => {
    const deployments = pods({ resource: { group: "apps", version: "v1", resource: "deployments" } });
    assert.equal(ruleMatches(rule({ resources: ["deployments"] }), deployments), false);
    assert.equal(ruleMatches(rule({ resources: ["deployments"], apiGroups: ["apps"] }), deployments), true);
    assert.equal(ruleMatches(rule({ resources: ["deployments"], apiGroups: ["*"] }), deployments), true);
    assert.equal(
      ruleMatches(
        rule({ resources: ["deployments"], apiGroups: ["apps"], apiVersions: ["v1beta1"] }),
        deployments,
      ),
      false,
    );
    assert.equal(
      ruleMatches(rule({ resources: ["deployments"], apiGroups: ["apps"], apiVersions: ["*"] }), deployments),
      true,
    );
  });

  test("resources: a subresource only by name or */ wildcards", () => {
    const status = pods({ subresource: "status" });
    assert.equal(ruleMatches(rule({ resources: ["pods"] }), status), false);
    assert.equal(ruleMatches(rule({ resources: ["pods/status"] }), status), true);
    assert.equal(ruleMatches(rule({ resources: ["pods/status"] }), pods()), false);
    assert.equal(ruleMatches(rule({ resources: ["*"] }), pods()), true);
    assert.equal(ruleMatches(rule({ resources: ["*"] }), status), false);
    assert.equal(ruleMatches(rule({ resources: ["*/*"] }), status), true);
    assert.equal(ruleMatches(rule({ resources: ["*/*"] }), pods()), true);
    assert.equal(ruleMatches(rule({ resources: ["pods/*"] }), status), true);
    const scale = pods({
      resource: { group: "apps", version: "v1", resource: "deployments" },
      subresource: "scale",
    });
    const r = rule({ apiGroups: ["*"], resources: ["*/scale"] });
    assert.equal(ruleMatches(r, scale), true);
    assert.equal(ruleMatches(r, { ...scale, subresource: "" }), false);
    assert.equal(ruleMatches(r, status), false);
  });

  test("scope: Namespaced, Cluster, *; a Namespace is cluster-scoped", () => {
    const clusterRole = pods({
      resource: { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles" },
      namespace: "",
    });
    const ns = pods({ resource: { group: "", version: "v1", resource: "namespaces" }, namespace: "team-a" });
    const any = { apiGroups: ["*"], resources: ["*"] };
    const namespaced = rule({ ...any, scope: "Namespaced" });
    const cluster = rule({ ...any, scope: "Cluster" });
    const all = rule({ ...any, scope: "*" });
    assert.deepEqual(
      [pods(), clusterRole, ns].map((t) => [
        ruleMatches(namespaced, t),
        ruleMatches(cluster, t),
        ruleMatches(all, t),
      ]),
      [
        [true, false, true],
        [false, true, true],
        [false, true, true],
      ],
    );
    // No scope is "*".
    const { scope: _s, ...noScope } = all;
    assert.equal(ruleMatches(noScope, clusterRole), true);
  });

  test("admission configuration kinds are exempt", () => {
    const g = "admissionregistration.k8s.io";
    for (const kind of [
      "MutatingWebhookConfiguration",
      "ValidatingWebhookConfiguration",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
    ]) {
      assert.equal(isExemptAdmissionConfiguration({ group: g, kind }), true, kind);
    }
    assert.equal(isExemptAdmissionConfiguration({ group: "", kind: "ConfigMap" }), false);
    assert.equal(
      isExemptAdmissionConfiguration({ group: "example.com", kind: "MutatingWebhookConfiguration" }),
      false,
    );
  });
});
