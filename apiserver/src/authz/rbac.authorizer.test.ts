import assert from "node:assert/strict";
import { describe, test } from "node:test";

import type { UserInfo } from "../authn/user.ts";
import type { Attributes, DecisionKind } from "./authorizer.ts";
import { forbiddenMessage } from "./authorizer.ts";
import { defaultClusterRoleBindings, defaultClusterRoles } from "./bootstrap.policy.ts";
import type {
  ClusterRole,
  ClusterRoleBinding,
  RBACSource,
  Role,
  RoleBinding,
  RoleRef,
  Rule,
  Subject,
} from "./rbac.authorizer.ts";
import {
  aggregateClusterRole,
  aggregateClusterRoles,
  coversRules,
  RBACAuthorizer,
  SubjectIndex,
} from "./rbac.authorizer.ts";

// ---------------------------------------------------------------------------------------
// A small world, mostly the examples of https://kubernetes.io/docs/reference/access-authn-authz/rbac/

const cr = (name: string, rules: Rule[], labels?: Record<string, string>): ClusterRole => ({
  metadata: labels === undefined ? { name } : { name, labels },
  rules,
});
const role = (namespace: string, name: string, rules: Rule[]): Role => ({
  metadata: { name, namespace },
  rules,
});
const ref = (kind: "Role" | "ClusterRole", name: string) => ({
  apiGroup: "rbac.authorization.k8s.io",
  kind,
  name,
});
const user = (name: string): Subject => ({ kind: "User", name });
const group = (name: string): Subject => ({ kind: "Group", name });
const sa = (name: string, namespace?: string): Subject =>
  namespace === undefined ? { kind: "ServiceAccount", name } : { kind: "ServiceAccount", name, namespace };
const rb = (namespace: string, name: string, roleRef: RoleRef, subjects: Subject[]): RoleBinding => ({
  metadata: { name, namespace },
  roleRef,
  subjects,
});
const crb = (name: string, roleRef: RoleRef, subjects: Subject[]): ClusterRoleBinding => ({
  metadata: { name },
  roleRef,
  subjects,
});

const clusterRoles: ClusterRole[] = aggregateClusterRoles([
  ...defaultClusterRoles(),
  cr("secret-reader", [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "watch", "list"] }]),
  cr("scaler", [{ apiGroups: ["apps"], resources: ["*/scale"], verbs: ["update"] }]),
  cr("health-checker", [{ nonResourceURLs: ["/healthz", "/healthz/*"], verbs: ["get"] }]),
  cr("pod-logs", [{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list"] }]),
  cr("named-configmap", [
    {
      apiGroups: [""],
      resources: ["configmaps"],
      resourceNames: ["my-configmap"],
      verbs: ["update", "get", "watch"],
    },
  ]),
  {
    metadata: { name: "monitoring" },
    aggregationRule: {
      clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-monitoring": "true" } }],
    },
    rules: [],
  },
  cr(
    "monitoring-endpoints",
    [{ apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] }],
    {
      "rbac.example.com/aggregate-to-monitoring": "true",
    },
  ),
]);

const roles: Role[] = [
  role("default", "pod-reader", [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "watch", "list"] }]),
];

const roleBindings: RoleBinding[] = [
  rb("default", "read-pods", ref("Role", "pod-reader"), [user("jane")]),
  rb("development", "read-secrets", ref("ClusterRole", "secret-reader"), [user("dave")]),
  rb("default", "logs", ref("ClusterRole", "pod-logs"), [group("devs")]),
  rb("default", "cm", ref("ClusterRole", "named-configmap"), [user("cmuser")]),
  rb("team", "sa-edit", ref("ClusterRole", "edit"), [sa("builder"), sa("deployer", "other")]),
  rb("team", "admins", ref("ClusterRole", "admin"), [user("alice")]),
  rb("team", "viewers", ref("ClusterRole", "view"), [user("victor")]),
  rb("broken", "dangling", ref("Role", "missing"), [user("bob")]),
  // A RoleBinding cannot reach a Role of another namespace: "pod-reader" lives in default.
  rb("elsewhere", "foreign", ref("Role", "pod-reader"), [user("jane")]),
];

