// Whether one webhook is called for one write, as generic.Webhook.ShouldCallHook in
// k8s.io/apiserver v1.32: namespaceSelector, objectSelector, rules (exactly, then through an
// equivalent version when matchPolicy is Equivalent), then matchConditions. Selector errors
// count only for a webhook whose rules match.
//
// matchPolicy: kube's Equivalent also matches a rule against the same resource served under
// another group or version and sends the object converted to it. A tenant serves each built-in
// resource under one group/version, so only a custom resource with several served versions has
// equivalents here; its versions share one schema (conversion strategy None), so converting is
// rewriting apiVersion.

import { forbidden, isStatusError, notFound, type StatusError } from "../../apierrors/status.ts";
import type { LabelSelector } from "../../endpoints/selectors/index.ts";
import type { KubeObject } from "../../registry/printers.ts";
import type {
  AdmissionAttributes,
  GroupVersionKind,
  GroupVersionResource,
  MatchConditionsEvaluator,
} from "../interface.ts";
import { ruleMatches, type RuleTarget } from "./rules.matcher.ts";
import { internalErrorOf } from "./webhook.errors.ts";
import type { CompiledWebhook, ParsedSelector } from "./webhook.source.ts";

/** A webhook to call and the resource and kind it is called for (generic.WebhookInvocation). */
export interface Invocation {
  readonly webhook: CompiledWebhook;
  readonly resource: GroupVersionResource;
  readonly subresource: string;
  readonly kind: GroupVersionKind;
}

const namespacesResource = "namespaces";

const isNamespaceRequest = (a: AdmissionAttributes): boolean =>
  a.resource.group === "" && a.resource.resource === namespacesResource;

/**
 * The namespace kube's attributes carry: the object's namespace, or for a request about a
 * Namespace that names it (update, delete, subresources) the namespace's own name.
 */
export function requestNamespace(a: AdmissionAttributes): string {
  if (a.namespace !== "") return a.namespace;
  if (isNamespaceRequest(a) && a.operation !== "CREATE") return a.name;
  return "";
}

function parsed(p: ParsedSelector): LabelSelector {
  if ("error" in p) throw internalErrorOf(p.error);
  return p.selector;
}

const labelsOf = (o: KubeObject | undefined): Readonly<Record<string, string>> | undefined =>
  o?.metadata?.labels;

/** The labels of the namespace the write is about; 404 when it does not exist. */
async function namespaceLabels(
  a: AdmissionAttributes,
): Promise<Readonly<Record<string, string>> | undefined> {
  // A create or update of a Namespace: the object being written has the labels to judge.
  if (
    isNamespaceRequest(a) &&
    a.subresource === "" &&
    (a.operation === "CREATE" || a.operation === "UPDATE")
  ) {
    return labelsOf(a.object);
  }
  const name = requestNamespace(a);
  const key = a.instance.key({ group: "", plural: namespacesResource }, undefined, name);
  let ns = a.instance.cache.get(key);
  if (ns === undefined) {
    // As kube reads storage when its informer misses: the cache may lag a namespace just made.
    await a.instance.cache.consistent();
    ns = a.instance.cache.get(key);
  }
  if (ns === undefined) throw notFound({ group: "", resource: namespacesResource }, name);
  return labelsOf(ns.obj);
}

/** namespace.Matcher.MatchNamespaceSelector: true, false, or the error to answer. */
async function matchNamespace(h: CompiledWebhook, a: AdmissionAttributes): Promise<boolean | StatusError> {
  // Cluster-scoped objects other than Namespaces are never exempted by a namespaceSelector.
  if (requestNamespace(a) === "" && !isNamespaceRequest(a)) return true;
  try {
    const selector = parsed(h.namespaceSelector);
    if (selector.empty) return true;
    return selector.matches(await namespaceLabels(a));
  } catch (err) {
    if (isStatusError(err)) return err;
    throw err;
  }
}

