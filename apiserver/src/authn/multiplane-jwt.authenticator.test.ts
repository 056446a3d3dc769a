import assert from "node:assert/strict";
import { test } from "node:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from "jose";

import type { Tenant } from "../tenancy/instance.ts";
import { JwtKeySet, tenantAudience, tenantUidClaim, type JwtIssuer } from "./jwt-keys.ts";
import {
  issueTenantToken,
  jwksDocument,
  MultiplaneJwtAuthenticator,
  openidConfiguration,
  tenantTokenClaims,
} from "./multiplane-jwt.authenticator.ts";
import type { AuthRequest } from "./user.ts";

const acme: Tenant = { name: "acme", uid: "uid-acme-1" };
const other: Tenant = { name: "globex", uid: "uid-globex-1" };
const issuer: JwtIssuer = { url: "https://multiplane.example", keys: JwtKeySet.inMemory() };
const authn = new MultiplaneJwtAuthenticator(issuer);
const at = (tenant: Tenant, token: string): AuthRequest => ({
  headers: { authorization: `Bearer ${token}` },
  tenant,
});
const aliceToken = (tenant: Tenant = acme): Promise<string> =>
  issueTenantToken(issuer, {
    tenant,
    subject: "alice@example.com",
    uid: "u-1",
    groups: ["owners"],
    extra: { "multiplane.dev/organization": ["acme"] },
    expiresInSeconds: 3600,
  });

test("a tenant token is taken back at its tenant with its user, groups and extra", async () => {
  const token = await aliceToken();
  const user = await authn.authenticate(at(acme, token));
  assert.ok(user);
  assert.equal(user.name, "alice@example.com");
  assert.equal(user.uid, "u-1");
  assert.deepEqual(user.groups, ["owners", "system:authenticated"]);
  assert.deepEqual(user.extra["multiplane.dev/organization"], ["acme"]);
  assert.match(user.extra["authentication.kubernetes.io/credential-id"]![0]!, /^JTI=[0-9a-f-]{36}$/);
});

test("the token carries iss, aud, the tenant UID, iat/nbf/exp and jti, signed ES256 with the kid", async () => {
  const token = await aliceToken();
  const header = decodeProtectedHeader(token);
  assert.equal(header.alg, "ES256");
  assert.equal(header.kid, issuer.keys.signingKey.kid);
  const { payload } = await jwtVerify(token, issuer.keys.verificationKeys[0]!.publicKey);
  assert.equal(payload.iss, "https://multiplane.example");
  assert.deepEqual(payload.aud, ["multiplane:acme"]);
  assert.equal(payload[tenantUidClaim], "uid-acme-1");
  assert.equal(payload.sub, "alice@example.com");
  assert.equal(payload.exp! - payload.iat!, 3600);
  assert.equal(payload.nbf, payload.iat);
  assert.equal(typeof payload.jti, "string");
});

test("a token minted for one tenant is refused at every other", async () => {
  const token = await aliceToken(acme);
  assert.equal(await authn.authenticate(at(other, token)), null);
  // A project of the organization is another tenant too.
  assert.equal(await authn.authenticate(at({ name: "acme:web", uid: "uid-web" }, token)), null);
});

test("a token for a deleted tenant is refused at the re-created tenant of the same name", async () => {
  const token = await aliceToken(acme);
  assert.equal(await authn.authenticate(at({ name: "acme", uid: "uid-acme-2" }, token)), null);
});

test("tokens of another issuer, another key, or no token at all are not taken", async () => {
  const stranger: JwtIssuer = { url: "https://elsewhere.example", keys: JwtKeySet.inMemory() };
  const foreign = await issueTenantToken(stranger, {
    tenant: acme,
    subject: "mallory",
    groups: [],
    extra: {},
    expiresInSeconds: 60,
  });
  assert.equal(await authn.authenticate(at(acme, foreign)), null);
  // Same issuer URL, a key this set never had: the signature does not verify.
  const forged = await issueTenantToken(
    { url: issuer.url, keys: JwtKeySet.inMemory() },
    {
      tenant: acme,
      subject: "mallory",
      groups: ["system:masters"],
      extra: {},
      expiresInSeconds: 60,
    },
  );
  assert.equal(await authn.authenticate(at(acme, forged)), null);
  assert.equal(await authn.authenticate({ headers: {}, tenant: acme }), null);
  assert.equal(await authn.authenticate(at(acme, "garbage")), null);
});

test("an expired token is refused; one within the clock tolerance is still taken", async () => {
  const sign = (exp: number): Promise<string> =>
    new SignJWT({ [tenantTokenClaims.kind]: "user", [tenantUidClaim]: acme.uid })
      .setProtectedHeader({ alg: "ES256", kid: issuer.keys.signingKey.kid })
      .setIssuer(issuer.url)
      .setAudience(tenantAudience(acme))
      .setSubject("alice")
      .setIssuedAt(exp - 600)
      .setExpirationTime(exp)
      .sign(issuer.keys.signingKey.privateKey);
  const now = Math.floor(Date.now() / 1000);
  assert.equal(await authn.authenticate(at(acme, await sign(now - 120))), null);
  // A token that never expires is never one of ours.
  const forever = await new SignJWT({ [tenantTokenClaims.kind]: "user", [tenantUidClaim]: acme.uid })
    .setProtectedHeader({ alg: "ES256", kid: issuer.keys.signingKey.kid })
    .setIssuer(issuer.url)
    .setAudience(tenantAudience(acme))
    .setSubject("alice")
    .sign(issuer.keys.signingKey.privateKey);
  assert.equal(await authn.authenticate(at(acme, forever)), null);
  assert.equal((await authn.authenticate(at(acme, await sign(now - 10))))?.name, "alice");
});

