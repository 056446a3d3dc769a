// What a kind is to the server: its names, scope, verbs, subresources, how it is
// printed and what is special about it (its strategy). The built-in kinds every tenant
// serves are declared here once and shared in memory by all tenants.

import type { FieldError } from "../apierrors/status.ts";
import { defaultPrinter, printers, type KubeObject, type Printer } from "./printers.ts";
import { crdStrategy } from "./crd/crd.strategy.ts";

export interface Strategy {
  /** Whether metadata.generation is kept and bumped on changes outside metadata and status. */
  readonly generation: boolean;
  /** The kind has a status subresource: writes to the main resource keep the stored status. */
  readonly statusSubresource: boolean;
  /** Extra preparation before validation on create (may modify `obj`). */
  prepareForCreate?(obj: KubeObject): void;
  /** Extra preparation before validation on update (may modify `obj`, never `old`). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /** The kind's own validation, after the common metadata rules (`old` on update). Must not modify. */
  validate?(obj: KubeObject, old?: KubeObject): FieldError[];
  /**
   * [read] The object as decoding it from storage yields it (custom resources: pruned and
   * defaulted by the schema of the version it is stored in, as kube's storage codec does), for
   * every read: get, list, watch and the old object of an update. Called by the store and the
   * watch handler; must not modify `obj` (it is the watch cache's); may return it unchanged.
   */
  decode?(obj: KubeObject): KubeObject;
}

export interface ResourceDef {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  /** Subresources served besides the object itself: "status", "scale", "token", "finalize". */
  readonly subresources: readonly string[];
  readonly strategy: Strategy;
  readonly printer: Printer;
  /** Fields a fieldSelector may name besides metadata.name and metadata.namespace. */
  readonly selectableFields: readonly string[];
  /** Where the kind's built-in OpenAPI schema lives (component name), if any. */
  readonly schemaName?: string;
  /** A custom resource version's openAPIV3Schema. */
  readonly schema?: Record<string, unknown>;
  /**
   * A create-only kind that is answered, never stored (the access and token reviews): the
   * handler computes its status from the request (endpoints/reviews.handler.ts).
   */
  readonly review?: true;
  /** For custom resources: the CRD's UID and the version the objects are stored in. */
  readonly crd?: { readonly uid: string; readonly storageVersion: string };
}

export const allVerbs = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
] as const;

export const groupVersion = (def: { group: string; version: string }): string =>
  def.group === "" ? def.version : `${def.group}/${def.version}`;

/** `<group>/<Kind>`: the key of per-kind tables (printers, validators). */
export const kindKey = (def: { group: string; kind: string }): string => `${def.group}/${def.kind}`;

const plain: Strategy = { generation: false, statusSubresource: false };
const withStatus: Strategy = { generation: false, statusSubresource: true };
const generational: Strategy = { generation: true, statusSubresource: false };

interface BuiltinSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: string[];
  strategy?: Strategy;
  verbs?: readonly string[];
  schemaName: string;
  selectableFields?: string[];
  review?: true;
}

function builtin(spec: BuiltinSpec): ResourceDef {
  return {
    group: spec.group,
    version: spec.version,
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    namespaced: spec.namespaced,
    verbs: spec.verbs ?? allVerbs,
    subresources: spec.subresources ?? [],
    strategy: spec.strategy ?? plain,
    printer: printers[`${spec.group}/${spec.kind}`] ?? defaultPrinter,
    selectableFields: spec.selectableFields ?? [],
    schemaName: spec.schemaName,
    ...(spec.review ? { review: true } : {}),
  };
}

const authorizationGroup = "authorization.k8s.io";
const authenticationGroup = "authentication.k8s.io";

/** A review kind: create only, answered by the server (kube serves them the same way). */
const review = (group: string, kind: string, namespaced = false): ResourceDef =>
  builtin({
    group,
    version: "v1",
    kind,
    plural: `${kind.toLowerCase()}s`,
    namespaced,
    verbs: ["create"],
    schemaName: `io.k8s.api.${group.split(".")[0]}.v1.${kind}`,
    review: true,
  });

const core = "io.k8s.api.core.v1";
const rbac = "rbac.authorization.k8s.io";
const admission = "admissionregistration.k8s.io";

