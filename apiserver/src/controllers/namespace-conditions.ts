// The conditions a terminating namespace carries, as kube-controller-manager's namespace
// deleter words them (namespace/deletion/status_condition_utils.go): one condition per
// type, True with a reason while something is wrong, else False with the "ok" reason.

/** core/v1 NamespaceCondition, fields in upstream's order. */
export interface NamespaceCondition {
  type: string;
  status: "True" | "False";
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The condition types the namespace controller owns, in upstream's order. */
export const namespaceConditionTypes = [
  "NamespaceDeletionDiscoveryFailure",
  "NamespaceDeletionGroupVersionParsingFailure",
  "NamespaceDeletionContentFailure",
  "NamespaceContentRemaining",
  "NamespaceFinalizersRemaining",
] as const;

export type NamespaceConditionType = (typeof namespaceConditionTypes)[number];

const ok: Record<NamespaceConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: {
    reason: "ResourcesDiscovered",
    message: "All resources successfully discovered",
  },
  NamespaceDeletionGroupVersionParsingFailure: {
    reason: "ParsedGroupVersions",
    message: "All legacy kube types successfully parsed",
  },
  NamespaceDeletionContentFailure: {
    reason: "ContentDeleted",
    message: "All content successfully deleted, may be waiting on finalization",
  },
  NamespaceContentRemaining: { reason: "ContentRemoved", message: "All content successfully removed" },
  NamespaceFinalizersRemaining: {
    reason: "ContentHasNoFinalizers",
    message: "All content-preserving finalizers finished",
  },
};

/** What one pass over a terminating namespace's content found. */
export interface ContentTotals {
  /** Objects left, by `<resource>.<group>` (upstream prints the core group as "", so `configmaps.`). */
  readonly remaining: ReadonlyMap<string, number>;
  /** Objects left, by finalizer they still carry. */
  readonly finalizers: ReadonlyMap<string, number>;
  /** One message per resource that could not be emptied. */
  readonly errors: readonly string[];
}

/** The failing conditions for these totals (types absent from the result are fine). */
export function failingConditions(totals: ContentTotals, now: string): NamespaceCondition[] {
  const out: NamespaceCondition[] = [];
  if (totals.errors.length > 0) {
    const msgs = [...totals.errors].sort();
    out.push({
      type: "NamespaceDeletionContentFailure",
      status: "True",
      lastTransitionTime: now,
      reason: "ContentDeletionFailed",
      message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(", ")}`,
    });
  }
  const remaining = [...totals.remaining]
    .filter(([, n]) => n > 0)
    .map(([gr, n]) => `${gr} has ${n} resource instances`)
    .sort();
  if (remaining.length > 0) {
    out.push({
      type: "NamespaceContentRemaining",
      status: "True",
      lastTransitionTime: now,
      reason: "SomeResourcesRemain",
      message: `Some resources are remaining: ${remaining.join(", ")}`,
    });
  }
  const byFinalizer = [...totals.finalizers]
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f} in ${n} resource instances`)
    .sort();
  if (byFinalizer.length > 0) {
    out.push({
      type: "NamespaceFinalizersRemaining",
      status: "True",
      lastTransitionTime: now,
      reason: "SomeFinalizersRemain",
      message: `Some content in the namespace has finalizers remaining: ${byFinalizer.join(", ")}`,
    });
  }
  return out;
}

/**
 * Merges `failing` into `existing` (upstream's updateConditions): every owned type ends up
 * present, failing or ok; lastTransitionTime moves only when the status flips; conditions of
 * other types are kept. Returns a new list; `existing` is not modified.
 */
export function mergeConditions(
  existing: readonly NamespaceCondition[],
  failing: readonly NamespaceCondition[],
  now: string,
): { conditions: NamespaceCondition[]; changed: boolean } {
  const conditions = existing.map((c) => ({ ...c }));
  let changed = false;
  for (const type of namespaceConditionTypes) {
    const wanted = failing.find((c) => c.type === type) ?? {
      type,
      status: "False" as const,
      lastTransitionTime: now,
      ...ok[type],
    };
    const old = conditions.find((c) => c.type === type);
    if (old === undefined) {
      conditions.push({ ...wanted });
      changed = true;
    } else if (
      old.status !== wanted.status ||
      old.reason !== wanted.reason ||
      old.message !== wanted.message
    ) {
      if (old.status !== wanted.status) old.lastTransitionTime = now;
      old.status = wanted.status;
      old.reason = wanted.reason;
      old.message = wanted.message;
      changed = true;
    }
  }
  return { conditions, changed };
}
