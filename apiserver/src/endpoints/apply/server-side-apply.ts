// Server-side apply (PATCH with application/apply-patch+yaml), as kube-apiserver v1.32's field
// manager runs it: the applied configuration is merged into the live object, the applier
// owns exactly the fields it applied, fields it applied before and omits now are removed
// unless someone else owns them, and changing a field another manager owns is a 409 Conflict
// unless forced (then the field changes hands). The manager "kubectl" may take over, without
// conflicts, fields a client-side `kubectl apply` left in last-applied-configuration, and
// keeps that annotation in step.

import { StatusError, badRequest, type StatusCause } from "../../apierrors/status.ts";
import { goMarshal } from "../patch/go-values.ts";
import { isJsonObject, type JsonObject, type JsonValue } from "../patch/json.types.ts";
import { FieldSet, pathString, type Path } from "./fieldpath.ts";
import {
  ManagerConflicts,
  capUpdateManagers,
  decodeManagedFields,
  encodeManagedFields,
  managerIdentifier,
  stripMeta,
  updateOthers,
  withoutManagedFields,
  type FieldManagementScope,
  type Managed,
  type ManagedFieldsEntry,
} from "./managed-fields.ts";
import {
  compare,
  ensureNamedFieldsAreMembers,
  jsonEqual,
  merge,
  removeItems,
  toFieldSet,
  validateApplied,
} from "./typed-value.ts";

export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
/** SetLastApplied drops an annotation larger than this. */
const maxLastAppliedSize = 256 * 1024;

export interface ApplyArgs {
  /** The stored object; undefined when it does not exist (create-on-apply). Not changed. */
  readonly current: JsonObject | undefined;
  /** The applied configuration, as parsed from the body. Not changed. */
  readonly applied: JsonObject;
  /** ?fieldManager= (required for apply; the caller checks). */
  readonly manager: string;
  /** ?force=true: take conflicting fields over. */
  readonly force: boolean;
  /** "" or "status". */
  readonly subresource: string;
  /** RFC 3339 with second precision. */
  readonly time: string;
  readonly scope: FieldManagementScope;
}

export interface ApplyResult {
  /** The object to store, with its managedFields. */
  readonly object: JsonObject;
  /** Whether anything besides managedFields changed. */
  readonly changed: boolean;
}

/** "<group>/<version>, Kind=<kind>", as Go prints a GroupVersionKind. */
function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === "string" ? apiVersion : "";
  const group = av.includes("/") ? av.slice(0, av.indexOf("/")) : "";
  const version = av.includes("/") ? av.slice(av.indexOf("/") + 1) : av;
  return `${group}/${version}, Kind=${typeof kind === "string" ? kind : ""}`;
}

/** printManager: `"name"`, `"name" with subresource "status"`, `… using v1` for updaters. */
function printManager(id: string, managed: Managed): string {
  const m = managed.get(id);
  if (m === undefined) return JSON.stringify(id);
  let s = JSON.stringify(m.manager);
  if (m.subresource !== "") s += ` with subresource ${JSON.stringify(m.subresource)}`;
  return m.operation === "Update" ? `${s} using ${m.apiVersion}` : s;
}

/** NewConflictError: 409 Conflict with one FieldManagerConflict cause per field. */
export function conflictError(conflicts: ReadonlyMap<string, FieldSet>, managed: Managed): StatusError {
  // Go iterates a map here; sorting by identifier gives the order the message uses anyway.
  const ids = [...conflicts.keys()].sort();
  const list: { id: string; path: Path }[] = [];
  for (const id of ids) for (const path of conflicts.get(id)?.paths() ?? []) list.push({ id, path });
  const causes: StatusCause[] = list.map(({ id, path }) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${printManager(id, managed)}`,
    field: pathString(path),
  }));
  let message: string;
  if (list.length === 1) {
    const only = list[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(only.id, managed)}: ${pathString(only.path)}`;
  } else {
    const lines: string[] = [];
    for (const id of ids) {
      lines.push(`conflicts with ${printManager(id, managed)}:`);
      for (const path of conflicts.get(id)?.paths() ?? []) lines.push(`- ${pathString(path)}`);
    }
    message = `Apply failed with ${list.length} conflicts: ${lines.join("\n")}`;
  }
  return new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "Conflict",
    details: { causes },
    code: 409,
  });
}

