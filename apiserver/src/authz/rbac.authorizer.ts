// RBAC authorization with kube-apiserver v1.32's semantics (plugin/pkg/auth/authorizer/rbac,
// pkg/registry/rbac/validation, pkg/apis/rbac/v1/evaluation_helpers.go): rule matching,
// binding resolution, ClusterRole aggregation and the escalation check.

import type { UserInfo } from "../authn/user.ts";
import { labelSelectorFromObject } from "../endpoints/selectors/index.ts";
import type { LabelSelectorObject } from "../endpoints/selectors/index.ts";
import { goQuote } from "../endpoints/selectors/go-format.ts";
import { allow, noOpinion } from "./authorizer.ts";
import type { Attributes, Authorizer, Decision } from "./authorizer.ts";

// ---------------------------------------------------------------------------------------
// rbac/v1 shapes, as stored (plain JSON; optional lists may be absent or null)

type List = readonly string[] | null | undefined;

/** rbacv1.PolicyRule. */
export interface Rule {
  readonly verbs: readonly string[];
  readonly apiGroups?: List;
  readonly resources?: List;
  readonly resourceNames?: List;
  readonly nonResourceURLs?: List;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | null | undefined;
  readonly annotations?: Readonly<Record<string, string>> | null | undefined;
}

export interface Role {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly rules?: readonly Rule[] | null | undefined;
}

export interface AggregationRule {
  readonly clusterRoleSelectors?: readonly LabelSelectorObject[] | null | undefined;
}

export interface ClusterRole extends Role {
  readonly aggregationRule?: AggregationRule | null | undefined;
}

/** rbacv1.Subject; `kind` is "User", "Group" or "ServiceAccount" (anything else never applies). */
export interface Subject {
  readonly kind: string;
  readonly apiGroup?: string | undefined;
  readonly name: string;
  readonly namespace?: string | undefined;
}

/** rbacv1.RoleRef; `kind` is "Role" or "ClusterRole". */
export interface RoleRef {
  readonly apiGroup: string;
  readonly kind: string;
  readonly name: string;
}

export interface RoleBinding {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly subjects?: readonly Subject[] | null | undefined;
  readonly roleRef: RoleRef;
}

export type ClusterRoleBinding = RoleBinding;

/**
 * Where the authorizer reads RBAC objects (one tenant's view). Called on every request, so
 * it should answer from memory (an informer cache). Must not hand out objects it will
 * mutate later; the authorizer never changes what it gets. Missing objects are `undefined`;
 * a source that cannot answer throws, and the request fails with a 500.
 */
export interface RBACSource {
  roles(namespace: string): readonly Role[];
  clusterRoles(): readonly ClusterRole[];
  roleBindings(namespace: string): readonly RoleBinding[];
  clusterRoleBindings(): readonly ClusterRoleBinding[];
  role(namespace: string, name: string): Role | undefined;
  clusterRole(name: string): ClusterRole | undefined;
  /**
   * Optional indexes (a SubjectIndex): of clusterRoleBindings() and roleBindings(namespace),
   * at least those with a subject that applies to `user`, in the same order. visitGrants asks
   * them when present (every binding is checked otherwise); the answer must be as fresh.
   */
  clusterRoleBindingsFor?(user: UserInfo): readonly ClusterRoleBinding[];
  roleBindingsFor?(namespace: string, user: UserInfo): readonly RoleBinding[];
  /**
   * Optional: a number that changes whenever any Role, ClusterRole or binding changes. When
   * present, the authorizer keeps its decisions while it stays the same (a decision depends
   * on nothing else than those objects and the request's attributes).
   */
  generation?(): number;
}

const items = (l: List): readonly string[] => l ?? [];

// ---------------------------------------------------------------------------------------
// Rule matching (evaluation_helpers.go)

export const verbMatches = (rule: Rule, verb: string): boolean =>
  rule.verbs.some((v) => v === "*" || v === verb);

export const apiGroupMatches = (rule: Rule, group: string): boolean =>
  items(rule.apiGroups).some((g) => g === "*" || g === group);

/**
 * `*` matches everything, an exact entry matches `resource` or `resource/subresource`, and
 * `*` + `/sub` matches subresource `sub` of any resource. There is no `resource/*` form.
 */
