// `multiplane operator`: the Organization and Project reconcilers as their own process, against
// any Kubernetes API holding the CRDs (--kubeconfig, or in-cluster config / $KUBECONFIG) and
// Multiplane's root (--multiplane-kubeconfig, default <data-dir>/admin.kubeconfig), minting
// tenant tokens with the data directory's jwt/ keys. Optional leader election on a Lease.

import { KubeConfig } from "@kubernetes/client-node";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { startOperator } from "../operator.ts";
import { onShutdownSignal } from "../runtime/index.ts";

const loadKubeconfig = (path: string | undefined): KubeConfig => {
  const kc = new KubeConfig();
  if (path === undefined) kc.loadFromDefault();
  else kc.loadFromFile(path);
  return kc;
};

export async function runOperator(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: "string" },
      "multiplane-kubeconfig": { type: "string" },
      "data-dir": { type: "string", default: ".multiplane" },
      "router-url": { type: "string" },
      "leader-elect": { type: "boolean", default: false },
      "lease-namespace": { type: "string", default: "multiplane-system" },
      "metrics-port": { type: "string", default: "8080" },
      quiet: { type: "boolean", default: false },
    },
  });
  const log = pino({ level: values.quiet ? "warn" : "info", redact: ["token"] }, pino.destination(2));
  const dataDir = resolve(values["data-dir"]);
  const metricsPort = Number(values["metrics-port"]);
  if (!Number.isInteger(metricsPort) || metricsPort < 0) {
    process.stderr.write(`multiplane operator: --metrics-port "${values["metrics-port"]}" is not a port\n`);
    return 2;
  }
  const operator = await startOperator({
    host: loadKubeconfig(values.kubeconfig),
    multiplane: loadKubeconfig(values["multiplane-kubeconfig"] ?? join(dataDir, "admin.kubeconfig")),
    dataDir,
    ...(values["router-url"] !== undefined ? { routerURL: values["router-url"] } : {}),
    leaderElect: values["leader-elect"],
    leaseNamespace: values["lease-namespace"],
    metricsPort,
    log,
  });
  log.info(
    { metrics: operator.metricsURL, leaderElect: values["leader-elect"] },
    "multiplane operator is running",
  );
  // SIGTERM/SIGINT: stop the controllers, release the Lease, then return the exit code.
  return new Promise<number>((done) => {
    onShutdownSignal(() => operator.stop(), log, { exit: done });
  });
}
