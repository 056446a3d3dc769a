// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
// as stored (the fields this plugin reads; everything optional, as decoded JSON may lack any).

import type { LabelSelectorObject } from "../../endpoints/selectors/label-selector.ts";
import type { MatchCondition } from "../interface.ts";

export interface NamedRuleWithOperations {
  readonly apiGroups?: readonly string[];
  readonly apiVersions?: readonly string[];
  readonly resources?: readonly string[];
  readonly operations?: readonly string[];
  readonly scope?: string;
  readonly resourceNames?: readonly string[];
}

export interface MatchResources {
  readonly namespaceSelector?: LabelSelectorObject | null;
  readonly objectSelector?: LabelSelectorObject | null;
  readonly resourceRules?: readonly NamedRuleWithOperations[];
  readonly excludeResourceRules?: readonly NamedRuleWithOperations[];
  readonly matchPolicy?: "Exact" | "Equivalent";
}

export interface ParamKind {
  readonly apiVersion?: string;
  readonly kind?: string;
}

export interface Validation {
  readonly expression?: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly reason?: string;
}

export interface AuditAnnotation {
  readonly key?: string;
  readonly valueExpression?: string;
}

export interface Variable {
  readonly name?: string;
  readonly expression?: string;
}

export type FailurePolicy = "Fail" | "Ignore";
export type ValidationAction = "Deny" | "Warn" | "Audit";

export interface ValidatingAdmissionPolicy {
  readonly metadata?: {
    readonly name?: string;
    readonly generation?: number;
    readonly resourceVersion?: string;
  };
  readonly spec?: {
    readonly paramKind?: ParamKind | null;
    readonly matchConstraints?: MatchResources | null;
    readonly validations?: readonly Validation[];
    readonly failurePolicy?: FailurePolicy;
    readonly auditAnnotations?: readonly AuditAnnotation[];
    readonly matchConditions?: readonly MatchCondition[];
    readonly variables?: readonly Variable[];
  };
  readonly status?: Record<string, unknown>;
}

export interface ParamRef {
  readonly name?: string;
  readonly namespace?: string;
  readonly selector?: LabelSelectorObject | null;
  readonly parameterNotFoundAction?: "Allow" | "Deny";
}

export interface ValidatingAdmissionPolicyBinding {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
  readonly spec?: {
    readonly policyName?: string;
    readonly paramRef?: ParamRef | null;
    readonly matchResources?: MatchResources | null;
    readonly validationActions?: readonly ValidationAction[];
  };
}

export const admissionGroup = "admissionregistration.k8s.io";
export const policiesResource = "validatingadmissionpolicies";
export const bindingsResource = "validatingadmissionpolicybindings";
