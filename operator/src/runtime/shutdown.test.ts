// onShutdownSignal: the first signal runs the shutdown once and exits 0 (1 when it fails);
// a second signal exits at once.

import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import { onShutdownSignal } from "./shutdown.ts";

const log = pino({ level: "silent" });

test("the first signal shuts down, then exits 0; a second one exits 1 at once", async () => {
  const exits: number[] = [];
  let release!: () => void;
  let shutdowns = 0;
  const remove = onShutdownSignal(
    () => {
      shutdowns++;
      return new Promise<void>((r) => (release = r));
    },
    log,
    { signals: ["SIGUSR2"], exit: (code) => exits.push(code) },
  );
  try {
    process.emit("SIGUSR2", "SIGUSR2");
    assert.equal(shutdowns, 1);
    assert.deepEqual(exits, [], "no exit while the shutdown runs");
    process.emit("SIGUSR2", "SIGUSR2");
    assert.equal(shutdowns, 1, "the shutdown runs once");
    assert.deepEqual(exits, [1], "the second signal exits at once");
    release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(exits, [1, 0]);
  } finally {
    remove();
  }
});

test("a failed shutdown exits 1", async () => {
  const exits: number[] = [];
  const remove = onShutdownSignal(() => Promise.reject(new Error("stuck")), log, {
    signals: ["SIGUSR2"],
    exit: (code) => exits.push(code),
  });
  try {
    process.emit("SIGUSR2", "SIGUSR2");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(exits, [1]);
  } finally {
    remove();
  }
  assert.equal(process.listenerCount("SIGUSR2"), 0, "the handlers are removed");
});
