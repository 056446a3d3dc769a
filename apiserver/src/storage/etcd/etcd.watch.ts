// The etcd backend's watches: every watch of one EtcdBackend rides one gRPC Watch
// stream, multiplexed by etcd's watch_id, as etcd's Go client does. etcd3's own Watcher
// is not used because it hides `compact_revision`, which a 410 Gone must carry.
//
// Guarantees to each watch: events strictly after its start revision, in revision order,
// each once, across stream failures (etcd restarts, network); it ends with Gone when its
// next revision was compacted, with Unavailable when etcd stays unreachable for
// `retryLimitMs`, and never calls back after stop().
//
// requestProgress() sends a `progress_request` on the stream. etcd answers it with one
// response for the whole stream: watch_id -1, no events, the member's revision in the header,
// which stands for every watch the stream had when etcd read the request. etcd 3.4.24+ and
// 3.5.8+ queue that answer behind the events already due to the stream's watches and hold it
// until every one of them is synced. etcd 3.4.23 and older (the version the tests run) answer
// at once, on the control channel, with the store's revision (etcd-io/etcd#15220): the answer
// overtakes the events of a watch still catching up on history, and can (rarely) overtake
// events of a synced watch already queued for sending. Our watches are normally synced (from
// now, or from a revision just read, and writes are acknowledged only after their events are
// queued); an event overtaken anyway is delivered late rather than dropped (deliverEvents).

import { Buffer } from "node:buffer";
import type { Etcd3, IDuplexStream, IEvent, IWatchCreateRequest, IWatchRequest, IWatchResponse } from "etcd3";
import { isStorageError, tooOldResourceVersion, unavailable } from "../errors.ts";
import type { Watch, WatchEvent, WatchHandlers } from "../interface.ts";
import { int64, optional, toKeyValue } from "./etcd.codec.ts";

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

/** What to watch. Built by EtcdBackend; never modified. */
export interface WatchSpec {
  readonly key: Buffer;
  /** End of the range (exclusive); empty for the single key `key`. */
  readonly rangeEnd: Buffer;
  /** Deliver revisions strictly after this one; undefined: after the revision etcd is at when it creates the watch. */
  readonly afterRevision: number | undefined;
  readonly progressNotify: boolean;
}

/** WatchMux's settings, from EtcdBackend (and tests); read once, never modified. */
export interface WatchMuxOptions {
  /** How long watches ride out an unreachable etcd before ending with Unavailable. */
  readonly retryLimitMs: number;
  /** First reconnect delay; it doubles per failed attempt up to `maxBackoffMs` (with jitter). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** One caller's watch. */
class Registration implements Watch {
  /** Everything up to this revision was delivered (events or progress); only grows. */
  lastRevision: number;
  /** The revision of the last delivered event (or the start): an event at or below it is a replay. */
  lastEventRevision: number;
  /** Asked for a PROGRESS that no progress_request on the current stream answers yet. */
  progressWanted = false;
  /** No start revision yet: the next create asks etcd for "now". */
  fromNow: boolean;
  /** Set by stop(), by the end of the watch or by close(): no callback runs once it is set. */
  done = false;
  /** etcd's watch_id on the current stream, once created. */
  id: string | undefined;
  /** Events of a fragmented response, held until its last fragment. */
  fragments: IEvent[] = [];

  constructor(
    private readonly mux: WatchMux,
    readonly spec: WatchSpec,
    readonly handlers: WatchHandlers,
  ) {
    this.lastRevision = spec.afterRevision ?? 0;
    this.lastEventRevision = this.lastRevision;
    this.fromNow = spec.afterRevision === undefined;
  }

  stop(): Promise<void> {
    this.mux.stop(this);
    return Promise.resolve();
  }

