// Metrics: the shard's own prom-client registry with kube-apiserver's series (requests,
// in-flight and long-running requests, authentication, authorization, admission, audit)
// and their label normalisation as kube does it (request-labels.ts), plus a per-tenant
// request counter bounded to the busiest N tenants (tenant-top.ts). render() answers /metrics.

export * from "./request-labels.ts";
export * from "./tenant-top.ts";
export * from "./apiserver.metrics.ts";
