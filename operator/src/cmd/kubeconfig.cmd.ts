// `multiplane kubeconfig <org>[:<project>]`: prints an admin kubeconfig of a tenant, for the
// platform's admin (whoever holds the data directory). It reads the tenant's ControlPlane from
// Multiplane's root (its UID and endpoint) with the admin kubeconfig, asks the root for the
// issuer of its tokens, and mints a token of `--user` in system:masters with the data
// directory's JWT keys. The token names the ControlPlane's UID: it dies with the tenant.

import { KubeConfig } from "@kubernetes/client-node";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseDurationMs } from "../../../apiserver/src/cli/up.ts";
import { ApiClient } from "../kube/api.client.ts";
import { paths } from "../kube/objects.ts";
import { discoverIssuer, loadIssuer, mintTenantToken, tokenKubeconfig } from "../kube/tenant-credentials.ts";
import { clusterCAOf } from "../context.ts";
import type { ControlPlaneObj } from "../controllers/tenant-access.ts";

export interface KubeconfigOptions {
  readonly tenant: string;
  readonly dataDir: string;
  /** Multiplane's root; default `<dataDir>/admin.kubeconfig`. */
  readonly kubeconfig?: string;
  readonly routerURL?: string;
  readonly user?: string;
  readonly ttlSeconds?: number;
}

/** The kubeconfig text (also for tests). Throws with a message for people when it cannot. */
export async function tenantAdminKubeconfig(opts: KubeconfigOptions): Promise<string> {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?::([a-z0-9]([-a-z0-9]*[a-z0-9])?))?$/.exec(opts.tenant);
  if (m === null) throw new Error(`"${opts.tenant}" is no tenant: expected <org> or <org>:<project>`);
  const [, organization = "", , project] = m;
  const dataDir = resolve(opts.dataDir);
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfig ?? join(dataDir, "admin.kubeconfig"));
  const root = new ApiClient(kc);
  try {
    const cpName = project === undefined ? organization : `${organization}.${project}`;
    const cp = await root.get<ControlPlaneObj>(paths.controlPlanes(cpName));
    if (cp === undefined) throw new Error(`tenant ${opts.tenant} does not exist (no ControlPlane ${cpName})`);
    if (cp.status?.phase !== "Ready" || cp.status.endpoint === undefined)
      throw new Error(
        `tenant ${opts.tenant} is not ready (ControlPlane ${cpName} is ${cp.status?.phase ?? "Pending"})`,
      );
    const issuer = await loadIssuer(dataDir, await discoverIssuer(root));
    const user = opts.user ?? "admin";
    const token = await mintTenantToken(
      issuer,
      { name: opts.tenant, uid: cp.metadata?.uid ?? "" },
      { name: user, groups: ["system:masters"] },
      opts.ttlSeconds ?? 24 * 3600,
    );
    const server =
      opts.routerURL !== undefined
        ? `${opts.routerURL.replace(/\/+$/, "")}/clusters/${opts.tenant}`
        : cp.status.endpoint;
    return tokenKubeconfig({
      name: opts.tenant.replace(":", "-"),
      server,
      caPem: clusterCAOf(kc),
      token,
      user,
    });
  } finally {
    root.close();
  }
}

export async function runKubeconfig(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      "data-dir": { type: "string", default: ".multiplane" },
      kubeconfig: { type: "string" },
      "router-url": { type: "string" },
      user: { type: "string" },
      ttl: { type: "string" },
    },
  });
  if (positionals.length !== 1) {
    process.stderr.write(
      "Usage: multiplane kubeconfig <org>[:<project>] [--data-dir .multiplane] [--kubeconfig root] [--router-url URL] [--user admin] [--ttl 24h]\n",
    );
    return 2;
  }
  try {
    process.stdout.write(
      await tenantAdminKubeconfig({
        tenant: positionals[0]!,
        dataDir: values["data-dir"],
        ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
        ...(values["router-url"] !== undefined ? { routerURL: values["router-url"] } : {}),
        ...(values.user !== undefined ? { user: values.user } : {}),
        ...(values.ttl !== undefined ? { ttlSeconds: Math.ceil(parseDurationMs(values.ttl) / 1000) } : {}),
      }),
    );
    return 0;
  } catch (err) {
    process.stderr.write(`multiplane kubeconfig: ${(err as Error).message}\n`);
    return 1;
  }
}