/** A non-Status error upstream answers as a 500 with an empty reason (ErrorToAPIStatus). */
function unknownError(message: string): StatusError {
  return new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "",
    code: 500,
  });
}

/**
 * prune: removes what the applier applied last time (`lastSet`) and omits now, unless another
 * manager (or the new configuration) owns it; only ever what the applier owned.
 */
function prune(
  merged: JsonValue,
  managers: Managed,
  lastSet: FieldSet | undefined,
  scope: FieldManagementScope,
): JsonValue {
  if (lastSet === undefined || lastSet.empty()) return merged;
  const t = scope.type;
  const named = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(s, t);
  let pruned = removeItems(merged, named(lastSet), t);
  // addBackOwnedItems: whatever any manager owns stays.
  let managed = new FieldSet();
  for (const m of managers.values()) managed = managed.union(m.set);
  const mergedSet = named(toFieldSet(merged, t));
  pruned = removeItems(merged, mergedSet.difference(named(toFieldSet(pruned, t)).union(named(managed))), t);
  // addBackDanglingItems: only what the applier owned last time may go.
  const prunedSet = named(toFieldSet(pruned, t));
  return removeItems(merged, mergedSet.difference(prunedSet).intersection(named(lastSet)), t);
}

/** Updater.Apply over managers keyed by identifier. */
function smdApply(
  live: JsonObject,
  config: JsonObject,
  managed: Managed,
  id: string,
  base: { manager: string; subresource: string },
  force: boolean,
  scope: FieldManagementScope,
): { object: JsonValue; managers: Managed } {
  const t = scope.type;
  const merged = merge(live, config, t);
  const lastSet = managed.get(id)?.set;
  const set = toFieldSet(config, t).recursiveDifference(scope.resetFields);
  const managers: Managed = new Map(managed);
  managers.set(id, {
    manager: base.manager,
    operation: "Apply",
    subresource: base.subresource,
    apiVersion: scope.apiVersion,
    set,
    time: managed.get(id)?.time,
  });
  const object = prune(merged, managers, lastSet, scope);
  return { object, managers: updateOthers(live, object, managers, id, force, scope).managers };
}

/** lastAppliedManager: fields of last-applied-configuration whose values the live object still has. */
function allowedFromLastApplied(live: JsonObject, scope: FieldManagementScope): FieldSet | undefined {
  const annotations = (live["metadata"] as JsonObject | undefined)?.["annotations"];
  const text = isJsonObject(annotations ?? null)
    ? (annotations as JsonObject)[lastAppliedAnnotation]
    : undefined;
  if (typeof text !== "string" || text === "") return undefined;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(last) || last["apiVersion"] !== scope.apiVersion) return undefined;
  const c = compare(last, live, scope.type);
  return toFieldSet(last, scope.type).difference(c.modified).difference(c.added).difference(c.removed);
}

/** buildLastApplied: the applied configuration without the annotation itself, as JSON plus "\n". */
function lastAppliedOf(applied: JsonObject): string {
  const meta = applied["metadata"];
  if (!isJsonObject(meta ?? null)) return `${goMarshal(applied)}\n`;
  const annotations = (meta as JsonObject)["annotations"];
  const rest = isJsonObject(annotations ?? null) ? { ...(annotations as JsonObject) } : undefined;
  if (rest !== undefined) delete rest[lastAppliedAnnotation];
  const { annotations: _a, ...metaRest } = meta as JsonObject;
  const newMeta =
    rest !== undefined && Object.keys(rest).length > 0 ? { ...metaRest, annotations: rest } : metaRest;
  return `${goMarshal({ ...applied, metadata: newMeta })}\n`;
}

function setLastApplied(obj: JsonObject, value: string): JsonObject {
  const meta = (obj["metadata"] as JsonObject | undefined) ?? {};
  const annotations = { ...((meta["annotations"] as JsonObject | undefined) ?? {}) };
  if (value.length > maxLastAppliedSize) delete annotations[lastAppliedAnnotation];
  else annotations[lastAppliedAnnotation] = value;
  return { ...obj, metadata: { ...meta, annotations } };
}

