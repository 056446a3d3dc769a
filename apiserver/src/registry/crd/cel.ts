// x-kubernetes-validations: CEL rules in a CRD schema, compiled when the CRD is validated and
// evaluated against custom resources, with kube-apiserver's semantics (v1.32): `self` is the
// value at the rule's node, `oldSelf` the correlated old value on update (transition rules run
// only when there is one, unless optionalOldSelf), values are typed by the schema (integer →
// int, number → double), and failures read `<path>: Invalid value: "<type>": <message>`.
// The CEL engine is @marcbachmann/cel-js with the Kubernetes libraries of cel/. Evaluation is
// held to kube's per-call cost limit and per-object runtime budget by cel/cost.ts's meter.

import type { Environment } from "@marcbachmann/cel-js";
import { Optional } from "@marcbachmann/cel-js";
import {
  celIssue,
  celRuntimeMessage,
  costLimitExceededMessage,
  CostMeter,
  newKubernetesEnvironment,
  runtimeCostBudget,
} from "../../cel/index.ts";
import type { FieldError } from "../../apierrors/status.ts";
import { goQuote } from "../validation/field.ts";
import * as e from "./errors.ts";
import {
  additionalSchema,
  FieldPath,
  isEmbedded,
  isIntOrString,
  isObject,
  itemsSchema,
  preservesUnknown,
  propertySchema,
  type JSONSchemaProps,
  type ValidationRule,
} from "./schema.ts";

// ---- names --------------------------------------------------------------------------------

const reserved = new Set([
  "true",
  "false",
  "null",
  "in",
  "as",
  "break",
  "const",
  "continue",
  "else",
  "for",
  "function",
  "if",
  "import",
  "let",
  "loop",
  "package",
  "namespace",
  "return",
  "var",
  "void",
  "while",
]);

/** cel.Escape: a property name as a CEL identifier, or undefined when it cannot be one. */
export function escapeName(ident: string): string | undefined {
  if (ident === "" || /^[0-9]/.test(ident)) return undefined;
  if (reserved.has(ident)) return `__${ident}__`;
  let ok = true;
  const out = ident.replace(/(__|[-./]|[^a-zA-Z0-9\-./_])/g, (s) => {
    switch (s) {
      case "__":
        return "__underscores__";
      case ".":
        return "__dot__";
      case "-":
        return "__dash__";
      case "/":
        return "__slash__";
      default:
        ok = false;
        return "";
    }
  });
  return ok ? out : undefined;
}

// ---- environments -------------------------------------------------------------------------

/** The base environment shared by all rules: `self` and `oldSelf` are dynamic. */
const baseEnv = newKubernetesEnvironment();
baseEnv.registerVariable("self", "dyn");
const ruleEnv = baseEnv.clone();
ruleEnv.registerVariable("oldSelf", "dyn");
/** For optionalOldSelf rules: oldSelf is optional.none() when there is no old value. */
const optionalRuleEnv = baseEnv.clone();
optionalRuleEnv.registerVariable("oldSelf", "optional<dyn>");

// ---- compile ------------------------------------------------------------------------------

type Program = (ctx: Record<string, unknown>) => unknown;

export interface CompiledRule {
  readonly rule: ValidationRule;
  readonly program: Program;
  readonly messageProgram?: Program;
  readonly usesOldSelf: boolean;
  readonly optionalOldSelf: boolean;
}

/** A problem with one rule, for the CRD's validation (paths are relative to the rule). */
export interface RuleCompileError {
  readonly field: "rule" | "messageExpression";
  readonly required: boolean;
  readonly detail: string;
}

interface AstLike {
  op: string;
  args: unknown;
}

