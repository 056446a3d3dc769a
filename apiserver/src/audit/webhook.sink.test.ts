import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { IncomingMessage, ServerResponse } from "node:http";

import { generateCA, issueCertificate, type CertKeyPair } from "../server/pki.ts";
import type { AuditEvent, AuditEventList } from "./event.ts";
import type { AuditMetrics } from "./sink.ts";
import { WebhookSink, type WebhookSinkOptions } from "./webhook.sink.ts";

// ---------------------------------------------------------------------------------------
// A real HTTPS audit webhook: it answers each POST as `answer` says and keeps what it accepted.

type Answer = "ok" | "500" | "400" | "hang";

interface Webhook {
  url: string;
  port: number;
  /** Batches accepted (answered 2xx), in arrival order. */
  accepted: AuditEventList[];
  /** Every POST, whatever the answer. */
  posts: number;
  contentTypes: string[];
  answer: (n: number) => Answer;
  /** Answers the requests held by "hang" with 200 (accepting them). */
  release(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

let ca: CertKeyPair;
let serving: CertKeyPair;

before(async () => {
  ca = await generateCA("audit-test-ca");
  serving = await issueCertificate(ca, {
    commonName: "audit-webhook",
    hosts: ["127.0.0.1"],
    usage: "server",
  });
});

async function webhook(answer: (n: number) => Answer = () => "ok", port = 0): Promise<Webhook> {
  let server: Server | undefined;
  const held: { res: ServerResponse; list: AuditEventList }[] = [];
  const hook: Webhook = {
    url: "",
    port,
    accepted: [],
    posts: 0,
    contentTypes: [],
    answer,
    release() {
      for (const { res, list } of held.splice(0)) {
        hook.accepted.push(list);
        res.writeHead(200).end("{}");
      }
    },
    async stop() {
      if (server === undefined) return;
      const s = server;
      server = undefined;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      server = createServer(
        { key: serving.keyPem, cert: serving.certPem },
        (req, res) => void handle(req, res),
      );
      server.listen(hook.port, "127.0.0.1");
      await once(server, "listening");
      hook.port = (server.address() as AddressInfo).port;
      hook.url = `https://127.0.0.1:${hook.port}/audit`;
    },
  };
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const n = hook.posts++;
    hook.contentTypes.push(req.headers["content-type"] ?? "");
    const list = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AuditEventList;
    switch (hook.answer(n)) {
      case "ok":
        hook.accepted.push(list);
        res.writeHead(200).end("{}");
        return;
      case "500":
        res.writeHead(500).end("{}");
        return;
      case "400":
        res.writeHead(400).end("{}");
        return;
      case "hang":
        held.push({ res, list });
        return;
    }
  }
  await hook.start();
  return hook;
}

class Counters implements AuditMetrics {
  readonly errors: Record<string, number> = {};
  event(): void {}
  level(): void {}
  error(plugin: string, count: number): void {
    this.errors[plugin] = (this.errors[plugin] ?? 0) + count;
  }
}

const event = (i: number): AuditEvent => ({
  kind: "Event",
  apiVersion: "audit.k8s.io/v1",
  level: "Metadata",
  auditID: `id-${i}`,
  stage: "ResponseComplete",
  requestURI: `/api/v1/namespaces/default/pods/p${i}`,
  verb: "get",
  user: { username: "alice" },
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: "2026-11-23T13:00:00.000001Z",
  stageTimestamp: "2026-11-23T13:00:00.000201Z",
});

const ids = (hook: Webhook): string[] => hook.accepted.flatMap((l) => l.items.map((e) => e.auditID));
const range = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `id-${from + i}`);

