// The CRD controller's decisions for one CRD of one tenant, as apiextensions-apiserver's
// NamingConditionController, EstablishingController and CRDFinalizer do them:
// - names: each requested name is accepted unless another CRD of the same group already
//   accepted it (NamesAccepted True/NoConflicts, or False with PluralConflict,
//   SingularConflict, ShortNamesConflict, KindConflict or ListKindConflict);
// - Established becomes True (InitialNamesAccepted) once the names are accepted;
// - a CRD being deleted is Terminating while all its custom resources are deleted, then its
//   cleanup finalizer is removed and the store deletes it.
// Status is written last, through the store's status subresource.

import { isStatusError } from "../../apierrors/status.ts";
import type { KubeObject } from "../printers.ts";
import { builtinResources, type ResourceDef } from "../resources.ts";
import { GenericStore, nowTimestamp } from "../store.ts";
import { resourcePrefix } from "../../storage/keys.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import { storageResourceOfCRD, type CRDObject } from "../crd-resources.ts";
import { cleanupFinalizer } from "./crd.strategy.ts";
import { conditionTrue, type CRD, type CRDCondition, type CRDNames } from "./crd.validation.ts";
import { jsonEqual } from "./schema.ts";

export const crdResource: ResourceDef = builtinResources.find(
  (d) => d.group === "apiextensions.k8s.io" && d.plural === "customresourcedefinitions",
)!;

/** What a reconcile asks of the queue: nothing, or to look again later. */
export type CRDReconcileResult = void | { readonly requeueAfterMs: number };

/** SetCRDCondition: lastTransitionTime changes only when the status does. Modifies `crd`. */
export function setCondition(crd: CRD, next: Omit<CRDCondition, "lastTransitionTime">): void {
  const status = (crd.status ??= {});
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((c) => c.type === next.type);
  if (existing === undefined) {
    conditions.push({ ...next, lastTransitionTime: nowTimestamp() });
    return;
  }
  if (existing.status !== next.status) existing.lastTransitionTime = nowTimestamp();
  existing.status = next.status;
  if (next.reason !== undefined) existing.reason = next.reason;
  if (next.message !== undefined) existing.message = next.message;
}

const findCondition = (crd: CRD, type: string): CRDCondition | undefined =>
  (crd.status?.conditions ?? []).find((c) => c.type === type);

/** The names accepted by the CRDs of `group` (their status.acceptedNames). */
function acceptedNamesOfGroup(
  all: readonly CRD[],
  group: string,
): { resources: Set<string>; kinds: Set<string> } {
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const c of all) {
    if (c.spec?.group !== group) continue;
    const a = c.status?.acceptedNames ?? {};
    for (const n of [a.plural, a.singular, ...(a.shortNames ?? [])]) if (n) resources.add(n);
    for (const n of [a.kind, a.listKind]) if (n) kinds.add(n);
  }
  return { resources, kinds };
}

const conflict = (
  requested: string | undefined,
  accepted: string | undefined,
  used: Set<string>,
): string | undefined =>
  requested === accepted || requested === undefined || !used.has(requested)
    ? undefined
    : `"${requested}" is already in use`;

/**
 * calculateNamesAndConditions: the accepted names and the NamesAccepted and Established
 * conditions of `crd` given every CRD of the tenant. Pure.
 */
