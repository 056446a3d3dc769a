// Compiles a ValidatingAdmissionPolicy once per resourceVersion (kube's validating.compilePolicy):
// variables in order (each sees the ones before it, typed by what they evaluate to),
// matchConditions, validations with their messageExpressions, and auditAnnotations; `params`
// is declared only when the policy has a paramKind. Compile errors are kept per fieldRef for
// the status controller and surface at evaluation as the failurePolicy decides.

import {
  compileExpression,
  compileMatchConditions,
  type CompiledExpression,
  type CompiledMatchCondition,
  type CompiledVariable,
  type Declarations,
  type VariableDecl,
} from "../cel/index.ts";
import type { FailurePolicy, ValidatingAdmissionPolicy } from "./policy.types.ts";

export interface CompiledValidation {
  readonly compiled: CompiledExpression;
  readonly message: string;
  readonly messageExpression?: CompiledExpression;
  readonly reason: string;
}

export interface CompiledAuditAnnotation {
  readonly key: string;
  readonly compiled: CompiledExpression;
}

/** A compile problem, as status.typeChecking.expressionWarnings reports it. */
export interface ExpressionWarning {
  readonly fieldRef: string;
  readonly warning: string;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly policy: ValidatingAdmissionPolicy;
  readonly failurePolicy: FailurePolicy;
  readonly variables: readonly CompiledVariable[];
  readonly matchConditions: readonly CompiledMatchCondition[];
  readonly validations: readonly CompiledValidation[];
  readonly auditAnnotations: readonly CompiledAuditAnnotation[];
  readonly warnings: readonly ExpressionWarning[];
}

/** Compiles `policy`. Never throws; called by the plugin's per-tenant state and the status controller. */
export function compilePolicy(policy: ValidatingAdmissionPolicy): CompiledPolicy {
  const spec = policy.spec ?? {};
  const params = spec.paramKind !== undefined && spec.paramKind !== null;
  const warnings: ExpressionWarning[] = [];
  const note = (fieldRef: string, c: CompiledExpression): CompiledExpression => {
    if (c.error !== undefined) warnings.push({ fieldRef, warning: c.error });
    return c;
  };
  const declared: VariableDecl[] = [];
  const variables: CompiledVariable[] = [];
  (spec.variables ?? []).forEach((v, i) => {
    const name = v.name ?? "";
    const compiled = note(
      `spec.variables[${i}].expression`,
      compileExpression(v.expression ?? "", "any", { params, variables: [...declared] }),
    );
    variables.push({ name, compiled });
    declared.push({ name, type: compiled.error === undefined ? compiled.outputType : "dyn" });
  });
  const decls: Declarations = { params, variables: declared };
  const matchConditions = compileMatchConditions(spec.matchConditions ?? [], decls);
  matchConditions.forEach((c, i) => note(`spec.matchConditions[${i}].expression`, c.compiled));
  const validations = (spec.validations ?? []).map((v, i): CompiledValidation => {
    const compiled = note(
      `spec.validations[${i}].expression`,
      compileExpression(v.expression ?? "", "bool", decls),
    );
    const msgExpr = v.messageExpression ?? "";
    return {
      compiled,
      message: v.message ?? "",
      reason: v.reason ?? "",
      ...(msgExpr.trim() === ""
        ? {}
        : {
            messageExpression: note(
              `spec.validations[${i}].messageExpression`,
              compileExpression(msgExpr, "string", decls),
            ),
          }),
    };
  });
  const auditAnnotations = (spec.auditAnnotations ?? []).map((a, i) => ({
    key: a.key ?? "",
    compiled: note(
      `spec.auditAnnotations[${i}].valueExpression`,
      compileExpression(a.valueExpression ?? "", "stringOrNull", decls),
    ),
  }));
  return {
    name: policy.metadata?.name ?? "",
    policy,
    failurePolicy: spec.failurePolicy === "Ignore" ? "Ignore" : "Fail",
    variables,
    matchConditions,
    validations,
    auditAnnotations,
    warnings,
  };
}
