// Field paths and sets of them, as sigs.k8s.io/structured-merge-diff's fieldpath package
// models them: a path element names a struct field or map key (`f:name`), an associative
// list item by its keys (`k:{"name":"x"}`), a set item by its value (`v:"x"`) or a list index
// (`i:0`). A FieldSet is a tree of members (paths owned as leaves) and children (paths with
// owned descendants); it serializes to the FieldsV1 JSON of metadata.managedFields.

import { compareGoStrings, goMarshal } from "../patch/go-values.ts";
import { isJsonObject, type JsonObject, type JsonValue } from "../patch/json.types.ts";

export type PathElement =
  | { readonly kind: "field"; readonly name: string }
  /** An associative list item: its key fields, sorted by name. */
  | { readonly kind: "key"; readonly fields: readonly (readonly [string, JsonValue])[] }
  | { readonly kind: "value"; readonly value: JsonValue }
  | { readonly kind: "index"; readonly index: number };

export type Path = readonly PathElement[];

export const fieldElement = (name: string): PathElement => ({ kind: "field", name });
export const valueElement = (value: JsonValue): PathElement => ({ kind: "value", value });
export const indexElement = (index: number): PathElement => ({ kind: "index", index });
export function keyElement(fields: Readonly<Record<string, JsonValue>>): PathElement {
  const sorted = Object.entries(fields).sort(([a], [b]) => compareGoStrings(a, b));
  return { kind: "key", fields: sorted };
}

/** A path from field names: `path("metadata", "labels")`. */
export const fieldPath = (...names: string[]): Path => names.map(fieldElement);

/** The FieldsV1 key of an element (`f:x`, `k:{...}`, `v:...`, `i:N`); also its identity. */
export function serializePathElement(pe: PathElement): string {
  switch (pe.kind) {
    case "field":
      return `f:${pe.name}`;
    case "key":
      return `k:{${pe.fields.map(([k, v]) => `${goMarshal(k)}:${goMarshal(v)}`).join(",")}}`;
    case "value":
      return `v:${goMarshal(pe.value)}`;
    case "index":
      return `i:${pe.index}`;
  }
}

/** Reads a FieldsV1 key; undefined for an element type this version does not know (upstream drops those). */
export function deserializePathElement(s: string): PathElement | undefined {
  if (s.length < 2 || s[1] !== ":") throw new Error(`missing colon: ${s}`);
  const body = s.slice(2);
  switch (s.charAt(0)) {
    case "f":
      return { kind: "field", name: body };
    case "v":
      return { kind: "value", value: JSON.parse(body) as JsonValue };
    case "k": {
      const parsed = JSON.parse(body) as JsonValue;
      if (!isJsonObject(parsed)) throw new Error(`key must be an object: ${s}`);
      return keyElement(parsed);
    }
    case "i": {
      const index = Number(body);
      if (!/^-?\d+$/.test(body) || !Number.isSafeInteger(index)) throw new Error(`invalid index: ${s}`);
      return { kind: "index", index };
    }
    default:
      return undefined;
  }
}

