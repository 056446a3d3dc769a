// The reconcilers: Organization and Project → tenants (ControlPlane, owners' RBAC inside and in
// the host, kubeconfig Secrets), what they share (tenant-access.ts, and the steps they take
// alike in tenant-reconcile.ts) and their status (tenant-status.ts). Wired to informers by
// ../operator.ts.
export { organizationFinalizer, reconcileOrganization, type Organization } from "./organization.reconcile.ts";
export { projectFinalizer, reconcileProject, type Project } from "./project.reconcile.ts";
export type { OperatorContext, Recorder } from "./tenant-access.ts";
