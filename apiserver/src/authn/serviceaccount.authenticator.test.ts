import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeJwt, SignJWT } from "jose";

import type { Tenant } from "../tenancy/instance.ts";
import { JwtKeySet, tenantUidClaim, type JwtIssuer } from "./jwt-keys.ts";
import { issueTenantToken, MultiplaneJwtAuthenticator } from "./multiplane-jwt.authenticator.ts";
import {
  issueServiceAccountToken,
  legacyServiceAccountToken,
  legacyTokenInvalidSinceLabel,
  ServiceAccountAuthenticator,
  type LookedUpObject,
  type LookedUpSecret,
  type ServiceAccountLookup,
} from "./serviceaccount.authenticator.ts";
import type { AuthRequest } from "./user.ts";

const tenantA: Tenant = { name: "acme", uid: "uid-a" };
const tenantB: Tenant = { name: "globex", uid: "uid-b" };
const issuer: JwtIssuer = { url: "https://multiplane.example", keys: JwtKeySet.inMemory() };

/** The tenants' objects, in memory, as the watch cache would answer. */
class MemoryLookup implements ServiceAccountLookup {
  readonly serviceAccounts = new Map<string, LookedUpObject>();
  readonly secrets = new Map<string, LookedUpSecret>();
  readonly pods = new Map<string, LookedUpObject>();
  serviceAccount(t: Tenant, ns: string, name: string): LookedUpObject | undefined {
    return this.serviceAccounts.get(`${t.uid}/${ns}/${name}`);
  }
  secret(t: Tenant, ns: string, name: string): LookedUpSecret | undefined {
    return this.secrets.get(`${t.uid}/${ns}/${name}`);
  }
  pod(t: Tenant, ns: string, name: string): LookedUpObject | undefined {
    return this.pods.get(`${t.uid}/${ns}/${name}`);
  }
}

const world = (): { lookup: MemoryLookup; authn: ServiceAccountAuthenticator } => {
  const lookup = new MemoryLookup();
  lookup.serviceAccounts.set("uid-a/ci/builder", { uid: "sa-1" });
  // Tenant B has a ServiceAccount of the same namespace and name (and even UID).
  lookup.serviceAccounts.set("uid-b/ci/builder", { uid: "sa-1" });
  return { lookup, authn: new ServiceAccountAuthenticator(issuer, lookup) };
};
const at = (tenant: Tenant, token: string): AuthRequest => ({
  headers: { authorization: `Bearer ${token}` },
  tenant,
});
const mint = (extra: Partial<Parameters<typeof issueServiceAccountToken>[1]> = {}) =>
  issueServiceAccountToken(issuer, {
    tenant: tenantA,
    namespace: "ci",
    name: "builder",
    uid: "sa-1",
    ...extra,
  });

test("a bound token carries kube's claims and authenticates as the ServiceAccount", async () => {
  const { authn } = world();
  const { token, expirationTimestamp } = await mint({ expirationSeconds: 3600 });
  const claims = decodeJwt(token);
  assert.equal(claims.iss, issuer.url);
  assert.equal(claims.sub, "system:serviceaccount:ci:builder");
  assert.deepEqual(claims.aud, ["multiplane:acme"]);
  assert.deepEqual(claims["kubernetes.io"], {
    namespace: "ci",
    serviceaccount: { name: "builder", uid: "sa-1" },
  });
  assert.equal(claims[tenantUidClaim], "uid-a");
  assert.equal(claims.exp! - claims.iat!, 3600);
  assert.equal(claims.nbf, claims.iat);
  assert.equal(expirationTimestamp, new Date(claims.exp! * 1000).toISOString().replace(".000Z", "Z"));

  const user = await authn.authenticate(at(tenantA, token));
  assert.deepEqual(user, {
    name: "system:serviceaccount:ci:builder",
    uid: "sa-1",
    groups: ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"],
    extra: { "authentication.kubernetes.io/credential-id": [`JTI=${claims.jti as string}`] },
  });
});

test("a token of tenant A is refused at tenant B, which has a ServiceAccount of the same name", async () => {
  const { authn } = world();
  const { token } = await mint();
  assert.equal(await authn.authenticate(at(tenantB, token)), null);
  // Even with an audience that tenant B accepts, the tenant-UID claim still refuses it.
  const both = await mint({ audiences: ["multiplane:globex"] });
  assert.equal(await authn.authenticate(at(tenantB, both.token)), null);
});