export function resourceMatches(rule: Rule, combinedResource: string, subresource: string): boolean {
  return items(rule.resources).some(
    (r) => r === "*" || r === combinedResource || (subresource !== "" && r === `*/${subresource}`),
  );
}

/** No resourceNames means any name; otherwise the request must name one of them. */
export function resourceNameMatches(rule: Rule, name: string): boolean {
  const names = items(rule.resourceNames);
  return names.length === 0 || names.includes(name);
}

/** `*` matches every path; an entry ending in `*` matches by prefix; anything else exactly. */
export function nonResourceURLMatches(rule: Rule, path: string): boolean {
  return items(rule.nonResourceURLs).some(
    (u) => u === "*" || u === path || (u.endsWith("*") && path.startsWith(u.replace(/\*+$/, ""))),
  );
}

/** rbac.RuleAllows: whether one rule grants the request. */
export function ruleAllows(a: Attributes, rule: Rule): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.isResourceRequest) return nonResourceURLMatches(rule, a.path);
  const combined = a.subresource === "" ? a.resource : `${a.resource}/${a.subresource}`;
  return (
    apiGroupMatches(rule, a.apiGroup) &&
    resourceMatches(rule, combined, a.subresource) &&
    resourceNameMatches(rule, a.name)
  );
}

// ---------------------------------------------------------------------------------------
// Subjects and bindings (pkg/registry/rbac/validation/rule.go)

/** serviceaccount.MakeUsername. */
export const serviceAccountUsername = (namespace: string, name: string): string =>
  `system:serviceaccount:${namespace}:${name}`;

/**
 * Whether a binding subject names the user. A ServiceAccount subject without a namespace
 * means the namespace being checked (the RoleBinding's own); in a ClusterRoleBinding it
 * therefore never applies.
 */
export function subjectApplies(user: UserInfo, subject: Subject, namespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return user.name === subject.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      const ns = subject.namespace !== undefined && subject.namespace !== "" ? subject.namespace : namespace;
      return ns !== "" && user.name === serviceAccountUsername(ns, subject.name);
    }
    default:
      return false;
  }
}

const byNumber = (a: number, b: number): number => a - b;

/**
 * The bindings of one namespace ("" for ClusterRoleBindings) by the users, groups and
 * ServiceAccounts their subjects name, so that a request looks at the few bindings that may
 * apply to its user instead of all of them. Keys follow subjectApplies exactly (a
 * ServiceAccount subject by its username, its namespace defaulting to the binding's); the
 * answer keeps the bindings' order (upstream's reasons name the first grant). Immutable:
 * built from one snapshot of the bindings, which it must not outlive.
 */
export class SubjectIndex<T extends RoleBinding> {
  readonly #bindings: readonly T[];
  readonly #byUser = new Map<string, number[]>();
  readonly #byGroup = new Map<string, number[]>();

