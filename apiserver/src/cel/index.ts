// CEL shared by the API server: the Kubernetes libraries (lists, regex, strings, sets, url,
// quantity, ip, cidr, format) on top of the @marcbachmann/cel-js engine, JSON-to-CEL values
// and cel-go's error wording, and a runtime cost meter with kube's limits. CRD validation
// rules (registry/crd/) and admission (admission/cel/) build their environments from here.

export {
  celEnvOptions,
  celIssue,
  celRuntimeMessage,
  newKubernetesEnvironment,
  registerKubernetesLibraries,
} from "./kubernetes.library.ts";
export { costLimitExceededMessage, CostMeter, perCallLimit, runtimeCostBudget } from "./cost.ts";
export { compilePattern } from "./regex.library.ts";
export { Quantity } from "./quantity.library.ts";
export { KubeURL } from "./url.library.ts";
export { celEquals, compareCel, jsonToCel } from "./values.ts";
