// The webhook sink: kube's `--audit-webhook-config-file` backend in batch mode
// (plugin/pkg/audit/buffered over plugin/pkg/audit/webhook). Events wait in a bounded
// buffer; a batch (at most maxBatchSize events, or what arrived within maxBatchWait) is
// POSTed as an `audit.k8s.io/v1` EventList to an HTTPS URL, one batch at a time and in
// order, retried with exponential backoff. A full buffer drops events (counted as
// apiserver_audit_error_total{plugin="buffered"}, kube's "audit buffer queue blocked"); a
// batch that exhausts its retries counts under plugin="webhook". process() never waits.

import { Agent, request } from "node:https";
import type { Logger } from "pino";
import { eventList, type AuditEvent } from "./event.ts";
import { auditPlugins, noopAuditMetrics, type AuditMetrics, type AuditSink } from "./sink.ts";

export interface WebhookSinkOptions {
  /** https:// URL of the audit webhook. */
  readonly url: string;
  /** PEM CA bundle the webhook's serving certificate must chain to (default: the system roots). */
  readonly ca?: string | Buffer;
  /** Client certificate and key, when the webhook asks for them. */
  readonly clientCert?: string | Buffer;
  readonly clientKey?: string | Buffer;
  /** kube: --audit-webhook-batch-buffer-size 10000. */
  readonly bufferSize?: number;
  /** kube: --audit-webhook-batch-max-size 400. */
  readonly maxBatchSize?: number;
  /** kube: --audit-webhook-batch-max-wait 30 s. */
  readonly maxBatchWaitMs?: number;
  /** kube: --audit-webhook-initial-backoff 10 s; then ×1.5 per try, with 20 % jitter. */
  readonly initialBackoffMs?: number;
  readonly backoffFactor?: number;
  readonly backoffJitter?: number;
  /** Tries per batch, the first included (kube's backoff has 5 steps). */
  readonly maxAttempts?: number;
  /** One POST's time limit (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** How long close() may spend sending what is left (default 30 s). */
  readonly closeTimeoutMs?: number;
  readonly metrics?: AuditMetrics;
  /** Where failures are logged (a batch given up, the first drop of a full buffer). */
  readonly log?: Logger;
}

/** Log keys of this sink. */
const logKeys = { plugin: "plugin", events: "events", attempts: "attempts", err: "err" } as const;

class WebhookError extends Error {
  override readonly name = "WebhookError";
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** A batching, retrying webhook sink; see the file comment. */
export class WebhookSink implements AuditSink {
  readonly #url: URL;
  readonly #agent: Agent;
  readonly #metrics: AuditMetrics;
  readonly #log: Logger | undefined;
  readonly #bufferSize: number;
  readonly #maxBatchSize: number;
  readonly #maxBatchWaitMs: number;
  readonly #initialBackoffMs: number;
  readonly #backoffFactor: number;
  readonly #backoffJitter: number;
  readonly #maxAttempts: number;
  readonly #requestTimeoutMs: number;
  readonly #closeTimeoutMs: number;

  #buffer: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Aborts the POST in flight and the backoff wait when close() runs out of time. */
  readonly #abort = new AbortController();
  #idle: (() => void)[] = [];
  #dropping = false;

