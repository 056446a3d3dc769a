// The RBAC index of one tenant: its Roles, ClusterRoles and bindings as the RBAC authorizer
// reads them, answered from the tenant's watch cache (no storage read per request) and
// regrouped only when an RBAC object of the tenant changed; bindings also indexed by the
// subjects they name, so a request reads only the bindings that may apply to its user.

import { resourcePrefix } from "../storage/keys.ts";
import type { TenantCache } from "../registry/watch-cache.ts";
import type { UserInfo } from "../authn/user.ts";
import { SubjectIndex } from "./rbac.authorizer.ts";
import type { ClusterRole, ClusterRoleBinding, RBACSource, Role, RoleBinding } from "./rbac.authorizer.ts";

export const rbacGroup = "rbac.authorization.k8s.io";

const refs = {
  roles: { group: rbacGroup, resource: "roles" },
  rolebindings: { group: rbacGroup, resource: "rolebindings" },
  clusterroles: { group: rbacGroup, resource: "clusterroles" },
  clusterrolebindings: { group: rbacGroup, resource: "clusterrolebindings" },
} as const;

/** A resource's objects, regrouped by namespace, rebuilt when the cache says they changed. */
class Grouped<T extends { metadata: { name: string; namespace?: string | undefined } }> {
  private seen = -1;
  private byNamespace = new Map<string, T[]>();
  private all: T[] = [];
  /** Bindings only: each namespace's SubjectIndex, built on first use after each rebuild. */
  private subjectIndexes = new Map<string, SubjectIndex<T & RoleBinding>>();
  /** Each namespace's objects by name, built on first use after each rebuild. */
  private byName = new Map<string, Map<string, T>>();

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
    this.subjectIndexes = new Map();
    this.byName = new Map();
    this.seen = changes;
  }

  /** Changes whenever an object of the resource changes (never goes back). */
  changes(): number {
    return this.cache.changesOf(this.prefix);
  }

  /** The object `name` of `namespace` ("" for cluster-scoped ones). */
  named(namespace: string, name: string): T | undefined {
    this.refresh();
    let names = this.byName.get(namespace);
    if (names === undefined) {
      names = new Map();
      for (const o of this.byNamespace.get(namespace) ?? []) names.set(o.metadata.name, o);
      this.byName.set(namespace, names);
    }
    return names.get(name);
  }

  /** The bindings of `namespace` ("": every cluster-scoped one) whose subjects may name `user`. */
  boundTo(this: Grouped<T & RoleBinding>, namespace: string, user: UserInfo): readonly T[] {
    this.refresh();
    let index = this.subjectIndexes.get(namespace);
    if (index === undefined) {
      index = new SubjectIndex(this.byNamespace.get(namespace) ?? [], namespace);
      this.subjectIndexes.set(namespace, index);
    }
    return index.for(user);
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

  constructor(cache: TenantCache, tenantUid: string) {
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

  /** The sum of four counters that only go up: it changes whenever one of them does. */
  generation(): number {
    return (
      this.rolesIndex.changes() +
      this.roleBindingsIndex.changes() +
      this.clusterRolesIndex.changes() +
      this.clusterRoleBindingsIndex.changes()
    );
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

  roleBindingsFor(namespace: string, user: UserInfo): readonly RoleBinding[] {
    return this.roleBindingsIndex.boundTo(namespace, user);
  }

  clusterRoleBindingsFor(user: UserInfo): readonly ClusterRoleBinding[] {
    return this.clusterRoleBindingsIndex.boundTo("", user);
  }

  role(namespace: string, name: string): Role | undefined {
    return this.rolesIndex.named(namespace, name);
  }

  clusterRole(name: string): ClusterRole | undefined {
    return this.clusterRolesIndex.named("", name);
  }
}
