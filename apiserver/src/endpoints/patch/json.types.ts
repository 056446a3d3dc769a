// Plain JSON values, as JSON.parse returns them, and the kube options every patch type takes.

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The object a patch applies to: plain decoded JSON. The patch functions never mutate it. */
export type PatchTarget = Readonly<Record<string, unknown>>;

/** A patch body as the request carried it (a Buffer is a Uint8Array); a string is JSON text. */
export type PatchBody = Uint8Array | string;

/**
 * The request's `fieldValidation` query parameter. Absent means "Warn", as in kube: it only
 * changes how a malformed body is reported (see each patch function).
 */
export type FieldValidation = "Ignore" | "Warn" | "Strict";

export interface PatchOptions {
  fieldValidation?: FieldValidation;
}

export const isJsonObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Sets a key as an own data property, so that a "__proto__" key stays data and never a prototype. */
export function setKey(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** A deep copy of plain JSON (own enumerable keys only). */
export function cloneJson<T extends JsonValue>(v: T): T {
  if (Array.isArray(v)) return v.map((e) => cloneJson(e)) as T;
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) setKey(out, k, cloneJson(v[k] as JsonValue));
    return out as T;
  }
  return v;
}

export const hasKey = (obj: JsonObject, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(obj, key);