/** value.ToString: how conflict messages print a key or set value. */
function valueString(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(",")}]`;
  if (isJsonObject(v)) {
    const keys = Object.keys(v).sort(compareGoStrings);
    return `{${keys.map((k) => `${k}=${valueString(v[k] as JsonValue)}`).join(";")}}`;
  }
  return String(v);
}

/** PathElement.String: `.name`, `[name="x",protocol="TCP"]`, `[="x"]`, `[0]`. */
export function pathElementString(pe: PathElement): string {
  switch (pe.kind) {
    case "field":
      return `.${pe.name}`;
    case "key":
      return `[${pe.fields.map(([k, v]) => `${k}=${valueString(v)}`).join(",")}]`;
    case "value":
      return `[=${valueString(pe.value)}]`;
    case "index":
      return `[${pe.index}]`;
  }
}

/** Path.String, as conflicts name fields: `.spec.containers[name="c"].image`. */
export const pathString = (path: Path): string => path.map(pathElementString).join("");

// ---- ordering (value.Compare and PathElement.Compare) -------------------------------------------

const kindRank = (v: JsonValue): number => {
  if (typeof v === "number") return 0;
  if (typeof v === "string") return 1;
  if (typeof v === "boolean") return 2;
  if (Array.isArray(v)) return 3;
  if (v === null) return 5;
  return 4;
};

/** value.Compare: numbers < strings < bools < lists < maps < null; within a kind, as Go orders them. */
export function compareValues(a: JsonValue, b: JsonValue): number {
  const ra = kindRank(a);
  const rb = kindRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return compareGoStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i] as JsonValue, b[i] as JsonValue);
      if (c !== 0) return c;
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    // MapCompare: lexical over the union of keys in order; a missing key sorts after a present one.
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareGoStrings);
    const la = Object.keys(a).length;
    const lb = Object.keys(b).length;
    for (let i = 0; i < keys.length; i++) {
      if (i === la) return -1;
      if (i === lb) return 1;
      const k = keys[i] as string;
      if (!(k in a)) return 1;
      if (!(k in b)) return -1;
      const c = compareValues(a[k] as JsonValue, b[k] as JsonValue);
      if (c !== 0) return c;
    }
    return 0;
  }
  return 0;
}

const elementRank = { field: 0, key: 1, value: 2, index: 3 } as const;

/** PathElement.Compare: fields < keys < values < indexes, then by content. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return elementRank[a.kind] < elementRank[b.kind] ? -1 : 1;
  switch (a.kind) {
    case "field":
      return compareGoStrings(a.name, (b as typeof a).name);
    case "key": {
      const bf = (b as typeof a).fields;
      for (let i = 0; ; i++) {
        const fa = a.fields[i];
        const fb = bf[i];
        if (fa === undefined && fb === undefined) return 0;
        if (fa === undefined) return -1;
        if (fb === undefined) return 1;
        const c = compareGoStrings(fa[0], fb[0]) || compareValues(fa[1], fb[1]);
        if (c !== 0) return c;
      }
    }
    case "value":
      return compareValues(a.value, (b as typeof a).value);
    case "index": {
      const bi = (b as typeof a).index;
      return a.index < bi ? -1 : a.index > bi ? 1 : 0;
    }
  }
}

// ---- FieldSet ---------------------------------------------------------------------------------

/**
 * A set of field paths (fieldpath.Set). Immutable from the outside: every operation returns a
 * new set and never changes its arguments, except `insert`, which callers use only while
 * building a set they own. Children are never empty.
 */
export class FieldSet {
  private readonly members = new Map<string, PathElement>();
  private readonly children = new Map<string, { pe: PathElement; set: FieldSet }>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path; the empty path (the whole object) is never tracked, as upstream. */
  insert(path: Path): void {
    const [first, ...rest] = path;
    if (first === undefined) return;
    const key = serializePathElement(first);
    if (rest.length === 0) {
      this.members.set(key, first);
      return;
    }
    let child = this.children.get(key);
    if (child === undefined) {
      child = { pe: first, set: new FieldSet() };
      this.children.set(key, child);
    }
    child.set.insert(rest);
  }

  has(path: Path): boolean {
    const [first, ...rest] = path;
    if (first === undefined) return false;
    const key = serializePathElement(first);
    if (rest.length === 0) return this.members.has(key);
    return this.children.get(key)?.set.has(rest) ?? false;
  }

  empty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  /** Whether the element is a member at this level (without descending). */
  hasMember(pe: PathElement): boolean {
    return this.members.has(serializePathElement(pe));
  }

  /** The paths under `pe` (without it); empty when none. */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(serializePathElement(pe))?.set ?? new FieldSet();
  }

  /** The element-and-subset pairs of the children, sorted. */
  childEntries(): { pe: PathElement; set: FieldSet }[] {
    return [...this.children.values()].sort((a, b) => comparePathElements(a.pe, b.pe));
  }

  memberElements(): PathElement[] {
    return [...this.members.values()].sort(comparePathElements);
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, pe] of other.members) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      out.children.set(k, { pe: c.pe, set: o === undefined ? c.set : c.set.union(o.set) });
    }
    for (const [k, c] of other.children) if (!out.children.has(k)) out.children.set(k, c);
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (o === undefined) continue;
      const i = c.set.intersection(o.set);
      if (!i.empty()) out.children.set(k, { pe: c.pe, set: i });
    }
    return out;
  }

  /** Members not in `other`; children less `other`'s children (not recursive through members). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (o === undefined) {
        out.children.set(k, c);
        continue;
      }
      const d = c.set.difference(o.set);
      if (!d.empty()) out.children.set(k, { pe: c.pe, set: d });
    }
    return out;
  }

  /** Like difference, but a member of `other` also removes everything under it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      if (other.members.has(k)) continue;
      const o = other.children.get(k);
      if (o === undefined) {
        out.children.set(k, c);
        continue;
      }
      const d = c.set.recursiveDifference(o.set);
      if (!d.empty()) out.children.set(k, { pe: c.pe, set: d });
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this.members.size !== other.members.size || this.children.size !== other.children.size) return false;
    for (const k of this.members.keys()) if (!other.members.has(k)) return false;
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (o === undefined || !c.set.equals(o.set)) return false;
    }
    return true;
  }

  /** Every path, in upstream's Iterate order: this level's members, then each child's paths. */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = this.memberElements().map((pe) => [...prefix, pe]);
    for (const { pe, set } of this.childEntries()) out.push(...set.paths([...prefix, pe]));
    return out;
  }

  /**
   * The FieldsV1 object: one key per element, `{}` for a member, `{".": {}, …}` for an element
   * that is both a member and has children ("." first, then elements in sorted order).
   */
  toFieldsV1(): JsonObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JsonObject {
    const out: JsonObject = {};
    if (includeSelf && !this.empty()) out["."] = {};
    const keys = new Map<string, PathElement>();
    for (const [k, pe] of this.members) keys.set(k, pe);
    for (const [k, c] of this.children) keys.set(k, c.pe);
    const sorted = [...keys].sort(([, a], [, b]) => comparePathElements(a, b));
    for (const [k] of sorted) {
      const child = this.children.get(k);
      out[k] = child === undefined ? {} : child.set.emit(this.members.has(k));
    }
    return out;
  }

  /** Reads FieldsV1 JSON (throws on a malformed key; drops element types it does not know). */
  static fromFieldsV1(json: unknown): FieldSet {
    const set = new FieldSet();
    if (!isJsonObject(json)) throw new Error("FieldsV1 must be a JSON object");
    for (const [key, value] of Object.entries(json)) {
      if (key === ".") continue;
      const pe = deserializePathElement(key);
      if (pe === undefined) continue;
      const sub = isJsonObject(value) ? value : {};
      const entries = Object.keys(sub);
      const isMember = entries.length === 0 || entries.includes(".");
      const childSet = FieldSet.fromFieldsV1(sub);
      const k = serializePathElement(pe);
      if (isMember) set.members.set(k, pe);
      if (!childSet.empty()) set.children.set(k, { pe, set: childSet });
    }
    return set;
  }

  toString(): string {
    return this.paths().map(pathString).join("\n");
  }
}
