// ValidatingAdmissionPolicy against a real tenant instance on the embedded storage: policies,
// bindings, ConfigMap and custom-resource params written into the tenant, the plugin reading
// them from its watch cache, with kube's messages, codes, warnings and audit annotations.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isStatusError, type StatusError } from "../../apierrors/status.ts";
import { eventually, openFixture, storeOf, type Fixture } from "../../controllers/tenant.fixture.ts";
import type { KubeObject } from "../../registry/printers.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import type {
  AdmissionAttributes,
  AdmissionPlugin,
  GroupVersionKind,
  GroupVersionResource,
} from "../interface.ts";
import { validatingAdmissionPolicy, validationFailureAnnotation } from "./index.ts";

let fixture: Fixture;
let tenant: TenantInstance;
const plugin: AdmissionPlugin = validatingAdmissionPolicy();
const write = { dryRun: false };
const policies = (): ReturnType<typeof storeOf> =>
  storeOf(tenant, "validatingadmissionpolicies.admissionregistration.k8s.io");
const bindings = (): ReturnType<typeof storeOf> =>
  storeOf(tenant, "validatingadmissionpolicybindings.admissionregistration.k8s.io");

const crd = (plural: string, kind: string, scope: string, versions: string[]): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${plural}.example.com` },
  spec: {
    group: "example.com",
    scope,
    names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
    versions: versions.map((name, i) => ({
      name,
      served: true,
      storage: i === 0,
      schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
    })),
  },
});

before(async () => {
  fixture = await openFixture();
  tenant = await fixture.start({ name: "vap", uid: "vap-uid" });
  const namespaces = storeOf(tenant, "namespaces");
  await namespaces.create({ metadata: { name: "prod", labels: { env: "prod" } } }, "", write);
  await namespaces.create({ metadata: { name: "dev", labels: { env: "dev" } } }, "", write);
  const crds = storeOf(tenant, "customresourcedefinitions.apiextensions.k8s.io");
  await crds.create(crd("apps", "App", "Namespaced", ["v1", "v2"]), "", write);
  await crds.create(crd("limits", "Limit", "Cluster", ["v1"]), "", write);
  await eventually("the CRDs to be served", () =>
    tenant.resources.lookup("example.com", "v2", "apps") &&
    tenant.resources.lookup("example.com", "v1", "limits")
      ? true
      : undefined,
  );
  const configmaps = storeOf(tenant, "configmaps");
  await configmaps.create({ metadata: { name: "limits" }, data: { maxReplicas: "3" } }, "prod", write);
  await configmaps.create(
    { metadata: { name: "p1", labels: { set: "a" } }, data: { banned: "x" } },
    "prod",
    write,
  );
  await configmaps.create(
    { metadata: { name: "p2", labels: { set: "a" } }, data: { banned: "y" } },
    "prod",
    write,
  );
  await storeOf(tenant, "limits.example.com").create(
    { apiVersion: "example.com/v1", kind: "Limit", metadata: { name: "small" }, spec: { maxReplicas: 5 } },
    "",
    write,
  );
});
after(() => fixture.close());

const configMapRules = [
  {
    apiGroups: [""],
    apiVersions: ["v1"],
    operations: ["CREATE", "UPDATE", "DELETE"],
    resources: ["configmaps"],
  },
];

/** Installs policy `id` and its binding `id-b`; the policy only sees objects labelled `case: id`. */
async function install(
  id: string,
  spec: Record<string, unknown>,
  binding: Record<string, unknown> = {},
): Promise<void> {
  const matchConstraints = {
    // What the API server defaults (validation requires them).
    namespaceSelector: {},
    matchPolicy: "Equivalent",
    resourceRules: configMapRules,
    objectSelector: { matchLabels: { case: id } },
    ...((spec["matchConstraints"] as Record<string, unknown> | undefined) ?? {}),
  };
  await policies().create(
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: id },
      spec: { failurePolicy: "Fail", ...spec, matchConstraints },
    },
    "",
    write,
  );
  await bindings().create(
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: `${id}-b` },
      spec: { policyName: id, validationActions: ["Deny"], ...binding },
    },
    "",
    write,
  );
  await tenant.cache.consistent();
}

interface Req {
  id: string;
  object?: KubeObject | undefined;
  oldObject?: KubeObject | undefined;
  operation?: AdmissionAttributes["operation"];
  namespace?: string;
  name?: string;
  resource?: GroupVersionResource;
  kind?: GroupVersionKind;
  user?: string;
}

const configMap = (id: string, data: Record<string, string> = {}, name = `cm-${id}`): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels: { case: id } },
  data,
});

function attrs(r: Req): AdmissionAttributes {
  const object = "object" in r ? r.object : configMap(r.id);
  return {
    instance: tenant,
    user: { name: r.user ?? "alice", uid: "u-1", groups: ["system:authenticated"], extra: {} },
    operation: r.operation ?? "CREATE",
    kind: r.kind ?? { group: "", version: "v1", kind: "ConfigMap" },
    resource: r.resource ?? { group: "", version: "v1", resource: "configmaps" },
    subresource: "",
    namespace: r.namespace ?? "prod",
    name: r.name ?? object?.metadata?.name ?? "",
    object,
    oldObject: r.oldObject,
    options: {},
    dryRun: false,
    warnings: [],
    auditAnnotations: {},
  };
}

/** Runs the plugin; returns the attributes (warnings, annotations) and the refusal, if any. */
async function admit(r: Req): Promise<{ a: AdmissionAttributes; err: StatusError | undefined }> {
  const a = attrs(r);
  try {
    await plugin.validate!(a);
    return { a, err: undefined };
  } catch (err) {
    if (!isStatusError(err)) throw err;
    return { a, err };
  }
}

const deny = (expression: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  validations: [{ expression, ...extra }],
});

describe("ValidatingAdmissionPolicy: matching", () => {
  it("denies a matching write with kube's message, reason, code and cause", async () => {
    await install("basic", deny("object.data.size() < 2", { message: "too many keys" }));
    const { err } = await admit({ id: "basic", object: configMap("basic", { a: "1", b: "2" }) });
    assert.ok(err);
    const msg = `configmaps "cm-basic" is forbidden: ValidatingAdmissionPolicy 'basic' with binding 'basic-b' denied request: too many keys`;
    assert.equal(err.message, msg);
    assert.equal(err.reason, "Invalid");
    assert.equal(err.code, 422);
    assert.deepEqual(err.status.details, {
      name: "cm-basic",
      kind: "configmaps",
      causes: [{ message: msg.slice(msg.indexOf("Validating")) }],
    });
  });

  it("admits when every validation holds", async () => {
    const { err } = await admit({ id: "basic", object: configMap("basic", { a: "1" }) });
    assert.equal(err, undefined);
  });

  it("ignores other resources and other operations", async () => {
    await install("ops", {
      ...deny("false"),
      matchConstraints: { resourceRules: [{ ...configMapRules[0], operations: ["UPDATE"] }] },
    });
    assert.equal((await admit({ id: "ops" })).err, undefined);
    assert.ok((await admit({ id: "ops", operation: "UPDATE", oldObject: configMap("ops") })).err);
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", labels: { case: "ops" } } };
    const r = await admit({
      id: "ops",
      operation: "UPDATE",
      object: secret,
      oldObject: secret,
      resource: { group: "", version: "v1", resource: "secrets" },
      kind: { group: "", version: "v1", kind: "Secret" },
    });
    assert.equal(r.err, undefined);
  });

  it("honours excludeResourceRules and resourceNames", async () => {
    await install("names", {
      ...deny("false"),
      matchConstraints: {
        resourceRules: [{ ...configMapRules[0], resourceNames: ["target", "excluded"] }],
        excludeResourceRules: [{ ...configMapRules[0], resourceNames: ["excluded"] }],
      },
    });
    assert.ok((await admit({ id: "names", object: configMap("names", {}, "target") })).err);
    assert.equal((await admit({ id: "names", object: configMap("names", {}, "other") })).err, undefined);
    assert.equal((await admit({ id: "names", object: configMap("names", {}, "excluded") })).err, undefined);
  });

  it("selects namespaces by label with namespaceSelector", async () => {
    await install("nssel", {
      ...deny("false"),
      matchConstraints: { namespaceSelector: { matchLabels: { env: "prod" } } },
    });
    assert.ok((await admit({ id: "nssel", namespace: "prod" })).err);
    assert.equal((await admit({ id: "nssel", namespace: "dev" })).err, undefined);
  });

  it("never exempts cluster-scoped objects through namespaceSelector", async () => {
    await install("cluster", {
      ...deny("false"),
      matchConstraints: {
        namespaceSelector: { matchLabels: { env: "prod" } },
        resourceRules: [
          { apiGroups: ["example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["limits"] },
        ],
      },
    });
    const limit = {
      apiVersion: "example.com/v1",
      kind: "Limit",
      metadata: { name: "l", labels: { case: "cluster" } },
    };
    const r = await admit({
      id: "cluster",
      object: limit,
      namespace: "",
      resource: { group: "example.com", version: "v1", resource: "limits" },
      kind: { group: "example.com", version: "v1", kind: "Limit" },
    });
    assert.ok(r.err);
  });

  it("matches the old object's labels on DELETE (objectSelector)", async () => {
    await install("del", deny("oldObject.data.keep != 'yes'", { message: "protected" }));
    const r = await admit({
      id: "del",
      operation: "DELETE",
      object: undefined,
      oldObject: configMap("del", { keep: "yes" }),
      name: "cm-del",
    });
    assert.match(r.err?.message ?? "", /denied request: protected$/);
  });

  it("narrows with the binding's matchResources", async () => {
    await install("narrow", deny("false"), {
      matchResources: {
        namespaceSelector: { matchLabels: { env: "dev" } },
        objectSelector: {},
        matchPolicy: "Equivalent",
      },
    });
    assert.equal((await admit({ id: "narrow", namespace: "prod" })).err, undefined);
    assert.ok((await admit({ id: "narrow", namespace: "dev" })).err);
  });

  it("matchPolicy Equivalent matches another served version; Exact does not", async () => {
    const rules = [
      { apiGroups: ["example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["apps"] },
    ];
    await install("equiv", {
      ...deny("request.resource.version == 'v2'"),
      matchConstraints: { resourceRules: rules },
    });
    await install("exact", {
      ...deny("false"),
      matchConstraints: {
        resourceRules: rules,
        matchPolicy: "Exact",
        objectSelector: { matchLabels: { case: "exact" } },
      },
    });
    const app = (id: string): KubeObject => ({
      apiVersion: "example.com/v2",
      kind: "App",
      metadata: { name: "a", labels: { case: id } },
    });
    const v2 = {
      resource: { group: "example.com", version: "v2", resource: "apps" },
      kind: { group: "example.com", version: "v2", kind: "App" },
    };
    // The matched resource is v1: request.resource says so, and the validation fails.
    assert.ok((await admit({ id: "equiv", object: app("equiv"), ...v2 })).err);
    assert.equal((await admit({ id: "exact", object: app("exact"), ...v2 })).err, undefined);
  });

  it("never applies to policies and bindings themselves", async () => {
    await install("exempt", {
      ...deny("false"),
      matchConstraints: {
        objectSelector: {},
        resourceRules: [{ apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"] }],
      },
    });
    const r = await admit({
      id: "exempt",
      object: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: "x" },
      },
      namespace: "",
      resource: {
        group: "admissionregistration.k8s.io",
        version: "v1",
        resource: "validatingadmissionpolicies",
      },
      kind: { group: "admissionregistration.k8s.io", version: "v1", kind: "ValidatingAdmissionPolicy" },
    });
    assert.equal(r.err, undefined);
    await bindings().delete("", "exempt-b", write);
    await tenant.cache.consistent();
  });

  it("ignores a policy without bindings and a binding without its policy", async () => {
    await policies().create(
      {
        metadata: { name: "lonely" },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: configMapRules,
            namespaceSelector: {},
            matchPolicy: "Equivalent",
            objectSelector: { matchLabels: { case: "lonely" } },
          },
          validations: [{ expression: "false" }],
        },
      },
      "",
      write,
    );
    await bindings().create(
      { metadata: { name: "orphan" }, spec: { policyName: "missing", validationActions: ["Deny"] } },
      "",
      write,
    );
    await tenant.cache.consistent();
    assert.equal((await admit({ id: "lonely" })).err, undefined);
  });
});

describe("ValidatingAdmissionPolicy: params", () => {
  const cmParams = { paramKind: { apiVersion: "v1", kind: "ConfigMap" } };

  it("reads params from a ConfigMap by name", async () => {
    await install(
      "cmparam",
      {
        ...cmParams,
        ...deny(
          "object.data.replicas.size() == 0 || int(object.data.replicas) <= int(params.data.maxReplicas)",
          { messageExpression: "'replicas must be at most ' + params.data.maxReplicas" },
        ),
      },
      { paramRef: { name: "limits", parameterNotFoundAction: "Deny" } },
    );
    assert.equal(
      (await admit({ id: "cmparam", object: configMap("cmparam", { replicas: "3" }) })).err,
      undefined,
    );
    const r = await admit({ id: "cmparam", object: configMap("cmparam", { replicas: "4" }) });
    assert.match(r.err?.message ?? "", /denied request: replicas must be at most 3$/);
  });

  it("denies a Deployment-like custom resource above params.spec.maxReplicas (a custom-resource param)", async () => {
    await install(
      "replicas",
      {
        paramKind: { apiVersion: "example.com/v1", kind: "Limit" },
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ["example.com"],
              apiVersions: ["v1"],
              operations: ["CREATE", "UPDATE"],
              resources: ["apps"],
            },
          ],
        },
        validations: [
          {
            expression: "object.spec.replicas <= params.spec.maxReplicas",
            messageExpression:
              "'object.spec.replicas must be no greater than ' + string(params.spec.maxReplicas)",
            reason: "Invalid",
          },
        ],
      },
      { paramRef: { name: "small", parameterNotFoundAction: "Deny" } },
    );
    const app = (replicas: number): KubeObject => ({
      apiVersion: "example.com/v1",
      kind: "App",
      metadata: { name: "web", labels: { case: "replicas" } },
      spec: { replicas },
    });
    const crReq = {
      resource: { group: "example.com", version: "v1", resource: "apps" },
      kind: { group: "example.com", version: "v1", kind: "App" },
    };
    assert.equal((await admit({ id: "replicas", object: app(5), ...crReq })).err, undefined);
    const r = await admit({ id: "replicas", object: app(6), ...crReq });
    assert.equal(
      r.err?.message,
      `apps.example.com "web" is forbidden: ValidatingAdmissionPolicy 'replicas' with binding 'replicas-b' denied request: object.spec.replicas must be no greater than 5`,
    );
    assert.equal(r.err?.code, 422);
  });

  it("evaluates every param a selector finds", async () => {
    await install(
      "selector",
      {
        ...cmParams,
        ...deny("!(params.data.banned in object.data)", {
          messageExpression: "'key ' + params.data.banned + ' is banned'",
        }),
      },
      { paramRef: { selector: { matchLabels: { set: "a" } }, parameterNotFoundAction: "Deny" } },
    );
    assert.equal((await admit({ id: "selector", object: configMap("selector", { z: "1" }) })).err, undefined);
    assert.match(
      (await admit({ id: "selector", object: configMap("selector", { y: "1" }) })).err?.message ?? "",
      /key y is banned$/,
    );
    assert.match(
      (await admit({ id: "selector", object: configMap("selector", { x: "1" }) })).err?.message ?? "",
      /key x is banned$/,
    );
  });

  it("denies when params are missing and parameterNotFoundAction is Deny", async () => {
    await install(
      "nodeny",
      { ...cmParams, ...deny("true") },
      { paramRef: { name: "absent", parameterNotFoundAction: "Deny" } },
    );
    const r = await admit({ id: "nodeny" });
    assert.match(
      r.err?.message ?? "",
      /ValidatingAdmissionPolicy 'nodeny' with binding 'nodeny-b' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction$/,
    );
    assert.equal(r.err?.code, 422);
  });

  it("admits without evaluating when params are missing and the action is Allow", async () => {
    await install(
      "noallow",
      { ...cmParams, ...deny("false") },
      { paramRef: { name: "absent", parameterNotFoundAction: "Allow" } },
    );
    assert.equal((await admit({ id: "noallow" })).err, undefined);
  });

  it("lets failurePolicy Ignore swallow a missing param", async () => {
    await install(
      "noignore",
      { ...cmParams, failurePolicy: "Ignore", ...deny("true") },
      { paramRef: { name: "absent", parameterNotFoundAction: "Deny" } },
    );
    assert.equal((await admit({ id: "noignore" })).err, undefined);
  });

  it("refuses with a policy configuration error when paramKind is not served", async () => {
    await install(
      "nokind",
      { paramKind: { apiVersion: "example.com/v1", kind: "Nope" }, ...deny("true") },
      { paramRef: { name: "x", parameterNotFoundAction: "Deny" } },
    );
    const r = await admit({ id: "nokind" });
    assert.match(
      r.err?.message ?? "",
      /ValidatingAdmissionPolicy 'nokind' denied request: failed to configure policy: failed to find resource referenced by paramKind: 'example.com\/v1, Kind=Nope'$/,
    );
  });

  it("refuses a namespaced paramRef without a namespace for a cluster-scoped request", async () => {
    await install(
      "nsparam",
      {
        ...cmParams,
        ...deny("true"),
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ["example.com"],
              apiVersions: ["v1"],
              operations: ["CREATE"],
              resources: ["limits"],
            },
          ],
        },
      },
      { paramRef: { name: "limits", parameterNotFoundAction: "Deny" } },
    );
    const r = await admit({
      id: "nsparam",
      object: {
        apiVersion: "example.com/v1",
        kind: "Limit",
        metadata: { name: "l", labels: { case: "nsparam" } },
      },
      namespace: "",
      resource: { group: "example.com", version: "v1", resource: "limits" },
      kind: { group: "example.com", version: "v1", kind: "Limit" },
    });
    assert.match(
      r.err?.message ?? "",
      /failed to configure binding: cannot use namespaced paramRef in policy binding that matches cluster-scoped resources$/,
    );
  });
});

describe("ValidatingAdmissionPolicy: messages, reasons and actions", () => {
  it("falls back from a failing messageExpression to message, then to the expression", async () => {
    await install("msgs", {
      validations: [
        {
          expression: "object.data.a == '1'",
          messageExpression: "object.data.missing",
          message: "a must be 1",
        },
      ],
    });
    await install("msgs2", { validations: [{ expression: "object.data.a == '1'" }] });
    assert.match(
      (await admit({ id: "msgs", object: configMap("msgs", { a: "2" }) })).err?.message ?? "",
      /denied request: a must be 1$/,
    );
    assert.match(
      (await admit({ id: "msgs2", object: configMap("msgs2", { a: "2" }) })).err?.message ?? "",
      /denied request: failed expression: object.data.a == '1'$/,
    );
  });

  for (const [reason, code] of [
    ["Forbidden", 403],
    ["RequestEntityTooLarge", 413],
    ["Invalid", 422],
  ] as const) {
    it(`answers reason ${reason} with ${code}`, async () => {
      const id = `reason-${reason.toLowerCase()}`;
      await install(id, deny("false", { reason }));
      const r = await admit({ id });
      assert.equal(r.err?.reason, reason);
      assert.equal(r.err?.code, code);
    });
  }

  it("Warn adds kube's warning and admits", async () => {
    await install("warn", deny("false", { message: "looks odd" }), { validationActions: ["Warn"] });
    const r = await admit({ id: "warn" });
    assert.equal(r.err, undefined);
    assert.deepEqual(r.a.warnings, [
      "Validation failed for ValidatingAdmissionPolicy 'warn' with binding 'warn-b': looks odd",
    ]);
  });

  it("Audit records the validation_failure annotation and admits", async () => {
    await install(
      "audit",
      { validations: [{ expression: "true" }, { expression: "false", message: "second failed" }] },
      { validationActions: ["Audit"] },
    );
    const r = await admit({ id: "audit" });
    assert.equal(r.err, undefined);
    assert.deepEqual(JSON.parse(r.a.auditAnnotations[validationFailureAnnotation] ?? "null"), [
      {
        message: "second failed",
        policy: "audit",
        binding: "audit-b",
        expressionIndex: 1,
        validationActions: ["Audit"],
      },
    ]);
  });

  it("Deny with Audit both refuses and annotates", async () => {
    await install("denyaudit", deny("false", { message: "no" }), { validationActions: ["Deny", "Audit"] });
    const r = await admit({ id: "denyaudit" });
    assert.ok(r.err);
    assert.match(r.a.auditAnnotations[validationFailureAnnotation] ?? "", /"binding":"denyaudit-b"/);
  });

  it("publishes auditAnnotations under <policy>/<key>, leaving out null values", async () => {
    await install("annot", {
      auditAnnotations: [
        { key: "user", valueExpression: "'by ' + request.userInfo.username" },
        { key: "none", valueExpression: "null" },
      ],
    });
    const r = await admit({ id: "annot", user: "carol" });
    assert.equal(r.err, undefined);
    assert.equal(r.a.auditAnnotations["annot/user"], "by carol");
    assert.equal("annot/none" in r.a.auditAnnotations, false);
  });
});

describe("ValidatingAdmissionPolicy: CEL", () => {
  it("evaluates variables lazily and lets them compose", async () => {
    await install("vars", {
      variables: [
        { name: "keys", expression: "object.data.size()" },
        { name: "many", expression: "variables.keys > 1" },
        { name: "broken", expression: "object.data.nothere == 'x'" },
      ],
      validations: [
        { expression: "!variables.many", messageExpression: "'has ' + string(variables.keys) + ' keys'" },
      ],
    });
    // `broken` is never used, so its error never shows.
    assert.equal((await admit({ id: "vars", object: configMap("vars", { a: "1" }) })).err, undefined);
    assert.match(
      (await admit({ id: "vars", object: configMap("vars", { a: "1", b: "2" }) })).err?.message ?? "",
      /denied request: has 2 keys$/,
    );
  });

  it("reports a variable's runtime error when a validation uses it", async () => {
    await install("varerr", {
      variables: [{ name: "v", expression: "object.data.nothere == 'x'" }],
      validations: [{ expression: "variables.v" }],
    });
    const r = await admit({ id: "varerr" });
    assert.match(
      r.err?.message ?? "",
      /denied request: expression 'variables.v' resulted in error: composited variable "v" fails to evaluate: no such key: nothere$/,
    );
  });

  it("skips the policy when a matchCondition is false, evaluates it when all are true", async () => {
    await install("mc", {
      matchConditions: [
        { name: "not-admin", expression: "request.userInfo.username != 'admin'" },
        { name: "has-data", expression: "has(object.data)" },
      ],
      ...deny("false"),
    });
    assert.equal((await admit({ id: "mc", user: "admin" })).err, undefined);
    assert.ok((await admit({ id: "mc", user: "bob" })).err);
  });

  it("matchCondition errors follow failurePolicy", async () => {
    await install("mcfail", {
      matchConditions: [{ name: "e", expression: "object.data.nothere == '1'" }],
      ...deny("true"),
    });
    await install("mcignore", {
      failurePolicy: "Ignore",
      matchConditions: [{ name: "e", expression: "object.data.nothere == '1'" }],
      ...deny("false"),
    });
    assert.match(
      (await admit({ id: "mcfail" })).err?.message ?? "",
      /denied request: expression 'object.data.nothere == '1'' resulted in error: no such key: nothere$/,
    );
    assert.equal((await admit({ id: "mcignore" })).err, undefined);
  });

  it("runtime errors in validations follow failurePolicy", async () => {
    await install("rtfail", deny("int(object.data.n) > 0"));
    await install("rtignore", { failurePolicy: "Ignore", ...deny("int(object.data.n) > 0") });
    const r = await admit({ id: "rtfail", object: configMap("rtfail", { n: "abc" }) });
    assert.match(
      r.err?.message ?? "",
      /denied request: expression 'int\(object.data.n\) > 0' resulted in error: /,
    );
    assert.equal(
      (await admit({ id: "rtignore", object: configMap("rtignore", { n: "abc" }) })).err,
      undefined,
    );
  });

  it("a compile error (params without paramKind) denies under Fail", async () => {
    await install("compile", deny("params.x == 1"));
    const r = await admit({ id: "compile" });
    assert.match(
      r.err?.message ?? "",
      /denied request: compilation error: compilation failed: ERROR: <input>:1:1: /,
    );
  });

  it("sees oldObject, request and namespaceObject", async () => {
    await install(
      "ctx",
      deny(
        "request.operation == 'UPDATE' && oldObject.data.v <= object.data.v && namespaceObject.metadata.labels.env == 'prod' && request.namespace == 'prod'",
        { message: "no going back" },
      ),
    );
    const old = configMap("ctx", { v: "2" });
    assert.equal(
      (await admit({ id: "ctx", operation: "UPDATE", oldObject: old, object: configMap("ctx", { v: "3" }) }))
        .err,
      undefined,
    );
    assert.match(
      (await admit({ id: "ctx", operation: "UPDATE", oldObject: old, object: configMap("ctx", { v: "1" }) }))
        .err?.message ?? "",
      /no going back$/,
    );
  });

  it("has the Kubernetes libraries: quantity, sets, url, regex, lists", async () => {
    await install("libs", {
      validations: [
        { expression: "quantity(object.data.memory).isLessThan(quantity('1Gi'))", message: "memory" },
        { expression: "sets.contains(['a', 'b', 'c'], object.data.tags.split(','))", message: "tags" },
        { expression: "url(object.data.endpoint).getScheme() == 'https'", message: "scheme" },
        { expression: "object.data.image.find('[0-9]+[.][0-9]+') != ''", message: "version" },
        { expression: "object.data.tags.split(',').isSorted()", message: "sorted" },
      ],
    });
    const good = { memory: "512Mi", tags: "a,b", endpoint: "https://x.io/p", image: "nginx:1.27" };
    assert.equal((await admit({ id: "libs", object: configMap("libs", good) })).err, undefined);
    for (const [patch, msg] of [
      [{ memory: "2Gi" }, "memory"],
      [{ tags: "a,z" }, "tags"],
      [{ endpoint: "http://x.io" }, "scheme"],
      [{ image: "nginx:latest" }, "version"],
      [{ tags: "b,a" }, "sorted"],
    ] as const) {
      const r = await admit({ id: "libs", object: configMap("libs", { ...good, ...patch }) });
      assert.match(r.err?.message ?? "", new RegExp(`denied request: ${msg}$`));
    }
  });

  it("uses an updated policy (recompiled on its new resourceVersion)", async () => {
    await install("update", deny("object.data.size() < 5", { message: "v1" }));
    await policies().update(
      "",
      "update",
      (p) => ({
        ...p,
        spec: { ...(p["spec"] as object), validations: [{ expression: "false", message: "v2" }] },
      }),
      write,
    );
    await tenant.cache.consistent();
    assert.match((await admit({ id: "update" })).err?.message ?? "", /denied request: v2$/);
  });

  it("names a generated object by its generateName", async () => {
    await install("gen", deny("false"));
    const obj = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { generateName: "cm-", labels: { case: "gen" } },
    };
    const r = await admit({ id: "gen", object: obj, name: "" });
    assert.match(r.err?.message ?? "", /^configmaps "cm-" is forbidden: /);
  });
});

describe("ValidatingAdmissionPolicy: status", () => {
  it("writes observedGeneration and expressionWarnings per fieldRef", async () => {
    await install("status", {
      validations: [{ expression: "true" }, { expression: "params.x == 1", messageExpression: "1" }],
    });
    const policy = await eventually("the status to be written", async () => {
      const p = await policies().get("", "status");
      return (p["status"] as { observedGeneration?: number } | undefined)?.observedGeneration === 1
        ? p
        : undefined;
    });
    const warnings =
      (
        policy["status"] as {
          typeChecking?: { expressionWarnings?: { fieldRef: string; warning: string }[] };
        }
      ).typeChecking?.expressionWarnings ?? [];
    assert.deepEqual(
      warnings.map((w) => w.fieldRef),
      ["spec.validations[1].expression", "spec.validations[1].messageExpression"],
    );
    assert.match(warnings[0]?.warning ?? "", /^compilation failed: ERROR: <input>:1:1: /);
    assert.equal(warnings[1]?.warning, "must evaluate to string but got int");
  });

  it("follows a new generation", async () => {
    await policies().update(
      "",
      "status",
      (p) => ({ ...p, spec: { ...(p["spec"] as object), validations: [{ expression: "true" }] } }),
      write,
    );
    const policy = await eventually("the new generation to be observed", async () => {
      const p = await policies().get("", "status");
      return (p["status"] as { observedGeneration?: number } | undefined)?.observedGeneration === 2
        ? p
        : undefined;
    });
    assert.deepEqual((policy["status"] as { typeChecking?: unknown }).typeChecking, {});
  });
});
