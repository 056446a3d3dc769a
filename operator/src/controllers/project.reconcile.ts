// The Project reconciler's logic (level-triggered; status written last). A Project `web` in the
// namespace `org-acme` is the tenant `acme:web`: the finalizer; its own owners' Role and
// RoleBinding in `org-acme` (their Project and its kubeconfig Secret, nothing else; the
// organization's owners have the namespace already); the ControlPlane `acme.web` (its policy
// narrows the organization's: the root's registry merges them); once it serves: the
// organization's and the project's owners as cluster-admins inside it, the kubeconfig
// Secret `org-acme/acme-web-kubeconfig` and, where it has OIDC issuers (its organization's
// when it inherits, and its own), `org-acme/acme-web-kubeconfig-oidc`. Deleted: its credentials and ControlPlane, then the
// finalizer. A Project outside an `org-<name>` namespace, or of no Organization, waits.

import { paths, timestamp, type KubeObj } from "../kube/objects.ts";
import type { Organization } from "./organization.reconcile.ts";
import { StatusBuilder } from "./tenant-status.ts";
import {
  addFinalizer,
  organizationOfNamespace,
  ownerSubjects,
  removeFinalizer,
  tenantTarget,
  writeStatus,
  type OperatorContext,
  type ReconcileResult,
  type TenantStatus,
  type TenantTarget,
} from "./tenant-access.ts";
import {
  ensureHostRole,
  removeHostRole,
  serveTenant,
  teardownOrWait,
  writeStatusAndWait,
} from "./tenant-reconcile.ts";

export const projectFinalizer = "tenancy.multiplane.dev/project";

export interface Project extends KubeObj {
  spec?: { displayName?: string; owners?: unknown[]; policy?: unknown };
  status?: TenantStatus;
}

/** The host Role of a project's own owners in its organization's namespace. */
export const projectOwnerRole = (project: string): string => `multiplane:project-owner:${project}`;

/** Reconciles the Project `namespace/name`. Throws to be retried with backoff. */
export async function reconcileProject(ctx: OperatorContext, key: string): Promise<ReconcileResult> {
  const [namespace = "", name = ""] = key.split("/");
  const path = paths.projects(namespace, name);
  let project = await ctx.host.read<Project>(path);
  if (project === undefined) return;
  const generation = project.metadata?.generation ?? 0;
  const status = new StatusBuilder(project, generation, timestamp(ctx.now()));
  const organization = organizationOfNamespace(namespace);
  if (organization === undefined) {
    if (project.metadata?.deletionTimestamp !== undefined)
      return removeFinalizer(ctx.host, path, project, projectFinalizer);
    status.notReady(
      "ControlPlaneReady",
      "InvalidNamespace",
      `a Project belongs in an organization's namespace org-<organization>, not ${namespace}`,
    );
    await writeStatus(ctx.host, path, project, status.done());
    return;
  }
  const org = await ctx.host.read<Organization>(paths.organizations(organization));
  const owners = ownerSubjects([...(org?.spec?.owners ?? []), ...(project.spec?.owners ?? [])]);
  const t = tenantTarget(project, organization, name, owners, project.spec?.policy, org?.spec?.policy);
  if (project.metadata?.deletionTimestamp !== undefined) return finalize(ctx, project, t);
  if (org === undefined || org.metadata?.deletionTimestamp !== undefined) {
    status.notReady(
      "ControlPlaneReady",
      "OrganizationNotReady",
      `organization ${organization} ${org === undefined ? "does not exist" : "is being deleted"}`,
    );
    return writeStatusAndWait(ctx, path, project, status);
  }
  if (!(project.metadata?.finalizers ?? []).includes(projectFinalizer)) {
    project = await addFinalizer(ctx.host, path, project, projectFinalizer);
  }
  status.tenant = t.tenant;
  await ensureProjectOwnerAccess(ctx, t, ownerSubjects(project.spec?.owners ?? []));

  return serveTenant(ctx, path, project, t, status);
}

/** The project's own owners may read and change their Project and read its kubeconfig Secret. */
async function ensureProjectOwnerAccess(
  ctx: OperatorContext,
  t: TenantTarget,
  own: ReturnType<typeof ownerSubjects>,
): Promise<void> {
  const name = projectOwnerRole(t.project ?? "");
  if (own.length === 0) return removeHostRole(ctx, t, name);
  await ensureHostRole(
    ctx,
    t,
    name,
    [
      {
        apiGroups: ["tenancy.multiplane.dev"],
        resources: ["projects"],
        resourceNames: [t.project ?? ""],
        verbs: ["get", "watch", "update", "patch", "delete"],
      },
      {
        apiGroups: [""],
        resources: ["secrets"],
        resourceNames: [t.secretName, t.oidcSecretName],
        verbs: ["get", "watch"],
      },
    ],
    own,
  );
}

async function finalize(ctx: OperatorContext, project: Project, t: TenantTarget): Promise<ReconcileResult> {
  const path = paths.projects(t.namespace, t.project);
  if (!(project.metadata?.finalizers ?? []).includes(projectFinalizer)) return;
  const wasDeleting = project.status?.conditions?.some((c) => c.type === "Ready" && c.reason === "Deleting");
  if (!wasDeleting) ctx.events.event(project, "Normal", "Deleting", `deleting tenant ${t.tenant}`);
  await removeHostRole(ctx, t, projectOwnerRole(t.project ?? ""));
  const status = new StatusBuilder(project, project.metadata?.generation ?? 0, timestamp(ctx.now()));
  const waiting = await teardownOrWait(ctx, path, project, t, status);
  if (waiting !== undefined) return waiting;
  await removeFinalizer(ctx.host, path, project, projectFinalizer);
}
