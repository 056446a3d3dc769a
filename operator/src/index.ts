// The operator: Organization and Project reconcilers (controllers/) on the runtime (runtime/),
// the clients and credentials they use (kube/), and their commands (cmd/). startOperator is
// what `multiplane up` and `multiplane operator` call.
export { startOperator, type OperatorOptions, type RunningOperator } from "./operator.ts";
export { runOperator } from "./cmd/operator.cmd.ts";
export { runKubeconfig, tenantAdminKubeconfig } from "./cmd/kubeconfig.cmd.ts";