const clusterRoleBindings: ClusterRoleBinding[] = [
  ...defaultClusterRoleBindings(),
  crb("read-secrets-global", ref("ClusterRole", "secret-reader"), [group("manager")]),
  crb("scalers", ref("ClusterRole", "scaler"), [user("scaler")]),
  crb("health", ref("ClusterRole", "health-checker"), [user("monitor")]),
  crb("monitoring", ref("ClusterRole", "monitoring"), [user("mon")]),
  // A ServiceAccount subject without a namespace never applies in a ClusterRoleBinding.
  crb("ghost", ref("ClusterRole", "cluster-admin"), [sa("ghost")]),
];

const memorySource = (world: {
  clusterRoles: ClusterRole[];
  roles: Role[];
  roleBindings: RoleBinding[];
  clusterRoleBindings: ClusterRoleBinding[];
}): RBACSource => ({
  roles: (ns) => world.roles.filter((r) => r.metadata.namespace === ns),
  clusterRoles: () => world.clusterRoles,
  roleBindings: (ns) => world.roleBindings.filter((b) => b.metadata.namespace === ns),
  clusterRoleBindings: () => world.clusterRoleBindings,
  role: (ns, name) => world.roles.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
  clusterRole: (name) => world.clusterRoles.find((r) => r.metadata.name === name),
});

const authorizer = new RBACAuthorizer(
  memorySource({ clusterRoles, roles, roleBindings, clusterRoleBindings }),
);

// ---------------------------------------------------------------------------------------
// Request builders

const anonymous: UserInfo = {
  name: "system:anonymous",
  uid: "",
  groups: ["system:unauthenticated"],
  extra: {},
};
const who = (name: string, ...groups: string[]): UserInfo => ({
  name,
  uid: "",
  groups: [...groups, "system:authenticated"],
  extra: {},
});
const saUser = (ns: string, name: string): UserInfo =>
  who(`system:serviceaccount:${ns}:${name}`, "system:serviceaccounts", `system:serviceaccounts:${ns}`);

/** A resource request; `resource` may be `resource/subresource`. */
function res(
  u: UserInfo,
  verb: string,
  resource: string,
  opts: { ns?: string; name?: string; group?: string } = {},
): Attributes {
  const [r = "", sub = ""] = resource.split("/");
  const ns = opts.ns ?? "";
  return {
    user: u,
    verb,
    isResourceRequest: true,
    path: "",
    apiGroup: opts.group ?? "",
    apiVersion: "v1",
    resource: r,
    subresource: sub,
    namespace: ns,
    name: opts.name ?? "",
  };
}

const url = (u: UserInfo, verb: string, path: string): Attributes => ({
  user: u,
  verb,
  isResourceRequest: false,
  path,
  apiGroup: "",
  apiVersion: "",
  resource: "",
  subresource: "",
  namespace: "",
  name: "",
});

// ---------------------------------------------------------------------------------------
// The table

interface Case {
  readonly name: string;
  readonly attrs: Attributes;
  readonly want: DecisionKind;
  readonly reason?: string;
}

const jane = who("jane");
const dave = who("dave");
const mgr = who("mgr", "manager");
const cmuser = who("cmuser");
const scaler = who("scaler");
const monitor = who("monitor");
const root = who("root", "system:masters");
const alice = who("alice");
const victor = who("victor");

