// Tenants from ControlPlane objects, through the real kubectl: a ControlPlane in the root tenant
// becomes Ready and its tenant is served at /clusters/<tenant> (an organization `acme`, a project
// `acme.web` as the tenant `acme:web`); a change of policy takes effect without a restart (and
// reaches the organization's projects); deleting a ControlPlane refuses the tenant's requests,
// stops its instance and wipes its key prefix before the object goes; re-creating it yields an
// empty tenant; a tenant no ControlPlane names is a 404 Status.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import YAML from "yaml";
import { generateCA, issueCertificate, type CertKeyPair } from "../../apiserver/src/server/pki.ts";
import { tenantPrefix } from "../../apiserver/src/storage/keys.ts";
import { rawRequest } from "../support/https.ts";
import {
  startMultiplane,
  type KubectlOptions,
  type KubectlOutcome,
  type TestMultiplane,
} from "../support/multiplane.ts";
import { eventually } from "../support/eventually.ts";

const dev = { token: "cp-dev-token-0123456789abcdef", name: "dev" };

let mp: TestMultiplane;
let ca: CertKeyPair;
let sarServer: Server;
let sarURL: string;
let caPem: string;
let adminToken: string;

before(async () => {
  ca = await generateCA("controlplane-test-ca");
  const serving = await issueCertificate(ca, { commonName: "sar", hosts: ["127.0.0.1"], usage: "server" });
  // Allows reading configmaps to `dev`; no opinion otherwise.
  sarServer = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const review = JSON.parse(Buffer.concat(chunks).toString()) as {
        spec: { user: string; resourceAttributes?: { verb: string; resource: string } };
      };
      const a = review.spec.resourceAttributes;
      const allowed = review.spec.user === dev.name && a?.resource === "configmaps" && a.verb === "list";
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({ ...review, status: allowed ? { allowed, reason: "dev reads" } : { allowed } }),
      );
    });
  });
  await new Promise<void>((r) => sarServer.listen(0, "127.0.0.1", r));
  sarURL = `https://127.0.0.1:${(sarServer.address() as AddressInfo).port}`;
  mp = await startMultiplane({ users: [dev] });
  const kubeconfig = YAML.parse(
    await (await import("node:fs/promises")).readFile(mp.kubeconfigPath, "utf8"),
  ) as {
    clusters: { cluster: { "certificate-authority-data": string } }[];
    users: { user: { token: string } }[];
  };
  caPem = Buffer.from(kubeconfig.clusters[0]!.cluster["certificate-authority-data"], "base64").toString();
  adminToken = kubeconfig.users[0]!.user.token;
});
after(async () => {
  await mp?.destroy();
  await new Promise((r) => sarServer?.close(r));
});

/** Polls `check` until it returns true (or fails the test after 10,000 ms). */

const outcome = (args: readonly string[], opts: KubectlOptions = {}): Promise<KubectlOutcome> =>
  mp.kubectlOutcome(args, opts);

const controlPlane = (name: string, spec: Record<string, unknown>): string =>
  YAML.stringify({
    apiVersion: "core.multiplane.dev/v1alpha1",
    kind: "ControlPlane",
    metadata: { name },
    spec,
  });

interface CP {
  metadata: { uid: string; finalizers?: string[]; generation: number; deletionTimestamp?: string };
  status?: {
    phase?: string;
    shard?: string;
    endpoint?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string }[];
  };
}
const getCP = async (name: string): Promise<CP> =>
  JSON.parse(await mp.kubectl(["get", "controlplane", name, "-o", "json"])) as CP;

async function waitReady(name: string): Promise<CP> {
  let cp: CP | undefined;
  await eventually(`ControlPlane ${name} Ready`, async () => {
    cp = await getCP(name);
    return cp.status?.phase === "Ready" && cp.status.observedGeneration === cp.metadata.generation;
  });
  return cp!;
}

async function waitGone(name: string): Promise<void> {
  await eventually(`ControlPlane ${name} gone`, async () => {
    const r = await outcome(["get", "controlplane", name]);
    return !r.ok && r.stderr.includes("NotFound");
  });
}

