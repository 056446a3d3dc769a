// npm run bench:tenants — what a tenant costs: memory per registered and per active tenant,
// create-to-ready and cold-activation latency, router overhead, and memory after deleting
// every tenant, each against its goal.
//
// Multiplane runs in a child process (bench/tenants-server.ts: what `multiplane up
// --etcd-endpoints … --shard bench` builds, plus the router in front of it with the
// ControlPlane registry as its directory) on a local etcd 3.4 (test/support/etcd-process.ts).
// The child runs with --expose-gc and answers over IPC: memory (the same quantity in every
// phase: heap after forced full GCs, RSS once it has stopped falling after them), tenant
// counts, and eviction of named tenants. Tenants are ControlPlanes created through the API in
// the root tenant, HTTPS with keep-alive agents and the admin token.
//
// Phases, in order:
//   warm-up          a few tenants created, touched and deleted (JIT, TLS, etcd); memory
//                    "before" as long after their deletion as "after" is after the deletions
//   registered idle  BENCH_TENANTS ControlPlanes created (BENCH_CREATE_CONCURRENCY in flight),
//                    all Ready (the registry idle, every phase Ready in a list): Δ memory / N
//   active empty     BENCH_ACTIVE of them touched once (GET /clusters/<t>/api/v1/namespaces,
//                    direct to the shard, 16 in flight): Δ memory / M
//   create-to-ready  BENCH_SAMPLES tenants one at a time: POST ControlPlane, then GET of
//                    namespaces at /clusters/<t> through the router every 5 ms while 404/503
//   cold activation  those tenants evicted (over IPC, as the idle sweeper would), then each
//                    one's first GET direct to the shard, one at a time
//   router overhead  BENCH_ROUTER_OPS GETs of one tenant's namespaces, 1 in flight, router and
//                    direct alternating: p50 through the router − p50 direct
//   deletion         every ControlPlane deleted, all gone: memory at once, then again once the
//                    watch caches' history window (75 s, swept every 10 s) has passed, as an
//                    idle shard would be: that figure is compared with "before"
//
// Knobs: BENCH_TENANTS (10000), BENCH_ACTIVE (1000), BENCH_SAMPLES (200),
// BENCH_ROUTER_OPS (2000), BENCH_CREATE_CONCURRENCY (32);
// BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") for the child, and
// BENCH_SERVER_LOG (a file for the child's output, e.g. with "--trace-gc"), BENCH_HEAP_SNAPSHOTS
// (a directory: heap snapshots of the child before, registered, active and after; writing one
// leaves the child's RSS far higher, so RSS figures of such a run are not the child's own).
// The child inherits the environment: allocator settings given to npm (MALLOC_ARENA_MAX,
// GLIBC_TUNABLES, LD_PRELOAD of another malloc) apply to it, and to etcd and this process too.

import { fork, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEtcdProcess } from "../test/support/etcd-process.ts";
import { historyRetention, historySweepMs } from "../apiserver/src/registry/watch-cache.ts";
import type { MemoryFigures, ServerMessage, ServerRequest, TenantFigures } from "./tenants-server.ts";

const tenantCount = Number(process.env["BENCH_TENANTS"] ?? 10_000);
const activeCount = Math.min(tenantCount, Number(process.env["BENCH_ACTIVE"] ?? 1_000));
const samples = Number(process.env["BENCH_SAMPLES"] ?? 200);
const routerOps = Number(process.env["BENCH_ROUTER_OPS"] ?? 2_000);
const createConcurrency = Number(process.env["BENCH_CREATE_CONCURRENCY"] ?? 32);
const warmupTenants = 20;
/**
 * How long after the last deletion "before" and "after" are measured: the root tenant's watch
 * history window (kube keeps 75 s of events) and one pass of its sweeper, so the deletions'
 * events are gone, and the heap is as idle in both.
 */
