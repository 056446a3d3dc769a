// npm run bench:orgs — how fast the operator turns Organizations into ready tenants: the time
// from the create of an Organization to its Ready condition, p50/p99 over BENCH_SAMPLES (200)
// applied one at a time, and the sustained rate for BENCH_BURST (1,000) created at once
// (BENCH_CREATE_CONCURRENCY, 32, creates in flight) until the last one is Ready. Goals: p99 ≤ 1 s,
// ≥ 50 Organizations/s. Each phase also prints the CPU time (user + system) of this process per
// Organization: on a loaded machine, the figure that says how much work one Organization costs.
//
// `multiplane up` runs in this process (embedded storage, or a local etcd with BENCH_ETCD=1)
// with its in-process operator, as `npm start` does. Readiness is seen through a watch on
// Organizations (one HTTPS stream, the admin's kubeconfig), so polling costs nothing.

import { KubeConfig, Watch } from "@kubernetes/client-node";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { up } from "../apiserver/src/cli/up.ts";
import { ApiClient } from "../operator/src/kube/api.client.ts";
import { startEtcdProcess, type EtcdProcess } from "../test/support/etcd-process.ts";

const samples = Number(process.env["BENCH_SAMPLES"] ?? 200);
const burst = Number(process.env["BENCH_BURST"] ?? 1_000);
const createConcurrency = Number(process.env["BENCH_CREATE_CONCURRENCY"] ?? 32);
const goals = { p99Ms: 1_000, perSecond: 50 } as const;
const orgsPath = "/apis/tenancy.multiplane.dev/v1alpha1/organizations";

interface Org {
  metadata?: { name?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

const isReady = (o: Org): boolean =>
  o.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** User + system CPU time of this process (server, operator and bench alike), in ms. */
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

const organization = (name: string) => ({
  apiVersion: "tenancy.multiplane.dev/v1alpha1",
  kind: "Organization",
  metadata: { name },
  spec: { owners: [{ kind: "User", name: `${name}-owner` }] },
});

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "multiplane-bench-orgs-"));
  let etcd: EtcdProcess | undefined;
  if (process.env["BENCH_ETCD"] === "1") etcd = await startEtcdProcess();
  const mp = await up({
    dataDir,
    host: "127.0.0.1",
    port: 0,
    quiet: true,
    ...(etcd !== undefined ? { etcdEndpoints: [etcd.endpoint] } : {}),
  });
  const kc = new KubeConfig();
  kc.loadFromFile(mp.kubeconfigPath);
  const api = new ApiClient(kc);
  // name → resolve, for the one waiting on it; the watch resolves on the first Ready it sees.
  const waiting = new Map<string, () => void>();
  const ready = new Set<string>();
  const watch = await new Watch(kc).watch(
    orgsPath,
    {},
    (_type: string, obj: Org) => {
      const name = obj.metadata?.name ?? "";
      if (!isReady(obj) || ready.has(name)) return;
      ready.add(name);
      waiting.get(name)?.();
      waiting.delete(name);
    },
    (err: unknown) => {
      if (err !== null && err !== undefined && (err as Error).name !== "AbortError")
        process.stderr.write(`watch ended: ${(err as Error).message}\n`);
    },
  );
  const readyOf = (name: string): Promise<void> =>
    ready.has(name) ? Promise.resolve() : new Promise((resolve) => waiting.set(name, resolve));

  try {
    // Warm-up: JIT, TLS sessions, the first tenants' code paths.
    for (let i = 0; i < 5; i++) {
      const done = readyOf(`warm${i}`);
      await api.request("POST", orgsPath, organization(`warm${i}`));
      await done;
    }

    const latencies: number[] = [];
    const seqCpu = process.cpuUsage();
    for (let i = 0; i < samples; i++) {
      const name = `seq${i}`;
      const done = readyOf(name);
      const started = performance.now();
      await api.request("POST", orgsPath, organization(name));
      await done;
      latencies.push(performance.now() - started);
    }
    const seqCpuMs = cpuMs(process.cpuUsage(seqCpu)) / samples;
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);

    const names = Array.from({ length: burst }, (_, i) => `burst${i}`);
    const allReady = Promise.all(names.map(readyOf));
    const burstCpu = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: createConcurrency }, async () => {
        while (next < names.length) await api.request("POST", orgsPath, organization(names[next++]!));
      }),
    );
    const createdMs = performance.now() - started;
    await allReady;
    const seconds = (performance.now() - started) / 1000;
    const burstCpuMs = cpuMs(process.cpuUsage(burstCpu)) / burst;
    const rate = burst / seconds;

    const mark = (ok: boolean): string => (ok ? "meets" : "MISSES");
    process.stdout.write(
      `storage: ${etcd !== undefined ? "etcd" : "embedded"}\n` +
        `apply → Ready, ${samples} one at a time: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms ` +
        `(${mark(p99 <= goals.p99Ms)} the goal p99 ≤ ${goals.p99Ms} ms); ` +
        `CPU ${seqCpuMs.toFixed(1)} ms per Organization\n` +
        `${burst} at once: all created in ${(createdMs / 1000).toFixed(1)} s, all Ready in ${seconds.toFixed(1)} s: ` +
        `${rate.toFixed(1)} Organizations/s (${mark(rate >= goals.perSecond)} the goal ≥ ${goals.perSecond}/s); ` +
        `CPU ${burstCpuMs.toFixed(1)} ms per Organization\n`,
    );
  } finally {
    watch.abort();
    api.close();
    await mp.stop();
    await etcd?.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