describe("ControlPlanes", () => {
  let acmeUID = "";

  test("the CRD is installed at boot and Established, with its short name and printer columns", async () => {
    const crd = JSON.parse(
      await mp.kubectl(["get", "crd", "controlplanes.core.multiplane.dev", "-o", "json"]),
    ) as {
      status: { conditions: { type: string; status: string }[]; acceptedNames: { shortNames: string[] } };
    };
    assert.ok(crd.status.conditions.some((c) => c.type === "Established" && c.status === "True"));
    assert.deepEqual(crd.status.acceptedNames.shortNames, ["cp"]);
    assert.equal(await mp.kubectl(["get", "cp", "-o", "name"]), "");
  });

  test("an organization's ControlPlane turns Ready and its tenant is served at /clusters/acme", async () => {
    const started = Date.now();
    await mp.kubectl(["apply", "-f", "-"], { input: controlPlane("acme", { organization: "acme" }) });
    const cp = await waitReady("acme");
    assert.ok(Date.now() - started < 5_000, "Ready within 5 s");
    acmeUID = cp.metadata.uid;
    assert.equal(cp.status?.shard, "local");
    assert.equal(cp.status?.endpoint, `${mp.url}/clusters/acme`);
    assert.deepEqual(cp.metadata.finalizers, ["core.multiplane.dev/teardown"]);
    assert.ok(cp.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    assert.equal(mp.tenants.lookup("acme")?.uid, acmeUID);
    // The router's view (TenantDirectory).
    assert.deepEqual(mp.registry.lookup("acme"), {
      name: "acme",
      uid: acmeUID,
      phase: "Ready",
      shard: "local",
      policy: {},
    });
    assert.equal(mp.registry.shardURL("local"), mp.shardURL);
    assert.equal(mp.registry.lookup("nope"), undefined);
    assert.equal(mp.registry.lookup("acme.web"), undefined);

    const namespaces = await mp.kubectl(["get", "ns", "-o", "name"], {
      kubeconfig: await mp.tenantKubeconfig("acme"),
    });
    assert.deepEqual(namespaces.trim().split("\n").sort(), [
      "namespace/default",
      "namespace/kube-node-lease",
      "namespace/kube-public",
      "namespace/kube-system",
    ]);
    const table = await mp.kubectl(["get", "cp", "acme"]);
    assert.match(table, /^NAME\s+PHASE\s+SHARD\s+AGE\n/);
    assert.match(table, /\nacme\s+Ready\s+local\s+\d+s\n/);
  });

  test("a project acme.web is the tenant acme:web, apart from its organization", async () => {
    await mp.kubectl(["apply", "-f", "-"], {
      input: controlPlane("acme.web", { organization: "acme", project: "web" }),
    });
    const cp = await waitReady("acme.web");
    assert.equal(cp.status?.endpoint, `${mp.url}/clusters/acme:web`);
    await mp.kubectl(["create", "configmap", "web-only", "-n", "default"], { tenant: "acme:web" });
    assert.match(await mp.kubectl(["get", "cm", "-n", "default"], { tenant: "acme:web" }), /web-only/);
    const atOrg = await outcome(["get", "cm", "web-only", "-n", "default"], { tenant: "acme" });
    assert.equal(atOrg.ok, false);
    assert.match(atOrg.stderr, /NotFound/);
  });

  test("names and immutable fields are checked by the CRD's rules", async () => {
    const wrongName = await outcome(["apply", "-f", "-"], {
      input: controlPlane("beta", { organization: "acme" }),
    });
    assert.equal(wrongName.ok, false);
    assert.match(wrongName.stderr, /metadata.name must be <organization> or <organization>.<project>/);
    const reserved = await outcome(["apply", "-f", "-"], {
      input: controlPlane("root", { organization: "root" }),
    });
    assert.equal(reserved.ok, false);
    assert.match(reserved.stderr, /organization "root" is reserved/);
    const colon = await outcome(["apply", "-f", "-"], {
      input: controlPlane("acme:x", { organization: "acme" }),
    });
    assert.equal(colon.ok, false);
    const moved = await outcome([
      "patch",
      "cp",
      "acme.web",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { project: "other" } }),
    ]);
    assert.equal(moved.ok, false);
    assert.match(moved.stderr, /project is immutable/);
  });

  test("a policy change takes effect on the next request, and reaches the organization's projects", async () => {
    const before = await outcome(["get", "cm", "-n", "default"], { tenant: "acme", token: dev.token });
    assert.equal(before.ok, false);
    assert.match(before.stderr, /User "dev" cannot list resource "configmaps"/);
    // A watch open on the tenant's old instance ends when the instance is rebuilt (kubectl exits).
    const watch = mp.kubectl(["get", "cm", "-n", "default", "-w"], { tenant: "acme" });
    await eventually("the watch is open", () => Promise.resolve(mp.tenants.activeTenants().includes("acme")));
    await new Promise((r) => setTimeout(r, 500));
    await mp.kubectl([
      "patch",
      "cp",
      "acme",
      "--type=merge",
      "-p",
      JSON.stringify({
        spec: {
          policy: {
            authorization: {
              webhook: { url: `${sarURL}/authorize`, caBundle: Buffer.from(ca.certPem).toString("base64") },
            },
          },
        },
      }),
    ]);
    await eventually("dev may list configmaps at acme", async () => {
      return (await outcome(["get", "cm", "-n", "default"], { tenant: "acme", token: dev.token })).ok;
    });
    const ended = await Promise.race([
      watch.then(() => "ended"),
      new Promise((r) => setTimeout(() => r("still open"), 10_000)),
    ]);
    assert.equal(ended, "ended");
    // Writes are still RBAC's (the webhook has no opinion).
    const write = await outcome(["create", "cm", "x", "-n", "default"], { tenant: "acme", token: dev.token });
    assert.equal(write.ok, false);
    assert.match(write.stderr, /User "dev" cannot create resource "configmaps"/);
    // The project inherits its organization's webhook.
    await eventually("dev may list configmaps at acme:web", async () => {
      return (await outcome(["get", "cm", "-n", "default"], { tenant: "acme:web", token: dev.token })).ok;
    });
    assert.equal((await waitReady("acme")).status?.observedGeneration, 2);
    // Nothing of the root tenant changed.
    const atRoot = await outcome(["get", "cm", "-n", "default"], { token: dev.token });
    assert.equal(atRoot.ok, false);
  });

  test("a tenant no ControlPlane names answers a 404 Status", async () => {
    const r = await rawRequest(mp.url, caPem, "/clusters/nope/api/v1/namespaces", {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(r.status, 404);
    const status = JSON.parse(r.body) as { kind: string; reason: string; message: string };
    assert.equal(status.kind, "Status");
    assert.equal(status.reason, "NotFound");
    assert.equal(status.message, 'tenants "nope" not found');
  });

  test("deleting a project wipes its prefix before it goes, and drops its metrics series", async () => {
    const uid = (await getCP("acme.web")).metadata.uid;
    const metrics = async (): Promise<string> => {
      const r = await rawRequest(mp.url, caPem, "/metrics", {
        headers: { Authorization: `Bearer ${adminToken}` },
      });
      assert.equal(r.status, 200);
      return r.body;
    };
    const series = /^multiplane_tenant_requests_total\{tenant="acme:web"\} \d+$/m;
    await mp.kubectl(["get", "ns"], { tenant: "acme:web" });
    assert.match(await metrics(), series);
    await mp.kubectl(["delete", "cp", "acme.web", "--wait=false"]);
    await waitGone("acme.web");
    assert.equal((await mp.storage.list(tenantPrefix({ uid }))).items.length, 0);
    await eventually("the tenant is unregistered", () =>
      Promise.resolve(mp.tenants.lookup("acme:web") === undefined),
    );
    assert.ok(!mp.tenants.activeTenants().includes("acme:web"));
    assert.doesNotMatch(await metrics(), /tenant="acme:web"/);
    const r = await rawRequest(mp.url, caPem, "/clusters/acme:web/api/v1/namespaces", {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(r.status, 404);
  });

  test("deleting an organization: Terminating, requests refused, instance stopped, prefix wiped, then gone", async () => {
    await mp.kubectl(["create", "configmap", "keep", "-n", "default", "--from-literal=a=b"], {
      tenant: "acme",
    });
    assert.ok((await mp.storage.list(tenantPrefix({ uid: acmeUID }))).items.length > 0);
    assert.ok(mp.tenants.activeTenants().includes("acme"));
    // A second finalizer holds the object after the registry's teardown, so its state can be seen.
    await mp.kubectl([
      "patch",
      "cp",
      "acme",
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":["core.multiplane.dev/teardown","test.multiplane.dev/hold"]}}',
    ]);
    await mp.kubectl(["delete", "cp", "acme", "--wait=false"]);
    await eventually("the registry's teardown is done", async () => {
      const cp = await getCP("acme");
      return (
        cp.status?.phase === "Terminating" &&
        !(cp.metadata.finalizers ?? []).includes("core.multiplane.dev/teardown")
      );
    });
    assert.equal((await mp.storage.list(tenantPrefix({ uid: acmeUID }))).items.length, 0);
    assert.ok(!mp.tenants.activeTenants().includes("acme"));
    assert.equal(mp.registry.lookup("acme")?.phase, "Terminating");

    // The router refuses it (503, no Retry-After); the shard behind it as kube's NamespaceLifecycle.
    const write = await outcome(["create", "configmap", "late", "-n", "default"], { tenant: "acme" });
    assert.equal(write.ok, false);
    assert.match(write.stderr, /tenant "acme" is being deleted/);
    const atShard = await rawRequest(
      mp.shardURL,
      caPem,
      "/clusters/acme/api/v1/namespaces/default/configmaps",
      {
        method: "POST",
        headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late" } }),
      },
    );
    assert.equal(atShard.status, 403);
    assert.match(
      atShard.body,
      /configmaps is forbidden: unable to create new content in tenant acme because it is being terminated/,
    );
    const read = await rawRequest(mp.shardURL, caPem, "/clusters/acme/api/v1/namespaces", {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(read.status, 403);
    assert.match(read.body, /tenant acme is being terminated/);
    const routed = await rawRequest(mp.url, caPem, "/clusters/acme/api/v1/namespaces", {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(routed.status, 503);
    assert.equal(routed.headers["retry-after"], undefined);
    // Refused requests build nothing: the prefix stays empty and no instance appears.
    assert.equal((await mp.storage.list(tenantPrefix({ uid: acmeUID }))).items.length, 0);
    assert.ok(!mp.tenants.activeTenants().includes("acme"));

    await mp.kubectl([
      "patch",
      "cp",
      "acme",
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
    await waitGone("acme");
    await eventually("the tenant is unregistered", () =>
      Promise.resolve(mp.tenants.lookup("acme") === undefined),
    );
    const gone = await rawRequest(mp.url, caPem, "/clusters/acme/api/v1/namespaces", {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(gone.status, 404);
  });

  test("re-creating acme yields an empty control plane under a new UID", async () => {
    await mp.kubectl(["apply", "-f", "-"], { input: controlPlane("acme", { organization: "acme" }) });
    const cp = await waitReady("acme");
    assert.notEqual(cp.metadata.uid, acmeUID);
    assert.equal(mp.registry.lookup("acme")?.uid, cp.metadata.uid);
    const old = await outcome(["get", "cm", "keep", "-n", "default"], { tenant: "acme" });
    assert.equal(old.ok, false);
    assert.match(old.stderr, /NotFound/);
    assert.match(await mp.kubectl(["get", "ns", "default"], { tenant: "acme" }), /default\s+Active/);
    // The old policy went with the old ControlPlane.
    const r = await outcome(["get", "cm", "-n", "default"], { tenant: "acme", token: dev.token });
    assert.equal(r.ok, false);
  });
});
