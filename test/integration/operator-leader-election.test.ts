// Two `multiplane operator --leader-elect` processes against one Multiplane: one leads and
// works, the other waits; the leader is killed (SIGKILL, no Lease release) while it reconciles
// 50 Organizations, the other takes over once the Lease expires, and all 50 become Ready with
// one ControlPlane each, none of them re-created.

import { KubeConfig } from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import YAML from "yaml";
import { ApiClient } from "../../operator/src/kube/api.client.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

const binary = fileURLToPath(new URL("../../bin/multiplane.mjs", import.meta.url));
const count = 50;

let mp: TestMultiplane;
let api: ApiClient;
const operators = new Map<number, ChildProcess>();

before(async () => {
  mp = await startMultiplane({ operator: false });
  const kc = new KubeConfig();
  kc.loadFromFile(mp.kubeconfigPath);
  api = new ApiClient(kc);
});
after(async () => {
  for (const child of operators.values()) child.kill("SIGKILL");
  api?.close();
  await mp?.destroy();
});

function startOperatorProcess(): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      binary,
      "operator",
      "--kubeconfig",
      mp.kubeconfigPath,
      "--multiplane-kubeconfig",
      mp.kubeconfigPath,
      "--data-dir",
      mp.dataDir,
      "--leader-elect",
      "--metrics-port",
      "0",
      "--quiet",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  operators.set(child.pid!, child);
  return child;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Listed<T> {
  items: T[];
}
interface Obj {
  metadata: { name: string; uid: string };
  status?: { conditions?: { type: string; status: string }[] };
}

const holder = async (): Promise<string | undefined> =>
  (
    await api.get<{ spec?: { holderIdentity?: string } }>(
      "/apis/coordination.k8s.io/v1/namespaces/multiplane-system/leases/multiplane-operator",
    )
  )?.spec?.holderIdentity || undefined;

const readyOrganizations = async (): Promise<number> =>
  (await api.request<Listed<Obj>>("GET", "/apis/tenancy.multiplane.dev/v1alpha1/organizations")).items.filter(
    (o) => o.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  ).length;

const controlPlanes = async (): Promise<Obj[]> =>
  (await api.request<Listed<Obj>>("GET", "/apis/core.multiplane.dev/v1alpha1/controlplanes")).items;

test("the leader is killed mid-reconcile of 50 Organizations; the other replica finishes them", async () => {
  const first = startOperatorProcess();
  const second = startOperatorProcess();
  const leader = await until("a leader", holder, 30_000);
  const [leaderPid] = [first, second].filter((c) => leader === `${hostname()}_${c.pid}`).map((c) => c.pid!);
  assert.ok(leaderPid !== undefined, `the Lease holder ${leader} is one of the two operators`);
  const follower = [first, second].find((c) => c.pid !== leaderPid)!;

  const docs = Array.from({ length: count }, (_, i) =>
    YAML.stringify({
      apiVersion: "tenancy.multiplane.dev/v1alpha1",
      kind: "Organization",
      metadata: { name: `org${i}` },
      spec: { owners: [{ kind: "User", name: `owner${i}` }] },
    }),
  ).join("---\n");
  await mp.kubectl(["apply", "-f", "-"], { input: docs });
  await until(
    "the first Organization Ready",
    async () => ((await readyOrganizations()) > 0 ? true : undefined),
    30_000,
  );
  operators.get(leaderPid)!.kill("SIGKILL");
  operators.delete(leaderPid);
  const readyAtKill = await readyOrganizations();
  const before = new Map((await controlPlanes()).map((cp) => [cp.metadata.name, cp.metadata.uid]));

  const killedAt = Date.now();
  await until(
    "the other replica leads",
    async () => ((await holder()) === `${hostname()}_${follower.pid}` ? true : undefined),
    30_000,
  );
  const takeoverMs = Date.now() - killedAt;
  await until(
    `all ${count} Organizations Ready`,
    async () => ((await readyOrganizations()) === count ? true : undefined),
    90_000,
  );

  const cps = await controlPlanes();
  assert.equal(cps.length, count, "one ControlPlane per Organization");
  for (const cp of cps) {
    if (before.has(cp.metadata.name))
      assert.equal(cp.metadata.uid, before.get(cp.metadata.name), `${cp.metadata.name} not re-created`);
  }
  process.stderr.write(
    `# ${readyAtKill}/${count} Ready when the leader was killed; takeover after ${takeoverMs} ms\n`,
  );
});
