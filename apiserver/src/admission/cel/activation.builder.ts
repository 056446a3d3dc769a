// The values admission expressions see for one write: `object` and `oldObject` (null when
// absent), `request` (kube's AdmissionRequest without uid, object and oldObject, fields left
// out when empty as Go's omitempty does), `params`, `namespaceObject` (the namespace's
// metadata, spec and status) and the lazily evaluated, memoized `variables`.

import { celRuntimeMessage, CostMeter, jsonToCel } from "../../cel/index.ts";
import type { KubeObject } from "../../registry/printers.ts";
import type { AdmissionAttributes, GroupVersionKind, GroupVersionResource } from "../interface.ts";
import type { Activation, CompiledExpression } from "./expression.compiler.ts";

/** A composited variable (spec.variables[i]) compiled in its declaration order. */
export interface CompiledVariable {
  readonly name: string;
  readonly compiled: CompiledExpression;
}

export interface ActivationInputs {
  /** The param object (a ConfigMap, a custom resource…), or undefined for none. */
  readonly params?: KubeObject | undefined;
  /** The request's namespace object, or undefined (cluster-scoped, or a Namespace itself). */
  readonly namespace?: KubeObject | undefined;
  readonly variables?: readonly CompiledVariable[];
  /** The matched resource and kind (matchPolicy Equivalent may differ from the request's). */
  readonly resource?: GroupVersionResource;
  readonly kind?: GroupVersionKind;
}

/** cel.CreateAdmissionRequest as an unstructured value. Never changes `a`. */
export function admissionRequest(
  a: AdmissionAttributes,
  resource: GroupVersionResource = a.resource,
  kind: GroupVersionKind = a.kind,
): Record<string, unknown> {
  const userInfo: Record<string, unknown> = {};
  if (a.user.name !== "") userInfo["username"] = a.user.name;
  if (a.user.uid !== "") userInfo["uid"] = a.user.uid;
  if (a.user.groups.length > 0) userInfo["groups"] = [...a.user.groups];
  const extra = Object.entries(a.user.extra);
  if (extra.length > 0) userInfo["extra"] = Object.fromEntries(extra.map(([k, v]) => [k, [...v]]));
  const gvk = (k: GroupVersionKind) => ({ group: k.group, version: k.version, kind: k.kind });
  const gvr = (r: GroupVersionResource) => ({ group: r.group, version: r.version, resource: r.resource });
  const req: Record<string, unknown> = {
    kind: gvk(kind),
    resource: gvr(resource),
    requestKind: gvk(a.kind),
    requestResource: gvr(a.resource),
    operation: a.operation,
    userInfo,
    dryRun: a.dryRun,
    options: jsonToCel(a.options),
  };
  if (a.subresource !== "") {
    req["subResource"] = a.subresource;
    req["requestSubResource"] = a.subresource;
  }
  if (a.name !== "") req["name"] = a.name;
  if (a.namespace !== "") req["namespace"] = a.namespace;
  return req;
}

/** cel.CreateNamespaceObject: only metadata's plain fields, spec and status. */
export function namespaceObject(ns: KubeObject | undefined): unknown {
  if (ns === undefined) return null;
  const m = ns.metadata ?? {};
  const meta: Record<string, unknown> = {};
  for (const k of [
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "generation",
    "resourceVersion",
    "finalizers",
  ] as const) {
    if (m[k] !== undefined) meta[k] = m[k];
  }
  if (m.uid !== undefined) meta["uid"] = m.uid;
  return jsonToCel({ metadata: meta, spec: ns["spec"] ?? {}, status: ns["status"] ?? {} });
}

/**
 * The activation for one evaluation of one policy (or one webhook's matchConditions).
 * `variables` are evaluated on first use and remembered for the rest of this activation,
 * errors included (kube's lazy map).
 */
export function buildActivation(a: AdmissionAttributes, inputs: ActivationInputs = {}): Activation {
  const vars: Record<string, unknown> = {};
  const meter = new CostMeter();
  const activation: Activation = {
    object: a.object === undefined ? null : meter.track(jsonToCel(a.object)),
    oldObject: a.oldObject === undefined ? null : meter.track(jsonToCel(a.oldObject)),
    request: admissionRequest(a, inputs.resource, inputs.kind),
    params: inputs.params === undefined ? null : meter.track(jsonToCel(inputs.params)),
    namespaceObject: namespaceObject(inputs.namespace),
    variables: vars,
    meter,
  };
  for (const v of inputs.variables ?? []) {
    let state: { value: unknown } | { error: Error } | "evaluating" | undefined;
    Object.defineProperty(vars, v.name, {
      enumerable: true,
      get: () => {
        if (state === "evaluating") throw new Error(`composited variable "${v.name}" refers to itself`);
        if (state === undefined) {
          state = "evaluating";
          state = evaluateVariable(v, activation);
        }
        if ("error" in state) throw state.error;
        return state.value;
      },
    });
  }
  return activation;
}

function evaluateVariable(
  v: CompiledVariable,
  activation: Activation,
): { value: unknown } | { error: Error } {
  if (v.compiled.error !== undefined || v.compiled.program === undefined) {
    return {
      error: new Error(`composited variable "${v.name}" fails to compile: ${v.compiled.error ?? ""}`),
    };
  }
  try {
    return { value: v.compiled.program(activation) };
  } catch (err) {
    return {
      error: new Error(`composited variable "${v.name}" fails to evaluate: ${celRuntimeMessage(err)}`),
    };
  }
}
