// A real etcd server as a child process on free loopback ports, for benchmarks and
// backend tests that need to kill and restart it. Fails loudly when etcd is missing.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const etcdBinary = process.env["MULTIPLANE_ETCD_BINARY"] ?? "/usr/bin/etcd";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface EtcdProcess {
  readonly endpoint: string;
  readonly dataDir: string;
  /** The etcd process's id while it runs (benchmarks read its CPU time). */
  pid(): number | undefined;
  /** Kills etcd with SIGKILL (no clean shutdown). */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data directory. */
  start(): Promise<void>;
  /** Kills etcd and removes its data. */
  destroy(): Promise<void>;
}

export interface EtcdProcessOptions {
  /** etcd's --experimental-watch-progress-notify-interval, e.g. "1s". */
  progressNotifyInterval?: string;
}

export async function startEtcdProcess(opts: EtcdProcessOptions = {}): Promise<EtcdProcess> {
  if (!existsSync(etcdBinary)) {
    throw new Error(
      `etcd not found at ${etcdBinary}: run "bash hack/install-deps.sh" (or set MULTIPLANE_ETCD_BINARY)`,
    );
  }
  const dataDir = await mkdtemp(join(tmpdir(), "multiplane-etcd-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name=bench",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=bench=${peer}`,
    "--log-level=error",
    ...(opts.progressNotifyInterval
      ? [`--experimental-watch-progress-notify-interval=${opts.progressNotifyInterval}`]
      : []),
  ];
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn(etcdBinary, args, { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}: ${stderr}`);
      try {
        const res = await fetch(`${endpoint}/health`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
  };

  await start();
  return {
    endpoint,
    dataDir,
    pid: () => child?.pid,
    kill,
    start,
    destroy: async () => {
      await kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