test("deleting the ServiceAccount, or re-creating it with a new UID, makes the token fail", async () => {
  const { lookup, authn } = world();
  const { token } = await mint();
  assert.ok(await authn.authenticate(at(tenantA, token)));
  lookup.serviceAccounts.set("uid-a/ci/builder", { uid: "sa-2" });
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
  lookup.serviceAccounts.delete("uid-a/ci/builder");
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
  // Being deleted: still valid within the clock tolerance, refused after it.
  lookup.serviceAccounts.set("uid-a/ci/builder", {
    uid: "sa-1",
    deletionTimestamp: new Date().toISOString(),
  });
  assert.ok(await authn.authenticate(at(tenantA, token)));
  lookup.serviceAccounts.set("uid-a/ci/builder", {
    uid: "sa-1",
    deletionTimestamp: new Date(Date.now() - 120_000).toISOString(),
  });
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
});

test("a token for another audience does not authenticate; one naming the tenant among others does", async () => {
  const { authn } = world();
  assert.equal(await authn.authenticate(at(tenantA, (await mint({ audiences: ["vault"] })).token)), null);
  assert.ok(
    await authn.authenticate(at(tenantA, (await mint({ audiences: ["vault", "multiplane:acme"] })).token)),
  );
  const custom = new ServiceAccountAuthenticator(issuer, world().lookup, { apiAudiences: () => ["vault"] });
  assert.ok(await custom.authenticate(at(tenantA, (await mint({ audiences: ["vault"] })).token)));
});

test("a token bound to a Secret fails once the Secret is gone or re-created", async () => {
  const { lookup, authn } = world();
  lookup.secrets.set("uid-a/ci/bound", { uid: "sec-1" });
  const { token } = await mint({ boundObject: { kind: "Secret", name: "bound", uid: "sec-1" } });
  assert.deepEqual(decodeJwt(token)["kubernetes.io"], {
    namespace: "ci",
    serviceaccount: { name: "builder", uid: "sa-1" },
    secret: { name: "bound", uid: "sec-1" },
  });
  assert.ok(await authn.authenticate(at(tenantA, token)));
  lookup.secrets.set("uid-a/ci/bound", { uid: "sec-2" });
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
  lookup.secrets.delete("uid-a/ci/bound");
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
});

test("a token bound to a Pod names the Pod in extra and fails once the Pod is gone", async () => {
  const { lookup, authn } = world();
  lookup.pods.set("uid-a/ci/runner-0", { uid: "pod-1" });
  const { token } = await mint({ boundObject: { kind: "Pod", name: "runner-0", uid: "pod-1" } });
  const user = await authn.authenticate(at(tenantA, token));
  assert.deepEqual(user?.extra["authentication.kubernetes.io/pod-name"], ["runner-0"]);
  assert.deepEqual(user?.extra["authentication.kubernetes.io/pod-uid"], ["pod-1"]);
  lookup.pods.delete("uid-a/ci/runner-0");
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
  // A lookup that cannot answer about Pods refuses Pod-bound tokens.
  const noPods = new ServiceAccountAuthenticator(issuer, {
    serviceAccount: (t, ns, n) => lookup.serviceAccount(t, ns, n),
    secret: (t, ns, n) => lookup.secret(t, ns, n),
  });
  lookup.pods.set("uid-a/ci/runner-0", { uid: "pod-1" });
  assert.equal(await noPods.authenticate(at(tenantA, token)), null);
});

test("expired tokens, forged signatures and tokens too short-lived to mint are refused", async () => {
  const { authn } = world();
  const now = Math.floor(Date.now() / 1000);
  const expired = await new SignJWT({
    "kubernetes.io": { namespace: "ci", serviceaccount: { name: "builder", uid: "sa-1" } },
    [tenantUidClaim]: "uid-a",
  })
    .setProtectedHeader({ alg: "ES256", kid: issuer.keys.signingKey.kid })
    .setIssuer(issuer.url)
    .setSubject("system:serviceaccount:ci:builder")
    .setAudience("multiplane:acme")
    .setIssuedAt(now - 7200)
    .setExpirationTime(now - 3600)
    .sign(issuer.keys.signingKey.privateKey);
  assert.equal(await authn.authenticate(at(tenantA, expired)), null);
  // A bound token must expire (a legacy one, with its own issuer, does not).
  const forever = await new SignJWT({
    "kubernetes.io": { namespace: "ci", serviceaccount: { name: "builder", uid: "sa-1" } },
    [tenantUidClaim]: "uid-a",
  })
    .setProtectedHeader({ alg: "ES256", kid: issuer.keys.signingKey.kid })
    .setIssuer(issuer.url)
    .setSubject("system:serviceaccount:ci:builder")
    .setAudience("multiplane:acme")
    .sign(issuer.keys.signingKey.privateKey);
  assert.equal(await authn.authenticate(at(tenantA, forever)), null);
  const forged = await issueServiceAccountToken(
    { url: issuer.url, keys: JwtKeySet.inMemory() },
    {
      tenant: tenantA,
      namespace: "ci",
      name: "builder",
      uid: "sa-1",
    },
  );
  assert.equal(await authn.authenticate(at(tenantA, forged.token)), null);
  await assert.rejects(mint({ expirationSeconds: 60 }), /less than 600/);
});

