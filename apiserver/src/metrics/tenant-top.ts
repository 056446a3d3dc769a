// Which tenants get a label value of their own: the N busiest, re-chosen once per window from
// the requests counted in it; every other tenant is "other". Bounded to N + 1 series however
// many tenants a shard hosts. Each exposed series stays monotonic: a tenant that gains a
// label starts a new series at zero, one that loses it has its series removed (its later
// requests count under "other"), so no counter ever goes down.

export const otherTenant = "other";

export interface TopTenantsOptions {
  /** How many tenants get their own label (default 20). */
  readonly limit?: number;
  /** How long the busiest are measured before the set is re-chosen (default 60 s). */
  readonly windowMs?: number;
  readonly now?: () => number;
}

export interface Rebalance {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/**
 * Called by the metrics on every request (`labelFor`) and at scrape (`maybeRebalance`); keeps
 * one number per tenant active in the current window, and the labelled set.
 */
export class TopTenants {
  readonly limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #window = new Map<string, number>();
  #windowStart: number;
  readonly #labelled = new Set<string>();

  constructor(opts: TopTenantsOptions = {}) {
    this.limit = opts.limit ?? 20;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
    this.#windowStart = this.#now();
  }

  get labelled(): ReadonlySet<string> {
    return this.#labelled;
  }

  /** Counts one request and answers the label value to use for it. */
  labelFor(tenant: string): string {
    // A tenant literally named "other" cannot have a series apart from the aggregate.
    if (tenant === otherTenant) return otherTenant;
    this.#window.set(tenant, (this.#window.get(tenant) ?? 0) + 1);
    if (this.#labelled.has(tenant)) return tenant;
    if (this.#labelled.size < this.limit) {
      this.#labelled.add(tenant);
      return tenant;
    }
    return otherTenant;
  }

  /** Re-chooses the set when the window is over; answers what changed. */
  maybeRebalance(): Rebalance {
    if (this.#now() - this.#windowStart < this.#windowMs) return { added: [], removed: [] };
    return this.rebalance();
  }

  /** The busiest of the window win; ties keep the tenants that already have a label. */
  rebalance(): Rebalance {
    const candidates = new Set([...this.#labelled, ...this.#window.keys()]);
    const ranked = [...candidates].sort((a, b) => {
      const d = (this.#window.get(b) ?? 0) - (this.#window.get(a) ?? 0);
      if (d !== 0) return d;
      const la = this.#labelled.has(a) ? 0 : 1;
      const lb = this.#labelled.has(b) ? 0 : 1;
      return la - lb || (a < b ? -1 : a > b ? 1 : 0);
    });
    const next = new Set(ranked.slice(0, this.limit));
    const removed = [...this.#labelled].filter((t) => !next.has(t));
    const added = [...next].filter((t) => !this.#labelled.has(t));
    for (const t of removed) this.#labelled.delete(t);
    for (const t of added) this.#labelled.add(t);
    this.#window = new Map();
    this.#windowStart = this.#now();
    return { added, removed };
  }

  /** Drops a deleted tenant; true when it had a label (its series must go). */
  forget(tenant: string): boolean {
    this.#window.delete(tenant);
    return this.#labelled.delete(tenant);
  }
}
