// The generic store: create, read, update, delete and list for every kind, over the
// tenant's storage and watch cache. What differs per kind is in its ResourceDef's
// strategy; this file owns metadata, resourceVersion conflicts, finalizers and
// deletion. Order of a write: prepare → validate → storage (admission wraps it later).

import { randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import {
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  fromStorageError,
  invalid,
  notFound,
  objectModified,
  type FieldError,
  type Qualified,
} from "../apierrors/status.ts";
import type { KeyValue, ListResult } from "../storage/interface.ts";
import { isStorageError } from "../storage/errors.ts";
import { resourcePrefix, type StorageKey } from "../storage/keys.ts";
import { decodeContinue, encodeContinue } from "../storage/store.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import type { KubeObject, ObjectMeta } from "./printers.ts";
import { groupVersion, type ResourceDef } from "./resources.ts";
import { applyDefaults } from "./defaults.ts";
import { allocateClusterIP, keepClusterIP, usedClusterIPs } from "./service-ip.ts";
import { validateObject } from "./validate.ts";
import type { AdmissionAttributes, Operation } from "../admission/interface.ts";
import type { UserInfo } from "../authn/user.ts";
import { direct, type Outbound } from "../request/outbound.ts";
import { decodeStored, type CachedObject } from "./watch-cache.ts";
import { recordManagedFields } from "../endpoints/apply/managed-fields.ts";

export const qualified = (def: ResourceDef): Qualified => ({ group: def.group, resource: def.plural });

/** RFC3339 with second precision, as Kubernetes writes timestamps. */
export const nowTimestamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");

const generateNameChars = "bcdfghjklmnpqrstvwxz2456789";
function generateSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += generateNameChars[Math.floor(Math.random() * generateNameChars.length)];
  return s;
}

const clone = <T>(v: T): T => structuredClone(v);

/** Serializes an object for storage: resourceVersion is never stored (it is the mod revision). */
function encodeForStorage(obj: KubeObject): Buffer {
  const { resourceVersion: _rv, ...metadata } = obj.metadata ?? {};
  return Buffer.from(JSON.stringify({ ...obj, metadata }));
}

function withRevision(obj: KubeObject, revision: number): KubeObject {
  return { ...obj, metadata: { ...(obj.metadata ?? {}), resourceVersion: String(revision) } };
}

/**
 * The object as served at `def`'s version: decoded (custom resources: defaults of the schema it
 * is stored in), then converted (custom resources are stored in one version; None conversion).
 * Never modifies `obj`.
 */
export function servedAs(def: ResourceDef, obj: KubeObject): KubeObject {
  const decoded = def.strategy.decode?.(obj) ?? obj;
  const apiVersion = groupVersion(def);
  return decoded.apiVersion === apiVersion ? decoded : { ...decoded, apiVersion };
}

/** Fields that differ outside metadata and status: what bumps generation. */
function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  };
  return strip(a) !== strip(b);
}

export interface WriteOptions {
  dryRun: boolean;
  /**
   * [apply] The field manager of a create or update (?fieldManager= or the User-Agent's
   * prefix): the store records in metadata.managedFields what it changed. Absent (server-side
   * apply, which computes managedFields itself, and internal writers): managedFields are
   * stored as the object carries them.
   */
  fieldManager?: string;
}

export interface CreateOptions extends WriteOptions {
  /**
   * The caller hands `input` over (an object it decoded for this request and never reads
   * again): create changes it in place instead of copying it first. Absent: `input` is not
   * changed.
   */
  inputOwned?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  gracePeriodSeconds?: number;
}

/**
 * [admission] A request's admission: who writes, and where the plugins leave warnings and audit
 * annotations for the response and the audit event. Stores made without it (the tenant's own
 * controllers) write without admission.
 */
export interface RequestAdmission {
  readonly user: UserInfo;
  readonly warnings: string[];
  readonly auditAnnotations: Record<string, string>;
  /**
   * How the admission webhooks, the storage's create and delete and consistent reads' revision
   * checks are called, with the
   * request's seat given back (request/outbound.ts); directly when absent.
   */
  readonly outbound?: Outbound;
}

export class GenericStore {
  constructor(
    private readonly tenant: TenantInstance,
    readonly def: ResourceDef,
    private readonly admission?: RequestAdmission,
  ) {}

