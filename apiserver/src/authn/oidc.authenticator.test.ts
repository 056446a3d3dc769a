import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

import { generateCA } from "../server/pki.ts";
import type { Tenant } from "../tenancy/instance.ts";
import { startHttpsServer, type TestHttpsServer } from "./https-test.helper.ts";
import { JwtKeySet, tenantAudience, type JwtIssuer } from "./jwt-keys.ts";
import { issueTenantToken, jwksDocument, openidConfiguration } from "./multiplane-jwt.authenticator.ts";
import {
  OidcAuthenticator,
  validateJWTAuthenticator,
  validateJWTAuthenticators,
  type JWTAuthenticatorConfig,
} from "./oidc.authenticator.ts";
import type { AuthRequest } from "./user.ts";

const acme: Tenant = { name: "acme", uid: "uid-a" };
const globex: Tenant = { name: "globex", uid: "uid-g" };

interface SigningKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  jwk: JWK;
}
const newKey = async (kid: string, alg: "RS256" | "ES256"): Promise<SigningKey> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
};

/** A real OIDC provider over HTTPS: discovery and a JWKS the test changes, counting JWKS fetches. */
class TestIssuer {
  served: SigningKey[] = [];
  jwksFetches = 0;
  server!: TestHttpsServer;
  /** What the discovery document says the issuer is (tests break it on purpose). */
  claimedIssuer: string | undefined;

  async start(): Promise<this> {
    this.server = await startHttpsServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/.well-known/openid-configuration" || req.url === "/custom/discovery") {
        res.end(JSON.stringify({ issuer: this.claimedIssuer ?? this.url, jwks_uri: `${this.url}/keys` }));
      } else if (req.url === "/keys") {
        this.jwksFetches++;
        res.end(JSON.stringify({ keys: this.served.map((k) => k.jwk) }));
      } else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
    return this;
  }
  get url(): string {
    return this.server.url;
  }
  sign(
    key: SigningKey,
    claims: JWTPayload,
    {
      iss = this.url,
      aud = "kubernetes",
      expiresIn = "10m",
    }: { iss?: string; aud?: string | string[]; expiresIn?: string } = {},
  ): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(key.privateKey);
  }
}

let idp: TestIssuer;
let key1: SigningKey;
before(async () => {
  idp = await new TestIssuer().start();
  key1 = await newKey("key-1", "RS256");
  idp.served = [key1];
});
after(() => idp.server.close());

const config = (
  extra: Partial<JWTAuthenticatorConfig> = {},
  issuer: Partial<JWTAuthenticatorConfig["issuer"]> = {},
): JWTAuthenticatorConfig => ({
  issuer: { url: idp.url, audiences: ["kubernetes"], certificateAuthority: idp.server.ca.certPem, ...issuer },
  claimMappings: {
    username: { claim: "sub", prefix: "oidc:" },
    groups: { claim: "groups", prefix: "oidc:" },
    uid: { claim: "sub" },
  },
  ...extra,
});
const at = (tenant: Tenant, token: string): AuthRequest => ({
  headers: { authorization: `Bearer ${token}` },
  tenant,
});
/** An authenticator where acme trusts `configs` and globex trusts nothing. */
const forAcme = (configs: JWTAuthenticatorConfig[], options = {}): OidcAuthenticator =>
  new OidcAuthenticator((t) => (t.uid === acme.uid ? configs : []), options);

test("a token of the tenant's issuer authenticates with prefixed user and groups", async () => {
  const authn = forAcme([config()]);
  const user = await authn.authenticate(
    at(acme, await idp.sign(key1, { sub: "alice", groups: ["dev", "ops"] })),
  );
  assert.deepEqual(user, {
    name: "oidc:alice",
    uid: "alice",
    groups: ["oidc:dev", "oidc:ops", "system:authenticated"],
    extra: {},
  });
});

