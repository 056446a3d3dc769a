// The watch multiplexer against a scripted stream: the protocol cases etcd 3.4 does not
// produce on demand (a create answered created+canceled at once, fragments, a lost
// pairing) and the reconnect bookkeeping, with a fake clock for the backoff.

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
