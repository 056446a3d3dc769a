// What the Organization and Project reconcilers share: one tenant (an organization `acme` or a
// project `acme:web`) made real through the Kubernetes API — its ControlPlane in Multiplane's
// root, its owners as cluster-admins inside it, its admin kubeconfig Secret in the host and,
// where it has OIDC issuers, the kubeconfig Secret for people who sign in there — and taken
// apart again on deletion. Each step is idempotent and reads (from the informers' caches where
// it can) before it writes, so an unchanged object costs no request; callers write their
// object's status last.

import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { JwtIssuer } from "../../../apiserver/src/authn/jwt-keys.ts";
import type {
  ControlPlanePolicySpec,
  OIDCIssuerSpec,
} from "../../../apiserver/src/tenancy/controlplane.types.ts";
import { effectiveOIDCIssuers } from "../../../apiserver/src/tenancy/effective-policy.ts";
import type { ApiClient } from "../kube/api.client.ts";
import { isStatus } from "../kube/api.client.ts";
import {
  createUnlessExists,
  ensureObject,
  paths,
  type Condition,
  type EnsureOutcome,
  type KubeObj,
  type Subject,
} from "../kube/objects.ts";
import {
  kubeconfigUser,
  mintTenantToken,
  tokenKubeconfig,
  type TenantClients,
  type TenantRef,
} from "../kube/tenant-credentials.ts";
import { oidcKubeconfig } from "../kube/oidc-kubeconfig.ts";
import type { WrittenMemo } from "../kube/written-memo.ts";

/** Kubernetes Events on reconciled objects (the runtime's EventRecorder fits). */
export interface Recorder {
  event(obj: KubeObj, type: "Normal" | "Warning", reason: string, message: string): void;
}

/** Everything a reconcile needs; built once by startOperator (or a test). Never changed by reconciles. */
export interface OperatorContext {
  /** Where Organizations, Projects, their namespaces, Secrets and host RBAC live. */
  readonly host: ApiClient;
  /** Multiplane's root control plane: the ControlPlanes. */
  readonly root: ApiClient;
  /** Signs the kubeconfigs' tokens. */
  readonly issuer: JwtIssuer;
  /** The operator's own access to each tenant. */
  readonly tenants: TenantClients;
  /** What the operator last made objects inside tenants hold (changed by the reconcilers' steps). */
  readonly tenantWrites: WrittenMemo;
  /** The CA tenant URLs chain to (written into kubeconfigs). */
  readonly caPem: string;
  /** The public URL tenants are reached at (`<routerURL>/clusters/<tenant>`); the ControlPlane's endpoint otherwise. */
  readonly routerURL?: string;
  /** Lifetime of the kubeconfigs' tokens; rotated after two thirds of it. */
  readonly kubeconfigTtlSeconds: number;
  readonly events: Recorder;
  readonly log: Logger;
  readonly now: () => number;
}

/** Labels on everything the operator makes for a tenant. */
export const managedByLabel = "app.kubernetes.io/managed-by";
export const managedBy = "multiplane-operator";
export const organizationLabel = "tenancy.multiplane.dev/organization";
export const projectLabel = "tenancy.multiplane.dev/project";

/** Annotations on the kubeconfig Secret: what its token was minted for, and when it expires. */
const annotations = {
  tenantUID: "tenancy.multiplane.dev/tenant-uid",
  epoch: "tenancy.multiplane.dev/credential-epoch",
  server: "tenancy.multiplane.dev/server",
  issuedAt: "tenancy.multiplane.dev/issued-at",
  expiresAt: "tenancy.multiplane.dev/expires-at",
} as const;

/** The ClusterRoleBinding inside a tenant that makes its owners cluster-admins. */
export const ownersBindingName = "multiplane:owners";

/** One tenant as the reconcilers see it. */
export interface TenantTarget {
  /** The Organization or Project (for events). */
  readonly object: KubeObj;
  readonly organization: string;
  readonly project?: string;
  /** `acme` or `acme:web`. */
  readonly tenant: string;
  /** `acme` or `acme.web`. */
  readonly controlPlaneName: string;
  readonly policy?: unknown;
  /** Every owner with cluster-admin in the tenant (a project's: its organization's and its own). */
  readonly owners: readonly Subject[];
  /** `org-<organization>`: the kubeconfig Secret's namespace. */
  readonly namespace: string;
  readonly secretName: string;
  /** The issuers people sign in at (a project's: its organization's when it inherits, and its own). */
  readonly oidcIssuers: readonly OIDCIssuerSpec[];
  /** The Secret of the kubeconfig for those people, in `namespace`. */
  readonly oidcSecretName: string;
}