  constructor(bindings: readonly T[], namespace: string) {
    this.#bindings = bindings;
    const add = (map: Map<string, number[]>, key: string, i: number): void => {
      const list = map.get(key);
      if (list === undefined) map.set(key, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    };
    bindings.forEach((binding, i) => {
      for (const subject of binding.subjects ?? []) {
        switch (subject.kind) {
          case "User":
            add(this.#byUser, subject.name, i);
            break;
          case "Group":
            add(this.#byGroup, subject.name, i);
            break;
          case "ServiceAccount": {
            const ns =
              subject.namespace !== undefined && subject.namespace !== "" ? subject.namespace : namespace;
            if (ns !== "") add(this.#byUser, serviceAccountUsername(ns, subject.name), i);
            break;
          }
          default:
            break; // never applies
        }
      }
    });
  }

  /** The bindings with a subject naming the user or one of its groups, in order. */
  for(user: UserInfo): T[] {
    const lists: number[][] = [];
    const byName = this.#byUser.get(user.name);
    if (byName !== undefined) lists.push(byName);
    for (const g of user.groups) {
      const byGroup = this.#byGroup.get(g);
      if (byGroup !== undefined) lists.push(byGroup);
    }
    if (lists.length === 0) return [];
    const out: T[] = [];
    if (lists.length === 1) {
      for (const i of lists[0]!) out.push(this.#bindings[i]!);
      return out;
    }
    // Several sorted lists: merged in binding order, each binding once.
    const indices = lists.flat().sort(byNumber);
    let previous = -1;
    for (const i of indices) {
      if (i !== previous) out.push(this.#bindings[i]!);
      previous = i;
    }
    return out;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === "ServiceAccount") {
    const ns = s.namespace !== undefined && s.namespace !== "" ? s.namespace : bindingNamespace;
    return `${s.kind} ${goQuote(`${s.name}/${ns}`)}`;
  }
  return `${s.kind} ${goQuote(s.name)}`;
}

/** The part of upstream's allow reason after `RBAC: allowed by `. */
function describeGrant(binding: RoleBinding, subject: Subject, namespaced: boolean): string {
  const ref = `${binding.roleRef.kind} ${goQuote(binding.roleRef.name)}`;
  if (!namespaced) {
    return `ClusterRoleBinding ${goQuote(binding.metadata.name)} of ${ref} to ${describeSubject(subject, "")}`;
  }
  const ns = binding.metadata.namespace ?? "";
  return `RoleBinding ${goQuote(`${binding.metadata.name}/${ns}`)} of ${ref} to ${describeSubject(subject, ns)}`;
}

/** Upstream's NotFound text for a dangling roleRef, reported in the NoOpinion reason. */
const notFound = (kind: "role" | "clusterrole", name: string): string =>
  `${kind}.rbac.authorization.k8s.io ${goQuote(name)} not found`;

/** A visited grant: the rules of one role reached through one binding subject. */
interface Grant {
  readonly describe: () => string;
  readonly rules: readonly Rule[];
}

// The walk below runs on every request: module-level functions and a class rather than
// closures made per call.

class BindingGrant implements Grant {
  constructor(
    private readonly binding: RoleBinding,
    private readonly subject: Subject,
    private readonly namespaced: boolean,
    readonly rules: readonly Rule[],
  ) {}

  describe(): string {
    return describeGrant(this.binding, this.subject, this.namespaced);
  }
}

/** The rules a roleRef names, or undefined (and an error) when it names nothing. */
function rulesOf(
  source: RBACSource,
  ref: RoleRef,
  bindingNamespace: string,
  errors: string[],
): readonly Rule[] | undefined {
  switch (ref.kind) {
    case "Role": {
      const role = bindingNamespace === "" ? undefined : source.role(bindingNamespace, ref.name);
      if (role === undefined) errors.push(notFound("role", ref.name));
      return role === undefined ? undefined : (role.rules ?? []);
    }
    case "ClusterRole": {
      const role = source.clusterRole(ref.name);
      if (role === undefined) errors.push(notFound("clusterrole", ref.name));
      return role === undefined ? undefined : (role.rules ?? []);
    }
    default:
      errors.push(`unsupported role reference kind: ${goQuote(ref.kind)}`);
      return undefined;
  }
}

/** Visits the grants of `bindings` (of namespace `ns`, "" for cluster-wide); false when the visitor stopped. */
function walkBindings(
  source: RBACSource,
  user: UserInfo,
  bindings: readonly RoleBinding[],
  ns: string,
  errors: string[],
  visit: (g: Grant) => boolean,
): boolean {
  for (const binding of bindings) {
    let subject: Subject | undefined;
    for (const s of binding.subjects ?? []) {
      if (subjectApplies(user, s, ns)) {
        subject = s;
        break;
      }
    }
    if (subject === undefined) continue;
    const rules = rulesOf(source, binding.roleRef, ns, errors);
    if (rules === undefined) continue;
    if (!visit(new BindingGrant(binding, subject, ns !== "", rules))) return false;
  }
  return true;
}

/**
 * Resolves role references and walks the grants of a user in a namespace in upstream's
 * order: every ClusterRoleBinding first, then the RoleBindings of `namespace` (none when it
 * is ""). The visitor returns false to stop. Errors (dangling roleRefs) are collected.
 */
export function visitGrants(
  source: RBACSource,
  user: UserInfo,
  namespace: string,
  visit: (g: Grant) => boolean,
): string[] {
  const errors: string[] = [];
  const clusterRoleBindings = source.clusterRoleBindingsFor?.(user) ?? source.clusterRoleBindings();
  if (!walkBindings(source, user, clusterRoleBindings, "", errors, visit)) return errors;
  if (namespace !== "") {
    const roleBindings = source.roleBindingsFor?.(namespace, user) ?? source.roleBindings(namespace);
    walkBindings(source, user, roleBindings, namespace, errors, visit);
  }
  return errors;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated in brackets. */
function aggregateErrors(errors: readonly string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? (unique[0] ?? "") : `[${unique.join(", ")}]`;
}

/** Decisions an authorizer keeps per generation of its source (a tenant's active users and requests). */
const maxCachedDecisions = 1024;

/**
 * Everything of a request RBAC reads, as one unambiguous string (JSON: no name or group can
 * run into the next field). The user's uid and extra never matter to RBAC.
 */
const decisionKey = (a: Attributes): string =>
  JSON.stringify([
    a.user.name,
    a.user.groups,
    a.verb,
    a.isResourceRequest,
    a.isResourceRequest ? a.apiGroup : a.path,
    a.resource,
    a.subresource,
    a.namespace,
    a.name,
  ]);

/**
 * The RBAC authorizer: Allow when some binding of the user grants a matching rule, else
 * NoOpinion (RBAC never denies). Reads stored rules only: an aggregated ClusterRole grants
 * what its `rules` hold, as filled in by aggregation (see aggregateClusterRole).
 */
export class RBACAuthorizer implements Authorizer {
  readonly #source: RBACSource;
  /** Decisions by decisionKey, for the source's generation #generation; oldest first. */
  readonly #decisions = new Map<string, Decision>();
  #generation = -1;

  constructor(source: RBACSource) {
    this.#source = source;
  }

  /** Where the rules come from (for escalation checks that resolve a binding's roleRef). */
  get source(): RBACSource {
    return this.#source;
  }

  authorize(a: Attributes): Decision {
    const generation = this.#source.generation?.();
    if (generation === undefined) return this.#decide(a);
    if (generation !== this.#generation) {
      this.#decisions.clear();
      this.#generation = generation;
    }
    const key = decisionKey(a);
    let decision = this.#decisions.get(key);
    if (decision === undefined) {
      decision = this.#decide(a);
      if (this.#decisions.size >= maxCachedDecisions) {
        const oldest = this.#decisions.keys().next();
        if (oldest.done !== true) this.#decisions.delete(oldest.value);
      }
      this.#decisions.set(key, decision);
    }
    return decision;
  }

  #decide(a: Attributes): Decision {
    let reason: string | undefined;
    const errors = visitGrants(this.#source, a.user, a.namespace, (g) => {
      for (const r of g.rules) {
        if (ruleAllows(a, r)) {
          reason = `RBAC: allowed by ${g.describe()}`;
          return false;
        }
      }
      return true;
    });
    if (reason !== undefined) return allow(reason);
    return noOpinion(errors.length === 0 ? "" : `RBAC: ${aggregateErrors(errors)}`);
  }

  /** Every rule the user holds in `namespace` (cluster-wide ones included); for rules reviews. */
  rulesFor(user: UserInfo, namespace: string): { rules: Rule[]; errors: string[] } {
    const rules: Rule[] = [];
    const errors = visitGrants(this.#source, user, namespace, (g) => {
      rules.push(...g.rules);
      return true;
    });
    return { rules, errors };
  }
}

// ---------------------------------------------------------------------------------------
// Aggregation (pkg/controller/clusterroleaggregation)

function sameRule(a: Rule, b: Rule): boolean {
  const eq = (x: List, y: List): boolean => {
    const xs = items(x);
    const ys = items(y);
    return xs.length === ys.length && xs.every((v, i) => v === ys[i]);
  };
  return (
    eq(a.verbs, b.verbs) &&
    eq(a.apiGroups, b.apiGroups) &&
    eq(a.resources, b.resources) &&
    eq(a.resourceNames, b.resourceNames) &&
    eq(a.nonResourceURLs, b.nonResourceURLs)
  );
}

/**
 * The rules the aggregation controller writes into `role`: for each selector in order, the
 * rules of every other ClusterRole in `all` it selects, by name order, without exact
 * duplicates. Selected roles that aggregate themselves contribute their aggregated rules,
 * so the answer is the controller's steady state (a cycle falls back to stored rules).
 * A role without an aggregationRule keeps its own rules. Changes neither input.
 * Throws a 400 for an invalid selector, as labelSelectorFromObject does.
 */
export function aggregateClusterRole(role: ClusterRole, all: readonly ClusterRole[]): Rule[] {
  return aggregate(role, all, new Set());
}

function aggregate(role: ClusterRole, all: readonly ClusterRole[], visiting: Set<string>): Rule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (selectors === undefined || selectors === null || visiting.has(role.metadata.name)) {
    return [...(role.rules ?? [])];
  }
  visiting.add(role.metadata.name);
  const out: Rule[] = [];
  const sorted = [...all].sort((x, y) =>
    x.metadata.name < y.metadata.name ? -1 : x.metadata.name > y.metadata.name ? 1 : 0,
  );
  for (const sel of selectors) {
    const selector = labelSelectorFromObject(sel);
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name) continue;
      if (!selector.matches(other.metadata.labels ?? {})) continue;
      for (const rule of aggregate(other, all, visiting)) {
        if (!out.some((r) => sameRule(r, rule))) out.push(rule);
      }
    }
  }
  visiting.delete(role.metadata.name);
  return out;
}

/** Every ClusterRole of `all` with its aggregated rules filled in, as the controller leaves them. */
export const aggregateClusterRoles = (all: readonly ClusterRole[]): ClusterRole[] =>
  all.map((r) =>
    r.aggregationRule === undefined || r.aggregationRule === null
      ? r
      : { ...r, rules: aggregateClusterRole(r, all) },
  );

// ---------------------------------------------------------------------------------------
// Escalation check (pkg/registry/rbac/validation/policy_comparator.go)

/** One rule per verb × group × resource (× name), and per verb × non-resource URL. */
export function breakdownRule(rule: Rule): Rule[] {
  const out: Rule[] = [];
  const names = items(rule.resourceNames);
  for (const group of items(rule.apiGroups)) {
    for (const resource of items(rule.resources)) {
      for (const verb of rule.verbs) {
        if (names.length === 0) {
          out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        } else {
          for (const n of names)
            out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [n] });
        }
      }
    }
  }
  for (const url of items(rule.nonResourceURLs)) {
    for (const verb of rule.verbs) out.push({ verbs: [verb], nonResourceURLs: [url] });
  }
  return out;
}

