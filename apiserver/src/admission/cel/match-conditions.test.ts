import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openFixture, type Fixture } from "../../controllers/tenant.fixture.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import type { AdmissionAttributes } from "../interface.ts";
import { buildActivation, compileExpression, evaluateExpression, evaluateMatchConditions } from "./index.ts";

let fixture: Fixture;
let instance: TenantInstance;

before(async () => {
  fixture = await openFixture();
  instance = await fixture.start({ name: "cel", uid: "cel-uid" });
});
after(() => fixture.close());

const attrs = (over: Partial<AdmissionAttributes> = {}): AdmissionAttributes => ({
  instance,
  user: { name: "alice", uid: "u1", groups: ["dev", "system:authenticated"], extra: {} },
  operation: "CREATE",
  kind: { group: "apps", version: "v1", kind: "Deployment" },
  resource: { group: "apps", version: "v1", resource: "deployments" },
  subresource: "",
  namespace: "default",
  name: "web",
  object: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 3 } },
  oldObject: undefined,
  options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" },
  dryRun: false,
  warnings: [],
  auditAnnotations: {},
  ...over,
});

describe("admission CEL", () => {
  it("matches when every condition is true", async () => {
    const r = await evaluateMatchConditions(
      [
        { name: "is-create", expression: "request.operation == 'CREATE'" },
        { name: "dev", expression: "'dev' in request.userInfo.groups" },
        { name: "replicas", expression: "object.spec.replicas == 3 && oldObject == null" },
      ],
      attrs(),
    );
    assert.deepEqual(r, { matches: true });
  });

  it("has the IP, CIDR and format libraries", async () => {
    const r = await evaluateMatchConditions(
      [
        { name: "cidr", expression: "cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))" },
        { name: "format", expression: "!format.dns1123Label().validate(object.metadata.name).hasValue()" },
      ],
      attrs(),
    );
    assert.deepEqual(r, { matches: true });
  });

  it("names the first false condition, even when another one errs", async () => {
    const r = await evaluateMatchConditions(
      [
        { name: "broken", expression: "object.spec.missing == 1" },
        { name: "not-bob", expression: "request.userInfo.username == 'bob'" },
      ],
      attrs(),
    );
    assert.deepEqual(r, { matches: false, failedConditionName: "not-bob" });
  });

  it("reports a runtime error with kube's wording", async () => {
    const r = await evaluateMatchConditions([{ name: "e", expression: "object.spec.missing == 1" }], attrs());
    assert.equal(r.matches, false);
    assert.equal(
      r.error?.message,
      "expression 'object.spec.missing == 1' resulted in error: no such key: missing",
    );
  });

  it("interrupts an expression past the per-call cost limit with cel-go's error", async () => {
    const items = Array.from({ length: 1001 }, (_, i) => i);
    const expression = "object.spec.items.all(x, object.spec.items.all(y, true))";
    const r = await evaluateMatchConditions(
      [{ name: "big", expression }],
      attrs({ object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, spec: { items } } }),
    );
    assert.equal(
      r.error?.message,
      `expression '${expression}' resulted in error: operation cancelled: actual cost limit exceeded`,
    );
  });

  it("reports compile errors: undeclared params, non-bool results, unknown request fields", async () => {
    const r = await evaluateMatchConditions([{ name: "p", expression: "params.x == 1" }], attrs());
    assert.match(r.error?.message ?? "", /^compilation error: compilation failed: ERROR: <input>:1:1: /);
    const s = compileExpression("request.name", "bool", { params: false });
    assert.equal(s.error, "must evaluate to bool but got string");
    const u = compileExpression("request.nme == ''", "bool", { params: false });
    assert.match(u.error ?? "", /^compilation failed: ERROR: <input>/);
  });

  it("builds request as kube does: omitted empty fields, dryRun, options", () => {
    const act = buildActivation(attrs({ namespace: "", name: "" }));
    const c = compileExpression(
      "!has(request.namespace) && !has(request.name) && request.dryRun == false && request.options.kind == 'CreateOptions' && request.kind.kind == 'Deployment' && request.requestResource.resource == 'deployments'",
      "bool",
      { params: false },
    );
    assert.deepEqual(evaluateExpression(c, act), { value: true });
  });

  it("compiles each expression once", () => {
    const a = compileExpression("object.x == 1", "bool", { params: true });
    const b = compileExpression("object.x == 1", "bool", { params: true });
    assert.equal(a, b);
  });
});
