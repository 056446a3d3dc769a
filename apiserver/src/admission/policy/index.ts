// ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) in CEL: the validating admission
// plugin (policies and bindings read from the tenant's watch cache, compiled once per
// resourceVersion), its matching and params, and the per-tenant status controller that writes
// observedGeneration and typeChecking.

export { PolicyStatusController } from "./policy-status.controller.ts";
export { desiredStatus, reconcilePolicyStatus } from "./policy-status.reconcile.ts";
export { compilePolicy, type CompiledPolicy, type ExpressionWarning } from "./policy.compiler.ts";
export type * from "./policy.types.ts";
export {
  validatingAdmissionPolicy,
  validationFailureAnnotation,
  type ValidatingAdmissionPolicyDeps,
} from "./validating-policy.plugin.ts";