const quietMs = historyRetention.freshMs + historySweepMs + 1_000;
const goals = {
  idleBytes: 16 * 1024,
  activeBytes: 1024 * 1024,
  createToReadyP99Ms: 1_000,
  coldP99Ms: 50,
  routerOverheadMs: 1,
  memoryBack: 0.1,
} as const;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const cpPath = "/apis/core.multiplane.dev/v1alpha1/controlplanes";
const nsPath = (tenant: string): string => `/clusters/${tenant}/api/v1/namespaces`;

/** Runs `n` calls of `op` with `concurrency` at a time. */
async function each(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// The server child and its IPC

interface Server {
  readonly shardURL: URL;
  readonly routerURL: URL;
  readonly caPem: string;
  readonly token: string;
  memory(): Promise<MemoryFigures>;
  tenants(): Promise<TenantFigures>;
  evict(names: readonly string[]): Promise<void>;
  /** Writes a heap snapshot of the child to BENCH_HEAP_SNAPSHOTS/<label>.heapsnapshot, when set. */
  snapshot(label: string): Promise<void>;
  stop(): Promise<void>;
}

async function startServer(etcdEndpoint: string): Promise<Server> {
  const dataDir = await mkdtemp(join(tmpdir(), "multiplane-tenants-bench-"));
  const child: ChildProcess = fork(join(repoRoot, "bench/tenants-server.ts"), [], {
    cwd: repoRoot,
    execArgv: [
      "--expose-gc",
      "--import",
      "tsx",
      ...(process.env["BENCH_SERVER_NODE_ARGS"]?.split(" ").filter(Boolean) ?? []),
    ],
    env: {
      ...process.env,
      BENCH_ETCD: etcdEndpoint,
      BENCH_DATA_DIR: dataDir,
      // Never by the clock during the run: eviction is asked for over IPC.
      BENCH_IDLE_TIMEOUT_MS: String(3_600_000),
    },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const collect = (d: Buffer): void => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const serverLog = process.env["BENCH_SERVER_LOG"];
  if (serverLog !== undefined) {
    const file = createWriteStream(serverLog);
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  let nextId = 0;
  const waiting = new Map<number, (m: ServerMessage) => void>();
  let onReady: ((m: Extract<ServerMessage, { type: "ready" }>) => void) | undefined;
  child.on("message", (raw) => {
    const m = raw as ServerMessage;
    if (m.type === "ready") return onReady?.(m);
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    w?.(m);
  });
  const ask = (req: Omit<ServerRequest, "id"> & { type: ServerRequest["type"] }): Promise<ServerMessage> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ ...req, id }, (err) => {
        if (err) reject(err);
      });
    });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const ready = await new Promise<Extract<ServerMessage, { type: "ready" }>>((resolve, reject) => {
    onReady = resolve;
    void exited.then(() => reject(new Error(`the server child exited (${child.exitCode}):\n${output}`)));
    setTimeout(() => reject(new Error(`the server child did not start in 60 s:\n${output}`)), 60_000).unref();
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return {
    shardURL: new URL(ready.shardURL),
    routerURL: new URL(ready.routerURL),
    caPem: ready.caPem,
    token: ready.token,
    async memory() {
      const m = await ask({ type: "memory" });
      if (!("memory" in m)) throw new Error("the server answered no memory");
      return m.memory;
    },
    async tenants() {
      const m = await ask({ type: "tenants" });
      if (!("tenants" in m)) throw new Error("the server answered no tenant counts");
      return m.tenants;
    },
    async evict(names) {
      await ask({ type: "evict", names } as Omit<ServerRequest, "id"> & { type: "evict" });
    },
    async snapshot(label) {
      const dir = process.env["BENCH_HEAP_SNAPSHOTS"];
      if (dir === undefined) return;
      await ask({ type: "snapshot", path: join(dir, `${label}.heapsnapshot`) } as Omit<
        ServerRequest,
        "id"
      > & {
        type: "snapshot";
      });
    },
    stop,
  };
}

// ---------------------------------------------------------------------------
// HTTPS client

interface Api {
  /** Sends a request; answers the status and (for errors or when asked) the body. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  /** Like request, but throws unless the status is 2xx. */
  ok(method: string, path: string, body?: unknown): Promise<string>;
  close(): void;
}

function apiClient(base: URL, server: Server, maxSockets: number): Api {
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca: server.caPem });
  const headers = { Authorization: `Bearer ${server.token}`, Accept: "application/json" };
  const request = (method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        {
          agent,
          method,
          hostname: base.hostname,
          port: base.port,
          path,
          headers:
            data === undefined
              ? headers
              : { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  return {
    request,
    async ok(method, path, body) {
      const res = await request(method, path, body);
      if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${res.body}`);
      return res.body;
    },
    close: () => agent.destroy(),
  };
}

const controlPlane = (name: string): object => ({
  apiVersion: "core.multiplane.dev/v1alpha1",
  kind: "ControlPlane",
  metadata: { name },
  spec: { organization: name },
});

interface CPList {
  items: { metadata: { name: string }; status?: { phase?: string } }[];
}

/** Waits until the registry is idle and the ControlPlanes named by `prefix` are `want` Ready (or gone: 0). */
async function settle(server: Server, api: Api, prefix: string, want: number, what: string): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  let idleSince: number | undefined;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${what}: not settled in 30 minutes`);
    const t = await server.tenants();
    if (t.pending === 0) {
      idleSince ??= Date.now();
      const list = JSON.parse(await api.ok("GET", cpPath)) as CPList;
      const mine = list.items.filter((c) => c.metadata.name.startsWith(prefix));
      const ready = mine.filter((c) => c.status?.phase === "Ready").length;
      if (mine.length === want && ready === want) return;
      if (Date.now() - idleSince > 60_000)
        throw new Error(`${what}: ${mine.length} ControlPlanes, ${ready} Ready, wanted ${want}`);
    } else idleSince = undefined;
    await sleep(1_000);
  }
}

// ---------------------------------------------------------------------------

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const memLine = (m: MemoryFigures): string =>
  `rss ${mib(m.rss)}, heapUsed ${mib(m.heapUsed)}, heapTotal ${mib(m.heapTotal)}, external ${mib(m.external)}`;
const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");
const name = (prefix: string, i: number): string => `${prefix}${String(i).padStart(5, "0")}`;

async function main(): Promise<void> {
  const started = performance.now();
  const etcd = await startEtcdProcess();
  let server: Server | undefined;
  const clients: Api[] = [];
  try {
    server = await startServer(etcd.endpoint);
    const shard = apiClient(server.shardURL, server, 64);
    const router = apiClient(server.routerURL, server, 64);
    clients.push(shard, router);
    const log = (line: string): void =>
      console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

    // Warm-up: JIT, TLS sessions, etcd's first writes; every code path the phases take.
    const warm = Array.from({ length: warmupTenants }, (_, i) => name("warm", i));
    await each(warm.length, 8, (i) => shard.ok("POST", cpPath, controlPlane(warm[i]!)));
    await settle(server, shard, "warm", warm.length, "warm-up");
    await each(warm.length, 8, (i) => router.ok("GET", nsPath(warm[i]!)));
    await server.evict(warm);
    await each(warm.length, 8, (i) => shard.ok("GET", nsPath(warm[i]!)));
    await each(200, 1, (i) => (i % 2 === 0 ? router : shard).ok("GET", nsPath(warm[0]!)));
    await each(warm.length, 8, (i) => shard.ok("DELETE", `${cpPath}/${warm[i]!}`));
    await settle(server, shard, "warm", 0, "warm-up deletion");
    // As quiet as "after" will be: the same time after the last deletion (V8 shrinks an idle
    // heap over some seconds; compared at once, "before" would hold what "after" gave back).
    await sleep(quietMs);
    const before = await server.memory();
    log(`before (${(quietMs / 1000).toFixed(0)} s after the warm-up's deletions): ${memLine(before)}`);
    await server.snapshot("1-before");

    // Registered idle tenants.
    const idle = Array.from({ length: tenantCount }, (_, i) => name("t", i));
    let t0 = performance.now();
    await each(idle.length, createConcurrency, (i) => shard.ok("POST", cpPath, controlPlane(idle[i]!)));
    const postSeconds = (performance.now() - t0) / 1000;
    await settle(server, shard, "t", idle.length, "registered tenants");
    const createSeconds = (performance.now() - t0) / 1000;
    const counts = await server.tenants();
    const registered = await server.memory();
    const idleRss = (registered.rss - before.rss) / tenantCount;
    const idleHeap = (registered.heapUsed - before.heapUsed) / tenantCount;
    await server.snapshot("2-registered");
    log(
      `${tenantCount} ControlPlanes posted in ${postSeconds.toFixed(0)} s, all Ready in ${createSeconds.toFixed(0)} s ` +
        `(${counts.registered} registered, ${counts.active} active); ${memLine(registered)}`,
    );

    // Active empty tenants: each touched once.
    await each(activeCount, 16, (i) => shard.ok("GET", nsPath(idle[i]!)));
    const activeCounts = await server.tenants();
    const active = await server.memory();
    const activeRss = (active.rss - registered.rss) / activeCount;
    const activeHeap = (active.heapUsed - registered.heapUsed) / activeCount;
    await server.snapshot("3-active");
    log(`${activeCount} tenants touched (${activeCounts.active} active); ${memLine(active)}`);
    await server.evict(idle.slice(0, activeCount));

    // Create-to-ready, through the router, one tenant at a time.
    const fresh = Array.from({ length: samples }, (_, i) => name("c", i));
    const createToReady: number[] = [];
    let retries = 0;
    for (const t of fresh) {
      const start = performance.now();
      await shard.ok("POST", cpPath, controlPlane(t));
      for (;;) {
        const res = await router.request("GET", nsPath(t));
        if (res.status === 200) break;
        if (res.status !== 404 && res.status !== 503)
          throw new Error(`GET ${nsPath(t)} through the router: HTTP ${res.status} ${res.body}`);
        if (performance.now() - start > 30_000) throw new Error(`${t}: not served in 30 s`);
        retries++;
        await sleep(5);
      }
      createToReady.push(performance.now() - start);
    }
    createToReady.sort((a, b) => a - b);
    log(`create-to-ready over ${samples} tenants (${retries} retries)`);

    // Cold activation: evicted, then the first GET direct to the shard.
    await server.evict(fresh);
    const afterEvict = await server.tenants();
    const cold: number[] = [];
    for (const t of fresh) {
      const start = performance.now();
      await shard.ok("GET", nsPath(t));
      cold.push(performance.now() - start);
    }
    cold.sort((a, b) => a - b);
    log(
      `cold activation over ${samples} tenants (${afterEvict.active} active before); slowest ${cold
        .slice(-5)
        .map((x) => x.toFixed(0))
        .join(", ")} ms`,
    );

    // Router overhead: the same GET of an active tenant, alternating, 1 in flight.
    const probe = fresh[0] ?? idle[0]!;
    const viaRouter: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < 200; i++) await (i % 2 === 0 ? router : shard).ok("GET", nsPath(probe));
    for (let i = 0; i < routerOps; i++) {
      const [client, into] = i % 2 === 0 ? [router, viaRouter] : [shard, direct];
      const start = performance.now();
      await client.ok("GET", nsPath(probe));
      into.push(performance.now() - start);
    }
    viaRouter.sort((a, b) => a - b);
    direct.sort((a, b) => a - b);
    const overhead = percentile(viaRouter, 0.5) - percentile(direct, 0.5);
    log(`router overhead over ${routerOps} GETs`);

    // Deletion of every tenant.
    t0 = performance.now();
    const all = [...idle, ...fresh];
    await each(all.length, createConcurrency, (i) => shard.ok("DELETE", `${cpPath}/${all[i]!}`));
    await settle(server, shard, "", 0, "deletion");
    const deleteSeconds = (performance.now() - t0) / 1000;
    const leftCounts = await server.tenants();
    const atOnce = await server.memory();
    log(
      `${all.length} ControlPlanes deleted and gone in ${deleteSeconds.toFixed(0)} s ` +
        `(${leftCounts.registered} registered, ${leftCounts.active} active); at once: ${memLine(atOnce)}`,
    );
    // The deletions are still in the root tenant's watch history (kube keeps 75 s of events):
    // measured again once the window has passed and the sweeper has dropped them.
    await sleep(Math.max(0, quietMs - (performance.now() - t0 - deleteSeconds * 1000)));
    const after = await server.memory();
    const rssBack = (after.rss - before.rss) / before.rss;
    const heapBack = (after.heapUsed - before.heapUsed) / before.heapUsed;
    await server.snapshot("4-after");
    log(`${(quietMs / 1000).toFixed(0)} s after the deletions; ${memLine(after)}`);

    const p99Create = percentile(createToReady, 0.99);
    const p99Cold = percentile(cold, 0.99);
    const sign = (x: number): string => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
    const rows: [string, string, string][] = [
      ["measure", "figure", "goal"],
      [
        `RSS per registered idle tenant (${tenantCount} ControlPlanes)`,
        `${kib(idleRss)} (heapUsed ${kib(idleHeap)})`,
        `<= 16 KiB: ${verdict(idleRss <= goals.idleBytes)}`,
      ],
      [
        `RSS per active empty tenant (${activeCount} touched once)`,
        `${kib(activeRss)} (heapUsed ${kib(activeHeap)})`,
        `<= 1 MiB: ${verdict(activeRss <= goals.activeBytes)}`,
      ],
      [
        `create-to-ready p50 / p99 (${samples} tenants, via router)`,
        `${ms(percentile(createToReady, 0.5))} / ${ms(p99Create)}`,
        `p99 <= 1 s: ${verdict(p99Create <= goals.createToReadyP99Ms)}`,
      ],
      [
        `cold activation p50 / p99 (${samples} evicted tenants)`,
        `${ms(percentile(cold, 0.5))} / ${ms(p99Cold)}`,
        `p99 <= 50 ms: ${verdict(p99Cold <= goals.coldP99Ms)}`,
      ],
      [
        `router overhead, p50 router − p50 direct (${routerOps} GETs)`,
        `${ms(overhead)} (${ms(percentile(viaRouter, 0.5))} − ${ms(percentile(direct, 0.5))})`,
        `<= 1 ms: ${verdict(overhead <= goals.routerOverheadMs)}`,
      ],
      [
        `memory ${(quietMs / 1000).toFixed(0)} s after deleting all vs before creating (RSS)`,
        `${mib(after.rss)} vs ${mib(before.rss)}: ${sign(rssBack)} (heapUsed ${mib(after.heapUsed)} vs ${mib(before.heapUsed)}: ${sign(heapBack)})`,
        `within 10%: ${verdict(Math.abs(rssBack) <= goals.memoryBack)}`,
      ],
    ];
    const widths = [0, 1].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: readonly string[]): string =>
      r
        .map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell))
        .join("   ")
        .trimEnd();
    console.log(
      `\nTenant benchmark: Multiplane (child process: up --shard bench + router, --expose-gc) on etcd 3.4 ` +
        `${etcd.endpoint}; ${tenantCount} ControlPlanes created ${createConcurrency} in flight through the root ` +
        `tenant's API, ${activeCount} touched once, ${samples} create-to-ready and cold-activation samples one at a ` +
        `time, ${routerOps} router/direct GETs 1 in flight; memory after forced full GCs in the child, RSS once ` +
        `it stopped falling (RSS and heapUsed deltas; RSS decides), "before" and "after" both ` +
        `${(quietMs / 1000).toFixed(0)} s after the last deletion. Eviction is asked for over IPC, as the idle sweeper would do it. ` +
        `Total ${((performance.now() - started) / 1000).toFixed(0)} s.\n`,
    );
    console.log(line(rows[0]!));
    console.log(line(rows[0]!.map((h, c) => "-".repeat(c < 2 ? widths[c]! : h.length))));
    for (const r of rows.slice(1)) console.log(line(r));
  } finally {
    for (const c of clients) c.close();
    await server?.stop();
    await etcd.destroy();
  }
}

await main();