export const organizationNamespace = (organization: string): string => `org-${organization}`;

/** The organization whose namespace this is, or undefined when it is no `org-<name>`. */
export const organizationOfNamespace = (namespace: string): string | undefined =>
  namespace.startsWith("org-") && namespace.length > 4 ? namespace.slice(4) : undefined;

/**
 * The tenant of an organization, or of one of its projects (`project` given; then
 * `organizationPolicy` is its organization's spec.policy). Policies are as the CRDs validated them.
 */
export function tenantTarget(
  object: KubeObj,
  organization: string,
  project: string | undefined,
  owners: readonly Subject[],
  policy: unknown,
  organizationPolicy?: unknown,
): TenantTarget {
  const base = project === undefined ? organization : `${organization}-${project}`;
  return {
    object,
    organization,
    ...(project !== undefined ? { project } : {}),
    tenant: project === undefined ? organization : `${organization}:${project}`,
    controlPlaneName: project === undefined ? organization : `${organization}.${project}`,
    ...(policy !== undefined ? { policy } : {}),
    owners,
    namespace: organizationNamespace(organization),
    secretName: `${base}-kubeconfig`,
    oidcIssuers: effectiveOIDCIssuers(
      policy as ControlPlanePolicySpec | undefined,
      project === undefined ? undefined : ((organizationPolicy as ControlPlanePolicySpec | undefined) ?? {}),
    ),
    // Not `<base>-oidc-kubeconfig`: that is the admin kubeconfig of a project named "oidc".
    oidcSecretName: `${base}-kubeconfig-oidc`,
  };
}

