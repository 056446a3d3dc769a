// Typed walks over plain JSON objects, as structured-merge-diff's typed package does them:
// the set of fields an object specifies (ToFieldSet), the fields that differ between two
// objects (Compare), the merge of an applied configuration into a live object (Merge) and the
// removal of a set of fields (RemoveItems). Every function here is pure: inputs are never
// changed, outputs share no structure with them that a caller could change by accident.

import { isJsonObject, type JsonObject, type JsonValue } from "../patch/json.types.ts";
import {
  FieldSet,
  fieldElement,
  indexElement,
  keyElement,
  pathElementString,
  pathString,
  serializePathElement,
  valueElement,
  type Path,
  type PathElement,
} from "./fieldpath.ts";
import { atomicDeducedType, deducedType, type FieldType, type ListType } from "./schema-types.ts";

/** Deep equality of decoded JSON (value.Equals): maps by keys, lists in order. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

// ---- how a type applies to values ---------------------------------------------------------------

/** What a node is, once its type meets its value(s). */
type View =
  | { readonly kind: "leaf" }
  | {
      readonly kind: "map";
      readonly atomic: boolean;
      declared(name: string): boolean;
      child(name: string): FieldType;
    }
  | {
      readonly kind: "list";
      readonly atomic: boolean;
      readonly list: ListType | undefined;
      child(): FieldType;
    };

const leafView: View = { kind: "leaf" };

function shapeOf(v: JsonValue | undefined): "map" | "list" | "scalar" | "none" {
  if (v === undefined || v === null) return "none";
  if (Array.isArray(v)) return "list";
  return isJsonObject(v) ? "map" : "scalar";
}

/**
 * The view of a node of type `t` holding `values` (one, or the two sides of a compare/merge).
 * A value whose shape the type does not allow, or two sides of different shapes, make a leaf.
 */
function viewOf(t: FieldType, ...values: (JsonValue | undefined)[]): View {
  const shapes = new Set(values.map(shapeOf));
  shapes.delete("none");
  if (shapes.size > 1) return leafView;
  const shape = [...shapes][0];
  switch (t.kind) {
    case "scalar":
      return leafView;
    case "map":
      if (shape !== undefined && shape !== "map") return leafView;
      return {
        kind: "map",
        atomic: t.relationship === "atomic",
        declared: (name) => t.field(name) !== undefined,
        child: (name) => t.field(name) ?? t.element() ?? deducedType,
      };
    case "list":
      if (shape !== undefined && shape !== "list") return leafView;
      return { kind: "list", atomic: t.relationship === "atomic", list: t, child: () => t.element() };
    case "deduced":
      if (shape === "map") {
        const child = t.atomic ? atomicDeducedType : deducedType;
        return { kind: "map", atomic: t.atomic, declared: () => false, child: () => child };
      }
      if (shape === "list")
        return { kind: "list", atomic: true, list: undefined, child: () => atomicDeducedType };
      return leafView;
  }
}

/** The type one level down a path element, as EnsureNamedFieldsAreMembers walks a set. */
function childTypeOf(t: FieldType, pe: PathElement): FieldType {
  if (t.kind === "map" && pe.kind === "field") return t.field(pe.name) ?? t.element() ?? deducedType;
  if (t.kind === "list" && pe.kind === "key") return t.element();
  if (t.kind === "deduced" && pe.kind === "field") return t.atomic ? atomicDeducedType : deducedType;
  return atomicDeducedType;
}

// ---- list items -------------------------------------------------------------------------------

/** A list item's path element, or why it has none (upstream's listItemToPathElement). */
export function listItemElement(
  list: ListType | undefined,
  item: JsonValue,
  index: number,
): PathElement | string {
  if (list === undefined || list.relationship !== "associative") return indexElement(index);
  if (list.keys.length > 0) {
    if (item === null) return "associative list with keys may not have a null element";
    if (!isJsonObject(item)) return "associative list with keys may not have non-map elements";
    const key: Record<string, JsonValue> = {};
    for (const name of list.keys) {
      const v = Object.hasOwn(item, name) ? item[name] : list.keyDefaults.get(name);
      if (v === undefined) {
        return `associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`;
      }
      key[name] = v;
    }
    return keyElement(key);
  }
  if (isJsonObject(item)) return "associative list without keys has an element that's a map type";
  if (Array.isArray(item)) return "not supported: associative list with lists as elements";
  if (item === null) return "associative list without keys has an element that's an explicit null";
  return valueElement(item);
}

