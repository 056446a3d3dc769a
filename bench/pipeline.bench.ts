// npm run bench:pipeline — what the request pipeline (authentication, authorization) costs on
// a GET of one ConfigMap: the same server build with the whole pipeline vs with authentication
// and authorization bypassed (the issue's baseline), and vs with audit off too, in one run.
//
// The servers are child processes (bench/pipeline-server.ts) on the embedded storage (no
// etcd), one tenant (root), HTTPS with keep-alive agents, metrics on in all:
//   pipeline  a Multiplane tenant JWT (ES256, issueTenantToken) for bench-user in group bench,
//             through the authenticator union of `multiplane up`; RBAC over 1,000 bindings
//             (250 ClusterRoleBindings, 750 RoleBindings over 25 namespaces; the one granting
//             bench-user get on configmaps is a RoleBinding to a Role, visited last); audit at
//             level Metadata for every request into a log file.
//   bypass    the same build and the same stored objects; an authenticator (in the bench
//             only) that answers a fixed system:masters user without checking anything, so
//             RBAC is never asked; the same audit.
//   bare      bypass with no auditor: the third column shows what audit itself costs.
// Before measuring, the pipeline server must answer 401 to a forged and to a malformed token
// and 403 to bench-user's GET of a secret, and every server must hold exactly 1,000 bindings.
//
// Each round measures every server, each round starting with another: GETs with 64 requests
// in flight (throughput, and latency under load), then one at a time (latency). Best of
// `rounds`: the round with the highest throughput for the 64-in-flight figures, the one with
// the lowest p50 for the 1-in-flight figures (the machine is small; the best is the least
// disturbed). The load generator shares the 2 cores with the server under test.
//
// Knobs: BENCH_OPS (20000 GETs at 64 in flight; a quarter of that one at a time),
// BENCH_ROUNDS (3), BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", every
// child; each prints its pid).

import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { issueTenantToken, JwtKeySet } from "../apiserver/src/authn/index.ts";
import { rootTenant } from "../apiserver/src/tenancy/instance.ts";
import { benchUser, variants, type ServerHello, type Variant } from "./pipeline-server.ts";
import { cpuMs } from "./process-cpu.ts";

const inFlight = 64;
const ops = Number(process.env["BENCH_OPS"] ?? 20000);
const sequentialOps = Math.max(100, Math.floor(ops / 4));
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3);
const goals = { throughputCost: 0.15, p50CostMs: 1 } as const;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const benchNamespace = "bench";
const configMapName = "bench-cm";
const configMapPath = `/api/v1/namespaces/${benchNamespace}/configmaps/${configMapName}`;
const rbacPath = "/apis/rbac.authorization.k8s.io/v1";

// ---------------------------------------------------------------------------
// The servers, in child processes

interface Server extends ServerHello {
  readonly variant: Variant;
  readonly pid: number;
  /** Stops the child; answers the audit log's lines (the pipeline's, once flushed) before removing its data. */
  stop(): Promise<AuditCount>;
}

interface AuditCount {
  readonly lines: number;
  readonly benchUserComplete: number;
}

