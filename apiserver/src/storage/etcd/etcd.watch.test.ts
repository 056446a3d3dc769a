// The watch multiplexer against a scripted stream: the protocol cases etcd 3.4 does not
// produce on demand (a create answered created+canceled at once, fragments, a lost
// pairing, a progress answer overtaking events), progress requests, and the reconnect
// bookkeeping, with a fake clock for the backoff.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import { mock, test } from "node:test";
import type { Etcd3, IEvent, IKeyValue, IWatchRequest, IWatchResponse } from "etcd3";
import { isStorageError } from "../errors.ts";
import type { WatchEvent, WatchHandlers } from "../interface.ts";
import { WatchMux, type WatchSpec } from "./etcd.watch.ts";

/** A Watch stream whose answers the test writes. */
class FakeStream extends EventEmitter {
  readonly written: IWatchRequest[] = [];
  canceled = false;
  write(req: IWatchRequest): void {
    this.written.push(req);
  }
  end(): void {}
  cancel(): void {
    this.canceled = true;
  }
  answer(res: Partial<IWatchResponse> & { revision?: number }): void {
    const { revision = 0, ...rest } = res;
    const full: IWatchResponse = {
      header: { cluster_id: "1", member_id: "1", revision: String(revision), raft_term: "1" },
      watch_id: "0",
      created: false,
      canceled: false,
      compact_revision: "0",
      cancel_reason: "",
      fragment: false,
      events: [],
      ...rest,
    };
    this.emit("data", full);
  }
  creates(): IWatchRequest["create_request"][] {
    return this.written.filter((w) => w.create_request).map((w) => w.create_request);
  }
}

