// A tenant instance: what a shard holds for one tenant while it is active — its watch
// cache (fed by the tenant's one storage watch) and its resource index (the shared
// built-in kinds plus the tenant's own CRDs). Everything here can be rebuilt from storage.

import { randomUUID } from "node:crypto";
import type { Storage } from "../storage/interface.ts";
import { objectKey, resourcePrefix, type StorageKey, type TenantRef } from "../storage/keys.ts";
import { forbidden, notFound, type StatusError } from "../apierrors/status.ts";
import { isEstablished, resourcesOfCRD, type CRDObject } from "../registry/crd-resources.ts";
import { builtinResources, type ResourceDef } from "../registry/resources.ts";
import { TenantCache } from "../registry/watch-cache.ts";
import { nowTimestamp } from "../registry/store.ts";
import { isStorageError } from "../storage/errors.ts";
import { startTenantControllers, type TenantControllers } from "../controllers/index.ts";
// [crd] The per-tenant CRD controller (names, Established, cleanup of a deleted CRD's objects).
import { defaultControllerLogger } from "../controllers/log.ts";
import { startCRDController, type CRDController } from "../registry/crd/crd.controller.ts";
import {
  admissionChain,
  type Admission,
  type AdmissionObserver,
  type AdmissionPlugin,
} from "../admission/interface.ts";
import { evaluateMatchConditions } from "../admission/cel/index.ts";
import { validatingAdmissionPolicy } from "../admission/policy/index.ts";
import { mutatingWebhooks, validatingWebhooks } from "../admission/webhook/index.ts";
import { rbacEscalation } from "../admission/rbac-escalation.admission.ts";
import { resourceQuotaAdmission } from "../admission/resource-quota.admission.ts";
import { tenantQuotaAdmission } from "../admission/tenant-quota.admission.ts";
import {
  aggregateClusterRoles,
  defaultClusterRoleBindings,
  defaultClusterRoles,
  privilegedGroups,
  RBACAuthorizer,
  rbacGroup,
  TenantRBACSource,
  unionAuthorizer,
  WebhookAuthorizer,
  type Authorizer,
  type ClusterRole,
  type ClusterRoleBinding,
} from "../authz/index.ts";
import type { TenantPolicy } from "./policy.ts";
import type { TokenSigning } from "../controllers/serviceaccount-token.controller.ts";

export interface Tenant {
  /** `root`, `acme` or `acme:web`. */
  readonly name: string;
  /** The storage prefix's identity: the ControlPlane UID. */
  readonly uid: string;
  /** What the tenant configured for itself (authentication, authorization, audit). */
  readonly policy?: TenantPolicy;
  /** Its ControlPlane is being deleted: no request is served, no instance is built. */
  readonly terminating?: boolean;
}

export const rootTenant: Tenant = { name: "root", uid: "root" };

const crdRef = { group: "apiextensions.k8s.io", resource: "customresourcedefinitions" };
const namespacesRef = { group: "", resource: "namespaces" };
const serviceAccountsRef = { group: "", resource: "serviceaccounts" };
const clusterRolesRef = { group: rbacGroup, resource: "clusterroles" };
const clusterRoleBindingsRef = { group: rbacGroup, resource: "clusterrolebindings" };

/**
 * The admission plugins, in kube-apiserver's order, shared by every tenant of the process:
 * each reads the tenant's own configuration (webhooks, policies, quotas) from the tenant's
 * cache, so nothing here is per tenant.
 */
const admissionPlugins: readonly AdmissionPlugin[] = [
  mutatingWebhooks({ matchConditions: evaluateMatchConditions }),
  validatingAdmissionPolicy(),
  validatingWebhooks({ matchConditions: evaluateMatchConditions }),
  resourceQuotaAdmission,
  // The tenant's own objects and bytes in the shared storage (its policy's quotas).
  tenantQuotaAdmission,
  // kube checks RBAC escalation in the RBAC registry, after admission; here it is the last plugin.
  rbacEscalation,
];

/** The namespaces every tenant has. */
export const systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

export class ResourceIndex {
  private readonly byPath = new Map<string, ResourceDef>();
  readonly all: ResourceDef[];

  constructor(defs: readonly ResourceDef[]) {
    this.all = [...defs];
    for (const d of defs) this.byPath.set(`${d.group}/${d.version}/${d.plural}`, d);
  }

  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  /** Is `group/version` served at all (for 404 vs an empty resource list)? */
  servesGroupVersion(group: string, version: string): boolean {
    return this.all.some((d) => d.group === group && d.version === version);
  }
}

