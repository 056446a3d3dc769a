import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AuditPolicyError,
  compileAuditPolicy,
  parseAuditPolicy,
  type AuditLevel,
  type AuditStage,
  type PolicyAttributes,
} from "./policy.ts";

// The example policy of https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/ (audit-policy.yaml).
const kubeDocsPolicy = `
apiVersion: audit.k8s.io/v1 # This is required.
kind: Policy
# Don't generate audit events for all requests in RequestReceived stage.
omitStages:
  - "RequestReceived"
rules:
  # Log pod changes at RequestResponse level
  - level: RequestResponse
    resources:
    - group: ""
      # Resource "pods" doesn't match requests to any subresource of pods,
      # which is consistent with the RBAC policy.
      resources: ["pods"]
  # Log "pods/log", "pods/status" at Metadata level
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]

  # Don't log requests to a configmap called "controller-leader"
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]

  # Don't log watch requests by the "system:kube-proxy" on endpoints or services
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: "" # core API group
      resources: ["endpoints", "services"]

  # Don't log authenticated requests to certain non-resource URL paths.
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*" # Wildcard matching.
    - "/version"

  # Log the request body of configmap changes in kube-system.
  - level: Request
    resources:
    - group: "" # core API group
      resources: ["configmaps"]
    # This rule only applies to resources in the "kube-system" namespace.
    # The empty string "" can be used to select non-namespaced resources.
    namespaces: ["kube-system"]

  # Log configmap and secret changes in all other namespaces at the Metadata level.
  - level: Metadata
    resources:
    - group: "" # core API group
      resources: ["secrets", "configmaps"]

  # Log all other resources in core and extensions at the Request level.
  - level: Request
    resources:
    - group: "" # core API group
    - group: "extensions" # Version of group should NOT be included.

  # A catch-all rule to log all other requests at the Metadata level.
  - level: Metadata
    # Long-running requests like watches that fall under this rule will not
    # generate an audit event in RequestReceived.
    omitStages:
      - "RequestReceived"
`;

const alice = { name: "alice", groups: ["system:authenticated"] };
const kubeProxy = { name: "system:kube-proxy", groups: ["system:authenticated"] };
const anonymous = { name: "system:anonymous", groups: ["system:unauthenticated"] };