export function calculateNames(
  crd: CRD,
  all: readonly CRD[],
): {
  names: CRDNames;
  namesAccepted: Omit<CRDCondition, "lastTransitionTime">;
  established: Omit<CRDCondition, "lastTransitionTime">;
} {
  const { resources, kinds } = acceptedNamesOfGroup(all, crd.spec?.group ?? "");
  const requested = crd.spec?.names ?? {};
  const accepted = crd.status?.acceptedNames ?? {};
  const names: CRDNames = { ...accepted };
  let failure: { reason: string; message: string } | undefined;
  const check = (
    field: "plural" | "singular" | "kind" | "listKind",
    reason: string,
    used: Set<string>,
  ): void => {
    const msg = conflict(requested[field], accepted[field], used);
    if (msg !== undefined) failure = { reason, message: msg };
    else if (requested[field] !== undefined) names[field] = requested[field];
    else delete names[field];
  };
  check("plural", "PluralConflict", resources);
  check("singular", "SingularConflict", resources);
  if (!jsonEqual(requested.shortNames, accepted.shortNames)) {
    const mine = new Set(accepted.shortNames ?? []);
    const errs = (requested.shortNames ?? [])
      .filter((s) => !mine.has(s))
      .map((s) => conflict(s, "", resources))
      .filter((m): m is string => m !== undefined);
    if (errs.length > 0) {
      failure = {
        reason: "ShortNamesConflict",
        message: errs.length === 1 ? errs[0]! : `[${errs.join(", ")}]`,
      };
    } else if (requested.shortNames !== undefined) names.shortNames = requested.shortNames;
    else delete names.shortNames;
  }
  check("kind", "KindConflict", kinds);
  check("listKind", "ListKindConflict", kinds);
  if (requested.categories !== undefined) names.categories = requested.categories;
  else delete names.categories;

  const namesAccepted =
    failure === undefined
      ? { type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found" }
      : { type: "NamesAccepted", status: "False", ...failure };
  let established: Omit<CRDCondition, "lastTransitionTime"> = findCondition(crd, "Established") ?? {
    type: "Established",
    status: "False",
    reason: "NotAccepted",
    message: "not all names are accepted",
  };
  // The establishing controller's step, taken at once: the handler serves the resources as soon
  // as the condition is in the tenant's cache.
  if (established.status !== "True" && namesAccepted.status === "True") {
    established = {
      type: "Established",
      status: "True",
      reason: "InitialNamesAccepted",
      message: "the initial names have been accepted",
    };
  }
  const { lastTransitionTime: _t, ...est } = established as CRDCondition;
  return { names, namesAccepted, established: est };
}

export interface CRDReconcileContext {
  readonly instance: TenantInstance;
  /** Look again after this long while custom resources with finalizers remain. */
  readonly recheckMs: number;
}

const listCRDs = (instance: TenantInstance): CRD[] =>
  instance.cache
    .list(
      resourcePrefix(
        { uid: instance.tenant.uid },
        { group: crdResource.group, resource: crdResource.plural },
      ),
    )
    .map((c) => c.obj as CRD);

async function writeStatus(
  instance: TenantInstance,
  name: string,
  change: (crd: CRD) => boolean,
): Promise<void> {
  const store = new GenericStore(instance, crdResource);
  let changed = false;
  const written = await store.update(
    "",
    name,
    (current) => {
      changed = change(current);
      return current;
    },
    { dryRun: false, subresource: "status" },
  );
  // The next reconcile reads the cache: let it see this write first.
  if (changed) await instance.cache.waitFor(Number(written.metadata?.resourceVersion ?? 0));
}

/** Reconciles the CRD `name` of the tenant. Throws to be retried with backoff. */
export async function reconcileCRD(ctx: CRDReconcileContext, name: string): Promise<CRDReconcileResult> {
  const { instance } = ctx;
  await instance.cache.consistent();
  const cached = instance.cache.get(instance.key(crdResource, undefined, name));
  if (cached === undefined) return;
  const crd = cached.obj as CRD;
  if (crd.metadata?.deletionTimestamp !== undefined) return finalize(ctx, name, crd);

  const all = listCRDs(instance);
  const { names, namesAccepted, established } = calculateNames(crd, all);
  const unchanged =
    jsonEqual(crd.status?.acceptedNames ?? {}, names) &&
    jsonEqual(withoutTime(findCondition(crd, "NamesAccepted")), namesAccepted) &&
    jsonEqual(withoutTime(findCondition(crd, "Established")), established);
  if (unchanged) return;
  await writeStatus(instance, name, (current) => {
    const fresh = calculateNames(
      current,
      listCRDs(instance).map((c) => (c.metadata?.name === name ? current : c)),
    );
    const status = (current.status ??= {});
    status.acceptedNames = { plural: "", kind: "", ...fresh.names };
    setCondition(current, fresh.namesAccepted);
    setCondition(current, fresh.established);
    return true;
  });
}

function withoutTime(c: CRDCondition | undefined): Omit<CRDCondition, "lastTransitionTime"> | undefined {
  if (c === undefined) return undefined;
  const { lastTransitionTime: _t, ...rest } = c;
  return rest;
}

/** CRDFinalizer: delete every custom resource of the CRD, then release the CRD. */
async function finalize(ctx: CRDReconcileContext, name: string, crd: CRD): Promise<CRDReconcileResult> {
  const { instance } = ctx;
  if (!(crd.metadata?.finalizers ?? []).includes(cleanupFinalizer)) return;
  const progress = findCondition(crd, "Terminating");
  if (progress?.status !== "True" || progress.reason !== "InstanceDeletionInProgress") {
    await writeStatus(instance, name, (current) => {
      setCondition(current, {
        type: "Terminating",
        status: "True",
        reason: "InstanceDeletionInProgress",
        message: "CustomResource deletion is in progress",
      });
      return true;
    });
  }
  let final: Omit<CRDCondition, "lastTransitionTime">;
  const def = storageResourceOfCRD(crd as CRDObject);
  if (conditionTrue(crd, "Established") && def !== undefined) {
    const remaining = await deleteInstances(instance, def);
    if (remaining > 0) return { requeueAfterMs: ctx.recheckMs };
    final = {
      type: "Terminating",
      status: "False",
      reason: "InstanceDeletionCompleted",
      message: "removed all instances",
    };
  } else {
    final = {
      type: "Terminating",
      status: "False",
      reason: "NeverEstablished",
      message: "resource was never established",
    };
  }
  await writeStatus(instance, name, (current) => {
    setCondition(current, final);
    return true;
  });
  // Removing the finalizer of a CRD being deleted completes its deletion (the store removes it).
  await new GenericStore(instance, crdResource).update(
    "",
    name,
    (current: KubeObject) => {
      const meta = current.metadata ?? {};
      meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== cleanupFinalizer);
      if (meta.finalizers.length === 0) delete meta.finalizers;
      return current;
    },
    { dryRun: false },
  );
}

/** Deletes the CRD's objects (their own finalizers still apply); returns how many are left. */
async function deleteInstances(instance: TenantInstance, def: ResourceDef): Promise<number> {
  const store = new GenericStore(instance, def);
  const prefix = resourcePrefix({ uid: instance.tenant.uid }, { group: def.group, resource: def.plural });
  for (const item of instance.cache.list(prefix)) {
    const meta = item.obj.metadata ?? {};
    if (meta.deletionTimestamp !== undefined) continue;
    try {
      await store.delete(meta.namespace ?? "", meta.name ?? "", { dryRun: false });
    } catch (err) {
      if (!(isStatusError(err) && (err.code === 404 || err.code === 409))) throw err;
    }
  }
  await instance.cache.consistent();
  return instance.cache.list(prefix).length;
}