/** Owners (as the CRDs hold them) as RBAC subjects, without duplicates, in a stable order. Pure. */
export function ownerSubjects(owners: readonly unknown[]): Subject[] {
  const out = new Map<string, Subject>();
  for (const o of owners) {
    const { kind, name, namespace } = (o ?? {}) as { kind?: unknown; name?: unknown; namespace?: unknown };
    if (typeof name !== "string" || name === "") continue;
    if (kind === "ServiceAccount" && typeof namespace === "string") {
      out.set(`sa/${namespace}/${name}`, { kind, name, namespace });
    } else if (kind === "User" || kind === "Group") {
      out.set(`${kind}/${name}`, { kind, name, apiGroup: "rbac.authorization.k8s.io" });
    }
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

/**
 * The credential epoch of an owner set: the kubeconfig's token carries the group
 * `multiplane:kubeconfig:<epoch>`, and only the current epoch's group is bound in the tenant,
 * so changing the owners revokes every kubeconfig handed out before at once. Pure.
 */
export function credentialEpoch(owners: readonly Subject[]): string {
  return createHash("sha256").update(JSON.stringify(owners)).digest("hex").slice(0, 12);
}

export const kubeconfigGroup = (epoch: string): string => `multiplane:kubeconfig:${epoch}`;

export interface ControlPlaneObj extends KubeObj {
  spec?: { organization?: string; project?: string; policy?: unknown };
  status?: {
    phase?: string;
    endpoint?: string;
    observedGeneration?: number;
    conditions?: Condition[];
  };
}

/** The labels of everything made for `t`. */
export const targetLabels = (t: TenantTarget): Record<string, string> => ({
  [managedByLabel]: managedBy,
  [organizationLabel]: t.organization,
  ...(t.project !== undefined ? { [projectLabel]: t.project } : {}),
});

/** Makes the tenant's ControlPlane in the root carry the target's spec. */
export async function ensureControlPlane(
  ctx: OperatorContext,
  t: TenantTarget,
): Promise<{ cp: ControlPlaneObj; outcome: EnsureOutcome }> {
  const desired: ControlPlaneObj = {
    apiVersion: "core.multiplane.dev/v1alpha1",
    kind: "ControlPlane",
    metadata: { name: t.controlPlaneName, labels: targetLabels(t) },
    spec: {
      organization: t.organization,
      ...(t.project !== undefined ? { project: t.project } : {}),
      ...(t.policy !== undefined ? { policy: t.policy } : {}),
    },
  };
  const current = await ctx.root.read<ControlPlaneObj>(paths.controlPlanes(t.controlPlaneName));
  // One being deleted (the organization was deleted and re-created at once) is left to go first.
  if (current?.metadata?.deletionTimestamp !== undefined) return { cp: current, outcome: "unchanged" };
  const { obj, outcome } = await ensureObject(ctx.root, paths.controlPlanes(), desired, ["spec"], {
    current,
  });
  return { cp: obj, outcome };
}

/** Whether the ControlPlane serves its current spec, and why not. Pure. */
export function controlPlaneReadiness(cp: ControlPlaneObj): {
  ready: boolean;
  reason: string;
  message: string;
} {
  if (cp.metadata?.deletionTimestamp !== undefined)
    return {
      ready: false,
      reason: "ControlPlaneTerminating",
      message: "the previous ControlPlane is being deleted",
    };
  const ready = cp.status?.conditions?.find((c) => c.type === "Ready");
  const current = cp.status?.observedGeneration === cp.metadata?.generation;
  if (cp.status?.phase === "Ready" && current && cp.status.endpoint !== undefined)
    return { ready: true, reason: "ControlPlaneReady", message: `served at ${cp.status.endpoint}` };
  return {
    ready: false,
    reason: ready?.status === "False" ? ready.reason : "ControlPlanePending",
    message:
      ready?.status === "False" ? ready.message : `ControlPlane ${cp.metadata?.name ?? ""} is not ready yet`,
  };
}

const refOf = (cp: ControlPlaneObj, t: TenantTarget): TenantRef => ({
  name: t.tenant,
  uid: cp.metadata?.uid ?? "",
});

/** The key of a tenant's owners' binding in ctx.tenantWrites. */
const ownersBindingKey = (cp: ControlPlaneObj): string => `${cp.metadata?.uid ?? ""}/${ownersBindingName}`;

/**
 * Binds cluster-admin inside the tenant to its owners and the current kubeconfig epoch's group.
 * No request when the operator made it so recently (ctx.tenantWrites); a tenant it knows
 * nothing of (a new one) is written without reading first.
 */
export async function ensureTenantOwners(
  ctx: OperatorContext,
  t: TenantTarget,
  cp: ControlPlaneObj,
): Promise<EnsureOutcome> {
  const subjects: Subject[] = [
    ...t.owners,
    {
      kind: "Group",
      name: kubeconfigGroup(credentialEpoch(t.owners)),
      apiGroup: "rbac.authorization.k8s.io",
    },
  ];
  const key = ownersBindingKey(cp);
  const content = JSON.stringify(subjects);
  if (ctx.tenantWrites.holds(key, content)) return "unchanged";
  const tenant = await ctx.tenants.client(refOf(cp, t), cp.status?.endpoint ?? "");
  const { outcome } = await ensureObject(
    tenant,
    paths.clusterRoleBindings(),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: ownersBindingName, labels: { [managedByLabel]: managedBy } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects,
    },
    ["subjects"],
    ctx.tenantWrites.knows(key) ? undefined : { current: undefined },
  );
  ctx.tenantWrites.set(key, content);
  return outcome;
}

/** The URL a tenant's users reach it at. */
export const tenantServer = (ctx: OperatorContext, t: TenantTarget, cp: ControlPlaneObj): string =>
  ctx.routerURL !== undefined
    ? `${ctx.routerURL.replace(/\/+$/, "")}/clusters/${t.tenant}`
    : (cp.status?.endpoint ?? "");

/**
 * Makes the admin kubeconfig Secret hold a token for the tenant's current UID, owner epoch and
 * URL, minted anew after two thirds of its life. Answers what it did and when to look again.
 */
export async function ensureKubeconfigSecret(
  ctx: OperatorContext,
  t: TenantTarget,
  cp: ControlPlaneObj,
): Promise<{ outcome: EnsureOutcome; rotateInMs: number }> {
  const uid = cp.metadata?.uid ?? "";
  const epoch = credentialEpoch(t.owners);
  const server = tenantServer(ctx, t, cp);
  const now = ctx.now();
  const path = paths.secrets(t.namespace, t.secretName);
  /** When the Secret's token is to be minted anew; undefined when it is not for this tenant now. */
  const rotateAtOf = (secret: SecretObj | undefined): number | undefined => {
    const a = secret?.metadata?.annotations ?? {};
    const issuedAt = Date.parse(a[annotations.issuedAt] ?? "");
    const expiresAt = Date.parse(a[annotations.expiresAt] ?? "");
    const rotateAt = issuedAt + ((expiresAt - issuedAt) * 2) / 3;
    const fresh =
      secret?.data?.["kubeconfig"] !== undefined &&
      a[annotations.tenantUID] === uid &&
      a[annotations.epoch] === epoch &&
      a[annotations.server] === server &&
      Number.isFinite(rotateAt) &&
      now < rotateAt;
    return fresh ? rotateAt : undefined;
  };
  let current = await ctx.host.read<SecretObj>(path);
  const rotateAt = rotateAtOf(current);
  if (rotateAt !== undefined) return { outcome: "unchanged", rotateInMs: rotateAt - now };
  const rotateInMs = (ctx.kubeconfigTtlSeconds * 1000 * 2) / 3;
  const desired = await kubeconfigSecret(ctx, t, cp, server, epoch, now);
  if (current === undefined) {
    if ((await createUnlessExists(ctx.host, paths.secrets(t.namespace), desired)) !== undefined)
      return { outcome: "created", rotateInMs };
    // The cache was behind: the API's Secret may well be fresh.
    current = await ctx.host.get<SecretObj>(path);
    const liveRotateAt = rotateAtOf(current);
    if (liveRotateAt !== undefined) return { outcome: "unchanged", rotateInMs: liveRotateAt - now };
  }
  const { outcome } = await ensureObject(ctx.host, paths.secrets(t.namespace), desired, ["type", "data"], {
    current,
  });
  return { outcome, rotateInMs };
}

type SecretObj = KubeObj & { data?: Record<string, string> };

/** The kubeconfig Secret of `t` with a newly minted token. */
async function kubeconfigSecret(
  ctx: OperatorContext,
  t: TenantTarget,
  cp: ControlPlaneObj,
  server: string,
  epoch: string,
  now: number,
): Promise<SecretObj> {
  const token = await mintTenantToken(
    ctx.issuer,
    refOf(cp, t),
    { name: kubeconfigUser, groups: [kubeconfigGroup(epoch)] },
    ctx.kubeconfigTtlSeconds,
  );
  const kubeconfig = tokenKubeconfig({
    name: t.tenant.replace(":", "-"),
    server,
    caPem: ctx.caPem,
    token,
    user: kubeconfigUser,
  });
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: t.secretName,
      namespace: t.namespace,
      labels: targetLabels(t),
      annotations: {
        [annotations.tenantUID]: cp.metadata?.uid ?? "",
        [annotations.epoch]: epoch,
        [annotations.server]: server,
        [annotations.issuedAt]: new Date(now).toISOString(),
        [annotations.expiresAt]: new Date(now + ctx.kubeconfigTtlSeconds * 1000).toISOString(),
      },
    },
    type: "Opaque",
    data: { kubeconfig: Buffer.from(kubeconfig).toString("base64") },
  };
}