interface ResourceReq {
  user?: PolicyAttributes["user"];
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const res = (r: ResourceReq): PolicyAttributes => ({
  user: r.user ?? alice,
  verb: r.verb,
  isResourceRequest: true,
  path: "/irrelevant",
  apiGroup: r.group ?? "",
  resource: r.resource,
  subresource: r.subresource ?? "",
  namespace: r.namespace ?? "",
  name: r.name ?? "",
});

const nonRes = (path: string, user: PolicyAttributes["user"] = alice, verb = "get"): PolicyAttributes => ({
  user,
  verb,
  isResourceRequest: false,
  path,
  apiGroup: "",
  resource: "",
  subresource: "",
  namespace: "",
  name: "",
});

describe("the kube docs example policy", () => {
  const policy = parseAuditPolicy(kubeDocsPolicy);
  const cases: [string, PolicyAttributes, AuditLevel][] = [
    ["pod create", res({ verb: "create", resource: "pods", namespace: "default" }), "RequestResponse"],
    [
      "pod get by name",
      res({ verb: "get", resource: "pods", namespace: "default", name: "p" }),
      "RequestResponse",
    ],
    [
      "pods/log",
      res({ verb: "get", resource: "pods", subresource: "log", namespace: "a", name: "p" }),
      "Metadata",
    ],
    [
      "pods/status",
      res({ verb: "update", resource: "pods", subresource: "status", namespace: "a", name: "p" }),
      "Metadata",
    ],
    [
      "pods/exec is not pods: falls to the core-group rule",
      res({ verb: "create", resource: "pods", subresource: "exec", namespace: "a", name: "p" }),
      "Request",
    ],
    [
      "the controller-leader configmap",
      res({ verb: "update", resource: "configmaps", namespace: "kube-system", name: "controller-leader" }),
      "None",
    ],
    [
      "another configmap in kube-system",
      res({ verb: "update", resource: "configmaps", namespace: "kube-system", name: "other" }),
      "Request",
    ],
    [
      "a configmap list in kube-system (no name: resourceNames rule does not match)",
      res({ verb: "list", resource: "configmaps", namespace: "kube-system" }),
      "Request",
    ],
    [
      "a configmap elsewhere",
      res({ verb: "get", resource: "configmaps", namespace: "default", name: "x" }),
      "Metadata",
    ],
    [
      "a secret in kube-system",
      res({ verb: "get", resource: "secrets", namespace: "kube-system", name: "s" }),
      "Metadata",
    ],
    [
      "kube-proxy watching endpoints",
      res({ user: kubeProxy, verb: "watch", resource: "endpoints", namespace: "default" }),
      "None",
    ],
    [
      "kube-proxy listing services",
      res({ user: kubeProxy, verb: "list", resource: "services", namespace: "default" }),
      "Request",
    ],
    [
      "alice watching endpoints",
      res({ verb: "watch", resource: "endpoints", namespace: "default" }),
      "Request",
    ],
    ['authenticated GET /apis ("/api*")', nonRes("/apis"), "None"],
    ["authenticated GET /api/v1", nonRes("/api/v1"), "None"],
    ["authenticated GET /version", nonRes("/version"), "None"],
    ["authenticated GET /version/ (not exact)", nonRes("/version/"), "Metadata"],
    ["authenticated GET /healthz", nonRes("/healthz"), "Metadata"],
    ["anonymous GET /apis", nonRes("/apis", anonymous), "Metadata"],
    [
      "a namespace (core, cluster-scoped)",
      res({ verb: "delete", resource: "namespaces", name: "x" }),
      "Request",
    ],
    [
      "an extensions ingress",
      res({ verb: "create", group: "extensions", resource: "ingresses", namespace: "a" }),
      "Request",
    ],
    [
      "an apps deployment",
      res({ verb: "create", group: "apps", resource: "deployments", namespace: "a" }),
      "Metadata",
    ],
  ];
  for (const [name, attrs, level] of cases) {
    test(name, () => assert.equal(policy.levelFor(attrs).level, level));
  }

  test("the policy's omitStages join every rule's, and apply when nothing matches", () => {
    const stages = (a: PolicyAttributes): AuditStage[] => [...policy.levelFor(a).omitStages].sort();
    assert.deepEqual(stages(res({ verb: "create", resource: "pods", namespace: "a" })), ["RequestReceived"]);
    assert.deepEqual(stages(nonRes("/healthz")), ["RequestReceived"]);
  });
});

describe("rule matching", () => {
  const policy = (rules: unknown[], extra: Record<string, unknown> = {}) =>
    compileAuditPolicy({ apiVersion: "audit.k8s.io/v1", kind: "Policy", rules, ...extra });

  test('"pods/*" matches pods itself and every subresource of pods, not other resources', () => {
    const p = policy([{ level: "Request", resources: [{ group: "", resources: ["pods/*"] }] }]);
    assert.equal(
      p.levelFor(res({ verb: "get", resource: "pods", name: "a", namespace: "n" })).level,
      "Request",
    );
    assert.equal(
      p.levelFor(res({ verb: "get", resource: "pods", subresource: "log", name: "a", namespace: "n" })).level,
      "Request",
    );
    assert.equal(p.levelFor(res({ verb: "get", resource: "podtemplates", namespace: "n" })).level, "None");
  });

  test('"*/status" matches any status subresource of the group and nothing else', () => {
    const p = policy([{ level: "Metadata", resources: [{ group: "apps", resources: ["*/status"] }] }]);
    const dep = (subresource: string) =>
      res({ verb: "update", group: "apps", resource: "deployments", subresource, name: "d", namespace: "n" });
    assert.equal(p.levelFor(dep("status")).level, "Metadata");
    assert.equal(p.levelFor(dep("scale")).level, "None");
    assert.equal(p.levelFor(dep("")).level, "None");
    // The group must match exactly.
    assert.equal(
      p.levelFor(res({ verb: "update", resource: "pods", subresource: "status", name: "p", namespace: "n" }))
        .level,
      "None",
    );
  });

  test('"*" matches every resource of the group, subresources included', () => {
    const p = policy([{ level: "Request", resources: [{ group: "", resources: ["*"] }] }]);
    assert.equal(
      p.levelFor(
        res({ verb: "create", resource: "pods", subresource: "eviction", name: "p", namespace: "n" }),
      ).level,
      "Request",
    );
    assert.equal(p.levelFor(res({ verb: "list", group: "apps", resource: "deployments" })).level, "None");
  });

  test('namespaces [""] selects cluster-scoped requests only', () => {
    const p = policy([{ level: "Metadata", namespaces: [""] }]);
    assert.equal(p.levelFor(res({ verb: "get", resource: "nodes", name: "n1" })).level, "Metadata");
    assert.equal(p.levelFor(res({ verb: "list", resource: "pods" })).level, "Metadata"); // across all namespaces
    assert.equal(p.levelFor(res({ verb: "list", resource: "pods", namespace: "a" })).level, "None");
    assert.equal(p.levelFor(nonRes("/healthz")).level, "None"); // a namespace rule never matches non-resource
  });

  test("resourceNames restrict by name; a request without a name does not match", () => {
    const p = policy([
      { level: "None", resources: [{ group: "", resources: ["secrets"], resourceNames: ["keep-out"] }] },
      { level: "Metadata" },
    ]);
    assert.equal(
      p.levelFor(res({ verb: "get", resource: "secrets", namespace: "a", name: "keep-out" })).level,
      "None",
    );
    assert.equal(
      p.levelFor(res({ verb: "get", resource: "secrets", namespace: "a", name: "x" })).level,
      "Metadata",
    );
    assert.equal(p.levelFor(res({ verb: "list", resource: "secrets", namespace: "a" })).level, "Metadata");
  });

  test('nonResourceURLs: "*", exact and prefix; never a resource request', () => {
    const all = policy([{ level: "Metadata", nonResourceURLs: ["*"] }]);
    assert.equal(all.levelFor(nonRes("/anything/at/all")).level, "Metadata");
    assert.equal(
      all.levelFor(res({ verb: "get", resource: "pods", namespace: "a", name: "p" })).level,
      "None",
    );
    const some = policy([{ level: "Request", nonResourceURLs: ["/healthz*", "/metrics"] }]);
    assert.equal(some.levelFor(nonRes("/healthz/etcd")).level, "Request");
    assert.equal(some.levelFor(nonRes("/healthzz")).level, "Request"); // a prefix, not a path segment
    assert.equal(some.levelFor(nonRes("/metrics")).level, "Request");
    assert.equal(some.levelFor(nonRes("/metrics/x")).level, "None");
  });

  test("users, userGroups and verbs must all match", () => {
    const p = policy([
      { level: "RequestResponse", users: ["alice"], userGroups: ["admins"], verbs: ["delete"] },
    ]);
    const admin = { name: "alice", groups: ["admins"] };
    assert.equal(
      p.levelFor(res({ user: admin, verb: "delete", resource: "pods", name: "p" })).level,
      "RequestResponse",
    );
    assert.equal(p.levelFor(res({ user: admin, verb: "get", resource: "pods", name: "p" })).level, "None");
    assert.equal(p.levelFor(res({ user: alice, verb: "delete", resource: "pods", name: "p" })).level, "None");
    assert.equal(
      p.levelFor(
        res({ user: { name: "bob", groups: ["admins"] }, verb: "delete", resource: "pods", name: "p" }),
      ).level,
      "None",
    );
  });

  test("the first matching rule wins, even when a later one is more specific", () => {
    const p = policy([
      { level: "Metadata", resources: [{ group: "" }] },
      { level: "RequestResponse", resources: [{ group: "", resources: ["pods"] }] },
    ]);
    assert.equal(p.levelFor(res({ verb: "create", resource: "pods", namespace: "a" })).level, "Metadata");
  });

  test("no match: level None with the policy's omitStages and omitManagedFields", () => {
    const p = policy([{ level: "Metadata", users: ["nobody"] }], {
      omitStages: ["ResponseStarted"],
      omitManagedFields: true,
    });
    assert.deepEqual(p.levelFor(nonRes("/x")), {
      level: "None",
      omitStages: ["ResponseStarted"],
      omitManagedFields: true,
    });
  });

  test("omitManagedFields: a rule's own value overrides the policy's", () => {
    const p = policy(
      [
        { level: "Request", verbs: ["create"], omitManagedFields: false },
        { level: "Request", verbs: ["update"] },
      ],
      { omitManagedFields: true },
    );
    assert.equal(
      p.levelFor(res({ verb: "create", resource: "pods", namespace: "a" })).omitManagedFields,
      false,
    );
    assert.equal(
      p.levelFor(res({ verb: "update", resource: "pods", namespace: "a", name: "p" })).omitManagedFields,
      true,
    );
  });
});

describe("reading and validation", () => {
  const errorsOf = (text: string): readonly string[] => {
    try {
      parseAuditPolicy(text);
    } catch (err) {
      assert.ok(err instanceof AuditPolicyError, String(err));
      return err.errors.length > 0 ? err.errors : [err.message];
    }
    assert.fail("the policy was accepted");
  };
  const head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n";

  test("JSON is YAML: a JSON policy reads the same", () => {
    const p = parseAuditPolicy(
      JSON.stringify({ apiVersion: "audit.k8s.io/v1", kind: "Policy", rules: [{ level: "Metadata" }] }),
    );
    assert.equal(p.levelFor(nonRes("/x")).level, "Metadata");
  });

  test("kube's field errors, all of them at once", () => {
    const errors = errorsOf(
      head +
        `omitStages: ["Started"]
rules:
  - {}
  - level: Everything
  - level: Metadata
    nonResourceURLs: ["healthz", "/a*b"]
  - level: Metadata
    resources: [{group: "apps/v1", resourceNames: ["x"]}]
  - level: Metadata
    namespaces: ["a"]
    nonResourceURLs: ["/x"]
  - level: None
    omitStages: ["Nope"]
`,
    );
    assert.deepEqual(errors, [
      'omitStages[0]: Invalid value: "Started": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic',
      "rules[0].level: Required value",
      'rules[1].level: Unsupported value: "Everything": supported values: "None", "Metadata", "Request", "RequestResponse"',
      `rules[2].nonResourceURLs[0]: Invalid value: "healthz": non-resource URL rules must begin with a '/' character`,
      `rules[2].nonResourceURLs[1]: Invalid value: "/a*b": non-resource URL wildcards '*' must be the final character of the rule`,
      `rules[3].resources.group: Invalid value: "apps/v1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      'rules[3].resources.resourceNames: Invalid value: []string{"x"}: using resourceNames requires at least one resource',
      'rules[4].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both regular resources and non-resource URLs',
      'rules[5].omitStages[0]: Invalid value: "Nope": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic',
    ]);
  });

  test("a single error is the message itself", () => {
    assert.throws(() => parseAuditPolicy(head + "rules: [{level: Loud}]"), {
      name: "AuditPolicyError",
      message:
        'rules[0].level: Unsupported value: "Loud": supported values: "None", "Metadata", "Request", "RequestResponse"',
    });
  });

  test("a policy without rules is refused", () => {
    assert.deepEqual(errorsOf(head), ["loaded illegal policy with 0 rules"]);
    assert.deepEqual(errorsOf(head + "rules: []"), ["loaded illegal policy with 0 rules"]);
  });

  test("apiVersion and kind are required and must be audit.k8s.io/v1 Policy", () => {
    assert.match(errorsOf("rules: [{level: None}]")[0]!, /'apiVersion' and 'Kind' are required/);
    assert.match(
      errorsOf("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]")[0]!,
      /unknown group version field audit.k8s.io\/v1beta1/,
    );
    assert.match(errorsOf("apiVersion: audit.k8s.io/v1\nkind: Pod\nrules: [{level: None}]")[0]!, /Kind=Pod/);
  });

  test("wrong types and broken YAML are decoding errors", () => {
    assert.deepEqual(errorsOf(head + "rules: [{level: Metadata, users: alice}]"), [
      'rules[0].users: Invalid value: "alice": must be a list of strings',
    ]);
    assert.match(errorsOf(head + "rules: [level: [")[0]!, /^failed decoding: /);
  });
});
