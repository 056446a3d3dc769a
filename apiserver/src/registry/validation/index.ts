// Validation of built-in kinds as kube-apiserver v1.32 does it: pure functions from wire JSON to
// field errors with upstream's paths, cause types and messages (field.ts builds them; invalid()
// in apierrors/status.ts turns them into the 422). One file per API group, plus names, object
// metadata and resource quantities. validatorsByKind runs a kind's rules in the order the
// generic registry does (rest.BeforeCreate / rest.BeforeUpdate).

import type { FieldError } from "../../apierrors/status.ts";
import {
  validateMutatingWebhookConfiguration,
  validateMutatingWebhookConfigurationUpdate,
  validateValidatingAdmissionPolicy,
  validateValidatingAdmissionPolicyBinding,
  validateValidatingAdmissionPolicyBindingUpdate,
  validateValidatingAdmissionPolicyUpdate,
  validateValidatingWebhookConfiguration,
  validateValidatingWebhookConfigurationUpdate,
} from "./admissionregistration.ts";
import { validateLease, validateLeaseUpdate } from "./coordination.ts";
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateCoreEvent,
  validateCoreEventUpdate,
  validateLimitRange,
  validateLimitRangeUpdate,
  validateNamespace,
  validateNamespaceUpdate,
  validateResourceQuota,
  validateResourceQuotaUpdate,
  validateSecret,
  validateSecretUpdate,
  validateService,
  validateServiceAccount,
  validateServiceAccountUpdate,
  validateServiceUpdate,
} from "./core.ts";
import { validateEvent, validateEventUpdate } from "./events.ts";
import { pathSegmentName } from "./names.ts";
import { validateObjectMetaCreate, validateObjectMetaUpdate } from "./object-meta.ts";
import {
  validateClusterRole,
  validateClusterRoleBinding,
  validateClusterRoleBindingUpdate,
  validateClusterRoleUpdate,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
  validateRoleUpdate,
} from "./rbac.ts";

/**
 * A kind's validation. Called by the registry after defaulting and prepare-for-create/update,
 * before validating admission and storage; neither function changes its arguments. An empty
 * list means valid.
 *
 * `update` returns what kube's causes hold, which can name the same problem twice (the common
 * metadata checks and the kind's own update checks both run); kube's 422 message lists each
 * distinct `field: detail` once (see uniqueErrors).
 */
export interface KindValidator {
  create(obj: Record<string, unknown>): FieldError[];
  update(obj: Record<string, unknown>, old: Record<string, unknown>): FieldError[];
}

type Create = (obj: unknown) => FieldError[];
type Update = (obj: unknown, old: unknown) => FieldError[];

/**
 * Builds a kind's validator around its strategy functions.
 * Create (rest.BeforeCreate): the kind's rules; only when they pass, the generic metadata rules
 * (path-segment names), so that the kind's more specific messages win.
 * Update (rest.BeforeUpdate): the generic metadata rules for create and update, then the kind's.
 */
function kind(namespaced: boolean, create: Create, update: Update): KindValidator {
  const generic = { namespaced, nameValidator: pathSegmentName };
  return {
    create(obj) {
      const errs = create(obj);
      return errs.length > 0 ? errs : validateObjectMetaCreate(obj.metadata, generic);
    },
    update(obj, old) {
      return [
        ...validateObjectMetaCreate(obj.metadata, generic),
        ...validateObjectMetaUpdate(obj.metadata, old.metadata),
        ...update(obj, old),
      ];
    },
  };
}

const rbac = "rbac.authorization.k8s.io";
const admission = "admissionregistration.k8s.io";

/** The validators of the built-in kinds, by `<group>/<Kind>` ("/ConfigMap" for the core group). */
export const validatorsByKind: Readonly<Record<string, KindValidator>> = {
  "/ConfigMap": kind(true, validateConfigMap, validateConfigMapUpdate),
  "/Secret": kind(true, validateSecret, validateSecretUpdate),
  "/Namespace": kind(false, validateNamespace, validateNamespaceUpdate),
  "/ServiceAccount": kind(true, validateServiceAccount, validateServiceAccountUpdate),
  "/Event": kind(true, validateCoreEvent, validateCoreEventUpdate),
  "/Service": kind(true, validateService, validateServiceUpdate),
  "/ResourceQuota": kind(true, validateResourceQuota, validateResourceQuotaUpdate),
  "/LimitRange": kind(true, validateLimitRange, validateLimitRangeUpdate),
  "events.k8s.io/Event": kind(true, validateEvent, validateEventUpdate),
  "coordination.k8s.io/Lease": kind(true, validateLease, validateLeaseUpdate),
  [`${rbac}/Role`]: kind(true, validateRole, validateRoleUpdate),
  [`${rbac}/ClusterRole`]: kind(false, validateClusterRole, validateClusterRoleUpdate),
  [`${rbac}/RoleBinding`]: kind(true, validateRoleBinding, validateRoleBindingUpdate),
  [`${rbac}/ClusterRoleBinding`]: kind(false, validateClusterRoleBinding, validateClusterRoleBindingUpdate),
  [`${admission}/MutatingWebhookConfiguration`]: kind(
    false,
    validateMutatingWebhookConfiguration,
    validateMutatingWebhookConfigurationUpdate,
  ),
  [`${admission}/ValidatingWebhookConfiguration`]: kind(
    false,
    validateValidatingWebhookConfiguration,
    validateValidatingWebhookConfigurationUpdate,
  ),
  [`${admission}/ValidatingAdmissionPolicy`]: kind(
    false,
    validateValidatingAdmissionPolicy,
    validateValidatingAdmissionPolicyUpdate,
  ),
  [`${admission}/ValidatingAdmissionPolicyBinding`]: kind(
    false,
    validateValidatingAdmissionPolicyBinding,
    validateValidatingAdmissionPolicyBindingUpdate,
  ),
};

export { ErrorType, Path, uniqueErrors } from "./field.ts";
export { decodeBase64Std } from "./go-encoding.ts";
export * from "./names.ts";
export {
  validateAnnotations,
  validateFinalizers,
  validateLabelSelector,
  validateLabels,
  validateManagedFields,
  validateObjectMetaCreate,
  validateObjectMetaUpdate,
  validateOwnerReferences,
  type ObjectMetaOptions,
} from "./object-meta.ts";
export * from "./quantity.ts";
export * from "./core.ts";
export * from "./rbac.ts";
export { validateLease, validateLeaseUpdate } from "./coordination.ts";
export { validateEvent, validateEventUpdate } from "./events.ts";
export * from "./admissionregistration.ts";