  requestProgress(): void {
    this.mux.requestProgress(this);
  }
}

/** The watch_id of etcd's answer to a progress_request (clientv3.InvalidWatchID), as etcd3 decodes int64s. */
const streamWideId = "-1";

export class WatchMux {
  private readonly live = new Set<Registration>();
  private stream: WatchStream | undefined;
  private opening = false;
  /**
   * Registrations whose create_request went out on the current stream, in sending order.
   * etcd answers the creates of one stream in the order it received them, and a `created`
   * response carries no other way to tell which request it answers.
   */
  private creating: Registration[] = [];
  /**
   * watch_id → registration on the current stream. A stopped registration stays until etcd
   * confirms its cancel, so that its late responses are recognized (and dropped).
   */
  private readonly byId = new Map<string, Registration>();
  /**
   * The progress_request in flight on the current stream, if any. One at a time: etcd's answer
   * names no request, and newer etcd merges the requests it holds back (while a watch catches
   * up) into one answer, so a second request could go unanswered. `covers`: the registrations
   * created on the stream when it went out, the only ones etcd answers for (one created later
   * may start behind the answer's revision). `askedBy`: those that wanted it, asked again on
   * the next stream if this one fails first.
   */
  private progressInFlight:
    { readonly covers: ReadonlySet<Registration>; readonly askedBy: readonly Registration[] } | undefined;
  /** When the stream first failed with no response since; undefined while healthy. */
  private failingSince: number | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly client: Etcd3,
    private readonly options: WatchMuxOptions,
  ) {
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 2000;
  }

  watch(spec: WatchSpec, handlers: WatchHandlers): Watch {
    const reg = new Registration(this, spec, handlers);
    if (this.closed) {
      // Asynchronously, as every other callback: the caller may not hold the Watch yet.
      queueMicrotask(() => this.end(reg, unavailable("the etcd backend is closed")));
      return reg;
    }
    this.live.add(reg);
    if (this.stream !== undefined) this.sendCreate(reg);
    else this.ensureStream();
    return reg;
  }

  /** Asks etcd for a progress answer covering `reg` (see the file comment); coalesced. */
  requestProgress(reg: Registration): void {
    if (reg.done) return;
    reg.progressWanted = true;
    this.sendProgressRequest();
  }

  stop(reg: Registration): void {
    if (reg.done) return;
    reg.done = true;
    this.live.delete(reg);
    // A registration still waiting for `created` is cancelled when that answer comes.
    this.cancel(reg);
    if (this.live.size === 0) this.goIdle();
  }

