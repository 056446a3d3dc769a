// The authorizer contract: what a request asks to do, and the answer an authorizer gives.

import type { UserInfo } from "../authn/user.ts";
import { goQuote } from "../endpoints/selectors/go-format.ts";
import type { Outbound } from "../request/outbound.ts";

/**
 * authorizer.Attributes of k8s.io/apiserver: who asks to do what. Built by the request-info
 * stage from the URL and the authenticated user; authorizers only read it.
 */
export interface Attributes {
  readonly user: UserInfo;
  /** The kube verb: get, list, watch, create, update, patch, delete, deletecollection, or an HTTP verb in lower case for non-resource paths. */
  readonly verb: string;
  readonly isResourceRequest: boolean;
  /** The URL path; what non-resource requests are checked against. */
  readonly path: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  /** "" for cluster-scoped requests (and for list/watch across all namespaces). */
  readonly namespace: string;
  /** "" when the request names no object (create, list, watch, deletecollection). */
  readonly name: string;
  /** How a webhook authorizer calls out: with the request's seat given back (request/outbound.ts). */
  readonly outbound?: Outbound;
}

export type DecisionKind = "Allow" | "Deny" | "NoOpinion";

/**
 * An honest answer: Allow or Deny end the chain, NoOpinion lets the next authorizer decide.
 * The reason says which grant allowed, or why nothing did ("" when there is nothing to say).
 */
export interface Decision {
  readonly decision: DecisionKind;
  readonly reason: string;
}

/**
 * Called by the authorization stage once per request, after authentication. Never changes
 * its input. Throws only when it is broken (the caller answers 500, never a silent 403).
 */
export interface Authorizer {
  authorize(a: Attributes): Decision | Promise<Decision>;
}

export const allow = (reason: string): Decision => ({ decision: "Allow", reason });
export const deny = (reason: string): Decision => ({ decision: "Deny", reason });
export const noOpinion = (reason = ""): Decision => ({ decision: "NoOpinion", reason });

// `&`, `<` and `>` are escaped as upstream's responsewriters sanitizer does, so a path or
// name cannot smuggle markup into a message a browser may render.
const sanitize = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * The text kube-apiserver puts in a 403 (responsewriters.forbiddenMessage, sanitized):
 * `User "alice" cannot list resource "configmaps" in API group "" in the namespace "default"`.
 * The Forbidden handler appends `: <reason>` when the authorizer gave one.
 */
export function forbiddenMessage(a: Attributes): string {
  const user = goQuote(a.user.name);
  if (!a.isResourceRequest) {
    return sanitize(`User ${user} cannot ${a.verb} path ${goQuote(a.path)}`);
  }
  const resource = a.subresource === "" ? a.resource : `${a.resource}/${a.subresource}`;
  const head = `User ${user} cannot ${a.verb} resource ${goQuote(resource)} in API group ${goQuote(a.apiGroup)}`;
  return sanitize(
    a.namespace === "" ? `${head} at the cluster scope` : `${head} in the namespace ${goQuote(a.namespace)}`,
  );
}
