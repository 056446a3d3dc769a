// The ControlPlane registry's decision for one ControlPlane of the root tenant, level-triggered
// (one path for create, update and delete), on one shard of several sharing the root tenant:
// - placement: a ControlPlane with no status.shard, or whose shard's lease expired, is placed on
//   the least-loaded live shard (ControlPlanes per shard, ties by name) by the first live shard
//   by name only, with a compare-and-swap on its resourceVersion (a conflict waits for the next
//   event); status Pending until that shard serves it. An admin moves a tenant by writing
//   status.shard. Every shard but the one named drops the tenant (its instance stopped);
// - present, on this shard: the teardown finalizer is added; the tenant is registered in this
//   shard's TenantManager as {name, uid: the ControlPlane's UID, policy: its effective policy} (the
//   same Tenant object while nothing changed, a new one — a rebuilt instance — when it did);
//   its bootstrap objects are written; then status: Ready, shard, endpoint, observedGeneration,
//   and usage (objects, storageBytes) when this shard has the tenant's instance started, at most
//   once per usage interval per tenant (the registry's timer queues tenants whose usage moved);
// - being deleted (done by its shard, or by the placer when that shard is dead): the tenant
//   turns terminating (every request refused, instance stopped), its whole key prefix is
//   deleted, and only when nothing is left the finalizer is removed;
// - gone: the tenant is unregistered.
// A project is served only while its organization exists and is not being deleted. Status is
// written last.

import type { Logger } from "pino";
import { isStatusError } from "../apierrors/status.ts";
import { TerminalError, type ReconcileResult } from "../controllers/work-queue.ts";
import type { ResourceDef } from "../registry/resources.ts";
import { GenericStore, nowTimestamp } from "../registry/store.ts";
import type { Storage } from "../storage/interface.ts";
import { resourcePrefix, tenantPrefix } from "../storage/keys.ts";
import {
  controlPlaneGroup,
  controlPlanePlural,
  controlPlaneVersion,
  teardownFinalizer,
  type ControlPlane,
  type ControlPlaneCondition,
  type ControlPlaneStatus,
} from "./controlplane.types.ts";
import { effectivePolicy } from "./effective-policy.ts";
import type { TenantInstance, TenantManager } from "./instance.ts";
import { nameMismatch, parseControlPlaneName, tenantNameOf } from "./names.ts";
import type { TenantPolicy } from "./policy.ts";

/** What the reconciler needs; built by the registry (controlplane.registry.ts). */
export interface ControlPlaneReconcileContext {
  /** The root tenant's instance: its cache holds the ControlPlanes, its store writes them. */
  readonly root: TenantInstance;
  readonly tenants: TenantManager;
  readonly storage: Storage;
  /** This shard's name, written to status.shard. */
  readonly shard: string;
  /** The URL clients reach this shard (or the router) at; endpoint = `<serverURL>/clusters/<tenant>`. */
  readonly serverURL: string;
  readonly log: Logger;
  /**
   * Tenants this registry registered, with the spec.policy JSON they were built from (so an
   * unchanged ControlPlane keeps its Tenant object and its instance). Owned by the registry.
   */
  readonly managed: Map<string, string>;
  /** When each tenant's status.usage was last written (ms); owned by the registry. */
  readonly usageWrittenAt: Map<string, number>;
  /** The least time between two writes of a tenant's status.usage. */
  readonly usageIntervalMs: number;
  readonly now: () => number;
  /** The shards whose lease lives (this one always). */
  readonly shards: { isLive(shard: string): boolean; liveShards(): readonly string[] };
  /** Runs `fn` after every placement before it (placements see each other's writes). */
  readonly serialized: <T>(fn: () => Promise<T>) => Promise<T>;
}

export type ControlPlaneUsage = NonNullable<ControlPlaneStatus["usage"]>;

/** The tenant's usage as its started instance on this shard counts it (none: not active here). */
export function currentUsage(
  tenants: TenantManager,
  tenantName: string,
  uid: string,
): ControlPlaneUsage | undefined {
  const instance = tenants.startedInstance(tenantName);
  if (instance === undefined || instance.tenant.uid !== uid) return undefined;
  const { objects, bytes } = instance.cache.usage();
  return { objects, storageBytes: bytes };
}

