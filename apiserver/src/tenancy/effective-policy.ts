// A tenant's effective policy, from its ControlPlane's spec.policy (and, for a project, its
// organization's): pure functions, no I/O. A project's policy is never wider than its
// organization's: quotas are the smaller of both; authentication and audit come from the
// organization only when the project inherits (the default), plus the project's own; the
// organization's authorization webhook, when inherited, is asked before the project's; the
// organization's audit webhook, when inherited, receives the project's events as its own does.

import { compileAuditPolicy } from "../audit/policy.ts";
import type { TenantAuditWebhook } from "../audit/tenant-sinks.ts";
import type { JWTAuthenticatorConfig } from "../authn/oidc.authenticator.ts";
import type { WebhookAuthorizerConfig } from "../authz/webhook.authorizer.ts";
import type { WebhookTokenOptions } from "../authn/webhook-token.authenticator.ts";
import type {
  ControlPlanePolicySpec,
  OIDCIssuerSpec,
  QuotasSpec,
  WebhookEndpoint,
} from "./controlplane.types.ts";
import type { TenantPolicy, TenantQuotas } from "./policy.ts";

/** A base64 caBundle as PEM; throws when it is not base64 of a PEM bundle. */
function pemOf(caBundle: string | undefined, field: string): string | undefined {
  if (caBundle === undefined || caBundle === "") return undefined;
  const pem = Buffer.from(caBundle, "base64").toString("utf8");
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new TypeError(`${field}: must be a base64 PEM bundle`);
  return pem;
}

const tokenWebhookOf = (w: WebhookEndpoint, field: string): WebhookTokenOptions => {
  const ca = pemOf(w.caBundle, `${field}.caBundle`);
  return { url: w.url, ...(ca !== undefined ? { certificateAuthority: ca } : {}) };
};

const authorizationWebhookOf = (w: WebhookEndpoint, field: string): WebhookAuthorizerConfig => {
  const ca = pemOf(w.caBundle, `${field}.caBundle`);
  return { url: w.url, ...(ca !== undefined ? { caPem: ca } : {}) };
};

const auditWebhookOf = (w: WebhookEndpoint, field: string): TenantAuditWebhook => {
  const ca = pemOf(w.caBundle, `${field}.caBundle`);
  return { url: w.url, ...(ca !== undefined ? { caPem: ca } : {}) };
};

const issuerOf = (i: OIDCIssuerSpec): JWTAuthenticatorConfig => ({
  issuer: {
    url: i.issuer.url,
    audiences: [...i.issuer.audiences],
    ...(i.issuer.discoveryURL !== undefined ? { discoveryURL: i.issuer.discoveryURL } : {}),
    ...(i.issuer.audienceMatchPolicy !== undefined
      ? { audienceMatchPolicy: i.issuer.audienceMatchPolicy }
      : {}),
    ...(i.issuer.certificateAuthority !== undefined
      ? { certificateAuthority: i.issuer.certificateAuthority }
      : {}),
  },
  claimMappings: {
    username: { ...i.claimMappings.username },
    ...(i.claimMappings.groups !== undefined ? { groups: { ...i.claimMappings.groups } } : {}),
    ...(i.claimMappings.uid !== undefined ? { uid: { ...i.claimMappings.uid } } : {}),
  },
});

const quotaKeys = ["maxObjects", "maxStorageBytes", "maxRequestsInFlight", "maxWatches"] as const;

