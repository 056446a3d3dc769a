// The ResourceQuota admission plugin for object counts: a create in a namespace is refused when
// it would take a counted kind past a quota's hard limit, with kube's message. Counts are read
// from the tenant's cache (so two creates racing for the last slot may both pass; kube closes
// that window by writing status.used under compare-and-swap).

import { forbidden } from "../apierrors/status.ts";
import { parseQuantity, quantityScaledValue } from "../registry/validation/quantity.ts";
import type { AdmissionPlugin } from "./interface.ts";
import { countIn, keysFor, quotasIn } from "./resource-quota.ts";

/** A hard limit as a count (a Quantity such as "10" or "1k"); unparsable limits limit nothing. */
function quotaLimit(limit: string): number {
  const q = parseQuantity(limit);
  return "error" in q ? Infinity : Number(quantityScaledValue(q, 0));
}

const prettyPrint = (m: Record<string, number>): string =>
  Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k]}`)
    .join(",");

/** Validating; handles CREATE (deletes only free room). */
export const resourceQuotaAdmission: AdmissionPlugin = {
  name: "ResourceQuota",
  handles: (op) => op === "CREATE",
  validate(a) {
    if (a.namespace === "" || a.subresource !== "" || a.dryRun) return;
    const quotas = quotasIn(a.instance, a.namespace);
    if (quotas.length === 0) return;
    const keys = keysFor(a.resource.group, a.resource.resource);
    for (const quota of quotas) {
      const hard = quota.spec?.hard ?? {};
      const requested: Record<string, number> = {};
      const used: Record<string, number> = {};
      const limited: Record<string, number> = {};
      for (const key of keys) {
        const limit = hard[key];
        if (limit === undefined) continue;
        const count = countIn(a.instance, a.resource.group, a.resource.resource, a.namespace);
        const max = quotaLimit(limit);
        if (count + 1 > max) {
          requested[key] = 1;
          used[key] = count;
          limited[key] = max;
        }
      }
      if (Object.keys(requested).length > 0) {
        throw forbidden(
          { group: a.resource.group, resource: a.resource.resource },
          a.name,
          `exceeded quota: ${quota.metadata?.name ?? ""}, requested: ${prettyPrint(requested)}, used: ${prettyPrint(used)}, limited: ${prettyPrint(limited)}`,
        );
      }
    }
  },
};
