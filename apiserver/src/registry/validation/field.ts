// Field paths and field errors shaped like k8s.io/apimachinery/pkg/util/validation/field (v1.32):
// Path.toString() prints paths the way field.Path.String() does, and every constructor builds the
// `detail` that kube puts in a Status cause's `message` (field.Error.ErrorBody()).
//
// Bad values are rendered as ErrorBody does: strings with Go's %q, numbers and booleans with %v,
// null as "null", and anything else (structs, slices, times, quantities) as a GoRepr the caller
// has already rendered the way Go's %#v or String() would.

import type { FieldError } from "../../apierrors/status.ts";

/** A field path; immutable. Mirrors field.Path: Child adds ".name", Index "[i]", Key "[key]". */
export class Path {
  private constructor(
    private readonly parent: Path | undefined,
    private readonly name: string,
    private readonly subscript: string,
  ) {}

  /** field.NewPath(name, more...). */
  static root(name: string, ...more: string[]): Path {
    let p = new Path(undefined, name, "");
    for (const m of more) p = new Path(p, m, "");
    return p;
  }

  child(name: string, ...more: string[]): Path {
    let p = new Path(this, name, "");
    for (const m of more) p = new Path(p, m, "");
    return p;
  }

  index(i: number): Path {
    return new Path(this, "", String(i));
  }

  key(k: string): Path {
    return new Path(this, "", k);
  }

  toString(): string {
    const elems: Path[] = [];
    let p: Path | undefined = this.parent;
    elems.unshift(this);
    for (; p !== undefined; p = p.parent) elems.unshift(p);
    let out = "";
    for (const e of elems) {
      if (e.parent !== undefined && e.name.length > 0) out += ".";
      // A nameless root prints as "[]": kube's whole-object errors (ConfigMap size) read "[]: Too long…".
      out += e.name.length > 0 ? e.name : `[${e.subscript}]`;
    }
    return out;
  }
}

/** kube's cause reasons (metav1.CauseType / field.ErrorType). */
export const ErrorType = {
  NotFound: "FieldValueNotFound",
  Required: "FieldValueRequired",
  Duplicate: "FieldValueDuplicate",
  Invalid: "FieldValueInvalid",
  NotSupported: "FieldValueNotSupported",
  Forbidden: "FieldValueForbidden",
  TooLong: "FieldValueTooLong",
  TooMany: "FieldValueTooMany",
  Internal: "InternalError",
  TypeInvalid: "FieldValueTypeInvalid",
} as const;
export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

const typeText: Record<ErrorTypeName, string> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  InternalError: "Internal error",
  FieldValueTypeInvalid: "Invalid value",
};

/** A bad value already rendered as Go would print it (%#v, or a Stringer's String()). */
export class GoRepr {
  constructor(readonly text: string) {}
}

/** What a field error may carry as its bad value. */
export type BadValue = string | number | bigint | boolean | null | GoRepr;

function renderValue(v: BadValue): string {
  if (v === null) return '"null"';
  if (typeof v === "string") return goQuote(v);
  if (v instanceof GoRepr) return v.text;
  return String(v);
}

function make(type: ErrorTypeName, path: Path, detail: string, value?: BadValue): FieldError {
  // ErrorBody: Required, Forbidden, TooLong and Internal never print the value.
  let body = typeText[type];
  if (value !== undefined) body += `: ${renderValue(value)}`;
  if (detail.length > 0) body += `: ${detail}`;
  return { type, field: path.toString(), detail: body };
}

export const required = (path: Path, detail = ""): FieldError => make(ErrorType.Required, path, detail);

export const forbidden = (path: Path, detail: string): FieldError => make(ErrorType.Forbidden, path, detail);

export const invalid = (path: Path, value: BadValue, detail: string): FieldError =>
  make(ErrorType.Invalid, path, detail, value);

export const typeInvalid = (path: Path, value: BadValue, detail: string): FieldError =>
  make(ErrorType.TypeInvalid, path, detail, value);

export const duplicate = (path: Path, value: BadValue): FieldError =>
  make(ErrorType.Duplicate, path, "", value);

export const notFound = (path: Path, value: BadValue, detail = ""): FieldError =>
  make(ErrorType.NotFound, path, detail, value);

/** field.NotSupported: `supported values: "a", "b"` with each value Go-quoted, in the order given. */
export const notSupported = (path: Path, value: BadValue, valid: readonly string[]): FieldError =>
  make(
    ErrorType.NotSupported,
    path,
    valid.length > 0 ? `supported values: ${valid.map(goQuote).join(", ")}` : "",
    value,
  );

/** field.TooLong as of v1.32: the value is never printed. */
export const tooLong = (path: Path, maxLength: number): FieldError =>
  make(
    ErrorType.TooLong,
    path,
    maxLength >= 0 ? `may not be more than ${maxLength} bytes` : "value is too long",
  );

/** field.TooMany: prints the actual count unless it is negative. */
export const tooMany = (path: Path, actual: number, max: number): FieldError =>
  make(
    ErrorType.TooMany,
    path,
    max >= 0 ? `must have at most ${max} items` : "has too many items",
    actual >= 0 ? actual : undefined,
  );

export const internalError = (path: Path, detail: string): FieldError =>
  make(ErrorType.Internal, path, detail);

/**
 * The errors kube prints in a 422's message: field.ErrorList.ToAggregate() drops repeats of the
 * same `field: detail` (causes keep every error). Pure; returns a new array.
 */
export function uniqueErrors(errors: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errors) {
    const k = `${e.field}: ${e.detail}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out;
}

// ---- Go value rendering -------------------------------------------------------------------

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote (what %q and %#v print for a string). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (cp >= 0xd800 && cp <= 0xdfff)
      out += "\\ufffd"; // a lone surrogate decodes to U+FFFD in Go
    else if (printable.test(ch)) out += ch;
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\v") out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

/** The address Go would print for a non-nil pointer inside %#v; real addresses are unreproducible. */
export const goPointerPlaceholder = "0xc000000000";

/** %#v of a slice of a string type: `[]string{"a", "b"}`, `[]string{}`, or `[]string(nil)`. */
export function goStringSlice(elemType: string, items: readonly string[] | undefined): GoRepr {
  if (items === undefined) return new GoRepr(`[]${elemType}(nil)`);
  return new GoRepr(`[]${elemType}{${items.map(goQuote).join(", ")}}`);
}

/** %#v of a struct: `pkg.Type{A:"x", B:1}`; field values must already be rendered. */
export function goStruct(typeName: string, fields: readonly (readonly [string, string])[]): string {
  return `${typeName}{${fields.map(([k, v]) => `${k}:${v}`).join(", ")}}`;
}

/** %#v of a pointer field inside a struct: `(*T)(nil)` or `(*T)(0xc000000000)`. */
export const goPointer = (elemType: string, isNil: boolean): string =>
  `(*${elemType})(${isNil ? "nil" : goPointerPlaceholder})`;