/** Each limit the smaller of both (a limit only one side sets is kept). Pure. */
export function minQuotas(a: QuotasSpec | undefined, b: QuotasSpec | undefined): TenantQuotas | undefined {
  const out: { -readonly [K in keyof TenantQuotas]: TenantQuotas[K] } = {};
  for (const k of quotaKeys) {
    const values = [a?.[k], b?.[k]].filter((v): v is number => v !== undefined);
    if (values.length > 0) out[k] = Math.min(...values);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The OIDC issuers of an organization (`organization` undefined) or of a project: the
 * organization's (when the project inherits) and the project's own, an issuer URL counted once
 * (the organization's configuration wins). Pure; also the operator's, for the kubeconfig that
 * signs people in at these issuers.
 */
export function effectiveOIDCIssuers(
  own: ControlPlanePolicySpec | undefined,
  organization?: ControlPlanePolicySpec,
): OIDCIssuerSpec[] {
  const inherit = organization !== undefined && (own?.inherit ?? true);
  const issuers: OIDCIssuerSpec[] = [];
  for (const i of [
    ...((inherit ? organization.authentication?.oidcIssuers : undefined) ?? []),
    ...(own?.authentication?.oidcIssuers ?? []),
  ])
    if (!issuers.some((j) => j.issuer.url === i.issuer.url)) issuers.push(i);
  return issuers;
}

/**
 * The policy of an organization (`organization` undefined) or of a project (its own spec.policy,
 * and its organization's). Throws a TypeError naming the field when a value cannot be used
 * (a caBundle that is no PEM, an audit policy kube would refuse). Inputs are not modified.
 */
export function effectivePolicy(
  own: ControlPlanePolicySpec | undefined,
  organization?: ControlPlanePolicySpec,
): TenantPolicy {
  const project = organization !== undefined;
  const inherit = project && (own?.inherit ?? true);
  const orgIf = inherit ? organization : undefined;

  const issuers = effectiveOIDCIssuers(own, organization).map(issuerOf);
  const ownTokenWebhook = own?.authentication?.tokenWebhook;
  const orgTokenWebhook = orgIf?.authentication?.tokenWebhook;
  const tokenWebhook =
    ownTokenWebhook !== undefined
      ? tokenWebhookOf(ownTokenWebhook, "spec.policy.authentication.tokenWebhook")
      : orgTokenWebhook !== undefined
        ? tokenWebhookOf(orgTokenWebhook, "organization spec.policy.authentication.tokenWebhook")
        : undefined;

  // Authorization: both webhooks, the organization's first (its Deny stands).
  const ownAuthz = own?.authorization?.webhook;
  const orgAuthz = orgIf?.authorization?.webhook;

  // Audit: the project's own policy, else the organization's when inherited.
  const auditDoc = own?.audit?.policy ?? orgIf?.audit?.policy;
  let auditPolicy;
  if (auditDoc !== undefined) {
    try {
      auditPolicy = compileAuditPolicy({ apiVersion: "audit.k8s.io/v1", kind: "Policy", ...auditDoc });
    } catch (err) {
      throw new TypeError(`spec.policy.audit.policy: ${(err as Error).message}`, { cause: err });
    }
  }

  // Audit sinks: the organization's (when inherited) and the project's own, a URL counted once.
  const auditWebhooks: TenantAuditWebhook[] = [];
  const orgAuditWebhook = orgIf?.audit?.webhook;
  const ownAuditWebhook = own?.audit?.webhook;
  if (orgAuditWebhook !== undefined)
    auditWebhooks.push(auditWebhookOf(orgAuditWebhook, "organization spec.policy.audit.webhook"));
  if (ownAuditWebhook !== undefined && ownAuditWebhook.url !== orgAuditWebhook?.url)
    auditWebhooks.push(auditWebhookOf(ownAuditWebhook, "spec.policy.audit.webhook"));

  // Quotas: never above the organization's, whether or not the project inherits.
  const quotas = minQuotas(own?.quotas, organization?.quotas);

  return {
    ...(issuers.length > 0 ? { oidcIssuers: issuers } : {}),
    ...(tokenWebhook !== undefined ? { tokenWebhook } : {}),
    ...(ownAuthz !== undefined
      ? { authorizationWebhook: authorizationWebhookOf(ownAuthz, "spec.policy.authorization.webhook") }
      : {}),
    ...(orgAuthz !== undefined
      ? {
          inheritedAuthorizationWebhook: authorizationWebhookOf(
            orgAuthz,
            "organization spec.policy.authorization.webhook",
          ),
        }
      : {}),
    ...(auditPolicy !== undefined ? { auditPolicy } : {}),
    ...(auditWebhooks.length > 0 ? { auditWebhooks } : {}),
    ...(quotas !== undefined ? { quotas } : {}),
  };
}
