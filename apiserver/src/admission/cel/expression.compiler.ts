// Admission CEL expressions (k8s.io/apiserver/pkg/admission/plugin/cel): compiled once per
// expression and declaration set, type-checked against kube's declarations (`request` and
// `namespaceObject` typed, `object`, `oldObject` and `params` dynamic, `variables` typed by
// what each variable evaluates to), evaluated against an activation with kube's error wording.

import type { Environment } from "@marcbachmann/cel-js";
import {
  celIssue,
  celRuntimeMessage,
  costLimitExceededMessage,
  type CostMeter,
  newKubernetesEnvironment,
} from "../../cel/index.ts";

/** The variables an admission expression may name (kube's OptionalVariableDeclarations). */
export interface Declarations {
  /** `params` is declared (the policy has a paramKind). */
  readonly params: boolean;
  /** Composited variables declared before this expression, with their CEL types. */
  readonly variables?: readonly VariableDecl[];
}

export interface VariableDecl {
  readonly name: string;
  /** The CEL type the variable's expression checked to ("dyn" when unknown). */
  readonly type: string;
}

/** What an expression must evaluate to: bool (conditions), string (messages), string or null, any. */
export type ReturnTypes = "bool" | "string" | "stringOrNull" | "any";

/**
 * One compiled expression. `error` is kube's compilation error detail (`compilation failed:
 * ERROR: <input>:1:5: …` or `must evaluate to bool but got string`); then there is no program.
 */
export interface CompiledExpression {
  readonly expression: string;
  readonly error?: string;
  /** The checked output type ("bool", "string", "dyn"…). */
  readonly outputType: string;
  readonly program?: (activation: Activation) => unknown;
}

/** The values an expression sees. Built per request by activation.builder.ts. */
export interface Activation {
  readonly object: unknown;
  readonly oldObject: unknown;
  readonly request: unknown;
  readonly params: unknown;
  readonly namespaceObject: unknown;
  readonly variables: unknown;
  /**
   * Counts the cost of expressions over object, oldObject and params (cel/cost.ts), for the
   * per-expression limit; absent: no limit.
   */
  readonly meter?: CostMeter;
}

// ---- environments -------------------------------------------------------------------------

const gvk = { group: "string", version: "string", kind: "string" };
const gvr = { group: "string", version: "string", resource: "string" };

/** Registers kube's AdmissionRequest and Namespace declaration types (compile.go). */
function registerAdmissionTypes(env: Environment): void {
  env.registerType("kubernetes.GroupVersionKind", { fields: gvk });
  env.registerType("kubernetes.GroupVersionResource", { fields: gvr });
  env.registerType("kubernetes.UserInfo", {
    fields: {
      username: "string",
      uid: "string",
      groups: "list<string>",
      extra: "map<string, list<string>>",
    },
  });
  env.registerType("kubernetes.AdmissionRequest", {
    fields: {
      kind: "kubernetes.GroupVersionKind",
      resource: "kubernetes.GroupVersionResource",
      subResource: "string",
      requestKind: "kubernetes.GroupVersionKind",
      requestResource: "kubernetes.GroupVersionResource",
      requestSubResource: "string",
      name: "string",
      namespace: "string",
      operation: "string",
      userInfo: "kubernetes.UserInfo",
      dryRun: "bool",
      options: "dyn",
    },
  });
  env.registerType("kubernetes.NamespaceSpec", { fields: { finalizers: "list<string>" } });
  env.registerType("kubernetes.NamespaceCondition", {
    fields: {
      status: "string",
      type: "string",
      lastTransitionTime: "dyn",
      message: "string",
      reason: "string",
    },
  });
  env.registerType("kubernetes.NamespaceStatus", {
    fields: { conditions: "list<kubernetes.NamespaceCondition>", phase: "string" },
  });
  env.registerType("kubernetes.NamespaceMetadata", {
    fields: {
      name: "string",
      generateName: "string",
      namespace: "string",
      labels: "map<string, string>",
      annotations: "map<string, string>",
      UID: "string",
      creationTimestamp: "dyn",
      deletionGracePeriodSeconds: "int",
      deletionTimestamp: "dyn",
      generation: "int",
      resourceVersion: "string",
      finalizers: "list<string>",
    },
  });
  env.registerType("kubernetes.Namespace", {
    fields: {
      metadata: "kubernetes.NamespaceMetadata",
      spec: "kubernetes.NamespaceSpec",
      status: "kubernetes.NamespaceStatus",
    },
  });
}