export const sameUsage = (a: ControlPlaneUsage | undefined, b: ControlPlaneUsage | undefined): boolean =>
  a?.objects === b?.objects && a?.storageBytes === b?.storageBytes;

/** The root tenant's ControlPlane kind (served once the CRD is installed and Established). */
export function controlPlaneDef(root: TenantInstance): ResourceDef {
  const def = root.resources.lookup(controlPlaneGroup, controlPlaneVersion, controlPlanePlural);
  if (def === undefined)
    throw new Error("controlplanes.core.multiplane.dev is not served by the root tenant");
  return def;
}

const ignoreGone = (err: unknown): void => {
  if (!isStatusError(err) || (err.code !== 404 && err.code !== 409)) throw err;
};

/** Reconciles the ControlPlane `name`. Throws to be retried with backoff. */
export async function reconcileControlPlane(
  ctx: ControlPlaneReconcileContext,
  name: string,
): Promise<ReconcileResult> {
  const { root, tenants } = ctx;
  await root.cache.consistent();
  let tenantName: string;
  try {
    tenantName = tenantNameOf(parseControlPlaneName(name));
  } catch (err) {
    // The CRD's rules keep such names out; one that got in names no tenant.
    throw new TerminalError((err as Error).message);
  }
  const def = controlPlaneDef(root);
  const cp = root.cache.get(root.key(def, undefined, name))?.obj as ControlPlane | undefined;

  if (cp === undefined) return forget(ctx, tenantName);
  const uid = cp.metadata?.uid ?? "";
  const finalizers = cp.metadata?.finalizers ?? [];
  const shard = cp.status?.shard ?? "";
  const placed = shard !== "" && ctx.shards.isLive(shard);
  const placer = ctx.shards.liveShards()[0] === ctx.shard;
  if (cp.metadata?.deletionTimestamp !== undefined) {
    if (shard === ctx.shard || (!placed && placer)) return teardown(ctx, def, cp, tenantName);
    return forget(ctx, tenantName);
  }
  if (!placed) {
    await forget(ctx, tenantName);
    return placer ? place(ctx, def, name) : undefined;
  }
  if (shard !== ctx.shard) return forget(ctx, tenantName);

  const store = new GenericStore(root, def);
  if (!finalizers.includes(teardownFinalizer)) {
    try {
      await store.update(
        "",
        name,
        (current) => {
          const meta = (current.metadata ??= {});
          if (meta.uid !== uid || meta.deletionTimestamp !== undefined) return current;
          if ((current["status"] as ControlPlaneStatus | undefined)?.shard !== ctx.shard) return current;
          meta.finalizers = [
            ...(meta.finalizers ?? []).filter((f) => f !== teardownFinalizer),
            teardownFinalizer,
          ];
          return current;
        },
        { dryRun: false },
      );
    } catch (err) {
      ignoreGone(err);
      return; // the next event brings it back here
    }
  }

  // The effective policy: a project's is merged with its organization's, which must be there.
  const spec = cp.spec ?? { organization: "" };
  let problem: { reason: string; message: string } | undefined;
  let policy: TenantPolicy | undefined;
  let source = "";
  const mismatch = nameMismatch(name, spec);
  if (mismatch !== undefined) problem = { reason: "InvalidName", message: mismatch };
  let orgPolicy;
  if (problem === undefined && spec.project !== undefined) {
    const org = root.cache.get(root.key(def, undefined, spec.organization))?.obj as ControlPlane | undefined;
    if (org === undefined || org.metadata?.deletionTimestamp !== undefined) {
      problem = {
        reason: "OrganizationNotReady",
        message: `organization ${spec.organization} ${org === undefined ? "does not exist" : "is being deleted"}`,
      };
    } else orgPolicy = org.spec?.policy ?? {};
  }
  if (problem === undefined) {
    try {
      policy = effectivePolicy(spec.policy, orgPolicy);
      source = JSON.stringify([spec.policy ?? null, orgPolicy ?? null]);
    } catch (err) {
      problem = { reason: "InvalidPolicy", message: (err as Error).message };
    }
  }

  if (problem !== undefined || policy === undefined) {
    // Not served while its policy cannot be known: never serve a tenant wider than it should be.
    if (ctx.managed.delete(tenantName)) await tenants.removeTenant(tenantName);
    await writeStatus(ctx, def, cp, {
      phase: "Pending",
      ready: { status: "False", ...(problem ?? { reason: "Unknown", message: "" }) },
    });
    return;
  }

  const registered = tenants.lookup(tenantName);
  if (
    registered === undefined ||
    registered.uid !== uid ||
    registered.terminating === true ||
    ctx.managed.get(tenantName) !== source
  ) {
    // A new object: the next request builds the tenant's instance with this policy.
    await tenants.setTenant({ name: tenantName, uid, policy });
    ctx.managed.set(tenantName, source);
  }
  if (cp.status?.phase !== "Ready") await tenants.bootstrap({ uid });
  // Usage is rate-limited per tenant: its own status writes bring the ControlPlane back here.
  let usage = currentUsage(tenants, tenantName, uid);
  const lastWritten = ctx.usageWrittenAt.get(tenantName);
  if (lastWritten !== undefined && ctx.now() - lastWritten < ctx.usageIntervalMs) usage = undefined;
  if (usage !== undefined && sameUsage(usage, cp.status?.usage)) usage = undefined;
  await writeStatus(ctx, def, cp, {
    phase: "Ready",
    ready: { status: "True", reason: "Ready", message: `tenant ${tenantName} is served` },
    endpoint: `${ctx.serverURL}/clusters/${tenantName}`,
    ...(usage !== undefined ? { usage } : {}),
  });
  if (usage !== undefined) ctx.usageWrittenAt.set(tenantName, ctx.now());
  return;
}

