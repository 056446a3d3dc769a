// The multi-process topology on real etcd (testcontainers): two `multiplane apiserver` shards
// and one `multiplane router --root-url` as separate child processes sharing a data directory.
// Tenants are made from ControlPlane objects through the router's root tenant, placed across
// both shards (least-loaded), driven with the real kubectl through the router; one shard is
// killed and its tenants move to the other (its lease expires) and work again through the
// router with their data; deleted tenants leave no key in etcd and are a 404 at the router.

import assert from "node:assert/strict";
import { spawn, type ChildProcess, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { Etcd3 } from "etcd3";
import YAML from "yaml";
import { JwtKeySet } from "../../apiserver/src/authn/index.ts";
import { ensureRouterPKI, type RouterPKI } from "../../apiserver/src/router/index.ts";
import { buildKubeconfig } from "../../apiserver/src/server/kubeconfig.ts";
import { tenantPrefix } from "../../apiserver/src/storage/keys.ts";
import { startEtcdContainer, type EtcdContainer } from "../support/etcd-container.ts";
import { rawRequest } from "../support/https.ts";
import { kubectlBinary } from "../support/multiplane.ts";
import { eventually as eventuallyHolds } from "../support/eventually.ts";

const run = promisify(execFile);
const cli = join(import.meta.dirname, "..", "..", "bin", "multiplane.mjs");
const issuer = "https://multiplane.test";
const tenants = ["t1", "t2", "t3", "t4"] as const;

interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** The URL the process printed it serves at. */
  readonly url: string;
  /** The last lines of its stderr, for failure messages. */
  readonly logs: () => string;
}

let etcd: EtcdContainer;
let etcdClient: Etcd3;
let dataDir: string;
let pki: RouterPKI;
let adminToken: string;
const shards = new Map<string, Child>();
let router: Child;

/** Starts `multiplane <args>` and resolves with the URL from its first line matching `pattern`. */
function startProcess(name: string, args: readonly string[], pattern: RegExp): Promise<Child> {
  const proc = spawn(process.execPath, ["--import", "tsx", cli, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8_000)));
  return new Promise<Child>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${stderr}`)), 60_000);
    proc.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = pattern.exec(stdout);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ name, proc, url: m[1]!, logs: () => stderr });
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${stderr}`));
    });
  });
}

const startShard = (shard: string): Promise<Child> =>
  startProcess(
    `shard ${shard}`,
    [
      "apiserver",
      "--shard",
      shard,
      "--etcd-endpoints",
      etcd.endpoint,
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--service-account-issuer",
      issuer,
      // Shorter than the default 10 s, so that the test of a dead shard stays short.
      "--shard-lease-duration",
      "4s",
    ],
    /is serving at (https:\/\/\S+)/,
  );

