// Label selectors as k8s.io/apimachinery v1.32 has them: the `?labelSelector=` grammar
// (labels.Parse), matching, the canonical string (Selector.String), and selectors built from
// a metav1.LabelSelector object (LabelSelectorAsSelector) with their validation
// (metav1validation.ValidateLabelSelector). Error texts are upstream's, byte for byte.
//
// Grammar (labels.Parse):
//   selector    ::= requirement | requirement "," selector
//   requirement ::= ["!"] KEY [ set-based | exact-match ]
//   set-based   ::= ("in" | "notin") "(" VALUE {"," VALUE} ")"
//   exact-match ::= ("=" | "==" | "!=" | ">" | "<") VALUE
// A bare KEY means "exists", "!KEY" "does not exist"; VALUE may be empty; whitespace is
// space, tab, CR and LF. Keys are qualified names, values label values.

import { badRequest, type FieldError } from "../../apierrors/status.ts";
import {
  aggregateMessage,
  childPath,
  errorString,
  invalidError,
  stringValue,
  subscriptPath,
  toFieldErrors,
  type FieldPath,
  type SelectorFieldError,
} from "./field-errors.ts";
import { compareGoStrings, goQuote } from "./go-format.ts";
import { labelValueErrors, qualifiedNameErrors } from "./label-validation.ts";

/** selection.Operator values, spelled as upstream spells them. */
export type LabelOperator = "in" | "notin" | "=" | "==" | "!=" | "exists" | "!" | "gt" | "lt";

/** One condition on one label; a selector is the AND of its requirements. Immutable. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /**
   * Parsed selectors hold the values sorted and without duplicates (a set); selectors built
   * from an object keep the object's order. Exists and DoesNotExist have none.
   */
  readonly values: readonly string[];
}

/**
 * A parsed label selector. Callers: the list/watch handlers (filtering), controllers and
 * admission (selectors from objects). Immutable; no method changes its input.
 */
export interface LabelSelector {
  /**
   * Sorted by key, as upstream's parser and Add leave them. Ties keep their input order;
   * Go's sort.Sort does too up to 12 requirements, and may shuffle ties beyond that.
   */
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector does not restrict anything (matches every object). */
  readonly empty: boolean;
  /**
   * False only for the selector of a null metav1.LabelSelector, which matches nothing
   * (upstream's Nothing(): Requirements() reports selectable=false). Code that turns
   * requirements into a query must check it: that selector has no requirements either.
   */
  readonly selectable: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** The single value `key` must have (`key=v`, `key==v`, `key in (v)`), if the first requirement on `key` demands one. */
  requiresExactMatch(key: string): string | undefined;
  /** Canonical form: requirements by key, set values sorted, e.g. `x in (a,b),y!=c,!z`. */
  toString(): string;
}

// ---------------------------------------------------------------------------------------
// Requirements

const hasOwn = (labels: Readonly<Record<string, string>>, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(labels, key);

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64); undefined where Go answers an error. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < int64Min || n > int64Max ? undefined : n;
}

function requirementMatches(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case "in":
    case "=":
    case "==":
      return value !== undefined && r.values.includes(value);
    case "notin":
    case "!=":
      return value === undefined || !r.values.includes(value);
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (value === undefined) return false;
      const actual = parseInt64(value);
      if (actual === undefined || r.values.length !== 1) return false;
      const wanted = parseInt64(r.values[0] ?? "");
      if (wanted === undefined) return false;
      return r.operator === "gt" ? actual > wanted : actual < wanted;
    }
  }
}

/** Values in Go's sort order, without touching the input (upstream's safeSort). */
const sortedValues = (values: readonly string[]): string[] => [...values].sort(compareGoStrings);