/** The tenant is not this shard's (gone, or placed elsewhere): its instance here is stopped. */
async function forget(ctx: ControlPlaneReconcileContext, tenantName: string): Promise<void> {
  ctx.usageWrittenAt.delete(tenantName);
  if (ctx.managed.delete(tenantName)) await ctx.tenants.removeTenant(tenantName);
}

/**
 * Places the ControlPlane `name` on the least-loaded live shard (ControlPlanes per shard in the
 * root tenant's cache; ties by name), one placement at a time, with a compare-and-swap on the
 * resourceVersion it decided on: a conflict means it changed, and its event brings it back.
 */
async function place(ctx: ControlPlaneReconcileContext, def: ResourceDef, name: string): Promise<void> {
  await ctx.serialized(async () => {
    await ctx.root.cache.consistent();
    const cp = ctx.root.cache.get(ctx.root.key(def, undefined, name))?.obj as ControlPlane | undefined;
    if (cp === undefined || cp.metadata?.deletionTimestamp !== undefined) return;
    const from = cp.status?.shard ?? "";
    if (from !== "" && ctx.shards.isLive(from)) return;
    const live = ctx.shards.liveShards();
    // One live shard takes every tenant: no need to count (a scan of every ControlPlane).
    const load = new Map(live.map((s) => [s, 0]));
    if (live.length > 1) {
      for (const c of ctx.root.cache.list(
        resourcePrefix({ uid: ctx.root.tenant.uid }, { group: def.group, resource: def.plural }),
      )) {
        const s = (c.obj as ControlPlane).status?.shard;
        if (s !== undefined && load.has(s)) load.set(s, load.get(s)! + 1);
      }
    }
    const [target] = [...load.entries()].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
    if (target === undefined) return;
    const to = target[0];
    const generation = cp.metadata?.generation;
    const status: ControlPlaneStatus = {
      ...cp.status,
      phase: "Pending",
      shard: to,
      conditions: [
        ...(cp.status?.conditions ?? []).filter((c) => c.type !== "Ready"),
        {
          type: "Ready",
          status: "False",
          reason: "Placed",
          message:
            from === "" ? `placed on shard ${to}` : `moved from shard ${from} (lease expired) to ${to}`,
          lastTransitionTime: nowTimestamp(),
          ...(generation !== undefined ? { observedGeneration: generation } : {}),
        },
      ],
    };
    try {
      await new GenericStore(ctx.root, def).update(
        "",
        name,
        (current) => {
          current["status"] = status;
          return current;
        },
        { dryRun: false, subresource: "status", expectedRevision: cp.metadata?.resourceVersion ?? "" },
      );
      ctx.log.info({ tenant: name, shard: to, from }, "tenant placed");
    } catch (err) {
      ignoreGone(err);
    }
  });
}