  /**
   * [admission] Runs the tenant's mutating (`admit`) or validating plugins on one write. The
   * object handed to mutating plugins is a private copy they may change; it is returned.
   */
  private async admit(
    phase: "admit" | "validate",
    operation: Operation,
    object: KubeObject | undefined,
    oldObject: KubeObject | undefined,
    name: string,
    namespace: string,
    subresource: string,
    dryRun: boolean,
  ): Promise<KubeObject | undefined> {
    if (this.admission === undefined) return object;
    const a: AdmissionAttributes = {
      instance: this.tenant,
      user: this.admission.user,
      operation,
      kind: { group: this.def.group, version: this.def.version, kind: this.def.kind },
      resource: { group: this.def.group, version: this.def.version, resource: this.def.plural },
      subresource,
      namespace: this.def.namespaced ? namespace : "",
      name,
      object,
      oldObject,
      options: {
        apiVersion: "meta.k8s.io/v1",
        kind:
          operation === "CREATE"
            ? "CreateOptions"
            : operation === "UPDATE"
              ? "UpdateOptions"
              : "DeleteOptions",
        ...(dryRun ? { dryRun: ["All"] } : {}),
      },
      dryRun,
      warnings: this.admission.warnings,
      auditAnnotations: this.admission.auditAnnotations,
      ...(this.admission.outbound !== undefined ? { outbound: this.admission.outbound } : {}),
    };
    await this.tenant.admission[phase](a);
    return a.object;
  }

  /**
   * A storage round trip with the request's seat given back: a write waiting on etcd uses no CPU,
   * so a tenant's writes in flight are not capped by its seats, only those running here are.
   */
  private outbound<T>(call: () => Promise<T>): Promise<T> {
    return (this.admission?.outbound ?? direct)(call);
  }

  /** The watch cache caught up with etcd's current revision (a round trip, seat given back). */
  private consistent(): Promise<number> {
    return this.outbound(() => this.tenant.cache.consistent());
  }

  private key(namespace: string, name: string): StorageKey {
    return this.tenant.key(this.def, this.def.namespaced ? namespace : undefined, name);
  }

  /** Where list and watch look: the whole resource, or one namespace of it. */
  prefix(namespace: string): string {
    return resourcePrefix(
      { uid: this.tenant.tenant.uid },
      { group: this.def.group, resource: this.def.plural },
      this.def.namespaced && namespace !== "" ? namespace : undefined,
    );
  }

  private storageError(err: unknown, name: string): never {
    throw fromStorageError(err, qualified(this.def), name);
  }

  /** A consistent read from the watch cache. */
  async get(namespace: string, name: string): Promise<KubeObject> {
    await this.consistent();
    const cached = this.tenant.cache.get(this.key(namespace, name));
    if (cached === undefined) throw notFound(qualified(this.def), name);
    return servedAs(this.def, cached.obj);
  }

  /** The cached entry, for writers that compare-and-swap against it. */
  private async current(namespace: string, name: string): Promise<CachedObject | undefined> {
    await this.consistent();
    return this.tenant.cache.get(this.key(namespace, name));
  }

  /** Items under the namespace (all when ""), from the cache at its latest consistent revision. */
  async listCached(
    namespace: string,
    consistent: boolean,
  ): Promise<{ items: KubeObject[]; revision: number }> {
    const revision = consistent ? await this.consistent() : this.tenant.cache.revision;
    const items = this.tenant.cache.list(this.prefix(namespace)).map((c) => servedAs(this.def, c.obj));
    return { items, revision };
  }

  /** A page from storage: for limit/continue and exact-revision lists. */
  async listStorage(
    namespace: string,
    opts: { limit?: number; continue?: string; revision?: number },
  ): Promise<{ items: KubeObject[]; result: ListResult }> {
    let result: ListResult;
    try {
      result = await this.tenant.storage.list(this.prefix(namespace) as never, opts);
    } catch (err) {
      const status = fromStorageError(err, qualified(this.def), "");
      if (opts.continue && status.reason === "Expired") {
        // As kube: the 410 carries a token that continues at the latest revision (an inconsistent list).
        const start = decodeContinue(opts.continue).start;
        status.status.metadata = {
          continue: encodeContinue(await this.tenant.storage.currentRevision(), start),
        };
      }
      throw status;
    }
    return { items: result.items.map((kv) => servedAs(this.def, decodeStored(kv).obj)), result };
  }

