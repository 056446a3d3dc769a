// The router against a fake shard (an HTTPS server that records what it is sent and answers
// when told to): what the shard receives, chunks streamed before the response ends, and the
// per-tenant in-flight limit with watches exempt.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, request, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { after, before, test } from "node:test";
import pino from "pino";
import { JwtKeySet } from "../authn/jwt-keys.ts";
import { buildRouterAuthenticator } from "./authentication.ts";
import { ensureRouterPKI, type RouterPKI } from "./router-pki.ts";
import { startRouter, type RunningRouter } from "./router.ts";
import { StaticTenantDirectory, tenantList } from "./tenant-directory.ts";

interface Seen {
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly clientCN: string;
}

let dir: string;
let pki: RouterPKI;
let shard: Server;
let router: RunningRouter;
const seen: Seen[] = [];
/** Requests the fake shard holds open, answered when the test says. */
const held: ServerResponse[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "router-test-"));
  pki = await ensureRouterPKI(join(dir, "pki"), ["127.0.0.1"]);
  shard = createServer(
    { key: pki.serving.keyPem, cert: pki.serving.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push({ url: req.url ?? "", headers: req.headers, clientCN: String(peer.subject?.CN ?? "") });
      if (req.url?.includes("watch=1")) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write('{"type":"ADDED"}\n');
        held.push(res);
      } else if (req.url?.includes("/hold")) {
        held.push(res);
      } else {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end("{}");
      }
    },
  );
  await new Promise<void>((r) => shard.listen(0, "127.0.0.1", r));
  const address = shard.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  router = await startRouter({
    host: "127.0.0.1",
    port: 0,
    serving: pki.serving,
    clientCAPem: pki.caPem,
    directory: new StaticTenantDirectory(
      tenantList([
        { name: "root", uid: "root" },
        { name: "a", uid: "uid-a" },
        { name: "b", uid: "uid-b" },
      ]),
      { name: "s", url: `https://127.0.0.1:${port}` },
    ),
    authenticator: buildRouterAuthenticator({
      tokens: new Map([["tok", { name: "tina", uid: "", groups: ["g"], extra: {} }]]),
      issuer: { url: "https://issuer.invalid", keys: await JwtKeySet.load(join(dir, "jwt")) },
      clientCAs: [],
    }),
    upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
    fairness: { maxInflight: 1, maxQueued: 1 },
    log: pino({ level: "silent" }),
  });
});
after(async () => {
  for (const r of held) r.destroy();
  await router?.close();
  await new Promise<void>((r) => shard.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

/** Sends a request to the router; resolves with the response once its headers arrive. */
function send(path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: router.port, path, ca: pki.caPem, headers }, resolve);
    req.on("error", reject);
    req.end();
  });
}

const bodyOf = (res: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let body = "";
    res.on("data", (c: Buffer) => (body += c.toString()));
    res.on("end", () => resolve(body));
  });

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

test("the shard gets the tenant path, the router's certificate and its identity headers only", async () => {
  const res = await send("/clusters/a/api/v1/pods?limit=1", {
    Authorization: "Bearer tok",
    "X-Remote-User": "admin",
    "X-Remote-Group": "system:masters",
  });
  assert.equal(res.statusCode, 200);
  await bodyOf(res);
  const got = seen.at(-1)!;
  assert.equal(got.url, "/clusters/a/api/v1/pods?limit=1");
  assert.equal(got.clientCN, "multiplane-router");
  assert.equal(got.headers["x-remote-user"], "tina");
  assert.equal(got.headers["x-remote-group"], "g, system:authenticated");
  assert.equal(got.headers["authorization"], undefined);
  assert.equal(got.headers["x-forwarded-for"], "127.0.0.1");
});

test("a token the router does not know goes to the shard untouched", async () => {
  await bodyOf(await send("/api", { Authorization: "Bearer not-mine", "X-Remote-User": "admin" }));
  const got = seen.at(-1)!;
  assert.equal(got.url, "/clusters/root/api");
  assert.equal(got.headers["authorization"], "Bearer not-mine");
  assert.equal(got.headers["x-remote-user"], undefined);
});

test("a watch's events reach the client before the response ends", async () => {
  const res = await send("/clusters/a/api/v1/configmaps?watch=1", { Authorization: "Bearer tok" });
  assert.equal(res.statusCode, 200);
  const first = await new Promise<string>((r) => res.once("data", (c: Buffer) => r(c.toString())));
  assert.equal(first, '{"type":"ADDED"}\n');
  res.destroy();
  await until(() => router.upstreamRequests() === 0);
  for (const r of held.splice(0)) r.destroy();
});

