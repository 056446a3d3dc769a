// startOperator: the Organization and Project controllers wired to their informers, with
// Events, Prometheus metrics and (optionally) leader election. Used by `multiplane operator`
// (against any Kubernetes host) and by `multiplane up` (in process, host = root). Informers:
// Organizations and Projects, and the namespaces, Roles, RoleBindings and kubeconfig Secrets the
// operator made in the host, ControlPlanes in the root; each change that matters maps to the
// keys of the objects that depend on it, and the reconcilers read these objects from the
// informers' caches (see kube/object-cache.ts) rather than from the API.

import { KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { hostname } from "node:os";
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { JwtIssuer } from "../../apiserver/src/authn/jwt-keys.ts";
import { buildContext, clusterCAOf, type ContextOptions } from "./context.ts";
import { reconcileOrganization, reconcileProject } from "./controllers/index.ts";
import {
  managedBy,
  managedByLabel,
  organizationLabel,
  organizationNamespace,
  projectLabel,
  controlPlaneReadiness,
  type ControlPlaneObj,
  type OperatorContext,
} from "./controllers/tenant-access.ts";
import type { ApiClient } from "./kube/api.client.ts";
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
  /** Keys each controller reconciles at once (default 32: a reconcile mostly waits on the API). */
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

/**
 * Whether an update of an Organization or Project asks for a reconcile: its spec (generation),
 * deletion or finalizers changed; not its status, which the reconciler wrote itself.
 */
const specOrLifecycleChanged = (obj: KubernetesObject, old: KubernetesObject): boolean =>
  obj.metadata?.generation !== old.metadata?.generation ||
  obj.metadata?.deletionTimestamp !== old.metadata?.deletionTimestamp ||
  !isDeepStrictEqual(obj.metadata?.finalizers, old.metadata?.finalizers);

/**
 * Whether an update of a ControlPlane asks for its tenant's reconcile: whether it serves
 * (controlPlaneReadiness) or its life (UID, spec, deletion) changed; not its usage figures,
 * which move all the time, nor the steps on its way to Ready (placed, …): a reconcile waiting
 * for it looks again after a while anyway.
 */
const readinessChanged = (obj: KubernetesObject, old: KubernetesObject): boolean => {
  // JSON as the server sent it (client-node's types say Date for timestamps).
  const view = (o: KubernetesObject): unknown[] => [
    o.metadata?.uid,
    o.metadata?.generation,
    o.metadata?.deletionTimestamp,
    controlPlaneReadiness(o as unknown as ControlPlaneObj).ready,
  ];
  return !isDeepStrictEqual(view(obj), view(old));
};

/** Starts the informers and controllers; resolves with them running (and their caches filled). */
async function startControllers(
  ctx: OperatorContext,
  opts: OperatorOptions,
  metrics: OperatorMetrics,
): Promise<() => Promise<void>> {
  const { log } = opts;
  const selector = `${managedByLabel}=${managedBy}`;
  /** An informer of `collection` whose objects the reconcilers read from its cache. */
  const cached = (client: ApiClient, collection: string, labelSelector?: string) => {
    const informer = new Informer<KubernetesObject>(
      client === ctx.root ? opts.multiplane : opts.host,
      collection,
      {
        ...(labelSelector !== undefined ? { labelSelector } : {}),
        log,
      },
    );
    client.cache.cover(collection, informer);
    return informer;
  };
  const organizations = cached(ctx.host, paths.organizations());
  const projects = cached(ctx.host, paths.projects());
  // What the operator makes in the host and the root carries its label.
  const made = [
    cached(ctx.host, "/api/v1/secrets", selector),
    cached(ctx.host, "/api/v1/namespaces", selector),
    cached(ctx.host, "/apis/rbac.authorization.k8s.io/v1/roles", selector),
    cached(ctx.host, "/apis/rbac.authorization.k8s.io/v1/rolebindings", selector),
  ];
  const controlPlanes = cached(ctx.root, paths.controlPlanes(), selector);
  /** A controller of `kind`'s objects, woken by their own informer and by what is made for them. */
  const tenantController = (
    kind: "organization" | "project",
    reconcile: ControllerOptions["reconcile"],
    own: Informer<KubernetesObject>,
  ): Controller => {
    const controller = new Controller({
      name: kind,
      reconcile,
      concurrency: opts.concurrency ?? 32,
      metrics,
      log,
    })
      .watch(own, undefined, specOrLifecycleChanged)
      .watch(controlPlanes, (cp) => ownerKeys(cp, kind), readinessChanged);
    for (const informer of made) controller.watch(informer, (o) => ownerKeys(o, kind));
    return controller;
  };
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
    .watch(
      organizations,
      (org) => {
        const ns = organizationNamespace(org.metadata?.name ?? "");
        return projects
          .list()
          .filter((p) => p.metadata?.namespace === ns)
          .map((p) => `${ns}/${p.metadata?.name ?? ""}`);
      },
      specOrLifecycleChanged,
    );
  const informers = [organizations, projects, ...made, controlPlanes];
  const stopInformers = (): void => {
    for (const i of informers) i.stop();
    ctx.host.cache.clear();
    ctx.root.cache.clear();
  };
  try {
    await Promise.all(informers.map((i) => i.start()));
  } catch (err) {
    stopInformers();
    throw err;
  }
  orgController.start();
  projectController.start();
  log.info("operator controllers started");
  return async () => {
    await Promise.all([orgController.stop(), projectController.stop()]);
    stopInformers();
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
 * process serves, reached as the admin of `kubeconfigPath` (the router's URL and CA, which the
 * kubeconfig Secrets name) but at the process's own shard, `shard`: the router in between
 * would only add a hop to every request and watch event. The issuer is the server's own key set.
 */
export function startInProcessOperator(opts: {
  kubeconfigPath: string;
  shard: { readonly url: string; readonly caPem: string };
  dataDir: string;
  issuer: JwtIssuer;
  log: Logger;
}): Promise<RunningOperator> {
  const admin = new KubeConfig();
  admin.loadFromFile(opts.kubeconfigPath);
  const router = admin.getCurrentCluster();
  const user = admin.getCurrentUser();
  if (router === null || user === null) throw new Error(`${opts.kubeconfigPath} names no cluster or user`);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "shard",
        server: opts.shard.url,
        caData: Buffer.from(opts.shard.caPem).toString("base64"),
        skipTLSVerify: false,
      },
    ],
    users: [user],
    contexts: [{ name: "shard", cluster: "shard", user: user.name }],
    currentContext: "shard",
  });
  return startOperator({
    host: kc,
    multiplane: kc,
    dataDir: opts.dataDir,
    issuer: opts.issuer,
    routerURL: router.server,
    caPem: clusterCAOf(admin),
    tenantAccess: opts.shard,
    log: opts.log,
  });
}
