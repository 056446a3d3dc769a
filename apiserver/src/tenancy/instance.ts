// A tenant instance: what a shard holds for one tenant while it is active — its watch
// cache (fed by the tenant's one storage watch) and its resource index (the shared
// built-in kinds plus the tenant's own CRDs). Everything here can be rebuilt from storage.

import { randomUUID } from "node:crypto";
import type { Storage } from "../storage/interface.ts";
import { objectKey, resourcePrefix, type StorageKey } from "../storage/keys.ts";
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
    const webhook = tenant.policy?.authorizationWebhook;
    this.authorizer = unionAuthorizer([
      privilegedGroups(),
      this.rbac,
      ...(webhook !== undefined ? [new WebhookAuthorizer(webhook)] : []),
    ]);
  }

  async start(): Promise<void> {
    await this.bootstrap();
    await this.cache.start();
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

  /**
   * Creates what every tenant starts with, when absent: the system namespaces with their
   * default ServiceAccounts, and kube's default ClusterRoles (aggregated) and bindings.
   */
  private async bootstrap(): Promise<void> {
    const tenantRef = { uid: this.tenant.uid };
    const now = nowTimestamp();
    const create = async (key: StorageKey, obj: object): Promise<void> => {
      try {
        await this.storage.create(key, Buffer.from(JSON.stringify(obj)));
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
    await Promise.all([
      ...aggregateClusterRoles(defaultClusterRoles()).map((r) =>
        create(objectKey(tenantRef, clusterRolesRef, undefined, r.metadata.name), {
          ...r,
          metadata: meta(r.metadata),
        }),
      ),
      ...defaultClusterRoleBindings().map((b) =>
        create(objectKey(tenantRef, clusterRoleBindingsRef, undefined, b.metadata.name), {
          ...b,
          metadata: meta(b.metadata),
        }),
      ),
    ]);
  }
}

/** Builds tenant instances on first use and drops them when their cache fails. */
export class TenantManager {
  private readonly tenants = new Map<string, Tenant>([[rootTenant.name, rootTenant]]);
  private readonly instances = new Map<string, Promise<TenantInstance>>();

  constructor(
    private readonly storage: Storage,
    private readonly tokenSigning?: TokenSigning,
    private readonly observeAdmission?: AdmissionObserver,
  ) {}

  /** Registers a tenant (until the ControlPlane registry does it). */
  addTenant(tenant: Tenant): void {
    this.tenants.set(tenant.name, tenant);
  }

  lookup(name: string): Tenant | undefined {
    return this.tenants.get(name);
  }

  instance(tenant: Tenant): Promise<TenantInstance> {
    let p = this.instances.get(tenant.uid);
    if (p === undefined) {
      const inst = new TenantInstance(
        tenant,
        this.storage,
        () => this.instances.delete(tenant.uid),
        this.tokenSigning,
        this.observeAdmission,
      );
      p = inst.start().then(() => inst);
      p.catch(() => this.instances.delete(tenant.uid));
      this.instances.set(tenant.uid, p);
    }
    return p;
  }

  async close(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.allSettled(all.map(async (p) => (await p).stop()));
  }
}
