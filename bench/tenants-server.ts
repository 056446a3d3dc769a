// The server child of `npm run bench:tenants` (bench/tenants.bench.ts), never run by itself:
// what `multiplane up --etcd-endpoints … --shard bench` builds (up()), plus the front router
// in the same process with the ControlPlane registry as its TenantDirectory. It answers the
// benchmark over IPC only (no debug endpoint anywhere): memory after a forced GC (run it with
// --expose-gc), how many tenants are registered and active, eviction of named tenants, and
// heap snapshots (for finding where memory goes), and for bench/fairness.bench.ts the
// fairness figures of a phase: each tenant's waits for a seat at the router and at the shard,
// the event loop's delay (perf_hooks.monitorEventLoopDelay) and the CPU time used.
//
// Environment: BENCH_ETCD (the etcd endpoint), BENCH_DATA_DIR, BENCH_IDLE_TIMEOUT_MS, and
// BENCH_ROUTER_MAX_INFLIGHT, BENCH_ROUTER_MAX_TOTAL_INFLIGHT and BENCH_ROUTER_MAX_QUEUED (the
// router's per-tenant and total limits and its queue; its defaults otherwise), and
// BENCH_SHARD_MAX_TOTAL_INFLIGHT (the shard's seats).

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";
import pino from "pino";
import { JwtKeySet, parsePemBundle, parseTokenFile } from "../apiserver/src/authn/index.ts";
import { up } from "../apiserver/src/cli/up.ts";
import { buildRouterAuthenticator, ensureRouterPKI, startRouter } from "../apiserver/src/router/index.ts";

/** What the benchmark asks; each request carries an id its answer repeats. */
export type ServerRequest =
  | { readonly id: number; readonly type: "memory" }
  | { readonly id: number; readonly type: "tenants" }
  | { readonly id: number; readonly type: "evict"; readonly names: readonly string[] }
  | { readonly id: number; readonly type: "snapshot"; readonly path: string }
  /** Records the fairness figures into the phase named (added to what it has), or stops recording. */
  | { readonly id: number; readonly type: "fairness-phase"; readonly phase?: string }
  /** The fairness figures of every phase. */
  | { readonly id: number; readonly type: "fairness" };