const hasLastApplied = (obj: JsonObject): boolean => {
  const a = (obj["metadata"] as JsonObject | undefined)?.["annotations"];
  return (
    isJsonObject(a ?? null) &&
    typeof (a as JsonObject)[lastAppliedAnnotation] === "string" &&
    (a as JsonObject)[lastAppliedAnnotation] !== ""
  );
};

function setManagedFields(obj: JsonObject, entries: ManagedFieldsEntry[]): JsonObject {
  const meta = { ...((obj["metadata"] as JsonObject | undefined) ?? {}) };
  if (entries.length > 0) meta["managedFields"] = entries as unknown as JsonValue;
  else delete meta["managedFields"];
  return { ...obj, metadata: meta };
}

/**
 * Applies `applied` over `current` for `manager` (FieldManager.Apply and the managers wrapped
 * around it). Returns the object to store with its managedFields; throws a 409 Conflict
 * StatusError with one cause per conflicting field, a 400 for a configuration of another
 * kind or one that sets managedFields, and a 500 (as upstream) for a configuration its schema
 * cannot key (duplicate or keyless associative list items). Pure.
 */
export function applyConfig(args: ApplyArgs): ApplyResult {
  const { applied, scope } = args;
  const gvk = gvkString(applied["apiVersion"], applied["kind"]);
  if (applied["apiVersion"] !== scope.apiVersion || applied["kind"] !== scope.kind) {
    throw badRequest(`invalid object type: ${gvk}`);
  }
  const appliedMeta = applied["metadata"];
  if (isJsonObject(appliedMeta ?? null) && Array.isArray((appliedMeta as JsonObject)["managedFields"])) {
    throw badRequest("metadata.managedFields must be nil");
  }
  const errors = validateApplied(applied, scope.type);
  if (errors.length > 0) {
    const meta = isJsonObject(appliedMeta ?? null) ? (appliedMeta as JsonObject) : {};
    const nn = `${typeof meta["namespace"] === "string" ? meta["namespace"] : ""}/${typeof meta["name"] === "string" ? meta["name"] : ""}`;
    const detail = errors.length === 1 ? errors[0] : ["errors:", ...errors.map((e) => `  ${e}`)].join("\n");
    throw unknownError(`failed to create typed patch object (${nn}; ${gvk}): ${detail}`);
  }

  let managed: Managed;
  try {
    managed = decodeManagedFields((args.current?.["metadata"] as JsonObject | undefined)?.["managedFields"]);
  } catch {
    managed = new Map();
  }
  const live = withoutManagedFields(args.current ?? scope.zero);
  const base = { manager: args.manager, subresource: args.subresource };
  const id = managerIdentifier({ ...base, operation: "Apply", apiVersion: scope.apiVersion });

  let result: { object: JsonValue; managers: Managed };
  try {
    result = smdApply(live, applied, managed, id, base, args.force, scope);
  } catch (err) {
    if (!(err instanceof ManagerConflicts)) throw err;
    // lastAppliedManager: "kubectl" may take over what its client-side apply last applied.
    const allowed =
      args.manager === "kubectl" && args.current !== undefined
        ? allowedFromLastApplied(live, scope)
        : undefined;
    let remaining = err.conflicts;
    if (allowed !== undefined) {
      const left = new Map<string, FieldSet>();
      for (const [m, set] of err.conflicts) {
        const rest = FieldSet.of(...set.paths().filter((p) => !allowed.has(p)));
        if (!rest.empty()) left.set(m, rest);
      }
      remaining = left;
    }
    if (remaining.size > 0) throw conflictError(remaining, managed);
    result = smdApply(live, applied, managed, id, base, true, scope);
  }

  const managers: Managed = new Map(result.managers);
  const own = managers.get(id);
  const changed = !jsonEqual(live, result.object);
  if (own !== undefined) {
    const set = stripMeta(own.set);
    if (set.empty()) managers.delete(id);
    else managers.set(id, { ...own, set, time: changed ? args.time : own.time });
  }
  let object = (changed ? result.object : live) as JsonObject;
  if (args.manager === "kubectl" && hasLastApplied(object))
    object = setLastApplied(object, lastAppliedOf(applied));
  return { object: setManagedFields(object, encodeManagedFields(capUpdateManagers(managers))), changed };
}