/** object.Matcher.MatchObjectSelector: the new or the old object's labels. */
function matchObject(h: CompiledWebhook, a: AdmissionAttributes): boolean | StatusError {
  try {
    const selector = parsed(h.objectSelector);
    if (selector.empty) return true;
    const test = (o: KubeObject | undefined): boolean =>
      o !== undefined && selector.matches(labelsOf(o) ?? {});
    return test(a.object) || test(a.oldObject);
  } catch (err) {
    if (isStatusError(err)) return err;
    throw err;
  }
}

function target(a: AdmissionAttributes, resource: GroupVersionResource): RuleTarget {
  return { operation: a.operation, resource, subresource: a.subresource, namespace: requestNamespace(a) };
}

/** The first rule's match: the request's own resource, else (Equivalent) another served version. */
function findInvocation(h: CompiledWebhook, a: AdmissionAttributes): Invocation | undefined {
  const rules = h.spec.rules ?? [];
  if (rules.some((r) => ruleMatches(r, target(a, a.resource)))) {
    return { webhook: h, resource: a.resource, subresource: a.subresource, kind: a.kind };
  }
  if (h.matchPolicy !== "Equivalent") return undefined;
  const equivalents = a.instance.resources.all.filter(
    (d) =>
      d.group === a.resource.group &&
      d.plural === a.resource.resource &&
      d.version !== a.resource.version &&
      (a.subresource === "" || d.subresources.includes(a.subresource)),
  );
  // Earlier rules first, as kube does.
  for (const r of rules) {
    for (const d of equivalents) {
      const resource = { group: d.group, version: d.version, resource: d.plural };
      if (ruleMatches(r, target(a, resource))) {
        return {
          webhook: h,
          resource,
          subresource: a.subresource,
          kind: { group: d.group, version: d.version, kind: d.kind },
        };
      }
    }
  }
  return undefined;
}

const apiVersionOf = (gv: { group: string; version: string }): string =>
  gv.group === "" ? gv.version : `${gv.group}/${gv.version}`;

/** An object as another version of its resource serves it (conversion strategy None). */
export function convertTo(
  o: KubeObject | undefined,
  gv: { group: string; version: string },
): KubeObject | undefined {
  if (o === undefined) return undefined;
  const apiVersion = apiVersionOf(gv);
  return o.apiVersion === apiVersion || o.apiVersion === undefined ? o : { ...o, apiVersion };
}

/** The attributes as the invoked webhook sees them: its kind, its resource, its version of the objects. */
export function versionedAttributes(a: AdmissionAttributes, inv: Invocation): AdmissionAttributes {
  if (inv.kind.version === a.kind.version && inv.kind.group === a.kind.group) return a;
  return {
    ...a,
    object: convertTo(a.object, inv.kind),
    oldObject: convertTo(a.oldObject, inv.kind),
    // The shared collectors, not copies: what the webhook adds must reach the request.
    warnings: a.warnings,
    auditAnnotations: a.auditAnnotations,
  };
}

/**
 * ShouldCallHook: the invocation when the webhook is to be called, undefined when it is not;
 * throws the StatusError kube answers (404 for a missing namespace, 500 for a bad selector,
 * 403 for a matchConditions error under failurePolicy Fail). Never changes `a`.
 */
export async function shouldCallHook(
  h: CompiledWebhook,
  a: AdmissionAttributes,
  evaluate: MatchConditionsEvaluator,
): Promise<Invocation | undefined> {
  const ns = await matchNamespace(h, a);
  if (ns === false) return undefined;
  const obj = matchObject(h, a);
  if (obj === false) return undefined;
  const inv = findInvocation(h, a);
  if (inv === undefined) return undefined;
  if (ns !== true) throw ns;
  if (obj !== true) throw obj;
  const conditions = h.spec.matchConditions ?? [];
  if (conditions.length === 0) return inv;
  const result = await evaluate(conditions, versionedAttributes(a, inv));
  if (result.error !== undefined) {
    // matchconditions.Matcher: an error under Ignore skips the webhook; under Fail it refuses.
    if (h.failurePolicy === "Ignore") return undefined;
    throw forbidden({ group: a.resource.group, resource: a.resource.resource }, a.name, result.error.message);
  }
  return result.matches ? inv : undefined;
}