function requirementString(r: LabelRequirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${valuesString(r.values)})`;
    case "=":
    case "==":
    case "!=":
      return `${r.key}${r.operator}${valuesString(r.values)}`;
    case "gt":
      return `${r.key}>${valuesString(r.values)}`;
    case "lt":
      return `${r.key}<${valuesString(r.values)}`;
  }
}

const valuesString = (values: readonly string[]): string =>
  values.length === 1 ? (values[0] ?? "") : sortedValues(values).join(",");

/**
 * labels.NewRequirement: builds the requirement and lists what is wrong with it. `path` is
 * the field path errors are reported under (nil for the query parameter).
 */
function newRequirement(
  key: string,
  operator: LabelOperator,
  values: readonly string[] | null,
  path: FieldPath,
): { requirement: LabelRequirement; errors: SelectorFieldError[] } {
  const errors: SelectorFieldError[] = [];
  const keyErrors = qualifiedNameErrors(key);
  if (keyErrors.length > 0) {
    errors.push(invalidError(childPath(path, "key"), stringValue(key), keyErrors.join("; ")));
  }
  const vals = values ?? [];
  const valuesPath = childPath(path, "values");
  const allValues = { kind: "strings", value: values } as const;
  switch (operator) {
    case "in":
    case "notin":
      if (vals.length === 0) {
        errors.push(
          invalidError(valuesPath, allValues, "for 'in', 'notin' operators, values set can't be empty"),
        );
      }
      break;
    case "=":
    case "==":
    case "!=":
      if (vals.length !== 1) {
        errors.push(
          invalidError(valuesPath, allValues, "exact-match compatibility requires one single value"),
        );
      }
      break;
    case "exists":
    case "!":
      if (vals.length !== 0) {
        errors.push(
          invalidError(valuesPath, allValues, "values set must be empty for exists and does not exist"),
        );
      }
      break;
    case "gt":
    case "lt":
      if (vals.length !== 1) {
        errors.push(
          invalidError(valuesPath, allValues, "for 'Gt', 'Lt' operators, exactly one value is required"),
        );
      }
      vals.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errors.push(
            invalidError(
              subscriptPath(valuesPath, i),
              stringValue(v),
              "for 'Gt', 'Lt' operators, the value must be an integer",
            ),
          );
        }
      });
      break;
  }
  vals.forEach((v, i) => {
    const valueErrors = labelValueErrors(v);
    if (valueErrors.length > 0) {
      errors.push(
        invalidError(
          subscriptPath(subscriptPath(valuesPath, i), key),
          stringValue(v),
          valueErrors.join("; "),
        ),
      );
    }
  });
  return { requirement: Object.freeze({ key, operator, values: Object.freeze([...vals]) }), errors };
}

// ---------------------------------------------------------------------------------------
// Selectors

class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  readonly selectable = true;

  constructor(requirements: readonly LabelRequirement[]) {
    // Stable by key, as Go's sort.Sort(ByKey) is for the short lists selectors are.
    this.requirements = Object.freeze([...requirements].sort((a, b) => compareGoStrings(a.key, b.key)));
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    const set = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, set));
  }

  requiresExactMatch(key: string): string | undefined {
    const r = this.requirements.find((x) => x.key === key);
    if (r === undefined) return undefined;
    const exact = r.operator === "=" || r.operator === "==" || r.operator === "in";
    return exact && r.values.length === 1 ? r.values[0] : undefined;
  }

  toString(): string {
    return this.requirements.map(requirementString).join(",");
  }
}

const nothing: LabelSelector = Object.freeze({
  requirements: Object.freeze([]),
  empty: false,
  selectable: false,
  matches: () => false,
  requiresExactMatch: () => undefined,
  toString: () => "",
});

const everything: LabelSelector = new RequirementsSelector([]);

/** A selector matching every object (upstream's labels.Everything()). */
export const everythingLabelSelector = (): LabelSelector => everything;

/** A selector matching no object (upstream's labels.Nothing()). */
export const nothingLabelSelector = (): LabelSelector => nothing;

// ---------------------------------------------------------------------------------------
// labels.Parse

type Token =
  | "error"
  | "endOfString"
  | "closedPar"
  | "comma"
  | "doesNotExist"
  | "doubleEquals"
  | "equals"
  | "greaterThan"
  | "identifier"
  | "in"
  | "lessThan"
  | "notEquals"
  | "notIn"
  | "openPar";

const literalTokens: ReadonlyMap<string, Token> = new Map<string, Token>([
  [")", "closedPar"],
  [",", "comma"],
  ["!", "doesNotExist"],
  ["==", "doubleEquals"],
  ["=", "equals"],
  [">", "greaterThan"],
  ["in", "in"],
  ["<", "lessThan"],
  ["!=", "notEquals"],
  ["notin", "notIn"],
  ["(", "openPar"],
]);

const operatorTokens: ReadonlyMap<Token, LabelOperator> = new Map<Token, LabelOperator>([
  ["in", "in"],
  ["equals", "="],
  ["doubleEquals", "=="],
  ["greaterThan", "gt"],
  ["lessThan", "lt"],
  ["notIn", "notin"],
  ["notEquals", "!="],
]);

/** In error messages: "found 'x', expected: in, notin, =, ==, !=, gt, lt". */
const binaryOperators: readonly LabelOperator[] = ["in", "notin", "=", "==", "!=", "gt", "lt"];

interface Scanned {
  readonly token: Token;
  readonly literal: string;
}

const endOfString: Scanned = { token: "endOfString", literal: "" };

const isWhitespace = (ch: string): boolean => ch === " " || ch === "\t" || ch === "\r" || ch === "\n";

const isSpecialSymbol = (ch: string): boolean =>
  ch === "=" || ch === "!" || ch === "(" || ch === ")" || ch === "," || ch === ">" || ch === "<";

/**
 * The lexer reads the input one UTF-16 unit at a time where upstream reads bytes: every
 * character that matters is ASCII, so both split the same. Like upstream's, it reads a NUL
 * as the end of the input (and skips it), which `?labelSelector=a%00b` can reach.
 */
class Lexer {
  private pos = 0;
  constructor(private readonly s: string) {}

  /** The next character, or "" at the end (or at a NUL). */
  private read(): string {
    if (this.pos >= this.s.length) return "";
    const ch = this.s.charAt(this.pos);
    this.pos++;
    return ch === "\0" ? "" : ch;
  }

  private unread(): void {
    this.pos--;
  }

  private scanIdentifierOrKeyword(): Scanned {
    let buffer = "";
    for (;;) {
      const ch = this.read();
      if (ch === "") break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
    }
    return { token: literalTokens.get(buffer) ?? "identifier", literal: buffer };
  }

  /** The longest operator at this position ("!=" rather than "!"). */
  private scanSpecialSymbol(): Scanned {
    let last: Scanned | undefined;
    let buffer = "";
    for (;;) {
      const ch = this.read();
      if (ch === "") break;
      if (!isSpecialSymbol(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
      const token = literalTokens.get(buffer);
      if (token !== undefined) {
        last = { token, literal: buffer };
      } else if (last !== undefined) {
        this.unread();
        break;
      }
    }
    return last ?? { token: "error", literal: `error expected: keyword found '${buffer}'` };
  }

  lex(): Scanned {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === "") return endOfString;
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdentifierOrKeyword();
  }
}

/** Whether "in" and "notin" are operators (after a key) or plain words (where a value may stand). */
type ParserContext = "keyAndOperator" | "values";

class SelectorSyntaxError extends Error {}

const fail = (message: string): never => {
  throw new SelectorSyntaxError(message);
};

class Parser {
  private readonly items: Scanned[] = [];
  private position = 0;

  constructor(input: string) {
    const lexer = new Lexer(input);
    for (;;) {
      const item = lexer.lex();
      this.items.push(item);
      if (item.token === "endOfString") break;
    }
  }

  private at(index: number, context: ParserContext): Scanned {
    const item = this.items[index] ?? endOfString;
    if (context === "values" && (item.token === "in" || item.token === "notIn")) {
      return { token: "identifier", literal: item.literal };
    }
    return item;
  }

  private lookahead(context: ParserContext): Scanned {
    return this.at(this.position, context);
  }

  private consume(context: ParserContext): Scanned {
    this.position++;
    return this.at(this.position - 1, context);
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { token, literal } = this.lookahead("values");
      if (token === "endOfString") return requirements;
      if (token !== "identifier" && token !== "doesNotExist") {
        fail(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (err) {
        if (err instanceof SelectorSyntaxError) fail(`unable to parse requirement: ${err.message}`);
        throw err;
      }
      const next = this.consume("values");
      if (next.token === "endOfString") return requirements;
      if (next.token !== "comma") fail(`found '${next.literal}', expected: ',' or 'end of string'`);
      const after = this.lookahead("values");
      if (after.token !== "identifier" && after.token !== "doesNotExist") {
        fail(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    const { key, operator: inferred } = this.parseKeyAndInferOperator();
    if (inferred === "exists" || inferred === "!") return checked(newRequirement(key, inferred, [], null));
    const operator = this.parseOperator();
    const values = operator === "in" || operator === "notin" ? this.parseValues() : this.parseExactValue();
    return checked(newRequirement(key, operator, [...values].sort(compareGoStrings), null));
  }

  /** A key, and "exists" / "!" when nothing but "," or the end follows it. */
  private parseKeyAndInferOperator(): { key: string; operator: "exists" | "!" | undefined } {
    let operator: "exists" | "!" | undefined;
    let { token, literal } = this.consume("values");
    if (token === "doesNotExist") {
      operator = "!";
      ({ token, literal } = this.consume("values"));
    }
    if (token !== "identifier") fail(`found '${literal}', expected: identifier`);
    const keyErrors = qualifiedNameErrors(literal);
    if (keyErrors.length > 0) {
      // labels.Parse validates the key against a nil field path, hence "<nil>: ".
      fail(errorString(invalidError(null, stringValue(literal), keyErrors.join("; "))));
    }
    const next = this.lookahead("values").token;
    if ((next === "endOfString" || next === "comma") && operator !== "!") operator = "exists";
    return { key: literal, operator };
  }

  private parseOperator(): LabelOperator {
    const { token, literal } = this.consume("keyAndOperator");
    return operatorTokens.get(token) ?? fail(`found '${literal}', expected: ${binaryOperators.join(", ")}`);
  }

  /** `(a, b, c)`; empty entries are the empty value. Returns a set. */
  private parseValues(): Set<string> {
    const open = this.consume("values");
    if (open.token !== "openPar") fail(`found '${open.literal}' expected: '('`);
    const { token, literal } = this.lookahead("values");
    if (token === "closedPar") {
      this.consume("values");
      return new Set([""]); // "()"
    }
    if (token !== "identifier" && token !== "comma")
      fail(`found '${literal}', expected: ',', ')' or identifier`);
    const values = this.parseIdentifiersList();
    // Upstream names the token after "(" here, not the one found.
    if (this.consume("values").token !== "closedPar") fail(`found '${literal}', expected: ')'`);
    return values;
  }

  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const { token, literal } = this.consume("values");
      if (token === "identifier") {
        values.add(literal);
        const next = this.lookahead("values");
        if (next.token === "closedPar") return values;
        if (next.token !== "comma") fail(`found '${next.literal}', expected: ',' or ')'`);
      } else if (token === "comma") {
        if (values.size === 0) values.add(""); // "(,"
        const next = this.lookahead("values").token;
        if (next === "closedPar") {
          values.add(""); // ",)"
          return values;
        }
        if (next === "comma") {
          this.consume("values");
          values.add(""); // ",,"
        }
      } else {
        fail(`found '${literal}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead("values").token;
    if (next === "endOfString" || next === "comma") return new Set([""]);
    const { token, literal } = this.consume("values");
    if (token === "identifier") return new Set([literal]);
    return fail(`found '${literal}', expected: identifier`);
  }
}

