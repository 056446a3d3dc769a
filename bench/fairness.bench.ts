// npm run bench:fairness — does one tenant at full load slow another down? Tenant B sends a
// light steady load (BENCH_B_RATE requests per second, open loop: one request every 1/rate s
// whatever the previous ones do) through the router; its p50 and p99 are measured alone and
// while tenant A saturates (BENCH_A_CONCURRENCY requests in flight in a loop, each sent again
// as soon as the previous one is answered; a 429 after its Retry-After, as client-go does, or
// at once with BENCH_A_IGNORE_RETRY_AFTER=1: a client that hammers), in turns (BENCH_ROUNDS
// rounds of B alone then B with A), so that both see the same machine while other work on it
// comes and goes. The ratio of B's p99 with A to B's p99 alone is the figure; the goal is at
// most 2×. Its parts are printed too: B's waits for a seat at the router and at the shard (the
// queues), the server's event-loop delay (perf_hooks.monitorEventLoopDelay: the CPU contention
// no queue can remove), the server's CPU time, and A's throughput and 429s.
//
// Multiplane runs in a child process (bench/tenants-server.ts: `multiplane up --etcd-endpoints
// … --shard bench` plus the router in front of it) on a local etcd 3.4 (test/support/
// etcd-process.ts); A's load comes from another child process (this file with "load-a"), so
// that its client work never delays B's requests or their timing. Both tenants are
// ControlPlanes created through the root tenant's API; every request is a GET of the tenant's
// namespaces at /clusters/<tenant> through the router, HTTPS with keep-alive and the admin token.
//
// Knobs: BENCH_SECONDS (20, of B alone and as many with A), BENCH_ROUNDS (4), BENCH_B_RATE (20),
// BENCH_A_CONCURRENCY (256), BENCH_A_IGNORE_RETRY_AFTER; BENCH_ROUTER_MAX_INFLIGHT and BENCH_ROUTER_MAX_TOTAL_INFLIGHT (the
// router's limits, passed to bench/tenants-server.ts).

import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEtcdProcess } from "../test/support/etcd-process.ts";
import type { FairnessFigures, ServerMessage } from "./tenants-server.ts";

const seconds = Number(process.env["BENCH_SECONDS"] ?? 20);
const bRate = Number(process.env["BENCH_B_RATE"] ?? 20);
const aConcurrency = Number(process.env["BENCH_A_CONCURRENCY"] ?? 256);
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 4);
const honorRetryAfter = process.env["BENCH_A_IGNORE_RETRY_AFTER"] !== "1";
const goalRatio = 2;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const cpPath = "/apis/core.multiplane.dev/v1alpha1/controlplanes";
const nsPath = (tenant: string): string => `/clusters/${tenant}/api/v1/namespaces`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Target {
  readonly url: string;
  readonly caPem: string;
  readonly token: string;
}

/** One keep-alive HTTPS client; request() answers the status (the body is read and dropped). */
function client(target: Target, maxSockets: number) {
  const base = new URL(target.url);
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca: target.caPem });
  const headers = { Authorization: `Bearer ${target.token}`, Accept: "application/json" };
  const request = (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: string; retryAfter: number }> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        {
          agent,
          method,
          hostname: base.hostname,
          port: base.port,
          path,
          headers: data === undefined ? headers : { ...headers, "Content-Type": "application/json" },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body: text,
              retryAfter: Number(res.headers["retry-after"] ?? 0),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  return { request, close: () => agent.destroy() };
}

// ---------------------------------------------------------------------------
// The "load-a" child: tenant A's saturating loop, run from each "resume" to the next "pause",
// which it answers with its counts for that period.

/** What the load child reports for each period of load. */
interface LoadCounts {
  readonly ok: number;
  readonly tooMany: number;
  readonly other: number;
  readonly errors: number;
  readonly seconds: number;
}

