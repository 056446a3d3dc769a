import Database from "better-sqlite3";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test, type TestContext } from "node:test";
import { isStorageError, StorageError } from "../errors.ts";
import type { KeyValue, TxnResult, WatchEvent } from "../interface.ts";
import { SqliteBackend, type SqliteBackendOptions } from "./sqlite.backend.ts";

const b = (s: string): Buffer => Buffer.from(s);
const str = (v: Uint8Array): string => Buffer.from(v).toString();

async function tempPath(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "multiplane-sqlite-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, "state.db");
}

async function openTemp(
  t: TestContext,
  opts: SqliteBackendOptions = {},
): Promise<{ backend: SqliteBackend; path: string }> {
  const path = await tempPath(t);
  const backend = SqliteBackend.open(path, opts);
  t.after(() => backend.close());
  return { backend, path };
}

function ok(res: TxnResult): KeyValue {
  assert.ok(res.ok, `write failed; current: ${JSON.stringify(res.ok ? undefined : res.current)}`);
  return res.kv;
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A watch that records its events and its error. */
function recorder(): {
  events: WatchEvent[];
  batches: number;
  error: Error | undefined;
  handlers: { onEvents(evs: readonly WatchEvent[]): void; onError(err: Error): void };
} {
  const r = {
    events: [] as WatchEvent[],
    batches: 0,
    error: undefined as Error | undefined,
    handlers: {
      onEvents(evs: readonly WatchEvent[]): void {
        r.batches++;
        r.events.push(...evs);
      },
      onError(err: Error): void {
        assert.equal(r.error, undefined, "onError called twice");
        r.error = err;
      },
    },
  };
  return r;
}

/** A compact, comparable form of an event. */
function show(ev: WatchEvent): string {
  switch (ev.type) {
    case "ADDED":
      return `ADDED ${ev.kv.key}=${str(ev.kv.value)} @${ev.kv.modRevision} c${ev.kv.createRevision}`;
    case "MODIFIED":
      return (
        `MODIFIED ${ev.kv.key}=${str(ev.kv.value)} @${ev.kv.modRevision} c${ev.kv.createRevision}` +
        (ev.prev ? ` prev=${str(ev.prev.value)}@${ev.prev.modRevision}` : "")
      );
    case "DELETED":
      return `DELETED ${ev.kv.key}=${str(ev.kv.value)} @${ev.revision} last@${ev.kv.modRevision} c${ev.kv.createRevision}`;
    case "PROGRESS":
      return `PROGRESS @${ev.revision}`;
  }
}

void test("reopen keeps every value and the revision counter", async (t) => {
  const path = await tempPath(t);
  let backend = SqliteBackend.open(path);
  const a = ok(await backend.create("/t/a", b("a1")));
  ok(await backend.update("/t/a", b("a2"), a.modRevision));
  const bee = ok(await backend.create("/t/b", b("b1")));
  ok(await backend.create("/t/c", b("c1")));
  const del = await backend.delete("/t/b", bee.modRevision);
  assert.ok(del.ok);
  const rev = await backend.currentRevision();
  assert.equal(rev, 5);
  // Compacting at a tombstone removes the newest row: the counter must not go back.
  await backend.compact(rev);
  await backend.close();

  backend = SqliteBackend.open(path);
  t.after(() => backend.close());
  assert.equal(await backend.currentRevision(), rev);
  const got = await backend.get("/t/a");
  assert.equal(str(got.kv!.value), "a2");
  assert.deepEqual({ c: got.kv!.createRevision, m: got.kv!.modRevision }, { c: 1, m: 2 });
  assert.equal((await backend.get("/t/b")).kv, undefined);
  const list = await backend.range("/t/", "/t0", {});
  assert.deepEqual(
    list.kvs.map((kv) => `${kv.key}=${str(kv.value)}`),
    ["/t/a=a2", "/t/c=c1"],
  );
  assert.equal(list.revision, rev);
  const next = ok(await backend.create("/t/d", b("d1")));
  assert.equal(next.modRevision, rev + 1);
});

void test("group commit: 1000 concurrent mixed writes get exactly the results of a sequential run", async (t) => {
  const { backend } = await openTemp(t, { maxGroupOps: 97 });
  // A model of the store, run in issue order: the backend must evaluate writes in that order.
  const model = new Map<string, { value: string; create: number; mod: number }>();
  let modelRev = 0;
  // mulberry32: a seeded PRNG, so a failure reproduces.
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) % n;
  };
  type Expect = { ok: true; rev: number } | { ok: false; mod: number | undefined };
  const checks: Promise<void>[] = [];
  const tally = { ok: 0, conflict: 0, deleteRange: 0 };
  const issue = (i: number): void => {
    const key = `/g/k${String(rand(40)).padStart(2, "0")}`;
    const cur = model.get(key);
    const value = `v${i}`;
    const kind = rand(10);
    let expect: Expect;
    let call: Promise<TxnResult | { ok: true; kv: KeyValue; revision: number } | number>;
    if (kind < 4) {
      call = backend.create(key, b(value));
      if (cur) expect = { ok: false, mod: cur.mod };
      else {
        modelRev++;
        model.set(key, { value, create: modelRev, mod: modelRev });
        expect = { ok: true, rev: modelRev };
      }
    } else if (kind < 9) {
      // Mostly the right revision; sometimes a stale one, which must conflict.
      const guess = cur && rand(4) > 0 ? cur.mod : Math.max(1, (cur?.mod ?? 1) - 1 - rand(3));
      const isDelete = kind === 8;
      call = isDelete ? backend.delete(key, guess) : backend.update(key, b(value), guess);
      if (cur && cur.mod === guess) {
        modelRev++;
        if (isDelete) model.delete(key);
        else model.set(key, { value, create: cur.create, mod: modelRev });
        expect = { ok: true, rev: modelRev };
      } else {
        expect = { ok: false, mod: cur?.mod };
      }
    } else {
      // deleteRange of a small slice: one revision for all, none when nothing is there.
      const lo = `/g/k${rand(4)}`;
      const hi = `/g/k${rand(4) + 1}`;
      const doomed = [...model.keys()].filter((k) => k >= lo && k < hi);
      call = backend.deleteRange(lo, hi);
      tally.deleteRange++;
      if (doomed.length > 0) modelRev++;
      for (const k of doomed) model.delete(k);
      checks.push(
        call.then((n) => {
          assert.equal(n, doomed.length, `op ${i}: deleteRange count`);
        }),
      );
      return;
    }
    tally[expect.ok ? "ok" : "conflict"]++;
    checks.push(
      call.then((res) => {
        assert.ok(typeof res === "object");
        if (expect.ok) {
          assert.ok(res.ok, `op ${i} on ${key}: expected success`);
          const rev = "revision" in res ? res.revision : res.kv.modRevision;
          assert.equal(rev, expect.rev, `op ${i} on ${key}: revision`);
          if (!("revision" in res)) assert.equal(str(res.kv.value), value);
        } else {
          assert.ok(!res.ok, `op ${i} on ${key}: expected a conflict`);
          assert.equal(res.current?.modRevision, expect.mod, `op ${i} on ${key}: current`);
        }
      }),
    );
  };
  // Bursts: several groups per burst (maxGroupOps 97), some issued while others are queued.
  for (let i = 0; i < 1000; i++) {
    issue(i);
    if (i % 300 === 299) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(checks);
  // The mix really mixes: plenty of successes, conflicts (AlreadyExists, stale revisions) and range deletes.
  assert.ok(tally.ok > 200 && tally.conflict > 200 && tally.deleteRange > 50, JSON.stringify(tally));
  assert.equal(await backend.currentRevision(), modelRev);
  const all = await backend.range("/g/", "/g0", {});
  assert.deepEqual(
    all.kvs.map((kv) => [kv.key, str(kv.value), kv.createRevision, kv.modRevision]),
    [...model.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, v.value, v.create, v.mod]),
  );
});

