// The real kubectl against a Multiplane server started by the test.

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

describe("kubectl against Multiplane", () => {
  test("version reports the server's 1.32", async () => {
    const out = json<{ serverVersion: { major: string; minor: string; gitVersion: string } }>(
      await mp.kubectl(["version", "-o", "json"]),
    );
    assert.equal(out.serverVersion.major, "1");
    assert.equal(out.serverVersion.minor, "32");
    assert.match(out.serverVersion.gitVersion, /^v1\.32\.\d+-multiplane/);
  });

  test("api-resources and api-versions list the built-in kinds", async () => {
    const resources = await mp.kubectl(["api-resources", "-o", "name"]);
    for (const r of [
      "configmaps",
      "namespaces",
      "secrets",
      "leases.coordination.k8s.io",
      "roles.rbac.authorization.k8s.io",
    ]) {
      assert.ok(resources.split("\n").includes(r), `${r} in\n${resources}`);
    }
    const versions = (await mp.kubectl(["api-versions"])).split("\n");
    for (const v of [
      "v1",
      "rbac.authorization.k8s.io/v1",
      "apiextensions.k8s.io/v1",
      "coordination.k8s.io/v1",
    ]) {
      assert.ok(versions.includes(v), v);
    }
  });

  test("every tenant has the system namespaces with default service accounts", async () => {
    const names = (await mp.kubectl(["get", "namespaces", "-o", "name"])).trim().split("\n");
    for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      assert.ok(names.includes(`namespace/${ns}`), ns);
    }
    const sa = json<{ metadata: { name: string; namespace: string } }>(
      await mp.kubectl(["get", "serviceaccount", "default", "-n", "kube-system", "-o", "json"]),
    );
    assert.equal(sa.metadata.namespace, "kube-system");
  });

  test("create configmap, then get it as table, yaml, json, name and jsonpath", async () => {
    await mp.kubectl(["create", "configmap", "app", "--from-literal=a=1", "--from-literal=b=2"]);
    const table = await mp.kubectl(["get", "configmap", "app"]);
    assert.match(table, /^NAME\s+DATA\s+AGE\n/);
    assert.match(table, /\napp\s+2\s+\d+s\n/);
    const obj = json<{ data: Record<string, string>; metadata: { uid: string; resourceVersion: string } }>(
      await mp.kubectl(["get", "cm", "app", "-o", "json"]),
    );
    assert.deepEqual(obj.data, { a: "1", b: "2" });
    assert.match(obj.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(await mp.kubectl(["get", "cm", "app", "-o", "yaml"]), /^apiVersion: v1\ndata:\n {2}a: "1"/);
    assert.equal((await mp.kubectl(["get", "cm", "app", "-o", "name"])).trim(), "configmap/app");
    assert.equal(await mp.kubectl(["get", "cm", "app", "-o", "jsonpath={.data.b}"]), "2");
  });

  test("create -f with several documents, label selectors, field selectors, chunking, -A and --sort-by", async () => {
    const docs = ["x", "y", "z"]
      .map(
        (n, i) =>
          `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: multi-${n}\n  namespace: kube-public\n  labels:\n    tier: ${i === 1 ? "db" : "web"}\ndata:\n  order: "${3 - i}"\n`,
      )
      .join("---\n");
    const created = await mp.kubectl(["create", "-f", "-"], { input: docs });
    assert.equal(created.trim().split("\n").length, 3);

    const web = await mp.kubectl(["get", "cm", "-n", "kube-public", "-l", "tier=web", "-o", "name"]);
    assert.deepEqual(web.trim().split("\n"), ["configmap/multi-x", "configmap/multi-z"]);
    const notWeb = await mp.kubectl(["get", "cm", "-n", "kube-public", "-l", "tier!=web,tier", "-o", "name"]);
    assert.deepEqual(notWeb.trim().split("\n"), ["configmap/multi-y"]);
    const byName = await mp.kubectl([
      "get",
      "cm",
      "-n",
      "kube-public",
      "--field-selector",
      "metadata.name=multi-z",
      "-o",
      "name",
    ]);
    assert.equal(byName.trim(), "configmap/multi-z");
    const chunked = await mp.kubectl(["get", "cm", "-n", "kube-public", "--chunk-size=2", "-o", "name"]);
    assert.deepEqual(chunked.trim().split("\n"), [
      "configmap/multi-x",
      "configmap/multi-y",
      "configmap/multi-z",
    ]);
    const all = await mp.kubectl(["get", "cm", "-A", "-o", "name"]);
    assert.ok(all.includes("configmap/app") && all.includes("configmap/multi-y"));
    const sorted = await mp.kubectl([
      "get",
      "cm",
      "-n",
      "kube-public",
      "--sort-by=.data.order",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]);
    assert.equal(sorted, "multi-z multi-y multi-x");
    const wide = await mp.kubectl(["get", "cm", "-n", "kube-public", "-o", "wide"]);
    assert.match(wide, /^NAME\s+DATA\s+AGE\n/);
  });

  test("label, annotate and patch (json, merge, strategic)", async () => {
    await mp.kubectl(["create", "configmap", "patched", "--from-literal=k=v"]);
    await mp.kubectl(["label", "cm", "patched", "team=blue"]);
    await mp.kubectl(["annotate", "cm", "patched", "note=hello"]);
    await mp.kubectl(["patch", "cm", "patched", "--type=merge", "-p", '{"data":{"m":"merge"}}']);
    await mp.kubectl([
      "patch",
      "cm",
      "patched",
      "--type=json",
      "-p",
      '[{"op":"add","path":"/data/j","value":"json"}]',
    ]);
    await mp.kubectl([
      "patch",
      "cm",
      "patched",
      "--type=strategic",
      "-p",
      '{"data":{"s":"strategic","k":null}}',
    ]);
    const obj = json<{ data: Record<string, string>; metadata: { labels: object; annotations: object } }>(
      await mp.kubectl(["get", "cm", "patched", "-o", "json"]),
    );
    assert.deepEqual(obj.data, { m: "merge", j: "json", s: "strategic" });
    assert.deepEqual(obj.metadata.labels, { team: "blue" });
    assert.deepEqual(obj.metadata.annotations, { note: "hello" });
  });

  test("create namespace, secret and service account through kubectl's generators", async () => {
    await mp.kubectl(["create", "namespace", "team-a"]);
    await mp.kubectl([
      "create",
      "secret",
      "generic",
      "creds",
      "-n",
      "team-a",
      "--from-literal=password=s3cr3t",
    ]);
    await mp.kubectl(["create", "serviceaccount", "robot", "-n", "team-a"]);
    const secret = json<{ type: string; data: Record<string, string> }>(
      await mp.kubectl(["get", "secret", "creds", "-n", "team-a", "-o", "json"]),
    );
    assert.equal(secret.type, "Opaque");
    assert.equal(Buffer.from(secret.data["password"]!, "base64").toString(), "s3cr3t");
    assert.equal(
      (await mp.kubectl(["get", "sa", "robot", "-n", "team-a", "-o", "name"])).trim(),
      "serviceaccount/robot",
    );
  });

  test("delete with -l and --all, and a not-found error", async () => {
    await mp.kubectl(["create", "namespace", "deletions"]);
    for (const n of ["d1", "d2", "d3"]) {
      await mp.kubectl(["create", "configmap", n, "-n", "deletions", "--from-literal=x=y"]);
    }
    await mp.kubectl(["label", "cm", "d1", "-n", "deletions", "gone=yes"]);
    assert.match(
      await mp.kubectl(["delete", "cm", "-n", "deletions", "-l", "gone=yes"]),
      /configmap "d1" deleted/,
    );
    assert.match(await mp.kubectl(["delete", "cm", "-n", "deletions", "--all"]), /configmap "d3" deleted/);
    assert.equal((await mp.kubectl(["get", "cm", "-n", "deletions", "-o", "name"])).trim(), "");
    await assert.rejects(mp.kubectl(["get", "cm", "nope", "-n", "deletions"]), /configmaps "nope" not found/);
  });

  test("get -w sees a create, an update and a delete made by another client", async () => {
    await mp.kubectl(["create", "namespace", "watched"]);
    const kubeconfig = mp.kubeconfigPath;
    const watcher = spawn(
      kubectlBinary,
      ["--kubeconfig", kubeconfig, "get", "cm", "-n", "watched", "-w", "--output-watch-events"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let seen = "";
    watcher.stdout.on("data", (d: Buffer) => (seen += d.toString()));
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 15_000;
      while (!re.test(seen)) {
        if (Date.now() > deadline) throw new Error(`watch did not show ${re}: ${seen}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await new Promise((r) => setTimeout(r, 500));
      await mp.kubectl(["create", "configmap", "w1", "-n", "watched", "--from-literal=a=b"]);
      await waitFor(/EVENT\s+NAME\s+DATA\s+AGE\n(.*\n)*ADDED\s+w1\s+1\s/);
      await mp.kubectl(["label", "cm", "w1", "-n", "watched", "x=y"]);
      await waitFor(/MODIFIED\s+w1\s+1\s/);
      await mp.kubectl(["delete", "cm", "w1", "-n", "watched"]);
      await waitFor(/DELETED\s+w1\s+1\s/);
    } finally {
      watcher.kill();
    }
  });

  test("two tenants in one process never see each other's objects", async () => {
    mp.tenants.addTenant({ name: "acme", uid: "5d1c3a52-0000-4000-8000-00000000a0c3" });
    mp.tenants.addTenant({ name: "beta", uid: "5d1c3a52-0000-4000-8000-000000000be7" });
    await mp.kubectl(["create", "configmap", "only-in-acme", "--from-literal=a=b"], { tenant: "acme" });
    await mp.kubectl(["create", "namespace", "acme-ns"], { tenant: "acme" });
    const inAcme = await mp.kubectl(["get", "cm", "-A", "-o", "name"], { tenant: "acme" });
    assert.match(inAcme, /configmap\/only-in-acme/);
    const inBeta = await mp.kubectl(["get", "cm", "-A", "-o", "name"], { tenant: "beta" });
    assert.doesNotMatch(inBeta, /only-in-acme/);
    const rootNs = await mp.kubectl(["get", "ns", "-o", "name"]);
    assert.doesNotMatch(rootNs, /acme-ns/);
    await assert.rejects(mp.kubectl(["get", "cm", "only-in-acme"], { tenant: "beta" }), /not found/);
    await assert.rejects(
      mp.kubectl(["get", "ns"], { tenant: "nobody" }),
      /not found|NotFound|could not find/i,
    );
  });
});
