// The front proxy's identity headers (kube's --requestheader-* flags): X-Remote-User,
// X-Remote-Group and X-Remote-Extra-<key> are believed only from a client whose certificate
// chains to the requestheader CA and whose CN is one of the allowed names (any CN of that CA
// when the list is empty). From anyone else the headers are ignored: not ours (null), never
// an error, so a request that merely carries such headers gets no identity from them.

import type { X509Certificate } from "node:crypto";
import { withAuthenticatedGroup, type AuthRequest, type Authenticator, type UserInfo } from "./user.ts";
import { subjectOf, verifyClientChain } from "./x509-verify.ts";

export interface RequestHeaderOptions {
  /** The CA the proxy's client certificate must chain to (--requestheader-client-ca-file). */
  readonly clientCA: readonly X509Certificate[];
  /** The proxy's allowed CNs (--requestheader-allowed-names); empty: any CN from the CA. */
  readonly allowedNames: readonly string[];
  /** Default ["X-Remote-User"]: the first non-empty one names the user. */
  readonly usernameHeaders?: readonly string[];
  /** Default []: the first non-empty one is the user's UID (--requestheader-uid-headers). */
  readonly uidHeaders?: readonly string[];
  /** Default ["X-Remote-Group"]: every value of every one is a group. */
  readonly groupHeaders?: readonly string[];
  /** Default ["X-Remote-Extra-"]: the rest of the header name, lowercased and %-decoded, is the extra key. */
  readonly extraHeaderPrefixes?: readonly string[];
}

/** Every value of a header, repeated headers kept apart when the request has them distinct. */
function values(req: AuthRequest, name: string): readonly string[] {
  const distinct = req.headersDistinct?.[name];
  if (distinct !== undefined) return distinct;
  const v = req.headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The first non-empty value of the first of `names` that has one; "" when none has. */
function firstValue(req: AuthRequest, names: readonly string[]): string {
  for (const name of names) {
    if (req.headers[name] === undefined) continue; // the common case: not sent at all
    for (const v of values(req, name)) if (v !== "") return v;
  }
  return "";
}

/** kube's unescapeExtraKey: %-decoding, keeping the key as it is when it is not valid. */
function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

export class RequestHeaderAuthenticator implements Authenticator {
  private readonly usernameHeaders: readonly string[];
  private readonly uidHeaders: readonly string[];
  private readonly groupHeaders: readonly string[];
  private readonly extraPrefixes: readonly string[];

  constructor(private readonly options: RequestHeaderOptions) {
    // Node lowercases incoming header names.
    const lower = (names: readonly string[]): string[] => names.map((n) => n.toLowerCase());
    this.usernameHeaders = lower(options.usernameHeaders ?? ["X-Remote-User"]);
    this.uidHeaders = lower(options.uidHeaders ?? []);
    this.groupHeaders = lower(options.groupHeaders ?? ["X-Remote-Group"]);
    this.extraPrefixes = lower(options.extraHeaderPrefixes ?? ["X-Remote-Extra-"]);
  }

  authenticate(req: AuthRequest): Promise<UserInfo | null> {
    return Promise.resolve(this.user(req));
  }

  /**
   * Verdicts per presented leaf certificate (the server hands the same certificate objects for
   * every request of a connection): the chain is verified once, and the verdict holds until the
   * certificate expires.
   */
  private readonly verdicts = new WeakMap<X509Certificate, { ok: boolean; until: number }>();

  /** Is the client the trusted proxy? Its certificate chains to the CA and its CN is allowed. */
  private fromProxy(req: AuthRequest): boolean {
    const presented = req.peerCertificates ?? [];
    const leaf = presented[0];
    if (leaf === undefined) return false;
    const now = Date.now();
    const known = this.verdicts.get(leaf);
    if (known !== undefined && now <= known.until) return known.ok;
    const chain = verifyClientChain(presented, this.options.clientCA, new Date(now));
    const { allowedNames } = this.options;
    const ok =
      chain !== null && (allowedNames.length === 0 || allowedNames.includes(subjectOf(chain[0]!).commonName));
    // A refusal is looked at again after a minute (a certificate not yet valid may become so).
    this.verdicts.set(leaf, { ok, until: ok ? Date.parse(leaf.validTo) : now + 60_000 });
    return ok;
  }

  private user(req: AuthRequest): UserInfo | null {
    // Without a user header there is nothing to trust: the certificate is not even looked at.
    const name = firstValue(req, this.usernameHeaders);
    if (name === "") return null;
    if (!this.fromProxy(req)) return null;
    const groups = this.groupHeaders.flatMap((h) => values(req, h).filter((v) => v !== ""));
    const extra: Record<string, string[]> = {};
    // Prefixes first, so that each key's values keep the prefixes' order.
    for (const prefix of this.extraPrefixes) {
      for (const header of Object.keys(req.headersDistinct ?? req.headers)) {
        if (!header.startsWith(prefix) || header.length === prefix.length) continue;
        const key = unescapeExtraKey(header.slice(prefix.length).toLowerCase());
        (extra[key] ??= []).push(...values(req, header));
      }
    }
    return { name, uid: firstValue(req, this.uidHeaders), groups: withAuthenticatedGroup(groups), extra };
  }
}
