// The default ClusterRoles and ClusterRoleBindings kube-apiserver v1.32 bootstraps
// (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), limited to the resources
// Multiplane serves. The server seeds them when a tenant is created.

import type { ClusterRole, ClusterRoleBinding, Rule } from "./rbac.authorizer.ts";

const read = ["get", "list", "watch"];
const write = ["create", "update", "patch", "delete", "deletecollection"];
const readWrite = [...read, ...write];

const bootstrapLabels = { "kubernetes.io/bootstrapping": "rbac-defaults" };
const autoupdate = { "rbac.authorization.kubernetes.io/autoupdate": "true" };

export const aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin";
export const aggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit";
export const aggregateToView = "rbac.authorization.k8s.io/aggregate-to-view";

const rule = (verbs: string[], apiGroups: string[], resources: string[]): Rule => ({
  verbs,
  apiGroups,
  resources,
});
const urls = (verbs: string[], nonResourceURLs: string[]): Rule => ({ verbs, nonResourceURLs });

function clusterRole(
  name: string,
  rules: Rule[],
  extra: { labels?: Record<string, string>; aggregateFrom?: string } = {},
): ClusterRole {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name, labels: { ...bootstrapLabels, ...extra.labels }, annotations: { ...autoupdate } },
    ...(extra.aggregateFrom === undefined
      ? {}
      : { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [extra.aggregateFrom]: "true" } }] } }),
    rules,
  };
}

/**
 * Fresh copies (callers may keep or change them). admin, edit and view carry an
 * aggregationRule and no rules of their own, as upstream stores them before the
 * aggregation controller runs; pass the list through aggregateClusterRoles to fill them.
 */
export function defaultClusterRoles(): ClusterRole[] {
  return [
    clusterRole("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
    clusterRole("system:discovery", [
      urls(
        ["get"],
        [
          "/livez",
          "/readyz",
          "/healthz",
          "/version",
          "/version/",
          "/openapi",
          "/openapi/*",
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
        ],
      ),
    ]),
    clusterRole("system:public-info-viewer", [
      urls(["get"], ["/livez", "/readyz", "/healthz", "/version", "/version/"]),
    ]),
    clusterRole("system:basic-user", [
      rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
      rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ]),
    clusterRole("admin", [], { aggregateFrom: aggregateToAdmin }),
    clusterRole("edit", [], { labels: { [aggregateToAdmin]: "true" }, aggregateFrom: aggregateToEdit }),
    clusterRole("view", [], { labels: { [aggregateToEdit]: "true" }, aggregateFrom: aggregateToView }),
    clusterRole(
      "system:aggregate-to-admin",
      [
        rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
        rule(readWrite, ["rbac.authorization.k8s.io"], ["roles", "rolebindings"]),
      ],
      { labels: { [aggregateToAdmin]: "true" } },
    ),
    clusterRole(
      "system:aggregate-to-edit",
      [
        // Read on escalating resources: secrets are edit's, never view's.
        rule(read, [""], ["secrets"]),
        rule(["impersonate"], [""], ["serviceaccounts"]),
        rule(write, [""], ["configmaps", "events", "secrets", "serviceaccounts", "services"]),
        // Recent releases: events joined the write list (endpoints left it, CVE-2021-25740) and
        // token requests were added; check against v1.32's testdata/cluster-roles.yaml.
        rule(["create"], [""], ["serviceaccounts/token"]),
      ],
      { labels: { [aggregateToEdit]: "true" } },
    ),
    clusterRole(
      "system:aggregate-to-view",
      [
        rule(read, [""], ["configmaps", "serviceaccounts", "services", "services/status"]),
        rule(
          read,
          [""],
          ["events", "limitranges", "namespaces/status", "resourcequotas", "resourcequotas/status"],
        ),
        // Reading namespaces inside a namespace means reading that one namespace.
        rule(read, [""], ["namespaces"]),
      ],
      { labels: { [aggregateToView]: "true" } },
    ),
  ];
}

function clusterRoleBinding(name: string, roleName: string, groups: string[]): ClusterRoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name, labels: { ...bootstrapLabels }, annotations: { ...autoupdate } },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
    subjects: groups.map((g) => ({ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: g })),
  };
}

/** Fresh copies of upstream's default bindings for the roles above. */
export function defaultClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterRoleBinding("cluster-admin", "cluster-admin", ["system:masters"]),
    clusterRoleBinding("system:discovery", "system:discovery", ["system:authenticated"]),
    clusterRoleBinding("system:basic-user", "system:basic-user", ["system:authenticated"]),
    clusterRoleBinding("system:public-info-viewer", "system:public-info-viewer", [
      "system:authenticated",
      "system:unauthenticated",
    ]),
  ];
}