/** The kinds every tenant serves, shared by all tenants. */
export const builtinResources: readonly ResourceDef[] = [
  review(authenticationGroup, "TokenReview"),
  review(authenticationGroup, "SelfSubjectReview"),
  review(authorizationGroup, "SelfSubjectAccessReview"),
  review(authorizationGroup, "SelfSubjectRulesReview"),
  review(authorizationGroup, "SubjectAccessReview"),
  review(authorizationGroup, "LocalSubjectAccessReview", true),
  builtin({
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    namespaced: false,
    shortNames: ["ns"],
    subresources: ["status", "finalize"],
    strategy: withStatus,
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    schemaName: `${core}.Namespace`,
    selectableFields: ["status.phase"],
  }),
  builtin({
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    namespaced: true,
    shortNames: ["cm"],
    schemaName: `${core}.ConfigMap`,
  }),
  builtin({
    group: "",
    version: "v1",
    kind: "Secret",
    plural: "secrets",
    namespaced: true,
    schemaName: `${core}.Secret`,
    selectableFields: ["type"],
  }),
  builtin({
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    namespaced: true,
    shortNames: ["sa"],
    subresources: ["token"],
    schemaName: `${core}.ServiceAccount`,
  }),
  builtin({
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
    namespaced: true,
    shortNames: ["ev"],
    schemaName: `${core}.Event`,
    selectableFields: [
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "involvedObject.resourceVersion",
      "involvedObject.fieldPath",
      "reason",
      "reportingComponent",
      "source",
      "type",
    ],
  }),
  builtin({
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
    namespaced: true,
    shortNames: ["svc"],
    categories: ["all"],
    subresources: ["status"],
    strategy: withStatus,
    verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    schemaName: `${core}.Service`,
  }),
  builtin({
    group: "",
    version: "v1",
    kind: "ResourceQuota",
    plural: "resourcequotas",
    namespaced: true,
    shortNames: ["quota"],
    subresources: ["status"],
    strategy: withStatus,
    schemaName: `${core}.ResourceQuota`,
  }),
  builtin({
    group: "",
    version: "v1",
    kind: "LimitRange",
    plural: "limitranges",
    namespaced: true,
    shortNames: ["limits"],
    schemaName: `${core}.LimitRange`,
  }),
  builtin({
    group: "events.k8s.io",
    version: "v1",
    kind: "Event",
    plural: "events",
    namespaced: true,
    shortNames: ["ev"],
    schemaName: "io.k8s.api.events.v1.Event",
  }),
  builtin({
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    namespaced: true,
    schemaName: "io.k8s.api.coordination.v1.Lease",
  }),
  builtin({
    group: rbac,
    version: "v1",
    kind: "Role",
    plural: "roles",
    namespaced: true,
    schemaName: "io.k8s.api.rbac.v1.Role",
  }),
  builtin({
    group: rbac,
    version: "v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    namespaced: true,
    schemaName: "io.k8s.api.rbac.v1.RoleBinding",
  }),
  builtin({
    group: rbac,
    version: "v1",
    kind: "ClusterRole",
    plural: "clusterroles",
    namespaced: false,
    schemaName: "io.k8s.api.rbac.v1.ClusterRole",
  }),
  builtin({
    group: rbac,
    version: "v1",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    namespaced: false,
    schemaName: "io.k8s.api.rbac.v1.ClusterRoleBinding",
  }),
  builtin({
    group: admission,
    version: "v1",
    kind: "MutatingWebhookConfiguration",
    plural: "mutatingwebhookconfigurations",
    namespaced: false,
    categories: ["api-extensions"],
    strategy: generational,
    schemaName: "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
  }),
  builtin({
    group: admission,
    version: "v1",
    kind: "ValidatingWebhookConfiguration",
    plural: "validatingwebhookconfigurations",
    namespaced: false,
    categories: ["api-extensions"],
    strategy: generational,
    schemaName: "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
  }),
  builtin({
    group: admission,
    version: "v1",
    kind: "ValidatingAdmissionPolicy",
    plural: "validatingadmissionpolicies",
    namespaced: false,
    categories: ["api-extensions"],
    subresources: ["status"],
    strategy: { generation: true, statusSubresource: true },
    schemaName: "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy",
  }),
  builtin({
    group: admission,
    version: "v1",
    kind: "ValidatingAdmissionPolicyBinding",
    plural: "validatingadmissionpolicybindings",
    namespaced: false,
    categories: ["api-extensions"],
    strategy: generational,
    schemaName: "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding",
  }),
  builtin({
    group: "apiextensions.k8s.io",
    version: "v1",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
    namespaced: false,
    shortNames: ["crd", "crds"],
    categories: ["api-extensions"],
    subresources: ["status"],
    // [crd] Defaulting, status reset and validation of CRDs (registry/crd/crd.strategy.ts).
    strategy: crdStrategy,
    schemaName: "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
  }),
];
