// The union of authenticators (k8s.io/apiserver's request/union): asks each in order; the
// first user wins. An authenticator that throws does not stop the others (kube's union with
// FailOnError false); only when nobody accepts are the errors thrown, aggregated, so the chain
// answers 401 and logs why.

import type { AuthRequest, Authenticator, UserInfo } from "./user.ts";

export class UnionAuthenticator implements Authenticator {
  constructor(private readonly authenticators: readonly Authenticator[]) {}

  async authenticate(req: AuthRequest): Promise<UserInfo | null> {
    const errors: unknown[] = [];
    // In order, one at a time: the first that accepts decides, so later ones never see the request.
    for (const a of this.authenticators) {
      try {
        const user = await a.authenticate(req);
        if (user !== null) return user;
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) {
      const messages = errors.map((e) => (e instanceof Error ? e.message : String(e)));
      throw new AggregateError(errors, `authentication failed: [${messages.join(", ")}]`);
    }
    return null;
  }
}