/**
 * Makes the Secret `oidcSecretName` hold the kubeconfig for people who sign in at the tenant's
 * OIDC issuers, or removes it when the tenant has none (`written`: whether the status says it
 * was written, so that a tenant without issuers costs no request). Answers what it did.
 */
export async function ensureOIDCKubeconfigSecret(
  ctx: OperatorContext,
  t: TenantTarget,
  cp: ControlPlaneObj,
  written: boolean,
): Promise<EnsureOutcome | "deleted"> {
  if (t.oidcIssuers.length === 0) {
    if (!written) return "unchanged";
    return (await ctx.host.delete(paths.secrets(t.namespace, t.oidcSecretName))) ? "deleted" : "unchanged";
  }
  const kubeconfig = oidcKubeconfig({
    name: t.tenant.replace(":", "-"),
    server: tenantServer(ctx, t, cp),
    caPem: ctx.caPem,
    issuers: t.oidcIssuers,
  });
  const { outcome } = await ensureObject(
    ctx.host,
    paths.secrets(t.namespace),
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: t.oidcSecretName, namespace: t.namespace, labels: targetLabels(t) },
      type: "Opaque",
      data: { kubeconfig: Buffer.from(kubeconfig).toString("base64") },
    },
    ["type", "data"],
  );
  return outcome;
}