  private isService(): boolean {
    return this.def.group === "" && this.def.plural === "services";
  }

  /**
   * NamespaceLifecycle: objects are created only in a namespace that exists and is not
   * being deleted.
   */
  private async admitNamespace(namespace: string, name: string): Promise<void> {
    // As kube's admission plugin reads its informer: the cache as it is, and a consistent read
    // only when the namespace is missing (it may have been created a moment ago).
    const key = this.tenant.key({ group: "", plural: "namespaces" }, undefined, namespace);
    let ns = this.tenant.cache.get(key);
    if (ns === undefined) {
      await this.tenant.cache.consistent();
      ns = this.tenant.cache.get(key);
    }
    if (ns === undefined) throw notFound({ group: "", resource: "namespaces" }, namespace);
    if (ns.obj.metadata?.deletionTimestamp !== undefined) {
      throw forbidden(
        qualified(this.def),
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  /** Fills in what the server owns on create, in `obj` (the store's own copy); returns it. */
  private prepareCreate(obj: KubeObject, namespace: string, fieldManager?: string): KubeObject {
    const meta: ObjectMeta = obj.metadata ?? {};
    obj.metadata = meta;
    if (this.def.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if ((meta.name === undefined || meta.name === "") && meta.generateName) {
      meta.name = `${meta.generateName}${generateSuffix()}`;
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (this.def.strategy.generation) meta.generation = 1;
    else delete meta.generation;
    obj.apiVersion = groupVersion(this.def);
    obj.kind = this.def.kind;
    if (this.def.strategy.statusSubresource && this.def.crd !== undefined) delete obj["status"];
    applyDefaults(this.def, obj);
    // [apply] Ownership is of what the client sent, defaults included, not of what the strategy adds.
    if (fieldManager !== undefined)
      recordManagedFields(this.def, undefined, obj, fieldManager, "", nowTimestamp());
    this.def.strategy.prepareForCreate?.(obj);
    return obj;
  }

  private validate(obj: KubeObject, old?: KubeObject): void {
    const errors: FieldError[] = validateObject(this.def, obj, old);
    if (errors.length === 0 && this.def.strategy.validate)
      errors.push(...this.def.strategy.validate(obj, old));
    if (errors.length > 0) {
      throw invalid({ group: this.def.group, kind: this.def.kind }, obj.metadata?.name ?? "", errors);
    }
  }

  async create(input: KubeObject, namespace: string, opts: CreateOptions): Promise<KubeObject> {
    // One private copy (none when the caller hands `input` over), which admission and prepare change.
    let admitted = opts.inputOwned === true ? input : clone(input);
    // Mutating admission sees the object as decoded and defaulted, in its namespace (as kube's
    // create handler calls it before the strategy fills in the server's fields).
    if (this.admission !== undefined) {
      if (this.def.namespaced) (admitted.metadata ??= {}).namespace ||= namespace;
      applyDefaults(this.def, admitted);
      admitted = (await this.admit(
        "admit",
        "CREATE",
        admitted,
        undefined,
        admitted.metadata?.name ?? "",
        namespace,
        "",
        opts.dryRun,
      ))!;
    }
    const obj = this.prepareCreate(admitted, namespace, opts.fieldManager);
    if (this.def.namespaced) await this.admitNamespace(namespace, obj.metadata?.name ?? "");
    this.validate(obj);
    await this.admit(
      "validate",
      "CREATE",
      obj,
      undefined,
      obj.metadata?.name ?? "",
      namespace,
      "",
      opts.dryRun,
    );
    if (this.isService()) {
      const services = this.tenant.cache.list(this.prefix("")).map((c) => c.obj);
      const errors = allocateClusterIP(obj, usedClusterIPs(services));
      if (errors.length > 0) throw invalid({ group: "", kind: "Service" }, obj.metadata?.name ?? "", errors);
    }
    const name = obj.metadata!.name!;
    if (opts.dryRun) {
      if (this.tenant.cache.get(this.key(namespace, name))) throw alreadyExists(qualified(this.def), name);
      return obj;
    }
    let kv: KeyValue;
    try {
      const value = encodeForStorage(obj);
      kv = await this.outbound(() => this.tenant.storage.create(this.key(namespace, name), value));
    } catch (err) {
      this.storageError(err, name);
    }
    return withRevision(obj, kv.modRevision);
  }

  /**
   * Writes `update(current)` over the stored object. The update function receives a private
   * copy; on a conflict it is called again with the fresh state. `subresource` is "" or "status".
   */
  async update(
    namespace: string,
    name: string,
    update: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions & { subresource?: string; expectedRevision?: string },
  ): Promise<KubeObject> {
    const key = this.key(namespace, name);
    const cached = await this.current(namespace, name);
    if (cached === undefined) throw notFound(qualified(this.def), name);
    let result: KubeObject | undefined;
    const apply = async (currentKv: KeyValue): Promise<Uint8Array> => {
      const stored = currentKv === cachedKv(cached) ? cached.obj : decodeStored(currentKv).obj;
      // The old object as kube's storage decodes it: defaulted (kube then writes those defaults).
      const current = this.def.strategy.decode?.(stored) ?? stored;
      const currentRv = String(currentKv.modRevision);
      let next = clone(await update(clone(current)));
      const requestedRv = opts.expectedRevision ?? next.metadata?.resourceVersion;
      if (requestedRv !== undefined && requestedRv !== "" && requestedRv !== currentRv) {
        throw conflict(qualified(this.def), name, objectModified);
      }
      const subresource = opts.subresource ?? "";
      // Mutating admission on the updated object, before the strategy (kube's update transformers).
      next = (await this.admit("admit", "UPDATE", next, current, name, namespace, subresource, opts.dryRun))!;
      const prepared = this.prepareUpdate(next, current, subresource, opts.fieldManager);
      this.validate(prepared, current);
      await this.admit("validate", "UPDATE", prepared, current, name, namespace, subresource, opts.dryRun);
      result = prepared;
      // Removing the last finalizer of an object being deleted deletes it, in one step (one DELETED event).
      if (this.deletesDuringUpdate(prepared)) throw new DeleteDuringUpdate(currentKv);
      return encodeForStorage(prepared);
    };
    if (opts.dryRun) {
      try {
        await apply(cachedKv(cached));
      } catch (err) {
        if (!(err instanceof DeleteDuringUpdate)) throw err;
      }
      return withRevision(result!, cached.modRevision);
    }
    let kv: KeyValue;
    try {
      kv = await this.tenant.storage.guaranteedUpdate(key, apply, { cached: cachedKv(cached) });
    } catch (err) {
      if (err instanceof DeleteDuringUpdate) {
        try {
          const res = await this.tenant.storage.delete(key, {
            preconditions: { resourceVersion: err.kv.modRevision },
          });
          return withRevision(result!, res.revision);
        } catch (deleteErr) {
          // Changed in between: decide again on the fresh state.
          if (isStorageError(deleteErr, "Conflict")) return this.update(namespace, name, update, opts);
          this.storageError(deleteErr, name);
        }
      }
      if (isStorageError(err)) this.storageError(err, name);
      throw err;
    }
    const written = result ?? decodeStored(kv).obj;
    return withRevision(written, kv.modRevision);
  }

  /**
   * An object marked for deletion whose finalizers are all gone is deleted instead of written
   * (kube's ShouldDeleteDuringUpdate); a namespace also waits for its spec.finalizers.
   */
  private deletesDuringUpdate(obj: KubeObject): boolean {
    if (obj.metadata?.deletionTimestamp === undefined || (obj.metadata.finalizers ?? []).length > 0)
      return false;
    if (this.def.group !== "" || this.def.plural !== "namespaces") return true;
    return ((obj["spec"] as { finalizers?: string[] } | undefined)?.finalizers ?? []).length === 0;
  }

  /** Keeps what an update may not change, per subresource; bumps generation. */
  private prepareUpdate(
    next: KubeObject,
    current: KubeObject,
    subresource: string,
    fieldManager?: string,
  ): KubeObject {
    const curMeta = current.metadata ?? {};
    let obj: KubeObject;
    if (subresource === "status") {
      // Only status changes through /status (and metadata's labels/annotations are not taken either).
      obj = { ...clone(current), status: next["status"] };
    } else if (subresource === "finalize") {
      // [lifecycle] namespaces/<name>/finalize replaces spec.finalizers only (kube's finalizeStrategy);
      // an absent list is an empty one (Go clients omit it), never the create-time default.
      const finalizers = (next["spec"] as { finalizers?: unknown } | undefined)?.finalizers ?? [];
      obj = { ...clone(current), spec: { finalizers } };
    } else {
      obj = next;
      if (this.def.strategy.statusSubresource) {
        if (current["status"] === undefined) delete obj["status"];
        else obj["status"] = clone(current["status"]);
      }
    }
    const meta: ObjectMeta = { ...(obj.metadata ?? {}) };
    obj.metadata = meta;
    // [apply] A server-side apply through a subresource brings the managedFields it computed.
    if (subresource !== "" && fieldManager === undefined && next.metadata?.managedFields !== undefined) {
      meta.managedFields = next.metadata.managedFields;
    }
    // Immutable server-owned fields.
    // An update without a resourceVersion is unconditional: it applies to the current state.
    if (!meta.resourceVersion && curMeta.resourceVersion !== undefined)
      meta.resourceVersion = curMeta.resourceVersion;
    for (const field of ["name", "namespace", "uid", "creationTimestamp"] as const) {
      if (curMeta[field] === undefined) delete meta[field];
      else meta[field] = curMeta[field];
    }
    if (curMeta.deletionTimestamp !== undefined) {
      meta.deletionTimestamp = curMeta.deletionTimestamp;
      if (curMeta.deletionGracePeriodSeconds !== undefined) {
        meta.deletionGracePeriodSeconds = curMeta.deletionGracePeriodSeconds;
      }
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    if (this.def.strategy.generation) {
      meta.generation = (curMeta.generation ?? 1) + (specChanged(obj, current) ? 1 : 0);
    } else {
      delete meta.generation;
    }
    obj.apiVersion = groupVersion(this.def);
    obj.kind = this.def.kind;
    applyDefaults(this.def, obj);
    // [apply] The writer owns what it changed, defaults included, not what the strategy adds.
    if (fieldManager !== undefined)
      recordManagedFields(this.def, current, obj, fieldManager, subresource, nowTimestamp());
    if (this.isService() && subresource === "") keepClusterIP(obj, current);
    this.def.strategy.prepareForUpdate?.(obj, current);
    return obj;
  }

  /**
   * Deletes an object: with finalizers it is only marked (deletionTimestamp) and returned;
   * otherwise it is removed. Returns the object and whether it is gone.
   */
  async delete(
    namespace: string,
    name: string,
    opts: DeleteOptions,
  ): Promise<{ obj: KubeObject; deleted: boolean }> {
    const key = this.key(namespace, name);
    const cached = await this.current(namespace, name);
    if (cached === undefined) throw notFound(qualified(this.def), name);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== cached.obj.metadata?.uid) {
      throw conflict(
        qualified(this.def),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cached.obj.metadata?.uid ?? ""}`,
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(cached.modRevision)) {
      throw conflict(
        qualified(this.def),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cached.modRevision}`,
      );
    }
    // [admission] Deletes pass admission with the stored object (webhooks and policies on DELETE).
    if (this.admission !== undefined) {
      await this.admit("admit", "DELETE", undefined, cached.obj, name, namespace, "", opts.dryRun);
      await this.admit("validate", "DELETE", undefined, cached.obj, name, namespace, "", opts.dryRun);
    }
    // [lifecycle] NamespaceLifecycle admission: the system namespaces may never be deleted.
    const isNamespace = this.def.group === "" && this.def.plural === "namespaces";
    if (isNamespace && ["default", "kube-system", "kube-public"].includes(name)) {
      throw forbidden(qualified(this.def), name, "this namespace may not be deleted");
    }
    // [lifecycle] The garbage collector's finalizers as the propagation policy asks (kube's
    // deletionFinalizersForGarbageCollection): a policy sets or clears them, no policy keeps them.
    const policy = opts.propagationPolicy;
    const gcFinalizers = (current: readonly string[]): string[] => {
      if (policy === undefined) return [...current];
      const out = current.filter(
        (f) =>
          (f !== "orphan" || policy === "Orphan") && (f !== "foregroundDeletion" || policy === "Foreground"),
      );
      if (policy === "Orphan" && !out.includes("orphan")) out.push("orphan");
      if (policy === "Foreground" && !out.includes("foregroundDeletion")) out.push("foregroundDeletion");
      return out;
    };
    const meta = cached.obj.metadata ?? {};
    // [lifecycle] A namespace is first only marked Terminating (kube's namespace REST Delete); the
    // namespace controller empties it and clears spec.finalizers, and until then a delete changes nothing.
    const terminate = isNamespace && meta.deletionTimestamp === undefined;
    const specFinalizers = (cached.obj["spec"] as { finalizers?: string[] } | undefined)?.finalizers ?? [];
    if (isNamespace && !terminate && specFinalizers.length > 0) {
      return { obj: servedAs(this.def, cached.obj), deleted: false };
    }
    let revision = cached.modRevision;
    const finalizers = gcFinalizers(meta.finalizers ?? []);
    if (terminate || finalizers.length > 0) {
      const unchanged =
        meta.deletionTimestamp !== undefined && finalizers.join("\0") === (meta.finalizers ?? []).join("\0");
      if (unchanged) return { obj: servedAs(this.def, cached.obj), deleted: false };
      // Marks the object as being deleted. Not through update(): deletionTimestamp is not writable there.
      const mark = (obj: KubeObject): KubeObject => {
        const m: ObjectMeta = obj.metadata ?? {};
        obj.metadata = m;
        if (m.deletionTimestamp === undefined && (m.generation ?? 0) > 0)
          m.generation = (m.generation ?? 0) + 1;
        m.deletionTimestamp ??= nowTimestamp();
        m.deletionGracePeriodSeconds = 0;
        const fs = gcFinalizers(m.finalizers ?? []);
        if (fs.length > 0) m.finalizers = fs;
        else delete m.finalizers;
        const status = obj["status"];
        if (isNamespace)
          obj["status"] = { ...(typeof status === "object" ? status : {}), phase: "Terminating" };
        return obj;
      };
      if (opts.dryRun) return { obj: servedAs(this.def, mark(clone(cached.obj))), deleted: false };
      let marked: KubeObject | undefined;
      let kv: KeyValue;
      try {
        kv = await this.tenant.storage.guaranteedUpdate(
          key,
          (currentKv) => encodeForStorage((marked = mark(decodeStored(currentKv).obj))),
          {
            cached: cachedKv(cached),
            preconditions: {
              ...(pre?.uid !== undefined ? { uid: pre.uid } : {}),
              ...(pre?.resourceVersion !== undefined ? { resourceVersion: Number(pre.resourceVersion) } : {}),
            },
          },
        );
      } catch (err) {
        this.storageError(err, name);
      }
      // Every finalizer may have gone meanwhile: then the deletion completes now.
      if (terminate || (marked?.metadata?.finalizers ?? []).length > 0) {
        return { obj: servedAs(this.def, withRevision(marked!, kv.modRevision)), deleted: false };
      }
      revision = kv.modRevision;
    }
    if (opts.dryRun) return { obj: servedAs(this.def, cached.obj), deleted: true };
    try {
      const res = await this.outbound(() =>
        this.tenant.storage.delete(key, { preconditions: { resourceVersion: revision } }),
      );
      return { obj: servedAs(this.def, decodeStored(res.kv, res.revision).obj), deleted: true };
    } catch (err) {
      if (isStorageError(err, "Conflict")) {
        // Changed since read: decide again on the fresh state (it may have gained finalizers).
        return this.delete(namespace, name, opts);
      }
      this.storageError(err, name);
    }
  }
}

/** Thrown inside a guaranteedUpdate to delete the object instead (see deletesDuringUpdate). */
class DeleteDuringUpdate extends Error {
  constructor(readonly kv: KeyValue) {
    super("delete during update");
  }
}

const kvOf = new WeakMap<CachedObject, KeyValue>();
/** The KeyValue a cached object was decoded from (for compare-and-swap against it). */
function cachedKv(c: CachedObject): KeyValue {
  let kv = kvOf.get(c);
  if (kv === undefined) {
    kv = {
      key: c.key,
      value: encodeForStorage(c.obj),
      createRevision: c.createRevision,
      modRevision: c.modRevision,
    };
    kvOf.set(c, kv);
  }
  return kv;
}
