// RFC 6902 JSON patch (application/json-patch+json) with kube-apiserver's semantics: the body
// is decoded and limited as patch.go does, and each operation behaves as in
// gopkg.in/evanphx/json-patch.v4, which kube uses. That library differs from the RFC in ways
// clients rely on: negative array indices count from the end, `replace` of a missing object
// key adds it, `add` without a value adds null, `copy` from a missing key copies null, a
// `test` for null also matches a missing key, and a path without a leading "/" names its last
// segment under the root.

import jsonpatch from "fast-json-patch";
import { badRequest, requestEntityTooLarge, type StatusError } from "../../apierrors/status.ts";
import { checkDecodesToJsonPatch, goDecode, GoJsonError, goJsonKind } from "./go-json.decoder.ts";
import { goMarshal } from "./go-values.ts";
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
import { notAnObjectDecodeError, patchedObjectInvalid, patchNotApplied } from "./patch.errors.ts";

/** kube's maxJSONPatchOperations: more operations than this answer 413. */
export const maxJsonPatchOperations = 10000;

/**
 * kube's default JSONPatchMaxCopyBytes (3 MiB, the default request body limit too): `copy`
 * operations may grow the document by at most this much in total.
 */
export const jsonPatchMaxCopyBytes = 3 * 1024 * 1024;

/** One operation's failure; kube answers every one of them with the same generic 422. */
class OperationError extends Error {}

type Container = JsonObject | JsonValue[];

/** Go's strconv.Atoi: an optional sign and decimal digits. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** evanphx's findObject: the container holding the last segment of `path`, and that segment. */
function findObject(doc: Container, path: string): [Container, string] | undefined {
  const split = path.split("/");
  if (split.length < 2) return undefined;
  let container: Container = doc;
  for (const part of split.slice(1, -1)) {
    let next: JsonValue | undefined;
    try {
      next = get(container, jsonpatch.unescapePathComponent(part));
    } catch {
      return undefined;
    }
    if (next === undefined || next === null || typeof next !== "object") return undefined;
    container = next;
  }
  return [container, jsonpatch.unescapePathComponent(split[split.length - 1] as string)];
}

/** evanphx's container.get: a missing object key is undefined; a bad array index throws. */
function get(c: Container, key: string): JsonValue | undefined {
  if (!Array.isArray(c)) return hasKey(c, key) ? c[key] : undefined;
  let idx = atoi(key);
  if (idx === undefined) throw new OperationError(`strconv.Atoi: parsing "${key}": invalid syntax`);
  if (idx < 0) {
    if (idx < -c.length) throw new OperationError(`Unable to access invalid index: ${idx}`);
    idx += c.length;
  }
  if (idx >= c.length) throw new OperationError(`Unable to access invalid index: ${idx}`);
  return c[idx];
}

function add(c: Container, key: string, value: JsonValue): void {
  if (!Array.isArray(c)) {
    setKey(c, key, value);
    return;
  }
  if (key === "-") {
    c.push(value);
    return;
  }
  let idx = atoi(key);
  if (idx === undefined) throw new OperationError(`value was not a proper array index: '${key}'`);
  const size = c.length + 1;
  if (idx >= size || idx < -size) throw new OperationError(`Unable to access invalid index: ${idx}`);
  if (idx < 0) idx += size;
  c.splice(idx, 0, value);
}

function remove(c: Container, key: string): void {
  if (!Array.isArray(c)) {
    if (!hasKey(c, key)) throw new OperationError(`Unable to remove nonexistent key: ${key}`);
    delete c[key];
    return;
  }
  let idx = atoi(key);
  if (idx === undefined) throw new OperationError(`strconv.Atoi: parsing "${key}": invalid syntax`);
  if (idx >= c.length || idx < -c.length) throw new OperationError(`Unable to access invalid index: ${idx}`);
  if (idx < 0) idx += c.length;
  c.splice(idx, 1);
}

/** Replace of an existing element (checked by get first); object keys are simply set. */
function set(c: Container, key: string, value: JsonValue): void {
  if (!Array.isArray(c)) {
    setKey(c, key, value);
    return;
  }
  let idx = atoi(key) ?? 0;
  if (idx < 0) idx += c.length;
  c[idx] = value;
}

/** A string member of the operation, as evanphx reads it; undefined when absent or not a string. */
function stringMember(op: JsonObject, name: string): string | undefined {
  const v = op[name];
  return typeof v === "string" ? v : undefined;
}

interface Applied {
  doc: Container;
  copiedBytes: number;
}

