// kill -9 in the middle of a stream of writes: every write the child saw acknowledged must be
// in the file when it is opened again, and the revision counter must carry on from there.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { SqliteBackend } from "./sqlite.backend.ts";

const repoRoot = join(import.meta.dirname, "../../../..");
const fixture = join(import.meta.dirname, "crash-writer.fixture.ts");

/** Runs the writer until `acks` acknowledgements or 1 s after the first, SIGKILLs it, returns every ack it printed. */
async function writeAndKill(path: string, run: string, acks: number): Promise<Map<string, number>> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, path, run], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let lines = 0;
  let killed = false;
  const kill = (): void => {
    if (killed) return;
    killed = true;
    child.kill("SIGKILL");
  };
  let timer: NodeJS.Timeout | undefined;
  const safety = setTimeout(kill, 60_000);
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    lines += chunk.split("\n").length - 1;
    timer ??= setTimeout(kill, 1000);
    if (lines >= acks) kill();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on("close", (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  clearTimeout(safety);
  assert.equal(signal, "SIGKILL", `the writer ended by itself (code ${code}): ${err}`);

  const acked = new Map<string, number>();
  // Only whole lines: a line is printed after its ack, in one write.
  for (const line of out.split("\n").slice(0, -1)) {
    const [key, rev] = line.split(" ");
    assert.ok(key !== undefined && rev !== undefined, `bad line ${JSON.stringify(line)}`);
    acked.set(key, Number(rev));
  }
  return acked;
}

void test("every acknowledged write survives kill -9, three times over on one file", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "multiplane-crash-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "state.db");
  const survivors = new Map<string, number>();
  let lastRevision = 0;

  for (const [round, acks] of [300, 600, 900].entries()) {
    const acked = await writeAndKill(path, `run${round}`, acks);
    assert.ok(acked.size >= 100, `round ${round}: only ${acked.size} acks before the kill`);
    for (const [key, rev] of acked) survivors.set(key, rev);

    const backend = SqliteBackend.open(path);
    try {
      for (const [key, rev] of survivors) {
        const { kv } = await backend.get(key);
        assert.ok(kv !== undefined, `round ${round}: acknowledged ${key} is missing`);
        assert.equal(Buffer.from(kv.value).toString(), `value of ${key}`);
        assert.equal(kv.modRevision, rev, `round ${round}: ${key}'s revision`);
      }
      const current = await backend.currentRevision();
      const committed = await backend.range(`/crash/run${round}/`, `/crash/run${round}0`, { limit: 1 });
      assert.ok(committed.count >= acked.size);
      t.diagnostic(
        `round ${round}: ${acked.size} acknowledged, ${committed.count} committed; revision ${current}`,
      );
      const maxAcked = Math.max(...acked.values());
      assert.ok(
        current >= maxAcked,
        `round ${round}: current revision ${current} < acknowledged ${maxAcked}`,
      );
      assert.ok(current > lastRevision, `round ${round}: revision went from ${lastRevision} to ${current}`);
      const after = `/crash/after-${round}`;
      const res = await backend.create(after, Buffer.from(`value of ${after}`));
      assert.ok(res.ok);
      assert.equal(res.kv.modRevision, current + 1);
      survivors.set(after, res.kv.modRevision);
      lastRevision = res.kv.modRevision;
    } finally {
      await backend.close();
    }
  }
});
