// A cache of verified Multiplane tokens (kube keeps one in front of its token authenticators,
// k8s.io/apiserver/pkg/authentication/token/cache): a client sends the same bearer token on
// every request, and verifying an ES256 signature from scratch each time is most of what
// authentication costs. Only successes are kept. An answer is exact, not merely recent: what a
// verification depends on is all in the key or checked at every hit —
//   the token and the tenant (name for `aud`, UID for the tenant-UID claim)   the key
//   the key set (a retired key must stop authenticating at once)               its generation
//   the clock (exp and nbf, with the same leeway as the verification)          at every hit
// Keys are SHA-256 digests, so the cache holds no bearer token. Bounded: the oldest entry
// goes first when it is full.

import { hash } from "node:crypto";
import { clockToleranceSeconds } from "./jwt-keys.ts";

export interface VerifiedToken<T> {
  readonly value: T;
  /** The JwtKeySet generation the signature was verified against. */
  readonly generation: number;
  /** The token's `exp` and `nbf` (seconds since the epoch). */
  readonly expires: number;
  readonly notBefore?: number;
}

export interface VerifiedTokenCacheOptions {
  /** Default 4096 tokens. */
  readonly maxEntries?: number;
  /** Milliseconds since the epoch (tests). */
  readonly now?: () => number;
}

/**
 * Held by one authenticator, for its own kind of token; called on every request it sees.
 * The values handed out are shared between requests: the caller must not change them.
 */
export class VerifiedTokenCache<T> {
  readonly #entries = new Map<string, VerifiedToken<T>>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: VerifiedTokenCacheOptions = {}) {
    this.#max = opts.maxEntries ?? 4096;
    this.#now = opts.now ?? Date.now;
  }

  /** The cache key of a token presented at a tenant. */
  static key(token: string, tenant: { readonly name: string; readonly uid: string }): string {
    return hash("sha256", `${tenant.uid}\0${tenant.name}\0${token}`, "base64url");
  }

  /**
   * The value verified for `key`, if it was verified against this key set generation and the
   * token is within its validity now (jose's checks: exp <= now - leeway and nbf > now + leeway fail).
   */
  get(key: string, generation: number): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = Math.floor(this.#now() / 1000);
    if (
      entry.generation !== generation ||
      entry.expires <= now - clockToleranceSeconds ||
      (entry.notBefore !== undefined && entry.notBefore > now + clockToleranceSeconds)
    ) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, entry: VerifiedToken<T>): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry);
  }

  get size(): number {
    return this.#entries.size;
  }
}