async function startServer(variant: Variant): Promise<Server> {
  const dataDir = await mkdtemp(join(tmpdir(), `multiplane-pipeline-bench-${variant}-`));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(process.env["BENCH_SERVER_NODE_ARGS"]?.split(" ").filter(Boolean) ?? []),
      "--import",
      "tsx",
      "bench/pipeline-server.ts",
      variant,
      dataDir,
    ],
    // stdin stays open while the bench lives: the child stops when it closes.
    { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + 60_000;
  while (!stdout.includes("\n")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await kill();
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`the ${variant} server did not start (exit ${child.exitCode}):\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const hello = JSON.parse(stdout.slice(0, stdout.indexOf("\n"))) as ServerHello;
  return {
    ...hello,
    variant,
    pid: child.pid ?? 0,
    async stop() {
      await kill();
      try {
        return await countAudit(hello.auditLogPath);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** The audit log's events, and the ResponseComplete ones of bench-user's requests. */
async function countAudit(path: string): Promise<AuditCount> {
  let lines = 0;
  let benchUserComplete = 0;
  try {
    const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    for await (const line of rl) {
      lines++;
      if (line.includes(`"username":"${benchUser.name}"`) && line.includes('"stage":"ResponseComplete"'))
        benchUserComplete++;
    }
  } catch (err) {
    if ((err as { code?: unknown }).code !== "ENOENT") throw err;
  }
  return { lines, benchUserComplete };
}

// ---------------------------------------------------------------------------
// HTTPS client: one keep-alive agent per server, the same code for both

interface Api {
  request(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: string }>;
  /** A GET whose body is read and dropped; throws unless 200. The hot path. */
  get(path: string, token: string): Promise<void>;
  close(): void;
}

function apiClient(server: Server): Api {
  const url = new URL(server.url);
  const agent = new https.Agent({ keepAlive: true, maxSockets: inFlight, ca: server.caPem });
  const send = (
    method: string,
    path: string,
    token: string,
    data: string | undefined,
    keepBody: boolean,
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        {
          agent,
          method,
          hostname: url.hostname,
          port: url.port,
          path,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: "application/json",
            ...(data === undefined
              ? {}
              : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) }),
          },
        },
        (res) => {
          let text = "";
          const status = res.statusCode ?? 0;
          if (keepBody || status !== 200) res.setEncoding("utf8");
          res.on("data", (d: string | Buffer) => {
            if (typeof d === "string") text += d;
          });
          res.on("end", () => resolve({ status, body: text }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  return {
    request: (method, path, token, body) =>
      send(method, path, token, body === undefined ? undefined : JSON.stringify(body), true),
    async get(path, token) {
      const res = await send("GET", path, token, undefined, false);
      if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.body}`);
    },
    close: () => agent.destroy(),
  };
}

// ---------------------------------------------------------------------------
// The tenant's content: the same for both servers

const rbacApiVersion = "rbac.authorization.k8s.io/v1";
const otherNamespaces = Array.from({ length: 24 }, (_, i) => `ns-${String(i + 1).padStart(2, "0")}`);
/** 4 bootstrap ClusterRoleBindings + these = 250. */
const extraClusterRoleBindings = 246;
const roleBindingsPerNamespace = 30;
const totalBindings = 1000;

interface Seeded {
  readonly clusterRoleBindings: number;
  readonly roleBindings: number;
}

