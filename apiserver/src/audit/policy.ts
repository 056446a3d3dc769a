// The audit policy: an `audit.k8s.io/v1` Policy read from YAML or JSON, validated as
// kube-apiserver validates `--audit-policy-file`, and compiled into a checker that answers
// the level, the stages to omit and whether to omit managedFields for one request, by the
// first matching rule (k8s.io/apiserver/pkg/audit/policy: checker.go, reader.go; and
// pkg/apis/audit/validation). A policy is per tenant; one compiled policy serves every
// request of its tenant and is never changed after compilation.

import { parse as parseYaml } from "yaml";

export const auditLevels = ["None", "Metadata", "Request", "RequestResponse"] as const;
export type AuditLevel = (typeof auditLevels)[number];

export const auditStages = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"] as const;
export type AuditStage = (typeof auditStages)[number];

/** Level order, for "is this level at least that one" (kube's Level.Less). */
const levelRank: Record<AuditLevel, number> = { None: 0, Metadata: 1, Request: 2, RequestResponse: 3 };
export const levelAtLeast = (level: AuditLevel, min: AuditLevel): boolean =>
  levelRank[level] >= levelRank[min];

/** GroupResources of a rule: `group: ""` is the core group. */
export interface PolicyGroupResources {
  readonly group: string;
  // "pods", "pods/log", "pods/*" (pods and its subresources), "*/status", "*"; empty: the whole group.
  readonly resources: readonly string[];
  readonly resourceNames: readonly string[];
}

export interface PolicyRule {
  readonly level: AuditLevel;
  readonly users: readonly string[];
  readonly userGroups: readonly string[];
  readonly verbs: readonly string[];
  readonly resources: readonly PolicyGroupResources[];
  /** "" matches cluster-scoped requests. */
  readonly namespaces: readonly string[];
  /** Exact paths, "*" or a prefix ending in "*". */
  readonly nonResourceURLs: readonly string[];
  readonly omitStages: readonly AuditStage[];
  /** Unset: the policy's omitManagedFields applies. */
  readonly omitManagedFields?: boolean;
}

/** The policy as written (after defaulting empty lists). */
export interface PolicySpec {
  readonly rules: readonly PolicyRule[];
  readonly omitStages: readonly AuditStage[];
  readonly omitManagedFields: boolean;
}

/**
 * What the policy checker reads of a request: kube's authorizer.Attributes, minus what audit
 * ignores. A RequestInfo plus the user satisfies it.
 */
export interface PolicyAttributes {
  /** Undefined for a request that failed authentication: rules naming users or groups skip it. */
  readonly user: { readonly name: string; readonly groups: readonly string[] } | undefined;
  readonly verb: string;
  readonly isResourceRequest: boolean;
  readonly path: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
}

/** kube's RequestAuditConfig: the answer for one request. */
export interface RequestAuditConfig {
  readonly level: AuditLevel;
  readonly omitStages: readonly AuditStage[];
  readonly omitManagedFields: boolean;
}

/** A policy that does not validate; `errors` are kube's field errors, one per problem. */
export class AuditPolicyError extends Error {
  override readonly name = "AuditPolicyError";
  constructor(
    message: string,
    readonly errors: readonly string[] = [],
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------
// Checking

interface CompiledRule {
  readonly rule: PolicyRule;
  readonly config: RequestAuditConfig;
  readonly users: ReadonlySet<string> | undefined;
  readonly userGroups: ReadonlySet<string> | undefined;
  readonly verbs: ReadonlySet<string> | undefined;
  readonly namespaces: ReadonlySet<string> | undefined;
}

const setOf = (list: readonly string[]): ReadonlySet<string> | undefined =>
  list.length === 0 ? undefined : new Set(list);

/**
 * A compiled, immutable policy. Called by the audit recorder once per request (`levelFor`);
 * never changes its input.
 */
export class AuditPolicy {
  readonly #rules: readonly CompiledRule[];
  readonly #fallback: RequestAuditConfig;

  constructor(readonly spec: PolicySpec) {
    // The policy's omitStages are added to every rule's (kube's NewPolicyRuleEvaluator).
    this.#rules = spec.rules.map((rule) => ({
      rule,
      config: {
        level: rule.level,
        omitStages: unionStages(spec.omitStages, rule.omitStages),
        omitManagedFields: rule.omitManagedFields ?? spec.omitManagedFields,
      },
      users: setOf(rule.users),
      userGroups: setOf(rule.userGroups),
      verbs: setOf(rule.verbs),
      namespaces: setOf(rule.namespaces),
    }));
    this.#fallback = {
      level: "None",
      omitStages: spec.omitStages,
      omitManagedFields: spec.omitManagedFields,
    };
  }

  /** The first matching rule decides; no match is level None with the policy's own omissions. */
  levelFor(attrs: PolicyAttributes): RequestAuditConfig {
    for (const r of this.#rules) if (ruleMatches(r, attrs)) return r.config;
    return this.#fallback;
  }
}

