// The Project reconciler's logic (level-triggered; status written last). A Project `web` in the
// namespace `org-acme` is the tenant `acme:web`: the finalizer; its own owners' Role and
// RoleBinding in `org-acme` (their Project and its kubeconfig Secret, nothing else; the
// organization's owners have the namespace already); the ControlPlane `acme.web` (its policy
// narrows the organization's: the root's registry merges them); once it serves: the
// organization's and the project's owners as cluster-admins inside it and the kubeconfig
// Secret `org-acme/acme-web-kubeconfig`. Deleted: its credentials and ControlPlane, then the
// finalizer. A Project outside an `org-<name>` namespace, or of no Organization, waits.

import { ensureObject, paths, timestamp, type KubeObj } from "../kube/objects.ts";
import type { Organization } from "./organization.reconcile.ts";
import { StatusBuilder } from "./tenant-status.ts";
import {
  addFinalizer,
  controlPlaneReadiness,
  ensureControlPlane,
  ensureKubeconfigSecret,
  ensureTenantOwners,
  organizationOfNamespace,
  ownerSubjects,
  removeFinalizer,
  targetLabels,
  teardownTenant,
  tenantServer,
  tenantTarget,
  writeStatus,
  type OperatorContext,
  type ReconcileResult,
  type TenantStatus,
  type TenantTarget,
} from "./tenant-access.ts";

export const projectFinalizer = "tenancy.multiplane.dev/project";

export interface Project extends KubeObj {
  spec?: { displayName?: string; owners?: unknown[]; policy?: unknown };
  status?: TenantStatus;
}

/** The host Role of a project's own owners in its organization's namespace. */
export const projectOwnerRole = (project: string): string => `multiplane:project-owner:${project}`;

const waitMs = 2_000;

/** Reconciles the Project `namespace/name`. Throws to be retried with backoff. */
export async function reconcileProject(ctx: OperatorContext, key: string): Promise<ReconcileResult> {
  const [namespace = "", name = ""] = key.split("/");
  const path = paths.projects(namespace, name);
  let project = await ctx.host.get<Project>(path);
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
  const org = await ctx.host.get<Organization>(paths.organizations(organization));
  const owners = ownerSubjects([...(org?.spec?.owners ?? []), ...(project.spec?.owners ?? [])]);
  const t = tenantTarget(project, organization, name, owners, project.spec?.policy);
  if (project.metadata?.deletionTimestamp !== undefined) return finalize(ctx, project, t);
  if (org === undefined || org.metadata?.deletionTimestamp !== undefined) {
    status.notReady(
      "ControlPlaneReady",
      "OrganizationNotReady",
      `organization ${organization} ${org === undefined ? "does not exist" : "is being deleted"}`,
    );
    await writeStatus(ctx.host, path, project, status.done());
    return { requeueAfterMs: waitMs };
  }
  if (!(project.metadata?.finalizers ?? []).includes(projectFinalizer)) {
    project = await addFinalizer(ctx.host, path, project, projectFinalizer);
  }
  status.tenant = t.tenant;
  await ensureProjectOwnerAccess(ctx, t, ownerSubjects(project.spec?.owners ?? []));

  const { cp, outcome } = await ensureControlPlane(ctx, t);
  if (outcome !== "unchanged")
    ctx.events.event(
      project,
      "Normal",
      outcome === "created" ? "ControlPlaneCreated" : "ControlPlaneUpdated",
      `ControlPlane ${t.controlPlaneName} ${outcome}`,
    );
  const readiness = controlPlaneReadiness(cp);
  if (!readiness.ready) {
    status.notReady("ControlPlaneReady", readiness.reason, readiness.message);
    await writeStatus(ctx.host, path, project, status.done());
    return { requeueAfterMs: waitMs };
  }
  status.set("ControlPlaneReady", "True", readiness.reason, readiness.message);
  status.endpoint = tenantServer(ctx, t, cp);
  if ((await ensureTenantOwners(ctx, t, cp)) !== "unchanged")
    ctx.events.event(
      project,
      "Normal",
      "OwnersSynced",
      `cluster-admin in tenant ${t.tenant} bound to ${t.owners.length} owner(s)`,
    );
  const secret = await ensureKubeconfigSecret(ctx, t, cp);
  if (secret.outcome !== "unchanged")
    ctx.events.event(
      project,
      "Normal",
      secret.outcome === "created" ? "KubeconfigIssued" : "KubeconfigRotated",
      `kubeconfig in Secret ${t.namespace}/${t.secretName}`,
    );
  status.secretRef = { name: t.secretName, namespace: t.namespace, key: "kubeconfig" };
  status.set("KubeconfigReady", "True", "KubeconfigIssued", `Secret ${t.namespace}/${t.secretName}`);
  status.set("Ready", "True", "Ready", `tenant ${t.tenant} is served at ${status.endpoint}`);
  const wasReady = project.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  if (!wasReady) ctx.events.event(project, "Normal", "Ready", `tenant ${t.tenant} is ready`);
  await writeStatus(ctx.host, path, project, status.done());
  return { requeueAfterMs: Math.max(1_000, secret.rotateInMs) };
}

/** The project's own owners may read and change their Project and read its kubeconfig Secret. */
async function ensureProjectOwnerAccess(
  ctx: OperatorContext,
  t: TenantTarget,
  own: ReturnType<typeof ownerSubjects>,
): Promise<void> {
  const name = projectOwnerRole(t.project ?? "");
  if (own.length === 0) {
    await ctx.host.delete(paths.roleBindings(t.namespace, name));
    await ctx.host.delete(paths.roles(t.namespace, name));
    return;
  }
  await ensureObject(
    ctx.host,
    paths.roles(t.namespace),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name, namespace: t.namespace, labels: targetLabels(t) },
      rules: [
        {
          apiGroups: ["tenancy.multiplane.dev"],
          resources: ["projects"],
          resourceNames: [t.project ?? ""],
          verbs: ["get", "watch", "update", "patch", "delete"],
        },
        { apiGroups: [""], resources: ["secrets"], resourceNames: [t.secretName], verbs: ["get", "watch"] },
      ],
    },
    ["rules"],
  );
  await ensureObject(
    ctx.host,
    paths.roleBindings(t.namespace),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace: t.namespace, labels: targetLabels(t) },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: own,
    },
    ["subjects"],
  );
}

async function finalize(ctx: OperatorContext, project: Project, t: TenantTarget): Promise<ReconcileResult> {
  const path = paths.projects(t.namespace, t.project);
  if (!(project.metadata?.finalizers ?? []).includes(projectFinalizer)) return;
  const wasDeleting = project.status?.conditions?.some((c) => c.type === "Ready" && c.reason === "Deleting");
  if (!wasDeleting) ctx.events.event(project, "Normal", "Deleting", `deleting tenant ${t.tenant}`);
  const name = projectOwnerRole(t.project ?? "");
  await ctx.host.delete(paths.roleBindings(t.namespace, name));
  await ctx.host.delete(paths.roles(t.namespace, name));
  if (!(await teardownTenant(ctx, t))) {
    const status = new StatusBuilder(project, project.metadata?.generation ?? 0, timestamp(ctx.now()));
    status.notReady(
      "Ready",
      "Deleting",
      `waiting for ControlPlane ${t.controlPlaneName} and its data to be deleted`,
    );
    await writeStatus(ctx.host, path, project, status.done());
    return { requeueAfterMs: waitMs };
  }
  await removeFinalizer(ctx.host, path, project, projectFinalizer);
}
