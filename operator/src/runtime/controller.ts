// A controller as controller-runtime runs one: informers' events become keys in a work
// queue, and workers (a p-queue with `concurrency` slots) reconcile one key at a time per
// key. The queue follows client-go's: a key queued twice before it runs, runs once; a key
// added while it is being reconciled runs once more after that, never alongside; a failure
// retries after the larger of a per-key backoff (5 ms doubling to 1000 s, forgotten on
// success) and an overall token bucket (10/s, burst 100); `requeueAfterMs` looks again
// later; a TerminalError drops the key. As in client-go, the bucket only paces retries:
// keys from events run as soon as a worker is free.

import type { KubernetesObject } from "@kubernetes/client-node";
import PQueue from "p-queue";
import type { Logger } from "pino";
import { keyOf, type Informer } from "./informer.ts";
import type { OperatorMetrics, ReconcileOutcome } from "./metrics.ts";
import { ItemBackoff, TokenBucket } from "./rate-limit.ts";

/** What a reconcile may ask for besides success: to look again after a while. */
export type ReconcileResult = void | { readonly requeueAfterMs: number };

/** Thrown by a reconcile when retrying cannot help (bad input): the key is dropped, not retried. */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
}

export interface ControllerOptions {
  /** Names the queue and the controller in logs and metrics. */
  readonly name: string;
  /**
   * Called with one key at a time per key, level-triggered: it reads the current state and
   * makes the world match. It may throw to be retried with backoff, or a TerminalError to give up.
   */
  readonly reconcile: (key: string) => Promise<ReconcileResult>;
  /** Keys reconciled at once (different keys); default 1, as controller-runtime. */
  readonly concurrency?: number;
  /** The overall limit on retries; default 10 per second, burst 100. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  readonly metrics?: OperatorMetrics;
  readonly log: Logger;
}

export class Controller {
  readonly name: string;
  private readonly reconcile: (key: string) => Promise<ReconcileResult>;
  private readonly workers: PQueue;
  private readonly backoff = new ItemBackoff();
  private readonly bucket: TokenBucket;
  private readonly metrics: OperatorMetrics | undefined;
  private readonly log: Logger;
  /** Keys waiting to run: queued in `workers`, or to be queued again when their current run ends. */
  private readonly dirty = new Set<string>();
  /** Keys being reconciled now. */
  private readonly processing = new Set<string>();
  /** When each waiting key was first added (for the queue duration metric). */
  private readonly addedAt = new Map<string, number>();
  /** Delayed adds: one timer per key, the earliest wins. */
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.reconcile = opts.reconcile;
    const concurrency = opts.concurrency ?? 1;
    // Keys added before start() wait in the queue, as client-go's queue takes adds before workers run.
    this.workers = new PQueue({ concurrency, autoStart: false });
    const { perSecond, burst } = opts.rateLimit ?? { perSecond: 10, burst: 100 };
    this.bucket = new TokenBucket(perSecond, burst);
    this.metrics = opts.metrics;
    this.log = opts.log.child({ controller: opts.name });
    this.metrics?.maxConcurrentReconciles.set({ controller: this.name }, concurrency);
    this.metrics?.activeWorkers.set({ controller: this.name }, 0);
    this.metrics?.queueDepth.set({ name: this.name }, 0);
  }

  /**
   * Queues the keys of every object `informer` holds now and of every object it adds, updates
   * (resyncs included) or deletes from now on. `toKeys` maps an object to the keys to
   * reconcile (its owner's, say); by default the object's own key. `changed`, when given, is
   * asked of each update (not of resyncs) whether it matters to the reconciler: one that does
   * not (a status the reconciler wrote itself, say) queues nothing, as controller-runtime's
   * update predicates.
   */
  watch<T extends KubernetesObject>(
    informer: Informer<T>,
    toKeys: (obj: T) => string[] = (o) => [keyOf(o)],
    changed?: (obj: T, old: T) => boolean,
  ): this {
    const enqueue = (obj: T): void => {
      for (const key of toKeys(obj)) this.enqueue(key);
    };
    const onUpdate = (obj: T, old?: T): void => {
      if (changed !== undefined && old !== undefined && old !== obj && !changed(obj, old)) return;
      enqueue(obj);
    };
    this.unsubscribe.push(
      informer.on("add", enqueue),
      informer.on("update", onUpdate),
      informer.on("delete", enqueue),
    );
    for (const obj of informer.list()) enqueue(obj);
    return this;
  }

  /** Queues `key` now, or after `afterMs` (the earliest pending delayed add wins). No-op once stopped. */
  enqueue(key: string, afterMs?: number): void {
    if (afterMs !== undefined && afterMs > 0) this.addAfter(key, afterMs);
    else this.add(key);
  }

  /** Starts the workers: queued keys begin to run. */
  start(): void {
    if (this.stopped) throw new Error(`controller ${this.name} was stopped`);
    this.workers.start();
  }

  /** Stops taking keys, drops waiting and delayed ones, and waits for the reconciles running now. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.workers.clear();
    this.dirty.clear();
    this.addedAt.clear();
    this.setDepth();
    await this.workers.onIdle();
  }

  /** Keys waiting to run (not counting running or delayed ones), as workqueue_depth. */
  get depth(): number {
    return this.workers.size;
  }

  /** Keys waiting, running or delayed: 0 means the controller is idle. */
  get length(): number {
    return new Set([...this.dirty, ...this.processing, ...this.delayed.keys()]).size;
  }

  private add(key: string): void {
    if (this.stopped) return;
    if (this.dirty.has(key)) return;
    this.metrics?.queueAdds.inc({ name: this.name });
    this.dirty.add(key);
    this.addedAt.set(key, Date.now());
    // A key being reconciled is queued again when that run ends (see process), not now.
    if (!this.processing.has(key)) this.submit(key);
  }

  private addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    // A pending retry must not keep the process alive; stop() clears it anyway.
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** A retry: after the per-key backoff or the overall bucket's wait, whichever is longer. */
  private addRateLimited(key: string): number {
    const delay = Math.max(this.backoff.when(key), this.bucket.reserve());
    this.metrics?.queueRetries.inc({ name: this.name });
    this.addAfter(key, delay);
    return delay;
  }

  private submit(key: string): void {
    void this.workers.add(() => this.process(key));
    this.setDepth();
  }

  private setDepth(): void {
    this.metrics?.queueDepth.set({ name: this.name }, this.workers.size);
  }

  private async process(key: string): Promise<void> {
    this.dirty.delete(key);
    this.processing.add(key);
    this.setDepth();
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined)
      this.metrics?.queueDuration.observe({ name: this.name }, (Date.now() - added) / 1000);
    this.metrics?.activeWorkers.inc({ controller: this.name });
    const started = performance.now();
    let outcome: ReconcileOutcome;
    try {
      const result = await this.reconcile(key);
      if (result === undefined) {
        this.backoff.forget(key);
        outcome = "success";
      } else if (result.requeueAfterMs > 0) {
        this.backoff.forget(key);
        this.addAfter(key, result.requeueAfterMs);
        outcome = "requeue_after";
      } else {
        // Asked to look again at once: a rate-limited requeue, as controller-runtime's Requeue.
        this.addRateLimited(key);
        outcome = "requeue";
      }
    } catch (err) {
      outcome = "error";
      this.metrics?.reconcileErrors.inc({ controller: this.name });
      if (err instanceof TerminalError) {
        this.backoff.forget(key);
        this.metrics?.terminalErrors.inc({ controller: this.name });
        this.log.error({ err, key }, "reconcile failed for good; dropping the key");
      } else if (!this.stopped) {
        const retryInMs = this.addRateLimited(key);
        this.log.error({ err, key, retryInMs, failures: this.backoff.retries(key) }, "reconcile failed");
      }
    } finally {
      this.processing.delete(key);
      this.metrics?.activeWorkers.dec({ controller: this.name });
      // Added while it ran: run it once more, after this run.
      if (this.dirty.has(key) && !this.stopped) this.submit(key);
    }
    this.metrics?.reconcileTime.observe({ controller: this.name }, (performance.now() - started) / 1000);
    this.metrics?.reconcileTotal.inc({ controller: this.name, result: outcome });
  }
}