async function stopProcess(child: Child | undefined): Promise<void> {
  if (child === undefined || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise((r) => child.proc.once("exit", r));
  child.proc.kill("SIGTERM");
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Waits for `check`, failing with the processes' last log lines. */
const eventually = (what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> =>
  eventuallyHolds(what, check, {
    timeoutMs,
    intervalMs: 100,
    context: () =>
      [...shards.values(), router].map((c) => `--- ${c.name}\n${c.logs().slice(-2_000)}`).join("\n"),
  });

/** The real kubectl at `tenant` (root when absent) through the router, as admin. */
async function kubectl(
  args: readonly string[],
  opts: { tenant?: string; input?: string } = {},
): Promise<string> {
  const name = opts.tenant ?? "root";
  const path = join(dataDir, `${name}.kubeconfig`);
  await writeFile(
    path,
    buildKubeconfig({
      name,
      server: opts.tenant === undefined ? router.url : `${router.url}/clusters/${opts.tenant}`,
      caPem: pki.caPem,
      token: adminToken,
      user: "admin",
    }),
  );
  const child = run(kubectlBinary, ["--kubeconfig", path, ...args], {
    env: { ...process.env, HOME: dataDir },
    timeout: 60_000,
  });
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  try {
    return (await child).stdout;
  } catch (err) {
    throw new Error(`kubectl ${args.join(" ")}: ${(err as { stderr?: string }).stderr ?? String(err)}`, {
      cause: err,
    });
  }
}

interface CP {
  metadata: { name: string; uid: string };
  status?: { phase?: string; shard?: string };
}

async function controlPlanes(): Promise<Map<string, CP>> {
  const list = JSON.parse(await kubectl(["get", "controlplanes", "-o", "json"])) as { items: CP[] };
  return new Map(list.items.map((cp) => [cp.metadata.name, cp]));
}

before(async () => {
  etcd = await startEtcdContainer();
  etcdClient = new Etcd3({ hosts: etcd.endpoint });
  dataDir = await mkdtemp(join(tmpdir(), "multiplane-shards-"));
  // What the processes share, made once before any starts (they would race to create it).
  pki = await ensureRouterPKI(join(dataDir, "pki"), ["127.0.0.1"]);
  await JwtKeySet.load(join(dataDir, "jwt"));
  adminToken = randomBytes(24).toString("base64url");
  await writeFile(join(dataDir, "tokens.csv"), `${adminToken},admin,admin,"system:masters"\n`, {
    mode: 0o600,
  });
  const [a, b] = await Promise.all([startShard("a"), startShard("b")]);
  shards.set("a", a);
  shards.set("b", b);
  router = await startProcess(
    "router",
    [
      "router",
      "--root-url",
      `${a.url},${b.url}`,
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--service-account-issuer",
      issuer,
    ],
    /serving at (https:\/\/\S+)/,
  );
  await eventually("the router is ready", async () => {
    const r = await rawRequest(router.url, pki.caPem, "/readyz");
    return r.status === 200;
  });
});

after(async () => {
  await Promise.all([stopProcess(router), ...[...shards.values()].map(stopProcess)]);
  etcdClient?.close();
  await etcd?.stop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe("two shards and a router as separate processes", () => {
  const uids = new Map<string, string>();

  test("ControlPlanes created through the router are placed across both shards and turn Ready", async () => {
    await kubectl(["apply", "-f", "-"], {
      input: tenants
        .map((t) =>
          YAML.stringify({
            apiVersion: "core.multiplane.dev/v1alpha1",
            kind: "ControlPlane",
            metadata: { name: t },
            spec: { organization: t },
          }),
        )
        .join("---\n"),
    });
    await eventually("every ControlPlane Ready", async () => {
      const cps = await controlPlanes();
      return tenants.every((t) => cps.get(t)?.status?.phase === "Ready");
    });
    const cps = await controlPlanes();
    const perShard = new Map<string, number>();
    for (const t of tenants) {
      const cp = cps.get(t)!;
      uids.set(t, cp.metadata.uid);
      perShard.set(cp.status!.shard!, (perShard.get(cp.status!.shard!) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(perShard), { a: 2, b: 2 });
  });

  test("kubectl drives every tenant through the router; a shard answers 404 for a tenant not placed on it", async () => {
    for (const t of tenants) {
      await kubectl(["create", "configmap", "marker", `--from-literal=tenant=${t}`], { tenant: t });
      const data = JSON.parse(await kubectl(["get", "configmap", "marker", "-o", "json"], { tenant: t })) as {
        data: { tenant: string };
      };
      assert.equal(data.data.tenant, t);
    }
    const cps = await controlPlanes();
    const onA = tenants.find((t) => cps.get(t)?.status?.shard === "a")!;
    const r = await rawRequest(shards.get("b")!.url, pki.caPem, `/clusters/${onA}/api/v1/namespaces`, {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(r.status, 404, r.body);
    const status = JSON.parse(r.body) as { reason: string; details: { name: string; kind: string } };
    assert.equal(status.reason, "NotFound");
    assert.deepEqual([status.details.name, status.details.kind], [onA, "tenants"]);
  });

  test("a killed shard's tenants move to the other and work again through the router", async () => {
    const before = await controlPlanes();
    const moved = tenants.filter((t) => before.get(t)?.status?.shard === "a");
    assert.equal(moved.length, 2);
    const a = shards.get("a")!;
    const exited = new Promise((r) => a.proc.once("exit", r));
    a.proc.kill("SIGKILL");
    await exited;
    await eventually("every ControlPlane Ready on shard b", async () => {
      const cps = await controlPlanes();
      return tenants.every((t) => cps.get(t)?.status?.phase === "Ready" && cps.get(t)?.status?.shard === "b");
    });
    for (const t of moved) {
      const cm = JSON.parse(await kubectl(["get", "configmap", "marker", "-o", "json"], { tenant: t })) as {
        data: { tenant: string };
      };
      assert.equal(cm.data.tenant, t, "the tenant's data is where it was (shared etcd)");
      await kubectl(["create", "namespace", "after-move"], { tenant: t });
    }
  });

  test("deleted tenants leave nothing in etcd and are a 404 at the router", async () => {
    await kubectl(["delete", "controlplanes", ...tenants, "--wait=true"]);
    for (const t of tenants) {
      const keys = await etcdClient
        .getAll()
        .prefix(tenantPrefix({ uid: uids.get(t)! }))
        .keys();
      assert.deepEqual(keys, [], `tenant ${t}'s prefix is empty`);
      await eventually(
        `tenant ${t} is a 404 at the router`,
        async () => {
          const r = await rawRequest(router.url, pki.caPem, `/clusters/${t}/api/v1/namespaces`, {
            headers: { Authorization: `Bearer ${adminToken}` },
          });
          const status = JSON.parse(r.body) as { reason: string; code: number };
          return r.status === 404 && status.reason === "NotFound" && status.code === 404;
        },
        1_000,
      );
    }
  });
});