function unionStages(...lists: (readonly AuditStage[])[]): readonly AuditStage[] {
  const out = new Set<AuditStage>();
  for (const l of lists) for (const s of l) out.add(s);
  return [...out];
}

function ruleMatches(r: CompiledRule, attrs: PolicyAttributes): boolean {
  const user = attrs.user;
  if (r.users !== undefined && (user === undefined || !r.users.has(user.name))) return false;
  if (r.userGroups !== undefined && (user === undefined || !user.groups.some((g) => r.userGroups!.has(g)))) {
    return false;
  }
  if (r.verbs !== undefined && !r.verbs.has(attrs.verb)) return false;
  // Resource constraints win over non-resource ones when a rule had both (validation forbids it).
  if (r.namespaces !== undefined || r.rule.resources.length > 0) return matchesResource(r, attrs);
  if (r.rule.nonResourceURLs.length > 0) return matchesNonResource(r.rule, attrs);
  return true;
}

function matchesNonResource(rule: PolicyRule, attrs: PolicyAttributes): boolean {
  if (attrs.isResourceRequest) return false;
  return rule.nonResourceURLs.some((spec) => pathMatches(attrs.path, spec));
}

function pathMatches(path: string, spec: string): boolean {
  if (spec === "*" || spec === path) return true;
  // A trailing `*` matches by prefix; Go's TrimRight drops every trailing `*`.
  return spec.endsWith("*") && path.startsWith(spec.replace(/\*+$/, ""));
}

function matchesResource(r: CompiledRule, attrs: PolicyAttributes): boolean {
  if (!attrs.isResourceRequest) return false;
  // Cluster-scoped requests have the namespace "".
  if (r.namespaces !== undefined && !r.namespaces.has(attrs.namespace)) return false;
  if (r.rule.resources.length === 0) return true;

  const { apiGroup, resource, subresource, name } = attrs;
  const combined = subresource === "" ? resource : `${resource}/${subresource}`;
  for (const gr of r.rule.resources) {
    if (gr.group !== apiGroup) continue;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(name)) continue;
    for (const res of gr.resources) {
      if (res === combined || res === "*") return true;
      if (subresource !== "" && res.startsWith("*/") && res.slice(2) === subresource) return true;
      // "pods/*" matches pods and every subresource of pods.
      if (res.endsWith("/*") && res.slice(0, -2) === resource) return true;
    }
  }
  return false;
}

/**
 * The platform default for tenants that set no policy of their own: nothing for health and
 * version probes, Metadata for everything else, without the RequestReceived stage (every
 * request still gets its ResponseComplete, and watches their ResponseStarted).
 */
export const platformDefaultAuditPolicy: AuditPolicy = new AuditPolicy({
  omitStages: ["RequestReceived"],
  omitManagedFields: true,
  rules: [
    {
      level: "None",
      users: [],
      userGroups: [],
      verbs: [],
      resources: [],
      namespaces: [],
      nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"],
      omitStages: [],
    },
    {
      level: "Metadata",
      users: [],
      userGroups: [],
      verbs: [],
      resources: [],
      namespaces: [],
      nonResourceURLs: [],
      omitStages: [],
    },
  ],
});

// ---------------------------------------------------------------------------------------
// Reading and validation

const policyApiVersion = "audit.k8s.io/v1";