const cases: Case[] = [
  // Role + RoleBinding
  {
    name: "role grants get in its namespace",
    attrs: res(jane, "get", "pods", { ns: "default", name: "p" }),
    want: "Allow",
    reason: 'RBAC: allowed by RoleBinding "read-pods/default" of Role "pod-reader" to User "jane"',
  },
  { name: "role grants list", attrs: res(jane, "list", "pods", { ns: "default" }), want: "Allow" },
  { name: "role grants watch", attrs: res(jane, "watch", "pods", { ns: "default" }), want: "Allow" },
  {
    name: "role: other namespace",
    attrs: res(jane, "get", "pods", { ns: "kube-system", name: "p" }),
    want: "NoOpinion",
    reason: "",
  },
  {
    name: "role: verb not granted",
    attrs: res(jane, "delete", "pods", { ns: "default", name: "p" }),
    want: "NoOpinion",
  },
  { name: "role: not across all namespaces", attrs: res(jane, "list", "pods"), want: "NoOpinion" },
  {
    name: "role: other api group",
    attrs: res(jane, "get", "pods", { ns: "default", group: "apps" }),
    want: "NoOpinion",
  },
  {
    name: "role: `pods` does not cover pods/log",
    attrs: res(jane, "get", "pods/log", { ns: "default", name: "p" }),
    want: "NoOpinion",
  },
  {
    name: "role of another namespace is not found",
    attrs: res(jane, "get", "pods", { ns: "elsewhere", name: "p" }),
    want: "NoOpinion",
    reason: 'RBAC: role.rbac.authorization.k8s.io "pod-reader" not found',
  },
  {
    name: "user names are case-sensitive",
    attrs: res(who("Jane"), "get", "pods", { ns: "default", name: "p" }),
    want: "NoOpinion",
  },
  // RoleBinding to a ClusterRole is confined to its namespace
  {
    name: "rolebinding to clusterrole grants in its namespace",
    attrs: res(dave, "get", "secrets", { ns: "development", name: "s" }),
    want: "Allow",
    reason:
      'RBAC: allowed by RoleBinding "read-secrets/development" of ClusterRole "secret-reader" to User "dave"',
  },
  {
    name: "rolebinding to clusterrole: not in another namespace",
    attrs: res(dave, "get", "secrets", { ns: "default", name: "s" }),
    want: "NoOpinion",
  },
  {
    name: "rolebinding to clusterrole: not cluster-wide",
    attrs: res(dave, "list", "secrets"),
    want: "NoOpinion",
  },
  // ClusterRoleBinding with a group subject
  {
    name: "clusterrolebinding grants a group in any namespace",
    attrs: res(mgr, "get", "secrets", { ns: "anywhere", name: "s" }),
    want: "Allow",
    reason:
      'RBAC: allowed by ClusterRoleBinding "read-secrets-global" of ClusterRole "secret-reader" to Group "manager"',
  },
  {
    name: "clusterrolebinding grants across all namespaces",
    attrs: res(mgr, "list", "secrets"),
    want: "Allow",
  },
  {
    name: "clusterrolebinding: verb not granted",
    attrs: res(mgr, "delete", "secrets", { ns: "x", name: "s" }),
    want: "NoOpinion",
  },
  {
    name: "group membership is required",
    attrs: res(who("manager"), "get", "secrets", { ns: "x", name: "s" }),
    want: "NoOpinion",
  },
  // resourceNames
  {
    name: "resourceNames: get of a listed name",
    attrs: res(cmuser, "get", "configmaps", { ns: "default", name: "my-configmap" }),
    want: "Allow",
  },
  {
    name: "resourceNames: update of a listed name",
    attrs: res(cmuser, "update", "configmaps", { ns: "default", name: "my-configmap" }),
    want: "Allow",
  },
  {
    name: "resourceNames: watch of a single named object",
    attrs: res(cmuser, "watch", "configmaps", { ns: "default", name: "my-configmap" }),
    want: "Allow",
  },
  {
    name: "resourceNames: other name",
    attrs: res(cmuser, "get", "configmaps", { ns: "default", name: "other" }),
    want: "NoOpinion",
  },
  {
    name: "resourceNames: list has no name",
    attrs: res(cmuser, "list", "configmaps", { ns: "default" }),
    want: "NoOpinion",
  },
  {
    name: "resourceNames: create has no name",
    attrs: res(cmuser, "create", "configmaps", { ns: "default" }),
    want: "NoOpinion",
  },
  {
    name: "resourceNames: deletecollection has no name",
    attrs: res(cmuser, "deletecollection", "configmaps", { ns: "default" }),
    want: "NoOpinion",
  },
  // Subresources
  {
    name: "*/scale matches deployments/scale",
    attrs: res(scaler, "update", "deployments/scale", { ns: "x", name: "d", group: "apps" }),
    want: "Allow",
  },
  {
    name: "*/scale matches replicasets/scale",
    attrs: res(scaler, "update", "replicasets/scale", { ns: "x", name: "r", group: "apps" }),
    want: "Allow",
  },
  {
    name: "*/scale does not match the parent",
    attrs: res(scaler, "update", "deployments", { ns: "x", name: "d", group: "apps" }),
    want: "NoOpinion",
  },
  {
    name: "*/scale does not match another subresource",
    attrs: res(scaler, "update", "deployments/status", { ns: "x", name: "d", group: "apps" }),
    want: "NoOpinion",
  },
  {
    name: "*/scale keeps its api group",
    attrs: res(scaler, "update", "deployments/scale", { ns: "x", name: "d" }),
    want: "NoOpinion",
  },
  {
    name: "pods/log through a group RoleBinding",
    attrs: res(who("dev1", "devs"), "get", "pods/log", { ns: "default", name: "p" }),
    want: "Allow",
    reason: 'RBAC: allowed by RoleBinding "logs/default" of ClusterRole "pod-logs" to Group "devs"',
  },
  // nonResourceURLs
  {
    name: "nonResourceURL exact",
    attrs: url(monitor, "get", "/healthz"),
    want: "Allow",
    reason:
      'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
  },
  {
    name: "nonResourceURL * suffix",
    attrs: url(monitor, "get", "/healthz/etcd"),
    want: "Allow",
    reason: 'RBAC: allowed by ClusterRoleBinding "health" of ClusterRole "health-checker" to User "monitor"',
  },
  { name: "nonResourceURL: verb not granted", attrs: url(monitor, "post", "/healthz"), want: "NoOpinion" },
  {
    name: "nonResourceURL: prefix is not a match without *",
    attrs: url(monitor, "get", "/healthzz"),
    want: "NoOpinion",
  },
  {
    name: "nonResourceURL rule does not grant resources",
    attrs: res(monitor, "get", "healthz", { name: "x" }),
    want: "NoOpinion",
  },
  {
    name: "public-info-viewer for the unauthenticated",
    attrs: url(anonymous, "get", "/version"),
    want: "Allow",
    reason:
      'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"',
  },
  {
    name: "discovery is for the authenticated only",
    attrs: url(anonymous, "get", "/apis"),
    want: "NoOpinion",
  },
  { name: "discovery /apis/*", attrs: url(who("someone"), "get", "/apis/apps/v1"), want: "Allow" },
  {
    name: "basic-user self subject access review",
    attrs: res(who("someone"), "create", "selfsubjectaccessreviews", { group: "authorization.k8s.io" }),
    want: "Allow",
  },
  {
    name: "no binding, no grant",
    attrs: res(who("someone"), "list", "configmaps", { ns: "default" }),
    want: "NoOpinion",
    reason: "",
  },
  // system:masters via the default binding; wildcards everywhere
  {
    name: "system:masters is cluster-admin",
    attrs: res(root, "delete", "widgets", { ns: "foo", name: "w", group: "example.com" }),
    want: "Allow",
    reason:
      'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"',
  },
  {
    name: "cluster-admin: any subresource",
    attrs: res(root, "create", "serviceaccounts/token", { ns: "x", name: "y" }),
    want: "Allow",
  },
  {
    name: "cluster-admin: any cluster-scoped verb",
    attrs: res(root, "escalate", "clusterroles", { group: "rbac.authorization.k8s.io", name: "r" }),
    want: "Allow",
  },
  { name: "cluster-admin: any non-resource URL", attrs: url(root, "get", "/metrics"), want: "Allow" },
  // ServiceAccount subjects
  {
    name: "service account without namespace means the binding's",
    attrs: res(saUser("team", "builder"), "create", "configmaps", { ns: "team" }),
    want: "Allow",
    reason:
      'RBAC: allowed by RoleBinding "sa-edit/team" of ClusterRole "edit" to ServiceAccount "builder/team"',
  },
  {
    name: "service account of another namespace is another account",
    attrs: res(saUser("default", "builder"), "create", "configmaps", { ns: "team" }),
    want: "NoOpinion",
  },
  {
    name: "service account binding stays in its namespace",
    attrs: res(saUser("team", "builder"), "create", "configmaps", { ns: "default" }),
    want: "NoOpinion",
  },
  {
    name: "service account with an explicit namespace",
    attrs: res(saUser("other", "deployer"), "create", "configmaps", { ns: "team" }),
    want: "Allow",
    reason:
      'RBAC: allowed by RoleBinding "sa-edit/team" of ClusterRole "edit" to ServiceAccount "deployer/other"',
  },
  {
    name: "namespace-less service account in a ClusterRoleBinding never applies",
    attrs: res(saUser("x", "ghost"), "get", "pods", { ns: "x", name: "p" }),
    want: "NoOpinion",
  },
  // Aggregated admin / edit / view
  {
    name: "admin manages rolebindings",
    attrs: res(alice, "create", "rolebindings", { ns: "team", group: "rbac.authorization.k8s.io" }),
    want: "Allow",
  },
  {
    name: "admin reads secrets (from edit)",
    attrs: res(alice, "get", "secrets", { ns: "team", name: "s" }),
    want: "Allow",
  },
  {
    name: "admin lists configmaps (from view through edit)",
    attrs: res(alice, "list", "configmaps", { ns: "team" }),
    want: "Allow",
  },
  {
    name: "admin does not write resourcequotas",
    attrs: res(alice, "update", "resourcequotas", { ns: "team", name: "q" }),
    want: "NoOpinion",
  },
  {
    name: "admin is confined to its namespace",
    attrs: res(alice, "get", "secrets", { ns: "default", name: "s" }),
    want: "NoOpinion",
  },
  {
    name: "view reads configmaps",
    attrs: res(victor, "get", "configmaps", { ns: "team", name: "c" }),
    want: "Allow",
  },
  { name: "view reads events", attrs: res(victor, "list", "events", { ns: "team" }), want: "Allow" },
  {
    name: "view cannot read secrets",
    attrs: res(victor, "get", "secrets", { ns: "team", name: "s" }),
    want: "NoOpinion",
  },
  {
    name: "view cannot write",
    attrs: res(victor, "update", "configmaps", { ns: "team", name: "c" }),
    want: "NoOpinion",
  },
  {
    name: "edit cannot manage roles",
    attrs: res(saUser("team", "builder"), "create", "roles", {
      ns: "team",
      group: "rbac.authorization.k8s.io",
    }),
    want: "NoOpinion",
  },
  {
    name: "custom aggregated role",
    attrs: res(who("mon"), "list", "endpointslices", { group: "discovery.k8s.io" }),
    want: "Allow",
  },
  // Dangling references are reported, not fatal
  {
    name: "missing role is reported in the reason",
    attrs: res(who("bob"), "get", "pods", { ns: "broken", name: "p" }),
    want: "NoOpinion",
    reason: 'RBAC: role.rbac.authorization.k8s.io "missing" not found',
  },
];

