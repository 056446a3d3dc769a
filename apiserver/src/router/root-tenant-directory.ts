// The router's TenantDirectory in a multi-process install: tenants from a list+watch of the
// root tenant's ControlPlanes, shards and their URLs from a list+watch of the shards' Leases
// (root-watch.ts, through any shard). Each tenant is answered from memory as its ControlPlane
// says: its UID, phase (Terminating once being deleted; Ready only when status says so and a
// shard is named), shard and effective policy (a project's merged with its organization's,
// tenancy/effective-policy.ts; a project whose organization is missing or being deleted, or
// whose policy cannot be used, is Pending, as the shards do). The root tenant is served by
// every shard: it goes to the first live one. Ready (readiness of the router) once both lists
// arrived; a deleted or moved tenant is noticed as soon as its watch event arrives.

import type { Logger } from "pino";
import type { CertKeyPair } from "../server/pki.ts";
import {
  controlPlaneGroup,
  controlPlanePlural,
  controlPlaneVersion,
  type ControlPlane,
} from "../tenancy/controlplane.types.ts";
import { effectivePolicy } from "../tenancy/effective-policy.ts";
import { rootTenant } from "../tenancy/instance.ts";
import { controlPlaneOfTenant, nameMismatch } from "../tenancy/names.ts";
import type { TenantPolicy } from "../tenancy/policy.ts";
import { ShardMembership, shardNamespace } from "../tenancy/shard-membership.ts";
import { RootWatch } from "./root-watch.ts";
import type { RoutedTenant, TenantDirectory, TenantPhase } from "./tenant-directory.ts";

export interface RootTenantDirectoryOptions {
  /** Shards to read the root tenant from (https://host:port), tried in turn. */
  readonly rootURLs: readonly string[];
  /** The shards' CA and the router's client certificate. */
  readonly caPem: string;
  readonly clientCertificate: CertKeyPair;
  readonly log: Logger;
}

const controlPlanesPath = `/apis/${controlPlaneGroup}/${controlPlaneVersion}/${controlPlanePlural}`;
const leasesPath = `/apis/coordination.k8s.io/v1/namespaces/${shardNamespace}/leases`;

/** How often liveness is looked at again (a shard whose lease expired no longer takes the root). */
const livenessCheckMs = 1_000;

interface PolicyEntry {
  /** What the policy was built from (own and organization's spec.policy). */
  readonly source: string;
  readonly policy: TenantPolicy;
}

/** Started by `multiplane router --root-url`; `lookup` and `shardURL` answer from memory. */
export class RootTenantDirectory implements TenantDirectory {
  /** ControlPlanes by name (`acme`, `acme.web`). */
  private readonly controlPlanes = new Map<string, ControlPlane>();
  /** Effective policies by ControlPlane name, kept while their source is unchanged (same object). */
  private readonly policies = new Map<string, PolicyEntry>();
  private readonly membership = new ShardMembership();
  private readonly listeners = new Set<() => void>();
  private readonly cpWatch: RootWatch;
  private readonly leaseWatch: RootWatch;
  private livenessTimer: NodeJS.Timeout | undefined;
  private liveShards = "";
  private listed = false;

  constructor(opts: RootTenantDirectoryOptions) {
    const common = {
      urls: opts.rootURLs,
      caPem: opts.caPem,
      clientCertificate: opts.clientCertificate,
      log: opts.log,
    };
    this.cpWatch = new RootWatch({
      ...common,
      path: controlPlanesPath,
      onList: (items) => {
        this.controlPlanes.clear();
        for (const cp of items) this.controlPlanes.set(cp.metadata?.name ?? "", cp);
        this.notify();
      },
      onEvent: (type, obj) => {
        const name = obj.metadata?.name ?? "";
        if (type === "DELETED") {
          this.controlPlanes.delete(name);
          this.policies.delete(name);
        } else this.controlPlanes.set(name, obj);
        this.notify();
      },
    });
    this.leaseWatch = new RootWatch({
      ...common,
      path: leasesPath,
      onList: (items) => {
        this.membership.reset(items);
        this.checkLiveness();
        this.notify();
      },
      onEvent: (type, obj) => {
        const changed = type === "DELETED" ? this.membership.forget(obj) : this.membership.observe(obj);
        if (changed) this.notify();
      },
    });
  }

  /** Lists and watches; resolves once both lists arrived (the router is ready then). */
  async start(): Promise<void> {
    await Promise.all([this.cpWatch.start(), this.leaseWatch.start()]);
    this.listed = true;
    this.livenessTimer = setInterval(() => this.checkLiveness(), livenessCheckMs);
    this.livenessTimer.unref(); // stop() clears it
  }

  async stop(): Promise<void> {
    clearInterval(this.livenessTimer);
    await Promise.all([this.cpWatch.stop(), this.leaseWatch.stop()]);
  }

  /** Whether the first lists arrived. */
  get ready(): boolean {
    return this.listed;
  }

  lookup(name: string): RoutedTenant | undefined {
    if (name === rootTenant.name) {
      const [shard] = this.membership.liveShards();
      return { name, uid: rootTenant.uid, phase: "Ready", shard: shard ?? "" };
    }
    let cpName: string;
    try {
      cpName = controlPlaneOfTenant(name);
    } catch {
      return undefined; // no ControlPlane can name it
    }
    const cp = this.controlPlanes.get(cpName);
    const uid = cp?.metadata?.uid;
    if (cp === undefined || uid === undefined) return undefined;
    const shard = cp.status?.shard ?? "";
    const policy = this.policyOf(cpName, cp);
    let phase: TenantPhase;
    if (cp.metadata?.deletionTimestamp !== undefined || cp.status?.phase === "Terminating")
      phase = "Terminating";
    else if (cp.status?.phase === "Ready" && shard !== "" && policy !== undefined) phase = "Ready";
    else phase = "Pending";
    return { name, uid, phase, shard, ...(policy !== undefined ? { policy } : {}) };
  }

  shardURL(shard: string): string | undefined {
    return this.membership.url(shard);
  }

  subscribe(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  /** The tenant's effective policy, or undefined when it cannot be known (never a wider one). */
  private policyOf(cpName: string, cp: ControlPlane): TenantPolicy | undefined {
    const spec = cp.spec ?? { organization: "" };
    if (nameMismatch(cpName, spec) !== undefined) return undefined;
    let orgPolicy;
    if (spec.project !== undefined) {
      const org = this.controlPlanes.get(spec.organization);
      if (org === undefined || org.metadata?.deletionTimestamp !== undefined) return undefined;
      orgPolicy = org.spec?.policy ?? {};
    }
    const source = JSON.stringify([spec.policy ?? null, orgPolicy ?? null]);
    const known = this.policies.get(cpName);
    if (known?.source === source) return known.policy;
    try {
      const policy = effectivePolicy(spec.policy, orgPolicy);
      this.policies.set(cpName, { source, policy });
      return policy;
    } catch {
      return undefined;
    }
  }

  private checkLiveness(): void {
    const live = this.membership.liveShards().join(",");
    if (live === this.liveShards) return;
    this.liveShards = live;
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
