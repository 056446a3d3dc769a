// Bearer tokens checked by a remote service (kube's --authentication-token-webhook-config-file):
// a TokenReview (authentication.k8s.io/v1) POSTed over HTTPS, with the tenant's audiences in
// spec.audiences, answered by status.authenticated and status.user. Answers are cached by a
// hash of (tenant, audiences, token), never the token itself: authenticated ones for
// authorizedTTL, refusals for unauthorizedTTL; errors are not cached (kube's token cache).
// Concurrent requests with the same token share one review. kube-apiserver caches both
// answers for --authentication-token-webhook-cache-ttl (2m); the shorter refusal TTL here
// (30 s, the authorization webhook's default) lets a newly issued token work sooner.

import { createHash } from "node:crypto";
import type { Tenant } from "../tenancy/instance.ts";
import { httpsRequest } from "./https-client.ts";
import { tenantAudience } from "./jwt-keys.ts";
import {
  bearerToken,
  withAuthenticatedGroup,
  type AuthRequest,
  type Authenticator,
  type UserInfo,
} from "./user.ts";

export interface WebhookTokenOptions {
  /** The TokenReview endpoint (https). */
  readonly url: string;
  /** PEM CA bundle the endpoint's certificate must chain to; Node's default roots when absent. */
  readonly certificateAuthority?: string;
  /** A client certificate for the endpoint, when it wants one. */
  readonly clientCertificate?: { readonly certPem: string; readonly keyPem: string };
  /** Deadline of one review (default 10 s). */
  readonly timeoutMs?: number;
  /** The audiences a token must be good for at a tenant; default [tenantAudience(tenant)]. */
  readonly audiences?: (tenant: Tenant) => readonly string[];
  /** How long an authenticated answer is reused (default 2 min). */
  readonly authorizedTTLMs?: number;
  /** How long a refusal is reused (default 30 s). */
  readonly unauthorizedTTLMs?: number;
  /** Most answers kept (default 10 000); the oldest go first. */
  readonly maxCacheEntries?: number;
  /** The clock (tests move it). */
  readonly now?: () => number;
}

/** The TokenReview status fields the authenticator reads. */
interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

interface CacheEntry {
  readonly expires: number;
  readonly user: UserInfo | null;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

export class WebhookTokenAuthenticator implements Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<{ user: UserInfo | null; cacheable: boolean }>>();
  private readonly now: () => number;

  constructor(private readonly options: WebhookTokenOptions) {
    if (!options.url.startsWith("https://"))
      throw new Error(`token webhook ${options.url}: must be an https URL`);
    this.now = options.now ?? Date.now;
  }

  async authenticate(req: AuthRequest): Promise<UserInfo | null> {
    const token = bearerToken(req);
    if (token === undefined) return null;
    const audiences = [...(this.options.audiences?.(req.tenant) ?? [tenantAudience(req.tenant)])];
    const key = createHash("sha256")
      .update(JSON.stringify([req.tenant.uid, audiences, token]))
      .digest("hex");

    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expires > this.now()) return cached.user;

    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.review(token, audiences).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const { user, cacheable } = await pending;
    if (cacheable) this.remember(key, user);
    return user;
  }

  private remember(key: string, user: UserInfo | null): void {
    const ttl =
      user === null ? (this.options.unauthorizedTTLMs ?? 30_000) : (this.options.authorizedTTLMs ?? 120_000);
    const max = this.options.maxCacheEntries ?? 10_000;
    this.cache.delete(key);
    if (this.cache.size >= max) {
      const now = this.now();
      for (const [k, e] of this.cache) if (e.expires <= now) this.cache.delete(k);
      // Still full: drop the oldest (a Map iterates in insertion order).
      for (const k of this.cache.keys()) {
        if (this.cache.size < max) break;
        this.cache.delete(k);
      }
    }
    this.cache.set(key, { expires: this.now() + ttl, user });
  }

  /** One TokenReview. Throws when the webhook cannot be asked or answers nonsense. */
  private async review(
    token: string,
    audiences: string[],
  ): Promise<{ user: UserInfo | null; cacheable: boolean }> {
    const { url, certificateAuthority: ca, clientCertificate: client } = this.options;
    const body = JSON.stringify({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      metadata: { creationTimestamp: null },
      spec: { token, audiences },
      status: {},
    });
    const res = await httpsRequest(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body,
      timeoutMs: this.options.timeoutMs ?? 10_000,
      ...(ca === undefined ? {} : { ca }),
      ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }),
    });
    if (res.status < 200 || res.status > 299) throw new Error(`token webhook ${url}: HTTP ${res.status}`);
    let status: TokenReviewStatus;
    try {
      status = (JSON.parse(res.body.toString("utf8")) as { status?: TokenReviewStatus }).status ?? {};
    } catch {
      throw new Error(`token webhook ${url}: the answer is not JSON`);
    }
    if (status.authenticated !== true) {
      // kube turns status.error into an error and does not cache it; here it is a refusal, not cached.
      return { user: null, cacheable: typeof status.error !== "string" || status.error === "" };
    }
    // The webhook may narrow the audiences; then they must meet the tenant's (kube's webhook rule).
    if (
      status.audiences !== undefined &&
      status.audiences.length > 0 &&
      !status.audiences.some((a) => audiences.includes(a))
    ) {
      return { user: null, cacheable: true };
    }
    const u = status.user ?? {};
    if (typeof u.username !== "string" || u.username === "")
      throw new Error(`token webhook ${url}: authenticated without a username`);
    const groups = u.groups ?? [];
    const extra = u.extra ?? {};
    if (!isStrings(groups) || Object.values(extra).some((v) => !isStrings(v))) {
      throw new Error(`token webhook ${url}: malformed user`);
    }
    return {
      user: {
        name: u.username,
        uid: typeof u.uid === "string" ? u.uid : "",
        groups: withAuthenticatedGroup(groups),
        extra,
      },
      cacheable: true,
    };
  }
}
