// A list+watch of one resource of the root tenant over HTTPS, as a reflector does: list, then
// watch from the list's resourceVersion (bookmarks asked for); a 410 Gone (the HTTP answer or
// an ERROR event) lists again; a failure waits with exponential backoff (200 ms → 5 s) and
// tries the next of the root URLs (any shard serves the root tenant). The router reads
// ControlPlanes and the shards' Leases with it, as itself: its mTLS client certificate and
// X-Remote-User/Group, which the shards trust from that certificate only.

import { Agent, request } from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";
import type { Logger } from "pino";
import type { KubeObject } from "../registry/printers.ts";
import type { CertKeyPair } from "../server/pki.ts";

/** Who the router is at the shards (its requests to the root tenant, not a user's). */
export const routerIdentity = { user: "system:multiplane:router", groups: ["system:masters"] } as const;

export interface RootWatchOptions {
  /** Base URLs of shards (https://host:port), tried in turn. */
  readonly urls: readonly string[];
  /** The resource's collection path, e.g. /apis/core.multiplane.dev/v1alpha1/controlplanes. */
  readonly path: string;
  /** The shards' CA and the router's client certificate (requestheader CA). */
  readonly caPem: string;
  readonly clientCertificate: CertKeyPair;
  /** A fresh list: everything the watcher holds is replaced. */
  readonly onList: (items: readonly KubeObject[]) => void;
  readonly onEvent: (type: "ADDED" | "MODIFIED" | "DELETED", obj: KubeObject) => void;
  readonly log: Logger;
  /** Server-side end of each watch (default 300 s; it is watched again from where it was). */
  readonly watchTimeoutSeconds?: number;
}

interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: KubeObject & { code?: number; message?: string };
}

/** The resourceVersion is too old: list again. */
class Gone extends Error {}

const initialBackoffMs = 200;
const maxBackoffMs = 5_000;

/** Started by the router's directory; `start` resolves once the first list is delivered. */
export class RootWatch {
  private readonly agent: Agent;
  private stopped = false;
  /** The request in flight (a list or a watch): stop() ends it, before or after its answer. */
  private current: ClientRequest | undefined;
  private urlIndex = 0;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: RootWatchOptions) {
    if (opts.urls.length === 0) throw new Error("RootWatch: no root URL");
    this.agent = new Agent({
      keepAlive: true,
      ca: opts.caPem,
      cert: opts.clientCertificate.certPem,
      key: opts.clientCertificate.keyPem,
    });
  }

  /** Runs the list+watch loop until stop(); resolves when the first list arrived. */
  start(): Promise<void> {
    return new Promise<void>((listed) => {
      this.loop = this.run(listed);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.destroy();
    this.wake?.();
    await this.loop;
    this.agent.destroy();
  }

  private async run(listed: () => void): Promise<void> {
    let backoff = initialBackoffMs;
    while (!this.stopped) {
      const base = this.opts.urls[this.urlIndex % this.opts.urls.length]!;
      try {
        let rv = await this.list(base);
        listed();
        backoff = initialBackoffMs;
        // Watch, again and again from the last resourceVersion, until it is too old or fails.
        while (!this.stopped) rv = await this.watch(base, rv, () => (backoff = initialBackoffMs));
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof Gone) continue; // list again at once
        this.opts.log.warn(
          { err: (err as Error).message, url: base, path: this.opts.path },
          "root watch failed",
        );
        this.urlIndex++;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private open(base: string, path: string): Promise<IncomingMessage> {
    const target = new URL(path, base);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(target, {
        agent: this.agent,
        method: "GET",
        headers: {
          Accept: "application/json",
          "X-Remote-User": routerIdentity.user,
          "X-Remote-Group": [...routerIdentity.groups],
        },
      });
      this.current = req;
      if (this.stopped) req.destroy(new Error("stopped"));
      req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10 s")));
      req.on("response", (res) => {
        req.setTimeout(0);
        resolve(res);
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** A GET's body; throws on a non-200 answer (Gone on 410). */
  /**
   * Lists and delivers the items; answers the list's resourceVersion. A method of its own: the
   * list must not stay in run()'s frame while it watches (for hours; every tenant listed, the
   * deleted ones included).
   */
  private async list(base: string): Promise<string> {
    const list = JSON.parse(await this.get(base, this.opts.path)) as {
      items?: KubeObject[];
      metadata?: { resourceVersion?: string };
    };
    this.opts.onList(list.items ?? []);
    return list.metadata?.resourceVersion ?? "";
  }

  private async get(base: string, path: string): Promise<string> {
    const res = await this.open(base, path);
    const body = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Buffer.concat(chunks).toString()));
      res.on("error", reject);
      res.on("close", () => {
        if (!res.complete) reject(new Error("connection closed"));
      });
    });
    if (res.statusCode === 410) throw new Gone();
    if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}: ${body.slice(0, 300)}`);
    return body;
  }

  /** One watch from `rv`; answers the last resourceVersion seen when it ends normally. */
  private async watch(base: string, rv: string, onData: () => void): Promise<string> {
    const query = new URLSearchParams({
      watch: "true",
      allowWatchBookmarks: "true",
      resourceVersion: rv,
      timeoutSeconds: String(this.opts.watchTimeoutSeconds ?? 300),
    });
    const res = await this.open(base, `${this.opts.path}?${query.toString()}`);
    if (res.statusCode === 410) {
      res.resume();
      throw new Gone();
    }
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(`watch ${this.opts.path}: ${res.statusCode}`);
    }
    let last = rv;
    let buffered = "";
    return new Promise<string>((resolve, reject) => {
      let failed: Error | undefined;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (failed !== undefined) return;
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === "") continue;
          let event: WatchEvent;
          try {
            event = JSON.parse(line) as WatchEvent;
          } catch {
            failed = new Error(`watch ${this.opts.path}: not JSON: ${line.slice(0, 100)}`);
            res.destroy();
            return;
          }
          if (event.type === "ERROR") {
            failed =
              event.object.code === 410
                ? new Gone()
                : new Error(`watch ${this.opts.path}: ${event.object.message ?? "error event"}`);
            res.destroy();
            return;
          }
          const eventRV = event.object.metadata?.resourceVersion;
          if (eventRV !== undefined) last = eventRV;
          if (event.type !== "BOOKMARK") this.opts.onEvent(event.type, event.object);
          onData();
        }
      });
      res.on("end", () => (failed !== undefined ? reject(failed) : resolve(last)));
      res.on("close", () => {
        if (failed !== undefined) reject(failed);
        else if (!res.complete) reject(new Error("watch connection closed"));
        else resolve(last);
      });
      res.on("error", (err) => (failed ??= err));
    });
  }
}
