import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import type { AuditEvent } from "./event.ts";
import { logSink } from "./log.sink.ts";

const dir = await mkdtemp(join(tmpdir(), "multiplane-audit-log-"));
after(() => rm(dir, { recursive: true, force: true }));

const event = (i: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  kind: "Event",
  apiVersion: "audit.k8s.io/v1",
  level: "Metadata",
  auditID: `id-${i}`,
  stage: "ResponseComplete",
  requestURI: `/api/v1/namespaces/default/configmaps/c${i}`,
  verb: "get",
  user: { username: "alice", groups: ["system:authenticated"] },
  sourceIPs: ["10.0.0.1"],
  objectRef: { resource: "configmaps", namespace: "default", name: `c${i}`, apiVersion: "v1" },
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: "2026-11-23T13:00:00.000001Z",
  stageTimestamp: "2026-11-23T13:00:00.000201Z",
  annotations: { "multiplane.dev/tenant": "acme" },
  ...extra,
});

test("one JSON line per event, the event itself and nothing else, in kube's key order", async () => {
  const path = join(dir, "nested", "audit.log"); // the directory is created
  const sink = logSink({ path });
  const events = Array.from({ length: 500 }, (_, i) => event(i));
  events.push(
    event(500, { level: "RequestResponse", requestObject: { msg: "a field pino must not eat", level: 3 } }),
  );
  for (let i = 0; i < events.length; i += 50) sink.process(events.slice(i, i + 50));
  await sink.close();

  const lines = (await readFile(path, "utf8")).split("\n");
  assert.equal(lines.pop(), ""); // the file ends with a newline
  assert.equal(lines.length, events.length);
  const parsed = lines.map((l) => JSON.parse(l) as AuditEvent);
  assert.deepEqual(parsed, events);
  assert.deepEqual(Object.keys(parsed[0]!), Object.keys(events[0]!));
  assert.ok(lines[0]!.startsWith('{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",'));
});

test("events after close are counted as errors of the log plugin, not written", async () => {
  const path = join(dir, "closed.log");
  const errors: Record<string, number> = {};
  const sink = logSink({
    path,
    metrics: {
      event: () => {},
      level: () => {},
      error: (plugin, n) => {
        errors[plugin] = (errors[plugin] ?? 0) + n;
      },
    },
  });
  sink.process([event(1)]);
  await sink.close();
  sink.process([event(2), event(3)]);
  await sink.close(); // idempotent
  assert.deepEqual(errors, { log: 2 });
  const lines = (await readFile(path, "utf8")).trim().split("\n");
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as AuditEvent).auditID),
    ["id-1"],
  );
});

test("lines are gathered for flushIntervalMs, then written without waiting for close", async () => {
  const path = join(dir, "interval.log");
  const sink = logSink({ path, flushIntervalMs: 20 });
  sink.process([event(1)]);
  sink.process([event(2)]);
  const deadline = Date.now() + 5000;
  let text = "";
  while (Date.now() < deadline) {
    text = await readFile(path, "utf8").catch(() => "");
    if (text.split("\n").length > 2) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(
    text
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as AuditEvent).auditID),
    ["id-1", "id-2"],
  );
  sink.process([event(3)]);
  await sink.close(); // what is gathered is written on close
  assert.equal((await readFile(path, "utf8")).trim().split("\n").length, 3);
});
