// The kubeconfig for people, with the real kubectl against `multiplane up`: an Organization
// whose policy names an OIDC issuer (a real HTTPS issuer with discovery and JWKS, started here)
// gets a second kubeconfig Secret whose user runs kubelogin as kubectl's exec credential plugin,
// written exactly as kubelogin's users write it. kubelogin is not installed: a stand-in
// `kubectl-oidc_login` on PATH (found by kubectl's plugin mechanism, as kubelogin is) prints an
// ExecCredential holding a real ID token signed by that issuer. Its Projects inherit it; removing
// the issuer removes the Secrets.

import assert from "node:assert/strict";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import YAML from "yaml";
import { startOIDCIssuer, type TestIssuer } from "../support/oidc-issuer.ts";
import { eventually } from "../support/eventually.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let mp: TestMultiplane;
let issuer: TestIssuer;
/** Where the stand-in plugin lives, reads the ID token to hand out and records its arguments. */
let pluginDir: string;
const audience = "multiplane-initech";
const wait = { timeoutMs: 30_000, intervalMs: 200 };

before(async () => {
  issuer = await startOIDCIssuer("oidc-kubeconfig-ca");

  mp = await startMultiplane();
  pluginDir = join(mp.dataDir, "plugins");
  await mkdir(pluginDir);
  await writeFile(
    join(pluginDir, "kubectl-oidc_login"),
    [
      "#!/bin/sh",
      "# kubelogin's stand-in: records its arguments, answers with the ID token the test signed.",
      `printf '%s\\n' "$@" > '${pluginDir}/args'`,
      `printf '%s\\n' "$KUBERNETES_EXEC_INFO" > '${pluginDir}/exec-info'`,
      `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\\n' "$(cat '${pluginDir}/id-token')"`,
      "",
    ].join("\n"),
  );
  await chmod(join(pluginDir, "kubectl-oidc_login"), 0o755);
});
after(async () => {
  await mp?.destroy();
  await issuer?.close();
});

/** Makes the stand-in hand out an ID token of `email` (groups: devs). */
async function signIn(email: string): Promise<void> {
  const token = await issuer.idToken({ email, groups: ["devs"] }, audience);
  await writeFile(join(pluginDir, "id-token"), token);
}

/** kubectl with the stand-in plugin on PATH; its outcome, failed or not. */
const asPerson = (kubeconfig: string, args: readonly string[]) =>
  mp.kubectlOutcome(args, { kubeconfig, env: { PATH: `${pluginDir}:${process.env["PATH"] ?? "/usr/bin"}` } });

/** The Secret's kubeconfig, written to a file; undefined while there is no such Secret. */
async function kubeconfigOf(namespace: string, secret: string): Promise<string | undefined> {
  let b64: string;
  try {
    b64 = await mp.kubectl(["get", "secret", "-n", namespace, secret, "-o", "jsonpath={.data.kubeconfig}"]);
  } catch (err) {
    if (/NotFound/.test(String(err))) return undefined;
    throw err;
  }
  const path = join(mp.dataDir, `${secret}.kubeconfig`);
  await writeFile(path, Buffer.from(b64, "base64"), { mode: 0o600 });
  return path;
}

const issuerPolicy = () => ({
  authentication: {
    oidcIssuers: [
      {
        issuer: { url: issuer.url, audiences: [audience], certificateAuthority: issuer.ca.certPem },
        claimMappings: {
          username: { claim: "email", prefix: "oidc:" },
          groups: { claim: "groups", prefix: "oidc:" },
        },
      },
    ],
  },
});

