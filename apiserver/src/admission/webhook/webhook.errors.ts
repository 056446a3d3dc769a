// The errors of admission webhooks, with kube-apiserver v1.32's texts and codes
// (k8s.io/apiserver/pkg/admission/plugin/webhook/errors and util/webhook):
// - a call that failed (no connection, TLS, timeout, bad answer) is a WebhookCallError; the
//   webhook's failurePolicy decides: Fail answers 500 `Internal error occurred: failed calling
//   webhook "<name>": <reason>`, Ignore skips the webhook;
// - a webhook that answered allowed: false is a denial, built by `denial`;
// - anything else (dry run unsupported, a patch that does not apply) answers as is, whatever
//   the failurePolicy.

import { badRequest, StatusError, type Status, type StatusReason } from "../../apierrors/status.ts";
import { goQuote } from "../../endpoints/selectors/go-format.ts";

/** util/webhook.ErrCallingWebhook: the webhook could not be called or answered nonsense. */
export class WebhookCallError extends Error {
  override readonly name = "WebhookCallError";
  constructor(
    readonly webhookName: string,
    /** The reason, as kube words it ("failed to call webhook: Post …: context deadline exceeded"). */
    readonly reason: string,
  ) {
    super(`failed calling webhook ${goQuote(webhookName)}: ${reason}`);
  }
}

/** apierrors.NewInternalError(err): 500 with the error as the one cause. */
export function internalErrorOf(message: string): StatusError {
  return new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${message}`,
    reason: "InternalError",
    details: { causes: [{ message }] },
    code: 500,
  });
}

/** webhookerrors.NewDryRunUnsupportedErr: a dry-run write reached a webhook with side effects. */
export const dryRunUnsupported = (webhookName: string): StatusError =>
  badRequest(`admission webhook ${goQuote(webhookName)} does not support dry run`);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * webhookerrors.ToStatusErr (v1.32): the webhook's own status, with a code of at least 400
 * (400 when it gave none), status Failure, and its message prefixed with
 * `admission webhook "<name>" denied the request`. Reason and details are kept as sent.
 */
export function denial(webhookName: string, result: unknown): StatusError {
  const r = isRecord(result) ? result : {};
  const deniedBy = `admission webhook ${goQuote(webhookName)} denied the request`;
  const message = typeof r["message"] === "string" ? r["message"] : "";
  const reason = typeof r["reason"] === "string" ? r["reason"] : "";
  const rawCode = r["code"];
  const code = typeof rawCode === "number" && Number.isInteger(rawCode) && rawCode >= 400 ? rawCode : 400;
  const status: Status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message:
      message !== ""
        ? `${deniedBy}: ${message}`
        : reason !== ""
          ? `${deniedBy}: ${reason}`
          : `${deniedBy} without explanation`,
    // A webhook may send any reason; it travels as sent (kube does not check it either).
    reason: reason as StatusReason | "",
    code,
  };
  if (isRecord(r["details"])) status.details = r["details"];
  return new StatusError(status);
}
