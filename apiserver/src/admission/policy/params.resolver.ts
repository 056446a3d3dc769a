// The params of one binding (kube's generic.CollectParams), read from the tenant's watch
// cache through its resource index: a ConfigMap, any built-in kind or a custom resource.
// Returns the params to evaluate with ([undefined] when the policy takes none), [] when none
// were found and parameterNotFoundAction allows it, or throws a configuration error.

import { labelSelectorFromObject } from "../../endpoints/selectors/label-selector.ts";
import type { KubeObject } from "../../registry/printers.ts";
import type { ResourceDef } from "../../registry/resources.ts";
import { resourcePrefix } from "../../storage/keys.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import type { ParamKind, ParamRef } from "./policy.types.ts";

/** schema.GroupVersionKind's String(): `apps/v1, Kind=Deployment`, `/v1, Kind=ConfigMap`. */
export const gvkString = (pk: ParamKind): string => {
  const av = pk.apiVersion ?? "";
  return `${av.includes("/") ? av : `/${av}`}, Kind=${pk.kind ?? ""}`;
};

/** The served resource of a paramKind, or undefined when the tenant does not serve it. */
export function paramDef(instance: TenantInstance, pk: ParamKind): ResourceDef | undefined {
  const av = pk.apiVersion ?? "";
  const slash = av.indexOf("/");
  const group = slash < 0 ? "" : av.slice(0, slash);
  const version = slash < 0 ? av : av.slice(slash + 1);
  return instance.resources.all.find((d) => d.group === group && d.version === version && d.kind === pk.kind);
}

export function collectParams(
  instance: TenantInstance,
  paramKind: ParamKind | null | undefined,
  paramRef: ParamRef | null | undefined,
  namespace: string,
): (KubeObject | undefined)[] {
  // No paramKind: any paramRef is ignored. A paramKind but no paramRef: no params.
  if (paramKind === undefined || paramKind === null) return [undefined];
  if (paramRef === undefined || paramRef === null) return [undefined];
  const def = paramDef(instance, paramKind);
  if (def === undefined) {
    throw new Error(`paramKind kind \`${gvkString(paramKind)}\` not known`);
  }
  let paramsNamespace: string | undefined;
  if (def.namespaced) {
    paramsNamespace = (paramRef.namespace ?? "") !== "" ? paramRef.namespace : namespace;
    if (paramsNamespace === "") {
      throw new Error(
        "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources",
      );
    }
  } else if ((paramRef.namespace ?? "") !== "") {
    throw new Error("paramRef.namespace must not be provided for a cluster-scoped `paramKind`");
  }
  const tenant = { uid: instance.tenant.uid };
  const prefix = resourcePrefix(tenant, { group: def.group, resource: def.plural }, paramsNamespace);
  let params: KubeObject[];
  const name = paramRef.name ?? "";
  if (name !== "") {
    if (paramRef.selector !== undefined && paramRef.selector !== null) {
      throw new Error("paramRef.name and paramRef.selector are mutually exclusive");
    }
    const found = instance.cache.get(`${prefix}${name}`);
    params = found === undefined ? [] : [found.obj];
  } else if (paramRef.selector !== undefined && paramRef.selector !== null) {
    const selector = labelSelectorFromObject(paramRef.selector);
    params = instance.cache
      .list(prefix)
      .map((c) => c.obj)
      .filter((o) => selector.matches(o.metadata?.labels ?? {}));
  } else {
    throw new Error("one of name or selector must be provided");
  }
  if (params.length === 0 && paramRef.parameterNotFoundAction === "Deny") {
    throw new Error("no params found for policy binding with `Deny` parameterNotFoundAction");
  }
  return params;
}