async function seed(api: Api, admin: string): Promise<Seeded> {
  const create = async (path: string, obj: object): Promise<void> => {
    const res = await api.request("POST", path, admin, obj);
    if (res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status} ${res.body}`);
  };
  const all = async <T>(items: readonly T[], f: (t: T) => Promise<void>): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) await f(items[next++]!);
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  };
  const namespaces = [benchNamespace, ...otherNamespaces];
  await all(namespaces, (name) =>
    create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } }),
  );
  const role = (namespace: string, name: string, resources: string[], verbs: string[]): Promise<void> =>
    create(`${rbacPath}/namespaces/${namespace}/roles`, {
      apiVersion: rbacApiVersion,
      kind: "Role",
      metadata: { name },
      rules: [{ apiGroups: [""], resources, verbs }],
    });
  await all(namespaces, (ns) => role(ns, "pod-reader", ["pods"], ["get", "list", "watch"]));
  await role(benchNamespace, "configmap-reader", ["configmaps"], ["get"]);

  const group = (name: string) => ({ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name });
  const user = (name: string) => ({ kind: "User", apiGroup: "rbac.authorization.k8s.io", name });
  // Other users and teams, cluster-wide (view or edit everywhere).
  await all(
    Array.from({ length: extraClusterRoleBindings }, (_, i) => i),
    (i) =>
      create(`${rbacPath}/clusterrolebindings`, {
        apiVersion: rbacApiVersion,
        kind: "ClusterRoleBinding",
        metadata: { name: `crb-${String(i).padStart(3, "0")}` },
        subjects: [user(`user-${i}`), group(`team-${i % 40}`)],
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: i % 2 ? "view" : "edit",
        },
      }),
  );
  // Per namespace: bindings of other users and teams, and two of group bench that grant pods only
  // (they match bench-user's group, so RBAC must read their rules and go on).
  const roleBindings: { ns: string; name: string; subjects: object[]; role: string }[] = [];
  for (const ns of namespaces) {
    const others = ns === benchNamespace ? roleBindingsPerNamespace - 1 : roleBindingsPerNamespace;
    for (let i = 0; i < others; i++) {
      const name = `rb-${String(i).padStart(2, "0")}`;
      const subjects =
        i < 2 ? [group(benchUser.group)] : [user(`${ns}-user-${i}`), group(`${ns}-team-${i % 5}`)];
      roleBindings.push({ ns, name, subjects, role: "pod-reader" });
    }
  }
  // The grant the benchmark's GET needs, named to sort last among its namespace's bindings.
  roleBindings.push({
    ns: benchNamespace,
    name: "zz-bench-user-configmaps",
    subjects: [user(benchUser.name)],
    role: "configmap-reader",
  });
  await all(roleBindings, (b) =>
    create(`${rbacPath}/namespaces/${b.ns}/rolebindings`, {
      apiVersion: rbacApiVersion,
      kind: "RoleBinding",
      metadata: { name: b.name },
      subjects: b.subjects,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: b.role },
    }),
  );
  await create(`/api/v1/namespaces/${benchNamespace}/configmaps`, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: configMapName },
    data: { v: "x".repeat(150) },
  });

  const count = async (path: string): Promise<number> => {
    const res = await api.request("GET", path, admin);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return (JSON.parse(res.body) as { items: unknown[] }).items.length;
  };
  const seeded = {
    clusterRoleBindings: await count(`${rbacPath}/clusterrolebindings`),
    roleBindings: await count(`${rbacPath}/rolebindings`),
  };
  if (seeded.clusterRoleBindings + seeded.roleBindings !== totalBindings) {
    throw new Error(
      `the tenant holds ${seeded.clusterRoleBindings} ClusterRoleBindings and ${seeded.roleBindings} ` +
        `RoleBindings, not ${totalBindings} bindings`,
    );
  }
  return seeded;
}

/** The pipeline really authenticates and authorizes: a forged or malformed token is 401, a secret 403. */
async function verifyPipeline(api: Api, server: Server): Promise<void> {
  const expect = async (what: string, token: string, path: string, status: number): Promise<void> => {
    const res = await api.request("GET", path, token);
    if (res.status !== status)
      throw new Error(`${what}: HTTP ${res.status}, expected ${status}: ${res.body}`);
  };
  // Same issuer, tenant, user and claims, signed by a key the server does not have.
  const forged = await issueTenantToken(
    { url: "https://multiplane.local", keys: JwtKeySet.inMemory() },
    {
      tenant: rootTenant,
      subject: benchUser.name,
      groups: [benchUser.group],
      extra: {},
      expiresInSeconds: 3600,
    },
  );
  await expect("bench-user's GET of its ConfigMap", server.userToken, configMapPath, 200);
  await expect("a forged tenant token", forged, configMapPath, 401);
  await expect("a malformed token", `${server.userToken.slice(0, -4)}AAAA`, configMapPath, 401);
  await expect(
    "bench-user's GET of a secret",
    server.userToken,
    `/api/v1/namespaces/${benchNamespace}/secrets/anything`,
    403,
  );
}

// ---------------------------------------------------------------------------
// Measuring

interface Run {
  readonly rps: number;
  /** Sorted, in ms. */
  readonly latencies: number[];
  /** The server's CPU time (every thread, user and system) per request, in µs. */
  readonly cpuPerRequest: number;
}

async function measure(api: Api, pid: number, token: string, n: number, concurrency: number): Promise<Run> {
  const cpuBefore = cpuMs(pid);
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const t = performance.now();
      await api.get(configMapPath, token);
      latencies.push(performance.now() - t);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const rps = n / ((performance.now() - start) / 1000);
  const cpuPerRequest = ((cpuMs(pid) - cpuBefore) * 1000) / n;
  return { rps, latencies: latencies.sort((a, b) => a - b), cpuPerRequest };
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpu: number;
}

const figures = (r: Run): Figures => ({
  rps: r.rps,
  cpu: r.cpuPerRequest,
  p50: percentile(r.latencies, 0.5),
  p99: percentile(r.latencies, 0.99),
});

interface Best {
  loaded?: Figures;
  sequential?: Figures;
  /** The least server CPU per request of any 64-in-flight round. */
  cpu: number;
}

function keep(best: Best, loaded: Figures, sequential: Figures): void {
  if (best.loaded === undefined || loaded.rps > best.loaded.rps) best.loaded = loaded;
  if (best.sequential === undefined || sequential.p50 < best.sequential.p50) best.sequential = sequential;
  best.cpu = Math.min(best.cpu, loaded.cpu);
}

// ---------------------------------------------------------------------------

const num = (n: number): string => n.toFixed(0);
const ms = (n: number): string => `${n.toFixed(2)} ms`;
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;
const signed = (format: (n: number) => string, n: number): string =>
  (n < 0 ? "-" : "+") + format(Math.abs(n));

async function main(): Promise<void> {
  const servers: Server[] = [];
  const clients: Api[] = [];
  let audit: AuditCount | undefined;
  try {
    const started = [];
    for (const variant of variants) started.push(await startServer(variant));
    servers.push(...started);
    const measured = started.map((server) => {
      const api = apiClient(server);
      clients.push(api);
      return { name: server.variant, server, api, best: { cpu: Infinity } };
    });
    const [pipeline, bypass, bare] = measured as [Measured, Measured, Measured];
    console.log(`servers: ${measured.map((m) => `${m.name} pid ${m.server.pid}`).join(", ")}`);

    let seeded: Seeded | undefined;
    for (const m of measured) seeded = await seed(m.api, m.server.adminToken);
    await verifyPipeline(pipeline.api, pipeline.server);
    for (const m of [bypass, bare]) await m.api.get(configMapPath, m.server.userToken);

    // Warm up: TLS sessions, JIT, the tenant's cache.
    for (const m of measured) {
      await measure(m.api, m.server.pid, m.server.userToken, 2000, inFlight);
      await measure(m.api, m.server.pid, m.server.userToken, 500, 1);
    }
    const counts = { pipeline: 2500 };
    for (let round = 0; round < rounds; round++) {
      // Each round starts with another variant.
      const order = measured.map((_, i) => measured[(i + round) % measured.length]!);
      const line: string[] = [];
      for (const m of order) {
        const loaded = figures(await measure(m.api, m.server.pid, m.server.userToken, ops, inFlight));
        const sequential = figures(await measure(m.api, m.server.pid, m.server.userToken, sequentialOps, 1));
        if (m === pipeline) counts.pipeline += ops + sequentialOps;
        keep(m.best, loaded, sequential);
        line.push(
          `${m.name} ${num(loaded.rps)}/s (p50 ${ms(loaded.p50)}, ${num(loaded.cpu)} µs CPU/req), ` +
            `1 in flight p50 ${ms(sequential.p50)}`,
        );
      }
      console.log(`round ${round + 1}: ${line.join("; ")}`);
    }

    // The pipeline's audit log must hold an event for every request measured.
    audit = await pipeline.server.stop();
    servers.splice(servers.indexOf(pipeline.server), 1);

    const p = pipeline.best as Required<Best>;
    const b = bypass.best as Required<Best>;
    const n = bare.best as Required<Best>;
    const throughputCost = 1 - p.loaded.rps / b.loaded.rps;
    const p50Cost = p.sequential.p50 - b.sequential.p50;
    const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");
    const rpsCost = (x: number, y: number): string => `${pct(1 - x / y)} (${(x / y).toFixed(2)}x)`;
    const rows: string[][] = [
      [
        "GET of one ConfigMap",
        "pipeline",
        "authn+authz bypassed",
        "also no audit",
        "pipeline vs bypassed",
        "pipeline vs no audit",
        "goal (vs bypassed)",
      ],
      [
        `requests/s, ${inFlight} in flight`,
        num(p.loaded.rps),
        num(b.loaded.rps),
        num(n.loaded.rps),
        rpsCost(p.loaded.rps, b.loaded.rps),
        rpsCost(p.loaded.rps, n.loaded.rps),
        `cost <= ${pct(goals.throughputCost)}: ${verdict(throughputCost <= goals.throughputCost)}`,
      ],
      [
        `p50 / p99, ${inFlight} in flight`,
        `${ms(p.loaded.p50)} / ${ms(p.loaded.p99)}`,
        `${ms(b.loaded.p50)} / ${ms(b.loaded.p99)}`,
        `${ms(n.loaded.p50)} / ${ms(n.loaded.p99)}`,
        `${signed(ms, p.loaded.p50 - b.loaded.p50)} / ${signed(ms, p.loaded.p99 - b.loaded.p99)}`,
        `${signed(ms, p.loaded.p50 - n.loaded.p50)} / ${signed(ms, p.loaded.p99 - n.loaded.p99)}`,
        `(includes queueing behind ${inFlight})`,
      ],
      [
        "p50 / p99, 1 in flight",
        `${ms(p.sequential.p50)} / ${ms(p.sequential.p99)}`,
        `${ms(b.sequential.p50)} / ${ms(b.sequential.p99)}`,
        `${ms(n.sequential.p50)} / ${ms(n.sequential.p99)}`,
        `${signed(ms, p50Cost)} / ${signed(ms, p.sequential.p99 - b.sequential.p99)}`,
        `${signed(ms, p.sequential.p50 - n.sequential.p50)} / ${signed(ms, p.sequential.p99 - n.sequential.p99)}`,
        `p50 <= +${goals.p50CostMs} ms: ${verdict(p50Cost <= goals.p50CostMs)}`,
      ],
      [
        `server CPU per request, ${inFlight} in flight`,
        `${num(p.cpu)} µs`,
        `${num(b.cpu)} µs`,
        `${num(n.cpu)} µs`,
        `${signed(num, p.cpu - b.cpu)} µs (${(p.cpu / b.cpu).toFixed(2)}x)`,
        `${signed(num, p.cpu - n.cpu)} µs (${(p.cpu / n.cpu).toFixed(2)}x)`,
        "(least of the rounds; all threads)",
      ],
      [
        "requests/s, 1 in flight",
        num(p.sequential.rps),
        num(b.sequential.rps),
        num(n.sequential.rps),
        rpsCost(p.sequential.rps, b.sequential.rps),
        rpsCost(p.sequential.rps, n.sequential.rps),
        "",
      ],
    ];
    const last = rows[0]!.length - 1;
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: readonly string[]): string =>
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[0]!) : c < last ? cell.padStart(widths[c]!) : cell))
        .join("   ")
        .trimEnd();
    console.log(
      `\nPipeline benchmark: GET of one ConfigMap, Multiplane root tenant on the embedded storage (no etcd), ` +
        `three child processes (HTTPS, keep-alive), metrics on in all. Pipeline: tenant JWT (ES256) for ` +
        `${benchUser.name} (group ${benchUser.group}, not system:masters), RBAC over ${totalBindings} bindings ` +
        `(${seeded!.clusterRoleBindings} ClusterRoleBindings, ${seeded!.roleBindings} RoleBindings; the grant is a ` +
        `RoleBinding to a Role), audit level Metadata for everything to a log file. Bypassed (the goal's ` +
        `baseline): authentication and authorization bypassed by a fixed system:masters authenticator, the same ` +
        `audit. No audit: bypassed and no auditor either. Checked first: forged and malformed tokens 401, a ` +
        `secret 403. ${ops} GETs at ${inFlight} in flight and ${sequentialOps} at 1, best of ${rounds} rounds; ` +
        `audit log: ${audit.lines} events, ${audit.benchUserComplete} ResponseComplete of ${benchUser.name} ` +
        `(${counts.pipeline} GETs sent after the checks)\n`,
    );
    console.log(line(rows[0]!));
    console.log(line(rows[0]!.map((h, c) => "-".repeat(c < last ? widths[c]! : h.length))));
    for (const r of rows.slice(1)) console.log(line(r));
    if (audit.benchUserComplete < counts.pipeline) {
      throw new Error(
        `the audit log holds ${audit.benchUserComplete} events of bench-user, not ${counts.pipeline}`,
      );
    }
  } finally {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

interface Measured {
  readonly name: Variant;
  readonly server: Server;
  readonly api: Api;
  readonly best: Best;
}

await main();
