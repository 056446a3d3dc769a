// ValidatingAdmissionWebhook as kube-apiserver v1.32's validating dispatcher: every matching
// webhook is called at once; the write is refused when any refuses it or fails under
// failurePolicy Fail.
//
// Which refusal answers when several do: kube answers the first to arrive, which depends on
// the network. Here it is the first in the webhooks' order (configurations by name, then
// their webhooks in order), so the same write always gets the same answer. Warnings and audit
// annotations of every webhook are kept, in that order too.

import type { AdmissionAttributes, AdmissionPlugin } from "../interface.ts";
import { isExemptAdmissionConfiguration } from "./rules.matcher.ts";
import { addAnnotation, callWebhook, webhookLogKeys, type WebhookPluginDeps } from "./webhook.call.ts";
import { denial, internalErrorOf, WebhookCallError } from "./webhook.errors.ts";
import { shouldCallHook, versionedAttributes, type Invocation } from "./webhook.matcher.ts";
import { WebhookSource } from "./webhook.source.ts";

export const validatingAnnotationPrefix = "validating.webhook.admission.k8s.io/";
export const validatingFailedOpenAnnotationPrefix = `failed-open.${validatingAnnotationPrefix}`;

export const validatingWebhookPluginName = "ValidatingAdmissionWebhook";

/** What one call left behind, applied to the request once all calls are done. */
interface Outcome {
  readonly warnings: string[];
  readonly annotations: [string, string][];
  readonly error?: Error;
}

async function callValidatingHook(inv: Invocation, a: AdmissionAttributes): Promise<Outcome> {
  const outcome: Outcome = { warnings: [], annotations: [] };
  try {
    const result = await callWebhook(inv, versionedAttributes(a, inv), false, {
      warnings: outcome.warnings,
      annotate: (k, v) => outcome.annotations.push([k, v]),
    });
    if (!result.allowed) return { ...outcome, error: denial(inv.webhook.spec.name, result.result) };
    return outcome;
  } catch (err) {
    return { ...outcome, error: err instanceof Error ? err : new Error(String(err)) };
  }
}

/**
 * The ValidatingAdmissionWebhook plugin. The registry puts it in the tenant's admission chain;
 * its `validate` never changes `a.object`, and adds to `a.warnings` and `a.auditAnnotations`.
 */
export function validatingWebhooks(deps: WebhookPluginDeps): AdmissionPlugin {
  const source = new WebhookSource("validating");
  return {
    name: validatingWebhookPluginName,
    handles: () => true,
    async validate(a) {
      if (isExemptAdmissionConfiguration(a.kind)) return;
      const hooks = source.webhooks(a.instance);
      if (hooks.length === 0) return;
      const relevant: Invocation[] = [];
      for (const h of hooks) {
        const inv = await shouldCallHook(h, a, deps.matchConditions);
        if (inv !== undefined) relevant.push(inv);
      }
      if (relevant.length === 0) return;
      const outcomes = await Promise.all(relevant.map((inv) => callValidatingHook(inv, a)));
      let first: Error | undefined;
      outcomes.forEach((o, idx) => {
        const h = (relevant[idx] as Invocation).webhook;
        for (const [k, v] of o.annotations) addAnnotation(a, k, v);
        a.warnings.push(...o.warnings);
        if (o.error === undefined) return;
        let err = o.error;
        if (err instanceof WebhookCallError) {
          if (h.failurePolicy === "Ignore") {
            deps.log?.warn(
              {
                [webhookLogKeys.webhook]: h.spec.name,
                [webhookLogKeys.configuration]: h.configurationName,
                [webhookLogKeys.err]: err.message,
              },
              "Failed calling webhook, failing open",
            );
            // The index counts the webhooks called for this write, as kube's does.
            addAnnotation(a, `${validatingFailedOpenAnnotationPrefix}round_0_index_${idx}`, h.spec.name);
            return;
          }
          err = internalErrorOf(err.message);
        }
        first ??= err;
      });
      if (first !== undefined) throw first;
    },
  };
}