function referencesOldSelf(node: unknown): boolean {
  if (node === null || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.some(referencesOldSelf);
  const n = node as AstLike;
  if (n.op === "id" && n.args === "oldSelf") return true;
  return referencesOldSelf(n.args);
}

// Typed declarations, for compile-time checks only (evaluation is dynamic).
let typeCounter = 0;

function declType(env: Environment, s: JSONSchemaProps | undefined, resourceRoot: boolean): string {
  if (s === undefined || isIntOrString(s)) return "dyn";
  switch (s.type ?? "") {
    case "integer":
      return "int";
    case "number":
      return "double";
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "array":
      return `list<${declType(env, itemsSchema(s), false)}>`;
    case "object": {
      const additional = additionalSchema(s);
      if (additional !== undefined && s.properties === undefined) {
        return `map<string, ${declType(env, additional, isEmbedded(additional))}>`;
      }
      if (preservesUnknown(s) && s.properties === undefined && !resourceRoot) return "dyn";
      const fields: Record<string, string> = {};
      if (resourceRoot) {
        fields["apiVersion"] = "string";
        fields["kind"] = "string";
        fields["metadata"] = declMetadata(env);
      }
      for (const [k, prop] of Object.entries(s.properties ?? {})) {
        const name = escapeName(k);
        if (name === undefined) continue;
        if (resourceRoot && (k === "metadata" || k === "apiVersion" || k === "kind")) continue;
        fields[name] = declType(env, prop, isEmbedded(prop));
      }
      const name = `Object${++typeCounter}`;
      env.registerType(name, { fields });
      return name;
    }
    default:
      return "dyn";
  }
}

function declMetadata(env: Environment): string {
  const name = `ObjectMeta${++typeCounter}`;
  env.registerType(name, { fields: { name: "string", generateName: "string" } });
  return name;
}

/** Type-checks `expr` against the node's schema; returns an error string or undefined. */
function typeCheck(
  expr: string,
  s: JSONSchemaProps,
  resourceRoot: boolean,
  optionalOld: boolean,
): string | undefined {
  const env = newKubernetesEnvironment();
  let selfType: string;
  try {
    selfType = declType(env, s, resourceRoot);
  } catch {
    return undefined; // a schema the engine cannot declare: fall back to dynamic checks
  }
  env.registerVariable("self", selfType);
  env.registerVariable("oldSelf", optionalOld ? `optional<${selfType}>` : selfType);
  const res = env.check(expr);
  if (res.valid) {
    return res.type === "bool" || res.type === "dyn" ? undefined : "cel expression must evaluate to a bool";
  }
  const msg = res.error?.message ?? "";
  // Only undefined fields are reported from the typed check: where this engine's overloads are
  // narrower than cel-go's, the dynamic check below decides.
  return /^No such key/.test(msg) ? `compilation failed: ${celIssue(expr, res.error)}` : undefined;
}

/**
 * Compiles the rules of one schema node. `resourceRoot` is true at the root and at embedded
 * resources (apiVersion, kind, metadata.name and metadata.generateName are then declared).
 */
export function compileRules(
  s: JSONSchemaProps,
  resourceRoot: boolean,
): { compiled: (CompiledRule | undefined)[]; errors: (RuleCompileError | undefined)[][] } {
  const rules = s["x-kubernetes-validations"] ?? [];
  const compiled: (CompiledRule | undefined)[] = [];
  const errors: (RuleCompileError | undefined)[][] = [];
  for (const rule of rules) {
    const errs: RuleCompileError[] = [];
    const expr = rule.rule ?? "";
    const optionalOld = rule.optionalOldSelf === true;
    const env = optionalOld ? optionalRuleEnv : ruleEnv;
    let program: Program | undefined;
    let usesOldSelf = false;
    try {
      const parsed = env.parse(expr);
      usesOldSelf = referencesOldSelf(parsed.ast);
      const checked = parsed.check();
      if (!checked.valid) {
        errs.push({
          field: "rule",
          required: false,
          detail: `compilation failed: ${celIssue(expr, checked.error)}`,
        });
      } else if (checked.type !== "bool" && checked.type !== "dyn") {
        errs.push({ field: "rule", required: false, detail: "cel expression must evaluate to a bool" });
      } else {
        const typed = typeCheck(expr, s, resourceRoot, optionalOld);
        if (typed !== undefined) errs.push({ field: "rule", required: false, detail: typed });
        else program = parsed;
      }
    } catch (err) {
      errs.push({ field: "rule", required: false, detail: `compilation failed: ${celIssue(expr, err)}` });
    }
    let messageProgram: Program | undefined;
    const msgExpr = rule.messageExpression ?? "";
    if (msgExpr.trim() !== "") {
      try {
        const parsed = env.parse(msgExpr);
        const checked = parsed.check();
        if (!checked.valid) {
          errs.push({
            field: "messageExpression",
            required: false,
            detail: `messageExpression compilation failed: ${celIssue(msgExpr, checked.error)}`,
          });
        } else if (checked.type !== "string" && checked.type !== "dyn") {
          errs.push({ field: "messageExpression", required: false, detail: "must evaluate to a string" });
        } else messageProgram = parsed;
      } catch (err) {
        errs.push({
          field: "messageExpression",
          required: false,
          detail: `messageExpression compilation failed: ${celIssue(msgExpr, err)}`,
        });
      }
    }
    errors.push(errs);
    compiled.push(
      program === undefined
        ? undefined
        : {
            rule,
            program,
            ...(messageProgram !== undefined ? { messageProgram } : {}),
            usesOldSelf,
            optionalOldSelf: optionalOld,
          },
    );
  }
  return { compiled, errors };
}

// ---- values -------------------------------------------------------------------------------

/** A decoded JSON value as CEL sees it under schema `s` (ints as bigint, escaped field names). */
export function toCel(v: unknown, s: JSONSchemaProps | undefined, resourceRoot = false): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") {
    if (s?.type === "number") return v;
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  if (typeof v !== "object") return v;
  if (Array.isArray(v)) {
    const items = itemsSchema(s);
    return v.map((x) => toCel(x, items, isEmbedded(items)));
  }
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (s === undefined || (s.properties === undefined && s.additionalProperties === undefined)) {
    for (const [k, x] of Object.entries(o)) out[k] = toCel(x, undefined);
    if (resourceRoot && isObject(o["metadata"])) out["metadata"] = metaView(o["metadata"]);
    return out;
  }
  const additional = additionalSchema(s);
  if (additional !== undefined && s.properties === undefined) {
    for (const [k, x] of Object.entries(o)) out[k] = toCel(x, additional, isEmbedded(additional));
    return out;
  }
  for (const [k, x] of Object.entries(o)) {
    if (resourceRoot && k === "metadata") {
      if (isObject(x)) out[k] = metaView(x);
      continue;
    }
    const prop = propertySchema(s, k);
    const name = escapeName(k);
    if (name === undefined) continue;
    out[name] = toCel(x, prop, isEmbedded(prop));
  }
  return out;
}

