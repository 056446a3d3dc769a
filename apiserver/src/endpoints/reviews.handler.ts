// The review kinds, answered and never stored, as kube-apiserver's registries answer them:
// SelfSubjectAccessReview, SubjectAccessReview and LocalSubjectAccessReview ask the tenant's
// authorizer (`kubectl auth can-i`, `--as`), SelfSubjectRulesReview lists the rules RBAC
// grants (`kubectl auth can-i --list`), SelfSubjectReview says who the caller is
// (`kubectl auth whoami`), TokenReview authenticates a token for another party.

import { badRequest, invalid, type FieldError } from "../apierrors/status.ts";
import type { UserInfo } from "../authn/user.ts";
import type { Attributes } from "../authz/authorizer.ts";
import type { Rule } from "../authz/rbac.authorizer.ts";
import type { KubeObject } from "../registry/printers.ts";
import { groupVersion, type ResourceDef } from "../registry/resources.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { GoRepr, invalid as invalidField, Path, type BadValue } from "../registry/validation/field.ts";

/** What a TokenReview learns from the tenant's token authenticators. */
export type TokenReviewer = (
  token: string,
  audiences: readonly string[],
) => Promise<{ user: UserInfo; audiences: readonly string[] } | { error: string }>;

/** The parts of a request a review needs. Built by the resource handler. */
export interface ReviewRequest {
  readonly instance: TenantInstance;
  readonly user: UserInfo;
  /** The namespace of the URL (LocalSubjectAccessReview). */
  readonly namespace: string;
  readonly reviewToken: TokenReviewer | undefined;
}

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes | null;
  nonResourceAttributes?: NonResourceAttributes | null;
  user?: string;
  groups?: string[] | null;
  extra?: Record<string, string[]> | null;
  uid?: string;
}

const spec = <T>(obj: KubeObject): T => (obj["spec"] ?? {}) as T;

