// Admission CEL (k8s.io/apiserver/pkg/admission/plugin/cel): the environment admission
// expressions compile in (object, oldObject, request, params, namespaceObject, variables;
// no authorizer yet), compile-once caching, activations built from AdmissionAttributes, and
// the matchConditions evaluator shared by admission webhooks and ValidatingAdmissionPolicy.

export {
  admissionRequest,
  buildActivation,
  namespaceObject,
  type ActivationInputs,
  type CompiledVariable,
} from "./activation.builder.ts";
export {
  compileExpression,
  evaluateExpression,
  type Activation,
  type CompiledExpression,
  type Declarations,
  type Evaluation,
  type ReturnTypes,
  type VariableDecl,
} from "./expression.compiler.ts";
export {
  compileMatchConditions,
  evaluateMatchConditions,
  matchCompiledConditions,
  type CompiledMatchCondition,
} from "./match-conditions.evaluator.ts";
