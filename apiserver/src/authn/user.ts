// Who is asking: the authenticated user every stage after authentication reads, and the
// request an authenticator looks at to decide it.

import type { X509Certificate } from "node:crypto";
import type { Tenant } from "../tenancy/instance.ts";

export interface UserInfo {
  readonly name: string;
  readonly uid: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/**
 * An authenticator answers a user, null ("not mine": another authenticator may try),
 * or throws when it is broken. Called by the authentication stage; never changes its input.
 */
export interface Authenticator {
  authenticate(req: AuthRequest): Promise<UserInfo | null>;
}

/** What the authentication stage hands every authenticator; read only. */
export interface AuthRequest {
  /** Node's `IncomingMessage.headers` (names lowercased; repeated custom headers joined with ", "). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Node's `IncomingMessage.headersDistinct`, when the caller has it: every value of a repeated
   * header kept apart (the requestheader authenticator needs each X-Remote-Group on its own).
   */
  readonly headersDistinct?: Readonly<Record<string, readonly string[] | undefined>>;
  /**
   * The bearer token of `headers`, when the caller parsed it already (the chain does, once for
   * every token authenticator of the union); bearerToken() parses the headers otherwise.
   */
  readonly bearer?: string | undefined;
  /** The tenant the request is for: a credential of another tenant must not authenticate here. */
  readonly tenant: Tenant;
  /**
   * The TLS client's certificates as it presented them, leaf first (server with requestCert and
   * rejectUnauthorized:false): nothing about them is verified yet, that is each authenticator's job.
   */
  readonly peerCertificates?: readonly X509Certificate[];
}

export const anonymousUser: UserInfo = {
  name: "system:anonymous",
  uid: "",
  groups: ["system:unauthenticated"],
  extra: {},
};

/** The group of every authenticated user, and of every unauthenticated one. */
export const allAuthenticated = "system:authenticated";
export const allUnauthenticated = "system:unauthenticated";

/**
 * The user's groups plus system:authenticated, as kube's AuthenticatedGroupAdder does: not added
 * again, and not added when the groups already say system:unauthenticated.
 */
export function withAuthenticatedGroup(groups: readonly string[]): readonly string[] {
  return groups.includes(allAuthenticated) || groups.includes(allUnauthenticated)
    ? groups
    : [...groups, allAuthenticated];
}

/** The key of user extra that identifies the credential used (kube's user.CredentialIDKey). */
export const credentialIdKey = "authentication.kubernetes.io/credential-id";

const bearerPattern = /^Bearer\s+(\S+)\s*$/i;

/** The bearer token of an Authorization header, if any. */
export function parseBearerToken(headers: AuthRequest["headers"]): string | undefined {
  const h = headers["authorization"];
  const value = Array.isArray(h) ? h[0] : h;
  return value === undefined ? undefined : bearerPattern.exec(value)?.[1];
}

/** The bearer token of a request: as the caller parsed it (`bearer`), or from its headers. */
export function bearerToken(req: Pick<AuthRequest, "headers" | "bearer">): string | undefined {
  return "bearer" in req ? req.bearer : parseBearerToken(req.headers);
}