function checked(r: { requirement: LabelRequirement; errors: SelectorFieldError[] }): LabelRequirement {
  if (r.errors.length > 0) fail(aggregateMessage(r.errors));
  return r.requirement;
}

/**
 * labels.Parse: the `labelSelector` query parameter. The empty string selects everything.
 * Throws a 400 BadRequest whose message is the one kube-apiserver sends, e.g.
 * `unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`.
 */
export function parseLabelSelector(text: string): LabelSelector {
  try {
    return new RequirementsSelector(new Parser(text).parse());
  } catch (err) {
    if (err instanceof SelectorSyntaxError) throw badRequest(err.message);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// metav1.LabelSelector

/** metav1.LabelSelectorRequirement as it arrives in JSON; `operator` is checked, not trusted. */
export interface LabelSelectorRequirementObject {
  readonly key: string;
  /** "In" | "NotIn" | "Exists" | "DoesNotExist"; anything else is reported. */
  readonly operator: string;
  readonly values?: readonly string[] | null | undefined;
}

/** metav1.LabelSelector as it arrives in JSON. */
export interface LabelSelectorObject {
  readonly matchLabels?: Readonly<Record<string, string>> | null | undefined;
  readonly matchExpressions?: readonly LabelSelectorRequirementObject[] | null | undefined;
}

const objectOperators: Readonly<Record<string, LabelOperator>> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

const operatorOf = (name: string): LabelOperator | undefined =>
  Object.prototype.hasOwnProperty.call(objectOperators, name) ? objectOperators[name] : undefined;

/**
 * metav1.LabelSelectorAsSelector: null/undefined selects nothing, `{}` (no labels, no
 * expressions) selects everything. Throws a 400 BadRequest carrying upstream's error text
 * when a requirement is invalid (run validateLabelSelectorObject first to report 422
 * causes instead). matchLabels are read in sorted key order where Go's map order is random,
 * so with several bad entries the one reported is deterministic here.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return nothing;
  const matchLabels = sel.matchLabels ?? {};
  const matchExpressions = sel.matchExpressions ?? [];
  const labelKeys = Object.keys(matchLabels).sort(compareGoStrings);
  if (labelKeys.length + matchExpressions.length === 0) return everything;
  const requirements: LabelRequirement[] = [];
  const add = (r: { requirement: LabelRequirement; errors: SelectorFieldError[] }): void => {
    if (r.errors.length > 0) throw badRequest(aggregateMessage(r.errors));
    requirements.push(r.requirement);
  };
  for (const key of labelKeys) add(newRequirement(key, "=", [matchLabels[key] ?? ""], null));
  for (const expr of matchExpressions) {
    const operator = operatorOf(expr.operator);
    if (operator === undefined) {
      throw badRequest(`${goQuote(expr.operator)} is not a valid label selector operator`);
    }
    const values =
      expr.values === undefined || expr.values === null || expr.values.length === 0 ? null : expr.values;
    add(newRequirement(expr.key, operator, values, null));
  }
  return new RequirementsSelector(requirements);
}

/** Options of metav1validation.LabelSelectorValidationOptions. */
export interface LabelSelectorValidationOptions {
  /** Skip the label-value check of matchExpressions values (for objects stored before it existed). */
  readonly allowInvalidLabelValueInSelector?: boolean;
}

/**
 * metav1validation.ValidateLabelSelector: the causes of a 422 for a selector inside an
 * object, under `fieldPath` (e.g. "spec.selector"). Null/undefined is valid. Callers:
 * strategies validating objects that embed a selector (webhook configurations, workloads…).
 */
export function validateLabelSelectorObject(
  sel: LabelSelectorObject | null | undefined,
  fieldPath: string,
  options: LabelSelectorValidationOptions = {},
): FieldError[] {
  if (sel === null || sel === undefined) return [];
  const errors: SelectorFieldError[] = [];
  const labelsPath = childPath(fieldPath, "matchLabels");
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    for (const msg of qualifiedNameErrors(key)) errors.push(invalidError(labelsPath, stringValue(key), msg));
    for (const msg of labelValueErrors(value)) errors.push(invalidError(labelsPath, stringValue(value), msg));
  }
  (sel.matchExpressions ?? []).forEach((expr, i) => {
    const path = subscriptPath(childPath(fieldPath, "matchExpressions"), i);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) {
          errors.push({
            type: "FieldValueRequired",
            field: childPath(path, "values"),
            badValue: stringValue(""),
            detail: "must be specified when `operator` is 'In' or 'NotIn'",
          });
        }
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) {
          errors.push({
            type: "FieldValueForbidden",
            field: childPath(path, "values"),
            badValue: stringValue(""),
            detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          });
        }
        break;
      default:
        errors.push(
          invalidError(
            childPath(path, "operator"),
            stringValue(expr.operator),
            "not a valid selector operator",
          ),
        );
    }
    for (const msg of qualifiedNameErrors(expr.key)) {
      errors.push(invalidError(childPath(path, "key"), stringValue(expr.key), msg));
    }
    if (options.allowInvalidLabelValueInSelector !== true) {
      values.forEach((value, j) => {
        for (const msg of labelValueErrors(value)) {
          errors.push(invalidError(subscriptPath(childPath(path, "values"), j), stringValue(value), msg));
        }
      });
    }
  });
  return toFieldErrors(errors);
}