/** Evaluation is dynamic: one environment with every variable, shared by all expressions. */
const evalEnv = newKubernetesEnvironment();
for (const v of ["object", "oldObject", "request", "params", "namespaceObject", "variables"]) {
  evalEnv.registerVariable(v, "dyn");
}

const checkEnvs = new Map<string, Environment>();

/** The typed environment expressions are checked in, per declaration set (few distinct ones). */
function checkEnv(decls: Declarations): Environment {
  const key = declKey(decls);
  let env = checkEnvs.get(key);
  if (env !== undefined) return env;
  env = newKubernetesEnvironment();
  registerAdmissionTypes(env);
  env.registerVariable("object", "dyn");
  env.registerVariable("oldObject", "dyn");
  env.registerVariable("request", "kubernetes.AdmissionRequest");
  env.registerVariable("namespaceObject", "kubernetes.Namespace");
  if (decls.params) env.registerVariable("params", "dyn");
  const fields: Record<string, string> = {};
  for (const v of decls.variables ?? []) fields[v.name] = v.type;
  env.registerType("kubernetes.variables", { fields });
  env.registerVariable("variables", "kubernetes.variables");
  if (checkEnvs.size > 256) checkEnvs.clear();
  checkEnvs.set(key, env);
  return env;
}

const declKey = (d: Declarations): string =>
  `${d.params ? "p" : "-"}${(d.variables ?? []).map((v) => `\u0000${v.name}:${v.type}`).join("")}`;

// ---- compile ------------------------------------------------------------------------------

const compiled = new Map<string, CompiledExpression>();
const cacheLimit = 4096;

const accepts = (want: ReturnTypes, got: string): boolean => {
  if (got === "dyn" || want === "any") return true;
  if (want === "stringOrNull") return got === "string" || got === "null";
  return got === want;
};

const wantName = (want: ReturnTypes): string =>
  want === "stringOrNull" ? "one of [string null_type]" : want === "bool" ? "bool" : "string";

/**
 * Compiles `expression` (once: results are cached by expression, declarations and return
 * type). Never throws: a bad expression comes back with `error`. Called by policy compilation
 * and by evaluateMatchConditions.
 */
export function compileExpression(
  expression: string,
  returns: ReturnTypes,
  decls: Declarations,
): CompiledExpression {
  const key = `${returns}\u0001${declKey(decls)}\u0001${expression}`;
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  const result = compileUncached(expression, returns, decls);
  if (compiled.size >= cacheLimit) compiled.clear();
  compiled.set(key, result);
  return result;
}

function compileUncached(expression: string, returns: ReturnTypes, decls: Declarations): CompiledExpression {
  let outputType = "dyn";
  try {
    const checked = checkEnv(decls).check(expression);
    if (!checked.valid) {
      return { expression, outputType, error: `compilation failed: ${celIssue(expression, checked.error)}` };
    }
    outputType = checked.type ?? "dyn";
    if (!accepts(returns, outputType)) {
      return { expression, outputType, error: `must evaluate to ${wantName(returns)} but got ${outputType}` };
    }
    const parsed = evalEnv.parse(expression);
    return {
      expression,
      outputType,
      program: ({ meter: _meter, ...variables }) => parsed(variables) as unknown,
    };
  } catch (err) {
    return { expression, outputType, error: `compilation failed: ${celIssue(expression, err)}` };
  }
}

// ---- evaluate -----------------------------------------------------------------------------

/** An expression's value, or kube's error detail for it (cel.Error's Detail). */
export type Evaluation = { readonly value: unknown; readonly error?: undefined } | { readonly error: string };

/** Evaluates a compiled expression; errors are worded as kube's filter words them. */
export function evaluateExpression(c: CompiledExpression, activation: Activation): Evaluation {
  if (c.error !== undefined || c.program === undefined) {
    return { error: `compilation error: ${c.error ?? "unexpected internal error compiling expression"}` };
  }
  activation.meter?.startCall();
  let result: Evaluation;
  try {
    result = { value: c.program(activation) };
  } catch (err) {
    result = { error: `expression '${c.expression}' resulted in error: ${celRuntimeMessage(err)}` };
  }
  // Passing the per-call limit interrupts the evaluation, whatever the expression made of it.
  if (activation.meter?.callExceeded === true) {
    return { error: `expression '${c.expression}' resulted in error: ${costLimitExceededMessage}` };
  }
  return result;
}
