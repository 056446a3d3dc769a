// How etcd3's errors become storage errors. Only this folder looks at driver errors;
// everything above sees a StorageError (errors.ts) or, for anything unexpected, the
// driver's error as is (the API turns it into a logged 500).

import {
  ClientClosedError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCGenericError,
  GRPCUnavailableError,
} from "etcd3";
import { StorageError, timeout, unavailable } from "../errors.ts";

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** etcd's ErrCompacted: a read (or compaction) at a revision below the compacted one. */
export const isCompactedError = (err: unknown): boolean =>
  messageOf(err).includes("mvcc: required revision has been compacted");

/** etcd's ErrFutureRev: a read (or compaction) at a revision etcd has not reached. */
export const isFutureRevisionError = (err: unknown): boolean =>
  messageOf(err).includes("mvcc: required revision is a future revision");

/** kube's ResourceVersionTooLarge (504, reason Timeout), as etcd3 storage answers a read in the future. */
export const tooLargeResourceVersion = (requested: number, current: number | undefined): StorageError =>
  new StorageError(
    "Timeout",
    current === undefined
      ? `Too large resource version: ${requested}`
      : `Too large resource version: ${requested}, current: ${current}`,
    { revision: requested },
  );

/**
 * Maps a failed etcd call (`what`, e.g. "txn") to Timeout or Unavailable when it is one,
 * and returns any other error unchanged.
 */
export function toStorageError(err: unknown, what: string): unknown {
  if (err instanceof StorageError) return err;
  const message = messageOf(err);
  // The client's deadline, or etcd's own ("etcdserver: request timed out": the proposal
  // was not committed in time, e.g. no leader).
  if (err instanceof GRPCDeadlineExceededError || message.includes("etcdserver: request timed out")) {
    return timeout(`etcd did not answer ${what} in time: ${message}`, err);
  }
  if (
    err instanceof GRPCUnavailableError ||
    // The channel closed under the call (a reconnect), or the backend was closed.
    err instanceof GRPCCancelledError ||
    err instanceof ClientClosedError ||
    (err instanceof GRPCGenericError && message.includes("etcdserver: too many requests"))
  ) {
    return unavailable(`etcd is unavailable (${what}): ${message}`, err);
  }
  return err;
}