function loadA(target: Target, tenant: string, concurrency: number): void {
  const c = client(target, concurrency);
  let counts = { ok: 0, tooMany: 0, other: 0, errors: 0 };
  let running = false;
  let since = 0;
  let loops: Promise<void>[] = [];
  const loop = async (): Promise<void> => {
    while (running) {
      try {
        const { status, retryAfter } = await c.request("GET", nsPath(tenant));
        if (status === 200) counts.ok++;
        else if (status === 429) counts.tooMany++;
        else counts.other++;
        // client-go waits for Retry-After before it sends a refused request again.
        if (status === 429 && honorRetryAfter) await sleep(retryAfter * 1000);
      } catch {
        counts.errors++;
        await sleep(10);
      }
    }
  };
  process.on("message", (m: { type: "resume" | "pause" }) => {
    if (m.type === "resume" && !running) {
      counts = { ok: 0, tooMany: 0, other: 0, errors: 0 };
      running = true;
      since = performance.now();
      loops = Array.from({ length: concurrency }, loop);
      process.send?.({ type: "resumed" });
    } else if (m.type === "pause") {
      running = false;
      const seconds = (performance.now() - since) / 1000;
      void Promise.all(loops).then(() => process.send?.({ type: "counts", counts: { ...counts, seconds } }));
    }
  });
  process.send?.({ type: "started" });
}

// ---------------------------------------------------------------------------

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/** B's open-loop load for `forSeconds`: one GET every 1000/rate ms; answers the latencies (ms). */
async function measureB(c: ReturnType<typeof client>, tenant: string, forSeconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const failures: string[] = [];
  const inFlight: Promise<void>[] = [];
  const interval = 1000 / bRate;
  const start = performance.now();
  for (let i = 0; i < forSeconds * bRate; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    inFlight.push(
      c.request("GET", nsPath(tenant)).then(
        ({ status, body }) => {
          if (status === 200) latencies.push(performance.now() - sent);
          else failures.push(`HTTP ${status} ${body.slice(0, 200)}`);
        },
        (err: unknown) => void failures.push(String(err)),
      ),
    );
  }
  await Promise.all(inFlight);
  if (failures.length > 0) throw new Error(`tenant B: ${failures.length} requests failed: ${failures[0]}`);
  return latencies;
}

async function startServer(etcdEndpoint: string, dataDir: string) {
  const child: ChildProcess = fork(join(repoRoot, "bench/tenants-server.ts"), [], {
    cwd: repoRoot,
    execArgv: ["--expose-gc", "--import", "tsx"],
    env: {
      ...process.env,
      BENCH_ETCD: etcdEndpoint,
      BENCH_DATA_DIR: dataDir,
      BENCH_IDLE_TIMEOUT_MS: String(3_600_000),
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting = new Map<number, (m: ServerMessage) => void>();
  let nextId = 1;
  const ready = await new Promise<Extract<ServerMessage, { type: "ready" }>>((resolve, reject) => {
    child.on("message", (m: ServerMessage) => {
      if (m.type === "ready") resolve(m);
      else waiting.get(m.id)?.(m);
    });
    child.once("exit", (code) => reject(new Error(`the server child exited (${code})`)));
  });
  /** The fairness figures are recorded into `name` from now on (none: not recorded). */
  const phase = (name?: string): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ id, type: "fairness-phase", ...(name !== undefined ? { phase: name } : {}) });
    });
  const figures = (): Promise<Record<string, FairnessFigures>> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, (m) => resolve((m as { fairness: Record<string, FairnessFigures> }).fairness));
      child.send({ id, type: "fairness" });
    });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  return { ready, phase, figures, stop };
}

