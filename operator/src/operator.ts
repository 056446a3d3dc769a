// startOperator: the Organization and Project controllers wired to their informers, with
// Events, Prometheus metrics and (optionally) leader election. Used by `multiplane operator`
// (against any Kubernetes host) and by `multiplane up` (in process, host = root). Informers:
// Organizations and Projects and the kubeconfig Secrets in the host, ControlPlanes in the root;
// each change maps to the keys of the objects that depend on it.

import { KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { JwtIssuer } from "../../apiserver/src/authn/jwt-keys.ts";
import { buildContext, type ContextOptions } from "./context.ts";
import { reconcileOrganization, reconcileProject } from "./controllers/index.ts";
import {
  managedBy,
  managedByLabel,
  organizationLabel,
  organizationNamespace,
  projectLabel,
  type OperatorContext,
} from "./controllers/tenant-access.ts";
import { paths } from "./kube/objects.ts";
import {
  Controller,
  EventRecorder,
  type ControllerOptions,
  Informer,
  LeaderElector,
  OperatorMetrics,
  serveMetrics,
  type MetricsServer,
} from "./runtime/index.ts";

/** The reconcilers' inputs (see ContextOptions; in process, the issuer is the server's) and the runtime's. */
export interface OperatorOptions extends Omit<ContextOptions, "events"> {
  /** Campaign for a coordination.k8s.io/v1 Lease in `leaseNamespace` of the host before working. */
  readonly leaderElect?: boolean;
  readonly leaseNamespace?: string;
  readonly identity?: string;
  /** Serve /metrics on this port (0 picks one); none when absent. */
  readonly metricsPort?: number;
  /** Keys each controller reconciles at once (default 8). */
  readonly concurrency?: number;
}

export interface RunningOperator {
  readonly metrics: OperatorMetrics;
  readonly metricsURL?: string;
  /** Whether this replica does the work now (always true without leader election). */
  readonly isLeader: boolean;
  /** Stops the controllers (waiting for running reconciles), then releases the Lease. */
  stop(): Promise<void>;
}

export const leaseName = "multiplane-operator";

/** Secrets, ControlPlanes: to the Organization or Project they were made for. */
function ownerKeys(obj: KubernetesObject, kind: "organization" | "project"): string[] {
  const labels = obj.metadata?.labels ?? {};
  if (labels[managedByLabel] !== managedBy) return [];
  const org = labels[organizationLabel];
  const project = labels[projectLabel];
  if (org === undefined) return [];
  if (kind === "organization") return project === undefined ? [org] : [];
  return project === undefined ? [] : [`${organizationNamespace(org)}/${project}`];
}

/** Starts the informers and controllers; resolves with them running (and their caches filled). */
async function startControllers(
  ctx: OperatorContext,
  opts: OperatorOptions,
  metrics: OperatorMetrics,
): Promise<() => Promise<void>> {
  const { log } = opts;
  const organizations = new Informer<KubernetesObject>(opts.host, paths.organizations(), { log });
  const projects = new Informer<KubernetesObject>(opts.host, paths.projects(), { log });
  const selector = `${managedByLabel}=${managedBy}`;
  const secrets = new Informer<KubernetesObject>(opts.host, "/api/v1/secrets", {
    labelSelector: selector,
    log,
  });
  const controlPlanes = new Informer<KubernetesObject>(opts.multiplane, paths.controlPlanes(), {
    labelSelector: selector,
    log,
  });
  /** A controller of `kind`'s objects, woken by their own informer and by what is made for them. */
  const tenantController = (
    kind: "organization" | "project",
    reconcile: ControllerOptions["reconcile"],
    own: Informer<KubernetesObject>,
  ): Controller =>
    new Controller({ name: kind, reconcile, concurrency: opts.concurrency ?? 8, metrics, log })
      .watch(own)
      .watch(controlPlanes, (cp) => ownerKeys(cp, kind))
      .watch(secrets, (s) => ownerKeys(s, kind));
  const orgController = tenantController(
    "organization",
    (key) => reconcileOrganization(ctx, key),
    organizations,
  )
    // An organization being deleted waits for its projects to go: each one going wakes it.
    .watch(projects, (p) => {
      const ns = p.metadata?.namespace ?? "";
      return p.metadata?.deletionTimestamp !== undefined && ns.startsWith("org-") ? [ns.slice(4)] : [];
    });
  const projectController = tenantController("project", (key) => reconcileProject(ctx, key), projects)
    // A project inherits its organization's owners and waits for it to exist.
    .watch(organizations, (org) => {
      const ns = organizationNamespace(org.metadata?.name ?? "");
      return projects
        .list()
        .filter((p) => p.metadata?.namespace === ns)
        .map((p) => `${ns}/${p.metadata?.name ?? ""}`);
    });
  const informers = [organizations, projects, secrets, controlPlanes];
  try {
    await Promise.all(informers.map((i) => i.start()));
  } catch (err) {
    for (const i of informers) i.stop();
    throw err;
  }
  orgController.start();
  projectController.start();
  log.info("operator controllers started");
  return async () => {
    await Promise.all([orgController.stop(), projectController.stop()]);
    for (const i of informers) i.stop();
  };
}

/** Creates the Lease's namespace when it is missing (a forbidden or racing create is fine). */
async function ensureLeaseNamespace(ctx: OperatorContext, namespace: string): Promise<void> {
  if ((await ctx.host.get(paths.namespaces(namespace))) !== undefined) return;
  try {
    await ctx.host.request("POST", paths.namespaces(), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
  } catch (err) {
    ctx.log.warn({ err, namespace }, "could not create the Lease's namespace");
  }
}

/** Starts the operator; see OperatorOptions. Called by `multiplane operator` and `multiplane up`. */
export async function startOperator(opts: OperatorOptions): Promise<RunningOperator> {
  const log = opts.log.child({ component: "operator" });
  const recorder = new EventRecorder(opts.host, "multiplane-operator", log);
  // Objects are JSON as the server sends them (timestamps as strings, whatever client-node's types say).
  const events: OperatorContext["events"] = {
    event: (obj, type, reason, message) =>
      recorder.event(obj as unknown as KubernetesObject, type, reason, message),
  };
  const ctx = await buildContext({ ...opts, events, log });
  const metrics = new OperatorMetrics();
  let metricsServer: MetricsServer | undefined;
  if (opts.metricsPort !== undefined) metricsServer = await serveMetrics(metrics.registry, opts.metricsPort);
  const closeClients = (): void => {
    ctx.tenants.close();
    ctx.host.close();
    ctx.root.close();
  };

  if (opts.leaderElect !== true) {
    let stopControllers: () => Promise<void>;
    try {
      stopControllers = await startControllers(ctx, { ...opts, log }, metrics);
    } catch (err) {
      closeClients();
      await metricsServer?.close();
      throw err;
    }
    return {
      metrics,
      ...(metricsServer !== undefined ? { metricsURL: metricsServer.url } : {}),
      isLeader: true,
      stop: async () => {
        await stopControllers();
        closeClients();
        await metricsServer?.close();
      },
    };
  }

  const namespace = opts.leaseNamespace ?? "multiplane-system";
  await ensureLeaseNamespace(ctx, namespace);
  const elector = new LeaderElector({
    kc: opts.host,
    namespace,
    name: leaseName,
    identity: opts.identity ?? `${hostname()}_${process.pid}`,
    log,
  });
  const running = elector.run(async (signal) => {
    const stopControllers = await startControllers(ctx, { ...opts, log }, metrics);
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    await stopControllers();
  });
  return {
    metrics,
    ...(metricsServer !== undefined ? { metricsURL: metricsServer.url } : {}),
    get isLeader() {
      return elector.isLeader;
    },
    stop: async () => {
      await elector.stop();
      await running;
      closeClients();
      await metricsServer?.close();
    },
  };
}

/**
 * The operator inside `multiplane up`: host and Multiplane are the one root control plane the
 * process serves, reached with its admin kubeconfig; the issuer is the server's own key set.
 */
export function startInProcessOperator(opts: {
  kubeconfigPath: string;
  dataDir: string;
  issuer: JwtIssuer;
  log: Logger;
}): Promise<RunningOperator> {
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  return startOperator({
    host: kc,
    multiplane: kc,
    dataDir: opts.dataDir,
    issuer: opts.issuer,
    log: opts.log,
  });
}
