import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { generateCA, issueCertificate, type CertKeyPair } from "../server/pki.ts";
import type { Tenant } from "../tenancy/instance.ts";
import { clientCertificatesOf, startHttpsServer, type TestHttpsServer } from "./https-test.helper.ts";
import type { AuthRequest } from "./user.ts";
import { WebhookTokenAuthenticator, type WebhookTokenOptions } from "./webhook-token.authenticator.ts";
import { parsePemBundle, subjectOf, verifyClientChain } from "./x509-verify.ts";

const acme: Tenant = { name: "acme", uid: "uid-a" };
const globex: Tenant = { name: "globex", uid: "uid-g" };

interface Review {
  apiVersion: string;
  kind: string;
  spec: { token: string; audiences: string[] };
}

/** A real TokenReview service over HTTPS; counts the reviews it answers. */
let server: TestHttpsServer;
let clientCA: CertKeyPair;
let reviews: { review: Review; clientCN: string | undefined }[] = [];
const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

before(async () => {
  clientCA = await generateCA("webhook-client-ca");
  server = await startHttpsServer(async (req, res) => {
    const review = JSON.parse(await readBody(req)) as Review;
    const chain = verifyClientChain(clientCertificatesOf(req), parsePemBundle(clientCA.certPem));
    reviews.push({ review, clientCN: chain === null ? undefined : subjectOf(chain[0]!).commonName });
    const token = review.spec.token;
    res.setHeader("content-type", "application/json");
    if (token === "broken") {
      res.statusCode = 500;
      res.end("{}");
      return;
    }
    if (token === "slow") await sleep(500);
    const status =
      token === "good" || token === "slow"
        ? {
            authenticated: true,
            user: { username: "jane", uid: "j-1", groups: ["staff"], extra: { scopes: ["a", "b"] } },
          }
        : token === "other-audience"
          ? { authenticated: true, user: { username: "jane" }, audiences: ["somewhere-else"] }
          : token === "error"
            ? { authenticated: false, error: "directory unavailable" }
            : { authenticated: false };
    res.end(JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", status }));
  });
});
after(() => server.close());

const at = (tenant: Tenant, token: string): AuthRequest => ({
  headers: { authorization: `Bearer ${token}` },
  tenant,
});
const webhook = (extra: Partial<WebhookTokenOptions> = {}): WebhookTokenAuthenticator =>
  new WebhookTokenAuthenticator({
    url: `${server.url}/review`,
    certificateAuthority: server.ca.certPem,
    ...extra,
  });

test("an authenticated review gives the user; the request is a v1 TokenReview with the tenant's audience", async () => {
  reviews = [];
  const user = await webhook().authenticate(at(acme, "good"));
  assert.deepEqual(user, {
    name: "jane",
    uid: "j-1",
    groups: ["staff", "system:authenticated"],
    extra: { scopes: ["a", "b"] },
  });
  assert.equal(reviews.length, 1);
  assert.equal(reviews[0]!.review.apiVersion, "authentication.k8s.io/v1");
  assert.equal(reviews[0]!.review.kind, "TokenReview");
  assert.deepEqual(reviews[0]!.review.spec, { token: "good", audiences: ["multiplane:acme"] });
});

test("answers are cached by token, per tenant: 2 min when authenticated, 30 s when refused", async () => {
  reviews = [];
  let now = 1_000_000;
  const authn = webhook({ now: () => now });
  for (let i = 0; i < 3; i++) assert.equal((await authn.authenticate(at(acme, "good")))?.name, "jane");
  assert.equal(reviews.length, 1);
  // Another tenant is another question (other audiences).
  await authn.authenticate(at(globex, "good"));
  assert.equal(reviews.length, 2);
  for (let i = 0; i < 3; i++) assert.equal(await authn.authenticate(at(acme, "nope")), null);
  assert.equal(reviews.length, 3);

  now += 31_000;
  assert.equal(await authn.authenticate(at(acme, "nope")), null);
  assert.equal(reviews.length, 4, "a refusal is asked again after 30 s");
  assert.ok(await authn.authenticate(at(acme, "good")));
  assert.equal(reviews.length, 4, "an authentication is still cached after 31 s");
  now += 90_000;
  assert.ok(await authn.authenticate(at(acme, "good")));
  assert.equal(reviews.length, 5, "and asked again after 2 min");
});

test("concurrent requests with the same token share one review", async () => {
  reviews = [];
  const authn = webhook();
  const users = await Promise.all(Array.from({ length: 5 }, () => authn.authenticate(at(acme, "good"))));
  assert.ok(users.every((u) => u?.name === "jane"));
  assert.equal(reviews.length, 1);
});

test("HTTP errors, transport errors and timeouts throw, and are not cached", async () => {
  reviews = [];
  const authn = webhook({ timeoutMs: 100 });
  await assert.rejects(authn.authenticate(at(acme, "broken")), /HTTP 500/);
  await assert.rejects(authn.authenticate(at(acme, "broken")), /HTTP 500/);
  assert.equal(reviews.length, 2);
  await assert.rejects(authn.authenticate(at(acme, "slow")), /no answer within 100 ms/);
  const untrusted = webhook({ certificateAuthority: clientCA.certPem });
  await assert.rejects(untrusted.authenticate(at(acme, "good")), /certificate/);
});

test("a refusal with an error is not cached; an answer for other audiences is a refusal", async () => {
  reviews = [];
  const authn = webhook();
  assert.equal(await authn.authenticate(at(acme, "error")), null);
  assert.equal(await authn.authenticate(at(acme, "error")), null);
  assert.equal(reviews.length, 2);
  assert.equal(await authn.authenticate(at(acme, "other-audience")), null);
});

test("a client certificate is presented when configured; no bearer token is not ours", async () => {
  reviews = [];
  const client = await issueCertificate(clientCA, {
    commonName: "multiplane-webhook-client",
    usage: "client",
  });
  const authn = webhook({ clientCertificate: client });
  assert.ok(await authn.authenticate(at(acme, "good")));
  assert.equal(reviews[0]!.clientCN, "multiplane-webhook-client");
  assert.equal(await authn.authenticate({ headers: {}, tenant: acme }), null);
  assert.equal(reviews.length, 1);
  assert.throws(() => new WebhookTokenAuthenticator({ url: "http://plain" }), /https/);
});
