// The reconcilers' pure parts: owners as RBAC subjects, the credential epoch that revokes old
// kubeconfigs, a tenant's names, and status conditions (transition times, dependent conditions).

import assert from "node:assert/strict";
import { test } from "node:test";
import { setCondition } from "../kube/objects.ts";
import { StatusBuilder } from "./tenant-status.ts";
import { credentialEpoch, organizationOfNamespace, ownerSubjects, tenantTarget } from "./tenant-access.ts";

test("owners become RBAC subjects: deduplicated, stably ordered, malformed ones dropped", () => {
  const subjects = ownerSubjects([
    { kind: "User", name: "bob" },
    { kind: "Group", name: "devs" },
    { kind: "User", name: "alice" },
    { kind: "User", name: "bob" },
    { kind: "ServiceAccount", name: "ci", namespace: "tools" },
    { kind: "ServiceAccount", name: "no-namespace" },
    { kind: "Robot", name: "r2" },
    { kind: "User", name: "" },
    null,
  ]);
  assert.deepEqual(subjects, [
    { kind: "Group", name: "devs", apiGroup: "rbac.authorization.k8s.io" },
    { kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" },
    { kind: "User", name: "bob", apiGroup: "rbac.authorization.k8s.io" },
    { kind: "ServiceAccount", name: "ci", namespace: "tools" },
  ]);
  // The order of the spec does not matter.
  assert.deepEqual(
    ownerSubjects([
      { kind: "User", name: "b" },
      { kind: "User", name: "a" },
    ]),
    ownerSubjects([
      { kind: "User", name: "a" },
      { kind: "User", name: "b" },
    ]),
  );
});

test("the credential epoch follows the owner set", () => {
  const a = ownerSubjects([{ kind: "User", name: "alice" }]);
  const ab = ownerSubjects([
    { kind: "User", name: "bob" },
    { kind: "User", name: "alice" },
  ]);
  assert.equal(credentialEpoch(a), credentialEpoch(ownerSubjects([{ kind: "User", name: "alice" }])));
  assert.notEqual(credentialEpoch(a), credentialEpoch(ab));
  assert.match(credentialEpoch(a), /^[0-9a-f]{12}$/);
});

test("a tenant's names: organization and project", () => {
  const org = tenantTarget({}, "acme", undefined, [], undefined);
  assert.equal(org.tenant, "acme");
  assert.equal(org.controlPlaneName, "acme");
  assert.equal(org.namespace, "org-acme");
  assert.equal(org.secretName, "acme-kubeconfig");
  const web = tenantTarget({}, "acme", "web", [], { quotas: { maxObjects: 5 } });
  assert.equal(web.tenant, "acme:web");
  assert.equal(web.controlPlaneName, "acme.web");
  assert.equal(web.namespace, "org-acme");
  assert.equal(web.secretName, "acme-web-kubeconfig");
  assert.deepEqual(web.policy, { quotas: { maxObjects: 5 } });
  assert.equal(org.oidcSecretName, "acme-kubeconfig-oidc");
  assert.equal(web.oidcSecretName, "acme-web-kubeconfig-oidc");
  // A project named "oidc" keeps its admin kubeconfig apart from its organization's OIDC one.
  assert.notEqual(tenantTarget({}, "acme", "oidc", [], undefined).secretName, org.oidcSecretName);
  assert.equal(organizationOfNamespace("org-acme"), "acme");
  assert.equal(organizationOfNamespace("org-"), undefined);
  assert.equal(organizationOfNamespace("default"), undefined);
});

test("a condition keeps its place and its transition time while its status stands", () => {
  const first = setCondition([], { type: "A", status: "False", reason: "R", message: "m" }, "t1");
  const both = setCondition(first, { type: "B", status: "True", reason: "R", message: "m" }, "t1");
  const again = setCondition(both, { type: "A", status: "False", reason: "R2", message: "m2" }, "t2");
  assert.deepEqual(
    again.map((c) => [c.type, c.lastTransitionTime, c.reason]),
    [
      ["A", "t1", "R2"],
      ["B", "t1", "R"],
    ],
  );
  const flipped = setCondition(again, { type: "A", status: "True", reason: "R3", message: "m3" }, "t3");
  assert.equal(flipped[0]!.lastTransitionTime, "t3");
});

test("a condition that is not ready makes those depending on it false, but keeps a kubeconfig handed out", () => {
  const ready = new StatusBuilder({}, 1, "t1");
  for (const type of ["ControlPlaneReady", "KubeconfigReady", "Ready"]) ready.set(type, "True", "Ok", "ok");
  const status = new StatusBuilder({ status: ready.done() }, 2, "t2");
  status.notReady("ControlPlaneReady", "ControlPlanePending", "updating");
  const byType = Object.fromEntries((status.done().conditions ?? []).map((c) => [c.type, c]));
  assert.equal(byType["ControlPlaneReady"]?.status, "False");
  assert.equal(byType["KubeconfigReady"]?.status, "True");
  assert.equal(byType["Ready"]?.status, "False");
  assert.equal(byType["Ready"]?.message, "ControlPlaneReady is False: updating");
  assert.equal(byType["Ready"]?.observedGeneration, 2);
  assert.equal(status.done().observedGeneration, 2);
});

test("a tenant's OIDC issuers: an organization's own; a project's own and, when it inherits, its organization's first", () => {
  const issuer = (url: string, audience: string) => ({
    issuer: { url, audiences: [audience] },
    claimMappings: { username: { claim: "email" } },
  });
  const orgPolicy = { authentication: { oidcIssuers: [issuer("https://idp.acme", "acme")] } };
  const urls = (t: ReturnType<typeof tenantTarget>) => t.oidcIssuers.map((i) => i.issuer.audiences[0]);
  assert.deepEqual(urls(tenantTarget({}, "acme", undefined, [], orgPolicy)), ["acme"]);
  assert.deepEqual(urls(tenantTarget({}, "acme", undefined, [], undefined)), []);
  // A project inherits by default; the organization's configuration of a shared URL wins.
  const own = {
    authentication: { oidcIssuers: [issuer("https://idp.acme", "web"), issuer("https://idp.web", "web")] },
  };
  assert.deepEqual(urls(tenantTarget({}, "acme", "web", [], own, orgPolicy)), ["acme", "web"]);
  assert.deepEqual(urls(tenantTarget({}, "acme", "web", [], undefined, orgPolicy)), ["acme"]);
  assert.deepEqual(urls(tenantTarget({}, "acme", "web", [], { inherit: false }, orgPolicy)), []);
  assert.deepEqual(urls(tenantTarget({}, "acme", "web", [], own, undefined)), ["web", "web"]);
});