/** Only metadata.name and metadata.generateName are visible to rules. */
function metaView(meta: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof meta["name"] === "string") out["name"] = meta["name"];
  if (typeof meta["generateName"] === "string") out["generateName"] = meta["generateName"];
  return out;
}

// ---- evaluate -----------------------------------------------------------------------------

/** Compiled rules per schema node, built once per CRD version. */
export class CelValidator {
  private readonly cache = new WeakMap<JSONSchemaProps, (CompiledRule | undefined)[]>();

  constructor(private readonly root: JSONSchemaProps) {}

  /** Whether the schema has any rule at all (no work otherwise). */
  static hasRules(s: JSONSchemaProps | undefined): boolean {
    if (s === undefined) return false;
    if ((s["x-kubernetes-validations"] ?? []).length > 0) return true;
    const items = itemsSchema(s);
    const additional = additionalSchema(s);
    return (
      Object.values(s.properties ?? {}).some((p) => CelValidator.hasRules(p)) ||
      CelValidator.hasRules(items) ||
      (additional !== undefined && CelValidator.hasRules(additional))
    );
  }

  private rulesOf(s: JSONSchemaProps, resourceRoot: boolean): (CompiledRule | undefined)[] {
    let c = this.cache.get(s);
    if (c === undefined) {
      c = compileRules(s, resourceRoot).compiled;
      this.cache.set(s, c);
    }
    return c;
  }

