// Audit: the per-tenant audit.k8s.io/v1 Policy and its checker (policy.ts), the Event and
// the helpers that fill it as kube does (event.ts), the per-request recorder the handler
// chain drives from RequestReceived to ResponseComplete (audit.recorder.ts), and the sinks
// that take finished events without ever blocking a request: JSON lines through pino
// (log.sink.ts) and a batching, retrying HTTPS webhook (webhook.sink.ts); each tenant's own
// webhook sinks (tenant-sinks.ts).

export * from "./policy.ts";
export * from "./event.ts";
export * from "./sink.ts";
export * from "./audit.recorder.ts";
export * from "./log.sink.ts";
export * from "./webhook.sink.ts";
export * from "./tenant-sinks.ts";
