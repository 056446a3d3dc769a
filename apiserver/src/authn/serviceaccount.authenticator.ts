// ServiceAccount tokens, as kube-apiserver mints and checks them (pkg/serviceaccount), bound to
// a tenant: bound tokens of the TokenRequest API (iss = our issuer, aud, exp, and the
// `kubernetes.io` claim naming the ServiceAccount and the Secret or Pod the token is bound to)
// and legacy Secret-based tokens (iss `kubernetes/serviceaccount`, no expiry). Both are signed
// by the Multiplane key set and carry the tenant-UID claim. A token authenticates only while
// its ServiceAccount (and bound object) still exists with the UID the token names: the
// lookup answers from the tenant's watch cache.

import { randomUUID, timingSafeEqual } from "node:crypto";
import { SignJWT, type JWTPayload } from "jose";
import type { Tenant } from "../tenancy/instance.ts";
import {
  clockToleranceSeconds,
  signingAlgorithm,
  tenantAudience,
  tenantUidClaim,
  unverifiedIssuer,
  type JwtIssuer,
} from "./jwt-keys.ts";
import { verifyWithKeySet } from "./multiplane-jwt.authenticator.ts";
import {
  bearerToken,
  credentialIdKey,
  withAuthenticatedGroup,
  type AuthRequest,
  type Authenticator,
  type UserInfo,
} from "./user.ts";

/** The issuer of legacy Secret-based tokens. */
export const legacyIssuer = "kubernetes/serviceaccount";

/** The private claims of legacy tokens (kube's legacyPrivateClaims). */
export const legacyClaims = {
  namespace: "kubernetes.io/serviceaccount/namespace",
  secretName: "kubernetes.io/serviceaccount/secret.name",
  serviceAccountName: "kubernetes.io/serviceaccount/service-account.name",
  serviceAccountUID: "kubernetes.io/serviceaccount/service-account.uid",
} as const;

/** The keys of user extra a bound token adds (k8s.io/apiserver's serviceaccount package). */
export const podNameKey = "authentication.kubernetes.io/pod-name";
export const podUIDKey = "authentication.kubernetes.io/pod-uid";

/** A legacy token Secret with this label no longer authenticates (kube ≥ 1.29's legacy token cleaner). */
export const legacyTokenInvalidSinceLabel = "kubernetes.io/legacy-token-invalid-since";

/** The shortest bound token the TokenRequest API gives (kube validation: 10 minutes). */
export const minExpirationSeconds = 600;
/** TokenRequest's default expirationSeconds. */
export const defaultExpirationSeconds = 3600;

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function serviceAccountGroups(namespace: string): string[] {
  return ["system:serviceaccounts", `system:serviceaccounts:${namespace}`];
}

/** What the authenticator needs to know of an object: its UID, and whether it is being deleted. */
export interface LookedUpObject {
  readonly uid: string;
  /** RFC 3339, as metadata.deletionTimestamp. */
  readonly deletionTimestamp?: string;
}