export class TenantInstance {
  readonly cache: TenantCache;
  /** The tenant's RBAC, read from its cache: for authorization, rules reviews and escalation checks. */
  readonly rbac: RBACAuthorizer;
  /** The authorization stage's union for this tenant: system:masters, RBAC, then its webhook if any. */
  readonly authorizer: Authorizer;
  /** The tenant's admission plugins, in kube-apiserver's order (run by the registry on writes). */
  readonly admission: Admission;
  private index: ResourceIndex = new ResourceIndex(builtinResources);
  private crdRevision = -1;
  /** The tenant's namespace controller and garbage collector (controllers/), while started. */
  private controllers: TenantControllers | undefined;
  /** [crd] The tenant's CRD controller (registry/crd/), while started. */
  private crdController: CRDController | undefined;

  constructor(
    readonly tenant: Tenant,
    readonly storage: Storage,
    onFailure: (err: Error) => void,
    /** Signs legacy ServiceAccount token Secrets (absent: none are filled in). */
    readonly tokenSigning?: TokenSigning,
    observeAdmission?: AdmissionObserver,
  ) {
    this.admission = admissionChain(admissionPlugins, observeAdmission);
    this.cache = new TenantCache(storage, { uid: tenant.uid }, undefined, (err) => {
      // A failed cache drops the instance: its controllers stop with it (no timers left behind).
      void this.controllers?.stop();
      void this.crdController?.stop(); // [crd]
      onFailure(err);
    });
    this.rbac = new RBACAuthorizer(new TenantRBACSource(this.cache, tenant.uid));
    // A project's organization's webhook first: a Deny from it stands whatever the project's says.
    const webhooks = [tenant.policy?.inheritedAuthorizationWebhook, tenant.policy?.authorizationWebhook];
    this.authorizer = unionAuthorizer([
      privilegedGroups(),
      this.rbac,
      ...webhooks.filter((w) => w !== undefined).map((w) => new WebhookAuthorizer(w)),
    ]);
  }

  async start(): Promise<void> {
    await this.cache.start();
    // What every tenant starts with, written only when missing (a re-activated tenant sends no
    // writes); the cache then holds it before the instance serves.
    const created = await bootstrapTenant(
      this.storage,
      this.tenant,
      (key) => this.cache.get(key) !== undefined,
    );
    if (created > 0) await this.cache.consistent();
    // The controllers read the cache, so they start once it holds the tenant.
    this.controllers = startTenantControllers(this);
    this.crdController = startCRDController(this, defaultControllerLogger()); // [crd]
  }

  /** Stops the controllers (waiting for their reconciles in flight), then the cache. */
  async stop(): Promise<void> {
    await this.controllers?.stop();
    await this.crdController?.stop(); // [crd]
    await this.cache.stop();
  }

  /** The tenant's resources: built-ins plus its established CRDs, rebuilt when CRDs change. */
  get resources(): ResourceIndex {
    // Called on every request: rebuilt only when a CRD changed (the cache counts changes per resource).
    const prefix = resourcePrefix({ uid: this.tenant.uid }, crdRef);
    const revision = this.cache.changesOf(prefix);
    if (revision !== this.crdRevision) {
      const custom = this.cache
        .list(prefix)
        .map((c) => c.obj as CRDObject)
        // [crd] A CRD being deleted stays served (its objects can be read and deleted) until it is
        // gone; its strategy refuses new objects (registry/crd/cr.strategy.ts).
        .filter((c) => isEstablished(c))
        .flatMap(resourcesOfCRD);
      this.index = new ResourceIndex([...builtinResources, ...custom]);
      this.crdRevision = revision;
    }
    return this.index;
  }

  key(def: { group: string; plural: string }, namespace: string | undefined, name: string): StorageKey {
    return objectKey({ uid: this.tenant.uid }, { group: def.group, resource: def.plural }, namespace, name);
  }
}

/** kube's default ClusterRoles (aggregated) and bindings: built once, shared by every tenant's bootstrap. */
let defaultRBAC:
  { readonly roles: readonly ClusterRole[]; readonly bindings: readonly ClusterRoleBinding[] } | undefined;
