// The storage conformance suite against the embedded SQLite engine, on a file in a temp dir.
//
// The engine allows one opener per file, so the harness hands out one shared Storage
// (maxClients 1: the concurrency cases use one instance with many promises in flight).
// Restart closes the file and opens it again: Storage instances from before are closed by it
// and the suite opens again (clientsSurviveRestart false).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe } from "node:test";
import { SqliteBackend } from "../embedded/sqlite.backend.ts";
import type { Storage } from "../interface.ts";
import { Store } from "../store.ts";
import { storageConformance } from "./suite.ts";

// Short, so the PROGRESS case does not wait for the 5 s default.
const progressIntervalMs = 250;

void describe("embedded backend", () => {
  let dir: string | undefined;
  let current: Storage | undefined;
  const file = (): string => {
    if (dir === undefined) throw new Error("no temp dir (see the before hook's error)");
    return path.join(dir, "storage.db");
  };
  // The same as openStorage({ kind: "embedded", path }), with a shorter progress interval.
  const openFile = (): Storage =>
    new Store(SqliteBackend.open(file(), { progressNotifyIntervalMs: progressIntervalMs }));

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "multiplane-conformance-"));
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  storageConformance("embedded", {
    open: () => {
      current ??= openFile();
      return Promise.resolve(current);
    },
    restart: async () => {
      const old = current;
      current = undefined;
      await old?.close();
      current = openFile();
    },
    clientsSurviveRestart: false,
    maxClients: 1,
    progressIntervalMs,
    cleanup: async () => {
      const old = current;
      current = undefined;
      await old?.close();
    },
  });
});
