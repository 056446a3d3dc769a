// The testcontainers module for users (`multiplane/testcontainers`) against the locally built
// image through the container runtime (podman here): the admin kubeconfig and a ready
// Organization's kubeconfig with the real kubectl, tenant isolation through them, and the
// README's example run as it is, by plain `node` (no TypeScript loader).
//
// The image is MULTIPLANE_IMAGE (default localhost/multiplane:dev, what hack/build-image.sh
// builds; hack/test.sh builds it before the tests). A missing image fails the test.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { getContainerRuntimeClient, ImageName } from "testcontainers";
import YAML from "yaml";
import {
  defaultImage,
  MultiplaneContainer,
  type StartedMultiplaneContainer,
} from "multiplane/testcontainers";
import { kubectlBinary } from "../support/multiplane.ts";

const run = promisify(execFile);
const repo = join(import.meta.dirname, "../..");
const image = process.env["MULTIPLANE_IMAGE"] || defaultImage;
const buildHint =
  `Build it with hack/build-image.sh (podman, after eval "$(hack/podman-up.sh)"; ` +
  `MULTIPLANE_IMAGE names another image) or: docker build -f Containerfile -t ${image} .`;

/** Throws with the build hint when no runtime answers or the image is not there. */
async function requireImage(): Promise<void> {
  let exists: boolean;
  try {
    exists = await (await getContainerRuntimeClient()).image.exists(ImageName.fromString(image));
  } catch (err) {
    throw new Error(
      `no container runtime is reachable (DOCKER_HOST=${process.env["DOCKER_HOST"] ?? "<unset>"}). ${buildHint}`,
      { cause: err },
    );
  }
  if (!exists) throw new Error(`the image ${image} is missing. ${buildHint}`);
}

let mp: StartedMultiplaneContainer | undefined;
let dir: string;

before(async () => {
  await requireImage();
  dir = await mkdtemp(join(tmpdir(), "mp-testcontainers-"));
  mp = await new MultiplaneContainer(image).start();
});
after(async () => {
  await mp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const started = (): StartedMultiplaneContainer => {
  assert.ok(mp, "the container did not start");
  return mp;
};

/** The real kubectl with `kubeconfig` (YAML); resolves with stdout, rejects with stderr. */
async function kubectl(kubeconfig: string, args: string[]): Promise<string> {
  const file = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, kubeconfig, { mode: 0o600 });
  try {
    const { stdout } = await run(kubectlBinary, ["--kubeconfig", file, ...args], {
      env: { ...process.env, HOME: dir },
      timeout: 60_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(" ")} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** kubectl's error output for a command that must fail. */
async function kubectlFails(kubeconfig: string, args: string[]): Promise<string> {
  try {
    await kubectl(kubeconfig, args);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`kubectl ${args.join(" ")} succeeded`);
}

const serverOf = (kubeconfig: string): URL => {
  const config = YAML.parse(kubeconfig) as { clusters: { cluster: { server: string } }[] };
  const server = config.clusters[0]?.cluster.server;
  assert.ok(server, "a server in the kubeconfig");
  return new URL(server);
};

describe("multiplane/testcontainers", () => {
  let acme = "";
  let globex = "";

  test("getKubeConfig: the root's admin kubeconfig names the mapped port and verifies TLS", async () => {
    const admin = started().getKubeConfig();
    const server = serverOf(admin);
    assert.equal(server.origin, started().getServerUrl());
    assert.doesNotMatch(admin, /insecure-skip-tls-verify/);
    const crds = await kubectl(admin, ["get", "crd", "-o", "name"]);
    assert.match(crds, /organizations\.tenancy\.multiplane\.dev/);
  });

  test("createOrganization: a Ready Organization's kubeconfig works with kubectl", async (t) => {
    const t0 = performance.now();
    acme = await started().createOrganization("acme");
    t.diagnostic(`createOrganization("acme") took ${Math.round(performance.now() - t0)} ms`);
    assert.equal(serverOf(acme).origin, started().getServerUrl());
    assert.equal(serverOf(acme).pathname, "/clusters/acme");

    await kubectl(acme, ["create", "configmap", "greeting", "--from-literal=hello=world"]);
    assert.equal(
      await kubectl(acme, ["get", "configmap", "greeting", "-o", "jsonpath={.data.hello}"]),
      "world",
    );
    const admin = started().getKubeConfig();
    const ready = await kubectl(admin, [
      "get",
      "org",
      "acme",
      "-o",
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    assert.equal(ready, "True");
  });

  test("a tenant's kubeconfig sees nothing of another Organization", async () => {
    assert.ok(acme, "acme was created by the test before");
    globex = await started().createOrganization("globex", { displayName: "Globex" });
    await kubectl(globex, ["create", "namespace", "plans"]);
    await kubectl(globex, ["create", "configmap", "secret-plans", "-n", "plans", "--from-literal=x=1"]);

    // Each tenant lists only its own objects.
    const acmeSees = await kubectl(acme, ["get", "configmaps", "-A", "-o", "name"]);
    assert.doesNotMatch(acmeSees, /secret-plans/);
    assert.match(acmeSees, /configmap\/greeting/);
    assert.match(await kubectlFails(acme, ["get", "namespace", "plans"]), /NotFound|not found/);
    assert.doesNotMatch(await kubectl(globex, ["get", "configmaps", "-A", "-o", "name"]), /greeting/);

    // acme's credentials at globex's URL: not globex's user (a tenant's token names its tenant).
    const acmeAtGlobex = acme.replace(serverOf(acme).href, serverOf(globex).href);
    assert.notEqual(acmeAtGlobex, acme);
    assert.match(
      await kubectlFails(acmeAtGlobex, ["get", "configmap", "secret-plans", "-n", "plans"]),
      /Unauthorized|Forbidden|must be logged in/,
    );
  });

  test("createOrganization of an existing name rejects with the server's 409", async () => {
    await assert.rejects(started().createOrganization("acme"), /409 .*already exists/);
  });

  test("the README's example runs as it is with plain node", async () => {
    const readme = await readFile(join(repo, "README.md"), "utf8");
    const example = /## Test your code against Multiplane\n[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, "README has the testcontainers example");
    const literal = `"${defaultImage}"`;
    assert.ok(example.includes(literal), `the example names ${literal}`);
    // Run from the repository, so `multiplane/testcontainers` resolves to this package.
    const { stdout } = await run(
      process.execPath,
      ["--input-type=module", "-e", example.replace(literal, JSON.stringify(image))],
      {
        cwd: repo,
        env: { ...process.env, NODE_OPTIONS: "" },
        timeout: 300_000,
      },
    );
    assert.match(stdout, /'hello'/);
  });
});