/** Answers a create of a review kind with its status filled in (201, as kube). */
export async function answerReview(
  def: ResourceDef,
  body: KubeObject,
  req: ReviewRequest,
): Promise<KubeObject> {
  const review: KubeObject = {
    ...body,
    apiVersion: groupVersion(def),
    kind: def.kind,
    metadata: { ...(body.metadata ?? {}), creationTimestamp: null } as unknown as NonNullable<
      KubeObject["metadata"]
    >,
  };
  switch (def.kind) {
    case "SelfSubjectAccessReview": {
      const s = spec<AccessReviewSpec>(body);
      requireOneAttributeKind(def, s);
      review["status"] = await accessStatus(req.instance, attributesFrom(req.user, s));
      return review;
    }
    case "SubjectAccessReview": {
      const s = spec<AccessReviewSpec>(body);
      const errors = [...oneAttributeKindErrors(s), ...subjectErrors(s)];
      if (errors.length > 0) throw invalid({ group: def.group, kind: def.kind }, "", errors);
      review["status"] = await accessStatus(req.instance, attributesFrom(subjectOf(s), s));
      return review;
    }
    case "LocalSubjectAccessReview": {
      const s = spec<AccessReviewSpec>(body);
      const meta = review.metadata!;
      if (meta.namespace === undefined || meta.namespace === "") meta.namespace = req.namespace;
      if (meta.namespace !== req.namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      const errors: FieldError[] = [];
      if ((s.resourceAttributes?.namespace ?? "") !== meta.namespace) {
        errors.push(
          fieldInvalid(
            "spec.resourceAttributes.namespace",
            s.resourceAttributes?.namespace ?? "",
            "must match metadata.namespace",
          ),
        );
      }
      if (s.nonResourceAttributes) {
        errors.push(
          fieldInvalid(
            "spec.nonResourceAttributes",
            new GoRepr("{...}"),
            "disallowed on this kind of request",
          ),
        );
      }
      errors.push(...subjectErrors(s));
      if (errors.length > 0) throw invalid({ group: def.group, kind: def.kind }, "", errors);
      review["status"] = await accessStatus(req.instance, attributesFrom(subjectOf(s), s));
      return review;
    }
    case "SelfSubjectRulesReview": {
      const namespace = spec<{ namespace?: string }>(body).namespace ?? "";
      if (namespace === "") throw badRequest("no namespace on request");
      review["status"] = rulesStatus(req.instance, req.user, namespace);
      return review;
    }
    case "SelfSubjectReview":
      review["status"] = { userInfo: userInfoOf(req.user) };
      return review;
    case "TokenReview": {
      const s = spec<{ token?: string; audiences?: string[] | null }>(body);
      if ((s.token ?? "") === "") throw badRequest("token is required for TokenReview in authentication");
      review["status"] = await tokenStatus(req.reviewToken, s.token!, s.audiences ?? []);
      return review;
    }
    default:
      throw badRequest(`${def.kind} is not a review kind`);
  }
}

function fieldInvalid(field: string, value: BadValue, detail: string): FieldError {
  return invalidField(Path.root(...(field.split(".") as [string, ...string[]])), value, detail);
}

function oneAttributeKindErrors(s: AccessReviewSpec): FieldError[] {
  const hasResource = s.resourceAttributes !== undefined && s.resourceAttributes !== null;
  const hasNonResource = s.nonResourceAttributes !== undefined && s.nonResourceAttributes !== null;
  if (hasResource === hasNonResource) {
    const message = "exactly one of nonResourceAttributes or resourceAttributes must be specified";
    return [fieldInvalid("spec.resourceAttributes", new GoRepr("nil"), message)];
  }
  return [];
}

/** A (Local)SubjectAccessReview must name a user or a group. */
function subjectErrors(s: AccessReviewSpec): FieldError[] {
  if ((s.user ?? "") !== "" || (s.groups ?? []).length > 0) return [];
  return [fieldInvalid("spec.user", s.user ?? "", "at least one of user or group must be specified")];
}

function requireOneAttributeKind(def: ResourceDef, s: AccessReviewSpec): void {
  const errors = oneAttributeKindErrors(s);
  if (errors.length > 0) throw invalid({ group: def.group, kind: def.kind }, "", errors);
}

function subjectOf(s: AccessReviewSpec): UserInfo {
  return { name: s.user ?? "", uid: s.uid ?? "", groups: s.groups ?? [], extra: s.extra ?? {} };
}

function attributesFrom(user: UserInfo, s: AccessReviewSpec): Attributes {
  const r = s.resourceAttributes;
  if (r !== undefined && r !== null) {
    return {
      user,
      verb: r.verb ?? "",
      isResourceRequest: true,
      path: "",
      apiGroup: r.group ?? "",
      apiVersion: r.version ?? "",
      resource: r.resource ?? "",
      subresource: r.subresource ?? "",
      namespace: r.namespace ?? "",
      name: r.name ?? "",
    };
  }
  const n = s.nonResourceAttributes ?? {};
  return {
    user,
    verb: n.verb ?? "",
    isResourceRequest: false,
    path: n.path ?? "",
    apiGroup: "",
    apiVersion: "",
    resource: "",
    subresource: "",
    namespace: "",
    name: "",
  };
}

async function accessStatus(instance: TenantInstance, a: Attributes): Promise<Record<string, unknown>> {
  try {
    const d = await instance.authorizer.authorize(a);
    return {
      allowed: d.decision === "Allow",
      ...(d.decision === "Deny" ? { denied: true } : {}),
      ...(d.reason !== "" ? { reason: d.reason } : {}),
    };
  } catch (err) {
    return { allowed: false, evaluationError: (err as Error).message };
  }
}

/** kube's RulesFor answer: a rule is a resource rule, a non-resource rule, or both. */
function rulesStatus(instance: TenantInstance, user: UserInfo, namespace: string): Record<string, unknown> {
  const { rules, errors } = instance.rbac.rulesFor(user, namespace);
  const resourceRules = rules
    .filter((r: Rule) => (r.resources ?? []).length > 0)
    .map((r) => ({
      verbs: r.verbs,
      ...(r.apiGroups?.length ? { apiGroups: r.apiGroups } : {}),
      ...(r.resources?.length ? { resources: r.resources } : {}),
      ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
    }));
  const nonResourceRules = rules
    .filter((r: Rule) => (r.nonResourceURLs ?? []).length > 0)
    .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
  return {
    resourceRules,
    nonResourceRules,
    incomplete: errors.length > 0,
    ...(errors.length > 0 ? { evaluationError: errors.join(", ") } : {}),
  };
}

function userInfoOf(user: UserInfo): Record<string, unknown> {
  return {
    username: user.name,
    ...(user.uid !== "" ? { uid: user.uid } : {}),
    groups: user.groups,
    ...(Object.keys(user.extra).length > 0 ? { extra: user.extra } : {}),
  };
}

async function tokenStatus(
  reviewer: TokenReviewer | undefined,
  token: string,
  audiences: readonly string[],
): Promise<Record<string, unknown>> {
  if (reviewer === undefined)
    return { authenticated: false, user: {}, error: "token review is not available" };
  const result = await reviewer(token, audiences);
  if ("error" in result) return { authenticated: false, user: {}, error: result.error };
  return { authenticated: true, user: userInfoOf(result.user), audiences: result.audiences };
}
