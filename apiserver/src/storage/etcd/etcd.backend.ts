// The production Backend: etcd v3 through the etcd3 client, with the semantics
// kube-apiserver's etcd3 store gets from etcd. Each operation is one etcd request
// (a range, a transaction or a delete), issued on etcd3's raw KV client rather than its
// builders, with a deadline; watches share one stream (etcd.watch.ts).

import { Buffer } from "node:buffer";
import {
  Etcd3,
  type IOptions,
  type IRangeRequest,
  type IRangeResponse,
  type ITxnRequest,
  type ITxnResponse,
} from "etcd3";
import { invalidArgument, tooOldResourceVersion } from "../errors.ts";
import type {
  Backend,
  KeyValue,
  RangeResult,
  TxnResult,
  Watch,
  WatchHandlers,
  WatchOptions,
} from "../interface.ts";
import { int64, keyBytes, optional, toKeyValue, valueBytes } from "./etcd.codec.ts";
import {
  isCompactedError,
  isFutureRevisionError,
  toStorageError,
  tooLargeResourceVersion,
} from "./etcd.errors.ts";
import { WatchMux } from "./etcd.watch.ts";

/** How to reach etcd. Read by EtcdBackend's constructor only; never modified. */
export interface EtcdBackendOptions {
  /** Client URLs of the etcd members, e.g. "http://127.0.0.1:2379". */
  readonly endpoints: readonly string[];
  /** Deadline of every KV request, in milliseconds (default 10000). */
  readonly requestTimeoutMs?: number;
  /** How long watches ride out an unreachable etcd before ending with Unavailable (default 30000 ms). */
  readonly watchRetryLimitMs?: number;
  /** TLS to etcd (https:// endpoints): the CA bundle, and a client certificate and key if etcd asks for one. */
  readonly tls?: { readonly caPem: string; readonly certPem?: string; readonly keyPem?: string };
}

const defaultRequestTimeoutMs = 10_000;
const defaultWatchRetryLimitMs = 30_000;

type FaultPolicy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

/**
 * Runs each call exactly once. etcd3's defaults retry any "recoverable" error three times
 * (a create whose answer was lost would then report AlreadyExists, and a deadline would
 * triple) and open a 5 s circuit breaker after three failures (refusing calls after etcd is
 * back). Callers above retry by resending the request, as kube clients do. Only `execute`
 * is called by etcd3's connection pool.
 */
// One context for every call: an AbortController per call cost ~3% of the client's CPU.
const neverAborted = { signal: new AbortController().signal };