void test("compaction keeps what reads at or after it see, and makes older revisions Gone", async (t) => {
  const { backend, path } = await openTemp(t, { compactBatchRows: 3 });
  const a = ok(await backend.create("/c/a", b("a1"))); // 1
  let am = a.modRevision;
  for (const v of ["a2", "a3", "a4"]) am = ok(await backend.update("/c/a", b(v), am)).modRevision; // 2..4
  const x = ok(await backend.create("/c/x", b("x1"))); // 5
  assert.ok((await backend.delete("/c/x", x.modRevision)).ok); // 6
  ok(await backend.create("/c/y", b("y1"))); // 7
  assert.equal(await backend.deleteRange("/c/y", "/c/z"), 1); // 8: tombstone at the compaction revision
  const z = ok(await backend.create("/c/z", b("z1"))); // 9
  const compactAt = 9;
  ok(await backend.update("/c/a", b("a5"), am)); // 10
  ok(await backend.update("/c/z", b("z2"), z.modRevision)); // 11

  await backend.compact(compactAt);

  assert.equal(str((await backend.get("/c/a")).kv!.value), "a5");
  assert.equal(str((await backend.get("/c/a", compactAt)).kv!.value), "a4");
  assert.equal((await backend.get("/c/x", compactAt)).kv, undefined);
  assert.equal((await backend.get("/c/y", compactAt)).kv, undefined);
  const at = await backend.range("/c/", "/c0", { revision: compactAt });
  assert.deepEqual(
    at.kvs.map((kv) => `${kv.key}=${str(kv.value)}@${kv.modRevision}`),
    ["/c/a=a4@4", "/c/z=z1@9"],
  );
  assert.equal(at.revision, compactAt);

  for (const read of [
    () => backend.get("/c/a", compactAt - 1),
    () => backend.range("/c/", "/c0", { revision: 2 }),
  ]) {
    await assert.rejects(read(), (err: unknown) => {
      assert.ok(isStorageError(err, "Gone"));
      assert.equal(err.details.goneReason, "TooOldResourceVersion");
      assert.equal(err.details.revision, compactAt);
      return true;
    });
  }

  // A watch from below the compacted revision ends with Gone, asynchronously.
  const old = recorder();
  backend.watch("/c/", "/c0", old.handlers, { afterRevision: compactAt - 1 });
  assert.equal(old.error, undefined, "onError must not run inside watch()");
  await waitFor("Gone", () => old.error !== undefined);
  assert.ok(isStorageError(old.error, "Gone"));
  assert.equal(old.events.length, 0);

  // From the compacted revision, every later event is there, prev values included.
  const fresh = recorder();
  const w = backend.watch("/c/", "/c0", fresh.handlers, { afterRevision: compactAt });
  await waitFor("catch-up", () => fresh.events.length === 2);
  await w.stop();
  assert.deepEqual(fresh.events.map(show), [
    "MODIFIED /c/a=a5 @10 c1 prev=a4@4",
    "MODIFIED /c/z=z2 @11 c9 prev=z1@9",
  ]);

  // Compacting at or below the compacted revision is a no-op; ahead of the store, an error.
  await backend.compact(3);
  await assert.rejects(backend.compact(1000), (err: unknown) => isStorageError(err, "InvalidArgument"));

  await backend.close();
  const raw = new Database(path, { readonly: true });
  try {
    const rows = raw.prepare("SELECT name, revision FROM kv ORDER BY revision").raw().all();
    // a@4 (latest at 9), z@9, then everything above 9. x and y (tombstones at or below 9) are gone.
    assert.deepEqual(rows, [
      ["/c/a", 4],
      ["/c/z", 9],
      ["/c/a", 10],
      ["/c/z", 11],
    ]);
  } finally {
    raw.close();
  }
  const reopened = SqliteBackend.open(path);
  t.after(() => reopened.close());
  await assert.rejects(reopened.get("/c/a", 5), (err: unknown) => isStorageError(err, "Gone"));
  assert.equal(await reopened.currentRevision(), 11);
});

