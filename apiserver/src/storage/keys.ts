// The one module that builds storage keys. Layout, tenant first:
//
//   /<root>/tenants/<tenant-uid>/<group>/<resource>/[<namespace>/]<name>
//
// Isolation between tenants rests on three invariants kept here, and only here:
//  1. No key or prefix without a tenant: every builder throws when the tenant is
//     missing. A key built without one would land in (or list across) every
//     tenant's data, the corruption kcp's shape-invariant filter guards against.
//  2. No segment can escape its place: a name with "/", ".", ".." or control
//     characters is refused, so `a/../b` can never address tenant `b`.
//  3. Every prefix ends with "/", so the prefix of tenant `a` never matches `ab`.
//
// Keys and prefixes are branded types: storage accepts nothing else, so a key
// can only come from here.

import { invalidArgument } from "./errors.ts";

declare const keyBrand: unique symbol;
declare const prefixBrand: unique symbol;

/** A full object key, built by {@link objectKey}. */
export type StorageKey = string & { readonly [keyBrand]: true };
/** A key prefix ending in "/", built by {@link tenantPrefix} or {@link resourcePrefix}. */
export type StoragePrefix = string & { readonly [prefixBrand]: true };

/** The tenant a key belongs to: its ControlPlane UID, never its name. */
export interface TenantRef {
  readonly uid: string;
}

/** Where a kind lives: `group` is "" for the core group (written `core`). */
export interface ResourceRef {
  readonly group: string;
  readonly resource: string;
}

export const defaultRoot = "multiplane";

// Control characters, "/", "%" (a percent-encoded "/" would decode into one) and the dot segments.
// eslint-disable-next-line no-control-regex
const forbidden = /[/%\u0000-\u001f\u007f]/;

/** Throws unless `value` can stand as one path segment of a key. */
export function validateSegment(what: string, value: string | undefined): string {
  if (value === undefined || value === "") throw invalidArgument(`storage key: ${what} is empty`);
  if (value === "." || value === "..") throw invalidArgument(`storage key: ${what} may not be "${value}"`);
  if (forbidden.test(value)) {
    throw invalidArgument(
      `storage key: ${what} ${JSON.stringify(value)} may not contain "/", "%" or control characters`,
    );
  }
  return value;
}

function requireTenant(tenant: TenantRef | undefined | null): string {
  if (tenant === undefined || tenant === null) {
    throw invalidArgument("storage key: no tenant; refusing to build a key outside every tenant");
  }
  return validateSegment("tenant uid", tenant.uid);
}

/** `/<root>/tenants/` — the parent of every tenant; for maintenance only (listing tenants' prefixes). */
export function tenantsPrefix(root = defaultRoot): StoragePrefix {
  return `/${validateSegment("root", root)}/tenants/` as StoragePrefix;
}

/** `/<root>/tenants/<uid>/` — everything a tenant stores. */
export function tenantPrefix(tenant: TenantRef, root = defaultRoot): StoragePrefix {
  return `${tenantsPrefix(root)}${requireTenant(tenant)}/` as StoragePrefix;
}

/**
 * `/<root>/tenants/<uid>/<group>/<resource>/` or, with a namespace,
 * `/<root>/tenants/<uid>/<group>/<resource>/<namespace>/`.
 */
export function resourcePrefix(
  tenant: TenantRef,
  ref: ResourceRef,
  namespace?: string,
  root = defaultRoot,
): StoragePrefix {
  const group = ref.group === "" ? "core" : validateSegment("group", ref.group);
  let prefix = `${tenantPrefix(tenant, root)}${group}/${validateSegment("resource", ref.resource)}/`;
  if (namespace !== undefined) prefix += `${validateSegment("namespace", namespace)}/`;
  return prefix as StoragePrefix;
}

/** The key of one object; `namespace` is undefined for cluster-scoped kinds. */
export function objectKey(
  tenant: TenantRef,
  ref: ResourceRef,
  namespace: string | undefined,
  name: string,
  root = defaultRoot,
): StorageKey {
  return `${resourcePrefix(tenant, ref, namespace, root)}${validateSegment("name", name)}` as StorageKey;
}

/** True when `key` lies under `prefix` (prefixes end in "/", so this is a segment-exact check). */
export function isUnder(key: string, prefix: StoragePrefix): boolean {
  return key.startsWith(prefix);
}

/** The first key after every key that starts with `prefix` (etcd's range end for a prefix). */
export function prefixEnd(prefix: string): string {
  // Prefixes end with "/" (0x2f); "/"+1 is "0". No carry can occur.
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