test("past a tenant's in-flight limit and queue: 429; watches and other tenants still pass", async () => {
  const before = seen.length;
  const first = send("/clusters/a/hold/1", { Authorization: "Bearer tok" });
  await until(() => held.length === 1);
  const queued = send("/clusters/a/hold/2", { Authorization: "Bearer tok" });
  // The second waits in the router's queue; it has not reached the shard.
  await until(() => router.fairnessLoad("a").queued === 1);
  assert.deepEqual(router.fairnessLoad("a"), { inflight: 1, queued: 1 });
  assert.equal(seen.length, before + 1);
  const refused = await send("/clusters/a/api", { Authorization: "Bearer tok" });
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.headers["retry-after"], "1");
  const status = JSON.parse(await bodyOf(refused)) as { reason: string; code: number };
  assert.equal(status.reason, "TooManyRequests");
  // A watch of the same tenant is not held back, nor is another tenant.
  const watch = await send("/clusters/a/api/v1/configmaps?watch=1", { Authorization: "Bearer tok" });
  assert.equal(watch.statusCode, 200);
  watch.destroy();
  const other = await send("/clusters/b/api", { Authorization: "Bearer tok" });
  assert.equal(other.statusCode, 200);
  await bodyOf(other);
  // Releasing the first lets the queued one through.
  const answer = (r: ServerResponse) => {
    r.writeHead(200);
    r.end("held");
  };
  answer(held.shift()!);
  assert.equal(await bodyOf(await first), "held");
  await until(() => held.some((r) => !r.headersSent));
  for (const r of held.splice(0)) {
    if (r.headersSent) r.destroy();
    else answer(r);
  }
  assert.equal(await bodyOf(await queued), "held");
  assert.deepEqual(router.fairnessLoad("a"), { inflight: 0, queued: 0 });
});

test("the total limit is per shard: a busy shard's line holds no request of another shard", async () => {
  // A second fake shard that answers at once.
  const shard2 = createServer({ key: pki.serving.keyPem, cert: pki.serving.certPem }, (_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end("{}");
  });
  await new Promise<void>((r) => shard2.listen(0, "127.0.0.1", r));
  const port = (server: Server): number => {
    const address = server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  };
  const perShard = await startRouter({
    host: "127.0.0.1",
    port: 0,
    serving: pki.serving,
    clientCAPem: pki.caPem,
    directory: new StaticTenantDirectory(
      tenantList([
        { name: "a", uid: "uid-a" },
        { name: "b", uid: "uid-b" },
        { name: "c", uid: "uid-c" },
      ]),
      new Map([
        ["s1", `https://127.0.0.1:${port(shard)}`],
        ["s2", `https://127.0.0.1:${port(shard2)}`],
      ]),
      (tenant) => (tenant === "b" ? "s2" : "s1"),
    ),
    authenticator: buildRouterAuthenticator({
      tokens: new Map([["tok", { name: "tina", uid: "", groups: ["g"], extra: {} }]]),
      issuer: { url: "https://issuer.invalid", keys: await JwtKeySet.load(join(dir, "jwt")) },
      clientCAs: [],
    }),
    upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
    fairness: { maxInflight: 5, maxTotalInflight: 1 },
    log: pino({ level: "silent" }),
  });
  const sendTo = (path: string): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: perShard.port,
          path,
          ca: pki.caPem,
          headers: { Authorization: "Bearer tok" },
        },
        resolve,
      );
      req.on("error", reject);
      req.end();
    });
  try {
    const heldBefore = held.length;
    const first = sendTo("/clusters/a/hold/1"); // takes s1's only slot
    await until(() => held.length === heldBefore + 1);
    // c is on s1 too: it waits for the slot; b is on s2, whose slot is free.
    const waiting = sendTo("/clusters/c/api");
    await until(() => perShard.fairnessLoad("c").queued === 1);
    const other = await sendTo("/clusters/b/api");
    assert.equal(other.statusCode, 200);
    await bodyOf(other);
    assert.deepEqual(perShard.fairnessLoad("c"), { inflight: 0, queued: 1 });
    const r = held.splice(heldBefore, 1)[0]!;
    r.writeHead(200);
    r.end("held");
    assert.equal(await bodyOf(await first), "held");
    assert.equal((await waiting).statusCode, 200);
  } finally {
    await perShard.close();
    await new Promise<void>((r) => shard2.close(() => r()));
  }
});