function applyOperation(state: Applied, op: JsonObject | null): void {
  const kind = op === null ? "unknown" : (stringMember(op, "op") ?? "unknown");
  if (op === null) throw new OperationError(`Unexpected kind: ${kind}`);
  // An absent "value" and a JSON null both reach evanphx as a nil node, which marshals as null.
  const value: JsonValue = hasKey(op, "value") ? cloneJson(op.value as JsonValue) : null;
  const path = stringMember(op, "path");
  switch (kind) {
    case "add": {
      if (path === undefined) throw new OperationError("add operation failed to decode path");
      const found = findObject(state.doc, path);
      if (found === undefined)
        throw new OperationError(`add operation does not apply: doc is missing path: "${path}"`);
      add(found[0], found[1], value);
      return;
    }
    case "remove": {
      if (path === undefined) throw new OperationError("remove operation failed to decode path");
      const found = findObject(state.doc, path);
      if (found === undefined)
        throw new OperationError(`remove operation does not apply: doc is missing path: "${path}"`);
      remove(found[0], found[1]);
      return;
    }
    case "replace": {
      if (path === undefined) throw new OperationError("replace operation failed to decode path");
      if (path === "") {
        if (typeof value !== "object" || value === null) {
          throw new OperationError("replace operation value must be object or array");
        }
        state.doc = value;
        return;
      }
      const found = findObject(state.doc, path);
      if (found === undefined)
        throw new OperationError(`replace operation does not apply: doc is missing path: ${path}`);
      get(found[0], found[1]);
      set(found[0], found[1], value);
      return;
    }
    case "move": {
      const from = stringMember(op, "from");
      if (from === undefined) throw new OperationError("move operation failed to decode from");
      const source = findObject(state.doc, from);
      if (source === undefined)
        throw new OperationError(`move operation does not apply: doc is missing from path: ${from}`);
      const moved = get(source[0], source[1]) ?? null;
      remove(source[0], source[1]);
      if (path === undefined) throw new OperationError("move operation failed to decode path");
      const target = findObject(state.doc, path);
      if (target === undefined) {
        throw new OperationError(`move operation does not apply: doc is missing destination path: ${path}`);
      }
      add(target[0], target[1], moved);
      return;
    }
    case "copy": {
      const from = stringMember(op, "from");
      if (from === undefined) throw new OperationError("copy operation failed to decode from");
      const source = findObject(state.doc, from);
      if (source === undefined)
        throw new OperationError(`copy operation does not apply: doc is missing from path: ${from}`);
      const sourceValue = get(source[0], source[1]);
      const copied = cloneJson(sourceValue ?? null);
      if (path === undefined) throw new OperationError("copy operation failed to decode path");
      const target = findObject(state.doc, path);
      if (target === undefined) {
        throw new OperationError(`copy operation does not apply: doc is missing destination path: ${path}`);
      }
      // evanphx copies a missing key as a nil node, which it counts as 0 bytes.
      state.copiedBytes +=
        sourceValue === undefined || sourceValue === null ? 0 : Buffer.byteLength(goMarshal(copied));
      if (state.copiedBytes > jsonPatchMaxCopyBytes) {
        throw new OperationError(
          `Unable to complete the copy, the accumulated size increase of copy is ${state.copiedBytes}, exceeding the limit ${jsonPatchMaxCopyBytes}`,
        );
      }
      add(target[0], target[1], copied);
      return;
    }
    case "test": {
      if (path === undefined) throw new OperationError("test operation failed to decode path");
      const expected = hasKey(op, "value") ? (op.value as JsonValue) : null;
      if (path === "") {
        if (!jsonpatch._areEquals(state.doc, expected))
          throw new OperationError(`testing value ${path} failed`);
        return;
      }
      const found = findObject(state.doc, path);
      if (found === undefined)
        throw new OperationError(`test operation does not apply: is missing path: ${path}`);
      // A missing key and a null value are the same nil node to evanphx.
      const actual = get(found[0], found[1]) ?? null;
      if (!jsonpatch._areEquals(actual, expected)) throw new OperationError(`testing value ${path} failed`);
      return;
    }
    default:
      throw new OperationError(`Unexpected kind: ${kind}`);
  }
}

/** Decodes the body as patch.go does; a malformed one answers 400 with Go's message. */
function decodeOperations(body: PatchBody, options: PatchOptions): (JsonObject | null)[] {
  const strict = (options.fieldValidation ?? "Warn") !== "Ignore";
  try {
    const decoded = goDecode(body);
    checkDecodesToJsonPatch(decoded, strict);
    return (decoded ?? []) as (JsonObject | null)[];
  } catch (err) {
    if (!(err instanceof GoJsonError)) throw err;
    // Strict decoding (into []jsonPatchOp) prefixes its error; jsonpatch.DecodePatch does not.
    throw badRequest(strict ? `error decoding patch: ${err.message}` : err.message);
  }
}

/**
 * Applies an RFC 6902 JSON patch as kube-apiserver v1.32 does. Called by the PATCH handler with
 * the current object; `original` is never mutated, the result is a new object.
 *
 * Errors (StatusError):
 * - a body that is not JSON, not an array of objects, or whose op/path/from is not a string:
 *   400 BadRequest with Go's decoding message ("error decoding patch: json: cannot unmarshal
 *   object into Go value of type []handlers.jsonPatchOp"; without the prefix and with
 *   jsonpatch.Patch when fieldValidation is Ignore);
 * - more than 10000 operations: 413 RequestEntityTooLarge;
 * - any operation failing (test, missing path, bad index, unknown op, copy limit): 422 Invalid
 *   "the server rejected our request due to an error in our request", details {};
 * - a patched document that is no longer an object: 422 Invalid on field "patch".
 */
export function applyJsonPatch(
  original: PatchTarget,
  patchBytes: PatchBody,
  options: PatchOptions = {},
): Record<string, unknown> {
  const operations = decodeOperations(patchBytes, options);
  if (operations.length > maxJsonPatchOperations) {
    throw requestEntityTooLarge(
      `Request entity too large: The allowed maximum operations in a JSON patch is ${maxJsonPatchOperations}, got ${operations.length}`,
    );
  }
  const state: Applied = { doc: jsonpatch.deepClone(original) as JsonObject, copiedBytes: 0 };
  for (const op of operations) {
    try {
      applyOperation(state, op);
    } catch (err) {
      // The operation's own (evanphx) message rides along as the cause, for callers that report
      // it (admission webhooks' patches answer 500 with it, as kube does).
      if (err instanceof OperationError) throw Object.assign(patchNotApplied(), { cause: err });
      throw err;
    }
  }
  if (!isJsonObject(state.doc)) throw notAnObject(state.doc);
  return state.doc;
}

/** The patched document was replaced by an array: kube's decode into the typed object fails. */
export function notAnObject(doc: JsonValue): StatusError {
  return patchedObjectInvalid(goMarshal(doc), notAnObjectDecodeError(goJsonKind(doc)));
}
