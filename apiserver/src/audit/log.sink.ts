// The log sink: kube's `--audit-log-path` backend with `--audit-log-format=json`: one JSON
// line per event, the event itself, written to a file or stdout on pino's asynchronous
// destination (sonic-boom) in batches of at most `flushIntervalMs`, flushed on close.

import pino from "pino";
import { encodeAuditEvent, type AuditEvent } from "./event.ts";
import { auditPlugins, noopAuditMetrics, type AuditMetrics, type AuditSink } from "./sink.ts";

export interface LogSinkOptions {
  /** A file path (its directory is created), or "-" for stdout. */
  readonly path: string;
  readonly metrics?: AuditMetrics;
  /** How long close() waits for the last bytes to reach the file (default 10 s). */
  readonly closeTimeoutMs?: number;
  /**
   * Lines are gathered for up to this long (default 10 ms; 0: none) or 64 KiB, then written at
   * once: one asynchronous write per event costs more than the event's JSON. A crash loses at
   * most that much (kube's batching backends hold events longer).
   */
  readonly flushIntervalMs?: number;
}

/** Gathered lines are written once they reach this many characters, whatever the interval. */
const flushChars = 64 * 1024;

/**
 * A sink writing JSON lines: each event as JSON.stringify writes it (kube's key order, since
 * the recorder builds events in that order; encodeAuditEvent), nothing added. Not pino's logger: it would only
 * re-serialize the event key by key to write the same bytes. Write failures count in
 * apiserver_audit_error_total{plugin="log"}.
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
  const flushIntervalMs = opts.flushIntervalMs ?? 10;
  let closed: Promise<void> | undefined;
  let pending = "";
  let pendingLines = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (pendingLines === 0) return;
    const chunk = pending;
    const lines = pendingLines;
    pending = "";
    pendingLines = 0;
    try {
      destination.write(chunk);
    } catch {
      metrics.error(auditPlugins.log, lines); // a destroyed destination
    }
  };

  return {
    process(events: readonly AuditEvent[]): void {
      if (closed !== undefined) {
        metrics.error(auditPlugins.log, events.length);
        return;
      }
      for (const event of events) {
        try {
          pending += `${encodeAuditEvent(event)}\n`;
          pendingLines++;
        } catch {
          metrics.error(auditPlugins.log, 1); // not JSON (a cycle, a BigInt)
        }
      }
      if (flushIntervalMs === 0 || pending.length >= flushChars) flush();
      // Not unref'd: gathered lines are written before the process exits on its own.
      else if (timer === undefined && pendingLines > 0) timer = setTimeout(flush, flushIntervalMs);
    },
    close(): Promise<void> {
      if (closed === undefined) flush();
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
