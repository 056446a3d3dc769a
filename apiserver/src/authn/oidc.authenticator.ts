// OpenID Connect issuers per tenant, configured as kube-apiserver's structured
// AuthenticationConfiguration `jwt[]` (apiserver.config.k8s.io, without CEL: claim mappings,
// and claim validation rules with requiredValue only). For each issuer: the discovery
// document fetched over HTTPS with the configured CA, its JWKS cached (jose's remote key set:
// an unknown kid refetches, at most once per cooldown; the cache expires so removed keys stop
// verifying), and kube's rules for the claims: iss exact, aud intersecting the audiences,
// exp required, `email` as user name only when email_verified is absent or true, groups as a
// string or a list, prefixes prepended.

import {
  createRemoteJWKSet,
  customFetch,
  jwtVerify,
  type FetchImplementation,
  type JWTPayload,
  type RemoteJWKSet,
} from "jose";
import type { Tenant } from "../tenancy/instance.ts";
import { httpsRequest } from "./https-client.ts";
import { isJoseError, unverifiedIssuer } from "./jwt-keys.ts";
import {
  bearerToken,
  withAuthenticatedGroup,
  type AuthRequest,
  type Authenticator,
  type UserInfo,
} from "./user.ts";
import { parsePemBundle } from "./x509-verify.ts";

/** apiserver.config.k8s.io JWTAuthenticator, the fields Multiplane supports. */
export interface JWTAuthenticatorConfig {
  readonly issuer: {
    readonly url: string;
    readonly discoveryURL?: string;
    readonly audiences: readonly string[];
    /** Must be "MatchAny" when there is more than one audience. */
    readonly audienceMatchPolicy?: "MatchAny" | "";
    /** PEM CA bundle for the discovery and JWKS endpoints; Node's default roots when absent. */
    readonly certificateAuthority?: string;
  };
  readonly claimValidationRules?: readonly { readonly claim: string; readonly requiredValue: string }[];
  readonly claimMappings: {
    /** `prefix` is required with a claim (it may be ""), as in kube's structured configuration. */
    readonly username: { readonly claim: string; readonly prefix?: string };
    readonly groups?: { readonly claim: string; readonly prefix?: string };
    readonly uid?: { readonly claim: string };
  };
}

/** The problems of one issuer's configuration, in kube's words where it has them; empty when valid. */
export function validateJWTAuthenticator(c: JWTAuthenticatorConfig, path = "jwt[0]"): string[] {
  const errs: string[] = [];
  const httpsURL = (field: string, value: string): void => {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      errs.push(`${field}: Invalid value: "${value}": must be a valid URL`);
      return;
    }
    if (u.protocol !== "https:") errs.push(`${field}: Invalid value: "${value}": URL scheme must be https`);
    if (u.username !== "" || u.password !== "")
      errs.push(`${field}: Invalid value: "${value}": URL must not contain a username or password`);
    if (u.search !== "") errs.push(`${field}: Invalid value: "${value}": URL must not contain a query`);
    if (u.hash !== "") errs.push(`${field}: Invalid value: "${value}": URL must not contain a fragment`);
  };
  if (c.issuer.url === "") errs.push(`${path}.issuer.url: Required value: URL is required`);
  else httpsURL(`${path}.issuer.url`, c.issuer.url);
  if (c.issuer.discoveryURL !== undefined) {
    httpsURL(`${path}.issuer.discoveryURL`, c.issuer.discoveryURL);
    if (c.issuer.discoveryURL === c.issuer.url) {
      errs.push(
        `${path}.issuer.discoveryURL: Invalid value: "${c.issuer.discoveryURL}": discoveryURL must be different from URL`,
      );
    }
  }
  const auds = c.issuer.audiences;
  if (auds.length === 0)
    errs.push(`${path}.issuer.audiences: Required value: at least one issuer.audiences is required`);
  if (auds.some((a) => a === ""))
    errs.push(`${path}.issuer.audiences: Required value: audience can't be empty`);
  if (new Set(auds).size !== auds.length) errs.push(`${path}.issuer.audiences: Duplicate value`);
  const policy = c.issuer.audienceMatchPolicy ?? "";
  if (auds.length > 1 && policy !== "MatchAny") {
    errs.push(
      `${path}.issuer.audienceMatchPolicy: Invalid value: "${policy}": audienceMatchPolicy must be MatchAny for multiple audiences`,
    );
  }
  if (c.issuer.certificateAuthority !== undefined) {
    try {
      if (parsePemBundle(c.issuer.certificateAuthority).length === 0) throw new Error("no certificate");
    } catch {
      errs.push(
        `${path}.issuer.certificateAuthority: Invalid value: "<omitted>": must be a valid PEM CA bundle`,
      );
    }
  }
  const { username, groups, uid } = c.claimMappings;
  if (username.claim === "")
    errs.push(`${path}.claimMappings.username: Required value: claim or expression is required`);
  else if (username.prefix === undefined)
    errs.push(
      `${path}.claimMappings.username.prefix: Required value: prefix is required when claim is set. It can be set to an empty string to disable prefixing`,
    );
  if (groups !== undefined && groups.claim !== "" && groups.prefix === undefined) {
    errs.push(
      `${path}.claimMappings.groups.prefix: Required value: prefix is required when claim is set. It can be set to an empty string to disable prefixing`,
    );
  }
  if (uid !== undefined && uid.claim === "")
    errs.push(`${path}.claimMappings.uid: Required value: claim or expression is required`);
  const seen = new Set<string>();
  for (const [i, rule] of (c.claimValidationRules ?? []).entries()) {
    if (rule.claim === "")
      errs.push(`${path}.claimValidationRules[${i}].claim: Required value: claim or expression is required`);
    if (seen.has(rule.claim))
      errs.push(`${path}.claimValidationRules[${i}].claim: Duplicate value: "${rule.claim}"`);
    seen.add(rule.claim);
  }
  return errs;
}