  /**
   * The revision etcd last compacted at, found by watching from revision 1: etcd cancels
   * such a watch with `compact_revision`. 0 when it cannot tell within `timeoutMs`.
   * (etcd 3.4 has no cheaper way: no status field carries it, HashKV scans the database.)
   */
  compactedRevision(timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
      const probe = this.watch(
        { key: probeKey, rangeEnd: emptyKey, afterRevision: 0, progressNotify: false },
        {
          onEvents: () => undefined,
          onError: (err) => {
            clearTimeout(timer);
            resolve(isStorageError(err, "Gone") ? (err.details.revision ?? 0) : 0);
          },
        },
      );
      const timer = setTimeout(() => {
        void probe.stop();
        resolve(0);
      }, timeoutMs);
    });
  }

  /** Ends every watch without a callback and closes the stream. */
  close(): void {
    this.closed = true;
    for (const reg of this.live) reg.done = true;
    this.live.clear();
    this.clearRetry();
    const stream = this.stream;
    this.resetStream();
    stream?.cancel();
  }

  // --- the stream -------------------------------------------------------------------

  private ensureStream(): void {
    if (this.closed || this.stream !== undefined || this.opening || this.retryTimer !== undefined) return;
    if (this.live.size === 0) return;
    this.opening = true;
    this.client.watchClient.watch().then(
      (stream) => this.onOpened(stream),
      (err: unknown) => this.onStreamFailed(undefined, err),
    );
  }

  private onOpened(stream: WatchStream): void {
    this.opening = false;
    if (this.closed) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on("data", (res) => {
      if (this.stream === stream) this.onResponse(res);
    });
    stream.on("error", (err) => this.onStreamFailed(stream, err));
    stream.on("end", () => this.onStreamFailed(stream, new Error("etcd ended the watch stream")));
    // (Re)create every live watch, each from the revision after the last one it saw.
    for (const reg of this.live) this.sendCreate(reg);
  }

  private onStreamFailed(stream: WatchStream | undefined, err: unknown): void {
    if (stream !== undefined && stream !== this.stream) return; // an old stream's last words
    this.opening = false;
    this.resetStream();
    stream?.cancel();
    if (this.closed || this.live.size === 0) {
      this.goIdle();
      return;
    }
    const now = Date.now();
    this.failingSince ??= now;
    if (now - this.failingSince >= this.options.retryLimitMs) {
      const message = err instanceof Error ? err.message : String(err);
      const cause = unavailable(
        `etcd watch stream unavailable for ${now - this.failingSince} ms: ${message}`,
        err,
      );
      this.failingSince = undefined;
      this.attempt = 0;
      for (const reg of [...this.live]) this.end(reg, cause);
      return;
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.attempt);
    this.attempt++;
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.ensureStream();
    }, delay);
  }

  /** No watch left: no retries; the next watch starts afresh. */
  private goIdle(): void {
    this.clearRetry();
    this.failingSince = undefined;
    this.attempt = 0;
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Forgets everything that belonged to the current stream. */
  private resetStream(): void {
    this.stream = undefined;
    this.creating = [];
    this.byId.clear();
    // A progress request lost with the stream is asked again once its askers are created anew.
    for (const reg of this.progressInFlight?.askedBy ?? []) reg.progressWanted = true;
    this.progressInFlight = undefined;
    for (const reg of this.live) {
      reg.id = undefined;
      reg.fragments = [];
    }
  }

  private sendCreate(reg: Registration): void {
    const { spec } = reg;
    const request: IWatchCreateRequest = {
      key: spec.key,
      range_end: spec.rangeEnd,
      prev_kv: true,
      progress_notify: spec.progressNotify,
    };
    if (!reg.fromNow) request.start_revision = reg.lastRevision + 1;
    // Push before writing: the answer can only come after the write.
    this.creating.push(reg);
    this.stream?.write({ create_request: request });
  }

  /**
   * Sends a progress_request when none is in flight and a registration created on the current
   * stream wants one. A registration still being created is not covered: onCreated asks for it.
   */
  private sendProgressRequest(): void {
    if (this.stream === undefined || this.progressInFlight !== undefined) return;
    const covers = new Set<Registration>();
    const askedBy: Registration[] = [];
    for (const reg of this.live) {
      if (reg.id === undefined) continue;
      covers.add(reg);
      if (reg.progressWanted) askedBy.push(reg);
    }
    if (askedBy.length === 0) return;
    for (const reg of askedBy) reg.progressWanted = false;
    this.progressInFlight = { covers, askedBy };
    this.stream.write({ progress_request: {} });
  }

  // --- responses ----------------------------------------------------------------------

  private onResponse(res: IWatchResponse): void {
    // Any answer proves the stream works: the next failure starts a fresh retry budget.
    this.failingSince = undefined;
    this.attempt = 0;
    if (res.created) {
      this.onCreated(res);
      return;
    }
    if (res.watch_id === streamWideId && !res.canceled && res.events.length === 0) {
      this.onProgressAnswer(res);
      return;
    }
    const reg = this.byId.get(res.watch_id);
    if (reg === undefined) return;
    if (res.canceled) {
      this.onCanceled(reg, res);
      return;
    }
    if (reg.done) return;
    if (res.fragment) {
      reg.fragments.push(...res.events);
      return;
    }
    const events = reg.fragments.length > 0 ? [...reg.fragments, ...res.events] : res.events;
    reg.fragments = [];
    if (events.length > 0) this.deliverEvents(reg, events);
    else this.deliverProgress(reg, int64(optional(res.header)?.revision ?? "0"));
  }

  private onCreated(res: IWatchResponse): void {
    const reg = this.creating.shift();
    if (reg === undefined) {
      // An answer to no request: the pairing is lost, so start over on a new stream.
      this.onStreamFailed(
        this.stream,
        new Error(`etcd answered a watch create that was not sent (${res.watch_id})`),
      );
      return;
    }
    // A create that failed at once answers created and canceled together (e.g. a start
    // revision already compacted on newer etcd versions).
    if (res.canceled) {
      this.onCanceled(reg, res);
      return;
    }
    reg.id = res.watch_id;
    this.byId.set(res.watch_id, reg);
    if (reg.done) {
      this.stream?.write({ cancel_request: { watch_id: res.watch_id } });
      return;
    }
    if (reg.fromNow) {
      // Events follow the revision etcd was at when it created the watch.
      reg.fromNow = false;
      reg.lastRevision = int64(optional(res.header)?.revision ?? "0");
      reg.lastEventRevision = reg.lastRevision;
    }
    if (res.events.length > 0) this.deliverEvents(reg, res.events);
    // Asked while being created (or asked before a reconnect): the request can go out now.
    if (reg.progressWanted && !reg.done) this.sendProgressRequest();
  }

  /** etcd's answer to our progress_request: PROGRESS for every watch it covers, then the next request. */
  private onProgressAnswer(res: IWatchResponse): void {
    const answered = this.progressInFlight;
    this.progressInFlight = undefined;
    const revision = int64(optional(res.header)?.revision ?? "0");
    for (const reg of answered?.covers ?? []) {
      // Ended, or cancelled by etcd since: no longer on this stream.
      if (reg.done || reg.id === undefined) continue;
      this.deliverProgress(reg, revision);
    }
    // Asked again while this one was in flight: its revision may predate that call.
    this.sendProgressRequest();
  }

  private onCanceled(reg: Registration, res: IWatchResponse): void {
    if (this.byId.get(res.watch_id) === reg) this.byId.delete(res.watch_id);
    reg.id = undefined;
    if (reg.done) return; // our own cancel, confirmed
    const compacted = int64(res.compact_revision || "0");
    if (compacted > 0) {
      this.end(reg, tooOldResourceVersion(reg.lastRevision, compacted));
      return;
    }
    this.end(reg, unavailable(`etcd canceled the watch: ${res.cancel_reason || "no reason given"}`));
  }

  private deliverEvents(reg: Registration, events: readonly IEvent[]): void {
    // After a reconnect etcd replays from lastRevision + 1, so nothing should be old; the
    // check makes "each event once" independent of that. etcd never splits one revision
    // across responses (fragments are joined above), so comparing with the revision before
    // this batch keeps every event of a multi-key transaction. It compares with the last
    // event, not the last progress: an event that an early progress answer overtook (etcd
    // 3.4.23, see the file comment) is late but new, and is delivered rather than lost.
    const after = reg.lastEventRevision;
    const batch: WatchEvent[] = [];
    for (const ev of events) {
      const revision = int64(ev.kv.mod_revision);
      if (revision <= after) continue;
      const mapped = toWatchEvent(ev);
      if (mapped instanceof Error) {
        this.cancel(reg);
        this.end(reg, mapped);
        return;
      }
      batch.push(mapped);
      reg.lastEventRevision = revision;
      if (revision > reg.lastRevision) reg.lastRevision = revision;
    }
    if (batch.length > 0) this.emit(reg, batch);
  }

  private deliverProgress(reg: Registration, revision: number): void {
    if (revision < reg.lastRevision) return;
    reg.lastRevision = revision;
    this.emit(reg, [{ type: "PROGRESS", revision }]);
  }

  // --- callbacks ----------------------------------------------------------------------

  private emit(reg: Registration, events: readonly WatchEvent[]): void {
    try {
      reg.handlers.onEvents(events);
    } catch (err) {
      // onEvents must not throw; if it does, this watch ends with that error (the others go on).
      this.cancel(reg);
      this.end(reg, err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Ends a live watch with `err`: its one and last callback. */
  private end(reg: Registration, err: Error): void {
    if (reg.done) return;
    reg.done = true;
    this.live.delete(reg);
    try {
      reg.handlers.onError(err);
    } catch (thrown) {
      // A broken handler is a bug of its owner; surface it without corrupting the stream's state.
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }

  /** Asks etcd to cancel `reg` when etcd created it on the current stream. */
  private cancel(reg: Registration): void {
    if (this.stream !== undefined && reg.id !== undefined && this.byId.get(reg.id) === reg) {
      this.stream.write({ cancel_request: { watch_id: reg.id } });
    }
  }
}

const emptyKey: Buffer = Buffer.alloc(0);
/** A key no object uses ("\0"), for the compaction probe. */
const probeKey: Buffer = Buffer.from([0]);

/** etcd's event as a Backend event, or an Error when etcd left out the previous state of a deletion. */
function toWatchEvent(ev: IEvent): WatchEvent | Error {
  const kv = toKeyValue(ev.kv);
  const prev = optional(ev.prev_kv);
  if (ev.type === "Delete") {
    // kube's etcd3 watcher refuses the same: a deletion must carry the deleted object.
    if (prev === undefined)
      return unavailable(`etcd sent a deletion of ${kv.key} without its previous state`);
    return { type: "DELETED", kv: toKeyValue(prev), revision: kv.modRevision };
  }
  if (kv.createRevision === kv.modRevision) return { type: "ADDED", kv };
  return prev === undefined ? { type: "MODIFIED", kv } : { type: "MODIFIED", kv, prev: toKeyValue(prev) };
}