/**
 * Reads and validates a Policy document (YAML or JSON). Throws AuditPolicyError with kube's
 * messages: a wrong apiVersion/kind, a policy with no rules, or the field errors of
 * kube's ValidatePolicy (aggregated as `[e1, e2]` when there are several).
 */
export function parseAuditPolicy(text: string): AuditPolicy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new AuditPolicyError(`failed decoding: ${(err as Error).message}`);
  }
  return compileAuditPolicy(doc);
}

/** Validates an already decoded Policy object (e.g. from a ControlPlane spec). */
export function compileAuditPolicy(doc: unknown): AuditPolicy {
  if (!isRecord(doc)) throw new AuditPolicyError("failed decoding: the policy is not an object");
  const apiVersion = doc["apiVersion"];
  const kind = doc["kind"];
  if (apiVersion === undefined || kind === undefined || apiVersion === "" || kind === "") {
    throw new AuditPolicyError("failed decoding: Object 'apiVersion' and 'Kind' are required");
  }
  if (apiVersion !== policyApiVersion || kind !== "Policy") {
    throw new AuditPolicyError(
      `unknown group version field ${goString(apiVersion)}, Kind=${goString(kind)} in policy (want ${policyApiVersion}, Kind=Policy)`,
    );
  }

  const errors: string[] = [];
  const decoded = decodeSpec(doc, errors);
  if (errors.length > 0) throw aggregate(errors);
  validateSpec(decoded, errors);
  if (errors.length > 0) throw aggregate(errors);
  if (decoded.rules.length === 0) throw new AuditPolicyError("loaded illegal policy with 0 rules");
  return new AuditPolicy(decoded);
}

function aggregate(errors: string[]): AuditPolicyError {
  return new AuditPolicyError(errors.length === 1 ? errors[0]! : `[${errors.join(", ")}]`, errors);
}

