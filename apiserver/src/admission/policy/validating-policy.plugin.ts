// The ValidatingAdmissionPolicy admission plugin (k8s.io/apiserver/pkg/admission/plugin/policy/
// validating, v1.32), validate only. Per tenant it reads policies and bindings from the watch
// cache and compiles each policy once per resourceVersion; a request never reads storage.
// For each matching policy and binding (sorted by name) and each param it evaluates
// matchConditions, validations and auditAnnotations, then applies the binding's
// validationActions: Deny collects the denial (the first one answers), Warn adds kube's warning
// text, Audit records the `validation.policy.admission.k8s.io/validation_failure` annotation.
// Configuration problems (unknown paramKind, missing params with Deny…) and runtime errors
// follow the policy's failurePolicy. Policies and bindings themselves are exempt.

import { forbidden, statusReasons, type StatusError, type StatusReason } from "../../apierrors/status.ts";
import type { KubeObject } from "../../registry/printers.ts";
import { resourcePrefix } from "../../storage/keys.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import {
  buildActivation,
  evaluateExpression,
  matchCompiledConditions,
  type Activation,
} from "../cel/index.ts";
import type { AdmissionAttributes, AdmissionPlugin, Operation } from "../interface.ts";
import { matchResources, namespaceOf } from "./match-resources.matcher.ts";
import { collectParams, gvkString, paramDef } from "./params.resolver.ts";
import { compilePolicy, type CompiledPolicy } from "./policy.compiler.ts";
import {
  admissionGroup,
  bindingsResource,
  policiesResource,
  type ValidatingAdmissionPolicy,
  type ValidatingAdmissionPolicyBinding,
  type ValidationAction,
} from "./policy.types.ts";

export const validationFailureAnnotation = "validation.policy.admission.k8s.io/validation_failure";
const maxAuditAnnotationValueLength = 10 * 1024;
/** celconfig.MaxEvaluatedMessageExpressionSizeBytes. */
const maxMessageLength = 5 * 1024;

/** What the plugin needs besides the request (nothing yet; the registry may pass options later). */
export type ValidatingAdmissionPolicyDeps = Record<string, never>;

interface TenantPolicies {
  revision: string;
  hooks: { policy: CompiledPolicy; bindings: ValidatingAdmissionPolicyBinding[] }[];
}

interface Decision {
  readonly deny: boolean;
  readonly message: string;
  readonly reason: string;
}

interface Denial extends Decision {
  readonly policy: string;
  readonly binding: string | undefined;
}

interface ValidationFailure {
  readonly message: string;
  readonly policy: string;
  readonly binding: string;
  readonly expressionIndex: number;
  readonly validationActions: readonly ValidationAction[];
}

const reasonCode = (reason: string): number =>
  reason === "Forbidden" || reason === "Unauthorized" || reason === "RequestEntityTooLarge"
    ? statusReasons[reason]
    : statusReasons.Invalid;

/** Whether the request is about the policy API itself (kube never applies policies to it). */
const isPolicyResource = (a: AdmissionAttributes): boolean =>
  a.resource.group === admissionGroup &&
  (a.resource.resource === policiesResource ||
    a.resource.resource === bindingsResource ||
    a.resource.resource === "mutatingadmissionpolicies" ||
    a.resource.resource === "mutatingadmissionpolicybindings");

/**
 * The ValidatingAdmissionPolicy plugin. Construct once per process; it keeps compiled policies
 * per tenant instance (dropped with the instance). Called by the admission chain, never
 * changes `a.object`; adds to `a.warnings` and `a.auditAnnotations`.
 */
