// Strategic merge patch (application/strategic-merge-patch+json): a port of the apply half of
// k8s.io/apimachinery/pkg/util/strategicpatch as kube-apiserver v1.32 runs it
// (StrategicMergeMapPatch with MergeParallelList and IgnoreUnmatchedNulls), driven by a
// PatchMeta instead of Go struct tags. The port keeps upstream's structure and names, its
// quirks included (e.g. a list element the patch appends keeps its nulls; a field the patch
// adds loses them and its directives), because clients such as kubectl depend on them.
//
// Upstream mutates its inputs; here both are deep-copied first and only the copies change.
// Go iterates maps in random order; here keys are processed in the patch's order.

import { badRequest, internalError, type StatusError } from "../../apierrors/status.ts";
import { checkDecodesToMap, goDecode, GoJsonError } from "./go-json.decoder.ts";
import { goEqual, goFormat, GoPanic, goSliceStable, goType, goTypeName, type GoType } from "./go-values.ts";
import {
  cloneJson,
  hasKey,
  isJsonObject,
  setKey,
  type JsonObject,
  type JsonValue,
  type PatchBody,
  type PatchOptions,
  type PatchTarget,
} from "./json.types.ts";
import { unknownPatchMeta, type PatchMeta } from "./patch-meta.ts";
import { patchInternalError, patchNotApplied } from "./patch.errors.ts";

const directiveMarker = "$patch";
const deleteDirective = "delete";
const replaceDirective = "replace";
const mergeDirective = "merge";
const retainKeysStrategy = "retainKeys";
const deleteFromPrimitiveListDirectivePrefix = "$deleteFromPrimitiveList";
const retainKeysDirective = "$" + retainKeysStrategy;
const setElementOrderDirectivePrefix = "$setElementOrder";

/**
 * How kube answers each strategicpatch error (patch.go's interpretStrategicMergePatchError):
 * the mergepatch format errors are 400, lists of lists a generic 422, anything else a plain
 * error that ErrorToAPIStatus turns into a 500.
 */
type SmpErrorKind = "BadRequest" | "NotApplied" | "Internal";

class SmpError extends Error {
  override readonly name = "SmpError";
  constructor(
    message: string,
    readonly kind: SmpErrorKind,
  ) {
    super(message);
  }
}

// mergepatch's errors, with their text.
const errBadPatchFormatForPrimitiveList = () =>
  new SmpError("invalid patch format of primitive list", "BadRequest");
const errBadPatchFormatForRetainKeys = () => new SmpError("invalid patch format of retainKeys", "BadRequest");
const errBadPatchFormatForSetElementOrderList = () =>
  new SmpError("invalid patch format of setElementOrder list", "BadRequest");
const errNoListOfLists = () => new SmpError("lists of lists are not supported", "NotApplied");
const internal = (message: string) => new SmpError(message, "Internal");
const errNoMergeKey = (m: JsonObject, k: string) =>
  internal(`map: ${goFormat(m)} does not contain declared merge key: ${k}`);
const errBadArgType = (expected: "map[string]interface {}" | "[]interface {}", actual: JsonValue) =>
  internal(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const errBadPatchType = (t: JsonValue, m: JsonObject) =>
  internal(`unknown patch type: ${goFormat(t, "s")} in map: ${goFormat(m)}`);

const mapType = "map[string]interface {}";
const sliceType = "[]interface {}";

interface Lookup {
  schema: PatchMeta;
  strategies: readonly string[];
  mergeKey: string;
}

/** LookupPatchMetadataForStruct/ForSlice: an unknown field has no strategy and no schema. */
function lookup(schema: PatchMeta, key: string): Lookup {
  const f = schema.field(key);
  if (f === undefined) return { schema: unknownPatchMeta, strategies: [], mergeKey: "" };
  return { schema: f.meta, strategies: f.strategies, mergeKey: f.mergeKey ?? "" };
}

/** The strategy besides retainKeys: "merge,retainKeys" → "merge". */
function extractRetainKeysPatchStrategy(strategies: readonly string[]): string {
  switch (strategies.length) {
    case 0:
      return "";
    case 1:
      return strategies[0] === retainKeysStrategy ? "" : (strategies[0] ?? "");
    case 2:
      if (strategies[0] === retainKeysStrategy) return strategies[1] ?? "";
      if (strategies[1] === retainKeysStrategy) return strategies[0] ?? "";
  }
  throw internal(`unexpected patch strategy: ${goFormat([...strategies])}`);
}

/** strings.SplitN(s, "/", 2) and the prefix check. */
function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf("/");
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === deleteFromPrimitiveListDirectivePrefix) throw errBadPatchFormatForPrimitiveList();
    throw errBadPatchFormatForSetElementOrderList();
  }
  return s.slice(slash + 1);
}

