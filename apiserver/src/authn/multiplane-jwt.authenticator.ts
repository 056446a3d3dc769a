// Multiplane's own tenant tokens: ES256 JWTs minted by the operator or the CLI for a user of
// one tenant (kubeconfigs), and the authenticator that takes them back. A token names its
// tenant twice: `aud` = tenantAudience(tenant) and the tenant-UID claim, so it is worthless at
// any other tenant, and at a re-created tenant of the same name. Also the two public documents
// kube-apiserver serves for its issuer (/.well-known/openid-configuration, /openid/v1/jwks),
// which describe the same keys for relying parties.

import { randomUUID } from "node:crypto";
import { jwtVerify, SignJWT, type JWK, type JWTPayload } from "jose";
import type { Tenant } from "../tenancy/instance.ts";
import {
  clockToleranceSeconds,
  isJoseError,
  signingAlgorithm,
  tenantAudience,
  tenantUidClaim,
  unverifiedIssuer,
  type JwtIssuer,
  type JwtKeySet,
} from "./jwt-keys.ts";
import {
  bearerToken,
  credentialIdKey,
  withAuthenticatedGroup,
  type AuthRequest,
  type Authenticator,
  type UserInfo,
} from "./user.ts";
import { VerifiedTokenCache, type VerifiedTokenCacheOptions } from "./verified-token.cache.ts";

/** The private claims of a tenant token. */
export const tenantTokenClaims = {
  /** "user": tells a tenant token from a ServiceAccount token signed by the same keys. */
  kind: "multiplane.dev/kind",
  userUid: "multiplane.dev/uid",
  groups: "groups",
  extra: "multiplane.dev/extra",
} as const;

const serviceAccountPrefix = "system:serviceaccount:";

export interface TenantTokenRequest {
  readonly tenant: Tenant;
  /** The user name (`sub`); never a ServiceAccount's (those have their own tokens). */
  readonly subject: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
  readonly expiresInSeconds: number;
}

/** Mints a tenant token. Called by whoever hands out tenant credentials (operator, CLI); pure. */
export async function issueTenantToken(issuer: JwtIssuer, req: TenantTokenRequest): Promise<string> {
  if (req.subject === "") throw new Error("tenant token: subject is empty");
  if (req.subject.startsWith(serviceAccountPrefix)) {
    throw new Error("tenant token: a ServiceAccount gets a ServiceAccount token, not a tenant token");
  }
  if (!Number.isInteger(req.expiresInSeconds) || req.expiresInSeconds <= 0) {
    throw new Error(`tenant token: expiresInSeconds must be a positive integer, not ${req.expiresInSeconds}`);
  }
  const now = Math.floor(Date.now() / 1000);
  const key = issuer.keys.signingKey;
  return new SignJWT({
    [tenantTokenClaims.kind]: "user",
    [tenantUidClaim]: req.tenant.uid,
    ...(req.uid === undefined ? {} : { [tenantTokenClaims.userUid]: req.uid }),
    [tenantTokenClaims.groups]: [...req.groups],
    [tenantTokenClaims.extra]: Object.fromEntries(Object.entries(req.extra).map(([k, v]) => [k, [...v]])),
  })
    .setProtectedHeader({ alg: signingAlgorithm, kid: key.kid, typ: "JWT" })
    .setIssuer(issuer.url)
    .setAudience([tenantAudience(req.tenant)])
    .setSubject(req.subject)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + req.expiresInSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/**
 * Verifies a compact JWT's signature against the key set (the key its `kid` names, or every key
 * when it names none, as kube does) and its standard claims. Null when it does not verify.
 */
export async function verifyWithKeySet(
  keys: JwtKeySet,
  token: string,
  options: { issuer: string; audience?: readonly string[]; requiredClaims?: readonly string[] },
): Promise<JWTPayload | null> {
  let kid: string | undefined;
  try {
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as {
      kid?: unknown;
    };
    kid = typeof header.kid === "string" && header.kid !== "" ? header.kid : undefined;
  } catch {
    return null;
  }
  const candidates =
    kid === undefined ? keys.verificationKeys : [keys.key(kid)].filter((k) => k !== undefined);
  for (const key of candidates) {
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [signingAlgorithm],
        issuer: options.issuer,
        ...(options.audience === undefined ? {} : { audience: [...options.audience] }),
        ...(options.requiredClaims === undefined ? {} : { requiredClaims: [...options.requiredClaims] }),
        clockTolerance: clockToleranceSeconds,
      });
      return payload;
    } catch (err) {
      if (!isJoseError(err)) throw err;
    }
  }
  return null;
}

const stringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

/**
 * Takes back tenant tokens minted by `issueTenantToken`. Built once per process; keeps the users
 * of the tokens it verified (VerifiedTokenCache: exact per tenant, key set generation and clock).
 */
export class MultiplaneJwtAuthenticator implements Authenticator {
  readonly #verified: VerifiedTokenCache<UserInfo>;

  constructor(
    private readonly issuer: JwtIssuer,
    cache: VerifiedTokenCacheOptions = {},
  ) {
    this.#verified = new VerifiedTokenCache(cache);
  }

  async authenticate(req: AuthRequest): Promise<UserInfo | null> {
    const token = bearerToken(req);
    if (token === undefined) return null;
    const key = VerifiedTokenCache.key(token, req.tenant);
    const generation = this.issuer.keys.generation;
    const cached = this.#verified.get(key, generation);
    if (cached !== undefined) return cached;
    // Not ours unless our issuer signed it (OIDC issuers and the webhook may know the token).
    if (unverifiedIssuer(token) !== this.issuer.url) return null;
    const claims = await verifyWithKeySet(this.issuer.keys, token, {
      issuer: this.issuer.url,
      audience: [tenantAudience(req.tenant)],
      requiredClaims: ["exp"],
    });
    if (claims === null) return null;
    // Both the audience and the UID must name this tenant: the UID refuses a token minted for
    // a deleted tenant whose name was taken again.
    if (claims[tenantTokenClaims.kind] !== "user" || claims[tenantUidClaim] !== req.tenant.uid) return null;
    const sub = claims.sub;
    if (sub === undefined || sub === "" || sub.startsWith(serviceAccountPrefix)) return null;
    const groups = claims[tenantTokenClaims.groups] ?? [];
    const uid = claims[tenantTokenClaims.userUid] ?? "";
    const rawExtra = claims[tenantTokenClaims.extra] ?? {};
    if (!stringArray(groups) || typeof uid !== "string" || typeof rawExtra !== "object" || rawExtra === null)
      return null;
    const extra: Record<string, readonly string[]> = {};
    for (const [k, v] of Object.entries(rawExtra)) {
      if (!stringArray(v)) return null;
      extra[k] = Object.freeze([...v]);
    }
    if (typeof claims.jti === "string" && claims.jti !== "")
      extra[credentialIdKey] = Object.freeze([`JTI=${claims.jti}`]);
    // Frozen through and through: one object answers every request with the token (and its
    // audit form is made once: audit/event.ts auditUser).
    const user: UserInfo = Object.freeze({
      name: sub,
      uid,
      groups: Object.freeze(withAuthenticatedGroup(groups)),
      extra: Object.freeze(extra),
    });
    // jose checked exp (required) and nbf (when present) are numbers.
    this.#verified.set(key, {
      value: user,
      generation,
      expires: claims.exp!,
      ...(claims.nbf !== undefined ? { notBefore: claims.nbf } : {}),
    });
    return user;
  }
}

/** kube-apiserver's /.well-known/openid-configuration document, field for field. */
export interface OpenIDConfiguration {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly response_types_supported: readonly string[];
  readonly subject_types_supported: readonly string[];
  readonly id_token_signing_alg_values_supported: readonly string[];
}

/** The path kube-apiserver serves its public keys at. */
export const jwksPath = "/openid/v1/jwks";
/** The content types and caching kube-apiserver answers the two documents with. */
export const openidConfigurationContentType = "application/json";
export const jwksContentType = "application/jwk-set+json";
export const openidCacheControl = "public, max-age=3600";

/**
 * The discovery document for `issuer`. `jwksURI` defaults to the issuer's URL plus /openid/v1/jwks
 * (kube takes it from --service-account-jwks-uri or its external address). Called by the
 * handler that serves the document; pure.
 */
export function openidConfiguration(issuer: string, jwksURI?: string): OpenIDConfiguration {
  return {
    issuer,
    jwks_uri: jwksURI ?? `${issuer.replace(/\/+$/, "")}${jwksPath}`,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [signingAlgorithm],
  };
}

/** The JWK set served at /openid/v1/jwks: every verification key, public parts only. */
export function jwksDocument(keys: JwtKeySet): Promise<{ keys: JWK[] }> {
  return keys.jwks();
}