export interface LookedUpSecret extends LookedUpObject {
  /** The Secret's data as stored (base64 values); a legacy token must equal data.token. */
  readonly data?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Answers the authenticator's questions about the tenant's objects, from memory (the tenant's
 * watch cache). Implemented by whoever wires the chain; called on every ServiceAccount token; must
 * not change what it returns. Undefined means "does not exist". Throwing means the lookup is
 * broken (the request fails with the error, it is not refused as if the object were gone).
 */
export interface ServiceAccountLookup {
  serviceAccount(
    tenant: Tenant,
    namespace: string,
    name: string,
  ): LookedUpObject | undefined | Promise<LookedUpObject | undefined>;
  secret(
    tenant: Tenant,
    namespace: string,
    name: string,
  ): LookedUpSecret | undefined | Promise<LookedUpSecret | undefined>;
  /** Needed only for tokens bound to a Pod; without it those tokens are refused. */
  pod?(
    tenant: Tenant,
    namespace: string,
    name: string,
  ): LookedUpObject | undefined | Promise<LookedUpObject | undefined>;
}

export interface BoundObjectRef {
  readonly kind: "Secret" | "Pod";
  readonly name: string;
  readonly uid: string;
}

export interface ServiceAccountTokenRequest {
  readonly tenant: Tenant;
  readonly namespace: string;
  /** The ServiceAccount's name and UID. */
  readonly name: string;
  readonly uid: string;
  /** Defaults to the tenant's API audience; a token for other audiences does not authenticate here. */
  readonly audiences?: readonly string[];
  readonly expirationSeconds?: number;
  readonly boundObject?: BoundObjectRef;
}

/** The TokenRequest status: the token and when it expires (RFC 3339). */
export interface ServiceAccountToken {
  readonly token: string;
  readonly expirationTimestamp: string;
}

interface KubernetesClaim {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
}

const rfc3339 = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Mints a bound ServiceAccount token (the TokenRequest API's job). Called by the
 * serviceaccounts/token subresource and by the operator; pure apart from the clock.
 */
export async function issueServiceAccountToken(
  issuer: JwtIssuer,
  req: ServiceAccountTokenRequest,
): Promise<ServiceAccountToken> {
  const expirationSeconds = req.expirationSeconds ?? defaultExpirationSeconds;
  if (
    !Number.isInteger(expirationSeconds) ||
    expirationSeconds < minExpirationSeconds ||
    expirationSeconds > 2 ** 32
  ) {
    throw new Error(
      `may not specify a duration less than ${minExpirationSeconds} seconds or longer than 2^32 seconds`,
    );
  }
  const audiences =
    req.audiences === undefined || req.audiences.length === 0
      ? [tenantAudience(req.tenant)]
      : [...req.audiences];
  const claim: KubernetesClaim = {
    namespace: req.namespace,
    serviceaccount: { name: req.name, uid: req.uid },
  };
  if (req.boundObject?.kind === "Pod") claim.pod = { name: req.boundObject.name, uid: req.boundObject.uid };
  if (req.boundObject?.kind === "Secret")
    claim.secret = { name: req.boundObject.name, uid: req.boundObject.uid };
  const now = Math.floor(Date.now() / 1000);
  const exp = now + expirationSeconds;
  const key = issuer.keys.signingKey;
  const token = await new SignJWT({ "kubernetes.io": claim, [tenantUidClaim]: req.tenant.uid })
    .setProtectedHeader({ alg: signingAlgorithm, kid: key.kid })
    .setIssuer(issuer.url)
    .setSubject(serviceAccountUsername(req.namespace, req.name))
    .setAudience(audiences)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(key.privateKey);
  return { token, expirationTimestamp: rfc3339(exp) };
}

export interface LegacyTokenRequest {
  readonly tenant: Tenant;
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly serviceAccountUID: string;
  readonly secretName: string;
}

/**
 * Mints a legacy token for a `kubernetes.io/service-account-token` Secret (kube's token
 * controller). Called by the controller that fills such Secrets; it never expires.
 */
export function legacyServiceAccountToken(issuer: JwtIssuer, req: LegacyTokenRequest): Promise<string> {
  const key = issuer.keys.signingKey;
  return new SignJWT({
    [legacyClaims.namespace]: req.namespace,
    [legacyClaims.secretName]: req.secretName,
    [legacyClaims.serviceAccountName]: req.serviceAccountName,
    [legacyClaims.serviceAccountUID]: req.serviceAccountUID,
    [tenantUidClaim]: req.tenant.uid,
  })
    .setProtectedHeader({ alg: signingAlgorithm, kid: key.kid })
    .setIssuer(legacyIssuer)
    .setSubject(serviceAccountUsername(req.namespace, req.serviceAccountName))
    .sign(key.privateKey);
}

export interface ServiceAccountAuthenticatorOptions {
  /** The tenant's API audiences (kube's --api-audiences); default [tenantAudience(tenant)]. */
  readonly apiAudiences?: (tenant: Tenant) => readonly string[];
  /** Accept legacy Secret-based tokens (default true, as kube). */
  readonly legacyTokens?: boolean;
}

const isRef = (v: unknown): v is { name: string; uid: string } =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as { name?: unknown }).name === "string" &&
  typeof (v as { uid?: unknown }).uid === "string";

function kubernetesClaim(payload: JWTPayload): KubernetesClaim | undefined {
  const k = payload["kubernetes.io"];
  if (typeof k !== "object" || k === null) return undefined;
  const c = k as Record<string, unknown>;
  if (
    typeof c["namespace"] !== "string" ||
    c["namespace"] === "" ||
    !isRef(c["serviceaccount"]) ||
    c["serviceaccount"].name === ""
  )
    return undefined;
  if (c["pod"] !== undefined && !isRef(c["pod"])) return undefined;
  if (c["secret"] !== undefined && !isRef(c["secret"])) return undefined;
  return c as unknown as KubernetesClaim;
}

/** Is the object gone, or deleted longer ago than the clock tolerance (kube's invalidIfDeletedBefore)? */
function gone(obj: LookedUpObject | undefined, uid: string): boolean {
  if (obj === undefined || obj.uid !== uid) return true;
  if (obj.deletionTimestamp === undefined) return false;
  return Date.parse(obj.deletionTimestamp) < Date.now() - clockToleranceSeconds * 1000;
}

function sameToken(stored: string | undefined, token: string): boolean {
  if (stored === undefined) return false;
  const a = Buffer.from(stored, "base64");
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Authenticates ServiceAccount tokens of the request's tenant. Built once per process. */
export class ServiceAccountAuthenticator implements Authenticator {
  constructor(
    private readonly issuer: JwtIssuer,
    private readonly lookup: ServiceAccountLookup,
    private readonly options: ServiceAccountAuthenticatorOptions = {},
  ) {}

  async authenticate(req: AuthRequest): Promise<UserInfo | null> {
    const token = bearerToken(req);
    if (token === undefined) return null;
    const iss = unverifiedIssuer(token);
    if (iss === this.issuer.url) return this.bound(req.tenant, token);
    if (iss === legacyIssuer && this.options.legacyTokens !== false) return this.legacy(req.tenant, token);
    return null;
  }

  private async bound(tenant: Tenant, token: string): Promise<UserInfo | null> {
    const audiences = this.options.apiAudiences?.(tenant) ?? [tenantAudience(tenant)];
    // The audience must intersect the tenant's API audiences (kube refuses a token for another audience).
    const payload = await verifyWithKeySet(this.issuer.keys, token, {
      issuer: this.issuer.url,
      audience: audiences,
      requiredClaims: ["exp"],
    });
    if (payload === null || payload[tenantUidClaim] !== tenant.uid) return null;
    const claim = kubernetesClaim(payload);
    if (claim === undefined) return null;
    const { namespace, serviceaccount: sa, secret, pod } = claim;
    if (payload.sub !== serviceAccountUsername(namespace, sa.name)) return null;

    // The ServiceAccount, and the object the token is bound to, must still be there with the same UID.
    if (gone(await this.lookup.serviceAccount(tenant, namespace, sa.name), sa.uid)) return null;
    if (secret !== undefined && gone(await this.lookup.secret(tenant, namespace, secret.name), secret.uid))
      return null;
    if (
      pod !== undefined &&
      (this.lookup.pod === undefined || gone(await this.lookup.pod(tenant, namespace, pod.name), pod.uid))
    ) {
      return null;
    }

    const extra: Record<string, readonly string[]> = {};
    if (pod !== undefined && pod.name !== "" && pod.uid !== "") {
      extra[podNameKey] = [pod.name];
      extra[podUIDKey] = [pod.uid];
    }
    if (typeof payload.jti === "string" && payload.jti !== "")
      extra[credentialIdKey] = [`JTI=${payload.jti}`];
    return this.user(namespace, sa.name, sa.uid, extra);
  }

  private async legacy(tenant: Tenant, token: string): Promise<UserInfo | null> {
    const payload = await verifyWithKeySet(this.issuer.keys, token, { issuer: legacyIssuer });
    if (payload === null || payload[tenantUidClaim] !== tenant.uid) return null;
    const [namespace, secretName, saName, saUID] = [
      payload[legacyClaims.namespace],
      payload[legacyClaims.secretName],
      payload[legacyClaims.serviceAccountName],
      payload[legacyClaims.serviceAccountUID],
    ];
    for (const v of [namespace, secretName, saName, saUID])
      if (typeof v !== "string" || v === "") return null;
    const [ns, secretN, name, uid] = [namespace, secretName, saName, saUID] as [
      string,
      string,
      string,
      string,
    ];
    if (payload.sub !== serviceAccountUsername(ns, name)) return null;

    // The Secret must still hold this very token and not be marked invalid; then the ServiceAccount.
    const stored = await this.lookup.secret(tenant, ns, secretN);
    if (stored === undefined || stored.deletionTimestamp !== undefined) return null;
    if (!sameToken(stored.data?.["token"], token)) return null;
    if ((stored.labels?.[legacyTokenInvalidSinceLabel] ?? "") !== "") return null;
    const sa = await this.lookup.serviceAccount(tenant, ns, name);
    if (sa === undefined || sa.deletionTimestamp !== undefined || sa.uid !== uid) return null;
    return this.user(ns, name, uid, {});
  }

  private user(
    namespace: string,
    name: string,
    uid: string,
    extra: Record<string, readonly string[]>,
  ): UserInfo {
    return {
      name: serviceAccountUsername(namespace, name),
      uid,
      groups: withAuthenticatedGroup(serviceAccountGroups(namespace)),
      extra,
    };
  }
}