interface IndexedItem {
  readonly pe: PathElement;
  readonly key: string;
  readonly values: JsonValue[];
}

/** Items grouped by path element, in first-seen order; undefined when an item has no element. */
function indexItems(
  view: Extract<View, { kind: "list" }>,
  list: readonly JsonValue[],
): IndexedItem[] | undefined {
  const byKey = new Map<string, IndexedItem>();
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as JsonValue;
    const pe = listItemElement(view.list, item, i);
    if (typeof pe === "string") return undefined;
    const key = serializePathElement(pe);
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, { pe, key, values: [item] });
    else seen.values.push(item);
  }
  return [...byKey.values()];
}

const asArray = (v: JsonValue | undefined): readonly JsonValue[] => (Array.isArray(v) ? v : []);
const asObject = (v: JsonValue | undefined): JsonObject => (isJsonObject(v ?? null) ? (v as JsonObject) : {});

// ---- validation of an applied configuration -----------------------------------------------------

/**
 * What upstream's conversion of an apply configuration to a typed value refuses: list items
 * an associative list cannot key, and duplicate keys. Errors read `<path>: <message>`.
 */
export function validateApplied(value: JsonValue, type: FieldType): string[] {
  const errors: string[] = [];
  const walk = (path: Path, v: JsonValue, t: FieldType): void => {
    const view = viewOf(t, v);
    if (view.kind === "map" && isJsonObject(v)) {
      for (const [k, child] of Object.entries(v)) walk([...path, fieldElement(k)], child, view.child(k));
    } else if (view.kind === "list" && Array.isArray(v) && !view.atomic) {
      const seen = new Set<string>();
      v.forEach((item, i) => {
        const pe = listItemElement(view.list, item, i);
        if (typeof pe === "string") {
          errors.push(`${pathString(path)}: element ${i}: ${pe}`);
          return;
        }
        const key = serializePathElement(pe);
        if (seen.has(key))
          errors.push(`${pathString(path)}: duplicate entries for key ${pathElementString(pe)}`);
        seen.add(key);
        walk([...path, pe], item, view.child());
      });
    }
  };
  walk([], value, type);
  return errors;
}

// ---- ToFieldSet ---------------------------------------------------------------------------------

/**
 * The fields an object specifies: scalars, atomic lists and maps as leaves; map keys that are
 * not declared struct fields and every list item as members too (their "."), struct fields
 * only through their descendants.
 */
export function toFieldSet(value: JsonValue, type: FieldType): FieldSet {
  const out = new FieldSet();
  const walk = (path: Path, v: JsonValue, t: FieldType): void => {
    const view = viewOf(t, v);
    switch (view.kind) {
      case "leaf":
        out.insert(path);
        return;
      case "list": {
        if (view.atomic) {
          out.insert(path);
          return;
        }
        if (!Array.isArray(v)) return;
        const items = indexItems(view, v);
        if (items === undefined) {
          out.insert(path); // not keyable: owned as a whole
          return;
        }
        for (const { pe, values } of items) {
          const itemPath = [...path, pe];
          for (const item of values) walk(itemPath, item, view.child());
          out.insert(itemPath);
        }
        return;
      }
      case "map": {
        if (view.atomic) {
          out.insert(path);
          return;
        }
        if (!isJsonObject(v)) return;
        for (const [k, child] of Object.entries(v)) {
          const childPath = [...path, fieldElement(k)];
          walk(childPath, child, view.child(k));
          if (!view.declared(k)) out.insert(childPath);
        }
        return;
      }
    }
  };
  walk([], value, type);
  return out;
}

// ---- Compare ----------------------------------------------------------------------------------

export interface Comparison {
  /** Fields present in both objects but different. */
  readonly modified: FieldSet;
  /** Fields only the right-hand object has. */
  readonly added: FieldSet;
  /** Fields only the left-hand object has. */
  readonly removed: FieldSet;
}

/**
 * The fields that differ from `lhs` to `rhs` (TypedValue.Compare). Leaves are compared by
 * value; a map, list or list item that appears or disappears as a whole is added or removed
 * itself too (the "." of its entry).
 */