const asMap = (v: JsonValue): JsonObject => {
  if (!isJsonObject(v)) throw errBadArgType(mapType, v);
  return v;
};

/** A map's value for a key as Go reads it: nil when absent. */
const lookupKey = (m: JsonObject, k: string): JsonValue => (hasKey(m, k) ? (m[k] as JsonValue) : null);

function handleDirectiveInMergeMap(directive: JsonValue, patch: JsonObject): JsonObject {
  if (directive === replaceDirective) {
    // "$patch: replace": the patch is the result, as sent.
    delete patch[directiveMarker];
    return patch;
  }
  if (directive === deleteDirective) return {};
  throw errBadPatchType(directive, patch);
}

function containsDirectiveMarker(item: JsonValue): boolean {
  return isJsonObject(item) && hasKey(item, directiveMarker);
}

function mergeKeyValueEqual(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (mergeKey === "") return goEqual(left, right);
  const l = asMap(left);
  const r = asMap(right);
  if (!hasKey(l, mergeKey)) throw errNoMergeKey(l, mergeKey);
  if (!hasKey(r, mergeKey)) throw errNoMergeKey(r, mergeKey);
  return goEqual(l[mergeKey] as JsonValue, r[mergeKey] as JsonValue);
}

function extractToDeleteItems(l: JsonValue[]): [JsonValue[], JsonValue[]] {
  const nonDelete: JsonValue[] = [];
  const toDelete: JsonValue[] = [];
  for (const v of l) {
    const m = asMap(v);
    if (hasKey(m, directiveMarker) && m[directiveMarker] === deleteDirective) toDelete.push(v);
    else nonDelete.push(v);
  }
  return [nonDelete, toDelete];
}

/**
 * The items of the patch list must appear in the $setElementOrder list in the same relative
 * order (deletions and other directives are skipped).
 */
