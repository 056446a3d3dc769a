// What is particular to the etcd backend, against a real etcd child process: Gone with the
// compacted revision, watches that ride out an etcd restart, deadlines on a dead or silent
// etcd, progress notifications and the multiplexed watch stream. The conformance suite
// covers the rest through Store. Fails (never skips) when /usr/bin/etcd is missing.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { startEtcdProcess, type EtcdProcess } from "../../../../test/support/etcd-process.ts";
import { isStorageError, type StorageError } from "../errors.ts";
import type { WatchEvent, WatchHandlers } from "../interface.ts";
import { EtcdBackend } from "./etcd.backend.ts";

const bytes = (s: string): Buffer => Buffer.from(s);

async function waitFor(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Retries `op` while etcd is still coming back (Unavailable), for up to 10 s. */
async function whenAvailable<T>(op: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!isStorageError(err, "Unavailable") || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A watch's deliveries, as the assertions read them. */
function recorder(): WatchHandlers & { events: WatchEvent[]; errors: Error[] } {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  return { events, errors, onEvents: (batch) => events.push(...batch), onError: (err) => errors.push(err) };
}

/** type, key and revision of the non-progress events: what "each once, in order" is about. */
function summary(events: readonly WatchEvent[]): string[] {
  const out: string[] = [];
  for (const ev of events) {
    if (ev.type === "PROGRESS") continue;
    const revision = ev.type === "DELETED" ? ev.revision : ev.kv.modRevision;
    out.push(`${ev.type} ${ev.kv.key} @${revision}`);
  }
  return out;
}

async function elapsedFailure(op: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const start = Date.now();
  try {
    await op();
  } catch (err) {
    return { err, ms: Date.now() - start };
  }
  throw new Error("expected the operation to fail");
}

// One etcd for the tests that do not kill it; 1 s progress notifications for the PROGRESS test.
let shared: EtcdProcess;
let backend: EtcdBackend;

before(async () => {
  shared = await startEtcdProcess({ progressNotifyInterval: "1s" });
  backend = new EtcdBackend({ endpoints: [shared.endpoint], requestTimeoutMs: 5_000 });
});

after(async () => {
  await backend.close();
  await shared.destroy();
});

test(
  "a watch from a compacted revision ends with Gone carrying the compacted revision",
  { timeout: 30_000 },
  async () => {
    const first = await backend.create("/compact/a", bytes("1"));
    assert.ok(first.ok);
    const second = await backend.update("/compact/a", bytes("2"), first.kv.modRevision);
    assert.ok(second.ok);
    await backend.create("/compact/b", bytes("b"));
    const compactAt = await backend.currentRevision();
    await backend.compact(compactAt);
    await backend.compact(compactAt - 1); // already compacted: a no-op

    const rec = recorder();
    backend.watch("/compact/", "/compact0", rec, { afterRevision: first.kv.modRevision });
    await waitFor("the watch to end", () => rec.errors.length > 0);
    assert.equal(rec.events.length, 0);
    const err = rec.errors[0] as StorageError;
    assert.ok(isStorageError(err, "Gone"), String(err));
    assert.equal(err.details.revision, compactAt);
    assert.equal(err.details.goneReason, "TooOldResourceVersion");

    // A read at a compacted revision: Gone with the same compacted revision.
    await assert.rejects(backend.get("/compact/a", first.kv.modRevision), (e: unknown) => {
      assert.ok(isStorageError(e, "Gone"), String(e));
      assert.equal(e.details.revision, compactAt);
      return true;
    });
    // A read in the future: kube's "Too large resource version" (Timeout).
    await assert.rejects(backend.get("/compact/a", compactAt + 1000), (e: unknown) =>
      isStorageError(e, "Timeout"),
    );
    // The watch from the compacted revision itself still works.
    const live = recorder();
    const watch = backend.watch("/compact/", "/compact0", live, { afterRevision: compactAt });
    const third = await backend.update("/compact/a", bytes("3"), second.kv.modRevision);
    assert.ok(third.ok);
    await waitFor("the event after compaction", () => live.events.length > 0);
    assert.deepEqual(summary(live.events), [`MODIFIED /compact/a @${third.kv.modRevision}`]);
    await watch.stop();
  },
);

test(
  "a watch survives an etcd restart and delivers every event once, in order",
  { timeout: 60_000 },
  async () => {
    const etcd = await startEtcdProcess();
    const client = new EtcdBackend({ endpoints: [etcd.endpoint], requestTimeoutMs: 2_000 });
    try {
      const start = await client.currentRevision();
      const rec = recorder();
      const watch = client.watch("/restart/", "/restart0", rec, {
        afterRevision: start,
        progressNotify: true,
      });
      const expected: string[] = [];
      // Creates, some updates and deletes, each recorded with the revision etcd gave it.
      const writes = async (from: number, to: number): Promise<void> => {
        for (let i = from; i < to; i++) {
          const key = `/restart/k${String(i).padStart(3, "0")}`;
          const created = await whenAvailable(() => client.create(key, bytes(`v${i}`)));
          assert.ok(created.ok);
          expected.push(`ADDED ${key} @${created.kv.modRevision}`);
          if (i % 3 === 0) {
            const updated = await client.update(key, bytes(`w${i}`), created.kv.modRevision);
            assert.ok(updated.ok);
            expected.push(`MODIFIED ${key} @${updated.kv.modRevision}`);
            if (i % 2 === 0) {
              const deleted = await client.delete(key, updated.kv.modRevision);
              assert.ok(deleted.ok);
              expected.push(`DELETED ${key} @${deleted.revision}`);
            }
          }
        }
      };
      await writes(0, 30);
      // Kill without waiting for the watch to catch up, and stay down long enough for the watch
      // to be backing off when etcd is back: the writes below land before it reconnects, so it
      // must replay them from its last revision.
      await etcd.kill();
      await new Promise((r) => setTimeout(r, 1_500));
      await etcd.start();
      await writes(30, 60);
      await waitFor("every event", () => summary(rec.events).length >= expected.length);
      await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
      assert.deepEqual(rec.errors, []);
      assert.deepEqual(summary(rec.events), expected);
      await watch.stop();
    } finally {
      await client.close();
      await etcd.destroy();
    }
  },
);

test("requests to a dead or silent etcd fail within the deadline", { timeout: 30_000 }, async () => {
  const timeoutMs = 1_000;
  const slack = 700;
  const etcd = await startEtcdProcess();
  const client = new EtcdBackend({
    endpoints: [etcd.endpoint],
    requestTimeoutMs: timeoutMs,
    watchRetryLimitMs: 1_500,
  });
  try {
    const created = await client.create("/dead/a", bytes("a"));
    assert.ok(created.ok);
    const rec = recorder();
    client.watch("/dead/", "/dead0", rec, { afterRevision: created.kv.modRevision });
    await etcd.kill();
    const ops: Array<() => Promise<unknown>> = [
      () => client.get("/dead/a"),
      () => client.create("/dead/b", bytes("b")),
      () => client.update("/dead/a", bytes("x"), created.kv.modRevision),
      () => client.range("/dead/", "/dead0", {}),
      () => client.currentRevision(),
    ];
    for (const op of ops) {
      const { err, ms } = await elapsedFailure(op);
      assert.ok(isStorageError(err, "Unavailable") || isStorageError(err, "Timeout"), String(err));
      assert.ok(ms < timeoutMs + slack, `failed after ${ms} ms`);
    }
    // The watch gives up once etcd stays away for longer than watchRetryLimitMs.
    await waitFor("the watch to give up", () => rec.errors.length > 0, 10_000);
    assert.ok(isStorageError(rec.errors[0], "Unavailable"), String(rec.errors[0]));
  } finally {
    await client.close();
    await etcd.destroy();
  }

  // A peer that accepts connections and never answers: the deadline, not a hang.
  const sockets = new Set<Socket>();
  const silent: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const address = silent.address();
  assert.ok(address !== null && typeof address === "object");
  const stuck = new EtcdBackend({
    endpoints: [`http://127.0.0.1:${address.port}`],
    requestTimeoutMs: timeoutMs,
  });
  try {
    const { err, ms } = await elapsedFailure(() => stuck.get("/silent/a"));
    assert.ok(isStorageError(err, "Timeout"), String(err));
    assert.ok(ms >= timeoutMs - 50 && ms < timeoutMs + slack, `failed after ${ms} ms`);
  } finally {
    await stuck.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test("progress notifications arrive as PROGRESS at etcd's revision", { timeout: 30_000 }, async () => {
  const created = await backend.create("/progress/a", bytes("a"));
  assert.ok(created.ok);
  const rec = recorder();
  const watch = backend.watch("/progress/", "/progress0", rec, {
    afterRevision: created.kv.modRevision,
    progressNotify: true,
  });
  // etcd runs with --experimental-watch-progress-notify-interval=1s.
  await waitFor("a progress notification", () => rec.events.some((e) => e.type === "PROGRESS"), 5_000);
  await watch.stop();
  const progress = rec.events.find((e) => e.type === "PROGRESS");
  assert.ok(progress?.type === "PROGRESS");
  assert.ok(progress.revision >= created.kv.modRevision);
  assert.ok(progress.revision <= (await backend.currentRevision()));
});

test(
  "many watches share the stream; each sees its own keys; none calls back after stop",
  { timeout: 30_000 },
  async () => {
    const start = await backend.currentRevision();
    const n = 12;
    const recs = Array.from({ length: n }, () => recorder());
    const watches = recs.map((rec, i) =>
      backend.watch(`/mux/${i}/`, `/mux/${i}0`, rec, { afterRevision: start }),
    );
    // Stopped before etcd even answered the create: cancelled when the answer comes.
    await watches[0]?.stop();
    const revisions: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await backend.create(`/mux/${i}/obj`, bytes(String(i)));
      assert.ok(res.ok);
      revisions.push(res.kv.modRevision);
    }
    await waitFor("every live watch", () => recs.slice(1).every((rec) => rec.events.length > 0));
    for (let i = 1; i < n; i++) {
      assert.deepEqual(summary(recs[i]?.events ?? []), [`ADDED /mux/${i}/obj @${revisions[i]}`]);
    }
    // Stop the odd ones, then write under every prefix: only the even ones may hear of it.
    for (let i = 1; i < n; i += 2) await watches[i]?.stop();
    for (let i = 0; i < n; i++) await backend.deleteRange(`/mux/${i}/`, `/mux/${i}0`);
    await waitFor("the even watches", () =>
      recs.every((rec, i) => i === 0 || i % 2 === 1 || rec.events.length === 2),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(recs[0]?.events.length, 0);
    for (let i = 1; i < n; i++) {
      assert.equal(recs[i]?.events.length, i % 2 === 1 ? 1 : 2, `watch ${i}`);
      assert.deepEqual(recs[i]?.errors, []);
    }
    await Promise.all(watches.map((w) => w.stop()));
  },
);
