// Typed storage errors. The API layer maps each code to one Kubernetes Status
// (see the table below); nothing above storage inspects driver errors.

export const storageErrorCodes = {
  /** The key does not exist (at the requested revision). → 404 NotFound */
  NotFound: "NotFound",
  /** create found the key already present. → 409 AlreadyExists */
  AlreadyExists: "AlreadyExists",
  /** A compare-and-swap or a precondition (uid, resourceVersion) failed. → 409 Conflict */
  Conflict: "Conflict",
  /** The requested revision was compacted: a watch, a get/list at a revision or a continue token. → 410 Gone / Expired */
  Gone: "Gone",
  /** The backend cannot be reached. → 503 ServiceUnavailable */
  Unavailable: "Unavailable",
  /** The backend did not answer within the deadline. → 504 Timeout */
  Timeout: "Timeout",
  /** A malformed continue token, key or option. → 400 BadRequest */
  InvalidArgument: "InvalidArgument",
} as const;

export type StorageErrorCode = (typeof storageErrorCodes)[keyof typeof storageErrorCodes];

/** Which "Gone" a caller sees: a too-old watch/get revision or an expired continue token. */
export type GoneReason = "TooOldResourceVersion" | "Expired";

export class StorageError extends Error {
  override readonly name = "StorageError";

  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly details: {
      key?: string;
      /** For Conflict: the revision actually stored; for Gone: the compacted revision. */
      revision?: number;
      goneReason?: GoneReason;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

export const notFound = (key: string): StorageError =>
  new StorageError("NotFound", `key not found: ${key}`, { key });

export const alreadyExists = (key: string): StorageError =>
  new StorageError("AlreadyExists", `key already exists: ${key}`, { key });

export const conflict = (key: string, message: string, revision?: number): StorageError =>
  new StorageError("Conflict", message, revision === undefined ? { key } : { key, revision });

/** A watch or a read at a revision older than the compacted one (kube: "too old resource version"). */
export const tooOldResourceVersion = (requested: number, compacted: number): StorageError =>
  new StorageError("Gone", `too old resource version: ${requested} (${compacted})`, {
    revision: compacted,
    goneReason: "TooOldResourceVersion",
  });

/** A continue token whose revision was compacted. */
export const continueExpired = (requested: number, compacted: number): StorageError =>
  new StorageError(
    "Gone",
    `the continue token's revision ${requested} was compacted (compacted revision ${compacted})`,
    { revision: compacted, goneReason: "Expired" },
  );

export const invalidArgument = (message: string): StorageError =>
  new StorageError("InvalidArgument", message);

export const unavailable = (message: string, cause?: unknown): StorageError =>
  new StorageError("Unavailable", message, { cause });

export const timeout = (message: string, cause?: unknown): StorageError =>
  new StorageError("Timeout", message, { cause });

export const isStorageError = (err: unknown, code?: StorageErrorCode): err is StorageError =>
  err instanceof StorageError && (code === undefined || err.code === code);