function fakeEtcd(opts: { fail?: boolean } = {}): { client: Etcd3; streams: FakeStream[] } {
  const streams: FakeStream[] = [];
  const watch = (): Promise<FakeStream> => {
    if (opts.fail) return Promise.reject(new Error("14 UNAVAILABLE: connect ECONNREFUSED"));
    const stream = new FakeStream();
    streams.push(stream);
    return Promise.resolve(stream);
  };
  return { client: { watchClient: { watch } } as unknown as Etcd3, streams };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

const kv = (key: string, create: number, mod: number): IKeyValue => ({
  key: Buffer.from(key),
  create_revision: String(create),
  mod_revision: String(mod),
  version: "1",
  value: Buffer.from(`${key}@${mod}`),
  lease: "0",
});

const put = (key: string, create: number, mod: number): IEvent =>
  ({ type: "Put", kv: kv(key, create, mod), prev_kv: null }) as unknown as IEvent;

const spec = (prefix: string, afterRevision?: number): WatchSpec => ({
  key: Buffer.from(prefix),
  rangeEnd: Buffer.from(prefix.slice(0, -1) + "0"),
  afterRevision,
  progressNotify: true,
});

function recorder(): WatchHandlers & { batches: WatchEvent[][]; errors: Error[] } {
  const batches: WatchEvent[][] = [];
  const errors: Error[] = [];
  return { batches, errors, onEvents: (b) => batches.push([...b]), onError: (e) => errors.push(e) };
}

test("a create answered created and canceled at once ends that watch with Gone; pairing holds", async () => {
  const { client, streams } = fakeEtcd();
  const mux = new WatchMux(client, { retryLimitMs: 1000 });
  const old = recorder();
  const fresh = recorder();
  mux.watch(spec("/a/", 3), old);
  mux.watch(spec("/b/", 9), fresh);
  await flush();
  const stream = streams[0]!;
  assert.deepEqual(
    stream.creates().map((c) => c?.start_revision),
    [4, 10],
  );
  stream.answer({ created: true, canceled: true, watch_id: "-1", compact_revision: "7", revision: 12 });
  stream.answer({ created: true, watch_id: "1", revision: 12 });
  stream.answer({ watch_id: "1", events: [put("/b/x", 11, 11)], revision: 12 });
  assert.equal(old.errors.length, 1);
  assert.ok(isStorageError(old.errors[0], "Gone"));
  assert.equal(old.errors[0].details.revision, 7);
  assert.equal(fresh.batches.length, 1);
  assert.equal(fresh.batches[0]?.[0]?.type, "ADDED");
  mux.close();
});

test("fragments are delivered as one batch; a watch stopped while being created is cancelled", async () => {
  const { client, streams } = fakeEtcd();
  const mux = new WatchMux(client, { retryLimitMs: 1000 });
  const rec = recorder();
  const stopped = recorder();
  mux.watch(spec("/a/", 1), rec);
  const early = mux.watch(spec("/b/", 1), stopped);
  await flush();
  await early.stop();
  const stream = streams[0]!;
  stream.answer({ created: true, watch_id: "0", revision: 5 });
  stream.answer({ created: true, watch_id: "1", revision: 5 });
  assert.deepEqual(stream.written.at(-1), { cancel_request: { watch_id: "1" } });
  stream.answer({ watch_id: "1", events: [put("/b/x", 5, 5)], revision: 5 }); // before etcd saw the cancel
  stream.answer({ watch_id: "0", fragment: true, events: [put("/a/x", 5, 5)], revision: 5 });
  stream.answer({ watch_id: "0", events: [put("/a/y", 5, 5)], revision: 5 });
  assert.deepEqual(
    rec.batches.map((b) => b.map((e) => (e.type === "PROGRESS" ? e.revision : e.kv.key))),
    [["/a/x", "/a/y"]],
  );
  assert.deepEqual(stopped.batches, []);
  assert.deepEqual(stopped.errors, []);
  mux.close();
});

test("after a stream failure watches resume after the last delivered revision, progress included", async () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  try {
    const { client, streams } = fakeEtcd();
    const mux = new WatchMux(client, { retryLimitMs: 30_000 });
    const rec = recorder();
    const fromNow = recorder();
    mux.watch(spec("/a/", 2), rec);
    mux.watch(spec("/n/"), fromNow);
    await flush();
    const first = streams[0]!;
    assert.equal(first.creates()[1]?.start_revision, undefined); // "from now"
    first.answer({ created: true, watch_id: "0", revision: 4 });
    first.answer({ created: true, watch_id: "1", revision: 4 });
    first.answer({ watch_id: "0", events: [put("/a/x", 3, 3), put("/a/y", 4, 4)], revision: 4 });
    first.answer({ watch_id: "0", revision: 6 }); // progress
    first.emit("error", new Error("14 UNAVAILABLE: Connection dropped"));
    mock.timers.tick(2_000);
    await flush();
    const second = streams[1]!;
    assert.deepEqual(
      second.creates().map((c) => c?.start_revision),
      [7, 5],
    );
    second.answer({ created: true, watch_id: "0", revision: 8 });
    second.answer({ created: true, watch_id: "1", revision: 8 });
    // An event the watch already had (as a replay would be) is dropped.
    second.answer({ watch_id: "0", events: [put("/a/y", 4, 4)], revision: 8 });
    second.answer({ watch_id: "0", events: [put("/a/z", 8, 8)], revision: 8 });
    const delivered = rec.batches.flat().map((e) => (e.type === "PROGRESS" ? `P${e.revision}` : e.kv.key));
    assert.deepEqual(delivered, ["/a/x", "/a/y", "P6", "/a/z"]);
    assert.deepEqual(rec.errors, []);
    mux.close();
  } finally {
    mock.timers.reset();
  }
});

test("watches end with Unavailable when etcd stays unreachable past the retry limit", async () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  try {
    const { client } = fakeEtcd({ fail: true });
    const mux = new WatchMux(client, { retryLimitMs: 5_000 });
    const rec = recorder();
    mux.watch(spec("/a/", 1), rec);
    for (let ms = 0; ms < 4_000; ms += 500) {
      await flush();
      mock.timers.tick(500);
    }
    await flush();
    assert.deepEqual(rec.errors, []); // still retrying
    for (let ms = 0; ms < 4_000 && rec.errors.length === 0; ms += 500) {
      mock.timers.tick(500);
      await flush();
    }
    assert.equal(rec.errors.length, 1);
    assert.ok(isStorageError(rec.errors[0], "Unavailable"));
    mux.close();
  } finally {
    mock.timers.reset();
  }
});

const shown = (rec: { batches: WatchEvent[][] }): string[] =>
  rec.batches.flat().map((e) => (e.type === "PROGRESS" ? `P${e.revision}` : e.kv.key));

const progressRequests = (stream: FakeStream): number =>
  stream.written.filter((w) => w.progress_request !== undefined).length;

