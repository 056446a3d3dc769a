// Kubernetes Status errors: every error that leaves the API server is a metav1.Status
// made by one of these constructors, with kube-apiserver's reason, code and message.

import { isStorageError, type StorageError } from "../storage/errors.ts";

/** The reasons Multiplane answers with, and the HTTP code each carries. One table. */
export const statusReasons = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
} as const;

export type StatusReason = keyof typeof statusReasons;

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status as sent on the wire. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  /** A Status may carry a continue token (410 Expired on a compacted continue). */
  metadata: { continue?: string };
  status: "Failure" | "Success";
  message: string;
  reason: StatusReason | "";
  details?: StatusDetails;
  code: number;
}

/** A Status as a throwable error; the error handler sends it as is. */
export class StatusError extends Error {
  override readonly name = "StatusError";
  constructor(readonly status: Status) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): StatusReason | "" {
    return this.status.reason;
  }
}

export const isStatusError = (err: unknown): err is StatusError => err instanceof StatusError;

function statusError(reason: StatusReason, message: string, details?: StatusDetails): StatusError {
  // Empty fields are omitted on the wire, as Go's omitempty does.
  if (details !== undefined) {
    for (const k of ["name", "group", "kind", "uid"] as const) if (details[k] === "") delete details[k];
  }
  return new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code: statusReasons[reason],
  });
}

/** What an error is about: kube names the resource (plural) with its group. */
export interface Qualified {
  group: string;
  resource: string;
}

const qualifiedName = (q: Qualified): string => (q.group === "" ? q.resource : `${q.resource}.${q.group}`);

export const badRequest = (message: string): StatusError => statusError("BadRequest", message);

export const unauthorized = (message = "Unauthorized"): StatusError => statusError("Unauthorized", message);

export const notFound = (q: Qualified, name: string): StatusError =>
  statusError("NotFound", `${qualifiedName(q)} "${name}" not found`, {
    name,
    group: q.group,
    kind: q.resource,
  });

/** 404 for a path or resource the server does not serve at all. */
export const resourceNotFound = (): StatusError =>
  statusError("NotFound", "the server could not find the requested resource", {});

export const alreadyExists = (q: Qualified, name: string): StatusError =>
  statusError("AlreadyExists", `${qualifiedName(q)} "${name}" already exists`, {
    name,
    group: q.group,
    kind: q.resource,
  });

/** 409 Conflict; `reason` is the tail of kube's message ("the object has been modified; …"). */
export const conflict = (q: Qualified, name: string, reason: string): StatusError =>
  statusError("Conflict", `Operation cannot be fulfilled on ${qualifiedName(q)} "${name}": ${reason}`, {
    name,
    group: q.group,
    kind: q.resource,
  });

export const objectModified =
  "the object has been modified; please apply your changes to the latest version and try again";

export interface FieldError {
  /** kube's cause reason: FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong… */
  type: string;
  field: string;
  /** The full message for this field, e.g. `Invalid value: "Foo": a lowercase RFC 1123 …`. */
  detail: string;
}

/** 422 Invalid: `Kind "name" is invalid: [field: detail, …]` with one cause per field error. */
export const invalid = (
  kind: { group: string; kind: string },
  name: string,
  errors: FieldError[],
): StatusError => {
  const parts = errors.map((e) => `${e.field}: ${e.detail}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  const qualifiedKind = kind.group === "" ? kind.kind : `${kind.kind}.${kind.group}`;
  return statusError("Invalid", `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    name,
    group: kind.group,
    kind: kind.kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.detail, field: e.field })),
  });
};

export const forbidden = (q: Qualified, name: string, reason: string): StatusError => {
  const subject = name === "" ? qualifiedName(q) : `${qualifiedName(q)} "${name}"`;
  return statusError("Forbidden", `${subject} is forbidden: ${reason}`, {
    name,
    group: q.group,
    kind: q.resource,
  });
};

export const methodNotAllowed = (message: string): StatusError => statusError("MethodNotAllowed", message);

export const notAcceptable = (message: string): StatusError => statusError("NotAcceptable", message);

/** 415: `accepted` lists the media types the request may use (kube's NewUnsupportedMediaTypeError). */
export const unsupportedMediaType = (accepted: readonly string[]): StatusError =>
  statusError(
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );

export const requestEntityTooLarge = (message: string): StatusError =>
  statusError("RequestEntityTooLarge", message);

/** 410 Expired: a watch or list from a compacted resourceVersion, or an expired continue token. */
export const expired = (message: string): StatusError => statusError("Expired", message);

export const tooManyRequests = (
  retryAfterSeconds: number,
  message = "Too many requests, please try again later.",
): StatusError => statusError("TooManyRequests", message, { retryAfterSeconds });

export const serviceUnavailable = (message: string, retryAfterSeconds?: number): StatusError =>
  statusError(
    "ServiceUnavailable",
    message,
    retryAfterSeconds === undefined ? undefined : { retryAfterSeconds },
  );

export const timeout = (message: string, retryAfterSeconds?: number): StatusError =>
  statusError("Timeout", message, retryAfterSeconds === undefined ? undefined : { retryAfterSeconds });

export const internalError = (
  message = "Internal error occurred: an error on the server has prevented the request from succeeding",
): StatusError => statusError("InternalError", message);

/** The continue-token message kube sends with 410 Expired. */
export const continueExpiredMessage =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/** Maps a typed storage error about object `name` of `q` to its Status; anything else is rethrown. */
export function fromStorageError(err: unknown, q: Qualified, name: string): StatusError {
  if (!isStorageError(err)) throw err;
  const e: StorageError = err;
  switch (e.code) {
    case "NotFound":
      return notFound(q, name);
    case "AlreadyExists":
      return alreadyExists(q, name);
    case "Conflict":
      return conflict(q, name, e.message.startsWith("Precondition failed") ? e.message : objectModified);
    case "Gone":
      return expired(e.details.goneReason === "Expired" ? continueExpiredMessage : e.message);
    case "Unavailable":
      return serviceUnavailable(`storage is unavailable: ${e.message}`, 1);
    case "Timeout":
      return timeout(e.message, 1);
    case "InvalidArgument":
      return badRequest(e.message);
  }
}