// Decoding: the types of every field; the values are checked by validateSpec.

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function goString(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function stringList(v: unknown, path: string, errors: string[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    errors.push(`${path}: Invalid value: ${JSON.stringify(v)}: must be a list of strings`);
    return [];
  }
  return v as string[];
}

function decodeSpec(doc: Record<string, unknown>, errors: string[]): PolicySpec {
  const rulesRaw = doc["rules"] ?? [];
  if (!Array.isArray(rulesRaw)) {
    errors.push(`rules: Invalid value: ${JSON.stringify(rulesRaw)}: must be a list`);
  }
  const omitManagedFields = doc["omitManagedFields"] ?? false;
  if (typeof omitManagedFields !== "boolean") {
    errors.push(`omitManagedFields: Invalid value: ${JSON.stringify(omitManagedFields)}: must be a boolean`);
  }
  const rules = (Array.isArray(rulesRaw) ? rulesRaw : []).map((raw, i) =>
    decodeRule(raw, `rules[${i}]`, errors),
  );
  return {
    rules,
    omitStages: stringList(doc["omitStages"], "omitStages", errors) as AuditStage[],
    omitManagedFields: omitManagedFields === true,
  };
}

function decodeRule(raw: unknown, path: string, errors: string[]): PolicyRule {
  if (!isRecord(raw)) {
    errors.push(`${path}: Invalid value: ${JSON.stringify(raw)}: must be an object`);
    raw = {};
  }
  const r = raw as Record<string, unknown>;
  const level = r["level"] ?? "";
  if (typeof level !== "string")
    errors.push(`${path}.level: Invalid value: ${JSON.stringify(level)}: must be a string`);
  const resourcesRaw = r["resources"] ?? [];
  if (!Array.isArray(resourcesRaw)) {
    errors.push(`${path}.resources: Invalid value: ${JSON.stringify(resourcesRaw)}: must be a list`);
  }
  const resources = (Array.isArray(resourcesRaw) ? resourcesRaw : []).map((g, j): PolicyGroupResources => {
    const gp = `${path}.resources[${j}]`;
    if (!isRecord(g)) {
      errors.push(`${gp}: Invalid value: ${JSON.stringify(g)}: must be an object`);
      return { group: "", resources: [], resourceNames: [] };
    }
    const group = g["group"] ?? "";
    if (typeof group !== "string")
      errors.push(`${gp}.group: Invalid value: ${JSON.stringify(group)}: must be a string`);
    return {
      group: typeof group === "string" ? group : "",
      resources: stringList(g["resources"], `${gp}.resources`, errors),
      resourceNames: stringList(g["resourceNames"], `${gp}.resourceNames`, errors),
    };
  });
  const omf = r["omitManagedFields"];
  if (omf !== undefined && omf !== null && typeof omf !== "boolean") {
    errors.push(`${path}.omitManagedFields: Invalid value: ${JSON.stringify(omf)}: must be a boolean`);
  }
  return {
    level: (typeof level === "string" ? level : "") as AuditLevel,
    users: stringList(r["users"], `${path}.users`, errors),
    userGroups: stringList(r["userGroups"], `${path}.userGroups`, errors),
    verbs: stringList(r["verbs"], `${path}.verbs`, errors),
    resources,
    namespaces: stringList(r["namespaces"], `${path}.namespaces`, errors),
    nonResourceURLs: stringList(r["nonResourceURLs"], `${path}.nonResourceURLs`, errors),
    omitStages: stringList(r["omitStages"], `${path}.omitStages`, errors) as AuditStage[],
    ...(typeof omf === "boolean" ? { omitManagedFields: omf } : {}),
  };
}

// Validation, as kube's pkg/apis/audit/validation with its messages.

const quoteList = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(", ");
const goStringSlice = (values: readonly string[]): string => `[]string{${quoteList(values)}}`;

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123SubdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function validateSpec(spec: PolicySpec, errors: string[]): void {
  validateOmitStages(spec.omitStages, "omitStages", errors);
  spec.rules.forEach((rule, i) => {
    const path = `rules[${i}]`;
    const level: string = rule.level;
    if (level === "") errors.push(`${path}.level: Required value`);
    else if (!(auditLevels as readonly string[]).includes(level)) {
      errors.push(
        `${path}.level: Unsupported value: ${JSON.stringify(level)}: supported values: ${quoteList(auditLevels)}`,
      );
    }
    rule.nonResourceURLs.forEach((url, j) => {
      if (url === "*") return;
      const p = `${path}.nonResourceURLs[${j}]`;
      if (!url.startsWith("/")) {
        errors.push(
          `${p}: Invalid value: ${JSON.stringify(url)}: non-resource URL rules must begin with a '/' character`,
        );
      }
      if (url !== "" && url.slice(0, -1).includes("*")) {
        errors.push(
          `${p}: Invalid value: ${JSON.stringify(url)}: non-resource URL wildcards '*' must be the final character of the rule`,
        );
      }
    });
    for (const gr of rule.resources) {
      // kube names the field without the index (`rules[0].resources.group`).
      if (gr.group !== "") {
        const msgs: string[] = [];
        if (gr.group.length > 253) msgs.push("must be no more than 253 characters");
        if (!dns1123Subdomain.test(gr.group)) msgs.push(dns1123SubdomainMessage);
        if (msgs.length > 0) {
          errors.push(
            `${path}.resources.group: Invalid value: ${JSON.stringify(gr.group)}: ${msgs.join(",")}`,
          );
        }
      }
      if (gr.resourceNames.length > 0 && gr.resources.length === 0) {
        errors.push(
          `${path}.resources.resourceNames: Invalid value: ${goStringSlice(gr.resourceNames)}: using resourceNames requires at least one resource`,
        );
      }
    }
    validateOmitStages(rule.omitStages, `${path}.omitStages`, errors);
    if (rule.nonResourceURLs.length > 0 && (rule.resources.length > 0 || rule.namespaces.length > 0)) {
      errors.push(
        `${path}.nonResourceURLs: Invalid value: ${goStringSlice(rule.nonResourceURLs)}: rules cannot apply to both regular resources and non-resource URLs`,
      );
    }
  });
}

function validateOmitStages(stages: readonly string[], path: string, errors: string[]): void {
  stages.forEach((stage, i) => {
    if (!(auditStages as readonly string[]).includes(stage)) {
      errors.push(
        `${path}[${i}]: Invalid value: ${JSON.stringify(stage)}: allowed stages are ${auditStages.join(",")}`,
      );
    }
  });
}
