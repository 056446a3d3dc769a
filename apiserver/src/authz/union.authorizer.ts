// The authorization stage's authorizers: kube's privileged-groups authorizer (system:masters
// may do everything, before anything else is asked) and the union that asks each in turn
// and stops at the first Allow or Deny (k8s.io/apiserver's union authorizer).

import { allow, noOpinion } from "./authorizer.ts";
import type { Attributes, Authorizer, Decision } from "./authorizer.ts";

export const systemMasters = "system:masters";

/** Allows every request of a member of one of `groups`; NoOpinion for everyone else. */
export function privilegedGroups(groups: readonly string[] = [systemMasters]): Authorizer {
  return {
    authorize: (a: Attributes): Decision =>
      a.user.groups.some((g) => groups.includes(g)) ? allow("") : noOpinion(),
  };
}

/**
 * Asks each authorizer in order; the first Allow or Deny decides. When all have no opinion
 * the answer is NoOpinion with their reasons joined (the chain then denies). An authorizer
 * that throws fails the request (a 500, never a silent 403).
 */
export function unionAuthorizer(authorizers: readonly Authorizer[]): Authorizer {
  return {
    async authorize(a: Attributes): Promise<Decision> {
      const reasons: string[] = [];
      for (const z of authorizers) {
        const d = await z.authorize(a);
        if (d.decision !== "NoOpinion") return d;
        if (d.reason !== "") reasons.push(d.reason);
      }
      return noOpinion(reasons.join("\n"));
    },
  };
}