function validatePatchWithSetOrderList(
  patchList: JsonValue[],
  setOrderList: JsonValue[],
  mergeKey: string,
): void {
  if (setOrderList.length === 0 || patchList.length === 0) return;
  const nonDeleteList = mergeKey !== "" ? extractToDeleteItems(patchList)[0] : patchList;
  let patchIndex = 0;
  let setOrderIndex = 0;
  while (patchIndex < nonDeleteList.length && setOrderIndex < setOrderList.length) {
    if (containsDirectiveMarker(nonDeleteList[patchIndex] as JsonValue)) {
      patchIndex++;
      continue;
    }
    if (
      mergeKeyValueEqual(
        nonDeleteList[patchIndex] as JsonValue,
        setOrderList[setOrderIndex] as JsonValue,
        mergeKey,
      )
    ) {
      patchIndex++;
    }
    setOrderIndex++;
  }
  if (patchIndex < nonDeleteList.length && setOrderIndex >= setOrderList.length) {
    throw internal(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${setElementOrderDirectivePrefix} list:\n${goFormat(setOrderList)}\n`,
    );
  }
}

/** $retainKeys: clears the original's keys missing from the list; every patched key must be listed. */
function applyRetainKeysDirective(original: JsonObject, patch: JsonObject): void {
  if (!hasKey(patch, retainKeysDirective)) return;
  const retainKeys = patch[retainKeysDirective] as JsonValue;
  delete patch[retainKeysDirective];
  if (!Array.isArray(retainKeys)) throw errBadPatchFormatForRetainKeys();
  for (const v of retainKeys) {
    if (typeof v === "object" && v !== null)
      throw new GoPanic(`runtime error: hash of unhashable type ${goTypeName(v)}`);
  }
  const retained = (k: string): boolean => retainKeys.some((v) => v === k);
  for (const k of Object.keys(patch)) {
    if (
      patch[k] === null ||
      k.startsWith(deleteFromPrimitiveListDirectivePrefix) ||
      k.startsWith(setElementOrderDirectivePrefix)
    ) {
      continue;
    }
    if (!retained(k)) throw errBadPatchFormatForRetainKeys();
  }
  for (const k of Object.keys(original)) {
    if (!retained(k)) delete original[k];
  }
}

/**
 * $setElementOrder/<list>: merges the list with its patch, then orders the result by the
 * directive, the patch and the live list, in that precedence.
 */
function mergePatchIntoOriginal(original: JsonObject, patch: JsonObject, schema: PatchMeta): void {
  for (const key of Object.keys(patch)) {
    if (!hasKey(patch, key) || !key.startsWith(setElementOrderDirectivePrefix)) continue;
    const setElementOrder = patch[key] as JsonValue;
    delete patch[key];
    if (!Array.isArray(setElementOrder)) throw errBadArgType(sliceType, setElementOrder);
    const originalKey = extractKey(key, setElementOrderDirectivePrefix);
    const foundOriginal = hasKey(original, originalKey);
    const foundPatch = hasKey(patch, originalKey);
    let originalFieldValue: JsonValue[] = [];
    let patchFieldValue: JsonValue[] = [];
    if (foundOriginal) {
      const v = original[originalKey] as JsonValue;
      if (!Array.isArray(v)) throw errBadArgType(sliceType, v);
      originalFieldValue = v;
    }
    if (foundPatch) {
      const v = patch[originalKey] as JsonValue;
      if (!Array.isArray(v)) throw errBadArgType(sliceType, v);
      patchFieldValue = v;
    }
    const { schema: subschema, strategies, mergeKey } = lookup(schema, originalKey);
    const patchStrategy = extractRetainKeysPatchStrategy(strategies);
    validatePatchWithSetOrderList(patchFieldValue, setElementOrder, mergeKey);

    let merged: JsonValue[];
    if (foundOriginal && !foundPatch) {
      merged = originalFieldValue;
    } else if (!foundOriginal && foundPatch) {
      merged = removeDirectives(patchFieldValue)[0] as JsonValue[];
    } else if (foundOriginal && foundPatch) {
      merged = mergeSliceHandler(
        originalFieldValue,
        patchFieldValue,
        subschema,
        patchStrategy,
        mergeKey,
        false,
      );
    } else {
      continue;
    }

    const [patchItems, serverOnlyItems] =
      mergeKey === ""
        ? partitionPrimitivesByPresentInList(merged, setElementOrder)
        : partitionMapsByPresentInList(merged, setElementOrder, mergeKey);
    const kind = sliceElementType(originalFieldValue, patchFieldValue);
    setKey(
      original,
      originalKey,
      normalizeElementOrder(patchItems, serverOnlyItems, setElementOrder, originalFieldValue, mergeKey, kind),
    );
    delete patch[originalKey];
  }
}

function partitionPrimitivesByPresentInList(
  original: JsonValue[],
  partitionBy: JsonValue[],
): [JsonValue[], JsonValue[]] {
  const patch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const v of original) {
    if (partitionBy.some((p) => goEqual(p, v))) patch.push(v);
    else serverOnly.push(v);
  }
  return [patch, serverOnly];
}

function partitionMapsByPresentInList(
  original: JsonValue[],
  partitionBy: JsonValue[],
  mergeKey: string,
): [JsonValue[], JsonValue[]] {
  const patch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const v of original) {
    const m = asMap(v);
    if (!hasKey(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
    if (findMapInSliceBasedOnKeyValue(partitionBy, mergeKey, m[mergeKey] as JsonValue) !== undefined)
      patch.push(v);
    else serverOnly.push(v);
  }
  return [patch, serverOnly];
}

/** Removes $patch directives from a value the patch adds; false when the value itself is one. */
function removeDirectives(obj: JsonValue): [JsonValue, boolean] {
  if (Array.isArray(obj)) {
    const res: JsonValue[] = [];
    for (const v of obj) {
      const [nv, keep] = removeDirectives(v);
      if (keep) res.push(nv);
    }
    return [res, true];
  }
  if (isJsonObject(obj)) {
    if (hasKey(obj, directiveMarker)) return [null, false];
    for (const k of Object.keys(obj)) {
      const [nv, keep] = removeDirectives(obj[k] as JsonValue);
      if (keep) setKey(obj, k, nv);
      else delete obj[k];
    }
    return [obj, true];
  }
  return [obj, true];
}

/** Drops null members at every depth of a value the patch adds. */
function discardNullValuesFromPatch(v: JsonValue): void {
  if (Array.isArray(v)) {
    for (const e of v) discardNullValuesFromPatch(e);
  } else if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      const e = v[k] as JsonValue;
      if (e === null) delete v[k];
      else discardNullValuesFromPatch(e);
    }
  }
}

/** Sets original[k] to a value the patch adds, without its nulls and directives. */
function takePatchValue(original: JsonObject, k: string, patchV: JsonValue): void {
  discardNullValuesFromPatch(patchV);
  const [v, keep] = removeDirectives(patchV);
  if (keep) setKey(original, k, v);
  else delete original[k];
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchMeta): JsonObject {
  if (hasKey(patch, directiveMarker))
    return handleDirectiveInMergeMap(patch[directiveMarker] as JsonValue, patch);

  applyRetainKeysDirective(original, patch);
  // Merges each $setElementOrder list with its list and removes both from the patch.
  mergePatchIntoOriginal(original, patch, schema);

  for (const patchKey of Object.keys(patch)) {
    const patchV = patch[patchKey] as JsonValue;
    let k = patchKey;
    let isDeleteList = false;
    if (k.startsWith(deleteFromPrimitiveListDirectivePrefix)) {
      const noPrefixKey = extractKey(k, deleteFromPrimitiveListDirectivePrefix);
      isDeleteList = true;
      if (noPrefixKey.length > 0) k = noPrefixKey;
    }

    // null deletes the key (and a null never reaches the result: IgnoreUnmatchedNulls).
    if (patchV === null) {
      delete original[k];
      continue;
    }
    if (!hasKey(original, k)) {
      if (!isDeleteList) takePatchValue(original, k, patchV);
      continue;
    }
    const originalV = original[k] as JsonValue;
    const originalType = goType(originalV);
    if (originalType !== goType(patchV)) {
      if (!isDeleteList) takePatchValue(original, k, patchV);
      continue;
    }
    switch (originalType) {
      case "map": {
        const { schema: subschema, strategies } = lookup(schema, k);
        const patchStrategy = extractRetainKeysPatchStrategy(strategies);
        setKey(
          original,
          k,
          mergeMapHandler(originalV as JsonObject, patchV as JsonObject, subschema, patchStrategy),
        );
        break;
      }
      case "slice": {
        const { schema: subschema, strategies, mergeKey } = lookup(schema, k);
        const patchStrategy = extractRetainKeysPatchStrategy(strategies);
        setKey(
          original,
          k,
          mergeSliceHandler(
            originalV as JsonValue[],
            patchV as JsonValue[],
            subschema,
            patchStrategy,
            mergeKey,
            isDeleteList,
          ),
        );
        break;
      }
      case "nil":
      case "string":
      case "bool":
      case "int64":
      case "float64":
        setKey(original, k, patchV);
    }
  }
  return original;
}

function mergeMapHandler(
  original: JsonObject,
  patch: JsonObject,
  schema: PatchMeta,
  fieldPatchStrategy: string,
): JsonObject {
  return fieldPatchStrategy !== replaceDirective ? mergeMap(original, patch, schema) : patch;
}

function mergeSliceHandler(
  original: JsonValue[],
  patch: JsonValue[],
  schema: PatchMeta,
  fieldPatchStrategy: string,
  fieldPatchMergeKey: string,
  isDeleteList: boolean,
): JsonValue[] {
  // Delete lists are handled the same way whatever the field's strategy.
  if (fieldPatchStrategy === mergeDirective || isDeleteList) {
    return mergeSlice(original, patch, schema, fieldPatchMergeKey, isDeleteList);
  }
  return patch;
}

/**
 * A Go slice over a backing array: upstream deletes with `append(s[:i], s[i+1:]...)` and appends
 * in place, so the caller's view of the live list (its merge order) sees the shifted and
 * appended elements. Upstream's expected orders depend on it; `backing` is the caller's array
 * (a private copy here) and its length stands for the capacity.
 */
interface GoSlice {
  backing: JsonValue[];
  len: number;
}

const view = (s: GoSlice): JsonValue[] => s.backing.slice(0, s.len);

function mergeSlice(
  originalIn: JsonValue[],
  patchIn: JsonValue[],
  schema: PatchMeta,
  mergeKey: string,
  isDeleteList: boolean,
): JsonValue[] {
  if (originalIn.length === 0 && patchIn.length === 0) return originalIn;
  const kind = sliceElementType(originalIn, patchIn);
  let original = originalIn;
  let patch = patchIn;
  let merged: JsonValue[];
  if (kind !== "map") {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (mergeKey === "") throw internal(`cannot merge lists without merge key for ${schema.name}`);
    const slice: GoSlice = { backing: originalIn, len: originalIn.length };
    let rest: GoSlice;
    [rest, patch] = mergeSliceWithSpecialElements(slice, patch, mergeKey);
    original = view(rest);
    merged = mergeSliceWithoutSpecialElements(rest, patch, mergeKey, schema);
  }
  const [patchItems, serverOnlyItems] =
    mergeKey === ""
      ? partitionPrimitivesByPresentInList(merged, patch)
      : partitionMapsByPresentInList(merged, patch, mergeKey);
  return normalizeElementOrder(patchItems, serverOnlyItems, patch, original, mergeKey, kind);
}

/** Applies the list's $patch elements: delete by merge key, replace the whole list. */
function mergeSliceWithSpecialElements(
  original: GoSlice,
  patch: JsonValue[],
  mergeKey: string,
): [GoSlice, JsonValue[]] {
  const withoutSpecial: JsonValue[] = [];
  let replace = false;
  for (const v of patch) {
    const m = v as JsonObject;
    if (!hasKey(m, directiveMarker)) {
      withoutSpecial.push(v);
      continue;
    }
    const patchType = m[directiveMarker] as JsonValue;
    if (patchType === deleteDirective) {
      if (!hasKey(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
      deleteMatchingEntries(original, mergeKey, m[mergeKey] as JsonValue);
    } else if (patchType === replaceDirective) {
      // Keep going, to prune the other $patch elements.
      replace = true;
    } else if (patchType === mergeDirective) {
      throw internal("merging lists cannot yet be specified in the patch");
    } else {
      throw errBadPatchType(patchType, m);
    }
  }
  if (replace) return [{ backing: withoutSpecial, len: withoutSpecial.length }, []];
  return [original, withoutSpecial];
}

/** Deletes every element with the merge key value, shifting the backing array as Go's append does. */
function deleteMatchingEntries(s: GoSlice, mergeKey: string, mergeValue: JsonValue): void {
  for (;;) {
    const found = findMapInSliceBasedOnKeyValue(view(s), mergeKey, mergeValue);
    if (found === undefined) return;
    for (let i = found.index; i < s.len - 1; i++) s.backing[i] = s.backing[i + 1] as JsonValue;
    s.len--;
  }
}

function mergeSliceWithoutSpecialElements(
  original: GoSlice,
  patch: JsonValue[],
  mergeKey: string,
  schema: PatchMeta,
): JsonValue[] {
  const s: GoSlice = { backing: original.backing, len: original.len };
  for (const v of patch) {
    const m = v as JsonObject;
    if (!hasKey(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
    const found = findMapInSliceBasedOnKeyValue(view(s), mergeKey, m[mergeKey] as JsonValue);
    if (found !== undefined) {
      s.backing[found.index] = mergeMap(found.map, m, schema);
    } else if (s.len < s.backing.length) {
      s.backing[s.len++] = v;
    } else {
      s.backing = [...view(s), v];
      s.len++;
    }
  }
  return view(s);
}

function deleteFromSlice(current: JsonValue[], toDelete: JsonValue[]): JsonValue[] {
  return current.filter((v) => !toDelete.some((d) => goEqual(d, v)));
}

function findMapInSliceBasedOnKeyValue(
  m: JsonValue[],
  key: string,
  value: JsonValue,
): { map: JsonObject; index: number } | undefined {
  for (let index = 0; index < m.length; index++) {
    const v = m[index] as JsonValue;
    if (!isJsonObject(v)) throw internal(`value for key ${index} is not a map`);
    if (hasKey(v, key) && goEqual(v[key] as JsonValue, value)) return { map: v, index };
  }
  return undefined;
}

/** Upstream's in-place deduplication, which does not keep the order (the caller reorders). */
function deduplicateScalars(s: JsonValue[]): JsonValue[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (goEqual(s[i] as JsonValue, s[j] as JsonValue)) {
        s[j] = s[length] as JsonValue;
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

/** The Go type shared by every element of the slices; lists of lists are refused. */
function sliceElementType(...slices: JsonValue[][]): GoType {
  let prev: GoType | undefined;
  for (const s of slices) {
    for (const v of s) {
      const t = goType(v);
      if (prev === undefined) {
        // reflect.TypeOf(nil).Kind() is a nil dereference upstream.
        if (t === "nil")
          throw new GoPanic("runtime error: invalid memory address or nil pointer dereference");
        prev = t;
        if (t === "slice") throw errNoListOfLists();
      } else if (prev !== t) {
        throw internal(`list element types are not identical: ${goFormat(slices)}`);
      }
    }
  }
  if (prev === undefined) throw internal("no elements in any of the given slices");
  return prev;
}

/** The position of an item in a list, by merge key for maps. */
function index(l: JsonValue[], valToLookUp: JsonValue, mergeKey: string, kind: GoType): number {
  const val = (item: JsonValue): JsonValue =>
    kind === "map" ? (isJsonObject(item) ? lookupKey(item, mergeKey) : null) : item;
  const target = val(valToLookUp);
  return l.findIndex((v) => goEqual(target, val(v)));
}

function validateMergeKeyInLists(mergeKey: string, ...lists: JsonValue[][]): void {
  for (const list of lists) {
    for (const item of list) {
      const m = asMap(item);
      if (!hasKey(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
    }
  }
}

/** Sorts `toSort` by `order`; deletions go last. */
function normalizeSliceOrder(
  toSort: JsonValue[],
  order: JsonValue[],
  mergeKey: string,
  kind: GoType,
): JsonValue[] {
  let items = [...toSort];
  let toDelete: JsonValue[] = [];
  if (kind === "map") {
    validateMergeKeyInLists(mergeKey, items, order);
    [items, toDelete] = extractToDeleteItems(items);
  }
  goSliceStable(items, (a, b) => {
    const ia = index(order, a, mergeKey, kind);
    if (ia >= 0) {
      const ib = index(order, b, mergeKey, kind);
      if (ib >= 0) return ia < ib;
    }
    return true;
  });
  return [...items, ...toDelete];
}

/**
 * Orders patch items by `patchOrder` and server-only items by `serverOrder`, then interleaves
 * them, keeping each side's relative order.
 */
function normalizeElementOrder(
  patch: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string,
  kind: GoType,
): JsonValue[] {
  const sortedPatch = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const sortedServerOnly = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServerOnly, sortedPatch, serverOrder, mergeKey, kind);
}

/** Inserts each item of `left` into `right` before the first item it precedes in `serverOrder`. */
function mergeSortedSlice(
  left: JsonValue[],
  right: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string,
  kind: GoType,
): JsonValue[] {
  const less = (l: JsonValue, r: JsonValue): boolean => {
    const li = index(serverOrder, l, mergeKey, kind);
    const ri = index(serverOrder, r, mergeKey, kind);
    return li >= 0 && ri >= 0 && li < ri;
  };
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++] as JsonValue);
    else if (j >= right.length) out.push(left[i++] as JsonValue);
    else if (less(left[i] as JsonValue, right[j] as JsonValue)) out.push(left[i++] as JsonValue);
    else out.push(right[j++] as JsonValue);
  }
  return out;
}

function toStatus(err: unknown): StatusError {
  if (err instanceof SmpError) {
    switch (err.kind) {
      case "BadRequest":
        return badRequest(err.message);
      case "NotApplied":
        return patchNotApplied();
      case "Internal":
        return patchInternalError(err.message);
    }
  }
  // A Go panic: kube's panic recovery answers a bare 500.
  if (err instanceof GoPanic) return internalError();
  throw err;
}

function decodePatch(body: PatchBody | JsonObject): JsonObject | null {
  if (!(body instanceof Uint8Array) && typeof body !== "string") return cloneJson(body);
  try {
    const decoded = goDecode(body);
    checkDecodesToMap(decoded);
    return decoded as JsonObject | null;
  } catch (err) {
    // strategicPatchObject: errors.NewBadRequest(err.Error()), with or without strict decoding.
    if (err instanceof GoJsonError) throw badRequest(err.message);
    throw err;
  }
}

/**
 * Applies a strategic merge patch as kube-apiserver v1.32 does, the schema given by `meta`
 * (e.g. patchMetaFromOpenAPI for the kind). Called by the PATCH handler for built-in kinds only
 * (kube answers 415 for custom resources). `original` and `patch` are never mutated; `patch` is
 * the request body or an already decoded object.
 *
 * Supports merge lists by merge key and lists of primitives, `$patch: replace|delete|merge`,
 * `$retainKeys`, `$deleteFromPrimitiveList/<list>`, `$setElementOrder/<list>`, null deleting a
 * field, lists without strategy replaced, and unknown fields merged as JSON merge patch does.
 *
 * Errors (StatusError):
 * - a body that is not JSON or not an object: 400 with Go's message ("invalid character …",
 *   "json: cannot unmarshal array into Go value of type map[string]interface {}");
 * - malformed $deleteFromPrimitiveList, $retainKeys (or a patched key missing from it),
 *   $setElementOrder key: 400 "invalid patch format of …";
 * - lists of lists: 422 Invalid "the server rejected our request due to an error in our request";
 * - anything else upstream returns as a plain error (a list element without its merge key, an
 *   unknown $patch directive, mismatched element types, a $setElementOrder out of order): 500
 *   with no reason and upstream's message, e.g. "map: map[value:b] does not contain declared
 *   merge key: name".
 */
export function applyStrategicMergePatch(
  original: PatchTarget,
  patch: PatchBody | JsonObject,
  meta: PatchMeta,
  // fieldValidation only changes strict-decoding warnings upstream, not the errors above.
  _options: PatchOptions = {},
): Record<string, unknown> {
  const patchMap = decodePatch(patch);
  const doc = cloneJson(original as JsonObject);
  if (patchMap === null) return doc;
  try {
    return mergeMap(doc, patchMap, meta);
  } catch (err) {
    throw toStatus(err);
  }
}