function sink(hook: Webhook, counters: Counters, opts: Partial<WebhookSinkOptions> = {}): WebhookSink {
  return new WebhookSink({
    url: hook.url,
    ca: ca.certPem,
    maxBatchSize: 3,
    maxBatchWaitMs: 50,
    initialBackoffMs: 25,
    backoffFactor: 1.5,
    requestTimeoutMs: 2000,
    metrics: counters,
    ...opts,
  });
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---------------------------------------------------------------------------------------

describe("the webhook sink", () => {
  const hooks: Webhook[] = [];
  after(async () => {
    for (const h of hooks) await h.stop();
  });
  const make = async (answer?: (n: number) => Answer): Promise<Webhook> => {
    const h = await webhook(answer);
    hooks.push(h);
    return h;
  };

  test("full batches go at once, a partial one after maxBatchWait; EventLists in order over TLS", async () => {
    const hook = await make();
    const counters = new Counters();
    const s = sink(hook, counters);
    for (let i = 0; i < 7; i++) s.process([event(i)]);
    await until(() => ids(hook).length === 6);
    assert.deepEqual(
      hook.accepted.map((l) => l.items.length),
      [3, 3],
    );
    await until(() => ids(hook).length === 7); // the seventh waits for maxBatchWait
    assert.deepEqual(ids(hook), range(7));
    const list = hook.accepted[0]!;
    assert.equal(list.kind, "EventList");
    assert.equal(list.apiVersion, "audit.k8s.io/v1");
    assert.deepEqual(list.items[0], event(0));
    assert.ok(hook.contentTypes.every((c) => c === "application/json"));
    await s.close();
    assert.deepEqual(counters.errors, {});
  });

  test("a webhook answering 500 for a while loses nothing once it recovers within the retries", async () => {
    const hook = await make((n) => (n < 3 ? "500" : "ok"));
    const counters = new Counters();
    const s = sink(hook, counters, { maxAttempts: 5 });
    for (let i = 0; i < 6; i++) s.process([event(i)]);
    await until(() => ids(hook).length === 6);
    await s.close();
    assert.deepEqual(ids(hook), range(6));
    assert.ok(hook.posts >= 5, `posts: ${hook.posts}`);
    assert.deepEqual(counters.errors, {});
  });

  test("a webhook that is down (connection refused) and comes back loses nothing", async () => {
    const hook = await make();
    await hook.stop(); // the port is known, nothing listens on it
    const counters = new Counters();
    const s = sink(hook, counters, { maxAttempts: 6, initialBackoffMs: 40 });
    for (let i = 0; i < 5; i++) s.process([event(i)]);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(hook.posts, 0);
    await hook.start(); // same port
    await until(() => ids(hook).length === 5);
    await s.close();
    assert.deepEqual(ids(hook), range(5));
    assert.deepEqual(counters.errors, {});
  });

  test("a small buffer drops and counts while process() stays non-blocking; the rest arrives", async () => {
    const hook = await make(() => "hang");
    const counters = new Counters();
    const s = sink(hook, counters, { bufferSize: 5, maxBatchSize: 5 });
    const started = performance.now();
    for (let i = 0; i < 100; i++) s.process([event(i)]);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 100, `100 process() calls took ${elapsed} ms`);
    // Five in flight (held by the webhook), five buffered, ninety dropped.
    assert.deepEqual(counters.errors, { buffered: 90 });
    assert.equal(s.buffered, 5);
    await until(() => hook.posts === 1);
    hook.answer = () => "ok";
    hook.release();
    await s.close();
    assert.deepEqual(ids(hook), range(10));
    assert.deepEqual(counters.errors, { buffered: 90 });
  });

  test("a batch that exhausts its retries is counted under plugin webhook; a 400 is not retried", async () => {
    const failing = await make(() => "500");
    const c1 = new Counters();
    const s1 = sink(failing, c1, { maxAttempts: 3 });
    s1.process([event(0), event(1)]);
    await s1.close();
    assert.equal(failing.posts, 3);
    assert.deepEqual(c1.errors, { webhook: 2 });

    const refusing = await make(() => "400");
    const c2 = new Counters();
    const s2 = sink(refusing, c2, { maxAttempts: 5 });
    s2.process([event(0)]);
    await s2.close();
    assert.equal(refusing.posts, 1);
    assert.deepEqual(c2.errors, { webhook: 1 });
  });

  test("close() keeps its deadline against a webhook that never answers, and counts what it lost", async () => {
    const hook = await make(() => "hang");
    const counters = new Counters();
    const s = sink(hook, counters, { closeTimeoutMs: 200, maxBatchSize: 2 });
    for (let i = 0; i < 5; i++) s.process([event(i)]);
    const started = performance.now();
    await s.close();
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 1500, `close took ${elapsed} ms`);
    assert.deepEqual(counters.errors, { webhook: 5 });
    s.process([event(9)]); // after close: counted, not sent
    assert.deepEqual(counters.errors, { webhook: 5, buffered: 1 });
  });
});