void test("watch: catch-up from the table, then live events, in revision order, each once", async (t) => {
  const { backend } = await openTemp(t);
  const a = ok(await backend.create("/w/a", b("a1"))); // 1
  ok(await backend.create("/other/a", b("o1"))); // 2: outside the range
  const bee = ok(await backend.create("/w/b", b("b1"))); // 3
  const a2 = ok(await backend.update("/w/a", b("a2"), a.modRevision)); // 4

  const rec = recorder();
  const w = backend.watch("/w/", "/w0", rec.handlers, { afterRevision: 2 });
  assert.equal(rec.events.length, 0, "events must not be delivered inside watch()");

  // Issued in the same tick as the watch: live, after the catch-up.
  const writes = Promise.all([
    backend.update("/w/b", b("b2"), bee.modRevision), // 5
    backend.create("/other/b", b("o2")), // 6
    backend.delete("/w/a", a2.modRevision), // 7
    backend.create("/w/c", b("c1")), // 8
  ]);
  await writes;
  assert.equal(await backend.deleteRange("/w/", "/w0"), 2); // 9, for both b and c
  ok(await backend.create("/w/a", b("a3"))); // 10: a new life of a

  const expected = [
    "ADDED /w/b=b1 @3 c3",
    "MODIFIED /w/a=a2 @4 c1 prev=a1@1",
    "MODIFIED /w/b=b2 @5 c3 prev=b1@3",
    "DELETED /w/a=a2 @7 last@4 c1",
    "ADDED /w/c=c1 @8 c8",
    "DELETED /w/b=b2 @9 last@5 c3",
    "DELETED /w/c=c1 @9 last@8 c8",
    "ADDED /w/a=a3 @10 c10",
  ];
  await waitFor("all events", () => rec.events.length >= expected.length);
  await sleep(20); // nothing more may come: no duplicates
  assert.deepEqual(rec.events.map(show), expected);
  await w.stop();

  // The same history, read back entirely by a catch-up, is the same sequence.
  const replay = recorder();
  const w2 = backend.watch("/w/", "/w0", replay.handlers, { afterRevision: 2 });
  await waitFor("replay", () => replay.events.length >= expected.length);
  await w2.stop();
  assert.deepEqual(replay.events.map(show), expected);

  // From now on (no revision): only later events.
  const live = recorder();
  const w3 = backend.watch("/w/", "/w0", live.handlers, {});
  ok(await backend.create("/w/d", b("d1")));
  await waitFor("live", () => live.events.length === 1);
  await w3.stop();
  assert.deepEqual(live.events.map(show), ["ADDED /w/d=d1 @11 c11"]);
});

