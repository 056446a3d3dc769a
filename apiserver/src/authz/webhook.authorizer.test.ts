// The webhook authorizer against a real HTTPS SubjectAccessReview server started by the test.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { generateCA, issueCertificate, type CertKeyPair } from "../server/pki.ts";
import type { Attributes } from "./authorizer.ts";
import { WebhookAuthorizer } from "./webhook.authorizer.ts";

let ca: CertKeyPair;
let server: Server;
let url: string;
const received: Record<string, unknown>[] = [];
/** What the webhook answers: by user name. */
const answers: Record<string, { allowed?: boolean; denied?: boolean; reason?: string }> = {
  alice: { allowed: true, reason: "alice may" },
  mallory: { allowed: false, denied: true, reason: "never mallory" },
  bob: { allowed: false, reason: "no opinion on bob" },
};
let failNext = false;

before(async () => {
  ca = await generateCA("sar-test-ca");
  const serving = await issueCertificate(ca, { commonName: "sar", hosts: ["127.0.0.1"], usage: "server" });
  server = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (failNext) {
        failNext = false;
        res.writeHead(500).end("boom");
        return;
      }
      const review = JSON.parse(Buffer.concat(chunks).toString()) as { spec: { user: string } };
      received.push(review);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ ...review, status: answers[review.spec.user] ?? { allowed: false } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`;
});
after(() => server?.close());

const attrs = (user: string, extra: Partial<Attributes> = {}): Attributes => ({
  user: {
    name: user,
    uid: `${user}-uid`,
    groups: ["devs", "system:authenticated"],
    extra: { scopes: ["a"] },
  },
  verb: "get",
  isResourceRequest: true,
  path: "/api/v1/namespaces/ns/configmaps/x",
  apiGroup: "",
  apiVersion: "v1",
  resource: "configmaps",
  subresource: "",
  namespace: "ns",
  name: "x",
  ...extra,
});

describe("webhook authorizer", () => {
  test("calls the webhook through the request's Outbound (its seat given back), not from the cache", async () => {
    const z = new WebhookAuthorizer({ url, caPem: ca.certPem });
    let outbound = 0;
    const a = attrs("carol", {
      outbound: (call) => {
        outbound++;
        return call();
      },
    });
    assert.equal((await z.authorize(a)).decision, "NoOpinion");
    assert.equal((await z.authorize(a)).decision, "NoOpinion");
    assert.equal(outbound, 1, "a cached decision makes no outbound call");
  });

  test("sends kube's SubjectAccessReview and maps allowed, denied and no opinion", async () => {
    const z = new WebhookAuthorizer({ url, caPem: ca.certPem });
    assert.deepEqual(await z.authorize(attrs("alice")), { decision: "Allow", reason: "alice may" });
    assert.deepEqual(await z.authorize(attrs("mallory")), { decision: "Deny", reason: "never mallory" });
    assert.deepEqual(await z.authorize(attrs("bob")), { decision: "NoOpinion", reason: "no opinion on bob" });
    const first = received.find((r) => (r["spec"] as { user: string }).user === "alice")!;
    assert.deepEqual(first, {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      metadata: {},
      spec: {
        user: "alice",
        uid: "alice-uid",
        groups: ["devs", "system:authenticated"],
        extra: { scopes: ["a"] },
        resourceAttributes: {
          namespace: "ns",
          verb: "get",
          group: "",
          version: "v1",
          resource: "configmaps",
          subresource: "",
          name: "x",
        },
      },
    });
  });

  test("non-resource requests send nonResourceAttributes", async () => {
    const z = new WebhookAuthorizer({ url, caPem: ca.certPem });
    await z.authorize(attrs("alice", { isResourceRequest: false, path: "/healthz", verb: "get" }));
    const last = received.at(-1)!["spec"] as Record<string, unknown>;
    assert.deepEqual(last["nonResourceAttributes"], { path: "/healthz", verb: "get" });
    assert.equal(last["resourceAttributes"], undefined);
  });

  test("answers are cached for their TTL: allowed and denied separately", async () => {
    const z = new WebhookAuthorizer({
      url,
      caPem: ca.certPem,
      authorizedTTLms: 60_000,
      unauthorizedTTLms: 0,
    });
    await z.authorize(attrs("alice"));
    await z.authorize(attrs("alice"));
    assert.equal(z.calls, 1, "an allowed answer is served from the cache");
    await z.authorize(attrs("mallory"));
    await z.authorize(attrs("mallory"));
    assert.equal(z.calls, 3, "with a zero unauthorized TTL, denials are asked each time");
    await z.authorize(attrs("alice", { verb: "delete" }));
    assert.equal(z.calls, 4, "other attributes are another question");
  });

  test("an error is thrown (a 500), never a silent denial, and is not cached", async () => {
    const z = new WebhookAuthorizer({ url, caPem: ca.certPem });
    failNext = true;
    await assert.rejects(z.authorize(attrs("alice")), /authorization webhook answered 500/);
    assert.equal((await z.authorize(attrs("alice"))).decision, "Allow");
  });

  test("a webhook whose certificate does not chain to the CA bundle is an error", async () => {
    const other = await generateCA("other-ca");
    const z = new WebhookAuthorizer({ url, caPem: other.certPem });
    await assert.rejects(z.authorize(attrs("alice")));
  });

  test("only https URLs are accepted", () => {
    assert.throws(() => new WebhookAuthorizer({ url: "http://127.0.0.1/x", caPem: ca.certPem }), /https/);
  });
});
