// Who is asking: the authenticated user every stage after authentication reads.

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

export interface AuthRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export const anonymousUser: UserInfo = {
  name: "system:anonymous",
  uid: "",
  groups: ["system:unauthenticated"],
  extra: {},
};

/** The bearer token of a request, if any. */
export function bearerToken(req: AuthRequest): string | undefined {
  const h = req.headers["authorization"];
  const value = Array.isArray(h) ? h[0] : h;
  const m = value === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m?.[1];
}