void test("watch: stop() ends delivery at once; progress only when caught up", async (t) => {
  const { backend } = await openTemp(t, { progressNotifyIntervalMs: 10 });
  ok(await backend.create("/p/a", b("a1")));
  const rec = recorder();
  const w = backend.watch("/p/", "/p0", rec.handlers, { afterRevision: 0, progressNotify: true });
  await waitFor("progress", () => rec.events.some((e) => e.type === "PROGRESS"));
  assert.deepEqual(rec.events[0], { type: "PROGRESS", revision: 1 });

  ok(await backend.create("/p/b", b("b1")));
  await waitFor("progress at 2", () => rec.events.some((e) => e.type === "PROGRESS" && e.revision === 2));
  const added = rec.events.findIndex((e) => e.type === "ADDED");
  const progress2 = rec.events.findIndex((e) => e.type === "PROGRESS" && e.revision === 2);
  assert.ok(added >= 0 && added < progress2, "progress must follow the events it covers");

  await w.stop();
  const seen = rec.events.length;
  const batches = rec.batches;
  ok(await backend.create("/p/c", b("c1")));
  await sleep(50);
  assert.equal(rec.events.length, seen);
  assert.equal(rec.batches, batches);
  assert.equal(rec.error, undefined);

  // A catch-up queued for delivery but stopped in the same tick is never delivered.
  const early = recorder();
  const w2 = backend.watch("/p/", "/p0", early.handlers, { afterRevision: 1, progressNotify: true });
  await w2.stop();
  await sleep(50);
  assert.equal(early.batches, 0);
  assert.equal(early.error, undefined);
  await w.stop(); // idempotent
});

