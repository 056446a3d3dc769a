// apimachinery's field.Error as the selectors produce it: the error types, the bad value as
// Go prints it, and the two ways the messages leave the server — one cause per error in a
// 422 (FieldError of apierrors/status.ts), or an aggregate string inside a 400.

import type { FieldError } from "../../apierrors/status.ts";
import { goQuote, goStringSlice } from "./go-format.ts";

/** field.ErrorType values the selectors use, with the text ErrorBody opens with. */
const errorTypes = {
  FieldValueInvalid: "Invalid value",
  FieldValueRequired: "Required value",
  FieldValueForbidden: "Forbidden",
} as const;

export type FieldErrorType = keyof typeof errorTypes;

/** The value a field error complains about, as a Go value so that it prints as Go prints it. */
export type BadValue =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "strings"; readonly value: readonly string[] | null }
  | { readonly kind: "none" };

/** One field.Error. `field` is the rendered field.Path ("<nil>" when the path is nil). */
export interface SelectorFieldError {
  readonly type: FieldErrorType;
  readonly field: string;
  readonly badValue: BadValue;
  readonly detail: string;
}

/** A nil *field.Path renders as "<nil>"; labels.Parse validates keys against one. */
export type FieldPath = string | null;

export const childPath = (parent: FieldPath, name: string): string =>
  parent === null || parent === "" ? name : `${parent}.${name}`;

/** Path.Index and Path.Key: both render as a subscript. */
export const subscriptPath = (parent: FieldPath, sub: string | number): string => `${parent ?? ""}[${sub}]`;

export const renderPath = (p: FieldPath): string => p ?? "<nil>";

export const invalidError = (field: FieldPath, badValue: BadValue, detail: string): SelectorFieldError => ({
  type: "FieldValueInvalid",
  field: renderPath(field),
  badValue,
  detail,
});

export const stringValue = (value: string): BadValue => ({ kind: "string", value });

/** field.Error.ErrorBody: what follows "<field>: " in the message. */
export function errorBody(e: SelectorFieldError): string {
  let s: string = errorTypes[e.type];
  // Required and Forbidden never print their value.
  if (e.type === "FieldValueInvalid") {
    switch (e.badValue.kind) {
      case "string":
        s += `: ${goQuote(e.badValue.value)}`;
        break;
      case "strings":
        s += `: ${goStringSlice(e.badValue.value)}`;
        break;
      case "none":
        s += ": null";
        break;
    }
  }
  return e.detail === "" ? s : `${s}: ${e.detail}`;
}

/** field.Error.Error(). */
export const errorString = (e: SelectorFieldError): string => `${e.field}: ${errorBody(e)}`;

/**
 * ErrorList.ToAggregate().Error(): duplicates dropped, one message as is, several as
 * "[a, b]". Returns "" for an empty list.
 */
export function aggregateMessage(errors: readonly SelectorFieldError[]): string {
  const messages = [...new Set(errors.map(errorString))];
  if (messages.length <= 1) return messages[0] ?? "";
  return `[${messages.join(", ")}]`;
}

/** The causes of a 422 Invalid, in apierrors/status.ts's shape. */
export const toFieldErrors = (errors: readonly SelectorFieldError[]): FieldError[] =>
  errors.map((e) => ({ type: e.type, field: e.field, detail: errorBody(e) }));
