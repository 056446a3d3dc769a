// A shard's liveness: its coordination.k8s.io/v1 Lease `multiplane-system/shard-<name>` in the
// root tenant (holderIdentity the shard's name, annotation multiplane.dev/shard-url its URL),
// written through the root tenant's store in this process and renewed every few seconds. The
// other shards place tenants only on shards whose lease lives (shard-membership.ts), and re-place
// the tenants of a shard whose lease expired; routers learn the shards' URLs from these leases.
// A clean stop deletes the lease, so that the shard's tenants move at once.

import type { Logger } from "pino";
import { isStatusError } from "../apierrors/status.ts";
import { logKeys } from "../controllers/log.ts";
import { GenericStore } from "../registry/store.ts";
import type { ResourceDef } from "../registry/resources.ts";
import { rootTenant, type TenantInstance, type TenantManager } from "./instance.ts";
import {
  defaultShardLeaseSeconds,
  shardLeasePrefix,
  shardNamespace,
  shardURLAnnotation,
  type LeaseObject,
} from "./shard-membership.ts";

export interface ShardLeaseOptions {
  readonly tenants: TenantManager;
  /** The shard's name (its lease's holderIdentity). */
  readonly shard: string;
  /** Where routers reach the shard (https://host:port). */
  readonly url: string;
  /** The lease's duration (default 10 s); it is renewed every third of it. */
  readonly leaseSeconds?: number;
  readonly log: Logger;
}

/** kube's MicroTime (RFC 3339 with microseconds), as leases carry it. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, "000Z");

const leaseName = (shard: string): string => `${shardLeasePrefix}${shard}`;

function defOf(root: TenantInstance, group: string, plural: string): ResourceDef {
  const def = root.resources.lookup(group, "v1", plural);
  if (def === undefined) throw new Error(`${plural}.${group || "core"} is not served by the root tenant`);
  return def;
}

/** Started by a shard before its ControlPlane registry (so it counts itself live); stopped first. */
export class ShardLease {
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private stopped = false;
  private readonly leaseSeconds: number;

  constructor(private readonly opts: ShardLeaseOptions) {
    this.leaseSeconds = opts.leaseSeconds ?? defaultShardLeaseSeconds;
  }

  /** Creates the namespace (when missing) and the lease; then renews it on a timer. */
  async start(): Promise<void> {
    await this.renew();
    const every = Math.max(200, (this.leaseSeconds * 1_000) / 3);
    this.timer = setInterval(() => {
      if (this.renewing !== undefined) return; // a slow write: the next tick tries again
      this.renewing = this.renew()
        .catch((err: unknown) =>
          this.opts.log.warn({ [logKeys.err]: err, shard: this.opts.shard }, "shard lease renewal failed"),
        )
        .finally(() => (this.renewing = undefined));
    }, every);
    this.timer.unref(); // stop() clears it
  }

  /** Stops renewing and deletes the lease (best effort: an expired lease means the same). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.renewing;
    try {
      const root = await this.opts.tenants.instance(rootTenant);
      await new GenericStore(root, defOf(root, "coordination.k8s.io", "leases")).delete(
        shardNamespace,
        leaseName(this.opts.shard),
        { dryRun: false },
      );
    } catch (err) {
      this.opts.log.warn({ [logKeys.err]: err, shard: this.opts.shard }, "shard lease not released");
    }
  }

  /** Writes the lease: created if missing (and its namespace), renewTime and URL otherwise. */
  private async renew(): Promise<void> {
    if (this.stopped) return;
    const root = await this.opts.tenants.instance(rootTenant);
    const leases = new GenericStore(root, defOf(root, "coordination.k8s.io", "leases"));
    const name = leaseName(this.opts.shard);
    const now = microTime(Date.now());
    try {
      await leases.update(
        shardNamespace,
        name,
        (current) => {
          const lease = current as LeaseObject;
          const meta = (lease.metadata ??= {});
          meta.annotations = { ...meta.annotations, [shardURLAnnotation]: this.opts.url };
          const holder = lease.spec?.holderIdentity;
          lease.spec = {
            ...lease.spec,
            holderIdentity: this.opts.shard,
            leaseDurationSeconds: this.leaseSeconds,
            renewTime: now,
            ...(holder !== this.opts.shard
              ? { acquireTime: now, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }
              : {}),
          };
          return lease;
        },
        { dryRun: false },
      );
      return;
    } catch (err) {
      if (!isStatusError(err) || err.code !== 404) throw err;
    }
    await this.ensureNamespace(root);
    try {
      await leases.create(
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {
            name,
            namespace: shardNamespace,
            annotations: { [shardURLAnnotation]: this.opts.url },
          },
          spec: {
            holderIdentity: this.opts.shard,
            leaseDurationSeconds: this.leaseSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        },
        shardNamespace,
        { dryRun: false },
      );
    } catch (err) {
      // Another start of this shard created it in between: the next renewal updates it.
      if (!isStatusError(err) || err.code !== 409) throw err;
    }
  }

  private async ensureNamespace(root: TenantInstance): Promise<void> {
    try {
      await new GenericStore(root, defOf(root, "", "namespaces")).create(
        { apiVersion: "v1", kind: "Namespace", metadata: { name: shardNamespace } },
        "",
        { dryRun: false },
      );
    } catch (err) {
      if (!isStatusError(err) || err.code !== 409) throw err;
    }
  }
}
