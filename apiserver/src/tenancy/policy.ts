// What a tenant may configure for itself (its ControlPlane's spec.policy, merged with its
// organization's for a project: effective-policy.ts): its own OIDC issuers, a TokenReview
// webhook, authorization webhooks, an audit policy and audit webhooks, and quotas. Read by the
// authentication stage, the tenant's authorizer union and the audit stage; never shared
// between tenants.
// A changed policy is a new object: the tenant's instance is rebuilt (instance.ts).

import type { AuditPolicy } from "../audit/policy.ts";
import type { TenantAuditWebhook } from "../audit/tenant-sinks.ts";
import type { JWTAuthenticatorConfig } from "../authn/oidc.authenticator.ts";
import type { WebhookAuthorizerConfig } from "../authz/webhook.authorizer.ts";
import type { WebhookTokenOptions } from "../authn/webhook-token.authenticator.ts";

export interface TenantPolicy {
  /** Issuers whose ID tokens authenticate at this tenant (kube's structured AuthenticationConfiguration jwt[]). */
  readonly oidcIssuers?: readonly JWTAuthenticatorConfig[];
  /** A TokenReview service that authenticates bearer tokens at this tenant (kube's --authentication-token-webhook-config-file). */
  readonly tokenWebhook?: WebhookTokenOptions;
  /** Asked after RBAC when RBAC has no opinion (kube's --authorization-webhook-config-file). */
  readonly authorizationWebhook?: WebhookAuthorizerConfig;
  /** A project's organization's authorization webhook, asked before the project's own (its Deny stands). */
  readonly inheritedAuthorizationWebhook?: WebhookAuthorizerConfig;
  /** The tenant's audit policy; the platform's default otherwise. */
  readonly auditPolicy?: AuditPolicy;
  /**
   * The tenant's own audit sinks, on top of the platform's log: each receives this tenant's
   * events only (audit/tenant-sinks.ts). A project's: its organization's (when it inherits), then its own.
   */
  readonly auditWebhooks?: readonly TenantAuditWebhook[];
  /** Limits of the tenant: enforced by admission (objects, bytes) and the fairness stage. */
  readonly quotas?: TenantQuotas;
}

/** A tenant's limits; absent ones limit nothing (maxRequestsInFlight: the server's default). */
export interface TenantQuotas {
  /** Objects the tenant stores, its bootstrap objects included (admission/tenant-quota.admission.ts). */
  readonly maxObjects?: number;
  /** Bytes of the tenant's stored values (admission/tenant-quota.admission.ts). */
  readonly maxStorageBytes?: number;
  /** Requests served at once, watches apart (server/fairness.ts). */
  readonly maxRequestsInFlight?: number;
  /** Watches open at once at the tenant's instance (server/fairness.ts). */
  readonly maxWatches?: number;
}