export function compare(lhs: JsonValue, rhs: JsonValue, type: FieldType): Comparison {
  const c = { modified: new FieldSet(), added: new FieldSet(), removed: new FieldSet() };
  const leaf = (path: Path, l: JsonValue | undefined, r: JsonValue | undefined): void => {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!jsonEqual(l, r)) c.modified.insert(path);
  };
  const walk = (path: Path, l: JsonValue | undefined, r: JsonValue | undefined, t: FieldType): void => {
    const view = viewOf(t, l, r);
    if (view.kind === "leaf") return leaf(path, l, r);
    if (view.kind === "list") {
      const la = asArray(l);
      const ra = asArray(r);
      if (view.atomic || (la.length === 0 && ra.length === 0)) return leaf(path, l, r);
      const li = indexItems(view, la);
      const ri = indexItems(view, ra);
      if (li === undefined || ri === undefined) return leaf(path, l, r);
      const lm = new Map(li.map((i) => [i.key, i]));
      const rm = new Map(ri.map((i) => [i.key, i]));
      const all = [...li, ...ri.filter((i) => !lm.has(i.key))];
      for (const { pe, key } of all) {
        const lv = lm.get(key)?.values ?? [];
        const rv = rm.get(key)?.values ?? [];
        const itemPath = [...path, pe];
        if (lv.length <= 1 && rv.length <= 1) walk(itemPath, lv[0], rv[0], view.child());
        else if (lv.length >= 2 && rv.length >= 2) {
          // Duplicates on both sides: compared as a whole.
          if (!jsonEqual(lv, rv)) c.modified.insert(itemPath);
        } else if (lv.length >= 2) {
          if (rv.length !== 0) walk(itemPath, undefined, rv[0], view.child());
          c.removed.insert(itemPath);
        } else {
          if (lv.length !== 0) walk(itemPath, lv[0], undefined, view.child());
          c.added.insert(itemPath);
        }
      }
    } else {
      const lm = asObject(l);
      const rm = asObject(r);
      const empty = Object.keys(lm).length === 0 && Object.keys(rm).length === 0;
      if (view.atomic || empty) return leaf(path, l, r);
      const keys = [...new Set([...Object.keys(lm), ...Object.keys(rm)])];
      for (const k of keys) {
        const lv = Object.hasOwn(lm, k) ? lm[k] : undefined;
        const rv = Object.hasOwn(rm, k) ? rm[k] : undefined;
        walk([...path, fieldElement(k)], lv, rv, view.child(k));
      }
    }
    // A map or list that is there on one side only is itself added or removed.
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
  };
  walk([], lhs, rhs, type);
  return c;
}

// ---- Merge ------------------------------------------------------------------------------------

/**
 * `rhs` merged into `lhs` (TypedValue.Merge): leaves, atomic lists and maps from `rhs` win;
 * maps merge key by key; associative lists merge item by item, keeping the live order for
 * items `rhs` does not mention and `rhs`'s order among the ones it does.
 */
export function merge(lhs: JsonValue, rhs: JsonValue, type: FieldType): JsonValue {
  return mergeNode(lhs, rhs, type) ?? null;
}

