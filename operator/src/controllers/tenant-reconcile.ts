// The reconcile steps an Organization and a Project take alike, once each has its own
// prerequisites in place: the owners' Role and RoleBinding in the host namespace; serving the
// tenant (its ControlPlane, once that serves its owners as cluster-admins inside, the
// kubeconfig Secret and the one for OIDC sign-in, then a Ready status written last); on deletion, waiting for the tenant to
// go; and writing a not-ready status to look again later. Built on tenant-access.ts.

import { ensureObject, paths, type KubeObj, type Subject } from "../kube/objects.ts";
import type { StatusBuilder } from "./tenant-status.ts";
import {
  controlPlaneReadiness,
  ensureControlPlane,
  ensureKubeconfigSecret,
  ensureOIDCKubeconfigSecret,
  ensureTenantOwners,
  targetLabels,
  teardownTenant,
  tenantServer,
  writeStatus,
  type OperatorContext,
  type ReconcileResult,
  type TenantStatus,
  type TenantTarget,
} from "./tenant-access.ts";

/**
 * How long to wait before looking again at something another process is doing. A fallback:
 * what a reconcile waits for (a ControlPlane, a namespace, Projects going) wakes it through
 * the informers as soon as it changes.
 */
const waitMs = 10_000;

/** What a reconcile answers while it waits for another process. */
export interface Wait {
  readonly requeueAfterMs: number;
}

/** An Organization or a Project. */
export type TenantObj = KubeObj & { status?: TenantStatus };

/** An rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** The Role `name` with `rules` in the tenant's host namespace, bound to `subjects`. */
export async function ensureHostRole(
  ctx: OperatorContext,
  t: TenantTarget,
  name: string,
  rules: readonly PolicyRule[],
  subjects: readonly Subject[],
): Promise<void> {
  const metadata = { name, namespace: t.namespace, labels: targetLabels(t) };
  const rbac = "rbac.authorization.k8s.io";
  await ensureObject(
    ctx.host,
    paths.roles(t.namespace),
    { apiVersion: `${rbac}/v1`, kind: "Role", metadata, rules },
    ["rules"],
  );
  await ensureObject(
    ctx.host,
    paths.roleBindings(t.namespace),
    {
      apiVersion: `${rbac}/v1`,
      kind: "RoleBinding",
      metadata,
      roleRef: { apiGroup: rbac, kind: "Role", name },
      subjects,
    },
    ["subjects"],
  );
}

/** Deletes the Role `name` and its RoleBinding from the tenant's host namespace. */
export async function removeHostRole(ctx: OperatorContext, t: TenantTarget, name: string): Promise<void> {
  await ctx.host.delete(paths.roleBindings(t.namespace, name));
  await ctx.host.delete(paths.roles(t.namespace, name));
}

/**
 * Makes the tenant serve for `obj` (at `path`): its ControlPlane; once that is ready, its owners
 * inside, its kubeconfig Secret and, where it has OIDC issuers, the OIDC one. Writes `status` and answers when to look again (the
 * ControlPlane's readiness, or the kubeconfig's rotation). Events go to `obj`.
 */
export async function serveTenant(
  ctx: OperatorContext,
  path: string,
  obj: TenantObj,
  t: TenantTarget,
  status: StatusBuilder,
): Promise<ReconcileResult> {
  const { cp, outcome } = await ensureControlPlane(ctx, t);
  if (outcome !== "unchanged")
    ctx.events.event(
      obj,
      "Normal",
      outcome === "created" ? "ControlPlaneCreated" : "ControlPlaneUpdated",
      `ControlPlane ${t.controlPlaneName} ${outcome}`,
    );
  const readiness = controlPlaneReadiness(cp);
  if (!readiness.ready) {
    status.notReady("ControlPlaneReady", readiness.reason, readiness.message);
    return writeStatusAndWait(ctx, path, obj, status);
  }
  status.set("ControlPlaneReady", "True", readiness.reason, readiness.message);
  status.endpoint = tenantServer(ctx, t, cp);

  // An event for a change of owners; the first binding is part of the tenant's setup (Ready says so).
  if ((await ensureTenantOwners(ctx, t, cp)) === "updated")
    ctx.events.event(
      obj,
      "Normal",
      "OwnersSynced",
      `cluster-admin in tenant ${t.tenant} bound to ${t.owners.length} owner(s)`,
    );
  const secret = await ensureKubeconfigSecret(ctx, t, cp);
  if (secret.outcome !== "unchanged")
    ctx.events.event(
      obj,
      "Normal",
      secret.outcome === "created" ? "KubeconfigIssued" : "KubeconfigRotated",
      `kubeconfig in Secret ${t.namespace}/${t.secretName}`,
    );
  status.secretRef = { name: t.secretName, namespace: t.namespace, key: "kubeconfig" };
  const oidc = await ensureOIDCKubeconfigSecret(
    ctx,
    t,
    cp,
    obj.status?.oidcKubeconfigSecretRef !== undefined,
  );
  if (oidc !== "unchanged")
    ctx.events.event(
      obj,
      "Normal",
      oidc === "created"
        ? "OIDCKubeconfigIssued"
        : oidc === "updated"
          ? "OIDCKubeconfigUpdated"
          : "OIDCKubeconfigRemoved",
      `kubeconfig for OIDC sign-in in Secret ${t.namespace}/${t.oidcSecretName}`,
    );
  status.oidcSecretRef =
    t.oidcIssuers.length > 0
      ? { name: t.oidcSecretName, namespace: t.namespace, key: "kubeconfig" }
      : undefined;
  status.set("KubeconfigReady", "True", "KubeconfigIssued", `Secret ${t.namespace}/${t.secretName}`);
  status.set("Ready", "True", "Ready", `tenant ${t.tenant} is served at ${status.endpoint}`);
  const wasReady = obj.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  if (!wasReady) ctx.events.event(obj, "Normal", "Ready", `tenant ${t.tenant} is ready`);
  await writeStatus(ctx.host, path, obj, status.done());
  return { requeueAfterMs: Math.max(1_000, secret.rotateInMs) };
}

/** Writes `status` to `obj` (at `path`) and answers to look again after a while. */
export async function writeStatusAndWait(
  ctx: OperatorContext,
  path: string,
  obj: TenantObj,
  status: StatusBuilder,
): Promise<Wait> {
  await writeStatus(ctx.host, path, obj, status.done());
  return { requeueAfterMs: waitMs };
}

/**
 * Tears the tenant down (teardownTenant). While its ControlPlane and data are still going,
 * writes so to `obj`'s status and answers when to look again; undefined once they are gone.
 */
export async function teardownOrWait(
  ctx: OperatorContext,
  path: string,
  obj: TenantObj,
  t: TenantTarget,
  status: StatusBuilder,
): Promise<Wait | undefined> {
  if (await teardownTenant(ctx, t)) return undefined;
  status.notReady(
    "Ready",
    "Deleting",
    `waiting for ControlPlane ${t.controlPlaneName} and its data to be deleted`,
  );
  return writeStatusAndWait(ctx, path, obj, status);
}
