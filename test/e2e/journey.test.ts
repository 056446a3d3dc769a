// The user's journey with the real kubectl against `multiplane up` (embedded store, and etcd):
// apply an Organization, wait for Ready, take the kubeconfig from its Secret, use a control
// plane of one's own (a CRD and its objects), create a Project and use its kubeconfig; a second
// organization sees none of it and its owner cannot read the first one's Secret in the host;
// changing the owners moves access (tenant and host) and revokes the kubeconfig handed out
// before; deleting the Organization kills its kubeconfigs at once and empties its storage.
// Owners reach the host as users of the token file and their tenants with tenant JWTs minted
// from the data directory's keys: the real authentication pipeline throughout.

import { KubeConfig } from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import YAML from "yaml";
import { tenantPrefix } from "../../apiserver/src/storage/keys.ts";
import { ApiClient, discoverIssuer, loadIssuer, mintTenantToken } from "../../operator/src/kube/index.ts";
import { startEtcdProcess, type EtcdProcess } from "../support/etcd-process.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

const alice = { token: "journey-alice-token-0123456789", name: "alice" };
const bob = { token: "journey-bob-token-0123456789ab", name: "bob" };
const carol = { token: "journey-carol-token-0123456789", name: "carol" };

/** Polls `check` until it returns true; fails with the last error after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(
    `${what}: not true after ${timeoutMs} ms${last instanceof Error ? ` (last: ${last.message})` : ""}`,
  );
}

const organization = (name: string, owners: readonly string[]): string =>
  YAML.stringify({
    apiVersion: "tenancy.multiplane.dev/v1alpha1",
    kind: "Organization",
    metadata: { name },
    spec: { displayName: name.toUpperCase(), owners: owners.map((o) => ({ kind: "User", name: o })) },
  });

const widgetsCRD = YAML.stringify({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
          },
        },
      },
    ],
  },
});

function journey(
  name: string,
  storage: () => Promise<{ etcdEndpoints?: string[]; cleanup?: () => Promise<void> }>,
): void {
  describe(name, () => {
    let mp: TestMultiplane;
    let cleanup: (() => Promise<void>) | undefined;
    let n = 0;

    before(async () => {
      const s = await storage();
      cleanup = s.cleanup;
      mp = await startMultiplane({
        users: [alice, bob, carol],
        ...(s.etcdEndpoints !== undefined ? { etcdEndpoints: s.etcdEndpoints } : {}),
      });
    });
    after(async () => {
      await mp?.destroy();
      await cleanup?.();
    });

    /** kubectl's outcome, failed or not. */
    const outcome = async (
      args: readonly string[],
      opts: { token?: string; kubeconfig?: string; input?: string } = {},
    ): Promise<{ ok: boolean; stdout: string; stderr: string }> => {
      try {
        return { ok: true, stdout: await mp.kubectl(args, opts), stderr: "" };
      } catch (err) {
        const cause = (err as { cause?: { stdout?: string; stderr?: string } }).cause;
        return { ok: false, stdout: cause?.stdout ?? "", stderr: cause?.stderr ?? String(err) };
      }
    };

    /** The Secret's kubeconfig, read by `as` (a token-file user of the host), written to a file. */
    const kubeconfigFromSecret = async (
      namespace: string,
      secret: string,
      as: { token: string },
    ): Promise<string> => {
      const b64 = await mp.kubectl(
        ["get", "secret", "-n", namespace, secret, "-o", "jsonpath={.data.kubeconfig}"],
        {
          token: as.token,
        },
      );
      const path = join(mp.dataDir, `${secret}-${++n}.kubeconfig`);
      await writeFile(path, Buffer.from(b64, "base64"), { mode: 0o600 });
      return path;
    };

    /** A kubeconfig for `user` (no groups) at `tenant`, with a tenant JWT minted from the data dir's keys. */
    const userKubeconfig = async (tenant: string, cpName: string, user: string): Promise<string> => {
      const kc = new KubeConfig();
      kc.loadFromFile(mp.kubeconfigPath);
      const root = new ApiClient(kc);
      const cp = await root.get<{ metadata: { uid: string }; status: { endpoint: string } }>(
        `/apis/core.multiplane.dev/v1alpha1/controlplanes/${cpName}`,
      );
      assert.ok(cp !== undefined, `ControlPlane ${cpName}`);
      const issuer = await loadIssuer(mp.dataDir, await discoverIssuer(root));
      root.close();
      const token = await mintTenantToken(
        issuer,
        { name: tenant, uid: cp.metadata.uid },
        { name: user, groups: [] },
        600,
      );
      const path = join(mp.dataDir, `${user}-${tenant.replace(":", "-")}-${++n}.kubeconfig`);
      const admin = await (await import("node:fs/promises")).readFile(mp.kubeconfigPath, "utf8");
      const doc = YAML.parse(admin) as {
        clusters: { cluster: { server: string } }[];
        users: { user: { token: string } }[];
      };
      doc.clusters[0]!.cluster.server = cp.status.endpoint;
      doc.users[0]!.user.token = token;
      await writeFile(path, YAML.stringify(doc), { mode: 0o600 });
      return path;
    };

    const uidOf = async (kind: string, name: string): Promise<string> =>
      (await mp.kubectl(["get", kind, name, "-o", "jsonpath={.metadata.uid}"])).trim();

    let acmeKubeconfig = "";
    let webKubeconfig = "";
    let globexKubeconfig = "";
    let acmeUID = "";
    let webUID = "";

    test("an Organization becomes Ready; kubectl get orgs shows it with its endpoint", async () => {
      await mp.kubectl(["apply", "-f", "-"], { input: organization("acme", ["alice"]) });
      await mp.kubectl(["wait", "--for=condition=Ready", "org/acme", "--timeout=60s"]);
      const table = await mp.kubectl(["get", "orgs"]);
      assert.match(table, /^NAME\s+READY\s+ENDPOINT\s+AGE\n/);
      assert.match(
        table,
        new RegExp(`\\nacme\\s+True\\s+${mp.url.replace(/[.]/g, "\\.")}/clusters/acme\\s+\\d+s\\n`),
      );
      const org = JSON.parse(await mp.kubectl(["get", "org", "acme", "-o", "json"])) as {
        metadata: { generation: number; finalizers: string[] };
        status: {
          observedGeneration: number;
          kubeconfigSecretRef: { name: string; namespace: string };
          conditions: { type: string; status: string; observedGeneration: number }[];
        };
      };
      assert.deepEqual(org.metadata.finalizers, ["tenancy.multiplane.dev/organization"]);
      assert.equal(org.status.observedGeneration, org.metadata.generation);
      assert.deepEqual(org.status.kubeconfigSecretRef, {
        name: "acme-kubeconfig",
        namespace: "org-acme",
        key: "kubeconfig",
      });
      for (const type of ["ControlPlaneReady", "KubeconfigReady", "Ready"]) {
        assert.ok(
          org.status.conditions.some(
            (c) => c.type === type && c.status === "True" && c.observedGeneration === 1,
          ),
          type,
        );
      }
      acmeUID = await uidOf("controlplane", "acme");
      const events = await mp.kubectl([
        "get",
        "events",
        "-n",
        "default",
        "--field-selector",
        "involvedObject.name=acme",
      ]);
      assert.match(events, /KubeconfigIssued/);
    });

    test("the owner reads the kubeconfig Secret and uses the tenant: a CRD and its objects", async () => {
      acmeKubeconfig = await kubeconfigFromSecret("org-acme", "acme-kubeconfig", alice);
      const opts = { kubeconfig: acmeKubeconfig };
      await mp.kubectl(["apply", "-f", "-"], { ...opts, input: widgetsCRD });
      await mp.kubectl(
        ["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s"],
        opts,
      );
      await mp.kubectl(["apply", "-f", "-"], {
        ...opts,
        input: YAML.stringify({
          apiVersion: "example.com/v1",
          kind: "Widget",
          metadata: { name: "w1", namespace: "default" },
          spec: { size: 3 },
        }),
      });
      assert.match(await mp.kubectl(["get", "widgets", "-n", "default"], opts), /\nw1\s/);
      assert.match(
        await mp.kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], opts),
        /^multiplane:admin$/,
      );
      // The root is not the tenant: nothing of acme's is there.
      assert.equal((await outcome(["get", "widgets", "-n", "default"])).ok, false);
    });

    test("an owner creates a Project in the organization's namespace and uses its kubeconfig", async () => {
      await mp.kubectl(["apply", "-f", "-"], {
        token: alice.token,
        input: YAML.stringify({
          apiVersion: "tenancy.multiplane.dev/v1alpha1",
          kind: "Project",
          metadata: { name: "web", namespace: "org-acme" },
          spec: { displayName: "Web" },
        }),
      });
      await mp.kubectl(["wait", "--for=condition=Ready", "proj/web", "-n", "org-acme", "--timeout=60s"]);
      assert.match(
        await mp.kubectl(["get", "proj", "-n", "org-acme"]),
        /\nweb\s+True\s+\S+\/clusters\/acme:web\s/,
      );
      webUID = await uidOf("controlplane", "acme.web");
      webKubeconfig = await kubeconfigFromSecret("org-acme", "acme-web-kubeconfig", alice);
      await mp.kubectl(["create", "configmap", "site", "-n", "default", "--from-literal=a=b"], {
        kubeconfig: webKubeconfig,
      });
      assert.match(
        await mp.kubectl(["get", "cm", "site", "-n", "default"], { kubeconfig: webKubeconfig }),
        /site/,
      );
      // Its own control plane: not the organization's CRD, and the organization holds no "site".
      assert.equal((await outcome(["get", "widgets"], { kubeconfig: webKubeconfig })).ok, false);
      assert.match(
        (await outcome(["get", "cm", "site", "-n", "default"], { kubeconfig: acmeKubeconfig })).stderr,
        /NotFound/,
      );
      // The organization's owners own the project's tenant too.
      const aliceAtWeb = await userKubeconfig("acme:web", "acme.web", "alice");
      assert.match(await mp.kubectl(["auth", "can-i", "*", "*"], { kubeconfig: aliceAtWeb }), /yes/);
    });

    test("a second organization sees none of it; its owner cannot read acme's Secret or Projects in the host", async () => {
      await mp.kubectl(["apply", "-f", "-"], { input: organization("globex", ["bob"]) });
      await mp.kubectl(["wait", "--for=condition=Ready", "org/globex", "--timeout=60s"]);
      globexKubeconfig = await kubeconfigFromSecret("org-globex", "globex-kubeconfig", bob);
      const g = { kubeconfig: globexKubeconfig };
      assert.equal((await outcome(["get", "widgets", "-A"], g)).ok, false);
      assert.doesNotMatch(await mp.kubectl(["get", "crd"], g), /widgets/);
      assert.doesNotMatch(await mp.kubectl(["get", "cm", "-A"], g), /site/);
      // In the host, bob's access ends at his own namespace.
      const secret = await outcome(["get", "secret", "-n", "org-acme", "acme-kubeconfig"], {
        token: bob.token,
      });
      assert.equal(secret.ok, false);
      assert.match(secret.stderr, /Forbidden/);
      assert.match(
        (await outcome(["get", "proj", "-n", "org-acme"], { token: bob.token })).stderr,
        /Forbidden/,
      );
      assert.match(
        (await outcome(["get", "secret", "-n", "org-globex"], { token: alice.token })).stderr,
        /Forbidden/,
      );
      assert.match((await outcome(["get", "orgs"], { token: bob.token })).stderr, /Forbidden/);
      assert.match((await outcome(["get", "cm", "-n", "default"], { token: bob.token })).stderr, /Forbidden/);
      // acme's kubeconfig is worthless at globex's URL (its token names acme).
      const acmeAtGlobex = (
        await (await import("node:fs/promises")).readFile(acmeKubeconfig, "utf8")
      ).replace("/clusters/acme", "/clusters/globex");
      const path = join(mp.dataDir, "acme-at-globex.kubeconfig");
      await writeFile(path, acmeAtGlobex);
      assert.match(
        (await outcome(["get", "ns"], { kubeconfig: path })).stderr,
        /Unauthorized|must be logged in/,
      );
    });

    test("`multiplane kubeconfig` prints an admin kubeconfig of a tenant; an unknown tenant is an error", async () => {
      const cli = (args: readonly string[]) =>
        run(process.execPath, [
          join(repoRoot, "bin/multiplane.mjs"),
          "kubeconfig",
          ...args,
          "--data-dir",
          mp.dataDir,
        ]);
      const { stdout } = await cli(["acme:web"]);
      const path = join(mp.dataDir, "cli-acme-web.kubeconfig");
      await writeFile(path, stdout, { mode: 0o600 });
      assert.match(await mp.kubectl(["get", "cm", "site", "-n", "default"], { kubeconfig: path }), /site/);
      assert.match(
        await mp.kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"], {
          kubeconfig: path,
        }),
        /system:masters/,
      );
      await assert.rejects(cli(["initech"]), (err: { code?: number; stderr?: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr ?? "", /tenant initech does not exist/);
        return true;
      });
    });

    test("changing the owners moves access in the tenant and the host, and revokes the old kubeconfig", async () => {
      const aliceAtAcme = await userKubeconfig("acme", "acme", "alice");
      const carolAtAcme = await userKubeconfig("acme", "acme", "carol");
      assert.match(await mp.kubectl(["auth", "can-i", "*", "*"], { kubeconfig: aliceAtAcme }), /yes/);
      assert.equal((await outcome(["get", "ns"], { kubeconfig: carolAtAcme })).ok, false);
      await mp.kubectl([
        "patch",
        "org",
        "acme",
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { owners: [{ kind: "User", name: "carol" }] } }),
      ]);
      await eventually("alice loses acme", async () =>
        /Forbidden/.test((await outcome(["get", "ns"], { kubeconfig: aliceAtAcme })).stderr),
      );
      await eventually(
        "carol gains acme",
        async () => (await outcome(["get", "ns"], { kubeconfig: carolAtAcme })).ok,
      );
      await eventually("alice loses acme's Secret in the host", async () =>
        /Forbidden/.test(
          (await outcome(["get", "secret", "-n", "org-acme", "acme-kubeconfig"], { token: alice.token }))
            .stderr,
        ),
      );
      // The kubeconfig handed out to the old owners no longer works; the Secret holds a new one.
      await eventually("the old kubeconfig is revoked", async () =>
        /Forbidden/.test((await outcome(["get", "ns"], { kubeconfig: acmeKubeconfig })).stderr),
      );
      await mp.kubectl(["wait", "--for=condition=Ready", "org/acme", "--timeout=60s"]);
      await eventually("carol's kubeconfig works", async () => {
        const fresh = await kubeconfigFromSecret("org-acme", "acme-kubeconfig", carol);
        return (await outcome(["get", "widgets", "-n", "default"], { kubeconfig: fresh })).ok;
      });
      acmeKubeconfig = await kubeconfigFromSecret("org-acme", "acme-kubeconfig", carol);
      // The project inherits: alice is out of acme:web too, carol is in.
      const aliceAtWeb = await userKubeconfig("acme:web", "acme.web", "alice");
      await eventually("alice loses acme:web", async () =>
        /Forbidden/.test((await outcome(["get", "ns"], { kubeconfig: aliceAtWeb })).stderr),
      );
      webKubeconfig = await kubeconfigFromSecret("org-acme", "acme-web-kubeconfig", carol);
    });

    test("deleting the Organization deletes its Project, kills its kubeconfigs and empties its storage", async () => {
      assert.ok((await mp.storage.list(tenantPrefix({ uid: acmeUID }))).items.length > 0);
      await mp.kubectl(["delete", "org", "acme", "--timeout=60s"]);
      for (const kubeconfig of [acmeKubeconfig, webKubeconfig]) {
        const r = await outcome(["get", "ns"], { kubeconfig });
        assert.equal(r.ok, false);
        assert.match(r.stderr, /NotFound|Unauthorized|must be logged in|could not find/);
      }
      assert.equal((await mp.storage.list(tenantPrefix({ uid: acmeUID }))).items.length, 0);
      assert.equal((await mp.storage.list(tenantPrefix({ uid: webUID }))).items.length, 0);
      for (const args of [
        ["cp", "acme"],
        ["cp", "acme.web"],
        ["ns", "org-acme"],
        ["org", "acme"],
      ]) {
        assert.match((await outcome(["get", ...args])).stderr, /NotFound/, args.join(" "));
      }
      // The other organization is untouched.
      assert.ok((await outcome(["get", "ns"], { kubeconfig: globexKubeconfig })).ok);
    });
  });
}

journey("the journey on the embedded store", () => Promise.resolve({}));

let etcd: EtcdProcess | undefined;
journey("the journey on etcd", async () => {
  etcd = await startEtcdProcess();
  return { etcdEndpoints: [etcd.endpoint], cleanup: () => etcd!.destroy() };
});