test("requestProgress: one progress_request at a time; its -1 answer is PROGRESS for the watches created when it went out", async () => {
  const { client, streams } = fakeEtcd();
  const mux = new WatchMux(client, { retryLimitMs: 1000 });
  const a = recorder();
  const b = recorder();
  const late = recorder();
  const wa = mux.watch(spec("/a/", 5), a);
  const wb = mux.watch(spec("/b/", 5), b);
  await flush();
  const stream = streams[0]!;
  stream.answer({ created: true, watch_id: "0", revision: 5 });
  stream.answer({ created: true, watch_id: "1", revision: 5 });
  const wl = mux.watch(spec("/l/", 5), late);
  wl.requestProgress(); // still being created: not asked for yet
  assert.equal(progressRequests(stream), 0);
  wa.requestProgress();
  assert.deepEqual(stream.written.at(-1), { progress_request: {} });
  wa.requestProgress();
  wb.requestProgress();
  assert.equal(progressRequests(stream), 1, "one in flight at a time");
  stream.answer({ created: true, watch_id: "2", revision: 8 });
  assert.equal(progressRequests(stream), 1);

  stream.answer({ watch_id: "-1", revision: 9 });
  assert.deepEqual([shown(a), shown(b), shown(late)], [["P9"], ["P9"], []]);
  // Asked again while in flight (and the new watch's wish): the next request goes out.
  assert.equal(progressRequests(stream), 2);
  stream.answer({ watch_id: "-1", revision: 10 });
  assert.deepEqual([shown(a), shown(b), shown(late)], [["P9", "P10"], ["P9", "P10"], ["P10"]]);
  assert.equal(progressRequests(stream), 2, "nobody asked again");

  // A stopped watch gets nothing; an answer below a watch's last revision is not repeated.
  await wb.stop();
  stream.answer({ watch_id: "0", events: [put("/a/x", 12, 12)], revision: 12 });
  wa.requestProgress();
  stream.answer({ watch_id: "-1", revision: 11 });
  assert.deepEqual(
    [shown(a), shown(b), shown(late)],
    [
      ["P9", "P10", "/a/x"],
      ["P9", "P10"],
      ["P10", "P11"],
    ],
  );
  for (const rec of [a, b, late]) assert.deepEqual(rec.errors, []);
  mux.close();
});

test("requestProgress: a request lost with its stream is asked again once the watch is recreated", async () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  try {
    const { client, streams } = fakeEtcd();
    const mux = new WatchMux(client, { retryLimitMs: 30_000 });
    const rec = recorder();
    const w = mux.watch(spec("/a/", 5), rec);
    w.requestProgress(); // before the stream is even open
    await flush();
    const first = streams[0]!;
    assert.equal(progressRequests(first), 0);
    first.answer({ created: true, watch_id: "0", revision: 5 });
    assert.equal(progressRequests(first), 1);
    first.emit("error", new Error("14 UNAVAILABLE: Connection dropped"));
    mock.timers.tick(2_000);
    await flush();
    const second = streams[1]!;
    assert.equal(progressRequests(second), 0, "not before the watch is created again");
    second.answer({ created: true, watch_id: "0", revision: 7 });
    assert.equal(progressRequests(second), 1);
    second.answer({ watch_id: "-1", revision: 7 });
    assert.deepEqual(shown(rec), ["P7"]);
    assert.deepEqual(rec.errors, []);
    mux.close();
  } finally {
    mock.timers.reset();
  }
});

test("an event that an early progress answer overtook (etcd 3.4.23) is delivered late, not dropped", async () => {
  const { client, streams } = fakeEtcd();
  const mux = new WatchMux(client, { retryLimitMs: 1000 });
  const rec = recorder();
  const w = mux.watch(spec("/a/", 5), rec);
  await flush();
  const stream = streams[0]!;
  stream.answer({ created: true, watch_id: "0", revision: 9 }); // catching up from 6
  stream.answer({ watch_id: "0", events: [put("/a/x", 6, 6)], revision: 9 });
  w.requestProgress();
  stream.answer({ watch_id: "-1", revision: 9 });
  stream.answer({ watch_id: "0", events: [put("/a/x", 6, 6), put("/a/y", 8, 8)], revision: 9 });
  assert.deepEqual(shown(rec), ["/a/x", "P9", "/a/y"], "the replayed /a/x is still dropped");
  assert.deepEqual(rec.errors, []);
  mux.close();
});