describe("the OIDC kubeconfig", () => {
  let orgKubeconfig = "";

  test("an Organization with an OIDC issuer gets a kubeconfig whose user runs kubelogin", async () => {
    await mp.kubectl(["apply", "-f", "-"], {
      input: YAML.stringify({
        apiVersion: "tenancy.multiplane.dev/v1alpha1",
        kind: "Organization",
        metadata: { name: "initech" },
        spec: { owners: [{ kind: "User", name: "oidc:alice@example.com" }], policy: issuerPolicy() },
      }),
    });
    await mp.kubectl(["wait", "--for=condition=Ready", "org/initech", "--timeout=60s"]);
    const org = JSON.parse(await mp.kubectl(["get", "org", "initech", "-o", "json"])) as {
      status: { oidcKubeconfigSecretRef?: unknown };
    };
    assert.deepEqual(org.status.oidcKubeconfigSecretRef, {
      name: "initech-kubeconfig-oidc",
      namespace: "org-initech",
      key: "kubeconfig",
    });
    const path = await kubeconfigOf("org-initech", "initech-kubeconfig-oidc");
    assert.ok(path !== undefined);
    orgKubeconfig = path;
    const doc = YAML.parse(await readFile(path, "utf8")) as {
      clusters: { cluster: { server: string } }[];
      users: { name: string; user: Record<string, unknown> }[];
      "current-context": string;
    };
    assert.equal(doc.clusters[0]?.cluster.server, `${mp.url}/clusters/initech`);
    assert.equal(doc["current-context"], "initech");
    // No credential in it: only kubelogin's exec block, as kubelogin's documentation writes it.
    assert.deepEqual(doc.users, [
      {
        name: "oidc",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: "kubectl",
            args: [
              "oidc-login",
              "get-token",
              `--oidc-issuer-url=${issuer.url}`,
              `--oidc-client-id=${audience}`,
              `--certificate-authority-data=${Buffer.from(issuer.ca.certPem).toString("base64")}`,
            ],
            interactiveMode: "IfAvailable",
          },
        },
      },
    ]);
    const events = await mp.kubectl([
      "get",
      "events",
      "-n",
      "default",
      "--field-selector",
      "involvedObject.name=initech",
    ]);
    assert.match(events, /OIDCKubeconfigIssued/);
  });

  test("kubectl runs the plugin and the person is who the ID token says, an owner of the tenant", async () => {
    await signIn("alice@example.com");
    const who = await asPerson(orgKubeconfig, ["auth", "whoami", "-o", "json"]);
    assert.ok(who.ok, who.stderr);
    const review = JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(review.status.userInfo.username, "oidc:alice@example.com");
    assert.deepEqual(review.status.userInfo.groups, ["oidc:devs", "system:authenticated"]);
    // kubectl invoked kubelogin's command line, through its plugin mechanism, with the v1 API.
    assert.deepEqual((await readFile(join(pluginDir, "args"), "utf8")).trim().split("\n"), [
      "get-token",
      `--oidc-issuer-url=${issuer.url}`,
      `--oidc-client-id=${audience}`,
      `--certificate-authority-data=${Buffer.from(issuer.ca.certPem).toString("base64")}`,
    ]);
    const info = JSON.parse(await readFile(join(pluginDir, "exec-info"), "utf8")) as { apiVersion: string };
    assert.equal(info.apiVersion, "client.authentication.k8s.io/v1");
    assert.match((await asPerson(orgKubeconfig, ["auth", "can-i", "*", "*"])).stdout, /yes/);
    // The kubeconfig grants nothing by itself: someone else signed in is no owner.
    await signIn("mallory@example.com");
    assert.match((await asPerson(orgKubeconfig, ["get", "ns"])).stderr, /Forbidden/);
  });

  test("a Project inherits the issuer and gets its own OIDC kubeconfig", async () => {
    await mp.kubectl(["apply", "-f", "-"], {
      input: YAML.stringify({
        apiVersion: "tenancy.multiplane.dev/v1alpha1",
        kind: "Project",
        metadata: { name: "tps", namespace: "org-initech" },
        spec: {},
      }),
    });
    await mp.kubectl(["wait", "--for=condition=Ready", "proj/tps", "-n", "org-initech", "--timeout=60s"]);
    const path = await kubeconfigOf("org-initech", "initech-tps-kubeconfig-oidc");
    assert.ok(path !== undefined);
    await signIn("alice@example.com");
    assert.match(
      (await asPerson(path, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"])).stdout,
      /^oidc:alice@example\.com$/,
    );
    assert.match((await readFile(path, "utf8")).toString(), /\/clusters\/initech:tps\n/);
  });

  test("removing the issuer removes both OIDC kubeconfigs and the person's access", async () => {
    await mp.kubectl([
      "patch",
      "org",
      "initech",
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/spec/policy"}]',
    ]);
    await eventually(
      "the OIDC kubeconfig Secrets are gone",
      async () =>
        (
          await Promise.all([
            kubeconfigOf("org-initech", "initech-kubeconfig-oidc"),
            kubeconfigOf("org-initech", "initech-tps-kubeconfig-oidc"),
          ])
        ).every((p) => p === undefined),
      wait,
    );
    await eventually(
      "the status no longer names it",
      async () => {
        const org = JSON.parse(await mp.kubectl(["get", "org", "initech", "-o", "json"])) as {
          status: { oidcKubeconfigSecretRef?: unknown };
        };
        return org.status.oidcKubeconfigSecretRef === undefined;
      },
      wait,
    );
    await signIn("alice@example.com");
    await eventually(
      "the issuer is no longer trusted",
      async () =>
        /Unauthorized|must be logged in/.test((await asPerson(orgKubeconfig, ["get", "ns"])).stderr),
      wait,
    );
    await mp.kubectl(["delete", "org", "initech", "--timeout=60s"]);
  });
});