test("a token without the tenant-token kind (a ServiceAccount's, say) is not taken as a user", async () => {
  const token = await new SignJWT({ [tenantUidClaim]: acme.uid })
    .setProtectedHeader({ alg: "ES256", kid: issuer.keys.signingKey.kid })
    .setIssuer(issuer.url)
    .setAudience(tenantAudience(acme))
    .setSubject("system:serviceaccount:default:builder")
    .setExpirationTime("1h")
    .sign(issuer.keys.signingKey.privateKey);
  assert.equal(await authn.authenticate(at(acme, token)), null);
  await assert.rejects(
    issueTenantToken(issuer, {
      tenant: acme,
      subject: "system:serviceaccount:default:x",
      groups: [],
      extra: {},
      expiresInSeconds: 60,
    }),
    /ServiceAccount/,
  );
});

test("rotation: old tokens stay valid until their key is retired, new tokens use the new kid", async () => {
  const keys = JwtKeySet.inMemory();
  const rotating: JwtIssuer = { url: "https://rotating.example", keys };
  const rotatingAuthn = new MultiplaneJwtAuthenticator(rotating);
  const mint = (): Promise<string> =>
    issueTenantToken(rotating, {
      tenant: acme,
      subject: "bob",
      groups: [],
      extra: {},
      expiresInSeconds: 600,
    });
  const oldKid = keys.signingKey.kid;
  const before = await mint();
  const newKid = await keys.rotate();
  const afterRotation = await mint();
  assert.equal(decodeProtectedHeader(afterRotation).kid, newKid);
  assert.equal((await rotatingAuthn.authenticate(at(acme, before)))?.name, "bob");
  assert.equal((await rotatingAuthn.authenticate(at(acme, afterRotation)))?.name, "bob");
  await keys.retire(oldKid);
  assert.equal(await rotatingAuthn.authenticate(at(acme, before)), null);
  assert.equal((await rotatingAuthn.authenticate(at(acme, afterRotation)))?.name, "bob");
});

test("the discovery and JWKS documents have kube-apiserver's shape and verify our tokens", async () => {
  assert.deepEqual(openidConfiguration("https://multiplane.example/"), {
    issuer: "https://multiplane.example/",
    jwks_uri: "https://multiplane.example/openid/v1/jwks",
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["ES256"],
  });
  assert.equal(openidConfiguration("https://a", "https://b/keys").jwks_uri, "https://b/keys");
  const jwks = await jwksDocument(issuer.keys);
  assert.deepEqual(Object.keys(jwks), ["keys"]);
  // A relying party with only the published document verifies a token.
  const { payload } = await jwtVerify(await aliceToken(), createLocalJWKSet(jwks), {
    issuer: issuer.url,
    audience: tenantAudience(acme),
  });
  assert.equal(payload.sub, "alice@example.com");
});

test("a verified token is answered from the cache only at its tenant, while it is valid and its key kept", async (t) => {
  t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
  const keys = JwtKeySet.inMemory();
  const caching = new MultiplaneJwtAuthenticator({ url: "https://caching.example", keys });
  const token = await issueTenantToken(
    { url: "https://caching.example", keys },
    { tenant: acme, subject: "carol", groups: ["devs"], extra: {}, expiresInSeconds: 600 },
  );
  const first = await caching.authenticate(at(acme, token));
  assert.equal(first?.name, "carol");
  // The same answer, not a new verification.
  assert.equal(await caching.authenticate(at(acme, token)), first);
  // Another tenant, or the same name with another UID, does not get acme's answer.
  assert.equal(await caching.authenticate(at(other, token)), null);
  assert.equal(await caching.authenticate(at({ name: "acme", uid: "uid-acme-2" }, token)), null);
  // Within the leeway after exp it is still taken; past it, refused (not served from the cache).
  t.mock.timers.tick((600 + 30) * 1000);
  assert.equal((await caching.authenticate(at(acme, token)))?.name, "carol");
  t.mock.timers.tick(60 * 1000);
  assert.equal(await caching.authenticate(at(acme, token)), null);
});

test("retiring the key of a cached token refuses it at once", async () => {
  const keys = JwtKeySet.inMemory();
  const caching = new MultiplaneJwtAuthenticator({ url: "https://retiring.example", keys });
  const token = await issueTenantToken(
    { url: "https://retiring.example", keys },
    { tenant: acme, subject: "dave", groups: [], extra: {}, expiresInSeconds: 600 },
  );
  const oldKid = keys.signingKey.kid;
  assert.equal((await caching.authenticate(at(acme, token)))?.name, "dave");
  await keys.rotate();
  assert.equal((await caching.authenticate(at(acme, token)))?.name, "dave");
  await keys.retire(oldKid);
  assert.equal(await caching.authenticate(at(acme, token)), null);
});
