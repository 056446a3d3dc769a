// matchConditions (kube's matchconditions.Matcher) for admission webhooks and policies: every
// condition true → matches; the first false one → no match, naming it (a false condition wins
// over errors in others); otherwise any error → `error`, which the caller's failurePolicy
// decides on (Fail: refuse the request; Ignore: skip the webhook or policy).

import type {
  AdmissionAttributes,
  MatchCondition,
  MatchConditionsEvaluator,
  MatchResult,
} from "../interface.ts";
import { buildActivation } from "./activation.builder.ts";
import {
  compileExpression,
  evaluateExpression,
  type Activation,
  type CompiledExpression,
  type Declarations,
} from "./expression.compiler.ts";

/** A condition compiled for evaluation (compile once with compileMatchConditions). */
export interface CompiledMatchCondition {
  readonly name: string;
  readonly compiled: CompiledExpression;
}

/** Compiles conditions against `decls` (cached per expression). Never throws. */
export function compileMatchConditions(
  conditions: readonly MatchCondition[],
  decls: Declarations = { params: false },
): CompiledMatchCondition[] {
  return conditions.map((c) => ({ name: c.name, compiled: compileExpression(c.expression, "bool", decls) }));
}

/** Evaluates compiled conditions against one activation. Used by policies (with params, variables). */
export function matchCompiledConditions(
  conditions: readonly CompiledMatchCondition[],
  activation: Activation,
): MatchResult {
  const errors: string[] = [];
  for (const c of conditions) {
    const r = evaluateExpression(c.compiled, activation);
    if (r.error !== undefined) {
      errors.push(r.error);
      continue;
    }
    if (r.value === false) return { matches: false, failedConditionName: c.name };
    if (r.value !== true) {
      errors.push(`expression '${c.compiled.expression}' resulted in error: no such overload`);
    }
  }
  if (errors.length > 0) return { matches: false, error: new Error(aggregate(errors)) };
  return { matches: true };
}

/** utilerrors.NewAggregate's message: one error as is, several in brackets. */
const aggregate = (errs: readonly string[]): string =>
  errs.length === 1 ? errs[0]! : `[${errs.join(", ")}]`;

/**
 * The MatchConditionsEvaluator of admission/interface.ts, for webhooks: `object`,
 * `oldObject`, `request` (and `namespaceObject` null; `params` is not declared). Never
 * changes `a`; compiles each expression once.
 */
export const evaluateMatchConditions: MatchConditionsEvaluator = (
  conditions: readonly MatchCondition[],
  a: AdmissionAttributes,
): MatchResult => {
  if (conditions.length === 0) return { matches: true };
  return matchCompiledConditions(compileMatchConditions(conditions), buildActivation(a));
};