/** Deletion: refuse requests, stop the instance, wipe the prefix, then let the object go. */
async function teardown(
  ctx: ControlPlaneReconcileContext,
  def: ResourceDef,
  cp: ControlPlane,
  tenantName: string,
): Promise<ReconcileResult> {
  const { tenants, storage } = ctx;
  const name = cp.metadata?.name ?? "";
  const uid = cp.metadata?.uid ?? "";
  const registered = tenants.lookup(tenantName);
  if (registered === undefined || registered.uid !== uid || registered.terminating !== true) {
    // Resolves once the instance is stopped: no request of this tenant writes from now on. It
    // stays registered (refusing requests with 403) until the object is gone.
    await tenants.setTenant({ name: tenantName, uid, terminating: true });
    ctx.managed.set(tenantName, "");
  }
  // Our part is done; the store deletes it once the other finalizers go.
  if (!(cp.metadata?.finalizers ?? []).includes(teardownFinalizer)) return;
  await writeStatus(ctx, def, cp, {
    phase: "Terminating",
    ready: { status: "False", reason: "Terminating", message: `tenant ${tenantName} is being deleted` },
  });
  const prefix = tenantPrefix({ uid });
  const deleted = await storage.deletePrefix(prefix);
  const left = await storage.usage(prefix);
  if (left.keys > 0)
    throw new Error(`tenant ${tenantName}: ${left.keys} keys left under its prefix, deleting again`);
  ctx.log.info({ tenant: tenantName, uid, keys: deleted }, "tenant data deleted");
  try {
    await new GenericStore(ctx.root, def).update(
      "",
      name,
      (current) => {
        const meta = (current.metadata ??= {});
        if (meta.uid === uid)
          meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== teardownFinalizer);
        return current;
      },
      { dryRun: false },
    );
  } catch (err) {
    ignoreGone(err);
  }
  return;
}

interface DesiredStatus {
  readonly phase: NonNullable<ControlPlaneStatus["phase"]>;
  readonly ready: Pick<ControlPlaneCondition, "status" | "reason" | "message">;
  readonly endpoint?: string;
  /** A new status.usage (absent: the current one stays). */
  readonly usage?: ControlPlaneUsage;
}

/** Writes the status when it differs (lastTransitionTime moves only when the Ready status does). */
async function writeStatus(
  ctx: ControlPlaneReconcileContext,
  def: ResourceDef,
  cp: ControlPlane,
  desired: DesiredStatus,
): Promise<void> {
  const generation = cp.metadata?.generation;
  const next = (current: ControlPlaneStatus | undefined): ControlPlaneStatus => {
    const old = (current?.conditions ?? []).find((c) => c.type === "Ready");
    const ready: ControlPlaneCondition = {
      type: "Ready",
      ...desired.ready,
      lastTransitionTime:
        old !== undefined && old.status === desired.ready.status ? old.lastTransitionTime : nowTimestamp(),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
    return {
      ...current,
      phase: desired.phase,
      shard: ctx.shard,
      ...(desired.endpoint !== undefined ? { endpoint: desired.endpoint } : {}),
      ...(desired.usage !== undefined ? { usage: desired.usage } : {}),
      conditions: [...(current?.conditions ?? []).filter((c) => c.type !== "Ready"), ready],
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  };
  if (JSON.stringify(next(cp.status)) === JSON.stringify(cp.status ?? {})) return;
  try {
    await new GenericStore(ctx.root, def).update(
      "",
      cp.metadata?.name ?? "",
      (current) => {
        if (current.metadata?.uid !== cp.metadata?.uid) return current;
        const status = current["status"] as ControlPlaneStatus | undefined;
        // Placed elsewhere in between (the shard that wipes a dead shard's tenant writes as its own).
        if ((status?.shard ?? "") !== (cp.status?.shard ?? "")) return current;
        current["status"] = next(status);
        return current;
      },
      { dryRun: false, subresource: "status" },
    );
  } catch (err) {
    ignoreGone(err);
  }
}
