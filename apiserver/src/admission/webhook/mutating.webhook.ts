// MutatingAdmissionWebhook as kube-apiserver v1.32's mutating dispatcher: the tenant's mutating
// webhooks are called one after another in order, each seeing the object as the previous ones
// left it; a JSON patch in an answer is applied to the object; a webhook with
// reinvocationPolicy IfNeeded is called once more when a later webhook changed the object.
//
// Reinvocation: kube reinvokes the whole mutating chain once (in-tree plugins too) and, inside
// it, the webhooks that asked for it. Our admission chain has no reinvocation context, so this
// plugin runs the second round itself right after the first; in-tree mutating plugins are not
// run again.

import { isDeepStrictEqual } from "node:util";
import { isStatusError } from "../../apierrors/status.ts";
import { checkDecodesToJsonPatch, goDecode, GoJsonError } from "../../endpoints/patch/go-json.decoder.ts";
import { goMarshal } from "../../endpoints/patch/go-values.ts";
import { applyJsonPatch, type JsonValue } from "../../endpoints/patch/index.ts";
import { goQuote } from "../../endpoints/selectors/go-format.ts";
import { applyDefaults } from "../../registry/defaults.ts";
import type { KubeObject } from "../../registry/printers.ts";
import type { AdmissionAttributes, AdmissionPlugin } from "../interface.ts";
import { isExemptAdmissionConfiguration } from "./rules.matcher.ts";
import { addAnnotation, callWebhook, webhookLogKeys, type WebhookPluginDeps } from "./webhook.call.ts";
import { denial, internalErrorOf, WebhookCallError } from "./webhook.errors.ts";
import { convertTo, shouldCallHook, versionedAttributes, type Invocation } from "./webhook.matcher.ts";
import { WebhookSource, type CompiledWebhook } from "./webhook.source.ts";

/** Audit annotation prefixes of the mutating dispatcher (kube's constants). */
export const mutationAnnotationPrefix = "mutation.webhook.admission.k8s.io/";
export const patchAnnotationPrefix = "patch.webhook.admission.k8s.io/";
export const mutationFailedOpenAnnotationPrefix = `failed-open.${mutationAnnotationPrefix}`;

export const mutatingWebhookPluginName = "MutatingAdmissionWebhook";

/** webhookReinvokeContext: which IfNeeded webhooks ran, and which must run again. */
interface ReinvokeContext {
  previouslyInvoked: Set<string>;
  reinvoke: Set<string>;
}

const annotationKey = (prefix: string, round: number, index: number): string =>
  `${prefix}round_${round}_index_${index}`;

/** A JSON patch's operations, decoded as jsonpatch.DecodePatch does; a call error otherwise. */
function decodePatch(h: CompiledWebhook, bytes: Uint8Array): JsonValue[] {
  try {
    const ops = goDecode(bytes);
    checkDecodesToJsonPatch(ops, false);
    return (ops ?? []) as JsonValue[];
  } catch (err) {
    if (!(err instanceof GoJsonError)) throw err;
    throw new WebhookCallError(h.spec.name, `received undecodable patch in webhook response: ${err.message}`);
  }
}

/**
 * callAttrMutatingHook: calls one webhook and applies its patch to `a.object`. Returns whether
 * the object changed. Records the mutation annotation whatever happens, the patch annotation
 * when a patch applied.
 */
