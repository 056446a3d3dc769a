// The contracts between the audit recorder, the sinks and the metrics: a sink takes batches
// of finished events and never blocks or throws into a request; the counters are kube's
// apiserver_audit_* (k8s.io/apiserver/pkg/audit/metrics.go), implemented by the metrics module.

import type { AuditEvent } from "./event.ts";
import type { AuditLevel } from "./policy.ts";

/**
 * Where audit events go. Called by the recorder (one event per stage) and by unionSink.
 * `process` must return at once, never throw and never change the events (they may be
 * shared with other sinks); `close` flushes what is buffered and is called once, on shutdown.
 */
export interface AuditSink {
  process(events: readonly AuditEvent[]): void;
  close(): Promise<void>;
}

/** Plugin label values of apiserver_audit_error_total, as kube names its backends. */
export const auditPlugins = { log: "log", webhook: "webhook", buffered: "buffered" } as const;
export type AuditPlugin = (typeof auditPlugins)[keyof typeof auditPlugins] | (string & {});

/**
 * The audit counters. Called by the recorder (event, level) and the sinks (error); the metrics
 * module implements it over its registry. Must be cheap and never throw.
 */
export interface AuditMetrics {
  /** apiserver_audit_event_total: one event handed to the sink. */
  event(): void;
  /** apiserver_audit_level_total{level}: one per request, whatever the level. */
  level(level: AuditLevel): void;
  /** apiserver_audit_error_total{plugin}: `count` events that failed to be audited. */
  error(plugin: AuditPlugin, count: number): void;
}

export const noopAuditMetrics: AuditMetrics = {
  event: () => {},
  level: () => {},
  error: () => {},
};

/** Hands every batch to each sink (kube's union backend); closes them all. */
export function unionSink(...sinks: readonly AuditSink[]): AuditSink {
  return {
    process(events) {
      for (const s of sinks) {
        try {
          s.process(events);
        } catch {
          // A sink must not throw; if one does, the others still get the events.
        }
      }
    },
    async close() {
      await Promise.allSettled(sinks.map((s) => s.close()));
    },
  };
}