/** The problems of a tenant's whole `jwt[]` list (each issuer, and no issuer twice). */
export function validateJWTAuthenticators(list: readonly JWTAuthenticatorConfig[]): string[] {
  const errs = list.flatMap((c, i) => validateJWTAuthenticator(c, `jwt[${i}]`));
  const urls = new Set<string>();
  for (const [i, c] of list.entries()) {
    if (urls.has(c.issuer.url)) errs.push(`jwt[${i}].issuer.url: Duplicate value: "${c.issuer.url}"`);
    urls.add(c.issuer.url);
  }
  return errs;
}

/** The signature algorithms kube's OIDC authenticator accepts. */
export const supportedAlgorithms = [
  "RS256",
  "RS384",
  "RS512",
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
];

export interface OidcAuthenticatorOptions {
  /** Deadline of one discovery or JWKS request (default 10 s). */
  readonly timeoutMs?: number;
  /** Least time between two JWKS fetches an unknown kid triggers (default 30 s, jose's). */
  readonly jwksCooldownMs?: number;
  /** How long fetched keys are trusted before they are fetched again (default 10 min). */
  readonly jwksMaxAgeMs?: number;
}

const joseErrorsOfABrokenIssuer = new Set(["ERR_JWKS_TIMEOUT", "ERR_JWKS_INVALID", "ERR_JOSE_GENERIC"]);

/** One issuer: its discovery, its key cache, its claim rules. */
class IssuerVerifier {
  private keys: Promise<RemoteJWKSet> | undefined;
  private readonly fetch: FetchImplementation;

  constructor(
    private readonly config: JWTAuthenticatorConfig,
    private readonly options: OidcAuthenticatorOptions,
  ) {
    const errs = validateJWTAuthenticator(config);
    if (errs.length > 0)
      throw new Error(`invalid JWT authenticator for ${config.issuer.url}: ${errs.join("; ")}`);
    const ca = config.issuer.certificateAuthority;
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = async (url, init) => {
      const res = await httpsRequest(url, {
        method: "GET",
        headers: { accept: "application/json" },
        timeoutMs,
        signal: init.signal,
        ...(ca === undefined ? {} : { ca }),
      });
      return new Response(res.status === 204 || res.status === 304 ? null : res.body, { status: res.status });
    };
  }

  /** The key set, after discovery (once; retried on the next token when it failed). */
  private keySet(): Promise<RemoteJWKSet> {
    this.keys ??= this.discover().catch((err: unknown) => {
      this.keys = undefined;
      throw err;
    });
    return this.keys;
  }