/** The load child, driven period by period. */
function startLoad(target: Target) {
  const child = fork(fileURLToPath(import.meta.url), ["load-a", JSON.stringify(target), "fair-a"], {
    cwd: repoRoot,
    execArgv: ["--import", "tsx"],
    env: { ...process.env, BENCH_A_CONCURRENCY: String(aConcurrency) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = (type: string): Promise<{ type: string; counts?: LoadCounts }> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`the load child exited (${code})`));
      child.once("exit", onExit);
      const onMessage = (m: { type: string; counts?: LoadCounts }): void => {
        if (m.type !== type) return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(m);
      };
      child.on("message", onMessage);
    });
  const started = next("started");
  return {
    started,
    resume: async (): Promise<void> => {
      const resumed = next("resumed");
      child.send({ type: "resume" });
      await resumed;
    },
    pause: async (): Promise<LoadCounts> => {
      const counts = next("counts");
      child.send({ type: "pause" });
      return (await counts).counts!;
    },
    kill: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
    },
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const etcd = await startEtcdProcess();
  const dataDir = await mkdtemp(join(tmpdir(), "multiplane-fairness-bench-"));
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  const clients: ReturnType<typeof client>[] = [];
  try {
    server = await startServer(etcd.endpoint, dataDir);
    const { ready } = server;
    const shard = client({ url: ready.shardURL, caPem: ready.caPem, token: ready.token }, 8);
    const routerTarget = { url: ready.routerURL, caPem: ready.caPem, token: ready.token };
    const router = client(routerTarget, 64);
    clients.push(shard, router);
    const log = (line: string): void =>
      console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

    for (const name of ["fair-a", "fair-b"]) {
      const res = await shard.request("POST", cpPath, {
        apiVersion: "core.multiplane.dev/v1alpha1",
        kind: "ControlPlane",
        metadata: { name },
        spec: { organization: name },
      });
      if (res.status !== 201) throw new Error(`ControlPlane ${name}: HTTP ${res.status} ${res.body}`);
    }
    for (const name of ["fair-a", "fair-b"]) {
      const deadline = Date.now() + 60_000;
      while ((await router.request("GET", nsPath(name))).status !== 200) {
        if (Date.now() > deadline) throw new Error(`${name}: not served through the router in 60 s`);
        await sleep(50);
      }
    }
    // Warm-up: JIT, TLS sessions, both tenants' instances.
    for (let i = 0; i < 200; i++) await router.request("GET", nsPath(i % 2 === 0 ? "fair-a" : "fair-b"));
    load = startLoad(routerTarget);
    await load.started;

    // Alone and with A in turns, so that both see the same machine (other work on it changes).
    const alone: number[] = [];
    const contended: number[] = [];
    const a = { ok: 0, tooMany: 0, other: 0, errors: 0, seconds: 0 };
    const phaseSeconds = seconds / rounds;
    for (let round = 1; round <= rounds; round++) {
      await server.phase("alone");
      alone.push(...(await measureB(router, "fair-b", phaseSeconds)));
      await server.phase();
      await load.resume();
      await sleep(1_000); // A at full load before B is measured
      await server.phase("with A");
      contended.push(...(await measureB(router, "fair-b", phaseSeconds)));
      await server.phase();
      const counts = await load.pause();
      for (const k of ["ok", "tooMany", "other", "errors", "seconds"] as const) a[k] += counts[k];
      log(`round ${round}/${rounds}: ${phaseSeconds} s of B alone, ${phaseSeconds} s of B with A`);
    }
    const figures = await server.figures();
    alone.sort((x, y) => x - y);
    contended.sort((x, y) => x - y);

    const ms = (n: number | undefined): string => (n === undefined ? "-" : `${n.toFixed(1)} ms`);
    const ratio = percentile(contended, 0.99) / percentile(alone, 0.99);
    const ratio50 = percentile(contended, 0.5) / percentile(alone, 0.5);
    const [one, five] = loadavg();
    console.log(
      `\nFairness benchmark: Multiplane (child process: up --shard bench + router) on etcd 3.4 ${etcd.endpoint}; ` +
        `tenant B: GET /clusters/fair-b/api/v1/namespaces through the router at ${bRate}/s, ` +
        `alone and while tenant A (another process) keeps ${aConcurrency} GETs in flight through the router, ` +
        `${honorRetryAfter ? "each 429 sent again after its Retry-After" : "429s sent again at once"}; ` +
        `${rounds} rounds of ${phaseSeconds} s alone then ${phaseSeconds} s with A. ` +
        `Machine load average ${one!.toFixed(1)} (1 min), ${five!.toFixed(1)} (5 min) on ${cpus().length} cores. ` +
        `Total ${((performance.now() - started) / 1000).toFixed(0)} s.\n`,
    );
    const alonePhase = figures["alone"]!;
    const withA = figures["with A"]!;
    const wait = (f: FairnessFigures, where: "routerWait" | "shardWait", q: "p50" | "p99") =>
      ms(f[where]["fair-b"]?.[q]);
    const requests = (f: FairnessFigures): number =>
      Object.values(f.routerWait).reduce((n, w) => n + w.count, 0);
    const rows = [
      ["measure", "alone", "with A", "ratio"],
      ["B p50", ms(percentile(alone, 0.5)), ms(percentile(contended, 0.5)), `${ratio50.toFixed(2)}×`],
      ["B p99", ms(percentile(alone, 0.99)), ms(percentile(contended, 0.99)), `${ratio.toFixed(2)}×`],
      [
        "B's wait for a seat, router p50",
        wait(alonePhase, "routerWait", "p50"),
        wait(withA, "routerWait", "p50"),
        "",
      ],
      [
        "B's wait for a seat, router p99",
        wait(alonePhase, "routerWait", "p99"),
        wait(withA, "routerWait", "p99"),
        "",
      ],
      [
        "B's wait for a seat, shard p50",
        wait(alonePhase, "shardWait", "p50"),
        wait(withA, "shardWait", "p50"),
        "",
      ],
      [
        "B's wait for a seat, shard p99",
        wait(alonePhase, "shardWait", "p99"),
        wait(withA, "shardWait", "p99"),
        "",
      ],
      ["server event-loop delay p50", ms(alonePhase.loopDelay.p50), ms(withA.loopDelay.p50), ""],
      ["server event-loop delay p99", ms(alonePhase.loopDelay.p99), ms(withA.loopDelay.p99), ""],
      [
        "server CPU (share of one core)",
        `${((alonePhase.cpuMs / alonePhase.seconds / 1000) * 100).toFixed(0)}%`,
        `${((withA.cpuMs / withA.seconds / 1000) * 100).toFixed(0)}%`,
        "",
      ],
      [
        "server CPU per request admitted",
        ms(alonePhase.cpuMs / Math.max(1, requests(alonePhase))),
        ms(withA.cpuMs / Math.max(1, requests(withA))),
        "",
      ],
    ];
    const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join("   "));
    console.log(
      `\nTenant A: ${(a.ok / a.seconds).toFixed(0)}/s answered 200, ${(a.tooMany / a.seconds).toFixed(0)}/s 429 ` +
        `(${a.tooMany} in all), ${a.other} other, ${a.errors} errors; A's wait for a router seat p50/p99 ` +
        `${ms(withA.routerWait["fair-a"]?.p50)} / ${ms(withA.routerWait["fair-a"]?.p99)}.`,
    );
    console.log(
      `B's p99 with A / alone: ${ratio.toFixed(2)}× (goal <= ${goalRatio}×: ${ratio <= goalRatio ? "met" : "MISSED"})`,
    );
  } finally {
    load?.kill();
    for (const c of clients) c.close();
    await server?.stop();
    await etcd.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "load-a") {
  loadA(
    JSON.parse(process.argv[3]!) as Target,
    process.argv[4]!,
    Number(process.env["BENCH_A_CONCURRENCY"] ?? 256),
  );
} else {
  await main();
}
