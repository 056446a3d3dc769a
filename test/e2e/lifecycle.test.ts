// Object and namespace lifecycle with the real kubectl: cascading deletion (foreground,
// orphan, background) through the tenant's garbage collector, namespace deletion through its
// namespace controller, finalizers, and `kubectl wait --for=delete`.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { kubectlBinary, startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let mp: TestMultiplane;

before(async () => {
  mp = await startMultiplane();
});
after(async () => {
  await mp?.destroy();
});

const json = <T = Record<string, unknown>>(text: string): T => JSON.parse(text) as T;

interface Meta {
  metadata: {
    name: string;
    uid: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    ownerReferences?: { name: string; uid: string }[];
  };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Names of the ConfigMaps in a namespace. */
async function configMaps(ns: string): Promise<string[]> {
  const out = await mp.kubectl(["get", "cm", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}"]);
  return out.split(" ").filter((n) => n !== "");
}

/** Creates ConfigMap `owner` and dependents owned by it (blockOwnerDeletion) in `ns`. */
async function ownerWithDependents(ns: string, dependents: string[]): Promise<string> {
  await mp.kubectl(["create", "namespace", ns]);
  const uid = await mp.kubectl(["create", "configmap", "owner", "-n", ns, "-o", "jsonpath={.metadata.uid}"]);
  const docs = dependents.map(
    (name) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: ${ns}
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: owner
    uid: ${uid}
    blockOwnerDeletion: true
    controller: true
data:
  k: v
`,
  );
  await mp.kubectl(["create", "-f", "-"], { input: docs.join("---\n") });
  return uid;
}

/** Runs kubectl in the background; `done` settles with its exit code and output. */
function background(args: string[]): {
  output: () => string;
  done: Promise<{ code: number | null; out: string; err: string }>;
  kill: () => void;
} {
  const child = spawn(kubectlBinary, ["--kubeconfig", mp.kubeconfigPath, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, out, err })),
  );
  return { output: () => out, done, kill: () => child.kill() };
}

describe("lifecycle with kubectl", () => {
  test("delete --cascade=foreground waits until the dependents, then the owner, are gone", async () => {
    await ownerWithDependents("fg", ["dep-1", "dep-2"]);
    assert.deepEqual(await configMaps("fg"), ["dep-1", "dep-2", "owner"]);
    const out = await mp.kubectl(["delete", "--cascade=foreground", "cm/owner", "-n", "fg"]);
    assert.match(out, /configmap "owner" deleted/);
    // kubectl waited for the owner to disappear, which only happens after its blocking dependents.
    assert.deepEqual(await configMaps("fg"), []);
  });

  test("delete --cascade=orphan keeps the dependent without its ownerReference", async () => {
    await ownerWithDependents("orphan", ["dep"]);
    await mp.kubectl(["delete", "--cascade=orphan", "cm/owner", "-n", "orphan"]);
    assert.deepEqual(await configMaps("orphan"), ["dep"]);
    const dep = json<Meta>(await mp.kubectl(["get", "cm", "dep", "-n", "orphan", "-o", "json"]));
    assert.equal(dep.metadata.ownerReferences, undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await configMaps("orphan"), ["dep"], "still there: nothing collects it");
  });

  test("a background delete (kubectl's default) collects the dependent shortly after", async () => {
    await ownerWithDependents("bg", ["dep"]);
    await mp.kubectl(["delete", "cm/owner", "-n", "bg"]);
    await until("dep to be collected", async () => (await configMaps("bg")).length === 0);
  });

  test("delete ns empties the namespace and returns once it is gone", async () => {
    await mp.kubectl(["create", "namespace", "doomed"]);
    await mp.kubectl(["create", "configmap", "a", "-n", "doomed", "--from-literal=k=v"]);
    await mp.kubectl(["create", "secret", "generic", "s", "-n", "doomed", "--from-literal=k=v"]);
    await mp.kubectl(["create", "serviceaccount", "robot", "-n", "doomed"]);
    await mp.kubectl(["create", "role", "reader", "-n", "doomed", "--verb=get", "--resource=configmaps"]);
    const out = await mp.kubectl(["delete", "ns", "doomed"]);
    assert.match(out, /namespace "doomed" deleted/);
    await assert.rejects(mp.kubectl(["get", "ns", "doomed"]), /namespaces "doomed" not found/);
    // kubectl 1.32 follows a 404 with a GET of the namespace and reports that one.
    await assert.rejects(mp.kubectl(["get", "cm", "a", "-n", "doomed"]), /namespaces "doomed" not found/);
    assert.equal(
      await mp.kubectl(["get", "cm", "-A", "--field-selector=metadata.namespace=doomed", "-o", "name"]),
      "",
    );
  });

  test("a namespace waits for its content's finalizers; kubectl wait --for=delete sees it go", async () => {
    await mp.kubectl(["create", "namespace", "held"]);
    await mp.kubectl(["create", "configmap", "keep", "-n", "held"]);
    await mp.kubectl([
      "patch",
      "cm",
      "keep",
      "-n",
      "held",
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":["example.com/hold"]}}',
    ]);
    assert.match(await mp.kubectl(["delete", "ns", "held", "--wait=false"]), /namespace "held" deleted/);
    const waiter = background(["wait", "--for=delete", "ns/held", "--timeout=60s"]);
    try {
      await until("the namespace to report the remaining finalizer", async () => {
        const reasons = await mp.kubectl([
          "get",
          "ns",
          "held",
          "-o",
          'jsonpath={.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}',
        ]);
        return reasons.includes("example.com/hold in 1 resource instances");
      });
      assert.equal(await mp.kubectl(["get", "ns", "held", "-o", "jsonpath={.status.phase}"]), "Terminating");
      assert.match(await mp.kubectl(["get", "ns", "held"]), /held\s+Terminating/);
      assert.equal(
        await mp.kubectl(["get", "ns", "held", "-o", "jsonpath={.spec.finalizers}"]),
        '["kubernetes"]',
      );
      await assert.rejects(
        mp.kubectl(["create", "configmap", "x", "-n", "held"]),
        /configmaps "x" is forbidden: unable to create new content in namespace held because it is being terminated/,
      );
      await mp.kubectl([
        "patch",
        "cm",
        "keep",
        "-n",
        "held",
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
      ]);
      const { code, out, err } = await waiter.done;
      assert.equal(code, 0, err);
      assert.match(out, /namespace\/held condition met/);
      await assert.rejects(mp.kubectl(["get", "ns", "held"]), /not found/);
    } finally {
      waiter.kill();
    }
  });

  test("the system namespaces may not be deleted", async () => {
    for (const ns of ["default", "kube-system", "kube-public"]) {
      await assert.rejects(
        mp.kubectl(["delete", "ns", ns]),
        new RegExp(
          `Error from server \\(Forbidden\\): namespaces "${ns}" is forbidden: this namespace may not be deleted`,
        ),
      );
    }
  });

  test("a custom finalizer holds a ConfigMap; removing it deletes it and a watch sees DELETED", async () => {
    await mp.kubectl(["create", "namespace", "fin"]);
    await mp.kubectl(["create", "configmap", "f", "-n", "fin", "--from-literal=k=v"]);
    await mp.kubectl([
      "patch",
      "cm",
      "f",
      "-n",
      "fin",
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":["example.com/hold"]}}',
    ]);
    assert.match(
      await mp.kubectl(["delete", "cm", "f", "-n", "fin", "--wait=false"]),
      /configmap "f" deleted/,
    );
    const held = json<Meta>(await mp.kubectl(["get", "cm", "f", "-n", "fin", "-o", "json"]));
    assert.ok(held.metadata.deletionTimestamp);
    assert.deepEqual(held.metadata.finalizers, ["example.com/hold"]);

    const watch = background(["get", "cm", "-n", "fin", "-w", "--output-watch-events"]);
    try {
      await until("the watch to list f", () => Promise.resolve(/ADDED\s+f\s/.test(watch.output())));
      await mp.kubectl([
        "patch",
        "cm",
        "f",
        "-n",
        "fin",
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
      ]);
      await until("the watch to see DELETED", () => Promise.resolve(/DELETED\s+f\s/.test(watch.output())));
      await assert.rejects(mp.kubectl(["get", "cm", "f", "-n", "fin"]), /configmaps "f" not found/);
    } finally {
      watch.kill();
    }
  });

  test("PUT namespaces/<name>/finalize replaces spec.finalizers and lets a stuck namespace go", async () => {
    await mp.kubectl(["create", "namespace", "stuck"]);
    await mp.kubectl(["create", "configmap", "keep", "-n", "stuck"]);
    await mp.kubectl([
      "patch",
      "cm",
      "keep",
      "-n",
      "stuck",
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":["example.com/hold"]}}',
    ]);
    await mp.kubectl(["delete", "ns", "stuck", "--wait=false"]);
    const ns = json<Record<string, unknown>>(await mp.kubectl(["get", "ns", "stuck", "-o", "json"]));
    const body = JSON.stringify({ ...ns, spec: { finalizers: [] } });
    const out = json<{ spec: { finalizers?: string[] } }>(
      await mp.kubectl(["replace", "--raw", "/api/v1/namespaces/stuck/finalize", "-f", "-"], { input: body }),
    );
    assert.deepEqual(out.spec.finalizers ?? [], []);
    await until("stuck to be removed", async () => {
      try {
        await mp.kubectl(["get", "ns", "stuck"]);
        return false;
      } catch (err) {
        return /not found/.test(String(err));
      }
    });
  });
});
