// One call of one webhook, the part the mutating and validating dispatchers share (callHook and
// callAttrMutatingHook up to the answer): the dry-run check against sideEffects, the
// AdmissionReview, the HTTPS post, the verification of the answer, and the answer's audit
// annotations and warnings. Denials and patches are the dispatchers' business.

import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { AdmissionAttributes, MatchConditionsEvaluator } from "../interface.ts";
import {
  admissionReview,
  decodeReviewBody,
  reviewVersionFor,
  verifyAdmissionResponse,
  type AdmissionResult,
  type ReviewVersion,
} from "./admission-review.codec.ts";
import { direct } from "../../request/outbound.ts";
import { postReview } from "./webhook.client.ts";
import { dryRunUnsupported, WebhookCallError } from "./webhook.errors.ts";
import type { Invocation } from "./webhook.matcher.ts";

/**
 * What the webhook plugins need from the server. Given by whoever builds a tenant's admission
 * chain (the registry); the plugins only read it.
 */
export interface WebhookPluginDeps {
  /** Evaluates a webhook's matchConditions (admission/cel/). */
  readonly matchConditions: MatchConditionsEvaluator;
  /** Where webhooks that fail open are reported (they leave no error behind). Silent when absent. */
  readonly log?: Pick<Logger, "warn">;
}

/** Log keys of the webhook plugins. */
export const webhookLogKeys = { webhook: "webhook", configuration: "configuration", err: "err" } as const;

/**
 * admission.Attributes.AddAnnotation: a key keeps its first value (kube refuses to overwrite
 * one with a different value and only logs it).
 */
export function addAnnotation(a: AdmissionAttributes, key: string, value: string): void {
  if (!Object.prototype.hasOwnProperty.call(a.auditAnnotations, key)) a.auditAnnotations[key] = value;
}

/**
 * Calls the webhook of `inv` about `va` (the attributes in the webhook's version) and returns its
 * verified answer, after recording the answer's audit annotations (`<webhook>/<key>`) and
 * warnings on `sink`. Throws a WebhookCallError when the call fails and a 400 StatusError when
 * a dry run meets side effects.
 */
export async function callWebhook(
  inv: Invocation,
  va: AdmissionAttributes,
  mutating: boolean,
  sink: { warnings: string[]; annotate(key: string, value: string): void },
): Promise<AdmissionResult> {
  const h = inv.webhook;
  const name = h.spec.name;
  if (va.dryRun) {
    const sideEffects = h.spec.sideEffects;
    if (sideEffects === undefined) throw new WebhookCallError(name, "Webhook SideEffects is nil");
    if (sideEffects !== "None" && sideEffects !== "NoneOnDryRun") throw dryRunUnsupported(name);
  }
  let version: ReviewVersion;
  try {
    version = reviewVersionFor(h.spec.admissionReviewVersions);
  } catch (err) {
    throw new WebhookCallError(name, `could not create admission objects: ${(err as Error).message}`);
  }
  const uid = randomUUID();
  const review = admissionReview(version, uid, va, inv);
  const answer = await (va.outbound ?? direct)(() => postReview(h, review, decodeReviewBody));
  let result: AdmissionResult;
  try {
    result = verifyAdmissionResponse(version, uid, mutating, answer);
  } catch (err) {
    throw new WebhookCallError(name, `received invalid webhook response: ${(err as Error).message}`);
  }
  for (const [k, v] of Object.entries(result.auditAnnotations)) sink.annotate(`${name}/${k}`, v);
  // Empty warnings are dropped, as kube's warning recorder does. Deduplication and truncation
  // (4096 runes in all, then 256 per warning) are the recorder's, over every source of
  // warnings of the request: they belong to the response writer, not to each plugin.
  for (const w of result.warnings) if (w !== "") sink.warnings.push(w);
  return result;
}
