// What a tenant may configure for itself (the policy its ControlPlane will carry): its own
// OIDC issuers, an authorization webhook, and an audit policy. Read by the authentication
// stage, the tenant's authorizer union and the audit stage; never shared between tenants.

import type { AuditPolicy } from "../audit/policy.ts";
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
  /** The tenant's audit policy; the platform's default otherwise. */
  readonly auditPolicy?: AuditPolicy;
}