/**
 * Takes the tenant apart: the owners' binding inside it and the kubeconfig Secret go, then the
 * ControlPlane is deleted (a deleted ControlPlane's tenant refuses every request at once, and
 * every token names its UID); the root's registry wipes its storage before the ControlPlane
 * disappears. True once nothing is left.
 */
export async function teardownTenant(ctx: OperatorContext, t: TenantTarget): Promise<boolean> {
  const cp = await ctx.root.get<ControlPlaneObj>(paths.controlPlanes(t.controlPlaneName));
  if (cp !== undefined && cp.metadata?.deletionTimestamp === undefined) {
    if (controlPlaneReadiness(cp).ready) {
      try {
        const tenant = await ctx.tenants.client(refOf(cp, t), cp.status?.endpoint ?? "");
        await tenant.delete(paths.clusterRoleBindings(ownersBindingName));
      } catch (err) {
        // The ControlPlane's deletion below revokes every credential anyway.
        ctx.log.warn({ err, tenant: t.tenant }, "could not remove the owners' binding inside the tenant");
      }
    }
  }
  await ctx.host.delete(paths.secrets(t.namespace, t.secretName));
  await ctx.host.delete(paths.secrets(t.namespace, t.oidcSecretName));
  if (cp === undefined) return true;
  ctx.tenants.forget(refOf(cp, t));
  ctx.tenantWrites.forget(ownersBindingKey(cp));
  if (cp.metadata?.deletionTimestamp === undefined) {
    await ctx.root.delete(paths.controlPlanes(t.controlPlaneName), {
      preconditions: { uid: cp.metadata?.uid },
    });
  }
  return false;
}

/** What a reconcile answers: nothing, or when to look again. */
export type { ReconcileResult } from "../runtime/index.ts";

/** Adds `finalizer` to the object at `path` (the resourceVersion guards against lost writes). */
export async function addFinalizer<T extends KubeObj>(
  client: ApiClient,
  path: string,
  obj: T,
  finalizer: string,
): Promise<T> {
  return client.request<T>(
    "PATCH",
    path,
    {
      metadata: {
        finalizers: [...(obj.metadata?.finalizers ?? []), finalizer],
        resourceVersion: obj.metadata?.resourceVersion,
      },
    },
    "application/merge-patch+json",
  );
}

/** Removes `finalizer` from the object at `path`; a vanished object is no error. */
export async function removeFinalizer(
  client: ApiClient,
  path: string,
  obj: KubeObj,
  finalizer: string,
): Promise<void> {
  try {
    await client.request(
      "PATCH",
      path,
      {
        metadata: {
          finalizers: (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer),
          resourceVersion: obj.metadata?.resourceVersion,
        },
      },
      "application/merge-patch+json",
    );
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
}

/** The status an Organization or Project is given. */
export interface TenantStatus {
  observedGeneration?: number;
  tenant?: string;
  endpoint?: string;
  kubeconfigSecretRef?: SecretKeyRef;
  oidcKubeconfigSecretRef?: SecretKeyRef;
  conditions?: Condition[];
}

/** Where a kubeconfig is: a Secret's key. */
export interface SecretKeyRef {
  name: string;
  namespace: string;
  key: string;
}

/** Writes `status` to the object's status subresource when it differs from what it holds. */
export async function writeStatus(
  client: ApiClient,
  path: string,
  obj: KubeObj & { status?: TenantStatus },
  status: TenantStatus,
): Promise<void> {
  if (isDeepStrictEqual(obj.status ?? {}, status)) return;
  // A merge patch keeps what it does not name: a field gone from `status` is patched to null.
  const patch: Record<string, unknown> = { ...status };
  for (const field of Object.keys(obj.status ?? {})) if (!(field in status)) patch[field] = null;
  try {
    // A merge patch: no resourceVersion to conflict on; the next reconcile corrects a stale one.
    await client.request("PATCH", `${path}/status`, { status: patch }, "application/merge-patch+json");
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
}