describe("RBACAuthorizer", () => {
  for (const c of cases) {
    test(c.name, () => {
      const got = authorizer.authorize(c.attrs);
      assert.equal(got.decision, c.want);
      if (c.reason !== undefined) assert.equal(got.reason, c.reason);
    });
  }

  test("the table is large enough", () => {
    assert.ok(cases.length >= 40, `${cases.length} cases`);
  });

  test("a ClusterRoleBinding to a Role is an error, never a grant", () => {
    const a = new RBACAuthorizer(
      memorySource({
        clusterRoles: [],
        roles,
        roleBindings: [],
        clusterRoleBindings: [crb("odd", ref("Role", "pod-reader"), [user("jane")])],
      }),
    );
    assert.deepEqual(a.authorize(res(jane, "get", "pods", { ns: "default", name: "p" })), {
      decision: "NoOpinion",
      reason: 'RBAC: role.rbac.authorization.k8s.io "pod-reader" not found',
    });
  });

  test("several errors are aggregated and deduplicated", () => {
    const a = new RBACAuthorizer(
      memorySource({
        clusterRoles: [],
        roles: [],
        roleBindings: [],
        clusterRoleBindings: [
          crb("a", ref("ClusterRole", "x"), [user("u")]),
          crb("b", ref("ClusterRole", "x"), [user("u")]),
          crb("c", { apiGroup: "rbac.authorization.k8s.io", kind: "Other", name: "y" }, [user("u")]),
        ],
      }),
    );
    assert.equal(
      a.authorize(res(who("u"), "get", "pods", { ns: "n", name: "p" })).reason,
      'RBAC: [clusterrole.rbac.authorization.k8s.io "x" not found, unsupported role reference kind: "Other"]',
    );
  });

  test("a source that throws makes the authorizer throw (a 500, not a 403)", () => {
    const broken: RBACSource = {
      ...memorySource({ clusterRoles, roles, roleBindings, clusterRoleBindings }),
      clusterRoleBindings: () => {
        throw new Error("cache not synced");
      },
    };
    assert.throws(
      () => new RBACAuthorizer(broken).authorize(url(root, "get", "/healthz")),
      /cache not synced/,
    );
  });

  test("a source indexed by subject gives every answer of the table, reasons included", () => {
    const world = { clusterRoles, roles, roleBindings, clusterRoleBindings };
    const plain = memorySource(world);
    const indexed = new RBACAuthorizer({
      ...plain,
      clusterRoleBindingsFor: (u) => new SubjectIndex(clusterRoleBindings, "").for(u),
      roleBindingsFor: (ns, u) => new SubjectIndex(plain.roleBindings(ns), ns).for(u),
    });
    for (const c of cases)
      assert.deepEqual(indexed.authorize(c.attrs), authorizer.authorize(c.attrs), c.name);
    for (const u of [jane, dave, mgr, saUser("team", "builder"), saUser("other", "deployer"), anonymous]) {
      for (const ns of ["", "default", "team", "broken"])
        assert.deepEqual(indexed.rulesFor(u, ns), authorizer.rulesFor(u, ns), `${u.name} in ${ns}`);
    }
  });

  test("the subject index keeps the bindings' order and lists one binding once", () => {
    const bindings = [
      crb("1", ref("ClusterRole", "a"), [group("devs"), user("ann")]),
      crb("2", ref("ClusterRole", "a"), [user("bob")]),
      crb("3", ref("ClusterRole", "a"), [user("ann"), user("ann")]),
      crb("4", ref("ClusterRole", "a"), [group("ops"), { kind: "Robot", name: "ann" }]),
      crb("5", ref("ClusterRole", "a"), [sa("ghost"), sa("builder", "team")]),
    ];
    const names = (u: UserInfo, ns = ""): string[] =>
      new SubjectIndex(bindings, ns).for(u).map((b) => b.metadata.name);
    assert.deepEqual(names(who("ann", "ops", "devs")), ["1", "3", "4"]);
    assert.deepEqual(names(who("carl")), []);
    assert.deepEqual(names(saUser("team", "builder")), ["5"]);
    // A ServiceAccount subject without a namespace names the binding's own namespace only.
    assert.deepEqual(names(saUser("x", "ghost"), "x"), ["5"]);
    assert.deepEqual(names(saUser("x", "ghost")), []);
  });

  test("rulesFor lists cluster-wide then namespaced rules", () => {
    const { rules, errors } = authorizer.rulesFor(jane, "default");
    assert.deepEqual(errors, []);
    assert.deepEqual(rules.at(-1), { apiGroups: [""], resources: ["pods"], verbs: ["get", "watch", "list"] });
    assert.ok(rules.some((r) => r.nonResourceURLs?.includes("/healthz") === true));
  });
});