test("a groups claim may be one string; a missing one means no groups", async () => {
  const authn = forAcme([config()]);
  assert.deepEqual(
    (await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a", groups: "dev" }))))?.groups,
    ["oidc:dev", "system:authenticated"],
  );
  assert.deepEqual((await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a" }))))?.groups, [
    "system:authenticated",
  ]);
  assert.equal(await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a", groups: [1, 2] }))), null);
});

test("wrong audience, wrong issuer, another tenant, expired: refused", async () => {
  const authn = forAcme([config()]);
  assert.equal(
    await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a" }, { aud: "someone-else" }))),
    null,
  );
  // Signed by the right key but naming another issuer: not ours.
  assert.equal(
    await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a" }, { iss: "https://evil.example" }))),
    null,
  );
  // The issuer is acme's: at globex the same token is nobody's.
  const good = await idp.sign(key1, { sub: "a" });
  assert.ok(await authn.authenticate(at(acme, good)));
  assert.equal(await authn.authenticate(at(globex, good)), null);
  assert.equal(
    await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a" }, { expiresIn: "-1m" }))),
    null,
  );
  // A token whose signature is not the issuer's key.
  const stranger = await newKey("key-1", "RS256");
  assert.equal(await authn.authenticate(at(acme, await idp.sign(stranger, { sub: "a" }))), null);
});

test("several audiences with MatchAny: any one of them is enough", async () => {
  const authn = forAcme([config({}, { audiences: ["a", "kubernetes"], audienceMatchPolicy: "MatchAny" })]);
  assert.ok(await authn.authenticate(at(acme, await idp.sign(key1, { sub: "x" }, { aud: ["other", "a"] }))));
  assert.equal(
    await authn.authenticate(at(acme, await idp.sign(key1, { sub: "x" }, { aud: ["other"] }))),
    null,
  );
});

test("email as user name requires email_verified to be true when present", async () => {
  const authn = forAcme([config({ claimMappings: { username: { claim: "email", prefix: "" } } })]);
  const name = async (claims: JWTPayload): Promise<string | undefined> =>
    (await authn.authenticate(at(acme, await idp.sign(key1, { sub: "s", ...claims }))))?.name;
  assert.equal(await name({ email: "a@example.com", email_verified: true }), "a@example.com");
  assert.equal(await name({ email: "a@example.com" }), "a@example.com");
  assert.equal(await name({ email: "a@example.com", email_verified: false }), undefined);
  assert.equal(await name({ email: "a@example.com", email_verified: "true" }), undefined);
  assert.equal(await name({}), undefined);
});

test("claim validation rules need the exact required value", async () => {
  const authn = forAcme([config({ claimValidationRules: [{ claim: "hd", requiredValue: "example.com" }] })]);
  assert.ok(await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a", hd: "example.com" }))));
  assert.equal(await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a", hd: "evil.com" }))), null);
  assert.equal(await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a" }))), null);
});

test("key rotation: a new key is fetched on its first token; a removed key stops verifying after a refresh", async () => {
  const local = await new TestIssuer().start();
  try {
    const k1 = await newKey("k1", "RS256");
    const k2 = await newKey("k2", "ES256");
    local.served = [k1];
    const authn = forAcme(
      [
        {
          ...config(),
          issuer: {
            url: local.url,
            audiences: ["kubernetes"],
            certificateAuthority: local.server.ca.certPem,
          },
        },
      ],
      {
        jwksCooldownMs: 0,
        jwksMaxAgeMs: 300,
      },
    );
    const old = await local.sign(k1, { sub: "a" });
    assert.ok(await authn.authenticate(at(acme, old)));
    assert.equal(local.jwksFetches, 1);
    // The issuer starts signing with k2 and publishes it: the unknown kid makes us refetch.
    local.served = [k1, k2];
    assert.equal((await authn.authenticate(at(acme, await local.sign(k2, { sub: "b" }))))?.name, "oidc:b");
    assert.equal(local.jwksFetches, 2);
    assert.ok(await authn.authenticate(at(acme, old)));
    // The issuer drops k1; once our copy is refreshed, its tokens are refused.
    local.served = [k2];
    await sleep(350);
    assert.equal(await authn.authenticate(at(acme, old)), null);
    assert.ok(local.jwksFetches >= 3);
    assert.ok(await authn.authenticate(at(acme, await local.sign(k2, { sub: "b" }))));
  } finally {
    await local.server.close();
  }
});

test("an unknown kid refetches at most once per cooldown", async () => {
  const authn = forAcme([config({}, { url: idp.url })], { jwksCooldownMs: 60_000 });
  assert.ok(await authn.authenticate(at(acme, await idp.sign(key1, { sub: "a" }))));
  const before = idp.jwksFetches;
  const unknown = await newKey("unknown", "RS256");
  for (let i = 0; i < 5; i++)
    assert.equal(await authn.authenticate(at(acme, await idp.sign(unknown, { sub: "a" }))), null);
  assert.equal(idp.jwksFetches, before);
});

test("discovery: a separate discovery URL works; an issuer mismatch or an untrusted server is an error", async () => {
  const custom = forAcme([config({}, { discoveryURL: `${idp.url}/custom/discovery` })]);
  assert.ok(await custom.authenticate(at(acme, await idp.sign(key1, { sub: "a" }))));

  const otherCA = await generateCA("not-the-issuers-ca");
  const untrusted = forAcme([config({}, { certificateAuthority: otherCA.certPem })]);
  await assert.rejects(untrusted.authenticate(at(acme, await idp.sign(key1, { sub: "a" }))), /certificate/);

  idp.claimedIssuer = "https://impostor.example";
  try {
    const mismatched = forAcme([config()]);
    await assert.rejects(
      mismatched.authenticate(at(acme, await idp.sign(key1, { sub: "a" }))),
      /issuer did not match/,
    );
  } finally {
    idp.claimedIssuer = undefined;
  }
});

test("Multiplane's own issuer documents serve as an OIDC issuer", async () => {
  const issuerBox: { value?: JwtIssuer } = {};
  const server = await startHttpsServer(async (req, res) => {
    const issuer = issuerBox.value!;
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify(
        req.url === "/openid/v1/jwks" ? await jwksDocument(issuer.keys) : openidConfiguration(issuer.url),
      ),
    );
  });
  try {
    const issuer: JwtIssuer = { url: server.url, keys: JwtKeySet.inMemory() };
    issuerBox.value = issuer;
    const authn = forAcme([
      {
        issuer: {
          url: server.url,
          audiences: [tenantAudience(acme)],
          certificateAuthority: server.ca.certPem,
        },
        claimMappings: { username: { claim: "sub", prefix: "" }, groups: { claim: "groups", prefix: "" } },
      },
    ]);
    const token = await issueTenantToken(issuer, {
      tenant: acme,
      subject: "carol",
      groups: ["g"],
      extra: {},
      expiresInSeconds: 60,
    });
    assert.deepEqual((await authn.authenticate(at(acme, token)))?.groups, ["g", "system:authenticated"]);
  } finally {
    await server.close();
  }
});

test("configuration is validated as kube's structured authentication configuration", () => {
  const base = config();
  assert.deepEqual(validateJWTAuthenticator(base), []);
  const errs = (c: JWTAuthenticatorConfig): string => validateJWTAuthenticator(c).join("\n");
  assert.match(errs(config({}, { url: "http://idp.example" })), /scheme must be https/);
  assert.match(errs(config({}, { audiences: ["a", "b"] })), /audienceMatchPolicy must be MatchAny/);
  assert.match(errs(config({}, { audiences: [] })), /at least one issuer.audiences/);
  assert.match(errs(config({ claimMappings: { username: { claim: "sub" } } })), /prefix is required/);
  assert.match(errs(config({}, { discoveryURL: idp.url })), /must be different/);
  assert.match(errs(config({}, { certificateAuthority: "nope" })), /PEM/);
  assert.match(validateJWTAuthenticators([base, base]).join("\n"), /jwt\[1\].issuer.url: Duplicate value/);
  // An authenticator refuses to run with an invalid configuration: an error, not a silent refusal.
  const broken = forAcme([config({}, { audiences: ["a", "b"] })]);
  return assert.rejects(
    idp.sign(key1, { sub: "a" }).then((t) => broken.authenticate(at(acme, t))),
    /invalid JWT authenticator/,
  );
});
