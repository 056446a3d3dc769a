// Each tenant's own audit sinks (its policy's audit webhooks, on top of the platform's log):
// built on the tenant's first audited event, handed to that tenant's requests only (the
// chain asks per request, so one tenant's events never reach another's sink), and closed —
// flushing what they hold — when the tenant's registration is replaced (a policy change),
// its instance is evicted, or it is removed. Nothing is kept for a tenant without a webhook.

import { unionSink, type AuditSink } from "./sink.ts";

/** A tenant's audit webhook, as its effective policy holds it (tenancy/effective-policy.ts). */
export interface TenantAuditWebhook {
  /** https:// URL receiving `audit.k8s.io/v1` EventLists. */
  readonly url: string;
  /** PEM bundle the webhook's serving certificate chains to (default: the system roots). */
  readonly caPem?: string;
}

/** What the sinks need of a tenant: its name and the registration's webhooks (compared by identity). */
export interface AuditedTenant {
  readonly name: string;
  readonly policy?: { readonly auditWebhooks?: readonly TenantAuditWebhook[] };
}

/**
 * One per server. Called by the handler chain (sinkFor, once per audited request) and by the
 * tenant lifecycle hooks (forget); `make` builds one webhook's sink (a WebhookSink) and is
 * never called for a tenant without webhooks.
 */
export class TenantAuditSinks {
  readonly #byTenant = new Map<string, { readonly tenant: AuditedTenant; readonly sink: AuditSink }>();

  constructor(private readonly make: (webhook: TenantAuditWebhook, tenant: string) => AuditSink) {}

  /** The tenant's sink for this registration (undefined: it has no webhook). */
  sinkFor(tenant: AuditedTenant): AuditSink | undefined {
    const current = this.#byTenant.get(tenant.name);
    if (current?.tenant === tenant) return current.sink;
    // Another registration of the name (a policy change, a re-created tenant): the old one goes.
    if (current !== undefined) void this.forget(tenant.name);
    const webhooks = tenant.policy?.auditWebhooks ?? [];
    if (webhooks.length === 0) return undefined;
    const sinks = webhooks.map((w) => this.make(w, tenant.name));
    const sink = sinks.length === 1 ? sinks[0]! : unionSink(...sinks);
    this.#byTenant.set(tenant.name, { tenant, sink });
    return sink;
  }

  /**
   * Closes the sink of `name` (flushing it) and forgets it; with `registration`, only when it
   * was built for that one (an evicted instance's, not a newer registration's).
   */
  forget(name: string, registration?: AuditedTenant): Promise<void> {
    const current = this.#byTenant.get(name);
    if (current === undefined || (registration !== undefined && current.tenant !== registration))
      return Promise.resolve();
    this.#byTenant.delete(name);
    return current.sink.close();
  }

  /** Tenants with a sink open (for tests). */
  get size(): number {
    return this.#byTenant.size;
  }

  /** Closes every sink (server shutdown). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#byTenant.keys()].map((name) => this.forget(name)));
  }
}
