// Field selectors as k8s.io/apimachinery v1.32 has them (fields.ParseSelector): the
// `?fieldSelector=` grammar, matching, the canonical string, and the check kube-apiserver
// makes afterwards that each field is one the resource supports (ConvertFieldLabel).
//
// Grammar: terms separated by ",", each `field=value`, `field==value` or `field!=value`,
// split at the first operator. In values, `\,`, `\=` and `\\` stand for `,`, `=` and `\`;
// any other backslash sequence and any bare `=` or `,` in a value is an error. Empty terms
// are skipped, so "" and "," select everything.

import { badRequest } from "../../apierrors/status.ts";
import { compareGoStrings, goQuote } from "./go-format.ts";

/** One field condition. `==` is reported as "=", as upstream's Requirements() does. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: "=" | "!=";
  /** Unescaped. */
  readonly value: string;
}

/**
 * A parsed field selector. Callers: the list/watch handlers. Immutable; no method changes
 * its input.
 */
export interface FieldSelector {
  /** In upstream's order: the terms' source text sorted. */
  readonly requirements: readonly FieldRequirement[];
  /** True when the selector does not restrict anything. */
  readonly empty: boolean;
  /** A missing field counts as the empty string, as in upstream's fields.Set. */
  matches(fields: Readonly<Record<string, string>>): boolean;
  /** The value the first `field=value` term on `field` demands (upstream's RequiresExactMatch). */
  requiresExactMatch(field: string): string | undefined;
  /** Canonical form: `a=b,c!=d` with values escaped. */
  toString(): string;
}

/** fields.EscapeValue: `\` → `\\`, `,` → `\,`, `=` → `\=`. */
export const escapeFieldValue = (s: string): string => s.replace(/[\\,=]/g, (c) => `\\${c}`);

class FieldSyntaxError extends Error {}

/** fields.UnescapeValue. */
function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== "\\" && c !== "," && c !== "=") {
        throw new FieldSyntaxError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === "\\") {
      inSlash = true;
    } else if (c === "," || c === "=") {
      // Upstream prints the rune with %v: its number (44 or 61), not the character.
      throw new FieldSyntaxError(`invalid field selector: unescaped character in value: ${c.charCodeAt(0)}`);
    } else {
      out += c;
    }
  }
  if (inSlash) throw new FieldSyntaxError("invalid field selector: invalid escape sequence: \\");
  return out;
}

/** Splits at commas that no backslash escapes; the terms keep their backslashes. */
function splitTerms(selector: string): string[] {
  if (selector === "") return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector.charAt(i);
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

const termOperators = ["!=", "==", "="] as const;

/** Splits a term at the first operator; the field part has no escaping. */
function splitTerm(
  term: string,
): { field: string; op: (typeof termOperators)[number]; raw: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), op, raw: term.slice(i + op.length) };
    }
  }
  return undefined;
}

const hasOwn = (fields: Readonly<Record<string, string>>, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(fields, key);

class TermsSelector implements FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(fields: Readonly<Record<string, string>>): boolean {
    return this.requirements.every((r) => {
      const actual = hasOwn(fields, r.field) ? fields[r.field] : "";
      return r.operator === "=" ? actual === r.value : actual !== r.value;
    });
  }

  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.operator === "=" && r.field === field)?.value;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(",");
  }
}

/**
 * fields.ParseSelector: the `fieldSelector` query parameter. Throws a 400 BadRequest whose
 * message is kube-apiserver's, e.g. `invalid selector: 'x'; can't understand 'x'`.
 */
export function parseFieldSelector(text: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  // Upstream sorts the raw terms before parsing: that fixes both the canonical order and
  // which bad term is reported first.
  for (const term of splitTerms(text).sort(compareGoStrings)) {
    if (term === "") continue;
    const parts = splitTerm(term);
    if (parts === undefined) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    let value: string;
    try {
      value = unescapeFieldValue(parts.raw);
    } catch (err) {
      if (err instanceof FieldSyntaxError) throw badRequest(err.message);
      throw err;
    }
    requirements.push(
      Object.freeze({ field: parts.field, operator: parts.op === "!=" ? "!=" : "=", value } as const),
    );
  }
  return new TermsSelector(Object.freeze(requirements));
}

/** How a resource rejects a field it does not support; kube words it two ways. */
export type FieldLabelRejection =
  /**
   * Kinds with no field label conversion of their own (runtime.DefaultMetaV1FieldSelectorConversion,
   * e.g. configmaps): `"foo" is not a known field selector: only "metadata.name", "metadata.namespace"`.
   */
  | "default"
  /** Kinds with their own conversion (pods, nodes, events, secrets…) and custom resources: `field label not supported: foo`. */
  | "notSupported";

/**
 * What ListResource does after parsing (Transform with ConvertFieldLabel): every term must
 * name a supported field, checked in the selector's order; the first that does not is a
 * 400 BadRequest with kube's message for the resource's kind of conversion.
 */
export function requireSupportedFields(
  selector: FieldSelector,
  supported: readonly string[],
  rejection: FieldLabelRejection = "default",
): void {
  for (const r of selector.requirements) {
    if (supported.includes(r.field)) continue;
    throw badRequest(
      rejection === "default"
        ? `${goQuote(r.field)} is not a known field selector: only "metadata.name", "metadata.namespace"`
        : `field label not supported: ${r.field}`,
    );
  }
}

/**
 * The value `field` must equal, e.g. "x" for `metadata.name=x` (upstream's
 * RequiresExactMatch): lets a list or watch narrow to one object.
 */
export const singleValueFor = (selector: FieldSelector, field: string): string | undefined =>
  selector.requiresExactMatch(field);
