// RBAC escalation prevention (kube's policybased RBAC storage): a user may create or update a
// Role or ClusterRole only with rules they already hold (or the `escalate` verb on it), and
// create or update a binding only to a role whose rules they hold (or the `bind` verb on it).
// system:masters is exempt, as upstream's EscalationAllowed.

import { forbidden, notFound } from "../apierrors/status.ts";
import type { UserInfo } from "../authn/user.ts";
import type { Attributes } from "../authz/authorizer.ts";
import {
  coversRules,
  type ClusterRole,
  type Role,
  type RoleBinding,
  type Rule,
} from "../authz/rbac.authorizer.ts";
import { rbacGroup } from "../authz/rbac.source.ts";
import { systemMasters } from "../authz/union.authorizer.ts";
import { goQuote } from "../endpoints/selectors/go-format.ts";
import type { AdmissionAttributes, AdmissionPlugin } from "./interface.ts";

const roleKinds = new Set(["roles", "clusterroles"]);
const bindingKinds = new Set(["rolebindings", "clusterrolebindings"]);

/** The validating plugin; handles creates and updates of the four RBAC kinds. */
export const rbacEscalation: AdmissionPlugin = {
  name: "RBACEscalation",
  handles: (op) => op === "CREATE" || op === "UPDATE",
  async validate(a) {
    if (a.resource.group !== rbacGroup || a.subresource !== "" || a.object === undefined) return;
    if (a.user.groups.includes(systemMasters)) return;
    if (roleKinds.has(a.resource.resource)) await checkRole(a);
    else if (bindingKinds.has(a.resource.resource)) await checkBinding(a);
  },
};

async function allowed(a: AdmissionAttributes, verb: string, resource: string, name: string, ns: string) {
  const attrs: Attributes = {
    user: a.user,
    verb,
    isResourceRequest: true,
    path: "",
    apiGroup: rbacGroup,
    apiVersion: "",
    resource,
    subresource: "",
    namespace: ns,
    name,
  };
  return (await a.instance.authorizer.authorize(attrs)).decision === "Allow";
}

async function checkRole(a: AdmissionAttributes): Promise<void> {
  if (await allowed(a, "escalate", a.resource.resource, a.name, a.namespace)) return;
  const role = a.object as unknown as ClusterRole;
  const gr = { group: rbacGroup, resource: a.resource.resource };
  if (a.resource.resource === "clusterroles" && role.aggregationRule) {
    // An aggregationRule can gather anything: it takes every right there is.
    const full: Rule[] = [
      { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
      { verbs: ["*"], nonResourceURLs: ["*"] },
    ];
    if (!holds(a, full, "").covered) {
      throw forbidden(gr, a.name, "must have cluster-admin privileges to use the aggregationRule");
    }
  }
  confirmNoEscalation(a, gr, (role as Role).rules ?? [], a.namespace);
}

async function checkBinding(a: AdmissionAttributes): Promise<void> {
  const binding = a.object as unknown as RoleBinding;
  const ref = binding.roleRef;
  const refResource = ref.kind === "Role" ? "roles" : "clusterroles";
  if (await allowed(a, "bind", refResource, ref.name, a.namespace)) return;
  const source = a.instance.rbac;
  const role =
    ref.kind === "Role" ? source.source.role(a.namespace, ref.name) : source.source.clusterRole(ref.name);
  if (role === undefined) throw notFound({ group: rbacGroup, resource: refResource }, ref.name);
  confirmNoEscalation(a, { group: rbacGroup, resource: a.resource.resource }, role.rules ?? [], a.namespace);
}

function holds(a: AdmissionAttributes, rules: readonly Rule[], namespace: string) {
  const owned = a.instance.rbac.rulesFor(a.user, namespace);
  return { ...coversRules(owned.rules, rules), errors: owned.errors };
}

/** validation.ConfirmNoEscalation with upstream's message. */
function confirmNoEscalation(
  a: AdmissionAttributes,
  gr: { group: string; resource: string },
  rules: readonly Rule[],
  namespace: string,
): void {
  const { covered, missing, errors } = holds(a, rules, namespace);
  if (covered) return;
  let message = `user ${goQuote(a.user.name)} (groups=${goStrings(a.user)}) is attempting to grant RBAC permissions not currently held:\n${compact(missing).join("\n")}`;
  if (errors.length > 0) message += `; resolution errors: [${errors.join(" ")}]`;
  throw forbidden(gr, a.name, message);
}

const goStrings = (u: UserInfo): string => `[${u.groups.map(goQuote).join(" ")}]`;
const list = (xs: readonly string[] | null | undefined): string => `[${(xs ?? []).map(goQuote).join(" ")}]`;

/**
 * The missing rules as upstream prints them (rbacv1helpers.CompactString, after CompactRules
 * merged the verbs of rules that differ only in verbs, sorted).
 */
function compact(missing: readonly Rule[]): string[] {
  const merged = new Map<string, Rule>();
  for (const r of missing) {
    const id = JSON.stringify([r.apiGroups, r.resources, r.resourceNames, r.nonResourceURLs]);
    const seen = merged.get(id);
    if (seen === undefined) merged.set(id, { ...r, verbs: [...r.verbs] });
    else for (const v of r.verbs) if (!seen.verbs.includes(v)) (seen.verbs as string[]).push(v);
  }
  return [...merged.values()]
    .map((r) => {
      const parts: string[] = [];
      if (r.apiGroups?.length) parts.push(`APIGroups:${list(r.apiGroups)}`);
      if (r.resources?.length) parts.push(`Resources:${list(r.resources)}`);
      if (r.resourceNames?.length) parts.push(`ResourceNames:${list(r.resourceNames)}`);
      if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${list(r.nonResourceURLs)}`);
      parts.push(`Verbs:${list(r.verbs)}`);
      return `{${parts.join(", ")}}`;
    })
    .sort();
}