const defaultRBACObjects = () =>
  (defaultRBAC ??= {
    roles: aggregateClusterRoles(defaultClusterRoles()),
    bindings: defaultClusterRoleBindings(),
  });

/**
 * Creates what every tenant starts with, when absent: the system namespaces with their default
 * ServiceAccounts, and kube's default ClusterRoles (aggregated) and bindings. Idempotent. With
 * `exists` (a started cache's answer), what it knows is present is not sent at all. Answers how
 * many objects it created.
 */
export async function bootstrapTenant(
  storage: Storage,
  tenant: TenantRef,
  exists: (key: StorageKey) => boolean = () => false,
): Promise<number> {
  const tenantRef = { uid: tenant.uid };
  const now = nowTimestamp();
  let created = 0;
  const create = async (key: StorageKey, obj: object): Promise<void> => {
    if (exists(key)) return;
    try {
      await storage.create(key, Buffer.from(JSON.stringify(obj)));
      created++;
    } catch (err) {
      if (!isStorageError(err, "AlreadyExists")) throw err;
    }
  };
  await Promise.all(
    systemNamespaces.map(async (ns) => {
      await create(objectKey(tenantRef, namespacesRef, undefined, ns), {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: ns,
          uid: randomUUID(),
          creationTimestamp: now,
          labels: { "kubernetes.io/metadata.name": ns },
        },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      });
      await create(objectKey(tenantRef, serviceAccountsRef, ns, "default"), {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "default", namespace: ns, uid: randomUUID(), creationTimestamp: now },
      });
    }),
  );
  const meta = (m: { name: string }) => ({ ...m, uid: randomUUID(), creationTimestamp: now });
  const { roles, bindings } = defaultRBACObjects();
  await Promise.all([
    ...roles.map((r) =>
      create(objectKey(tenantRef, clusterRolesRef, undefined, r.metadata.name), {
        ...r,
        metadata: meta(r.metadata),
      }),
    ),
    ...bindings.map((b) =>
      create(objectKey(tenantRef, clusterRoleBindingsRef, undefined, b.metadata.name), {
        ...b,
        metadata: meta(b.metadata),
      }),
    ),
  ]);
  return created;
}

/** How long an unused tenant instance is kept before it is stopped and dropped. */
export const defaultIdleTimeoutMs = 10 * 60_000;

export interface TenantManagerOptions {
  /** An instance unused this long (no request, no open watch) is stopped and dropped; 0 never. */
  readonly idleTimeoutMs?: number;
  /** The clock (tests move it). */
  readonly now?: () => number;
}

/** One built (or starting) instance, and what keeps it alive. */
interface Entry {
  /** The registration it was built for: a replaced Tenant object means a rebuilt instance. */
  readonly tenant: Tenant;
  readonly instance: TenantInstance;
  readonly ready: Promise<TenantInstance>;
  lastUsed: number;
  /** Its start completed: its cache holds the tenant. */
  started: boolean;
  /** Open watches (and other holders): while above 0 the instance is never idle. */
  holds: number;
}

/**
 * The tenants a shard serves and their instances. Tenants are registered by the ControlPlane
 * registry (setTenant/removeTenant) or by tests (addTenant); instances are built on first use,
 * rebuilt when the registration changes (a new Tenant object: its policy changed), stopped and
 * dropped when the tenant is removed, its cache fails, or it was idle for `idleTimeoutMs`. The
 * root tenant is always registered and never evicted. Called by the handler chain, the
 * authenticators (ServiceAccount lookups) and the registry; never modifies a Tenant.
 */
export class TenantManager {
  private readonly tenants = new Map<string, Tenant>([[rootTenant.name, rootTenant]]);
  /** Instances by tenant UID (the storage identity: a re-created tenant never meets the old one). */
  private readonly entries = new Map<string, Entry>();
  /** Instances being stopped; close() waits for them. */
  private readonly stopping = new Set<Promise<void>>();
  private readonly idleTimeoutMs: number;
  private readonly now: () => number;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  /** Called once a tenant is unregistered and its instance stopped (onRemoved). */
  private readonly removedListeners = new Set<(tenant: Tenant) => void>();
  /** Called once an idle (or asked-for) eviction stopped an instance (onEvicted). */
  private readonly evictedListeners = new Set<(tenant: Tenant) => void>();