  constructor(opts: WebhookSinkOptions) {
    this.#url = new URL(opts.url);
    if (this.#url.protocol !== "https:") throw new Error(`audit webhook URL must be https: ${opts.url}`);
    this.#agent = new Agent({
      keepAlive: true,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.clientCert !== undefined ? { cert: opts.clientCert } : {}),
      ...(opts.clientKey !== undefined ? { key: opts.clientKey } : {}),
    });
    this.#metrics = opts.metrics ?? noopAuditMetrics;
    this.#log = opts.log;
    this.#bufferSize = opts.bufferSize ?? 10_000;
    this.#maxBatchSize = opts.maxBatchSize ?? 400;
    this.#maxBatchWaitMs = opts.maxBatchWaitMs ?? 30_000;
    this.#initialBackoffMs = opts.initialBackoffMs ?? 10_000;
    this.#backoffFactor = opts.backoffFactor ?? 1.5;
    this.#backoffJitter = opts.backoffJitter ?? 0.2;
    this.#maxAttempts = opts.maxAttempts ?? 5;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.#closeTimeoutMs = opts.closeTimeoutMs ?? 30_000;
  }

  /** Events waiting to be sent (not counting the batch in flight). */
  get buffered(): number {
    return this.#buffer.length;
  }

  process(events: readonly AuditEvent[]): void {
    if (this.#closing) {
      this.#metrics.error(auditPlugins.buffered, events.length);
      return;
    }
    const room = this.#bufferSize - this.#buffer.length;
    const taken = Math.min(room, events.length);
    for (let i = 0; i < taken; i++) this.#buffer.push(events[i]!);
    const dropped = events.length - taken;
    if (dropped > 0) {
      this.#metrics.error(auditPlugins.buffered, dropped);
      // Logged once per full spell, not once per event.
      if (!this.#dropping) {
        this.#dropping = true;
        this.#log?.error({ [logKeys.plugin]: auditPlugins.buffered }, "audit buffer queue blocked");
      }
    } else {
      this.#dropping = false;
    }
    this.#schedule();
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const drained = new Promise<void>((resolve) => {
      if (!this.#sending && this.#buffer.length === 0) resolve();
      else this.#idle.push(resolve);
    });
    if (!this.#sending) void this.#run();
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, this.#closeTimeoutMs);
    });
    await Promise.race([drained, expired]);
    clearTimeout(deadline);
    // Out of time: stop the POST in flight; what it carried and what is left is counted lost.
    this.#abort.abort();
    await drained;
    this.#agent.destroy();
  }

  #schedule(): void {
    if (this.#sending || this.#buffer.length === 0) return;
    if (this.#buffer.length >= this.#maxBatchSize) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#run();
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#run();
      }, this.#maxBatchWaitMs);
      // A pending batch does not keep the process alive; close() is what flushes on shutdown.
      this.#timer.unref();
    }
  }

  /** Sends batches one at a time: the first whatever its size, then while full ones wait. */
  async #run(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      let first = true;
      while (
        this.#buffer.length > 0 &&
        (first || this.#closing || this.#buffer.length >= this.#maxBatchSize)
      ) {
        first = false;
        const batch = this.#buffer.splice(0, this.#maxBatchSize);
        if (this.#abort.signal.aborted) {
          this.#giveUp(batch, new Error("audit webhook sink closed before the batch was sent"), 0);
          continue;
        }
        await this.#sendWithRetry(batch);
      }
    } finally {
      this.#sending = false;
      if (this.#buffer.length === 0 || this.#abort.signal.aborted) {
        for (const resolve of this.#idle.splice(0)) resolve();
      }
      if (this.#closing && this.#buffer.length > 0 && !this.#abort.signal.aborted) void this.#run();
      else this.#schedule();
    }
  }

  async #sendWithRetry(batch: AuditEvent[]): Promise<void> {
    const body = JSON.stringify(eventList(batch));
    let delay = this.#initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#post(body);
        return;
      } catch (err) {
        const retryable = err instanceof WebhookError ? err.retryable : true;
        if (!retryable || attempt >= this.#maxAttempts || this.#abort.signal.aborted) {
          this.#giveUp(batch, err, attempt);
          return;
        }
        await this.#sleep(delay * (1 + Math.random() * this.#backoffJitter));
        delay *= this.#backoffFactor;
      }
    }
  }

  #giveUp(batch: readonly AuditEvent[], err: unknown, attempts: number): void {
    this.#metrics.error(auditPlugins.webhook, batch.length);
    this.#log?.error(
      {
        [logKeys.plugin]: auditPlugins.webhook,
        [logKeys.events]: batch.length,
        [logKeys.attempts]: attempts,
        [logKeys.err]: err,
      },
      "audit webhook batch lost",
    );
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#abort.signal;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * One POST. Retryable: network failures (refused, reset, timed out) and 429/5xx answers;
   * any other non-2xx answer is final. (kube retries resets, 429, 500 and 504, and answers that
   * ask for a delay; refused connections are retried here too, so a restarting webhook loses
   * nothing within the retry budget.)
   */
  #post(body: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const req = request(
        this.#url,
        {
          method: "POST",
          agent: this.#agent,
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "Content-Length": Buffer.byteLength(body),
          },
          signal: this.#abort.signal,
          timeout: this.#requestTimeoutMs,
        },
        (res) => {
          res.resume();
          res.on("error", reject);
          res.on("end", () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve();
            else reject(new WebhookError(`audit webhook answered ${code}`, code === 429 || code >= 500));
          });
        },
      );
      req.on("timeout", () => req.destroy(new WebhookError("audit webhook timed out", true)));
      req.on("error", reject);
      req.end(body);
    });
  }
}

export const webhookSink = (opts: WebhookSinkOptions): WebhookSink => new WebhookSink(opts);
