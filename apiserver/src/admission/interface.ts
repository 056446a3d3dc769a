// The admission contract (k8s.io/apiserver/pkg/admission): what a write asks to do, and the
// plugins that may change it (admit) or refuse it (validate), in kube-apiserver's order.

import type { UserInfo } from "../authn/user.ts";
import type { KubeObject } from "../registry/printers.ts";
import type { Outbound } from "../request/outbound.ts";
import type { TenantInstance } from "../tenancy/instance.ts";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

/**
 * admission.Attributes: one write as admission sees it. Built by the registry for each
 * create, update (also patch and apply, as UPDATE or CREATE) and delete, after the strategy
 * prepared the object. Mutating plugins may replace or change `object` (never `oldObject`);
 * validating plugins only read. Warnings and audit annotations are collected for the
 * response and the audit event.
 */
export interface AdmissionAttributes {
  readonly instance: TenantInstance;
  readonly user: UserInfo;
  readonly operation: Operation;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  /** "" or "status", "scale", "token", "finalize"… */
  readonly subresource: string;
  /** "" for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  /** The object being written (absent on DELETE). Mutating plugins may change it. */
  object: KubeObject | undefined;
  /** The stored object on UPDATE and DELETE. */
  readonly oldObject: KubeObject | undefined;
  /** CreateOptions, UpdateOptions or DeleteOptions as kube sends them in AdmissionReview. */
  readonly options: Record<string, unknown>;
  readonly dryRun: boolean;
  /** Warnings for the client (the response's Warning headers). */
  readonly warnings: string[];
  /** Audit annotations (`<plugin-key>/<name>` → value) for the request's audit event. */
  readonly auditAnnotations: Record<string, string>;
  /** How the webhooks are called: with the request's seat given back (request/outbound.ts). */
  readonly outbound?: Outbound;
}

/**
 * One admission plugin. `handles` is asked first; `admit` may change `a.object`, `validate`
 * must not. A refusal is a thrown StatusError (Forbidden, Invalid…); anything else thrown
 * is the plugin being broken and answers 500. Called by the registry, once per write.
 */
export interface AdmissionPlugin {
  readonly name: string;
  handles(operation: Operation): boolean;
  admit?(a: AdmissionAttributes): Promise<void> | void;
  validate?(a: AdmissionAttributes): Promise<void> | void;
}

/**
 * What the registry calls around a write: `admit` after decoding and preparing (mutating
 * plugins in order), `validate` after the strategy's validation (validating plugins, in
 * order), both before storage.
 */
export interface Admission {
  admit(a: AdmissionAttributes): Promise<void>;
  validate(a: AdmissionAttributes): Promise<void>;
}

/** Told how long each admission step took and whether it refused (the admission metrics). */
export type AdmissionObserver = (step: {
  readonly type: "admit" | "validate";
  readonly operation: Operation;
  readonly rejected: boolean;
  readonly durationSeconds: number;
}) => void;

/** Runs plugins in their order: mutating ones one after another, validating ones likewise. */
export function admissionChain(plugins: readonly AdmissionPlugin[], observe?: AdmissionObserver): Admission {
  const mutating = plugins.filter((p) => p.admit !== undefined);
  const validating = plugins.filter((p) => p.validate !== undefined);
  const timed = async (type: "admit" | "validate", a: AdmissionAttributes, run: () => Promise<void>) => {
    if (observe === undefined) return run();
    const started = performance.now();
    let rejected = true;
    try {
      await run();
      rejected = false;
    } finally {
      observe({
        type,
        operation: a.operation,
        rejected,
        durationSeconds: (performance.now() - started) / 1000,
      });
    }
  };
  return {
    admit: (a) =>
      timed("admit", a, async () => {
        for (const p of mutating) if (p.handles(a.operation)) await p.admit!(a);
      }),
    validate: (a) =>
      timed("validate", a, async () => {
        for (const p of validating) if (p.handles(a.operation)) await p.validate!(a);
      }),
  };
}

/** admissionregistration/v1 MatchCondition: a named CEL expression that must be true. */
export interface MatchCondition {
  readonly name: string;
  readonly expression: string;
}

/**
 * The outcome of a webhook's or a policy's matchConditions (kube's matchconditions.Matcher):
 * `matches` false names the first condition that was false; `error` is an evaluation or
 * compile error, which the caller's failurePolicy decides on.
 */
export interface MatchResult {
  readonly matches: boolean;
  readonly failedConditionName?: string;
  readonly error?: Error;
}

/**
 * Evaluates matchConditions against a write, with the CEL variables kube gives them
 * (object, oldObject, request, authorizer). Implemented once in admission/cel/ and used by
 * admission webhooks and ValidatingAdmissionPolicy alike; never changes `a`.
 */
export type MatchConditionsEvaluator = (
  conditions: readonly MatchCondition[],
  a: AdmissionAttributes,
) => MatchResult | Promise<MatchResult>;
