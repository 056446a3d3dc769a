// The ControlPlane resource (core.multiplane.dev/v1alpha1, cluster-scoped, served by the root
// tenant) as TypeScript reads it. Its schema lives in crds/controlplane.yaml, the one source of
// truth; these types mirror it for the registry and the reconciler.

import type { KubeObject } from "../registry/printers.ts";

export const controlPlaneGroup = "core.multiplane.dev";
export const controlPlaneVersion = "v1alpha1";
export const controlPlanePlural = "controlplanes";
export const controlPlaneKind = "ControlPlane";

/** Added on create; removed once the tenant's instance is gone and its key prefix is empty. */
export const teardownFinalizer = "core.multiplane.dev/teardown";

export const controlPlanePhases = ["Pending", "Ready", "Terminating"] as const;
export type ControlPlanePhase = (typeof controlPlanePhases)[number];

/** A webhook endpoint: an https URL and the base64 PEM bundle its certificate chains to (kube's caBundle). */
export interface WebhookEndpoint {
  readonly url: string;
  readonly caBundle?: string;
}

/** kube's structured JWT authenticator (AuthenticationConfiguration jwt[]), as the CRD holds it. */
export interface OIDCIssuerSpec {
  readonly issuer: {
    readonly url: string;
    readonly discoveryURL?: string;
    readonly audiences: readonly string[];
    readonly audienceMatchPolicy?: "MatchAny";
    readonly certificateAuthority?: string;
  };
  readonly claimMappings: {
    readonly username: { readonly claim: string; readonly prefix?: string };
    readonly groups?: { readonly claim: string; readonly prefix?: string };
    readonly uid?: { readonly claim: string };
  };
}

export interface QuotasSpec {
  readonly maxObjects?: number;
  readonly maxStorageBytes?: number;
  readonly maxRequestsInFlight?: number;
  readonly maxWatches?: number;
}

export interface ControlPlanePolicySpec {
  readonly authentication?: {
    readonly oidcIssuers?: readonly OIDCIssuerSpec[];
    readonly tokenWebhook?: WebhookEndpoint;
  };
  readonly authorization?: { readonly webhook?: WebhookEndpoint };
  readonly audit?: { readonly policy?: Record<string, unknown>; readonly webhook?: WebhookEndpoint };
  readonly quotas?: QuotasSpec;
  /** A project inherits its organization's authentication, authorization and audit (default true). */
  readonly inherit?: boolean;
}

export interface ControlPlaneSpec {
  readonly organization: string;
  readonly project?: string;
  readonly policy?: ControlPlanePolicySpec;
}

export interface ControlPlaneCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ControlPlaneStatus {
  phase?: ControlPlanePhase;
  shard?: string;
  endpoint?: string;
  conditions?: ControlPlaneCondition[];
  observedGeneration?: number;
  usage?: { objects?: number; storageBytes?: number };
}

export interface ControlPlane extends KubeObject {
  spec?: ControlPlaneSpec;
  status?: ControlPlaneStatus;
}
