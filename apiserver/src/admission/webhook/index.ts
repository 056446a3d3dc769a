// Admission webhooks: the MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins
// (mutating.webhook.ts, validating.webhook.ts) that call a tenant's own webhook
// configurations over HTTPS with AdmissionReview v1, as kube-apiserver v1.32 does. Beside
// them: the configurations compiled from the watch cache (webhook.source.ts), matching
// (rules.matcher.ts, webhook.matcher.ts), the wire format (admission-review.codec.ts), the
// HTTPS client (webhook.client.ts) and kube's error texts (webhook.errors.ts).

export {
  mutatingWebhooks,
  mutatingWebhookPluginName,
  mutationAnnotationPrefix,
  mutationFailedOpenAnnotationPrefix,
  patchAnnotationPrefix,
} from "./mutating.webhook.ts";
export {
  validatingWebhooks,
  validatingWebhookPluginName,
  validatingAnnotationPrefix,
  validatingFailedOpenAnnotationPrefix,
} from "./validating.webhook.ts";
export type { WebhookPluginDeps } from "./webhook.call.ts";
