// The Organization reconciler's logic (level-triggered: one path for create, update and delete;
// status written last). An Organization `acme` gets, in order: the finalizer; the namespace
// `org-acme` in the host; the owners' Role and RoleBinding there (Projects, kubeconfig Secrets,
// nothing else); the ControlPlane `acme` in Multiplane's root; once it serves: its owners as
// cluster-admins inside the tenant and the admin kubeconfig Secret `org-acme/acme-kubeconfig`,
// rotated after two thirds of its token's life, and where it has OIDC issuers the kubeconfig
// for people who sign in there, `org-acme/acme-kubeconfig-oidc`. Deleted: its Projects first, then its
// credentials and ControlPlane (whose storage the root's registry wipes), then the namespace,
// and the finalizer last.

import { ensureObject, paths, timestamp, type KubeObj } from "../kube/objects.ts";
import { StatusBuilder } from "./tenant-status.ts";
import {
  addFinalizer,
  organizationNamespace,
  ownerSubjects,
  removeFinalizer,
  targetLabels,
  tenantTarget,
  type OperatorContext,
  type ReconcileResult,
  type TenantStatus,
  type TenantTarget,
} from "./tenant-access.ts";
import { ensureHostRole, serveTenant, teardownOrWait, writeStatusAndWait } from "./tenant-reconcile.ts";

export const organizationFinalizer = "tenancy.multiplane.dev/organization";

/** The host Role an organization's owners are bound to in `org-<name>`. */
export const organizationOwnerRole = "multiplane:organization-owner";

export interface Organization extends KubeObj {
  spec?: { displayName?: string; owners?: unknown[]; policy?: unknown };
  status?: TenantStatus;
}

/** Reconciles the Organization `name`. Throws to be retried with backoff. */
export async function reconcileOrganization(ctx: OperatorContext, name: string): Promise<ReconcileResult> {
  const path = paths.organizations(name);
  let org = await ctx.host.read<Organization>(path);
  if (org === undefined) return;
  const t = tenantTarget(org, name, undefined, ownerSubjects(org.spec?.owners ?? []), org.spec?.policy);
  if (org.metadata?.deletionTimestamp !== undefined) return finalize(ctx, org, t);
  if (!(org.metadata?.finalizers ?? []).includes(organizationFinalizer)) {
    org = await addFinalizer(ctx.host, path, org, organizationFinalizer);
  }
  const generation = org.metadata?.generation ?? 0;
  const status = new StatusBuilder(org, generation, timestamp(ctx.now()));
  status.tenant = t.tenant;

  // The namespace first: one left terminating by a deleted namesake must go first.
  const { obj: ns } = await ensureObject<KubeObj>(
    ctx.host,
    paths.namespaces(),
    { apiVersion: "v1", kind: "Namespace", metadata: { name: t.namespace, labels: targetLabels(t) } },
    [],
  );
  if (ns.metadata?.deletionTimestamp !== undefined) {
    status.notReady("ControlPlaneReady", "NamespaceTerminating", `namespace ${t.namespace} is being deleted`);
    return writeStatusAndWait(ctx, path, org, status);
  }
  await ensureOwnerAccess(ctx, t);

  return serveTenant(ctx, path, org, t, status);
}

/** The owners' Role and RoleBinding in the organization's namespace. */
async function ensureOwnerAccess(ctx: OperatorContext, t: TenantTarget): Promise<void> {
  await ensureHostRole(
    ctx,
    t,
    organizationOwnerRole,
    [
      {
        apiGroups: ["tenancy.multiplane.dev"],
        resources: ["projects"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"],
      },
      { apiGroups: ["tenancy.multiplane.dev"], resources: ["projects/status"], verbs: ["get"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
    ],
    t.owners,
  );
}

/** Deletion: Projects, then the tenant, then the namespace; the finalizer last. */
async function finalize(ctx: OperatorContext, org: Organization, t: TenantTarget): Promise<ReconcileResult> {
  const path = paths.organizations(t.organization);
  if (!(org.metadata?.finalizers ?? []).includes(organizationFinalizer)) return;
  const status = new StatusBuilder(org, org.metadata?.generation ?? 0, timestamp(ctx.now()));
  const wasDeleting = org.status?.conditions?.some((c) => c.type === "Ready" && c.reason === "Deleting");
  if (!wasDeleting)
    ctx.events.event(org, "Normal", "Deleting", `deleting tenant ${t.tenant} and its projects`);

  const projects = (await ctx.host.get<{ items?: KubeObj[] }>(paths.projects(t.namespace)))?.items ?? [];
  for (const p of projects) {
    if (p.metadata?.deletionTimestamp === undefined)
      await ctx.host.delete(paths.projects(t.namespace, p.metadata?.name ?? ""));
  }
  if (projects.length > 0) {
    status.notReady("Ready", "Deleting", `waiting for ${projects.length} project(s) to be deleted`);
    return writeStatusAndWait(ctx, path, org, status);
  }
  const waiting = await teardownOrWait(ctx, path, org, t, status);
  if (waiting !== undefined) return waiting;
  const ns = await ctx.host.get<KubeObj>(paths.namespaces(organizationNamespace(t.organization)));
  if (ns !== undefined) {
    if (ns.metadata?.deletionTimestamp === undefined) await ctx.host.delete(paths.namespaces(t.namespace));
    status.notReady("Ready", "Deleting", `waiting for namespace ${t.namespace} to be deleted`);
    return writeStatusAndWait(ctx, path, org, status);
  }
  await removeFinalizer(ctx.host, path, org, organizationFinalizer);
  return;
}
