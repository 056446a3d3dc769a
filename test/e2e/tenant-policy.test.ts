// A tenant's own policy through the real kubectl: its OIDC issuer (a real HTTPS issuer with
// discovery and JWKS, started here) authenticates people at that tenant only, and its
// authorization webhook (a real HTTPS SubjectAccessReview server) decides where RBAC has no
// opinion.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { startOIDCIssuer, type TestIssuer } from "../support/oidc-issuer.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let mp: TestMultiplane;
let issuer: TestIssuer;
let sarServer: Server;
let tokenReviewServer: Server;
const reviews: {
  spec: { user: string; groups?: string[]; resourceAttributes?: { verb: string; resource: string } };
}[] = [];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  issuer = await startOIDCIssuer("tenant-policy-ca");
  const { serving } = issuer;
  // Allows list/get of configmaps to the group oidc:devs; denies secrets to everyone; else no opinion.
  sarServer = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const review = JSON.parse(Buffer.concat(chunks).toString()) as (typeof reviews)[number];
      reviews.push(review);
      const attrs = review.spec.resourceAttributes;
      const status =
        attrs?.resource === "secrets"
          ? { allowed: false, denied: true, reason: "the webhook keeps secrets" }
          : attrs?.resource === "configmaps" &&
              ["get", "list"].includes(attrs.verb) &&
              (review.spec.groups ?? []).includes("oidc:devs")
            ? { allowed: true, reason: "devs may read configmaps" }
            : { allowed: false };
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ ...review, status }));
    });
  });
  const sarURL = await listen(sarServer);
  // A TokenReview service that knows one opaque token.
  tokenReviewServer = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const review = JSON.parse(Buffer.concat(chunks).toString()) as { spec: { token: string } };
      const status =
        review.spec.token === "opaque-hooked-token"
          ? { authenticated: true, user: { username: "hooked", uid: "h-1", groups: ["hook-users"] } }
          : { authenticated: false };
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ ...review, status }));
    });
  });
  const tokenReviewURL = await listen(tokenReviewServer);

  mp = await startMultiplane();
  mp.tenants.addTenant({
    name: "pol",
    uid: "9a1c3a52-0000-4000-8000-0000000000aa",
    policy: {
      oidcIssuers: [
        {
          issuer: { url: issuer.url, audiences: ["multiplane-pol"], certificateAuthority: issuer.ca.certPem },
          claimMappings: {
            username: { claim: "email", prefix: "oidc:" },
            groups: { claim: "groups", prefix: "oidc:" },
          },
        },
      ],
      authorizationWebhook: { url: `${sarURL}/authorize`, caPem: issuer.ca.certPem },
      tokenWebhook: { url: `${tokenReviewURL}/review`, certificateAuthority: issuer.ca.certPem },
    },
  });
  mp.tenants.addTenant({ name: "pol-other", uid: "9a1c3a52-0000-4000-8000-0000000000bb" });
});
after(async () => {
  await mp?.destroy();
  await issuer?.close();
  sarServer?.close();
  tokenReviewServer?.close();
});

const idToken = (claims: Record<string, unknown>, audience = "multiplane-pol") =>
  issuer.idToken(claims, audience);

async function outcome(args: readonly string[], opts: { token: string; tenant: string }) {
  try {
    return { ok: true, out: await mp.kubectl(args, opts) };
  } catch (err) {
    return { ok: false, out: String((err as Error).message) };
  }
}

describe("a tenant's own policy", () => {
  test("its OIDC issuer authenticates people there, with the claim mappings' prefixes, and nowhere else", async () => {
    const token = await idToken({ email: "alice@example.com", groups: ["devs"] });
    const who = JSON.parse(await mp.kubectl(["auth", "whoami", "-o", "json"], { token, tenant: "pol" })) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    assert.equal(who.status.userInfo.username, "oidc:alice@example.com");
    assert.deepEqual(who.status.userInfo.groups, ["oidc:devs", "system:authenticated"]);
    const elsewhere = await outcome(["auth", "whoami"], { token, tenant: "pol-other" });
    assert.equal(elsewhere.ok, false);
    assert.match(elsewhere.out, /Unauthorized|must be logged in/);
    const wrongAudience = await idToken({ email: "alice@example.com" }, "someone-else");
    assert.equal((await outcome(["auth", "whoami"], { token: wrongAudience, tenant: "pol" })).ok, false);
  });

  test("its TokenReview webhook authenticates opaque tokens there, and nowhere else", async () => {
    const token = "opaque-hooked-token";
    const who = JSON.parse(await mp.kubectl(["auth", "whoami", "-o", "json"], { token, tenant: "pol" })) as {
      status: { userInfo: { username: string; uid: string; groups: string[] } };
    };
    assert.equal(who.status.userInfo.username, "hooked");
    assert.deepEqual(who.status.userInfo.groups, ["hook-users", "system:authenticated"]);
    assert.equal((await outcome(["auth", "whoami"], { token, tenant: "pol-other" })).ok, false);
    assert.equal((await outcome(["auth", "whoami"], { token: "unknown-token", tenant: "pol" })).ok, false);
  });

  test("its authorization webhook allows where RBAC is silent, and its denial is final", async () => {
    const dev = await idToken({ email: "dev@example.com", groups: ["devs"] });
    const listed = await outcome(["get", "configmaps", "-n", "default"], { token: dev, tenant: "pol" });
    assert.equal(listed.ok, true, listed.out);
    const review = reviews.find((r) => r.spec.user === "oidc:dev@example.com")!;
    assert.equal(review.spec.resourceAttributes?.resource, "configmaps");
    // Not a dev: the webhook has no opinion, so the default denies with kube's text.
    const other = await idToken({ email: "ops@example.com", groups: ["ops"] });
    const refused = await outcome(["get", "configmaps", "-n", "default"], { token: other, tenant: "pol" });
    assert.match(
      refused.out,
      /configmaps is forbidden: User "oidc:ops@example.com" cannot list resource "configmaps"/,
    );
    // A denial carries the webhook's reason.
    const secrets = await outcome(["get", "secrets", "-n", "default"], { token: dev, tenant: "pol" });
    assert.match(
      secrets.out,
      /secrets is forbidden: User "oidc:dev@example.com" cannot list resource "secrets" .*: the webhook keeps secrets/,
    );
    // RBAC still comes first: the admin (system:masters) never reaches the webhook.
    const before = reviews.length;
    await mp.kubectl(["get", "secrets", "-n", "default"], { tenant: "pol" });
    assert.equal(reviews.length, before);
  });
});
