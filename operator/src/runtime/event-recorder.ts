// core/v1 Events about the objects the operator reconciles, written as client-go's event
// recorder writes them, so that `kubectl describe` and `kubectl get events` show them:
// named "<object>.<hex nanoseconds>", in the object's namespace ("default" for
// cluster-scoped objects), with source.component and first/lastTimestamp. A repeat of the
// same object, type, reason and message within ten minutes (client-go's aggregation
// window) does not create a new Event: the first one's count and lastTimestamp are patched.
// Recording is fire-and-forget: `event()` returns at once, writes happen in the background
// (in order per repeated event), and failures are logged, never thrown at the caller.
// Not done: client-go's spam filter and the folding of similar messages into one.

import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { isStatus, RestClient } from "./rest.ts";

export type EventType = "Normal" | "Warning";

/** Repeats within this long add to the same Event (client-go's defaultAggregateIntervalInSeconds). */
const aggregationWindowMs = 10 * 60_000;
/** Distinct events remembered for aggregation (client-go's maxLruCacheEntries). */
const maxRemembered = 4096;

/** metav1.Time: RFC 3339 in whole seconds. */
const kubeTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

interface Recorded {
  namespace: string;
  name: string | undefined;
  count: number;
  firstTimestamp: string;
  lastSeen: number;
  /** The writes of this event, in order. */
  writes: Promise<void>;
}

/** Called by reconcilers, from any number of places at once. */
export class EventRecorder {
  private readonly rest: RestClient;
  private readonly host = hostname();
  private readonly recent = new Map<string, Recorded>();
  private readonly pending = new Set<Promise<void>>();
  private sequence = 0;

  constructor(
    kc: KubeConfig,
    private readonly component: string,
    private readonly log: Logger,
  ) {
    this.rest = new RestClient(kc);
  }

  /** Records an Event about `obj` in the background; never throws. */
  event(obj: KubernetesObject, type: EventType, reason: string, message: string): void {
    try {
      this.record(obj, type, reason, message);
    } catch (err) {
      this.log.error({ err, reason }, "recording an event failed");
    }
  }

  /** Resolves when every Event recorded so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private record(obj: KubernetesObject, type: EventType, reason: string, message: string): void {
    const meta = obj.metadata ?? {};
    const involvedObject = {
      kind: obj.kind,
      namespace: meta.namespace,
      name: meta.name,
      uid: meta.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: meta.resourceVersion,
    };
    const key = JSON.stringify([
      obj.apiVersion,
      obj.kind,
      meta.namespace,
      meta.name,
      meta.uid,
      type,
      reason,
      message,
    ]);
    const now = new Date();
    let entry = this.recent.get(key);
    if (entry !== undefined && entry.lastSeen + aggregationWindowMs < now.getTime()) entry = undefined;
    if (entry === undefined) {
      entry = {
        namespace: meta.namespace || "default",
        name: undefined,
        count: 0,
        firstTimestamp: kubeTime(now),
        lastSeen: 0,
        writes: Promise.resolve(),
      };
    }
    // Most recently used last: the first key is the one to forget.
    this.recent.delete(key);
    this.recent.set(key, entry);
    if (this.recent.size > maxRemembered) this.recent.delete(this.recent.keys().next().value!);
    entry.count++;
    entry.lastSeen = now.getTime();
    const e = entry;
    const count = e.count;
    const lastTimestamp = kubeTime(now);
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { namespace: e.namespace },
      involvedObject,
      reason,
      message,
      type,
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host,
    };
    const write = e.writes
      .then(async () => {
        const collection = `/api/v1/namespaces/${encodeURIComponent(e.namespace)}/events`;
        if (e.name !== undefined) {
          try {
            await this.rest.request(`${collection}/${encodeURIComponent(e.name)}`, {
              method: "PATCH",
              contentType: "application/merge-patch+json",
              body: { count, lastTimestamp, message },
            });
            return;
          } catch (err) {
            // Gone (its TTL ran out, or someone deleted it): start a new one below.
            if (!isStatus(err, 404)) throw err;
          }
        }
        const name = `${meta.name ?? "unknown"}.${this.nanoseconds(now).toString(16)}`;
        await this.rest.request(collection, {
          method: "POST",
          body: {
            ...body,
            metadata: { ...body.metadata, name },
            firstTimestamp: e.firstTimestamp,
            lastTimestamp,
            count,
          },
        });
        e.name = name;
      })
      .catch((err: unknown) =>
        this.log.warn({ err, reason, object: involvedObject }, "writing an event failed"),
      );
    e.writes = write;
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
  }

  /** Unix time in nanoseconds, made unique per recorder (names must not collide within a millisecond). */
  private nanoseconds(d: Date): bigint {
    return BigInt(d.getTime()) * 1_000_000n + BigInt(this.sequence++ % 1_000_000);
  }
}