export function validatingAdmissionPolicy(_deps: ValidatingAdmissionPolicyDeps = {}): AdmissionPlugin {
  const tenants = new WeakMap<TenantInstance, TenantPolicies>();
  const compiledByVersion = new Map<string, CompiledPolicy>();

  const policiesOf = (instance: TenantInstance): TenantPolicies => {
    const tenant = { uid: instance.tenant.uid };
    const pPrefix = resourcePrefix(tenant, { group: admissionGroup, resource: policiesResource });
    const bPrefix = resourcePrefix(tenant, { group: admissionGroup, resource: bindingsResource });
    const revision = `${instance.cache.changesOf(pPrefix)}/${instance.cache.changesOf(bPrefix)}`;
    const known = tenants.get(instance);
    if (known !== undefined && known.revision === revision) return known;
    const bindings = instance.cache
      .list(bPrefix)
      .map((c) => c.obj as ValidatingAdmissionPolicyBinding)
      .sort((x, y) => byName(x.metadata?.name, y.metadata?.name));
    const hooks = instance.cache
      .list(pPrefix)
      .map((c) => c.obj as ValidatingAdmissionPolicy)
      .sort((x, y) => byName(x.metadata?.name, y.metadata?.name))
      .map((p) => {
        // Compiled once per (tenant, name, resourceVersion): an unchanged policy keeps its programs.
        const key = `${instance.tenant.uid}/${p.metadata?.name ?? ""}/${p.metadata?.resourceVersion ?? ""}`;
        let policy = compiledByVersion.get(key);
        if (policy === undefined) {
          policy = compilePolicy(p);
          if (compiledByVersion.size > 4096) compiledByVersion.clear();
          compiledByVersion.set(key, policy);
        }
        const name = p.metadata?.name ?? "";
        return { policy, bindings: bindings.filter((b) => b.spec?.policyName === name) };
      })
      .filter((h) => h.bindings.length > 0);
    const state = { revision, hooks };
    tenants.set(instance, state);
    return state;
  };

  return {
    name: "ValidatingAdmissionPolicy",
    handles: (_op: Operation) => true,
    validate(a) {
      if (isPolicyResource(a)) return;
      const { hooks } = policiesOf(a.instance);
      if (hooks.length === 0) return;
      dispatch(a, hooks);
    },
  };
}

const byName = (x: string | undefined, y: string | undefined): number =>
  (x ?? "") < (y ?? "") ? -1 : (x ?? "") > (y ?? "") ? 1 : 0;

function dispatch(
  a: AdmissionAttributes,
  hooks: readonly { policy: CompiledPolicy; bindings: readonly ValidatingAdmissionPolicyBinding[] }[],
): void {
  const denials: Denial[] = [];
  const failures: ValidationFailure[] = [];
  const configError = (policy: CompiledPolicy, binding: string | undefined, err: unknown): void => {
    if (policy.failurePolicy === "Ignore") return;
    const what = binding === undefined ? "policy" : "binding";
    const msg = err instanceof Error ? err.message : String(err);
    denials.push({
      deny: true,
      message: `failed to configure ${what}: ${msg}`,
      reason: "",
      policy: policy.name,
      binding,
    });
  };

  for (const { policy, bindings } of hooks) {
    const spec = policy.policy.spec ?? {};
    const defMatch = spec.matchConstraints
      ? matchResources(spec.matchConstraints, a)
      : { matches: false as const };
    if (!defMatch.matches) {
      if (defMatch.error !== undefined) configError(policy, undefined, defMatch.error);
      continue;
    }
    const paramKind = spec.paramKind ?? undefined;
    if (paramKind !== undefined && paramDef(a.instance, paramKind) === undefined) {
      configError(
        policy,
        undefined,
        new Error(`failed to find resource referenced by paramKind: '${gvkString(paramKind)}'`),
      );
      continue;
    }
    const annotations = new Map<string, string[]>();
    for (const binding of bindings) {
      const bindingName = binding.metadata?.name ?? "";
      const bspec = binding.spec ?? {};
      if (bspec.matchResources !== undefined && bspec.matchResources !== null) {
        const m = matchResources(bspec.matchResources, a);
        if (!m.matches) {
          if (m.error !== undefined) configError(policy, bindingName, m.error);
          continue;
        }
      }
      let params: (KubeObject | undefined)[];
      try {
        params = collectParams(a.instance, paramKind, bspec.paramRef, a.namespace);
      } catch (err) {
        configError(policy, bindingName, err);
        continue;
      }
      // The namespace object itself names itself as namespace: it has no namespaceObject.
      const isNamespace = a.kind.group === "" && a.kind.kind === "Namespace";
      const namespace = a.namespace !== "" && !isNamespace ? namespaceOf(a, a.namespace) : undefined;
      const actions = bspec.validationActions ?? [];
      for (const param of params) {
        const activation = buildActivation(a, {
          params: param,
          namespace,
          variables: policy.variables,
          resource: defMatch.resource,
          kind: defMatch.kind,
        });
        const result = validateOnce(policy, activation);
        result.decisions.forEach((d, i) => {
          if (!d.deny) return;
          for (const action of actions) {
            if (action === "Deny") denials.push({ ...d, policy: policy.name, binding: bindingName });
            else if (action === "Audit") {
              failures.push({
                message: d.message,
                policy: bspec.policyName ?? "",
                binding: bindingName,
                expressionIndex: i,
                validationActions: actions,
              });
            } else if (action === "Warn") {
              a.warnings.push(
                `Validation failed for ValidatingAdmissionPolicy '${policy.name}' with binding '${bindingName}': ${d.message}`,
              );
            }
          }
        });
        for (const ann of result.annotations) {
          if ("error" in ann) {
            denials.push({
              deny: true,
              message: ann.error,
              reason: "",
              policy: policy.name,
              binding: bindingName,
            });
            continue;
          }
          const value = ann.value.slice(0, maxAuditAnnotationValueLength);
          const values = annotations.get(ann.key) ?? [];
          if (!values.includes(value)) values.push(value);
          annotations.set(ann.key, values);
        }
      }
    }
    for (const [key, values] of annotations) addAnnotation(a, `${policy.name}/${key}`, values.join(", "));
  }
  if (failures.length > 0) addAnnotation(a, validationFailureAnnotation, JSON.stringify(failures));
  const first = denials[0];
  if (first !== undefined) throw denialError(a, first);
}

