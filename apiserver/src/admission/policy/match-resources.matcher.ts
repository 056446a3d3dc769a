// Whether a write falls under a policy's matchConstraints or a binding's matchResources
// (kube's policy/matching and webhook/predicates): namespaceSelector, objectSelector,
// excludeResourceRules, resourceRules with resourceNames, and matchPolicy Equivalent, which
// also tries the other served versions of the same resource (multi-version CRDs).

import {
  labelSelectorFromObject,
  type LabelSelectorObject,
} from "../../endpoints/selectors/label-selector.ts";
import type { KubeObject } from "../../registry/printers.ts";
import { resourcePrefix } from "../../storage/keys.ts";
import type { AdmissionAttributes, GroupVersionKind, GroupVersionResource } from "../interface.ts";
import type { MatchResources, NamedRuleWithOperations } from "./policy.types.ts";

export type MatchOutcome =
  | { readonly matches: false; readonly error?: Error }
  | { readonly matches: true; readonly resource: GroupVersionResource; readonly kind: GroupVersionKind };

const noMatch: MatchOutcome = { matches: false };

/** The request's namespace object from the tenant cache (undefined when not there). */
export function namespaceOf(a: AdmissionAttributes, name: string): KubeObject | undefined {
  const prefix = resourcePrefix({ uid: a.instance.tenant.uid }, { group: "", resource: "namespaces" });
  return a.instance.cache.get(`${prefix}${name}`)?.obj;
}

/** An absent or `{}` selector selects everything (the API defaults both selectors to `{}`). */
const isEmptySelector = (sel: LabelSelectorObject | null | undefined): boolean =>
  Object.keys(sel?.matchLabels ?? {}).length === 0 && (sel?.matchExpressions ?? []).length === 0;

const labelsOf = (o: KubeObject | undefined): Record<string, string> | undefined => o?.metadata?.labels;

function matchNamespaceSelector(m: MatchResources, a: AdmissionAttributes): boolean | Error {
  const isNamespace = a.resource.group === "" && a.resource.resource === "namespaces";
  // A cluster-scoped object other than a namespace is never exempted by a namespaceSelector.
  if (a.namespace === "" && !isNamespace) return true;
  if (isEmptySelector(m.namespaceSelector)) return true;
  const selector = labelSelectorFromObject(m.namespaceSelector);
  let labels: Record<string, string> | undefined;
  if (isNamespace) {
    labels = labelsOf(a.operation === "DELETE" ? a.oldObject : (a.object ?? a.oldObject));
  } else {
    const ns = namespaceOf(a, a.namespace);
    if (ns === undefined) return new Error(`namespaces "${a.namespace}" not found`);
    labels = labelsOf(ns);
  }
  return selector.matches(labels ?? {});
}

function matchObjectSelector(m: MatchResources, a: AdmissionAttributes): boolean {
  if (isEmptySelector(m.objectSelector)) return true;
  const selector = labelSelectorFromObject(m.objectSelector);
  const matchObject = (o: KubeObject | undefined): boolean =>
    o !== undefined && selector.matches(labelsOf(o) ?? {});
  return matchObject(a.object) || matchObject(a.oldObject);
}

const listHas = (list: readonly string[] | undefined, v: string): boolean =>
  (list ?? []).some((x) => x === "*" || x === v);

/** webhook/predicates/rules.Matcher for one rule against one (resource, subresource). */
function ruleMatches(
  rule: NamedRuleWithOperations,
  a: AdmissionAttributes,
  r: GroupVersionResource,
): boolean {
  if (!listHas(rule.operations, a.operation)) return false;
  if (!listHas(rule.apiGroups, r.group) || !listHas(rule.apiVersions, r.version)) return false;
  const scope = rule.scope ?? "*";
  // A namespace object is cluster-scoped, whatever namespace its attributes name.
  const isNamespace = a.resource.group === "" && a.resource.resource === "namespaces";
  if (scope === "Cluster" && !isNamespace && a.namespace !== "") return false;
  if (scope === "Namespaced" && (isNamespace || a.namespace === "")) return false;
  const sub = a.subresource;
  const combined = sub === "" ? r.resource : `${r.resource}/${sub}`;
  return (rule.resources ?? []).some((res) => {
    if (res === "*/*" || res === combined) return true;
    if (res === "*") return sub === "";
    const slash = res.indexOf("/");
    if (slash < 0) return false;
    const [rr, rs] = [res.slice(0, slash), res.slice(slash + 1)];
    return (rr === "*" || rr === r.resource) && (rs === "*" || rs === sub);
  });
}

const namesMatch = (rule: NamedRuleWithOperations, name: string): boolean =>
  (rule.resourceNames ?? []).length === 0 || (rule.resourceNames ?? []).includes(name);

function matchRules(
  rules: readonly NamedRuleWithOperations[],
  equivalent: boolean,
  a: AdmissionAttributes,
): { resource: GroupVersionResource; kind: GroupVersionKind } | undefined {
  for (const rule of rules) {
    if (ruleMatches(rule, a, a.resource) && namesMatch(rule, a.name))
      return { resource: a.resource, kind: a.kind };
  }
  if (!equivalent) return undefined;
  const others = a.instance.resources.all.filter(
    (d) =>
      d.group === a.resource.group && d.plural === a.resource.resource && d.version !== a.resource.version,
  );
  for (const rule of rules) {
    for (const d of others) {
      const r = { group: d.group, version: d.version, resource: d.plural };
      if (ruleMatches(rule, a, r) && namesMatch(rule, a.name)) {
        return { resource: r, kind: { group: d.group, version: d.version, kind: d.kind } };
      }
    }
  }
  return undefined;
}

/**
 * matching.Matcher.Matches: selectors first (their errors only count when the rules match),
 * then excludeResourceRules, then resourceRules (none: everything). Never changes `a`.
 */
export function matchResources(m: MatchResources | null | undefined, a: AdmissionAttributes): MatchOutcome {
  const criteria = m ?? {};
  const ns = matchNamespaceSelector(criteria, a);
  if (ns === false) return noMatch;
  if (!matchObjectSelector(criteria, a)) return noMatch;
  const equivalent = criteria.matchPolicy !== "Exact";
  if (matchRules(criteria.excludeResourceRules ?? [], equivalent, a) !== undefined) return noMatch;
  const rules = criteria.resourceRules ?? [];
  const hit = rules.length === 0 ? { resource: a.resource, kind: a.kind } : matchRules(rules, equivalent, a);
  if (hit === undefined) return noMatch;
  if (ns instanceof Error) return { matches: false, error: ns };
  return { matches: true, ...hit };
}
