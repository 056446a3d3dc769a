// metadata.managedFields: who owns which fields of an object, kept the way kube-apiserver
// v1.32's field manager keeps it (k8s.io/apimachinery/pkg/util/managedfields/internal over
// structured-merge-diff's merge.Updater):
//
//   - one entry per (manager, operation, subresource), plus apiVersion for "Update" entries
//     (an applier is the same manager whatever version it applies with);
//   - a write that is not an apply (create, update, non-apply patch) gives its manager the
//     fields it added or changed, takes changed fields away from everyone else, and drops
//     removed fields from every entry; entries left empty disappear;
//   - apiVersion, kind and server-owned metadata (name, namespace, uid, resourceVersion,
//     generation, creationTimestamp, managedFields…) are never owned;
//   - at most 10 "Update" entries: the oldest are folded into "ancient-changes";
//   - entries are written Apply first, then by time, manager, apiVersion, subresource.

import type { JsonObject, JsonValue } from "../patch/json.types.ts";
import { FieldSet, fieldPath } from "./fieldpath.ts";
import { rootTypeOf, type FieldType } from "./schema-types.ts";
import { compare, type Comparison } from "./typed-value.ts";

export type Operation = "Apply" | "Update";

/** metav1.ManagedFieldsEntry as stored and served (keys in upstream's order). */
export interface ManagedFieldsEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: JsonObject;
  subresource?: string;
}

/** One manager's fields (fieldpath.VersionedSet plus its time). */
export interface ManagerSet {
  readonly manager: string;
  readonly operation: Operation;
  readonly subresource: string;
  readonly apiVersion: string;
  readonly set: FieldSet;
  readonly time: string | undefined;
}

/** Managers by identifier (see managerIdentifier). */
export type Managed = Map<string, ManagerSet>;

/**
 * What field management needs to know about the endpoint written through: the group-version
 * and kind, the type of its objects, the fields it resets (never owned) and the empty object a
 * create compares with. Built by scopeFor; read only.
 */
export interface FieldManagementScope {
  readonly apiVersion: string;
  readonly kind: string;
  readonly type: FieldType;
  readonly resetFields: FieldSet;
  readonly zero: JsonObject;
}

/** The part of a ResourceDef field management reads. */
export interface ScopeSource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly schemaName?: string;
  readonly schema?: Record<string, unknown>;
  readonly crd?: unknown;
  readonly strategy: { readonly statusSubresource: boolean };
}

/**
 * The scope of writes to `def` through `subresource` ("" or "status"). Reset fields follow the
 * strategies' GetResetFields: a kind with a status subresource resets status on the main
 * resource and spec on /status. A create of a built-in compares with Go's zero value, which
 * has an empty spec and status; a custom resource's starts empty.
 */
export function scopeFor(def: ScopeSource, subresource: string): FieldManagementScope {
  const type = rootTypeOf(def);
  const reset = !def.strategy.statusSubresource
    ? []
    : subresource === "status"
      ? [fieldPath("spec")]
      : [fieldPath("status")];
  const zero: JsonObject = { metadata: {} };
  if (def.crd === undefined && type.kind === "map") {
    for (const name of ["spec", "status"]) {
      const f = type.field(name);
      if (f?.kind === "map" && f.relationship === "separable") zero[name] = {};
    }
  }
  return {
    apiVersion: def.group === "" ? def.version : `${def.group}/${def.version}`,
    kind: def.kind,
    type,
    resetFields: FieldSet.of(...reset),
    zero,
  };
}

// ---- identifiers, decoding, encoding ------------------------------------------------------------

/**
 * BuildManagerIdentifier: the JSON of the entry without time and fields, and without
 * apiVersion for appliers. Upstream sorts conflicting managers by this string.
 */
