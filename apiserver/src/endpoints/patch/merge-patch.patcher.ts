// RFC 7386 JSON merge patch (application/merge-patch+json) as kube-apiserver applies it, with
// jsonpatch.MergePatch from gopkg.in/evanphx/json-patch.v4: null deletes a key, objects merge
// recursively, anything else (arrays included) replaces. Like that library, nulls are also
// pruned from the objects a patch adds (at any depth, inside arrays too), but a null element
// of an array is kept, and an array that replaces an object value keeps its nulls as sent.

import { badRequest } from "../../apierrors/status.ts";
import { checkDecodesToMap, goDecode, GoJsonError } from "./go-json.decoder.ts";
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
import { notAnObject } from "./json-patch.patcher.ts";

/** jsonpatch.ErrBadJSONPatch: kube answers it with 400. */
const badJsonPatch = "Invalid JSON Patch";

/** evanphx's pruneNulls: drops null members of objects, recursing into objects and arrays. */
function pruneNulls(v: JsonValue): void {
  if (Array.isArray(v)) {
    for (const e of v) if (e !== null) pruneNulls(e);
  } else if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      const e = v[k] as JsonValue;
      if (e === null) delete v[k];
      else pruneNulls(e);
    }
  }
}

/** evanphx's merge of a patch value into a current value; both are owned copies. */
function merge(cur: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(cur)) {
    pruneNulls(patch);
    return patch;
  }
  if (!isJsonObject(patch)) return patch;
  mergeDocs(cur, patch);
  return cur;
}

function mergeDocs(doc: JsonObject, patch: JsonObject): void {
  for (const k of Object.keys(patch)) {
    const v = patch[k] as JsonValue;
    if (v === null) {
      delete doc[k];
    } else if (!hasKey(doc, k) || doc[k] === null) {
      pruneNulls(v);
      setKey(doc, k, v);
    } else {
      setKey(doc, k, merge(doc[k] as JsonValue, v));
    }
  }
}

/** Decodes the body as patch.go does for merge patches; see applyMergePatch for the errors. */
function decodePatch(body: PatchBody | JsonObject, options: PatchOptions): JsonValue {
  if (!(body instanceof Uint8Array) && typeof body !== "string") return cloneJson(body);
  const strict = (options.fieldValidation ?? "Warn") !== "Ignore";
  try {
    const decoded = goDecode(body);
    // Strict decoding reads the patch into a map[string]interface{} first.
    if (strict) checkDecodesToMap(decoded);
    return decoded;
  } catch (err) {
    if (!(err instanceof GoJsonError)) throw err;
    // Without strict decoding, MergePatch itself sees the syntax error: ErrBadJSONPatch.
    throw badRequest(strict ? `error decoding patch: ${err.message}` : badJsonPatch);
  }
}

/**
 * Applies an RFC 7386 merge patch as kube-apiserver v1.32 does. Called by the PATCH handler with
 * the current object; `original` and `patch` are never mutated. `patch` is the request body, or
 * an already decoded object.
 *
 * Errors (StatusError, 400 BadRequest unless said):
 * - not JSON: "error decoding patch: <Go's syntax error>" ("Invalid JSON Patch" when
 *   fieldValidation is Ignore);
 * - not an object: "error decoding patch: json: cannot unmarshal array into Go value of type
 *   map[string]interface {}"; with Ignore a string, number or bool is "Invalid JSON Patch" and
 *   an array replaces the document, which then fails to decode: 422 Invalid on field "patch";
 * - null: "Invalid JSON Patch".
 */
export function applyMergePatch(
  original: PatchTarget,
  patch: PatchBody | JsonObject,
  options: PatchOptions = {},
): Record<string, unknown> {
  const decoded = decodePatch(patch, options);
  if (decoded === null) throw badRequest(badJsonPatch);
  if (Array.isArray(decoded)) {
    // MergePatch: a patch that is not an object replaces the document, nulls pruned.
    pruneNulls(decoded);
    throw notAnObject(decoded);
  }
  if (!isJsonObject(decoded)) throw badRequest(badJsonPatch);
  const doc = cloneJson(original as JsonObject);
  mergeDocs(doc, decoded);
  return doc;
}
