// Status of a ValidatingAdmissionPolicy, as kube's policy status controller writes it:
// `observedGeneration` and `typeChecking.expressionWarnings` (one per expression that does not
// compile, with its fieldRef). Without the matched kinds' schemas this checks against dynamic
// objects, so it reports compile errors (syntax, undeclared names, request/namespaceObject
// fields, result types) rather than every schema-level type warning kube finds.

import type { Logger } from "pino";
import { isStatusError } from "../../apierrors/status.ts";
import { GenericStore } from "../../registry/store.ts";
import { objectKey } from "../../storage/keys.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import { compilePolicy } from "./policy.compiler.ts";
import { admissionGroup, policiesResource, type ValidatingAdmissionPolicy } from "./policy.types.ts";

export interface PolicyStatusContext {
  readonly instance: TenantInstance;
  readonly log: Logger;
}

/** The status a policy should carry. */
export function desiredStatus(policy: ValidatingAdmissionPolicy): Record<string, unknown> {
  const warnings = compilePolicy(policy).warnings.map((w) => ({ fieldRef: w.fieldRef, warning: w.warning }));
  return {
    observedGeneration: policy.metadata?.generation ?? 0,
    typeChecking: warnings.length === 0 ? {} : { expressionWarnings: warnings },
  };
}

const sameJSON = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);

/** Writes the policy's status when it differs from what it should be; a gone policy is done. */
export async function reconcilePolicyStatus(ctx: PolicyStatusContext, name: string): Promise<void> {
  const key = objectKey(
    { uid: ctx.instance.tenant.uid },
    { group: admissionGroup, resource: policiesResource },
    undefined,
    name,
  );
  const cached = ctx.instance.cache.get(key);
  if (cached === undefined) return;
  const policy = cached.obj as ValidatingAdmissionPolicy;
  const want = desiredStatus(policy);
  const have = policy.status ?? {};
  if (
    sameJSON(have["observedGeneration"], want["observedGeneration"]) &&
    sameJSON(have["typeChecking"], want["typeChecking"])
  )
    return;
  const def = ctx.instance.resources.lookup(admissionGroup, "v1", policiesResource);
  if (def === undefined) return;
  try {
    await new GenericStore(ctx.instance, def).update(
      "",
      name,
      (current) => {
        const fresh = desiredStatus(current);
        return {
          ...current,
          status: { ...(current["status"] ?? {}), ...fresh },
        };
      },
      { dryRun: false, subresource: "status" },
    );
  } catch (err) {
    if (isStatusError(err) && err.code === 404) return;
    throw err;
  }
}
