// `multiplane up`: everything in one process for a laptop or CI — one shard (shard.ts: storage,
// embedded by default or etcd, the root control plane with the platform's CRDs from crds/, its
// API server and the ControlPlane registry that serves a tenant per ControlPlane), an admin
// kubeconfig, and the Organization/Project operator against it.

import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildKubeconfig } from "../server/kubeconfig.ts";
import type { Storage } from "../storage/interface.ts";
import type { ControlPlaneRegistry } from "../tenancy/controlplane.registry.ts";
import type { TenantManager } from "../tenancy/instance.ts";
import { startInProcessOperator } from "../../../operator/src/operator.ts";
import { shardFlags, shardOptionsOf, startShard, untilSignal, type ShardOptions } from "./shard.ts";

export { parseDurationMs, requestHeaderAllowedNames } from "./shard.ts";

export type UpOptions = Omit<ShardOptions, "shard" | "advertiseURL" | "externalURL"> & {
  /** This shard's name, written to each ControlPlane's status.shard (default "local"). */
  shard?: string;
  /** Run the Organization/Project operator in process (default true; false for tests of `multiplane operator`). */
  operator?: boolean;
};

export interface Multiplane {
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly tenants: TenantManager;
  /** Keeps `tenants` in step with the root tenant's ControlPlanes. */
  readonly registry: ControlPlaneRegistry;
  readonly storage: Storage;
  stop(): Promise<void>;
}

export async function up(opts: UpOptions): Promise<Multiplane> {
  const { operator: runOperator, ...shardOpts } = opts;
  const shard = await startShard({ ...shardOpts, shard: opts.shard ?? "local" });
  const [adminToken] = [...shard.tokens.entries()].find(([, u]) => u.groups.includes("system:masters")) ?? [];
  const dataDir = resolve(opts.dataDir);
  const kubeconfigPath = join(dataDir, "admin.kubeconfig");
  let operator: { stop(): Promise<void> } = { stop: () => Promise.resolve() };
  try {
    await writeFile(
      kubeconfigPath,
      buildKubeconfig({
        name: "multiplane",
        server: shard.url,
        caPem: shard.pki.ca.certPem,
        token: adminToken ?? "",
        user: "admin",
      }),
      { mode: 0o600 },
    );
    // The operator, in process, against this root (host and Multiplane alike) as the admin.
    if (runOperator !== false)
      operator = await startInProcessOperator({
        kubeconfigPath,
        dataDir,
        issuer: shard.issuer,
        log: shard.log,
      });
  } catch (err) {
    await shard.stop();
    throw err;
  }
  shard.log.info({ url: shard.url, kubeconfig: kubeconfigPath }, "multiplane is up");
  return {
    url: shard.url,
    kubeconfigPath,
    tenants: shard.tenants,
    registry: shard.registry,
    storage: shard.storage,
    stop: async () => {
      await operator.stop();
      await shard.stop();
    },
  };
}

export async function runUp(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { ...shardFlags, shard: { type: "string", default: "local" } },
  });
  const mp = await up({ ...(await shardOptionsOf(values)), shard: values.shard });
  process.stdout.write(
    `\nMultiplane is serving at ${mp.url}\n` +
      `Admin kubeconfig: ${mp.kubeconfigPath}\n\n` +
      `  export KUBECONFIG=${mp.kubeconfigPath}\n\nTry it:\n` +
      `  kubectl apply -f examples/organization.yaml && kubectl wait --for=condition=Ready org/acme\n` +
      `  kubectl get secret -n org-acme acme-kubeconfig -o jsonpath='{.data.kubeconfig}' | base64 -d > acme.kubeconfig\n\n` +
      (await readFile(mp.kubeconfigPath, "utf8")),
  );
  await untilSignal(() => mp.stop());
  return 0;
}
