// Tenant names and ControlPlane object names, and the one mapping between them. A tenant is
// an organization `acme` or a project `acme:web`; a Kubernetes object name cannot hold ":", so
// the ControlPlane of project `web` in `acme` is named `acme.web` (a DNS subdomain of two
// labels). Every other place speaks tenant names; only the ControlPlane registry converts.

import { isDNS1123Label } from "../registry/validation/names.ts";

/** The tenant every shard always serves; no ControlPlane may take its name. */
export const rootTenantName = "root";

/** An organization, or a project inside one. */
export interface TenantParts {
  readonly organization: string;
  readonly project?: string;
}

/** Why `parts` cannot name a tenant, or [] when it can. Pure. */
export function tenantPartsErrors(parts: TenantParts): string[] {
  const errs = isDNS1123Label(parts.organization).map((m) => `organization: ${m}`);
  if (parts.project !== undefined) errs.push(...isDNS1123Label(parts.project).map((m) => `project: ${m}`));
  if (parts.organization === rootTenantName) errs.push(`organization: "${rootTenantName}" is reserved`);
  return errs;
}

function checked(parts: TenantParts, what: string): TenantParts {
  const errs = tenantPartsErrors(parts);
  if (errs.length > 0) throw new TypeError(`invalid ${what}: ${errs.join("; ")}`);
  return parts;
}

/** `acme` → {acme}, `acme:web` → {acme, web}; throws on anything else (including `root`). */
export function parseTenantName(tenant: string): TenantParts {
  const [organization = "", project, ...rest] = tenant.split(":");
  if (rest.length > 0) throw new TypeError(`invalid tenant name "${tenant}": more than one ":"`);
  return checked(
    project === undefined ? { organization } : { organization, project },
    `tenant name "${tenant}"`,
  );
}

/** `acme.web` → {acme, web}; throws on anything else (including `root`). */
export function parseControlPlaneName(name: string): TenantParts {
  const [organization = "", project, ...rest] = name.split(".");
  if (rest.length > 0) throw new TypeError(`invalid ControlPlane name "${name}": more than one "."`);
  return checked(
    project === undefined ? { organization } : { organization, project },
    `ControlPlane name "${name}"`,
  );
}

/** The tenant name of parts already checked: `acme` or `acme:web`. */
export const tenantNameOf = (parts: TenantParts): string =>
  parts.project === undefined ? parts.organization : `${parts.organization}:${parts.project}`;

/** The ControlPlane name of parts already checked: `acme` or `acme.web`. */
export const controlPlaneNameOf = (parts: TenantParts): string =>
  parts.project === undefined ? parts.organization : `${parts.organization}.${parts.project}`;

/** `acme.web` → `acme:web`. Throws when `name` is no ControlPlane name. */
export const tenantOfControlPlane = (name: string): string => tenantNameOf(parseControlPlaneName(name));

/** `acme:web` → `acme.web`. Throws when `tenant` is no tenant name (or is the root tenant). */
export const controlPlaneOfTenant = (tenant: string): string => controlPlaneNameOf(parseTenantName(tenant));

/**
 * Why a ControlPlane's name disagrees with its spec, or undefined when it names exactly
 * `spec.organization` (and `spec.project`). Pure.
 */
export function nameMismatch(name: string, spec: TenantParts): string | undefined {
  const errs = tenantPartsErrors(spec);
  if (errs.length > 0) return errs.join("; ");
  const expected = controlPlaneNameOf(spec);
  return name === expected ? undefined : `name must be "${expected}" for this organization and project`;
}
