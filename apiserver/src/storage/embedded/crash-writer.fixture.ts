// The child process of crash.test.ts: creates keys as fast as it can, 32 in flight, and prints
// "<key> <revision>" for each create once it was acknowledged (its promise resolved, so its group
// committed), until the test kills it with SIGKILL mid-stream.
//
//   node --import tsx crash-writer.fixture.ts <db path> <run id>

import { Buffer } from "node:buffer";
import { SqliteBackend } from "./sqlite.backend.ts";

const [path, run] = process.argv.slice(2);
if (path === undefined || run === undefined)
  throw new Error("usage: crash-writer.fixture.ts <db path> <run id>");

const backend = SqliteBackend.open(path);
let next = 0;

async function writer(): Promise<void> {
  for (;;) {
    const key = `/crash/${run}/${String(next++).padStart(8, "0")}`;
    const res = await backend.create(key, Buffer.from(`value of ${key}`));
    if (!res.ok) throw new Error(`create ${key} failed: it exists`);
    // On Linux a write to a pipe is synchronous: the line is out before the next create starts.
    process.stdout.write(`${key} ${res.kv.modRevision}\n`);
  }
}

await Promise.all(Array.from({ length: 32 }, writer));