function mergeNode(l: JsonValue | undefined, r: JsonValue | undefined, t: FieldType): JsonValue | undefined {
  const view = viewOf(t, l, r);
  const keepRHS = r !== undefined ? r : l;
  if (view.kind === "leaf") return keepRHS;
  if (view.kind === "list") {
    const la = asArray(l);
    const ra = asArray(r);
    if (view.atomic || (la.length === 0 && ra.length === 0)) return keepRHS;
    const li = indexItems(view, la);
    const ri = indexItems(view, ra);
    if (li === undefined || ri === undefined) return keepRHS;
    const out = mergeListItems(li, ri, view.child());
    return out.length > 0 ? out : undefined;
  }
  const lm = asObject(l);
  const rm = asObject(r);
  if (view.atomic || (Object.keys(lm).length === 0 && Object.keys(rm).length === 0)) return keepRHS;
  const out: JsonObject = {};
  const keys = [...new Set([...Object.keys(lm), ...Object.keys(rm)])];
  for (const k of keys) {
    const lv = Object.hasOwn(lm, k) ? lm[k] : undefined;
    const rv = Object.hasOwn(rm, k) ? rm[k] : undefined;
    const v = mergeNode(lv, rv, view.child(k));
    if (v !== undefined) setOwn(out, k, v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Upstream's merge order: walk both lists, keeping shared items in the applied order. */
function mergeListItems(lhs: IndexedItem[], rhs: IndexedItem[], elem: FieldType): JsonValue[] {
  const out: JsonValue[] = [];
  const lm = new Map(lhs.map((i) => [i.key, i]));
  const rm = new Map(rhs.map((i) => [i.key, i]));
  const shared = rhs.filter((i) => lm.has(i.key)).map((i) => i.key);
  let nextShared = shared.shift();
  const emit = (key: string, withRHS: boolean): void => {
    const lv = lm.get(key)?.values ?? [];
    const rv = withRHS ? rm.get(key)?.values[0] : undefined;
    if (rv === undefined && lv.length > 1) {
      out.push(...lv); // duplicates the applied object does not mention stay as they are
      return;
    }
    const v = mergeNode(lv[0], rv, elem);
    if (v !== undefined) out.push(v);
  };
  let li = 0;
  let ri = 0;
  while (li < lhs.length || ri < rhs.length) {
    const progress = li + ri;
    const lItem = lhs[li];
    const rItem = rhs[ri];
    if (lItem !== undefined && rItem !== undefined) {
      if (lItem.key === rItem.key) {
        emit(lItem.key, true);
        li++;
        ri++;
        nextShared = shared.shift();
        continue;
      }
      if (rm.has(lItem.key) && nextShared !== undefined && nextShared !== lItem.key) {
        li++; // shared, but not the one wanted now: it comes with the applied order
        continue;
      }
    }
    if (lItem !== undefined && !rm.has(lItem.key)) {
      emit(lItem.key, false);
      li++;
      continue;
    }
    if (rItem !== undefined) {
      emit(rItem.key, true);
      ri++;
      if (nextShared === rItem.key) nextShared = shared.shift();
    }
    if (li + ri === progress) li++; // never stuck (upstream's walk always advances)
  }
  return out;
}

function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

// ---- RemoveItems ------------------------------------------------------------------------------

/**
 * `value` without the members of `toRemove` (TypedValue.RemoveItems): a member removes its
 * field, map key or list item with everything under it; atomic values are never entered. A
 * map or list left empty by removals disappears (kube's typed objects omit it).
 */
export function removeItems(value: JsonValue, toRemove: FieldSet, type: FieldType): JsonValue {
  return removeNode(value, toRemove, type) ?? {};
}

function removeNode(v: JsonValue, toRemove: FieldSet, t: FieldType): JsonValue | undefined {
  const view = viewOf(t, v);
  if (view.kind === "leaf" || view.atomic) return v;
  if (view.kind === "list") {
    if (!Array.isArray(v) || v.length === 0) return v;
    const out: JsonValue[] = [];
    for (let i = 0; i < v.length; i++) {
      const item = v[i] as JsonValue;
      const pe = listItemElement(view.list, item, i);
      if (typeof pe === "string") return v;
      if (toRemove.hasMember(pe)) continue;
      const sub = toRemove.withPrefix(pe);
      const kept = sub.empty() ? item : removeNode(item, sub, view.child());
      if (kept !== undefined) out.push(kept);
    }
    return out.length > 0 ? out : undefined;
  }
  if (!isJsonObject(v) || Object.keys(v).length === 0) return v;
  const out: JsonObject = {};
  for (const [k, child] of Object.entries(v)) {
    const pe = fieldElement(k);
    if (toRemove.hasMember(pe)) continue;
    const sub = toRemove.withPrefix(pe);
    const kept = sub.empty() ? child : removeNode(child, sub, view.child(k));
    if (kept !== undefined) setOwn(out, k, kept);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

// ---- EnsureNamedFieldsAreMembers ---------------------------------------------------------------

/**
 * `set` with every declared struct field that has owned descendants made a member too, so
 * that removing the set removes those fields (upstream's EnsureNamedFieldsAreMembers).
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, type: FieldType): FieldSet {
  const out = new FieldSet();
  for (const pe of set.memberElements()) out.insert([pe]);
  for (const { pe, set: sub } of set.childEntries()) {
    if (pe.kind === "field" && type.kind === "map" && type.field(pe.name) !== undefined) out.insert([pe]);
    for (const p of ensureNamedFieldsAreMembers(sub, childTypeOf(type, pe)).paths([pe])) out.insert(p);
  }
  return out;
}