async function callMutatingHook(inv: Invocation, a: AdmissionAttributes, round: number): Promise<boolean> {
  const h = inv.webhook;
  const name = h.spec.name;
  let changed = false;
  try {
    const va = versionedAttributes(a, inv);
    const result = await callWebhook(inv, va, true, {
      warnings: a.warnings,
      annotate: (k, v) => addAnnotation(a, k, v),
    });
    if (!result.allowed) throw denial(name, result.result);
    if (result.patch.length === 0) return false;
    const ops = decodePatch(h, result.patch);
    if (ops.length === 0) return false;
    const original = va.object;
    if (original === undefined) {
      throw internalErrorOf(
        `admission webhook ${goQuote(name)} attempted to modify the object, which is not supported for this operation`,
      );
    }
    if (result.patchType !== "JSONPatch") {
      throw new WebhookCallError(name, `unsupported patch type ${goQuote(result.patchType)}`);
    }
    let patched: KubeObject;
    try {
      patched = applyJsonPatch(original, result.patch, { fieldValidation: "Ignore" });
    } catch (err) {
      if (!isStatusError(err)) throw err;
      // kube answers the patch library's own error as a 500.
      const cause = (err as { cause?: unknown }).cause;
      throw internalErrorOf(cause instanceof Error ? cause.message : err.message);
    }
    changed = !isDeepStrictEqual(original, patched);
    addAnnotation(
      a,
      annotationKey(patchAnnotationPrefix, round, h.index),
      `{"configuration":${goQuote(h.configurationName)},"webhook":${goQuote(name)},"patch":${goMarshal(ops)},"patchType":"JSONPatch"}`,
    );
    // The webhook's version of the object is defaulted again, then served back as the request's.
    const def = a.instance.resources.lookup(inv.resource.group, inv.resource.version, inv.resource.resource);
    if (def !== undefined) applyDefaults(def, patched);
    a.object = convertTo(patched, a.kind);
    return changed;
  } finally {
    addAnnotation(
      a,
      annotationKey(mutationAnnotationPrefix, round, h.index),
      `{"configuration":${goQuote(h.configurationName)},"webhook":${goQuote(name)},"mutated":${changed}}`,
    );
  }
}

/**
 * The MutatingAdmissionWebhook plugin. The registry puts it in the tenant's admission chain; its
 * `admit` changes `a.object` and adds to `a.warnings` and `a.auditAnnotations`.
 */
export function mutatingWebhooks(deps: WebhookPluginDeps): AdmissionPlugin {
  const source = new WebhookSource("mutating");

  async function round(
    a: AdmissionAttributes,
    hooks: readonly CompiledWebhook[],
    n: number,
    ctx: ReinvokeContext,
  ): Promise<void> {
    for (const h of hooks) {
      const inv = await shouldCallHook(h, a, deps.matchConditions);
      if (inv === undefined) continue;
      // A webhook skipped in the first round (say its selector did not match then) is never
      // called for the first time on reinvocation.
      if (n > 0 && !ctx.reinvoke.has(h.uid)) continue;
      let changed = false;
      let failure: Error | undefined;
      try {
        changed = await callMutatingHook(inv, a, n);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
      if (changed) {
        for (const uid of ctx.previouslyInvoked) ctx.reinvoke.add(uid);
        ctx.previouslyInvoked.clear();
      }
      if (h.spec.reinvocationPolicy === "IfNeeded") ctx.previouslyInvoked.add(h.uid);
      if (failure === undefined) continue;
      if (failure instanceof WebhookCallError) {
        if (h.failurePolicy === "Ignore") {
          deps.log?.warn(
            {
              [webhookLogKeys.webhook]: h.spec.name,
              [webhookLogKeys.configuration]: h.configurationName,
              [webhookLogKeys.err]: failure.message,
            },
            "Failed calling webhook, failing open",
          );
          addAnnotation(a, annotationKey(mutationFailedOpenAnnotationPrefix, n, h.index), h.spec.name);
          continue;
        }
        throw internalErrorOf(failure.message);
      }
      throw failure;
    }
  }

  return {
    name: mutatingWebhookPluginName,
    handles: () => true,
    async admit(a) {
      if (isExemptAdmissionConfiguration(a.kind)) return;
      const hooks = source.webhooks(a.instance);
      if (hooks.length === 0) return;
      const ctx: ReinvokeContext = { previouslyInvoked: new Set(), reinvoke: new Set() };
      await round(a, hooks, 0, ctx);
      if (ctx.reinvoke.size > 0) await round(a, hooks, 1, ctx);
    },
  };
}
