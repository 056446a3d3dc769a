// `multiplane operator` against a host that is not Multiplane's root: the host is another
// control plane (here a tenant `hostcluster`, reached only through its kubeconfig, with the CRDs
// of crds/ applied by kubectl as on any Kubernetes cluster), while ControlPlanes go to the root.
// An Organization applied in the host becomes Ready, its namespace, owners' RBAC and
// kubeconfig Secret are in the host, and its ControlPlane is in the root; nothing of it lands
// in the root's own namespaces. Deleting it cleans up both.

import { KubeConfig } from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import pino from "pino";
import YAML from "yaml";
import { ApiClient, discoverIssuer, loadIssuer, mintTenantToken } from "../../operator/src/kube/index.ts";
import { startOperator, type RunningOperator } from "../../operator/src/operator.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

const crdsDir = fileURLToPath(new URL("../../crds/", import.meta.url));

let mp: TestMultiplane;
let operator: RunningOperator | undefined;
let hostKubeconfig = "";

before(async () => {
  mp = await startMultiplane({ operator: false });
  // The host: a tenant of its own, its admin a system:masters user of a minted tenant token.
  await mp.kubectl(["apply", "-f", "-"], {
    input: YAML.stringify({
      apiVersion: "core.multiplane.dev/v1alpha1",
      kind: "ControlPlane",
      metadata: { name: "hostcluster" },
      spec: { organization: "hostcluster" },
    }),
  });
  await mp.kubectl(["wait", "--for=jsonpath={.status.phase}=Ready", "cp/hostcluster", "--timeout=30s"]);
  const rootKc = new KubeConfig();
  rootKc.loadFromFile(mp.kubeconfigPath);
  const root = new ApiClient(rootKc);
  const cp = (await root.get<{ metadata: { uid: string }; status: { endpoint: string } }>(
    "/apis/core.multiplane.dev/v1alpha1/controlplanes/hostcluster",
  ))!;
  const issuer = await loadIssuer(mp.dataDir, await discoverIssuer(root));
  root.close();
  const token = await mintTenantToken(
    issuer,
    { name: "hostcluster", uid: cp.metadata.uid },
    { name: "host-admin", groups: ["system:masters"] },
    3600,
  );
  const doc = YAML.parse(await readFile(mp.kubeconfigPath, "utf8")) as {
    clusters: { cluster: { server: string } }[];
    users: { user: { token: string } }[];
  };
  doc.clusters[0]!.cluster.server = cp.status.endpoint;
  doc.users[0]!.user.token = token;
  hostKubeconfig = join(mp.dataDir, "host.kubeconfig");
  await writeFile(hostKubeconfig, YAML.stringify(doc), { mode: 0o600 });
  await mp.kubectl(["apply", "-f", crdsDir], { kubeconfig: hostKubeconfig });
  await mp.kubectl(
    ["wait", "--for=condition=Established", "crd/organizations.tenancy.multiplane.dev", "--timeout=30s"],
    { kubeconfig: hostKubeconfig },
  );
  const hostKc = new KubeConfig();
  hostKc.loadFromFile(hostKubeconfig);
  operator = await startOperator({
    host: hostKc,
    multiplane: rootKc,
    dataDir: mp.dataDir,
    routerURL: mp.url,
    log: pino({ level: "warn" }),
  });
});
after(async () => {
  await operator?.stop();
  await mp?.destroy();
});

test("an Organization in a host cluster: Secret and RBAC in the host, ControlPlane in the root", async () => {
  const host = { kubeconfig: hostKubeconfig };
  await mp.kubectl(["apply", "-f", "-"], {
    ...host,
    input: YAML.stringify({
      apiVersion: "tenancy.multiplane.dev/v1alpha1",
      kind: "Organization",
      metadata: { name: "initech" },
      spec: { owners: [{ kind: "Group", name: "initech-admins" }] },
    }),
  });
  await mp.kubectl(["wait", "--for=condition=Ready", "org/initech", "--timeout=60s"], host);
  // The kubeconfig names the router URL given to the operator.
  const endpoint = await mp.kubectl(["get", "org", "initech", "-o", "jsonpath={.status.endpoint}"], host);
  assert.equal(endpoint, `${mp.url}/clusters/initech`);
  const b64 = await mp.kubectl(
    ["get", "secret", "-n", "org-initech", "initech-kubeconfig", "-o", "jsonpath={.data.kubeconfig}"],
    host,
  );
  const path = join(mp.dataDir, "initech.kubeconfig");
  await writeFile(path, Buffer.from(b64, "base64"), { mode: 0o600 });
  await mp.kubectl(["create", "namespace", "payroll"], { kubeconfig: path });
  assert.match(
    await mp.kubectl(
      ["get", "clusterrolebinding", "multiplane:owners", "-o", "jsonpath={.subjects[*].name}"],
      {
        kubeconfig: path,
      },
    ),
    /initech-admins/,
  );
  assert.match(
    await mp.kubectl(["get", "rolebindings", "-n", "org-initech"], host),
    /multiplane:organization-owner/,
  );
  // The root holds the ControlPlane only: no namespace, no Secret of the organization.
  assert.match(await mp.kubectl(["get", "cp", "initech"]), /initech\s+Ready/);
  assert.match((await outcome(["get", "ns", "org-initech"])).stderr, /NotFound/);

  await mp.kubectl(["delete", "org", "initech", "--timeout=60s"], host);
  assert.match((await outcome(["get", "cp", "initech"])).stderr, /NotFound/);
  assert.match((await outcome(["get", "ns", "org-initech"], host)).stderr, /NotFound/);
  assert.equal((await outcome(["get", "ns"], { kubeconfig: path })).ok, false);
});

async function outcome(
  args: readonly string[],
  opts: { kubeconfig?: string } = {},
): Promise<{ ok: boolean; stderr: string }> {
  try {
    await mp.kubectl(args, opts);
    return { ok: true, stderr: "" };
  } catch (err) {
    return { ok: false, stderr: (err as { cause?: { stderr?: string } }).cause?.stderr ?? String(err) };
  }
}