/** Percentiles of a set of durations, in milliseconds. */
export interface Spread {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface FairnessFigures {
  /** Waits for a seat at the router, per tenant. */
  readonly routerWait: Readonly<Record<string, Spread>>;
  /** Waits for a first seat at the shard, per tenant. */
  readonly shardWait: Readonly<Record<string, Spread>>;
  /** The event loop's delay (monitorEventLoopDelay, sampled every millisecond). */
  readonly loopDelay: Spread;
  /** CPU time the server process used (user + system), milliseconds. */
  readonly cpuMs: number;
  readonly seconds: number;
}

export interface MemoryFigures {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface TenantFigures {
  /** Registered tenants, the root tenant included. */
  readonly registered: number;
  /** Tenants with an instance built or starting, the root tenant included. */
  readonly active: number;
  /** ControlPlane keys the registry has waiting, running or delayed. */
  readonly pending: number;
}

export type ServerMessage =
  | {
      readonly type: "ready";
      readonly shardURL: string;
      readonly routerURL: string;
      readonly caPem: string;
      readonly token: string;
    }
  | { readonly type: "answer"; readonly id: number; readonly memory: MemoryFigures }
  | { readonly type: "answer"; readonly id: number; readonly tenants: TenantFigures }
  | { readonly type: "answer"; readonly id: number; readonly evicted: number }
  | { readonly type: "answer"; readonly id: number; readonly snapshot: string }
  | { readonly type: "answer"; readonly id: number; readonly fairness: Record<string, FairnessFigures> };

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} is not set (run by bench/tenants.bench.ts)`);
  return v;
};

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const send = (m: ServerMessage): void => {
  process.send?.(m);
};

// The fairness figures (see FairnessFigures), per named phase; nothing is recorded between phases.
interface Phase {
  readonly router: Map<string, number[]>;
  readonly shard: Map<string, number[]>;
  readonly loop: IntervalHistogram;
  cpuMs: number;
  seconds: number;
}
const phases = new Map<string, Phase>();
let current: { phase: Phase; cpu: NodeJS.CpuUsage; at: number } | undefined;
const observe =
  (where: "router" | "shard") =>
  (tenant: string, seconds: number): void => {
    if (current === undefined) return;
    const m = current.phase[where];
    let list = m.get(tenant);
    if (list === undefined) m.set(tenant, (list = []));
    list.push(seconds * 1000);
  };

/** Ends the phase being recorded, if any, and starts recording `name` (none: stops). */
function switchPhase(name: string | undefined): void {
  if (current !== undefined) {
    const cpu = process.cpuUsage(current.cpu);
    current.phase.cpuMs += (cpu.user + cpu.system) / 1000;
    current.phase.seconds += (performance.now() - current.at) / 1000;
    current.phase.loop.disable();
    current = undefined;
  }
  if (name === undefined) return;
  let phase = phases.get(name);
  if (phase === undefined) {
    phase = {
      router: new Map(),
      shard: new Map(),
      loop: monitorEventLoopDelay({ resolution: 1 }),
      cpuMs: 0,
      seconds: 0,
    };
    phases.set(name, phase);
  }
  phase.loop.enable();
  current = { phase, cpu: process.cpuUsage(), at: performance.now() };
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

function fairnessFigures(): Record<string, FairnessFigures> {
  const perTenant = (m: Map<string, number[]>) => Object.fromEntries([...m].map(([t, v]) => [t, spread(v)]));
  return Object.fromEntries(
    [...phases].map(([name, p]) => [
      name,
      {
        routerWait: perTenant(p.router),
        shardWait: perTenant(p.shard),
        loopDelay: {
          count: p.loop.count,
          p50: p.loop.percentile(50) / 1e6,
          p99: p.loop.percentile(99) / 1e6,
          max: p.loop.max / 1e6,
        },
        cpuMs: p.cpuMs,
        seconds: p.seconds,
      },
    ]),
  );
}

const dataDir = env("BENCH_DATA_DIR");
const shardMaxTotal = process.env["BENCH_SHARD_MAX_TOTAL_INFLIGHT"];
const mp = await up({
  dataDir,
  host: "127.0.0.1",
  port: 0,
  etcdEndpoints: [env("BENCH_ETCD")],
  quiet: true,
  shard: "bench",
  tenantIdleTimeoutMs: Number(env("BENCH_IDLE_TIMEOUT_MS")),
  fairness: {
    observeWait: observe("shard"),
    ...(shardMaxTotal !== undefined ? { maxTotalRequestsInFlight: Number(shardMaxTotal) } : {}),
  },
});

// The router, as `multiplane router` builds it, but reading tenants from the registry.
const routerMaxInflight = process.env["BENCH_ROUTER_MAX_INFLIGHT"];
const routerMaxTotal = process.env["BENCH_ROUTER_MAX_TOTAL_INFLIGHT"];
const routerMaxQueued = process.env["BENCH_ROUTER_MAX_QUEUED"];
const pki = await ensureRouterPKI(join(dataDir, "pki"), ["127.0.0.1"]);
const tokens = parseTokenFile(await readFile(join(dataDir, "tokens.csv"), "utf8"));
const router = await startRouter({
  host: "127.0.0.1",
  port: 0,
  serving: pki.serving,
  clientCAPem: pki.caPem,
  directory: mp.registry,
  authenticator: buildRouterAuthenticator({
    tokens,
    // up() on port 0 issues tokens as https://multiplane.local.
    issuer: { url: "https://multiplane.local", keys: await JwtKeySet.load(join(dataDir, "jwt")) },
    clientCAs: parsePemBundle(pki.caPem),
  }),
  upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
  log: pino({ level: "warn" }, pino.destination(2)),
  fairness: {
    ...(routerMaxInflight !== undefined ? { maxInflight: Number(routerMaxInflight) } : {}),
    ...(routerMaxTotal !== undefined ? { maxTotalInflight: Number(routerMaxTotal) } : {}),
    ...(routerMaxQueued !== undefined ? { maxQueued: Number(routerMaxQueued) } : {}),
    observeWait: observe("router"),
  },
});

const adminToken = [...tokens.entries()].find(([, u]) => u.groups.includes("system:masters"))?.[0];
if (adminToken === undefined) throw new Error("no system:masters token in tokens.csv");

/**
 * Memory as the same quantity in every phase: full collections until the heap stops shrinking
 * (finalizers may free more), then RSS once it has stopped falling — V8 gives the pages a
 * collection freed back to the system from a background thread, over the next second or so;
 * measured at once, RSS still holds them.
 */
async function settledMemory(): Promise<MemoryFigures> {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    gc!();
    await sleep(50);
    const used = process.memoryUsage().heapUsed;
    if (used >= last * 0.999) break;
    last = used;
  }
  // RSS settled: no fall of more than 1 MiB over the last second (10 s at most).
  const samples = [process.memoryUsage.rss()];
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    samples.push(process.memoryUsage.rss());
    if (samples.length > 5 && samples.at(-6)! - samples.at(-1)! < 1024 * 1024) break;
  }
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

process.on("message", (raw) => {
  const req = raw as ServerRequest;
  const answer = async (): Promise<ServerMessage> => {
    switch (req.type) {
      case "memory":
        return { type: "answer", id: req.id, memory: await settledMemory() };
      case "tenants":
        return {
          type: "answer",
          id: req.id,
          tenants: {
            registered: mp.tenants.tenantNames().length,
            active: mp.tenants.activeTenants().length,
            pending: mp.registry.pending,
          },
        };
      case "evict":
        await Promise.all(req.names.map((n) => mp.tenants.evict(n)));
        return { type: "answer", id: req.id, evicted: req.names.length };
      case "snapshot":
        return { type: "answer", id: req.id, snapshot: writeHeapSnapshot(req.path) };
      case "fairness-phase":
        switchPhase(req.phase);
        return { type: "answer", id: req.id, fairness: {} };
      case "fairness":
        return { type: "answer", id: req.id, fairness: fairnessFigures() };
    }
  };
  answer().then(send, (err: unknown) => {
    process.stderr.write(`bench server: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
});

const stop = (): void => {
  process.off("SIGTERM", stop);
  process.off("disconnect", stop);
  void router
    .close()
    .then(() => mp.stop())
    .finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
// The benchmark went away: do not outlive it.
process.on("disconnect", stop);

send({
  type: "ready",
  shardURL: mp.shardURL,
  routerURL: router.url,
  caPem: pki.caPem,
  token: adminToken,
});