export function managerIdentifier(m: {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource: string;
}): string {
  const parts = [`"manager":${JSON.stringify(m.manager)}`, `"operation":${JSON.stringify(m.operation)}`];
  if (m.operation === "Update" && m.apiVersion !== "")
    parts.push(`"apiVersion":${JSON.stringify(m.apiVersion)}`);
  if (m.subresource !== "") parts.push(`"subresource":${JSON.stringify(m.subresource)}`);
  return `{${parts.join(",")}}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** DecodeManagedFields: throws on an entry upstream refuses (bad operation, fieldsType, set). */
export function decodeManagedFields(entries: unknown): Managed {
  const managed: Managed = new Map();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new Error("managedFields must be a list");
  entries.forEach((e: unknown, i) => {
    if (!isObject(e)) throw new Error(`managed fields entry ${i} is not an object`);
    const operation = e["operation"];
    if (operation !== "Apply" && operation !== "Update")
      throw new Error("operation must be `Apply` or `Update`");
    const apiVersion = typeof e["apiVersion"] === "string" ? e["apiVersion"] : "";
    if (apiVersion === "") throw new Error("apiVersion must not be empty");
    if (e["fieldsType"] === undefined || e["fieldsType"] === "") {
      throw new Error(`missing fieldsType in managed fields entry ${i}`);
    }
    if (e["fieldsType"] !== "FieldsV1") {
      throw new Error(`invalid fieldsType ${JSON.stringify(e["fieldsType"])} in managed fields entry ${i}`);
    }
    const m: ManagerSet = {
      manager: typeof e["manager"] === "string" ? e["manager"] : "",
      operation,
      subresource: typeof e["subresource"] === "string" ? e["subresource"] : "",
      apiVersion,
      set: FieldSet.fromFieldsV1(e["fieldsV1"] ?? {}),
      time: typeof e["time"] === "string" ? e["time"] : undefined,
    };
    managed.set(managerIdentifier(m), m);
  });
  return managed;
}

const timeSeconds = (t: string | undefined): number => {
  const ms = t === undefined ? NaN : Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
};

const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** EncodeManagedFields: the entries, sorted as upstream sorts them. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const entries = [...managed.values()].map((m): ManagedFieldsEntry => ({
    manager: m.manager,
    operation: m.operation,
    apiVersion: m.apiVersion,
    ...(m.time !== undefined ? { time: m.time } : {}),
    fieldsType: "FieldsV1",
    fieldsV1: m.set.toFieldsV1(),
    ...(m.subresource !== "" ? { subresource: m.subresource } : {}),
  }));
  return entries.sort(
    (p, q) =>
      byteCompare(p.operation, q.operation) ||
      timeSeconds(p.time) - timeSeconds(q.time) ||
      byteCompare(p.manager, q.manager) ||
      byteCompare(p.apiVersion, q.apiVersion) ||
      byteCompare(p.subresource ?? "", q.subresource ?? ""),
  );
}

// ---- the updater ------------------------------------------------------------------------------

/** What the strip-meta manager removes from the writing manager's set. */
const strippedFields = FieldSet.of(
  fieldPath("apiVersion"),
  fieldPath("kind"),
  fieldPath("metadata"),
  fieldPath("metadata", "name"),
  fieldPath("metadata", "namespace"),
  fieldPath("metadata", "creationTimestamp"),
  fieldPath("metadata", "selfLink"),
  fieldPath("metadata", "uid"),
  fieldPath("metadata", "clusterName"),
  fieldPath("metadata", "generation"),
  fieldPath("metadata", "managedFields"),
  fieldPath("metadata", "resourceVersion"),
);

export const stripMeta = (set: FieldSet): FieldSet => set.difference(strippedFields);

/** Conflicting fields by manager identifier (merge.Conflicts, grouped). */
export class ManagerConflicts extends Error {
  override readonly name = "ManagerConflicts";
  constructor(readonly conflicts: ReadonlyMap<string, FieldSet>) {
    super("apply conflicts");
  }
}

/**
 * Updater.update: other managers lose the fields that changed or appeared (a conflict unless
 * `force`) and the fields that disappeared; empty entries go. `workflow` is the writing
 * manager's identifier, which is left alone. Returns new managers and the comparison.
 */
export function updateOthers(
  oldObject: JsonValue,
  newObject: JsonValue,
  managers: Managed,
  workflow: string,
  force: boolean,
  scope: FieldManagementScope,
): { managers: Managed; comparison: Comparison } {
  const raw = compare(oldObject, newObject, scope.type);
  const comparison: Comparison = {
    modified: raw.modified.recursiveDifference(scope.resetFields),
    added: raw.added.recursiveDifference(scope.resetFields),
    removed: raw.removed.recursiveDifference(scope.resetFields),
  };
  const changed = comparison.modified.union(comparison.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [id, m] of managers) {
    if (id === workflow) continue;
    const conflict = m.set.intersection(changed);
    if (!conflict.empty()) conflicts.set(id, conflict);
  }
  if (!force && conflicts.size > 0) throw new ManagerConflicts(conflicts);
  const out: Managed = new Map();
  for (const [id, m] of managers) {
    let set = m.set;
    if (id !== workflow) {
      const conflict = conflicts.get(id);
      if (conflict !== undefined) set = set.difference(conflict);
      set = set.difference(comparison.removed);
    }
    if (!set.empty()) out.set(id, set === m.set ? m : { ...m, set });
  }
  return { managers: out, comparison };
}

const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = "ancient-changes";

/** capManagersManager: folds the oldest "Update" entries into per-version "ancient-changes". */
export function capUpdateManagers(managed: Managed): Managed {
  const updaters = [...managed].filter(([, m]) => m.operation === "Update").map(([id]) => id);
  if (updaters.length <= MAX_UPDATE_MANAGERS) return managed;
  const out: Managed = new Map(managed);
  updaters.sort((a, b) => {
    const ta = timeSeconds(managed.get(a)?.time);
    const tb = timeSeconds(managed.get(b)?.time);
    return ta !== tb ? ta - tb : byteCompare(a, b);
  });
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
    const id = updaters[i] as string;
    const m = out.get(id);
    if (m === undefined) continue;
    const bucket = {
      manager: ANCIENT_CHANGES,
      operation: "Update" as const,
      apiVersion: m.apiVersion,
      subresource: "",
    };
    const bucketId = managerIdentifier(bucket);
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    if (!out.has(bucketId)) {
      const f = out.get(first);
      out.delete(first);
      if (f !== undefined) out.set(bucketId, { ...bucket, set: f.set, time: f.time });
    }
    const b = out.get(bucketId);
    out.set(bucketId, { ...bucket, set: m.set.union(b?.set ?? new FieldSet()), time: m.time });
    out.delete(id);
    length--;
  }
  return out;
}

// ---- Update (create, update, non-apply patch) ---------------------------------------------------

const metadataOf = (obj: JsonValue | undefined): JsonObject | undefined => {
  const meta = obj !== null && typeof obj === "object" && !Array.isArray(obj) ? obj["metadata"] : undefined;
  return meta !== null && typeof meta === "object" && !Array.isArray(meta) ? meta : undefined;
};

/** `obj` without metadata.managedFields (a shallow copy when it had them). */
export function withoutManagedFields(obj: JsonObject): JsonObject {
  const meta = metadataOf(obj);
  if (meta === undefined || !Object.hasOwn(meta, "managedFields")) return obj;
  const { managedFields: _mf, ...rest } = meta;
  return { ...obj, metadata: rest };
}

/** True when a write asks to reset managedFields: `[]` or `[{}]` (isResetManagedFields). */
function isReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isObject(entries[0]) && Object.keys(entries[0]).length === 0;
}

/** decodeLiveOrNew: the managed fields a write starts from. */
function startingManaged(current: JsonObject | undefined, next: JsonObject, subresource: string): Managed {
  const live = (): Managed => {
    try {
      return decodeManagedFields(metadataOf(current)?.["managedFields"]);
    } catch {
      return new Map();
    }
  };
  // A subresource write never sets managedFields; and a client that sends none (or broken
  // ones) keeps the live object's, so that clients unaware of them never drop them.
  if (subresource !== "") return live();
  const given = metadataOf(next)?.["managedFields"];
  if (isReset(given)) return new Map();
  try {
    const managed = decodeManagedFields(given);
    return managed.size > 0 ? managed : live();
  } catch {
    return live();
  }
}

export interface UpdateArgs {
  /** The stored object; undefined on create. Not changed. */
  readonly current: JsonObject | undefined;
  /** The object about to be stored (its managedFields, if any, are what the client sent). Not changed. */
  readonly next: JsonObject;
  /** The field manager: ?fieldManager= or the User-Agent's prefix. */
  readonly manager: string;
  /** "" or the subresource written through. */
  readonly subresource: string;
  /** RFC 3339 with second precision. */
  readonly time: string;
  readonly scope: FieldManagementScope;
}

/**
 * What every create, update and non-apply patch does to managedFields (FieldManager.Update):
 * returns the entries to store with `next` (an empty list means none). Pure.
 */
export function updateManagedFields(args: UpdateArgs): ManagedFieldsEntry[] {
  const { current, next, scope, subresource } = args;
  const managed = startingManaged(current, next, subresource);
  const live = withoutManagedFields(current ?? scope.zero);
  const object = withoutManagedFields(next);
  const id = managerIdentifier({
    manager: args.manager,
    operation: "Update",
    apiVersion: scope.apiVersion,
    subresource,
  });
  // managedFieldsUpdater: the write runs as "current-operation"; the manager's earlier entry
  // is one of the others, so it too loses what this write removes or changes.
  const operation = "current-operation";
  const { managers, comparison } = updateOthers(live, object, managed, operation, true, scope);
  const changed = stripMeta(
    comparison.modified
      .union(comparison.added)
      .difference(comparison.removed)
      .recursiveDifference(scope.resetFields),
  );
  const result: Managed = new Map(managers);
  if (!changed.empty()) {
    const previous = result.get(id);
    result.set(id, {
      manager: args.manager,
      operation: "Update",
      subresource,
      apiVersion: scope.apiVersion,
      set: previous === undefined ? changed : changed.union(previous.set),
      time: args.time,
    });
  }
  return encodeManagedFields(capUpdateManagers(result));
}

/**
 * For the generic store: sets `obj.metadata.managedFields` to what a write of `obj` over
 * `current` (undefined on create) by `manager` gives, or removes it when no entry is left.
 * Changes `obj` (the store's private copy), never `current`.
 */
export function recordManagedFields(
  def: ScopeSource,
  current: Readonly<Record<string, unknown>> | undefined,
  obj: { metadata?: { managedFields?: unknown[] } },
  manager: string,
  subresource: string,
  time: string,
): void {
  const scope = scopeFor(def, subresource);
  const entries = updateManagedFields({
    current: current as JsonObject | undefined,
    next: obj as JsonObject,
    manager,
    subresource,
    time,
    scope,
  });
  const meta = (obj.metadata ??= {});
  if (entries.length > 0) meta.managedFields = entries;
  else delete meta.managedFields;
}