const hasAll = (set: readonly string[], wanted: readonly string[]): boolean =>
  wanted.every((w) => set.includes(w));

function resourcesCover(owner: readonly string[], wanted: readonly string[]): boolean {
  if (owner.includes("*") || hasAll(owner, wanted)) return true;
  return wanted.every((path) => {
    if (owner.includes(path)) return true;
    const slash = path.indexOf("/");
    return slash >= 0 && owner.includes(`*/${path.slice(slash + 1)}`);
  });
}

const urlCovers = (owner: string, path: string): boolean =>
  owner === path || (owner.endsWith("*") && path.startsWith(owner.replace(/\*+$/, "")));

function ruleCovers(owner: Rule, sub: Rule): boolean {
  const ownerNames = items(owner.resourceNames);
  const subNames = items(sub.resourceNames);
  return (
    (owner.verbs.includes("*") || hasAll(owner.verbs, sub.verbs)) &&
    (items(owner.apiGroups).includes("*") || hasAll(items(owner.apiGroups), items(sub.apiGroups))) &&
    resourcesCover(items(owner.resources), items(sub.resources)) &&
    items(sub.nonResourceURLs).every((p) => items(owner.nonResourceURLs).some((o) => urlCovers(o, p))) &&
    (ownerNames.length === 0 || (subNames.length > 0 && hasAll(ownerNames, subNames)))
  );
}

/**
 * validation.Covers, behind ConfirmNoEscalation: whether the owner's rules grant everything
 * the requested rules do. `missing` lists the uncovered single-verb pieces of the request.
 * Note upstream's quirks kept here: a `*` verb or group in a request is only covered by `*`,
 * and `*` in nonResourceURLs is only covered by a URL rule ending in `*` that is a prefix.
 */
export function coversRules(
  ownerRules: readonly Rule[],
  requestedRules: readonly Rule[],
): { covered: boolean; missing: Rule[] } {
  const missing = requestedRules
    .flatMap(breakdownRule)
    .filter((sub) => !ownerRules.some((o) => ruleCovers(o, sub)));
  return { covered: missing.length === 0, missing };
}
