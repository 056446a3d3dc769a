// Which writes a webhook's rules select, as k8s.io/apiserver's predicates/rules: every field
// of a rule must match (scope, operation, group, version, resource with subresource), and
// one matching rule is enough. Also the kinds admission webhooks never see.

import type { GroupVersionResource, Operation } from "../interface.ts";
import type { RuleWithOperations } from "./webhook.types.ts";

/** What a rule is matched against: the request's resource, possibly an equivalent one. */
export interface RuleTarget {
  readonly operation: Operation;
  readonly resource: GroupVersionResource;
  readonly subresource: string;
  /** As kube's attributes carry it: the namespace's own name for a Namespace object. */
  readonly namespace: string;
}

const exactOrWildcard = (items: readonly string[] | undefined, requested: string): boolean =>
  (items ?? []).some((i) => i === "*" || i === requested);

const isNamespaceResource = (r: GroupVersionResource): boolean =>
  r.group === "" && r.version === "v1" && r.resource === "namespaces";

function scopeMatches(rule: RuleWithOperations, t: RuleTarget): boolean {
  switch (rule.scope ?? "*") {
    case "*":
      return true;
    // A Namespace is cluster-scoped although its requests carry its name as their namespace.
    case "Namespaced":
      return !isNamespaceResource(t.resource) && t.namespace !== "";
    case "Cluster":
      return isNamespaceResource(t.resource) || t.namespace === "";
  }
}

/** `pods/status` → ["pods", "status"]; `pods` → ["pods", ""]. */
function splitResource(resSub: string): [string, string] {
  const slash = resSub.indexOf("/");
  return slash < 0 ? [resSub, ""] : [resSub.slice(0, slash), resSub.slice(slash + 1)];
}

function resourceMatches(rule: RuleWithOperations, t: RuleTarget): boolean {
  return (rule.resources ?? []).some((entry) => {
    const [res, sub] = splitResource(entry);
    // "*" alone names every resource but no subresource; "*/*" names both.
    return (res === "*" || res === t.resource.resource) && (sub === "*" || sub === t.subresource);
  });
}

/** rules.Matcher.Matches: does this rule select the write? */
export function ruleMatches(rule: RuleWithOperations, t: RuleTarget): boolean {
  return (
    scopeMatches(rule, t) &&
    (rule.operations ?? []).some((op) => op === "*" || op === t.operation) &&
    exactOrWildcard(rule.apiGroups, t.resource.group) &&
    exactOrWildcard(rule.apiVersions, t.resource.version) &&
    resourceMatches(rule, t)
  );
}

const exemptKinds = new Set([
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "MutatingAdmissionPolicy",
  "MutatingAdmissionPolicyBinding",
]);

/**
 * rules.IsExemptAdmissionConfigurationResource: writes of admission configuration are never
 * sent to webhooks, so that a broken webhook can always be removed.
 */
export const isExemptAdmissionConfiguration = (kind: { group: string; kind: string }): boolean =>
  kind.group === "admissionregistration.k8s.io" && exemptKinds.has(kind.kind);
