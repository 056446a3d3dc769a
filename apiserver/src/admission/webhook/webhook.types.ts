// The admissionregistration.k8s.io/v1 webhook configurations and the admission.k8s.io
// AdmissionReview as they travel in JSON. Configurations are read from the tenant's watch
// cache, where the store has validated and defaulted them; the fields are still read
// defensively, since a cache entry is only as good as what was written before validation
// existed.

import type { LabelSelectorObject } from "../../endpoints/selectors/index.ts";
import type { MatchCondition } from "../interface.ts";

export type FailurePolicy = "Fail" | "Ignore";

export type MatchPolicy = "Exact" | "Equivalent";
export type ReinvocationPolicy = "Never" | "IfNeeded";
export type SideEffectClass = "None" | "NoneOnDryRun" | "Some" | "Unknown";
export type RuleScope = "Cluster" | "Namespaced" | "*";

/** admissionregistration/v1 RuleWithOperations. */
export interface RuleWithOperations {
  readonly operations?: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly apiVersions?: readonly string[];
  readonly resources?: readonly string[];
  readonly scope?: RuleScope;
}

export interface ServiceReference {
  readonly namespace: string;
  readonly name: string;
  readonly path?: string;
  readonly port?: number;
}

/** admissionregistration/v1 WebhookClientConfig. */
export interface WebhookClientConfig {
  readonly url?: string;
  readonly service?: ServiceReference;
  /** Base64 of PEM certificates; empty means the system's trust roots. */
  readonly caBundle?: string;
}

/** The fields MutatingWebhook and ValidatingWebhook share. */
export interface WebhookSpec {
  readonly name: string;
  readonly clientConfig: WebhookClientConfig;
  readonly rules?: readonly RuleWithOperations[];
  readonly failurePolicy?: FailurePolicy;
  readonly matchPolicy?: MatchPolicy;
  readonly namespaceSelector?: LabelSelectorObject | null;
  readonly objectSelector?: LabelSelectorObject | null;
  readonly sideEffects?: SideEffectClass;
  readonly timeoutSeconds?: number;
  readonly admissionReviewVersions?: readonly string[];
  readonly matchConditions?: readonly MatchCondition[];
  /** Mutating webhooks only. */
  readonly reinvocationPolicy?: ReinvocationPolicy;
}

/** A MutatingWebhookConfiguration or ValidatingWebhookConfiguration. */
export interface WebhookConfiguration {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
  readonly webhooks?: readonly WebhookSpec[] | null;
}

/** admission/v1 AdmissionResponse as a webhook answers it (fields unchecked until verified). */
export interface AdmissionResponseWire {
  readonly uid?: unknown;
  readonly allowed?: unknown;
  readonly status?: unknown;
  readonly patch?: unknown;
  readonly patchType?: unknown;
  readonly auditAnnotations?: unknown;
  readonly warnings?: unknown;
}