test("ServiceAccount tokens and tenant tokens are never taken for one another", async () => {
  const { authn } = world();
  const { token: saToken } = await mint();
  assert.equal(await new MultiplaneJwtAuthenticator(issuer).authenticate(at(tenantA, saToken)), null);
  const userToken = await issueTenantToken(issuer, {
    tenant: tenantA,
    subject: "alice",
    groups: [],
    extra: {},
    expiresInSeconds: 600,
  });
  assert.equal(await authn.authenticate(at(tenantA, userToken)), null);
});

test("a legacy token authenticates while its Secret holds it and the ServiceAccount is the same", async () => {
  const { lookup, authn } = world();
  const token = await legacyServiceAccountToken(issuer, {
    tenant: tenantA,
    namespace: "ci",
    serviceAccountName: "builder",
    serviceAccountUID: "sa-1",
    secretName: "builder-token",
  });
  const claims = decodeJwt(token);
  assert.equal(claims.iss, "kubernetes/serviceaccount");
  assert.equal(claims["kubernetes.io/serviceaccount/namespace"], "ci");
  assert.equal(claims["kubernetes.io/serviceaccount/secret.name"], "builder-token");
  assert.equal(claims["kubernetes.io/serviceaccount/service-account.name"], "builder");
  assert.equal(claims["kubernetes.io/serviceaccount/service-account.uid"], "sa-1");
  assert.equal(claims.exp, undefined);

  const secret = { uid: "sec-1", data: { token: Buffer.from(token).toString("base64") } };
  lookup.secrets.set("uid-a/ci/builder-token", secret);
  const user = await authn.authenticate(at(tenantA, token));
  assert.deepEqual(user, {
    name: "system:serviceaccount:ci:builder",
    uid: "sa-1",
    groups: ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"],
    extra: {},
  });
  // Refused at another tenant, even one holding the same Secret and ServiceAccount.
  lookup.secrets.set("uid-b/ci/builder-token", secret);
  assert.equal(await authn.authenticate(at(tenantB, token)), null);
  // Refused once the Secret holds another token, is marked invalid, or is gone; or the SA is gone.
  lookup.secrets.set("uid-a/ci/builder-token", {
    uid: "sec-1",
    data: { token: Buffer.from("other").toString("base64") },
  });
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
  lookup.secrets.set("uid-a/ci/builder-token", {
    ...secret,
    labels: { [legacyTokenInvalidSinceLabel]: "2026-01-01" },
  });
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
  lookup.secrets.set("uid-a/ci/builder-token", secret);
  lookup.serviceAccounts.delete("uid-a/ci/builder");
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
  lookup.serviceAccounts.set("uid-a/ci/builder", { uid: "sa-1" });
  assert.ok(await authn.authenticate(at(tenantA, token)));
  lookup.secrets.delete("uid-a/ci/builder-token");
  assert.equal(await authn.authenticate(at(tenantA, token)), null);
  // Legacy tokens can be switched off.
  lookup.secrets.set("uid-a/ci/builder-token", secret);
  assert.equal(
    await new ServiceAccountAuthenticator(issuer, lookup, { legacyTokens: false }).authenticate(
      at(tenantA, token),
    ),
    null,
  );
});

test("a broken lookup is an error, not a refusal", async () => {
  const broken = new ServiceAccountAuthenticator(issuer, {
    serviceAccount: () => Promise.reject(new Error("cache not synced")),
    secret: () => undefined,
  });
  const { token } = await mint();
  await assert.rejects(broken.authenticate(at(tenantA, token)), /cache not synced/);
});
