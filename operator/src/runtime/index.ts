// The operator runtime: what controllers are built from, after client-go and
// controller-runtime. Informers list and watch collections into caches; Controllers turn
// their events into keys and reconcile them through a de-duplicating, rate-limited work
// queue; a LeaderElector makes one replica of many do the work; an EventRecorder writes
// Events on reconciled objects; OperatorMetrics holds the Prometheus metrics. A command
// wires them so:
//
//   const elector = new LeaderElector({ kc: hostKc, namespace, name: "multiplane-operator", identity, log });
//   onShutdownSignal(() => elector.stop(), log);
//   await elector.run(async (signal) => {
//     const orgs = new Informer<Organization>(hostKc, "/apis/tenancy.multiplane.dev/v1alpha1/organizations");
//     const controller = new Controller({ name: "organization", reconcile, metrics, log }).watch(orgs);
//     await orgs.start();
//     controller.start();
//     await new Promise((resolve) => signal.addEventListener("abort", resolve));
//     await controller.stop();
//     orgs.stop();
//   });

export { Controller, TerminalError, type ControllerOptions, type ReconcileResult } from "./controller.ts";
export { EventRecorder, type EventType } from "./event-recorder.ts";
export {
  Informer,
  keyOf,
  type InformerEvent,
  type InformerHandler,
  type InformerOptions,
} from "./informer.ts";
export { LeaderElector, type LeaderElectorOptions } from "./leader-elector.ts";
export { OperatorMetrics, serveMetrics, type MetricsServer, type ReconcileOutcome } from "./metrics.ts";
export { ApiError, isStatus, RestClient, type RequestOptions } from "./rest.ts";
export { onShutdownSignal } from "./shutdown.ts";
