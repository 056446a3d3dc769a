// Field errors for custom resources and CRDs, shaped like field.Error.ErrorBody() (v1.32):
// `<Type text>: <value>: <detail>`. Values are rendered as Go does for decoded JSON: strings
// with %q, numbers and booleans plain, anything else with %#v (see goValue).

import type { FieldError } from "../../apierrors/status.ts";
import { goQuote } from "../validation/field.ts";
import { goValue, type FieldPath } from "./schema.ts";

/** A bad value: a JSON value to render, or text already rendered the way Go would. */
export type Bad = { readonly json: unknown } | { readonly raw: string };

export const json = (v: unknown): Bad => ({ json: v });
export const raw = (text: string): Bad => ({ raw: text });

function render(v: Bad): string {
  if ("raw" in v) return v.raw;
  const x = v.json;
  if (x === null || x === undefined) return '"null"';
  if (typeof x === "string") return goQuote(x);
  if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") return String(x);
  return goValue(x);
}

function make(type: string, text: string, path: FieldPath | string, detail: string, value?: Bad): FieldError {
  let body = text;
  if (value !== undefined) body += `: ${render(value)}`;
  if (detail !== "") body += `: ${detail}`;
  return { type, field: String(path), detail: body };
}

export const required = (p: FieldPath | string, detail = ""): FieldError =>
  make("FieldValueRequired", "Required value", p, detail);
export const forbidden = (p: FieldPath | string, detail: string): FieldError =>
  make("FieldValueForbidden", "Forbidden", p, detail);
export const invalid = (p: FieldPath | string, value: Bad, detail: string): FieldError =>
  make("FieldValueInvalid", "Invalid value", p, detail, value);
export const typeInvalid = (p: FieldPath | string, value: Bad, detail: string): FieldError =>
  make("FieldValueTypeInvalid", "Invalid value", p, detail, value);
export const duplicate = (p: FieldPath | string, value: Bad): FieldError =>
  make("FieldValueDuplicate", "Duplicate value", p, "", value);
export const notSupported = (p: FieldPath | string, value: Bad, valid: readonly string[]): FieldError =>
  make(
    "FieldValueNotSupported",
    "Unsupported value",
    p,
    valid.length > 0 ? `supported values: ${valid.map(goQuote).join(", ")}` : "",
    value,
  );
/** field.TooLong as of v1.32: the value is not printed. */
export const tooLong = (p: FieldPath | string, max: number): FieldError =>
  make(
    "FieldValueTooLong",
    "Too long",
    p,
    max >= 0 ? `may not be more than ${max} bytes` : "value is too long",
  );
export const tooMany = (p: FieldPath | string, actual: number, max: number): FieldError =>
  make(
    "FieldValueTooMany",
    "Too many",
    p,
    max >= 0 ? `must have at most ${max} items` : "has too many items",
    actual >= 0 ? json(actual) : undefined,
  );
export const internal = (p: FieldPath | string, detail: string): FieldError =>
  make("InternalError", "Internal error", p, detail);
