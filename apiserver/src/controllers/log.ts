// Logging of the tenant controllers: the keys they log under, and how a failed
// reconcile is reported (once, here; reconcilers return their errors and never log them).

import pino, { type Logger } from "pino";
import type { FailureHandler } from "./work-queue.ts";
import { hasCode } from "./tenant-objects.ts";

export const logKeys = {
  tenant: "tenant",
  controller: "controller",
  key: "key",
  retryInMs: "retryInMs",
  failures: "failures",
  err: "err",
} as const;

let fallback: Logger | undefined;

/** Used when the caller gives no logger: warnings and errors to stderr, one logger per process. */
export function defaultControllerLogger(): Logger {
  fallback ??= pino({ level: "warn", name: "multiplane-controllers" }, pino.destination(2));
  return fallback;
}

/**
 * Logs a failed reconcile: conflicts (another writer won) at debug; other errors as a warning on
 * the first failure in a row and once retries are 10 s or more apart, at debug in between.
 */
export function queueFailureLogger(log: Logger): FailureHandler {
  return (key, err, retryInMs, failures) => {
    const l = log.child({ [logKeys.key]: key });
    const fields = { [logKeys.err]: err, [logKeys.retryInMs]: retryInMs, [logKeys.failures]: failures };
    if (retryInMs === undefined) l.warn(fields, "reconcile failed for good, dropping the key");
    else if (hasCode(err, 409) || (failures > 1 && retryInMs < 10_000)) l.debug(fields, "reconcile failed");
    else l.warn(fields, "reconcile failed, retrying");
  };
}
