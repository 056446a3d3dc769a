// A tenant's webhooks, read from its watch cache and compiled once per change of the
// configurations (kube's configuration managers over informers): configurations in name
// order, webhooks in their order inside each, selectors parsed once. No storage read per
// request.

import { isStatusError } from "../../apierrors/status.ts";
import {
  everythingLabelSelector,
  labelSelectorFromObject,
  type LabelSelector,
  type LabelSelectorObject,
} from "../../endpoints/selectors/index.ts";
import { resourcePrefix } from "../../storage/keys.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import type { FailurePolicy, MatchPolicy, WebhookConfiguration, WebhookSpec } from "./webhook.types.ts";

export const webhookKinds = {
  mutating: { resource: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration" },
  validating: { resource: "validatingwebhookconfigurations", kind: "ValidatingWebhookConfiguration" },
} as const;

export type WebhookType = keyof typeof webhookKinds;

/** A selector, or why it cannot be used (kube answers 500 for it when the webhook is asked). */
export type ParsedSelector = { readonly selector: LabelSelector } | { readonly error: string };

/** One webhook of one configuration, ready to match and call. Immutable and shared by requests. */
export interface CompiledWebhook {
  /** `<configuration>/<webhook>/<n>`: unique even when a configuration repeats a webhook name. */
  readonly uid: string;
  readonly configurationName: string;
  /** The position among all webhooks of its type in the tenant (audit annotation indices). */
  readonly index: number;
  readonly spec: WebhookSpec;
  readonly failurePolicy: FailurePolicy;
  readonly matchPolicy: MatchPolicy;
  readonly timeoutSeconds: number;
  readonly namespaceSelector: ParsedSelector;
  readonly objectSelector: ParsedSelector;
}

/** timeoutSeconds: 10 when absent, within 1..30 as validation allows. */
const timeoutOf = (t: number | undefined): number =>
  typeof t === "number" && Number.isFinite(t) ? Math.min(30, Math.max(1, Math.trunc(t))) : 10;

function parseSelector(sel: LabelSelectorObject | null | undefined): ParsedSelector {
  // Absent means `{}` (defaulting), which selects everything.
  if (sel === undefined || sel === null) return { selector: everythingLabelSelector() };
  try {
    return { selector: labelSelectorFromObject(sel) };
  } catch (err) {
    if (isStatusError(err)) return { error: err.message };
    throw err;
  }
}

export function compileConfigurations(configs: readonly WebhookConfiguration[]): CompiledWebhook[] {
  const out: CompiledWebhook[] = [];
  for (const c of configs) {
    const configurationName = c.metadata?.name ?? "";
    const seen = new Map<string, number>();
    for (const spec of c.webhooks ?? []) {
      const n = seen.get(spec.name) ?? 0;
      seen.set(spec.name, n + 1);
      out.push({
        uid: `${configurationName}/${spec.name}/${n}`,
        configurationName,
        index: out.length,
        spec,
        failurePolicy: spec.failurePolicy === "Ignore" ? "Ignore" : "Fail",
        matchPolicy: spec.matchPolicy === "Exact" ? "Exact" : "Equivalent",
        timeoutSeconds: timeoutOf(spec.timeoutSeconds),
        namespaceSelector: parseSelector(spec.namespaceSelector),
        objectSelector: parseSelector(spec.objectSelector),
      });
    }
  }
  return out;
}

interface Compiled {
  readonly changes: number;
  readonly hooks: readonly CompiledWebhook[];
}

/**
 * The webhooks of one type for each tenant, recompiled when the cache reports a change of that
 * resource. Called by the webhook plugins on every write; never changes the cache.
 */
export class WebhookSource {
  private readonly byCache = new WeakMap<object, Compiled>();

  constructor(private readonly type: WebhookType) {}

  webhooks(instance: TenantInstance): readonly CompiledWebhook[] {
    const prefix = resourcePrefix(
      { uid: instance.tenant.uid },
      { group: "admissionregistration.k8s.io", resource: webhookKinds[this.type].resource },
    );
    const changes = instance.cache.changesOf(prefix);
    const known = this.byCache.get(instance.cache);
    if (known !== undefined && known.changes === changes) return known.hooks;
    // Cache keys sort by name: the configurations' order is kube's (sorted by name).
    const configs = instance.cache.list(prefix).map((o) => o.obj as WebhookConfiguration);
    const hooks = compileConfigurations(configs);
    this.byCache.set(instance.cache, { changes, hooks });
    return hooks;
  }
}
