// The reconcilers' context built from the operator's inputs: the host and Multiplane root
// kubeconfigs, the data directory's JWT keys and the issuer the root's discovery document
// names, the CA tenant URLs chain to (the root kubeconfig's, which the router shares), and the
// optional public router URL. Used by startOperator and by tests that drive reconciles directly.

import type { KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { JwtIssuer } from "../../apiserver/src/authn/jwt-keys.ts";
import { ApiClient } from "./kube/api.client.ts";
import { discoverIssuer, loadIssuer, TenantClients } from "./kube/tenant-credentials.ts";
import { WrittenMemo } from "./kube/written-memo.ts";
import type { OperatorContext, Recorder } from "./controllers/tenant-access.ts";

export interface ContextOptions {
  /** Where Organizations, Projects, namespaces and Secrets live. */
  readonly host: KubeConfig;
  /** Multiplane's root control plane (ControlPlanes). */
  readonly multiplane: KubeConfig;
  /** Holds jwt/, the keys tenant tokens are signed with. */
  readonly dataDir: string;
  /** The issuer of tenant tokens; discovered from the root when absent. */
  readonly issuer?: JwtIssuer;
  /** The public URL of the router; kubeconfigs name each ControlPlane's endpoint otherwise. */
  readonly routerURL?: string;
  /** The CA of tenant URLs in kubeconfigs; the root kubeconfig's CA when absent. */
  readonly caPem?: string;
  /**
   * Where the operator itself reaches tenants: `<url>/clusters/<tenant>`, served behind
   * `caPem` (a shard in this process, as `multiplane up` runs one); each ControlPlane's
   * endpoint, behind the kubeconfigs' CA, otherwise. Kubeconfigs name the endpoints still.
   */
  readonly tenantAccess?: { readonly url: string; readonly caPem: string };
  /** Lifetime of kubeconfig tokens (default 24 h). */
  readonly kubeconfigTtlSeconds?: number;
  readonly events: Recorder;
  readonly log: Logger;
}

/** The CA (PEM) a kubeconfig's current cluster names, inline or as a file. */
export function clusterCAOf(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (cluster?.caData !== undefined && cluster.caData !== "")
    return Buffer.from(cluster.caData, "base64").toString("utf8");
  if (cluster?.caFile !== undefined && cluster.caFile !== "") return readFileSync(cluster.caFile, "utf8");
  throw new Error("the Multiplane kubeconfig names no certificate authority for its cluster");
}

/** How long an object the operator made inside a tenant goes unread by later reconciles. */
const tenantRecheckMs = 10 * 60_000;

export async function buildContext(opts: ContextOptions): Promise<OperatorContext> {
  const host = new ApiClient(opts.host);
  const root = new ApiClient(opts.multiplane);
  const caPem = opts.caPem ?? clusterCAOf(opts.multiplane);
  const issuer = opts.issuer ?? (await loadIssuer(opts.dataDir, await discoverIssuer(root)));
  return {
    host,
    root,
    issuer,
    tenants:
      opts.tenantAccess !== undefined
        ? new TenantClients(issuer, opts.tenantAccess.caPem, { via: opts.tenantAccess.url })
        : new TenantClients(issuer, caPem),
    tenantWrites: new WrittenMemo(tenantRecheckMs),
    caPem,
    ...(opts.routerURL !== undefined ? { routerURL: opts.routerURL } : {}),
    kubeconfigTtlSeconds: opts.kubeconfigTtlSeconds ?? 24 * 3600,
    events: opts.events,
    log: opts.log,
    now: Date.now,
  };
}
