// The log sink: kube's `--audit-log-path` backend with `--audit-log-format=json`: one JSON
// line per event, the event itself, written through pino to a file or stdout on an
// asynchronous destination (sonic-boom), flushed on close.

import pino from "pino";
import { auditApiVersion, type AuditEvent } from "./event.ts";
import { auditPlugins, noopAuditMetrics, type AuditMetrics, type AuditSink } from "./sink.ts";

export interface LogSinkOptions {
  /** A file path (its directory is created), or "-" for stdout. */
  readonly path: string;
  readonly metrics?: AuditMetrics;
  /** How long close() waits for the last bytes to reach the file (default 10 s). */
  readonly closeTimeoutMs?: number;
}

/**
 * A sink writing JSON lines. pino adds nothing of its own to a line: no level, time, pid,
 * hostname or msg; its level slot carries the event's constant kind and apiVersion, so the
 * line starts as kube's does. Write failures count in apiserver_audit_error_total{plugin="log"}.
 */
export function logSink(opts: LogSinkOptions): AuditSink {
  const metrics = opts.metrics ?? noopAuditMetrics;
  const destination = pino.destination({
    dest: opts.path === "-" ? 1 : opts.path,
    sync: false,
    mkdir: opts.path !== "-",
  });
  // An 'error' without a listener would take the process down; a lost write is counted instead.
  destination.on("error", () => metrics.error(auditPlugins.log, 1));
  const logger = pino(
    {
      base: null,
      timestamp: false,
      formatters: { level: () => ({ kind: "Event", apiVersion: auditApiVersion }) },
    },
    destination,
  );
  let closed: Promise<void> | undefined;

  return {
    process(events: readonly AuditEvent[]): void {
      if (closed !== undefined) {
        metrics.error(auditPlugins.log, events.length);
        return;
      }
      for (const event of events) {
        try {
          const { kind: _kind, apiVersion: _apiVersion, ...rest } = event;
          logger.info(rest);
        } catch {
          metrics.error(auditPlugins.log, 1);
        }
      }
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.closeTimeoutMs ?? 10_000);
        timer.unref();
        destination.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        // end() writes what is buffered, fsyncs, then closes (never fd 1 or 2).
        destination.end();
      });
      return closed;
    },
  };
}
