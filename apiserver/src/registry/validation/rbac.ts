// RBAC validation as pkg/apis/rbac/validation (v1.32): roles' policy rules, bindings' roleRef
// (immutable on update) and subjects. Names only need to be path segments. Expects v1 defaulting
// (roleRef.apiGroup and User/Group subjects' apiGroup default to rbac.authorization.k8s.io).

import type { FieldError } from "../../apierrors/status.ts";
import * as field from "./field.ts";
import { GoRepr, Path, goQuote, goStringSlice, goStruct } from "./field.ts";
import { nameIsDNSSubdomain, rbacName } from "./names.ts";
import { validateObjectMetaCreate, validateObjectMetaUpdate } from "./object-meta.ts";
import { Wire, isObject, readRoot, type JsonObject } from "./wire.ts";

export const rbacGroup = "rbac.authorization.k8s.io";

const start = readRoot;

const meta = (namespaced: boolean) => ({ namespaced, nameValidator: rbacName, kubeFinalizers: true });

function validatePolicyRule(rule: JsonObject, namespaced: boolean, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  const verbs = w.strings(rule.verbs, path.child("verbs")) ?? [];
  const apiGroups = w.strings(rule.apiGroups, path.child("apiGroups")) ?? [];
  const resources = w.strings(rule.resources, path.child("resources")) ?? [];
  const resourceNames = w.strings(rule.resourceNames, path.child("resourceNames")) ?? [];
  const nonResourceURLs = w.strings(rule.nonResourceURLs, path.child("nonResourceURLs")) ?? [];
  if (verbs.length === 0)
    errs.push(field.required(path.child("verbs"), "verbs must contain at least one value"));
  if (nonResourceURLs.length > 0) {
    const urls = goStringSlice("string", nonResourceURLs);
    if (namespaced) {
      errs.push(
        field.invalid(
          path.child("nonResourceURLs"),
          urls,
          "namespaced rules cannot apply to non-resource URLs",
        ),
      );
    }
    if (apiGroups.length > 0 || resources.length > 0 || resourceNames.length > 0) {
      errs.push(
        field.invalid(
          path.child("nonResourceURLs"),
          urls,
          "rules cannot apply to both regular resources and non-resource URLs",
        ),
      );
    }
    return errs;
  }
  if (apiGroups.length === 0) {
    errs.push(field.required(path.child("apiGroups"), "resource rules must supply at least one api group"));
  }
  if (resources.length === 0) {
    errs.push(field.required(path.child("resources"), "resource rules must supply at least one resource"));
  }
  if (resourceNames.length > 0 && resources.length > 1) {
    errs.push(
      field.required(path.child("resourceNames"), "resource names cannot apply to multiple resources"),
    );
  }
  return errs;
}

function validateRoleLike(obj: unknown, namespaced: boolean): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, meta(namespaced)));
  const rulesPath = Path.root("rules");
  for (const [rule, i] of w.objects(o.rules, rulesPath) ?? []) {
    errs.push(...validatePolicyRule(rule, namespaced, rulesPath.index(i), w));
  }
  return errs;
}

/** ValidateRole: rules may not name non-resource URLs. */
export const validateRole = (obj: unknown): FieldError[] => validateRoleLike(obj, true);

/** ValidateClusterRole. (aggregationRule is not checked by upstream validation beyond its shape.) */
export const validateClusterRole = (obj: unknown): FieldError[] => validateRoleLike(obj, false);

/** ValidateRoleUpdate: the role as on create, then the metadata update. */
export function validateRoleUpdate(obj: unknown, old: unknown): FieldError[] {
  const errs = validateRole(obj);
  errs.push(...metaUpdate(obj, old));
  return errs;
}

export function validateClusterRoleUpdate(obj: unknown, old: unknown): FieldError[] {
  const errs = validateClusterRole(obj);
  errs.push(...metaUpdate(obj, old));
  return errs;
}

const metaUpdate = (obj: unknown, old: unknown): FieldError[] =>
  validateObjectMetaUpdate(
    isObject(obj) ? obj.metadata : undefined,
    isObject(old) ? old.metadata : undefined,
    {
      kubeFinalizers: true,
    },
  );

interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

function readRoleRef(o: JsonObject, w: Wire): RoleRef {
  const p = Path.root("roleRef");
  const r = w.object(o.roleRef, p) ?? {};
  return {
    apiGroup: w.string(r.apiGroup, p.child("apiGroup")) ?? "",
    kind: w.string(r.kind, p.child("kind")) ?? "",
    name: w.string(r.name, p.child("name")) ?? "",
  };
}