/** Attributes.AddAnnotation: a key keeps its first value (a different one is dropped). */
function addAnnotation(a: AdmissionAttributes, key: string, value: string): void {
  if (a.auditAnnotations[key] === undefined) a.auditAnnotations[key] = value;
}

/** admission.NewForbidden with the decision's reason and code, and the message as a cause. */
function denialError(a: AdmissionAttributes, d: Denial): StatusError {
  const message =
    d.binding === undefined
      ? `ValidatingAdmissionPolicy '${d.policy}' denied request: ${d.message}`
      : `ValidatingAdmissionPolicy '${d.policy}' with binding '${d.binding}' denied request: ${d.message}`;
  let name = a.name;
  if (name === "") {
    const meta = a.object?.metadata;
    name = meta?.name || meta?.generateName || "Unknown";
  }
  const err = forbidden({ group: a.resource.group, resource: a.resource.resource }, name, message);
  const reason = (d.reason === "" ? "Invalid" : d.reason) as StatusReason;
  err.status.reason = reason;
  err.status.code = reasonCode(reason);
  err.status.details = { ...(err.status.details ?? {}), causes: [{ message }] };
  return err;
}

type AnnotationResult = { key: string; value: string } | { key: string; error: string };

/** validator.Validate: one policy, one binding, one param. */
function validateOnce(
  policy: CompiledPolicy,
  activation: Activation,
): { decisions: Decision[]; annotations: AnnotationResult[] } {
  const onError = (message: string): Decision => ({
    deny: policy.failurePolicy === "Fail",
    message,
    reason: "",
  });
  if (policy.matchConditions.length > 0) {
    const m = matchCompiledConditions(policy.matchConditions, activation);
    if (m.error !== undefined) return { decisions: [onError(m.error.message)], annotations: [] };
    if (!m.matches) return { decisions: [], annotations: [] };
  }
  const decisions = policy.validations.map((v): Decision => {
    const r = evaluateExpression(v.compiled, activation);
    if (r.error !== undefined) return onError(r.error);
    if (r.value === true) return { deny: false, message: "", reason: "" };
    if (r.value !== false) {
      return onError(`expression '${v.compiled.expression}' resulted in error: no such overload`);
    }
    let message = "";
    if (v.messageExpression !== undefined) {
      const m = evaluateExpression(v.messageExpression, activation);
      if (m.error === undefined && typeof m.value === "string") {
        message = m.value.trim();
        if (message.length > maxMessageLength || message.includes("\n")) message = "";
      }
    }
    if (message === "" && v.message !== "") message = v.message.trim();
    if (message === "") message = `failed expression: ${v.compiled.expression.trim()}`;
    return { deny: true, message, reason: v.reason };
  });
  const annotations: AnnotationResult[] = [];
  for (const ann of policy.auditAnnotations) {
    const r = evaluateExpression(ann.compiled, activation);
    if (r.error !== undefined) {
      if (policy.failurePolicy === "Fail") annotations.push({ key: ann.key, error: r.error });
      continue;
    }
    if (r.value === null) continue;
    if (typeof r.value === "string") {
      const value = r.value.trim();
      if (value !== "") annotations.push({ key: ann.key, value });
      continue;
    }
    annotations.push({
      key: ann.key,
      error: `valueExpression '${ann.compiled.expression}' resulted in unsupported return type: ${celTypeName(r.value)}. Return type must be either string or null.`,
    });
  }
  return { decisions, annotations };
}

const celTypeName = (v: unknown): string =>
  typeof v === "bigint"
    ? "int"
    : typeof v === "number"
      ? "double"
      : typeof v === "boolean"
        ? "bool"
        : Array.isArray(v)
          ? "list"
          : "map";
