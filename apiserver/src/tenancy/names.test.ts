// The ControlPlane name ↔ tenant name mapping: both directions, and every malformed name refused.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  controlPlaneOfTenant,
  nameMismatch,
  parseControlPlaneName,
  parseTenantName,
  tenantOfControlPlane,
} from "./names.ts";

describe("tenant names", () => {
  test("an organization keeps its name both ways", () => {
    assert.equal(tenantOfControlPlane("acme"), "acme");
    assert.equal(controlPlaneOfTenant("acme"), "acme");
    assert.deepEqual(parseTenantName("acme"), { organization: "acme" });
  });

  test("a project is acme.web as an object and acme:web as a tenant", () => {
    assert.equal(tenantOfControlPlane("acme.web"), "acme:web");
    assert.equal(controlPlaneOfTenant("acme:web"), "acme.web");
    assert.deepEqual(parseControlPlaneName("acme.web"), { organization: "acme", project: "web" });
  });

  test("round trips", () => {
    for (const t of ["a", "a-b", "acme:web", "x1:y-2", "a".repeat(63) + ":" + "b".repeat(63)])
      assert.equal(tenantOfControlPlane(controlPlaneOfTenant(t)), t);
  });

  for (const bad of [
    "",
    "Acme",
    "acme.",
    ".web",
    "acme.web.x",
    "acme:web",
    "-acme",
    "acme_",
    "a/b",
    "a..b",
    "root",
    "root.web",
    "a".repeat(64),
  ]) {
    test(`ControlPlane name ${JSON.stringify(bad)} is refused`, () => {
      assert.throws(() => tenantOfControlPlane(bad), TypeError);
    });
  }

  for (const bad of [
    "",
    "ACME",
    "acme:",
    ":web",
    "acme:web:x",
    "acme.web",
    "root",
    "root:web",
    "a%3Ab",
    "a/b",
  ]) {
    test(`tenant name ${JSON.stringify(bad)} is refused`, () => {
      assert.throws(() => controlPlaneOfTenant(bad), TypeError);
    });
  }

  test("nameMismatch checks a ControlPlane's name against its organization and project", () => {
    assert.equal(nameMismatch("acme", { organization: "acme" }), undefined);
    assert.equal(nameMismatch("acme.web", { organization: "acme", project: "web" }), undefined);
    assert.match(nameMismatch("acme", { organization: "acme", project: "web" }) ?? "", /must be "acme.web"/);
    assert.match(nameMismatch("beta", { organization: "acme" }) ?? "", /must be "acme"/);
    assert.match(nameMismatch("root", { organization: "root" }) ?? "", /reserved/);
    assert.match(nameMismatch("x", { organization: "Bad" }) ?? "", /organization: /);
  });
});
