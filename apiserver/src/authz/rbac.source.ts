// The RBAC index of one tenant: its Roles, ClusterRoles and bindings as the RBAC authorizer
// reads them, answered from the tenant's watch cache (no storage read per request) and
// regrouped only when an RBAC object of the tenant changed.

import { objectKey, resourcePrefix, validateSegment } from "../storage/keys.ts";
import type { TenantCache } from "../registry/watch-cache.ts";
import type { ClusterRole, ClusterRoleBinding, RBACSource, Role, RoleBinding } from "./rbac.authorizer.ts";

export const rbacGroup = "rbac.authorization.k8s.io";

const refs = {
  roles: { group: rbacGroup, resource: "roles" },
  rolebindings: { group: rbacGroup, resource: "rolebindings" },
  clusterroles: { group: rbacGroup, resource: "clusterroles" },
  clusterrolebindings: { group: rbacGroup, resource: "clusterrolebindings" },
} as const;

const isSegment = (s: string): boolean => {
  try {
    validateSegment("name", s);
    return true;
  } catch {
    return false;
  }
};

/** A resource's objects, regrouped by namespace, rebuilt when the cache says they changed. */
class Grouped<T extends { metadata: { namespace?: string | undefined } }> {
  private seen = -1;
  private byNamespace = new Map<string, T[]>();
  private all: T[] = [];

  constructor(
    private readonly cache: TenantCache,
    private readonly prefix: string,
  ) {}

  private refresh(): void {
    const changes = this.cache.changesOf(this.prefix);
    if (changes === this.seen) return;
    this.all = this.cache.list(this.prefix).map((c) => c.obj as unknown as T);
    this.byNamespace = new Map();
    for (const o of this.all) {
      const ns = o.metadata.namespace ?? "";
      let list = this.byNamespace.get(ns);
      if (list === undefined) this.byNamespace.set(ns, (list = []));
      list.push(o);
    }
    this.seen = changes;
  }

  inNamespace(namespace: string): readonly T[] {
    this.refresh();
    return this.byNamespace.get(namespace) ?? [];
  }

  everything(): readonly T[] {
    this.refresh();
    return this.all;
  }
}

/**
 * The RBACSource of a tenant instance. Called by the RBAC authorizer on every request; the
 * objects handed out are the cache's own and must not be changed.
 */
export class TenantRBACSource implements RBACSource {
  private readonly tenant: { uid: string };
  private readonly rolesIndex: Grouped<Role>;
  private readonly roleBindingsIndex: Grouped<RoleBinding>;
  private readonly clusterRolesIndex: Grouped<ClusterRole>;
  private readonly clusterRoleBindingsIndex: Grouped<ClusterRoleBinding>;

  constructor(
    private readonly cache: TenantCache,
    tenantUid: string,
  ) {
    this.tenant = { uid: tenantUid };
    const prefix = (r: { group: string; resource: string }) => resourcePrefix(this.tenant, r);
    this.rolesIndex = new Grouped(cache, prefix(refs.roles));
    this.roleBindingsIndex = new Grouped(cache, prefix(refs.rolebindings));
    this.clusterRolesIndex = new Grouped(cache, prefix(refs.clusterroles));
    this.clusterRoleBindingsIndex = new Grouped(cache, prefix(refs.clusterrolebindings));
  }

  roles(namespace: string): readonly Role[] {
    return this.rolesIndex.inNamespace(namespace);
  }

  clusterRoles(): readonly ClusterRole[] {
    return this.clusterRolesIndex.everything();
  }

  roleBindings(namespace: string): readonly RoleBinding[] {
    return this.roleBindingsIndex.inNamespace(namespace);
  }

  clusterRoleBindings(): readonly ClusterRoleBinding[] {
    return this.clusterRoleBindingsIndex.everything();
  }

  role(namespace: string, name: string): Role | undefined {
    return this.lookup(refs.roles, namespace, name) as Role | undefined;
  }

  clusterRole(name: string): ClusterRole | undefined {
    return this.lookup(refs.clusterroles, undefined, name) as ClusterRole | undefined;
  }

  /** A name no key can hold (a roleRef to "a/b") names no object: undefined, as a missing one. */
  private lookup(ref: { group: string; resource: string }, namespace: string | undefined, name: string) {
    if (!isSegment(name) || (namespace !== undefined && !isSegment(namespace))) return undefined;
    return this.cache.get(objectKey(this.tenant, ref, namespace, name))?.obj;
  }
}