const runOnce = {
  // Always a promise, also when `fn` throws: etcd3's markFailed() calls
  // `execute(() => { throw err }).catch(…)` from a stream's error listener. Not an async
  // function: Promise.resolve of the pool's own promise allocates nothing more.
  execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> {
    try {
      return Promise.resolve(fn(neverAborted));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  },
} as unknown as FaultPolicy;

const grpcOptions = {
  // Range answers (lists) can exceed gRPC's default 4 MiB receive limit (kube's client lifts it too).
  "grpc.max_receive_message_length": -1,
  // Find a dead peer under an idle watch stream (kube's etcd client: 30 s / 10 s).
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  // Reconnect soon after etcd comes back (gRPC's default backoff grows to 120 s).
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2_000,
  // Channelz (gRPC's introspection service, unused here) bookkeeps every call.
  "grpc.enable_channelz": 0,
};

/** A key no object uses: `currentRevision` reads it to learn etcd's revision. */
const revisionProbeKey: Buffer = keyBytes("\u0000");

export class EtcdBackend implements Backend {
  private readonly client: Etcd3;
  private readonly watches: WatchMux;
  private readonly timeoutMs: number;

  constructor(options: EtcdBackendOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      ...(options.tls !== undefined
        ? {
            credentials: {
              rootCertificate: Buffer.from(options.tls.caPem),
              ...(options.tls.certPem !== undefined ? { certChain: Buffer.from(options.tls.certPem) } : {}),
              ...(options.tls.keyPem !== undefined ? { privateKey: Buffer.from(options.tls.keyPem) } : {}),
            },
          }
        : {}),
      grpcOptions,
      faultHandling: { global: runOnce, host: () => runOnce },
    });
    this.watches = new WatchMux(this.client, {
      retryLimitMs: options.watchRetryLimitMs ?? defaultWatchRetryLimitMs,
    });
  }

  async get(key: string, revision?: number): Promise<{ kv: KeyValue | undefined; revision: number }> {
    const request: IRangeRequest = { key: keyBytes(key) };
    if (revision) request.revision = revision;
    const res = await this.rangeRequest(request, revision);
    const first = res.kvs[0];
    return { kv: first && toKeyValue(first), revision: int64(res.header.revision) };
  }

  async range(start: string, end: string, opts: { revision?: number; limit?: number }): Promise<RangeResult> {
    // etcd sorts by key ascending when no sort is asked.
    const request: IRangeRequest = { key: keyBytes(start), range_end: keyBytes(end) };
    if (opts.revision) request.revision = opts.revision;
    if (opts.limit) request.limit = opts.limit;
    const res = await this.rangeRequest(request, opts.revision);
    return {
      kvs: res.kvs.map(toKeyValue),
      count: int64(res.count),
      revision: opts.revision || int64(res.header.revision),
    };
  }

  async create(key: string, value: Uint8Array): Promise<TxnResult> {
    const k = keyBytes(key);
    const res = await this.txn("create", {
      compare: [{ key: k, target: "Create", result: "Equal", create_revision: 0 }],
      success: [{ request_put: { key: k, value: valueBytes(value) } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) return { ok: false, current: rangedKv(res, 0) };
    const revision = int64(res.header.revision);
    return { ok: true, kv: { key, value, createRevision: revision, modRevision: revision } };
  }

  /**
   * `createRevision` (optional in the Backend contract) is the create revision of the
   * state whose mod revision is `modRevision` (the caller read it with it). Without it, a
   * keys-only read in the same transaction fetches it, which costs ~10% of an update.
   */
  async update(
    key: string,
    value: Uint8Array,
    modRevision: number,
    createRevision?: number,
  ): Promise<TxnResult> {
    const k = keyBytes(key);
    const put = { request_put: { key: k, value: valueBytes(value) } };
    const res = await this.txn("update", {
      compare: [{ key: k, target: "Mod", result: "Equal", mod_revision: modRevision }],
      // The keys-only read after the put, in the same transaction, yields the create
      // revision without sending the old value back.
      success: createRevision ? [put] : [put, { request_range: { key: k, keys_only: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) return { ok: false, current: rangedKv(res, 0) };
    const revision = int64(res.header.revision);
    const created =
      createRevision ?? int64(optional(res.responses[1]?.response_range)?.kvs[0]?.create_revision ?? "0");
    return { ok: true, kv: { key, value, createRevision: created || revision, modRevision: revision } };
  }

  async delete(
    key: string,
    modRevision: number,
  ): Promise<{ ok: true; kv: KeyValue; revision: number } | { ok: false; current: KeyValue | undefined }> {
    const k = keyBytes(key);
    const res = await this.txn("delete", {
      compare: [{ key: k, target: "Mod", result: "Equal", mod_revision: modRevision }],
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) return { ok: false, current: rangedKv(res, 0) };
    const deleted = optional(res.responses[0]?.response_delete_range)?.prev_kvs[0];
    // Only with modRevision 0 (the compare holds for an absent key) is nothing deleted.
    if (deleted === undefined) return { ok: false, current: undefined };
    return { ok: true, kv: toKeyValue(deleted), revision: int64(res.header.revision) };
  }

  async deleteRange(start: string, end: string): Promise<number> {
    try {
      const res = await this.client.kv.deleteRange(
        { key: keyBytes(start), range_end: keyBytes(end) },
        this.deadline(),
      );
      return int64(res.deleted);
    } catch (err) {
      throw toStorageError(err, "delete range");
    }
  }

  watch(start: string, end: string, handlers: WatchHandlers, opts: WatchOptions): Watch {
    return this.watches.watch(
      {
        key: keyBytes(start),
        rangeEnd: keyBytes(end),
        afterRevision: opts.afterRevision || undefined,
        progressNotify: opts.progressNotify ?? false,
      },
      handlers,
    );
  }

  async currentRevision(): Promise<number> {
    const res = await this.rangeRequest({ key: revisionProbeKey, count_only: true }, undefined);
    return int64(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      // Not physical: etcd refuses reads and watches below `revision` as soon as it answers;
      // waiting for the deletion itself could outlast the deadline on a large database.
      await this.client.kv.compact({ revision }, this.deadline());
    } catch (err) {
      if (isCompactedError(err)) return; // already compacted at or past `revision`
      if (isFutureRevisionError(err))
        throw invalidArgument(`cannot compact at ${revision}: a future revision`);
      throw toStorageError(err, "compact");
    }
  }

  close(): Promise<void> {
    this.watches.close();
    this.client.close();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------------------------

  /** Call options of one request: its deadline. */
  private deadline(): { deadline: number } {
    return { deadline: Date.now() + this.timeoutMs };
  }

  private txn(what: string, request: ITxnRequest): Promise<ITxnResponse> {
    return this.client.kv.txn(request, this.deadline()).catch((err: unknown) => {
      throw toStorageError(err, what);
    });
  }

  /** One range request; `revision` is the one asked for, for the compaction and future-revision errors. */
  private async rangeRequest(request: IRangeRequest, revision: number | undefined): Promise<IRangeResponse> {
    try {
      return await this.client.kv.range(request, this.deadline());
    } catch (err) {
      if (revision && isCompactedError(err)) {
        throw tooOldResourceVersion(revision, await this.watches.compactedRevision(this.timeoutMs));
      }
      if (revision && isFutureRevisionError(err)) {
        throw tooLargeResourceVersion(revision, await this.currentRevision().catch(() => undefined));
      }
      throw toStorageError(err, "range");
    }
  }
}

/** The first key-value of the range at `index` in a transaction's answers. */
function rangedKv(res: ITxnResponse, index: number): KeyValue | undefined {
  const kv = optional(res.responses[index]?.response_range)?.kvs[0];
  return kv === undefined ? undefined : toKeyValue(kv);
}