/** %#v of rbac.RoleRef, as "cannot change roleRef" prints it. */
export const goRoleRef = (r: RoleRef): string =>
  goStruct("rbac.RoleRef", [
    ["APIGroup", goQuote(r.apiGroup)],
    ["Kind", goQuote(r.kind)],
    ["Name", goQuote(r.name)],
  ]);

function validateSubject(s: JsonObject, namespaced: boolean, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  const name = w.string(s.name, path.child("name")) ?? "";
  const kind = w.string(s.kind, path.child("kind")) ?? "";
  const apiGroup = w.string(s.apiGroup, path.child("apiGroup")) ?? "";
  const namespace = w.string(s.namespace, path.child("namespace")) ?? "";
  if (name.length === 0) errs.push(field.required(path.child("name")));
  switch (kind) {
    case "ServiceAccount":
      if (name.length > 0) {
        for (const msg of nameIsDNSSubdomain(name, false))
          errs.push(field.invalid(path.child("name"), name, msg));
      }
      if (apiGroup.length > 0) errs.push(field.notSupported(path.child("apiGroup"), apiGroup, [""]));
      if (!namespaced && namespace.length === 0) errs.push(field.required(path.child("namespace")));
      break;
    case "User":
      if (name.length === 0) errs.push(field.invalid(path.child("name"), name, "user name cannot be empty"));
      if (apiGroup !== rbacGroup)
        errs.push(field.notSupported(path.child("apiGroup"), apiGroup, [rbacGroup]));
      break;
    case "Group":
      if (name.length === 0) errs.push(field.invalid(path.child("name"), name, "group name cannot be empty"));
      if (apiGroup !== rbacGroup)
        errs.push(field.notSupported(path.child("apiGroup"), apiGroup, [rbacGroup]));
      break;
    default:
      errs.push(field.notSupported(path.child("kind"), kind, ["ServiceAccount", "User", "Group"]));
  }
  return errs;
}

function validateBindingLike(obj: unknown, namespaced: boolean): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, meta(namespaced)));
  const ref = readRoleRef(o, w);
  if (ref.apiGroup !== rbacGroup) {
    errs.push(field.notSupported(Path.root("roleRef", "apiGroup"), ref.apiGroup, [rbacGroup]));
  }
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (!kinds.includes(ref.kind)) errs.push(field.notSupported(Path.root("roleRef", "kind"), ref.kind, kinds));
  if (ref.name.length === 0) errs.push(field.required(Path.root("roleRef", "name")));
  else
    for (const msg of rbacName(ref.name, false))
      errs.push(field.invalid(Path.root("roleRef", "name"), ref.name, msg));
  const subjectsPath = Path.root("subjects");
  for (const [s, i] of w.objects(o.subjects, subjectsPath) ?? []) {
    errs.push(...validateSubject(s, namespaced, subjectsPath.index(i), w));
  }
  return errs;
}

/** ValidateRoleBinding: roleRef to a Role or ClusterRole; ServiceAccount subjects may omit the namespace. */
export const validateRoleBinding = (obj: unknown): FieldError[] => validateBindingLike(obj, true);

/** ValidateClusterRoleBinding: roleRef to a ClusterRole; ServiceAccount subjects need a namespace. */
export const validateClusterRoleBinding = (obj: unknown): FieldError[] => validateBindingLike(obj, false);

function bindingUpdate(obj: unknown, old: unknown, namespaced: boolean): FieldError[] {
  const errs = validateBindingLike(obj, namespaced);
  errs.push(...metaUpdate(obj, old));
  const next = readRoleRef(isObject(obj) ? obj : {}, new Wire([]));
  const prev = readRoleRef(isObject(old) ? old : {}, new Wire([]));
  if (goRoleRef(next) !== goRoleRef(prev)) {
    errs.push(field.invalid(Path.root("roleRef"), new GoRepr(goRoleRef(next)), "cannot change roleRef"));
  }
  return errs;
}

export const validateRoleBindingUpdate = (obj: unknown, old: unknown): FieldError[] =>
  bindingUpdate(obj, old, true);

export const validateClusterRoleBindingUpdate = (obj: unknown, old: unknown): FieldError[] =>
  bindingUpdate(obj, old, false);
