// `multiplane up`: everything in one process for a laptop or CI — the front router on the public
// port, in front of one shard on 127.0.0.1 and an ephemeral port (shard.ts: storage, embedded by
// default or etcd, the root control plane with the platform's CRDs from crds/, its API server
// and the ControlPlane registry that serves a tenant per ControlPlane, which is also the
// router's directory here) — an admin kubeconfig that names the router, and the
// Organization/Project operator against it. The router hands requests for its own shard to the
// shard's chain in process (router.ts, server/routed.ts); the shard's port serves the rest.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { JwtKeySet, parsePemBundle } from "../authn/index.ts";
import { parseTokenFile } from "../authn/token-file.authenticator.ts";
import {
  buildRouterAuthenticator,
  ensureRouterPKI,
  startRouter,
  StaticTenantDirectory,
  type TenantDirectory,
} from "../router/index.ts";
import { buildKubeconfig } from "../server/kubeconfig.ts";
import type { Storage } from "../storage/interface.ts";
import type { ControlPlaneRegistry } from "../tenancy/controlplane.registry.ts";
import type { TenantManager } from "../tenancy/instance.ts";
import { startInProcessOperator } from "../../../operator/src/operator.ts";
import {
  defaultIssuer,
  ensureTokenFile,
  hostPort,
  shardFlags,
  shardOptionsOf,
  startShard,
  untilSignal,
  type RunningShard,
  type ShardOptions,
} from "./shard.ts";

export { parseDurationMs, requestHeaderAllowedNames } from "./shard.ts";

export type UpOptions = Omit<ShardOptions, "shard" | "advertiseURL" | "externalURL"> & {
  /** This shard's name, written to each ControlPlane's status.shard (default "local"). */
  shard?: string;
  /** Run the Organization/Project operator in process (default true; false for tests of `multiplane operator`). */
  operator?: boolean;
};

export interface Multiplane {
  /** The public URL: the router's. */
  readonly url: string;
  /** The shard's own URL (behind the router; tests of the shard itself use it). */
  readonly shardURL: string;
  readonly kubeconfigPath: string;
  readonly tenants: TenantManager;
  /** Keeps `tenants` in step with the root tenant's ControlPlanes. */
  readonly registry: ControlPlaneRegistry;
  readonly storage: Storage;
  stop(): Promise<void>;
}

export async function up(opts: UpOptions): Promise<Multiplane> {
  const { operator: runOperator, ...shardOpts } = opts;
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const log = pino(
    { level: opts.quiet ? "warn" : "info", redact: ["req.headers.authorization", "token"] },
    pino.destination(2),
  );
  const pki = await ensureRouterPKI(join(dataDir, "pki"), ["127.0.0.1", "localhost", "::1", opts.host]);
  const tokens = parseTokenFile(await ensureTokenFile(join(dataDir, "tokens.csv")));
  const issuer =
    opts.serviceAccountIssuer ??
    (opts.port === 0 ? defaultIssuer : `https://${hostPort(opts.host, opts.port)}`);
  // The router listens first (its URL is the tenants' endpoint); it answers from the shard's
  // registry once the shard is up, and is not ready before. Tenants registered in the shard's
  // TenantManager without a ControlPlane (embedders' and tests' addTenant) are Ready on it.
  let shard: RunningShard | undefined;
  let unmanaged: StaticTenantDirectory | undefined;
  const directory: TenantDirectory = {
    lookup: (name) => shard?.registry.lookup(name) ?? unmanaged?.lookup(name),
    shardURL: (name) => shard?.registry.shardURL(name),
  };
  const router = await startRouter({
    host: opts.host,
    port: opts.port,
    serving: pki.serving,
    clientCAPem: pki.caPem,
    directory,
    authenticator: buildRouterAuthenticator({
      tokens,
      issuer: { url: issuer, keys: await JwtKeySet.load(join(dataDir, "jwt")) },
      clientCAs: parsePemBundle(pki.caPem),
    }),
    upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
    // Its own shard without a network hop (TLS twice and HTTP thrice cost more than the rest).
    inProcess: (url) =>
      shard !== undefined && (url === shard.advertiseURL || url === shard.url)
        ? shard.serveRouted
        : undefined,
    ready: () => shard !== undefined,
    log: log.child({ component: "router" }),
  });
  opts.progress?.(`router listening at ${router.url} (ready once the shard is)`);
  const kubeconfigPath = join(dataDir, "admin.kubeconfig");
  let operator: { stop(): Promise<void> } = { stop: () => Promise.resolve() };
  try {
    shard = await startShard({
      ...shardOpts,
      host: "127.0.0.1",
      port: 0,
      shard: opts.shard ?? "local",
      serviceAccountIssuer: issuer,
      externalURL: router.url,
    });
    unmanaged = new StaticTenantDirectory(shard.tenants, { name: shard.name, url: shard.url });
    const [adminToken] = [...tokens.entries()].find(([, u]) => u.groups.includes("system:masters")) ?? [];
    await writeFile(
      kubeconfigPath,
      buildKubeconfig({
        name: "multiplane",
        server: router.url,
        caPem: pki.caPem,
        token: adminToken ?? "",
        user: "admin",
      }),
      { mode: 0o600 },
    );
    opts.progress?.(`admin kubeconfig written: ${kubeconfigPath}`);
    // The operator, in process, against this root (host and Multiplane alike) as the admin.
    if (runOperator !== false) {
      operator = await startInProcessOperator({
        kubeconfigPath,
        shard: { url: shard.url, caPem: shard.pki.ca.certPem },
        dataDir,
        issuer: shard.issuer,
        log,
      });
      opts.progress?.("operator started: Organizations and Projects become control planes");
    }
  } catch (err) {
    await router.close();
    await shard?.stop();
    throw err;
  }
  log.info({ url: router.url, shard: shard.url, kubeconfig: kubeconfigPath }, "multiplane is up");
  const running = shard;
  return {
    url: router.url,
    shardURL: running.url,
    kubeconfigPath,
    tenants: running.tenants,
    registry: running.registry,
    storage: running.storage,
    // The shard first: it ends open watches cleanly (kube's shutdown), and the router passes
    // the clean end on to the clients, which re-watch.
    stop: async () => {
      await operator.stop();
      await running.stop();
      await router.close();
    },
  };
}

export async function runUp(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { ...shardFlags, shard: { type: "string", default: "local" } },
  });
  const options = await shardOptionsOf(values);
  process.stdout.write(`Starting Multiplane (data directory ${resolve(options.dataDir)})\n`);
  const mp = await up({
    ...options,
    shard: values.shard,
    progress: (step) => process.stdout.write(`  ✓ ${step}\n`),
  });
  process.stdout.write(
    `\nMultiplane is serving at ${mp.url}\n` +
      `Admin kubeconfig: ${mp.kubeconfigPath}\n\n` +
      `  export KUBECONFIG=${mp.kubeconfigPath}\n\nTry it:\n` +
      `  kubectl apply -f examples/organization.yaml && kubectl wait --for=condition=Ready org/acme\n` +
      `  kubectl get secret -n org-acme acme-kubeconfig -o jsonpath='{.data.kubeconfig}' | base64 -d > acme.kubeconfig\n\n` +
      // The README's promise: the kubeconfig printed at the end (the same as the file's).
      `Admin kubeconfig (${mp.kubeconfigPath}):\n\n${await readFile(mp.kubeconfigPath, "utf8")}`,
  );
  await untilSignal(() => mp.stop());
  return 0;
}