  /**
   * Errors of every rule on `obj` (and `old` on update), as kube reports them. All rules of
   * the object share one runtime cost budget (`budget`, kube's RuntimeCELCostBudget); each
   * rule is also held to the per-call limit. Running out of budget stops validation.
   */
  validate(obj: unknown, old: unknown, budget = runtimeCostBudget, meter = new CostMeter()): FieldError[] {
    const errs: FieldError[] = [];
    this.walk(FieldPath.root, this.root, obj, old, true, { errs, meter, remaining: budget, stopped: false });
    return errs;
  }

  private walk(
    path: FieldPath,
    s: JSONSchemaProps | undefined,
    obj: unknown,
    old: unknown,
    resourceRoot: boolean,
    run: Run,
  ): void {
    if (s === undefined || obj === null || obj === undefined || run.stopped) return;
    if ((s["x-kubernetes-validations"] ?? []).length > 0) this.evaluate(path, s, obj, old, resourceRoot, run);
    if (Array.isArray(obj)) {
      const items = itemsSchema(s);
      if (items === undefined) return;
      const correlate = s["x-kubernetes-list-type"] === "map" ? listMapCorrelator(s, old) : undefined;
      obj.forEach((x, i) => this.walk(path.index(i), items, x, correlate?.(x), isEmbedded(items), run));
      return;
    }
    if (!isObject(obj)) return;
    const oldObj = isObject(old) ? old : undefined;
    const additional = additionalSchema(s);
    const correlatable = s["x-kubernetes-map-type"] !== "atomic";
    for (const [k, x] of Object.entries(obj)) {
      if (resourceRoot && (k === "metadata" || k === "apiVersion" || k === "kind")) continue;
      const prop = propertySchema(s, k);
      const oldX = oldObj !== undefined && correlatable ? oldObj[k] : undefined;
      if (prop !== undefined) this.walk(path.child(k), prop, x, oldX, isEmbedded(prop), run);
      else if (additional !== undefined)
        this.walk(path.key(k), additional, x, oldX, isEmbedded(additional), run);
    }
  }

  private evaluate(
    path: FieldPath,
    s: JSONSchemaProps,
    obj: unknown,
    old: unknown,
    resourceRoot: boolean,
    run: Run,
  ): void {
    const errs = run.errs;
    const type = isIntOrString(s) ? "" : (s.type ?? "");
    const self = run.meter.track(toCel(obj, s, resourceRoot));
    const hasOld = old !== undefined && old !== null;
    const oldSelf = hasOld ? run.meter.track(toCel(old, s, resourceRoot)) : undefined;
    for (const c of this.rulesOf(s, resourceRoot)) {
      if (c === undefined) continue;
      if (c.usesOldSelf && !hasOld && !c.optionalOldSelf) continue;
      const ctx: Record<string, unknown> = {
        self,
        oldSelf: c.optionalOldSelf ? (hasOld ? Optional.of(oldSelf) : Optional.none()) : (oldSelf ?? null),
      };
      const at = rulePath(path, c.rule.fieldPath);
      let result: unknown;
      let failure: unknown;
      run.meter.startCall();
      try {
        result = c.program(ctx);
      } catch (err) {
        failure = err;
      }
      // As kube: the budget first (it stops everything), then the rule's own outcome.
      if (run.meter.callCost > run.remaining) {
        errs.push(
          e.invalid(
            path,
            e.json(type),
            "validation failed due to running out of cost budget, no further validation rules will be run",
          ),
        );
        run.stopped = true;
        return;
      }
      run.remaining -= run.meter.callCost;
      if (run.meter.callExceeded) {
        errs.push(
          e.invalid(
            path,
            e.json(type),
            `'${costLimitExceededMessage}': call cost exceeds limit for rule: ${ruleErrorString(c.rule)}`,
          ),
        );
        continue;
      }
      if (failure !== undefined) {
        const err = failure;
        const msg = celRuntimeMessage(err);
        if (/^no such overload|^found no matching overload/.test(msg)) {
          errs.push(
            e.invalid(
              path,
              e.json(type),
              `'${msg}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(c.rule)}`,
            ),
          );
        } else {
          errs.push(e.invalid(path, e.json(type), `${msg} evaluating rule: ${ruleErrorString(c.rule)}`));
        }
        continue;
      }
      if (result === true) continue;
      run.meter.startCall();
      const message = messageOf(c, ctx);
      if (run.meter.callCost > run.remaining) {
        errs.push(
          e.invalid(
            path,
            e.json(type),
            "messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run",
          ),
        );
        run.stopped = true;
        return;
      }
      run.remaining -= run.meter.callCost;
      errs.push(fieldErrorForReason(at, type, message, c.rule.reason));
    }
  }
}