  constructor(
    private readonly storage: Storage,
    private readonly tokenSigning?: TokenSigning,
    private readonly observeAdmission?: AdmissionObserver,
    opts: TenantManagerOptions = {},
  ) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? defaultIdleTimeoutMs;
    this.now = opts.now ?? Date.now;
  }

  /** Registers or replaces a tenant without waiting for a replaced instance to stop (tests). */
  addTenant(tenant: Tenant): void {
    void this.setTenant(tenant);
  }

  /**
   * Registers or replaces a tenant. An instance built for an older registration of the same
   * UID, or for another UID under the same name, is stopped and dropped; resolves once it is.
   */
  async setTenant(tenant: Tenant): Promise<void> {
    if (tenant.name === rootTenant.name && tenant !== rootTenant)
      throw new Error("the root tenant cannot be replaced");
    const previous = this.tenants.get(tenant.name);
    this.tenants.set(tenant.name, tenant);
    const drops: Promise<void>[] = [];
    if (previous !== undefined && previous.uid !== tenant.uid) drops.push(this.drop(previous.uid));
    const entry = this.entries.get(tenant.uid);
    if (entry !== undefined && entry.tenant !== tenant) drops.push(this.drop(tenant.uid));
    await Promise.all(drops);
  }

  /** Unregisters a tenant; resolves once its instance (if any) is stopped: no watch or timer left. */
  async removeTenant(name: string): Promise<void> {
    if (name === rootTenant.name) throw new Error("the root tenant is always served");
    const tenant = this.tenants.get(name);
    if (tenant === undefined) return;
    this.tenants.delete(name);
    await this.drop(tenant.uid);
    // Unless the name was registered again meanwhile (a re-created tenant keeps its series).
    if (this.tenants.has(name)) return;
    for (const l of this.removedListeners) l(tenant);
  }

  /**
   * Calls `listener` each time a tenant is unregistered, once its instance is stopped, so what
   * the process keeps per tenant name outside the instance (metrics series, audit sinks) goes
   * too. The listener must not throw. Answers what unsubscribes it.
   */
  onRemoved(listener: (tenant: Tenant) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  /**
   * Calls `listener` with the registration an instance was built for, each time idle eviction
   * (or evict()) stopped it, so what lives as long as an active instance outside it (a tenant's
   * audit sinks) goes too. The listener must not throw. Answers what unsubscribes it.
   */
  onEvicted(listener: (tenant: Tenant) => void): () => void {
    this.evictedListeners.add(listener);
    return () => this.evictedListeners.delete(listener);
  }

  lookup(name: string): Tenant | undefined {
    return this.tenants.get(name);
  }

  /** Names of the registered tenants (the root tenant included). */
  tenantNames(): string[] {
    return [...this.tenants.keys()];
  }

  /** Names of the tenants whose instance is built or starting. */
  activeTenants(): string[] {
    return [...this.entries.values()].map((e) => e.tenant.name);
  }

  /**
   * The instance of the tenant as registered now (a request that looked up an older registration
   * gets the current one). 404 Status for a tenant no longer registered, 403 for one being deleted.
   */
  instance(tenant: Tenant): Promise<TenantInstance> {
    const current = this.tenants.get(tenant.name);
    if (this.closed || current === undefined || current.uid !== tenant.uid)
      return Promise.reject(tenantNotFound(tenant.name));
    if (current.terminating === true) return Promise.reject(tenantTerminating(current.name));
    let entry = this.entries.get(current.uid);
    if (entry !== undefined && entry.tenant !== current) {
      void this.drop(current.uid);
      entry = undefined;
    }
    entry ??= this.build(current);
    entry.lastUsed = this.now();
    return entry.ready;
  }

  /**
   * The started instance of the tenant `name` as registered now, if any; never builds one nor
   * counts as use (the usage reports of the ControlPlane registry read it).
   */
  startedInstance(name: string): TenantInstance | undefined {
    const tenant = this.tenants.get(name);
    const entry = tenant === undefined ? undefined : this.entries.get(tenant.uid);
    return entry?.started === true && entry.tenant === tenant ? entry.instance : undefined;
  }

  /**
   * Keeps an instance from idle eviction until the returned function is called (an open watch).
   * Releasing counts as use. A no-op for an instance already dropped.
   */
  retain(instance: TenantInstance): () => void {
    const entry = this.entries.get(instance.tenant.uid);
    if (entry === undefined || entry.instance !== instance) return () => {};
    entry.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.holds--;
      entry.lastUsed = this.now();
    };
  }

  /** Writes what the tenant starts with, when absent (idempotent); no instance is built. */
  async bootstrap(tenant: TenantRef): Promise<void> {
    await bootstrapTenant(this.storage, tenant);
  }

  /** Stops and drops instances idle for `idleTimeoutMs` (run by a timer; public for tests). */
  evictIdle(): void {
    const now = this.now();
    for (const [uid, e] of this.entries) {
      if (uid === rootTenant.uid || e.holds > 0) continue;
      if (now - e.lastUsed >= this.idleTimeoutMs) void this.evictEntry(uid);
    }
  }

  /**
   * Stops and drops the instance of `name` now, as idle eviction would: the tenant stays
   * registered and its next request builds the instance again. The root tenant is never
   * evicted. Resolves once the instance is stopped (for operators and benchmarks).
   */
  evict(name: string): Promise<void> {
    const tenant = this.tenants.get(name);
    if (tenant === undefined || tenant.uid === rootTenant.uid) return Promise.resolve();
    return this.evictEntry(tenant.uid);
  }

  /** Drops the instance of `uid` as an eviction: the listeners hear of it once it is stopped. */
  private async evictEntry(uid: string): Promise<void> {
    const entry = this.entries.get(uid);
    if (entry === undefined) return;
    await this.drop(uid);
    for (const l of this.evictedListeners) l(entry.tenant);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await Promise.all([...this.entries.keys()].map((uid) => this.drop(uid)));
    await Promise.allSettled([...this.stopping]);
  }

  private build(tenant: Tenant): Entry {
    const forget = (): void => {
      if (this.entries.get(tenant.uid) === entry) this.entries.delete(tenant.uid);
    };
    // A failed cache drops the instance (the next request builds a new one); only this one.
    const instance = new TenantInstance(
      tenant,
      this.storage,
      forget,
      this.tokenSigning,
      this.observeAdmission,
    );
    const entry: Entry = {
      tenant,
      instance,
      ready: instance.start().then(() => {
        entry.started = true;
        return instance;
      }),
      lastUsed: this.now(),
      started: false,
      holds: 0,
    };
    entry.ready.catch(() => {
      forget();
      void this.track(instance.stop());
    });
    this.entries.set(tenant.uid, entry);
    this.startSweeper();
    return entry;
  }

  /** Drops the instance of `uid` and resolves once it is stopped (after its start, if starting). */
  private drop(uid: string): Promise<void> {
    const entry = this.entries.get(uid);
    if (entry === undefined) return Promise.resolve();
    this.entries.delete(uid);
    return this.track(
      entry.ready.then(
        (i) => i.stop(),
        () => undefined, // a failed start is stopped by build()
      ),
    );
  }

  private track(p: Promise<void>): Promise<void> {
    const settled = p.catch(() => undefined);
    this.stopping.add(settled);
    void settled.finally(() => this.stopping.delete(settled));
    return settled;
  }

  private startSweeper(): void {
    if (this.sweeper !== undefined || this.idleTimeoutMs <= 0 || this.closed) return;
    this.sweeper = setInterval(
      () => this.evictIdle(),
      Math.max(10, Math.min(this.idleTimeoutMs / 2, 60_000)),
    );
    // It must not keep the process alive; close() clears it.
    this.sweeper.unref();
  }
}

/** The 404 of a tenant path no ControlPlane names (kube's NotFound, resource "tenants"). */
export const tenantNotFound = (name: string): StatusError =>
  notFound({ group: "", resource: "tenants" }, name);

/**
 * The 403 of a request at a tenant being deleted, as kube's NamespaceLifecycle answers for a
 * namespace being terminated: a write names its resource ("unable to create new content in …");
 * anything else names the tenant. The cause's reason is TenantTerminating (kube: NamespaceTerminating).
 */
export function tenantTerminating(
  tenant: string,
  write?: { readonly group: string; readonly resource: string; readonly name: string },
): StatusError {
  const message =
    write === undefined
      ? `tenant ${tenant} is being terminated`
      : `unable to create new content in tenant ${tenant} because it is being terminated`;
  const err = forbidden(write ?? { group: "", resource: "tenants" }, write?.name ?? tenant, message);
  err.status.details = {
    ...err.status.details,
    causes: [{ reason: "TenantTerminating", message, field: "tenant" }],
  };
  return err;
}