// ---------------------------------------------------------------------------------------

describe("aggregateClusterRole", () => {
  const defaults = defaultClusterRoles();
  const byName = (name: string): ClusterRole => {
    const r = defaults.find((x) => x.metadata.name === name);
    assert.ok(r);
    return r;
  };
  const grants = (rules: Rule[], verb: string, resource: string, apiGroup = ""): boolean =>
    rules.some(
      (r) =>
        r.verbs.includes(verb) &&
        (r.apiGroups ?? []).includes(apiGroup) &&
        (r.resources ?? []).includes(resource),
    );

  test("edit and view aggregate into admin", () => {
    const admin = aggregateClusterRole(byName("admin"), defaults);
    assert.ok(grants(admin, "create", "roles", "rbac.authorization.k8s.io"));
    assert.ok(grants(admin, "delete", "secrets"));
    assert.ok(grants(admin, "list", "configmaps"));
  });

  test("view excludes secrets; edit includes them", () => {
    const view = aggregateClusterRole(byName("view"), defaults);
    const edit = aggregateClusterRole(byName("edit"), defaults);
    assert.ok(!view.some((r) => (r.resources ?? []).includes("secrets")));
    assert.ok(grants(edit, "get", "secrets"));
    assert.ok(grants(edit, "get", "configmaps"), "edit has view's rules");
    assert.ok(
      !grants(edit, "create", "roles", "rbac.authorization.k8s.io"),
      "edit does not have admin's rules",
    );
  });

  test("rules are deduplicated, selectors read in order, roles in name order", () => {
    const a: Rule = { verbs: ["get"], apiGroups: [""], resources: ["a"] };
    const b: Rule = { verbs: ["get"], apiGroups: [""], resources: ["b"] };
    const all: ClusterRole[] = [
      cr("z", [a], { tier: "one" }),
      cr("y", [b, a], { tier: "one" }),
      cr("x", [b], { tier: "two" }),
    ];
    const target: ClusterRole = {
      metadata: { name: "t" },
      aggregationRule: {
        clusterRoleSelectors: [{ matchLabels: { tier: "one" } }, { matchLabels: { tier: "two" } }],
      },
    };
    assert.deepEqual(aggregateClusterRole(target, all), [b, a]);
  });

  test("matchExpressions In / NotIn / Exists / DoesNotExist", () => {
    const r = (resource: string): Rule => ({ verbs: ["get"], apiGroups: [""], resources: [resource] });
    const all: ClusterRole[] = [
      cr("gold", [r("gold")], { tier: "gold", team: "a" }),
      cr("silver", [r("silver")], { tier: "silver" }),
      cr("plain", [r("plain")]),
    ];
    const agg = (expr: { key: string; operator: string; values?: string[] }): string[] =>
      aggregateClusterRole(
        {
          metadata: { name: "t" },
          aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [expr] }] },
        },
        all,
      ).map((x) => x.resources?.[0] ?? "");
    assert.deepEqual(agg({ key: "tier", operator: "In", values: ["gold", "silver"] }), ["gold", "silver"]);
    assert.deepEqual(agg({ key: "tier", operator: "NotIn", values: ["gold"] }), ["plain", "silver"]);
    assert.deepEqual(agg({ key: "team", operator: "Exists" }), ["gold"]);
    assert.deepEqual(agg({ key: "team", operator: "DoesNotExist" }), ["plain", "silver"]);
  });

  test("a role never aggregates itself and cycles terminate", () => {
    const a: ClusterRole = {
      metadata: { name: "a", labels: { agg: "true" } },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: "true" } }] },
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["a"] }],
    };
    const b: ClusterRole = {
      ...a,
      metadata: { name: "b", labels: { agg: "true" } },
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["b"] }],
    };
    // b is aggregated while a is on the chain, so a contributes its stored rules to b and
    // b hands them back: the cycle ends, and a never selects itself directly.
    assert.deepEqual(aggregateClusterRole(a, [a, b]), [
      { verbs: ["get"], apiGroups: [""], resources: ["a"] },
    ]);
    assert.deepEqual(aggregateClusterRole(b, [a, b]), [
      { verbs: ["get"], apiGroups: [""], resources: ["b"] },
    ]);
  });

  test("a role without an aggregationRule keeps its rules", () => {
    assert.deepEqual(
      aggregateClusterRole(byName("system:basic-user"), defaults),
      byName("system:basic-user").rules,
    );
  });
});