  private async discover(): Promise<RemoteJWKSet> {
    const { url, discoveryURL } = this.config.issuer;
    const where = discoveryURL ?? `${url.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    const res = await this.fetch(where, {
      headers: new Headers(),
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    if (res.status !== 200) throw new Error(`oidc: discovery ${where}: HTTP ${res.status}`);
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // The discovery document must name the configured issuer, also when fetched from discoveryURL.
    if (doc.issuer !== url)
      throw new Error(
        `oidc: issuer did not match the issuer returned by provider, expected "${url}" got "${String(doc.issuer)}"`,
      );
    if (typeof doc.jwks_uri !== "string" || !doc.jwks_uri.startsWith("https://"))
      throw new Error(`oidc: discovery ${where}: jwks_uri must be an https URL`);
    return createRemoteJWKSet(new URL(doc.jwks_uri), {
      timeoutDuration: this.options.timeoutMs ?? 10_000,
      cooldownDuration: this.options.jwksCooldownMs ?? 30_000,
      cacheMaxAge: this.options.jwksMaxAgeMs ?? 600_000,
      [customFetch]: this.fetch,
    });
  }

  async authenticate(token: string): Promise<UserInfo | null> {
    const keys = await this.keySet();
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: this.config.issuer.url,
        audience: [...this.config.issuer.audiences],
        algorithms: supportedAlgorithms,
        requiredClaims: ["exp"],
      }));
    } catch (err) {
      // A token that does not verify is refused; an issuer we cannot reach is broken.
      if (isJoseError(err) && !joseErrorsOfABrokenIssuer.has((err as { code: string }).code)) return null;
      throw err;
    }
    return this.user(claims);
  }

  private user(claims: JWTPayload): UserInfo | null {
    for (const rule of this.config.claimValidationRules ?? []) {
      if (claims[rule.claim] !== rule.requiredValue) return null;
    }
    const { username, groups: groupsMapping, uid: uidMapping } = this.config.claimMappings;
    const name = claims[username.claim];
    if (typeof name !== "string" || name === "") return null;
    if (username.claim === "email" && "email_verified" in claims) {
      // kube: an email is a user name only when the issuer verified it (if it says).
      if (claims["email_verified"] !== true) return null;
    }
    let groups: string[] = [];
    if (groupsMapping !== undefined && groupsMapping.claim !== "") {
      const g = claims[groupsMapping.claim];
      if (typeof g === "string") groups = [g];
      else if (Array.isArray(g) && g.every((x) => typeof x === "string")) groups = g;
      else if (g !== undefined && g !== null) return null;
      groups = groups.map((x) => `${groupsMapping.prefix ?? ""}${x}`);
    }
    let uid = "";
    if (uidMapping !== undefined) {
      const u = claims[uidMapping.claim];
      if (typeof u !== "string") return null;
      uid = u;
    }
    return {
      name: `${username.prefix ?? ""}${name}`,
      uid,
      groups: withAuthenticatedGroup(groups),
      extra: {},
    };
  }
}

/**
 * Answers a tenant's `jwt[]` configuration. Called on every request with a bearer token; return
 * the same objects while the configuration is unchanged: a new object starts a new discovery
 * and key cache. Never changes what it returns.
 */
export type TenantIssuers = (tenant: Tenant) => readonly JWTAuthenticatorConfig[];

/** The OIDC authenticator of every tenant. Built once per process. */
export class OidcAuthenticator implements Authenticator {
  private readonly verifiers = new WeakMap<JWTAuthenticatorConfig, IssuerVerifier>();

  constructor(
    private readonly issuersFor: TenantIssuers,
    private readonly options: OidcAuthenticatorOptions = {},
  ) {}

  async authenticate(req: AuthRequest): Promise<UserInfo | null> {
    const token = bearerToken(req);
    const iss = token === undefined ? undefined : unverifiedIssuer(token);
    if (token === undefined || iss === undefined) return null;
    // Only this tenant's issuers: a token of an issuer configured for another tenant is not ours.
    const config = this.issuersFor(req.tenant).find((c) => c.issuer.url === iss);
    if (config === undefined) return null;
    let verifier = this.verifiers.get(config);
    if (verifier === undefined) {
      verifier = new IssuerVerifier(config, this.options);
      this.verifiers.set(config, verifier);
    }
    return verifier.authenticate(token);
  }
}
