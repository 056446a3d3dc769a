// Which shards are alive, from their coordination.k8s.io/v1 Leases in the root tenant
// (`multiplane-system/shard-<name>`, written by each shard: shard-lease.ts). A lease is live
// while it was seen to change less than its leaseDurationSeconds ago, measured on this
// process's clock as client-go's leader election does (never by comparing the writer's
// renewTime with our clock: the processes' clocks need not agree). Fed by the ControlPlane
// registry (from the root tenant's cache) and by the router's directory (from a watch); pure
// bookkeeping, no I/O.

import type { KubeObject } from "../registry/printers.ts";

/** The namespace of the root tenant that holds the shards' leases. */
export const shardNamespace = "multiplane-system";
/** A shard's lease is named `shard-<shard name>`. */
export const shardLeasePrefix = "shard-";
/** The annotation of a shard's lease that holds the shard's URL (what routers forward to). */
export const shardURLAnnotation = "multiplane.dev/shard-url";
/** How long a lease lives without a renewal, by default. */
export const defaultShardLeaseSeconds = 10;

export interface LeaseObject extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

interface Observed {
  readonly url: string;
  readonly resourceVersion: string;
  readonly durationMs: number;
  /** When this process saw the lease change last. */
  readonly observedAt: number;
}

/** The shard a lease object speaks for, or undefined when it is not a shard lease. */
export function shardOfLease(lease: LeaseObject): string | undefined {
  const name = lease.metadata?.name ?? "";
  const holder = lease.spec?.holderIdentity;
  if (!name.startsWith(shardLeasePrefix) || holder === undefined || holder === "") return undefined;
  if (name !== `${shardLeasePrefix}${holder}`) return undefined;
  return holder;
}

/**
 * The shards and their URLs as their leases tell. Called by one owner (the registry or the
 * router's directory), which feeds it every lease event; readers ask `live` and `url`.
 */
export class ShardMembership {
  private readonly shards = new Map<string, Observed>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A lease was added or changed; answers whether anything readers see changed. */
  observe(lease: LeaseObject): boolean {
    const shard = shardOfLease(lease);
    if (shard === undefined) return false;
    const rv = lease.metadata?.resourceVersion ?? "";
    const url = lease.metadata?.annotations?.[shardURLAnnotation] ?? "";
    const previous = this.shards.get(shard);
    if (previous !== undefined && previous.resourceVersion === rv) return false;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? defaultShardLeaseSeconds) * 1_000;
    this.shards.set(shard, { url, resourceVersion: rv, durationMs, observedAt: this.now() });
    return previous === undefined || previous.url !== url || !this.alive(previous);
  }

  /** A lease was deleted. */
  forget(lease: LeaseObject): boolean {
    const shard = shardOfLease(lease);
    return shard !== undefined && this.shards.delete(shard);
  }

  /** Replaces everything with a fresh list (after a relist); unchanged leases keep their age. */
  reset(leases: readonly LeaseObject[]): void {
    const seen = new Set<string>();
    for (const l of leases) {
      const shard = shardOfLease(l);
      if (shard === undefined) continue;
      seen.add(shard);
      this.observe(l);
    }
    for (const shard of [...this.shards.keys()]) if (!seen.has(shard)) this.shards.delete(shard);
  }

  /** Whether the shard's lease was renewed within its duration. */
  isLive(shard: string): boolean {
    const o = this.shards.get(shard);
    return o !== undefined && this.alive(o);
  }

  /** The live shards, sorted by name. */
  liveShards(): string[] {
    return [...this.shards.entries()]
      .filter(([, o]) => this.alive(o))
      .map(([name]) => name)
      .sort();
  }

  /** The URL a shard's lease announces (live or not: the router may still try it). */
  url(shard: string): string | undefined {
    const url = this.shards.get(shard)?.url;
    return url === undefined || url === "" ? undefined : url;
  }

  private alive(o: Observed): boolean {
    return this.now() - o.observedAt < o.durationMs;
  }
}