/** One validation's state: its errors, cost meter, remaining budget, and whether it stopped. */
interface Run {
  readonly errs: FieldError[];
  readonly meter: CostMeter;
  remaining: number;
  stopped: boolean;
}

/** The old element a list-type=map item correlates with: the one with the same key values. */
function listMapCorrelator(s: JSONSchemaProps, old: unknown): ((x: unknown) => unknown) | undefined {
  if (!Array.isArray(old)) return undefined;
  const keys = s["x-kubernetes-list-map-keys"] ?? [];
  const id = (x: unknown): string | undefined =>
    isObject(x) ? JSON.stringify(keys.map((k) => (Object.hasOwn(x, k) ? x[k] : null))) : undefined;
  const byKey = new Map<string, unknown>();
  for (const o of old) {
    const k = id(o);
    if (k !== undefined) byKey.set(k, o);
  }
  return (x) => {
    const k = id(x);
    return k === undefined ? undefined : byKey.get(k);
  };
}

/** The rule's fieldPath (`.spec.x`, `['a.b']`) below `path`. */
function rulePath(path: FieldPath, fieldPath: string | undefined): FieldPath {
  if (fieldPath === undefined || fieldPath.trim() === "") return path;
  let p = path;
  const re = /\.([^.[\]]+)|\[['"]([^'"]*)['"]\]|\[(\d+)\]/g;
  for (const m of fieldPath.trim().matchAll(re)) {
    if (m[1] !== undefined) p = p.child(m[1]);
    else if (m[2] !== undefined) p = p.child(m[2]);
    else if (m[3] !== undefined) p = p.index(Number(m[3]));
  }
  return p;
}

const ruleErrorString = (rule: ValidationRule): string =>
  (rule.message ?? "").trim() !== "" ? (rule.message ?? "").trim() : (rule.rule ?? "").trim();

const ruleMessageOrDefault = (rule: ValidationRule): string =>
  (rule.message ?? "").trim() === "" ? `failed rule: ${ruleErrorString(rule)}` : (rule.message ?? "").trim();

/** messageExpression's result when it gives a usable one; otherwise message or the default. */
function messageOf(c: CompiledRule, ctx: Record<string, unknown>): string {
  if (c.messageProgram !== undefined) {
    try {
      const m = c.messageProgram(ctx);
      if (typeof m === "string" && m.trim() !== "" && !/[\r\n]/.test(m)) return m;
    } catch {
      // kube logs it and falls back to the message.
    }
  }
  return ruleMessageOrDefault(c.rule);
}

function fieldErrorForReason(
  path: FieldPath,
  type: string,
  detail: string,
  reason: string | undefined,
): FieldError {
  switch (reason ?? "") {
    case "FieldValueForbidden":
      return e.forbidden(path, detail);
    case "FieldValueRequired":
      return e.required(path, detail);
    case "FieldValueDuplicate":
      return e.duplicate(path, e.json(type));
    default:
      return e.invalid(path, e.json(type), detail);
  }
}

/** Go's %#v of an apiextensions.ValidationRule, as CRD validation prints a bad rule. */
export function goRule(rule: ValidationRule): string {
  const reason =
    rule.reason === undefined
      ? "(*apiextensions.FieldValueErrorReason)(nil)"
      : "(*apiextensions.FieldValueErrorReason)(0xc000000000)";
  const optional = rule.optionalOldSelf === undefined ? "(*bool)(nil)" : "(*bool)(0xc000000000)";
  return `apiextensions.ValidationRule{Rule:${goQuote(rule.rule ?? "")}, Message:${goQuote(rule.message ?? "")}, MessageExpression:${goQuote(rule.messageExpression ?? "")}, Reason:${reason}, FieldPath:${goQuote(rule.fieldPath ?? "")}, OptionalOldSelf:${optional}}`;
}