void test("watch: requestProgress answers at the committed revision, behind undelivered events", async (t) => {
  const { backend } = await openTemp(t);
  ok(await backend.create("/q/a", b("a1")));
  // Registered first, so its callback runs while the other watch's events are still queued.
  const first = recorder();
  const rec = recorder();
  const asking = backend.watch(
    "/q/",
    "/q0",
    {
      onEvents: (evs) => {
        first.handlers.onEvents(evs);
        if (evs.some((e) => e.type === "ADDED" && e.kv.key === "/q/c")) w.requestProgress();
      },
      onError: (err) => first.handlers.onError(err),
    },
    { afterRevision: 1 },
  );
  const w = backend.watch("/q/", "/q0", rec.handlers, { afterRevision: 1 });
  t.after(async () => {
    await asking.stop();
    await w.stop();
  });

  // A write still in the group-commit queue is not covered: the PROGRESS is at the committed
  // revision and comes before that write's event. Calls in one tick are answered once.
  const queued = backend.create("/q/b", b("b1"));
  w.requestProgress();
  w.requestProgress();
  w.requestProgress();
  assert.deepEqual(rec.events, [], "never called back before requestProgress returns");
  ok(await queued);
  await waitFor("the event of /q/b", () => rec.events.length >= 2);
  assert.deepEqual(rec.events.map(show), ["PROGRESS @1", "ADDED /q/b=b1 @2 c2"]);

  // Asked (from another watch's callback) while this watch's event is still queued: behind it.
  ok(await backend.create("/q/c", b("c1")));
  await waitFor("progress at 3", () => rec.events.some((e) => e.type === "PROGRESS" && e.revision === 3));
  assert.deepEqual(rec.events.slice(2).map(show), ["ADDED /q/c=c1 @3 c3", "PROGRESS @3"]);

  // Writes elsewhere move the answer without any event under the prefix.
  ok(await backend.create("/elsewhere/x", b("x")));
  w.requestProgress();
  await waitFor("progress at 4", () => rec.events.some((e) => e.type === "PROGRESS" && e.revision === 4));
  assert.equal(rec.events.length, 5);

  // After stop(), nothing.
  await w.stop();
  w.requestProgress();
  await sleep(20);
  assert.equal(rec.events.length, 5);
  assert.equal(rec.error, undefined);
  assert.equal(first.error, undefined);
});

void test("reads: future revisions time out; the latest read reports the current revision", async (t) => {
  const { backend } = await openTemp(t);
  ok(await backend.create("/r/a", b("a1")));
  ok(await backend.create("/r/b", b("b1")));
  ok(await backend.create("/r/c", b("c1")));
  await assert.rejects(backend.get("/r/a", 4), (err: unknown) => {
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, "Timeout");
    assert.match(err.message, /Too large resource version: 4/);
    return true;
  });
  const page = await backend.range("/r/", "/r0", { limit: 2 });
  assert.deepEqual(
    page.kvs.map((kv) => kv.key),
    ["/r/a", "/r/b"],
  );
  assert.equal(page.count, 3);
  assert.equal(page.revision, 3);
  const rest = await backend.range("/r/b\u0000", "/r0", { limit: 2, revision: 2 });
  assert.deepEqual(rest, { kvs: [], count: 0, revision: 2 });
  assert.deepEqual(await backend.get("/r/zz"), { kv: undefined, revision: 3 });
});

void test("the file is locked: a second open fails with Unavailable until the first closes", async (t) => {
  const path = await tempPath(t);
  const first = SqliteBackend.open(path);
  assert.throws(
    () => SqliteBackend.open(path),
    (err: unknown) => isStorageError(err, "Unavailable") && /in use by another process/.test(err.message),
  );
  await first.close();
  const second = SqliteBackend.open(path);
  await second.close();
});

void test("close commits accepted writes, ends watches with Unavailable, then refuses calls", async (t) => {
  const path = await tempPath(t);
  const backend = SqliteBackend.open(path);
  const rec = recorder();
  backend.watch("/z/", "/z0", rec.handlers, {});
  const accepted = backend.create("/z/a", b("a1"));
  await backend.close();
  assert.ok((await accepted).ok);
  assert.equal(rec.events.length, 1, "events queued before close are delivered");
  assert.ok(isStorageError(rec.error, "Unavailable"));
  await assert.rejects(backend.create("/z/b", b("b1")), (err: unknown) => isStorageError(err, "Unavailable"));
  await assert.rejects(backend.get("/z/a"), (err: unknown) => isStorageError(err, "Unavailable"));
  await backend.close(); // idempotent

  const reopened = SqliteBackend.open(path);
  t.after(() => reopened.close());
  assert.equal(str((await reopened.get("/z/a")).kv!.value), "a1");
});