// ---------------------------------------------------------------------------------------

describe("coversRules", () => {
  const cases: { name: string; owner: Rule[]; requested: Rule[]; missing: Rule[] }[] = [
    {
      name: "exact",
      owner: [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }],
      requested: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
      missing: [],
    },
    {
      name: "split across owner rules",
      owner: [
        { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
        { verbs: ["list"], apiGroups: [""], resources: ["pods"] },
      ],
      requested: [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }],
      missing: [],
    },
    {
      name: "missing verb is reported broken down",
      owner: [{ verbs: ["get"], apiGroups: [""], resources: ["pods", "secrets"] }],
      requested: [{ verbs: ["get", "delete"], apiGroups: [""], resources: ["pods"] }],
      missing: [{ verbs: ["delete"], apiGroups: [""], resources: ["pods"] }],
    },
    {
      name: "star owner covers everything",
      owner: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
      requested: [
        { verbs: ["escalate"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles/status"] },
      ],
      missing: [],
    },
    {
      name: "requested star needs owner star",
      owner: [
        {
          verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
          apiGroups: [""],
          resources: ["pods"],
        },
      ],
      requested: [{ verbs: ["*"], apiGroups: [""], resources: ["pods"] }],
      missing: [{ verbs: ["*"], apiGroups: [""], resources: ["pods"] }],
    },
    {
      name: "*/scale covers a named scale subresource",
      owner: [{ verbs: ["update"], apiGroups: ["apps"], resources: ["*/scale"] }],
      requested: [{ verbs: ["update"], apiGroups: ["apps"], resources: ["deployments/scale"] }],
      missing: [],
    },
    {
      name: "unrestricted owner covers named requests, not the reverse",
      owner: [
        { verbs: ["get"], apiGroups: [""], resources: ["configmaps"] },
        { verbs: ["update"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
      ],
      requested: [
        { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["x"] },
        { verbs: ["update"], apiGroups: [""], resources: ["configmaps"] },
      ],
      missing: [{ verbs: ["update"], apiGroups: [""], resources: ["configmaps"] }],
    },
    {
      name: "non-resource URL prefix",
      owner: [{ verbs: ["get"], nonResourceURLs: ["/healthz/*"] }],
      requested: [{ verbs: ["get"], nonResourceURLs: ["/healthz/etcd", "/metrics"] }],
      missing: [{ verbs: ["get"], nonResourceURLs: ["/metrics"] }],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(coversRules(c.owner, c.requested), {
        covered: c.missing.length === 0,
        missing: c.missing,
      });
    });
  }

  test("admin covers edit, edit does not cover admin", () => {
    const all = aggregateClusterRoles(defaultClusterRoles());
    const rulesOf = (n: string): Rule[] => [...(all.find((r) => r.metadata.name === n)?.rules ?? [])];
    assert.equal(coversRules(rulesOf("admin"), rulesOf("edit")).covered, true);
    const { covered, missing } = coversRules(rulesOf("edit"), rulesOf("admin"));
    assert.equal(covered, false);
    assert.ok(missing.some((r) => r.resources?.[0] === "roles"));
  });
});

// ---------------------------------------------------------------------------------------

describe("forbiddenMessage", () => {
  const alice = who("alice");
  const cases: [Attributes, string][] = [
    [
      res(alice, "list", "configmaps", { ns: "default" }),
      'User "alice" cannot list resource "configmaps" in API group "" in the namespace "default"',
    ],
    [
      res(alice, "get", "pods/log", { ns: "default", name: "p" }),
      'User "alice" cannot get resource "pods/log" in API group "" in the namespace "default"',
    ],
    [
      res(alice, "list", "clusterroles", { group: "rbac.authorization.k8s.io" }),
      'User "alice" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope',
    ],
    [url(alice, "get", "/healthz"), 'User "alice" cannot get path "/healthz"'],
    [url(who("x"), "get", "/<script>&"), 'User "x" cannot get path "/&lt;script&gt;&amp;"'],
    [url(who('a"b'), "get", "/"), 'User "a\\"b" cannot get path "/"'],
  ];
  for (const [a, want] of cases) {
    test(want, () => assert.equal(forbiddenMessage(a), want));
  }
});

describe("decisions kept per generation of the source", () => {
  // A world that changes, with a generation counter as the tenant's watch cache keeps one.
  const world = {
    clusterRoles: [cr("reader", [{ verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }])],
    roles: [] as Role[],
    roleBindings: [] as RoleBinding[],
    clusterRoleBindings: [] as ClusterRoleBinding[],
  };
  let generation = 0;
  let walks = 0;
  const base = memorySource(world);
  const source: RBACSource = {
    ...base,
    clusterRoleBindings: () => {
      walks++;
      return base.clusterRoleBindings();
    },
    generation: () => generation,
  };
  const cached = new RBACAuthorizer(source);
  const get = (u: UserInfo) => cached.authorize(res(u, "get", "configmaps", { ns: "a", name: "x" })).decision;

  test("a repeated request is answered without walking the bindings again", () => {
    assert.equal(get(jane), "NoOpinion");
    const before = walks;
    assert.equal(get(jane), "NoOpinion");
    assert.equal(walks, before);
  });

  test("a change of any RBAC object (a new generation) is seen by the next request", () => {
    world.clusterRoleBindings.push(crb("jane-reads", ref("ClusterRole", "reader"), [user("jane")]));
    generation++;
    assert.equal(get(jane), "Allow");
    world.clusterRoleBindings.length = 0;
    generation++;
    assert.equal(get(jane), "NoOpinion");
  });

  test("names and groups that would run together in a joined key stay apart", () => {
    world.clusterRoleBindings.push(crb("ab", ref("ClusterRole", "reader"), [user("a,b")]));
    generation++;
    assert.equal(get(who("a,b")), "Allow");
    assert.equal(get({ name: "a", uid: "", groups: ["b"], extra: {} }), "NoOpinion");
    assert.equal(get({ name: "a", uid: "", groups: [",b"], extra: {} }), "NoOpinion");
  });
});
