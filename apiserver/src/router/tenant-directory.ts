// Where the router learns tenants: the TenantDirectory interface, implemented by the
// ControlPlane registry in process (`multiplane up`), by RootTenantDirectory from a watch of the
// root tenant (`multiplane router --root-url`), and by a static implementation for tests (and
// `up`'s tenants registered without a ControlPlane) that puts every tenant of a TenantManager on
// one shard, Ready.

import type { Tenant } from "../tenancy/instance.ts";
import type { TenantPolicy } from "../tenancy/policy.ts";

/** A ControlPlane's status phase, as the router reads it. */
export const tenantPhases = ["Pending", "Ready", "Terminating"] as const;
export type TenantPhase = (typeof tenantPhases)[number];

/** What the router needs of a tenant: its identity and policy (authentication), phase and shard. */
export interface RoutedTenant {
  /** `root`, `acme` or `acme:web`. */
  readonly name: string;
  /** The ControlPlane UID (tenant JWTs name it). */
  readonly uid: string;
  readonly phase: TenantPhase;
  /** The shard's name, resolved to a URL by `shardURL`. */
  readonly shard: string;
  readonly policy?: TenantPolicy;
}

/**
 * The router's view of the tenant registry. Implemented by the ControlPlane registry (and by
 * StaticTenantDirectory); called by the router on every request, so `lookup` and `shardURL`
 * answer from memory. The router never changes what they return.
 */
export interface TenantDirectory {
  /** The tenant named `name`, or undefined when there is none. */
  lookup(name: string): RoutedTenant | undefined;
  /** The base URL (https://host:port) of the shard named `shard`, or undefined when unknown. */
  shardURL(shard: string): string | undefined;
  /** Calls `onChange` after tenants or shards changed; answers the unsubscribe function. */
  subscribe?(onChange: () => void): () => void;
}

/** Where StaticTenantDirectory finds tenants: a TenantManager, or anything with its lookup. */
export interface TenantSource {
  lookup(name: string): Tenant | undefined;
}

/**
 * The tenants of `source`, Ready unless setPhase says otherwise, each on the shard `placement`
 * names (by default the first of `shards`: every tenant on one shard). Reads `source` on each
 * lookup, so tenants added to a TenantManager later are routed too.
 */
export class StaticTenantDirectory implements TenantDirectory {
  private readonly phases = new Map<string, TenantPhase>();
  private readonly listeners = new Set<() => void>();
  private readonly shards: ReadonlyMap<string, string>;

  constructor(
    private readonly source: TenantSource,
    /** Shard name → base URL; the first is the default placement. */
    shards: ReadonlyMap<string, string> | { readonly name: string; readonly url: string },
    private readonly placement?: (tenant: string) => string | undefined,
  ) {
    this.shards = "url" in shards ? new Map([[shards.name, shards.url]]) : shards;
    if (this.shards.size === 0) throw new Error("StaticTenantDirectory: no shard");
  }

  lookup(name: string): RoutedTenant | undefined {
    const t = this.source.lookup(name);
    if (t === undefined) return undefined;
    return {
      name: t.name,
      uid: t.uid,
      phase: this.phases.get(name) ?? "Ready",
      shard: this.placement?.(name) ?? this.shards.keys().next().value!,
      ...(t.policy !== undefined ? { policy: t.policy } : {}),
    };
  }

  shardURL(shard: string): string | undefined {
    return this.shards.get(shard);
  }

  subscribe(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  /** Overrides a tenant's phase (Ready again with "Ready"); for tests and operators of `up`. */
  setPhase(name: string, phase: TenantPhase): void {
    if (phase === "Ready") this.phases.delete(name);
    else this.phases.set(name, phase);
    for (const l of this.listeners) l();
  }
}

/** A fixed list of tenants (the `multiplane router --tenant` flags), for StaticTenantDirectory. */
export function tenantList(tenants: readonly Tenant[]): TenantSource {
  const byName = new Map(tenants.map((t) => [t.name, t]));
  return { lookup: (name) => byName.get(name) };
}
