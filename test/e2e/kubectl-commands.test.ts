// kubectl's everyday commands beyond get/create/patch (kubectl-basics.test.ts) against a
// Multiplane server started by the test: cluster-info, explain, client-side apply, diff,
// edit, replace, wait, server dry-run, field validation, error texts, table options, the
// create generators (protobuf bodies) and delete. Each test reads the state back.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { kubectlBinary, startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let mp: TestMultiplane;
let dir: string;

before(async () => {
  mp = await startMultiplane();
  dir = await mkdtemp(join(mp.dataDir, "files-"));
});
after(async () => {
  await mp?.destroy();
});

const json = <T = Record<string, unknown>>(text: string): T => JSON.parse(text) as T;

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface ConfigMap {
  metadata: Meta;
  data?: Record<string, string>;
}

const getJson = async <T = ConfigMap>(args: readonly string[]): Promise<T> =>
  json<T>(await mp.kubectl(["get", ...args, "-o", "json"]));

/** Writes a file under the test's temp dir and returns its path. */
async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl and answers its exit code, stdout and stderr, whether it failed or not. */
function kubectlResult(args: readonly string[], opts: { input?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      kubectlBinary,
      ["--kubeconfig", mp.kubeconfigPath, ...args],
      { env: { ...process.env, KUBECONFIG: mp.kubeconfigPath, HOME: mp.dataDir }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(opts.input ?? "");
  });
}

const configMap = (name: string, namespace: string, data: Record<string, string>, extra = ""): string =>
  [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    extra,
    "data:",
    ...Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
  ]
    .filter((l) => l !== "")
    .join("\n") + "\n";

const subdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const conflictMessage = (name: string): string =>
  `Operation cannot be fulfilled on configmaps "${name}": the object has been modified; please apply your changes to the latest version and try again`;

describe("kubectl commands against Multiplane", () => {
  test("cluster-info prints the control plane's URL", async () => {
    const out = await mp.kubectl(["cluster-info"]);
    assert.equal(
      out,
      `Kubernetes control plane is running at ${mp.url}\n\n` +
        "To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n",
    );
  });

  test("explain prints upstream's descriptions from OpenAPI v3", async () => {
    const data = await mp.kubectl(["explain", "configmap.data"]);
    assert.match(data, /^KIND: {7}ConfigMap\nVERSION: {4}v1\n\nFIELD: data <map\[string\]string>\n/);
    const description = data.split("DESCRIPTION:\n")[1]?.replace(/\s+/g, " ").trim();
    assert.equal(
      description,
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. " +
        "Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not " +
        "overlap with the keys in the BinaryData field, this is enforced during validation process.",
    );

    const secret = await mp.kubectl(["explain", "secret", "--recursive"]);
    assert.ok(
      secret.startsWith(
        "KIND:       Secret\nVERSION:    v1\n\nDESCRIPTION:\n" +
          "    Secret holds secret data of a certain type. The total bytes of the values in\n" +
          "    the Data field must be less than MaxSecretSize bytes.\n    \nFIELDS:\n" +
          "  apiVersion\t<string>\n  data\t<map[string]string>\n  immutable\t<boolean>\n  kind\t<string>\n" +
          "  metadata\t<ObjectMeta>\n    annotations\t<map[string]string>\n",
      ),
      secret,
    );
    assert.match(
      secret,
      /\n {4}ownerReferences\t<\[\]OwnerReference>\n {6}apiVersion\t<string> -required-\n/,
    );
    assert.match(secret, /\n {2}stringData\t<map\[string\]string>\n {2}type\t<string>\n\n$/);

    await assert.rejects(mp.kubectl(["explain", "configmap.nope"]), /error: field "nope" does not exist/);
  });

  test("client-side apply creates, leaves alone, then patches a ConfigMap", async () => {
    await mp.kubectl(["create", "namespace", "kc-apply"]);
    const v1 = await file("apply-v1.yaml", configMap("applied", "kc-apply", { a: "1", b: "2" }));
    assert.equal(await mp.kubectl(["apply", "-f", v1]), "configmap/applied created\n");
    assert.equal(await mp.kubectl(["apply", "-f", v1]), "configmap/applied unchanged\n");
    const first = await getJson(["cm", "applied", "-n", "kc-apply"]);
    assert.deepEqual(first.data, { a: "1", b: "2" });
    const lastApplied = json<ConfigMap>(
      first.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "null",
    );
    assert.deepEqual(lastApplied.data, { a: "1", b: "2" });

    const v2 = await file("apply-v2.yaml", configMap("applied", "kc-apply", { a: "10", c: "3" }));
    assert.equal(await mp.kubectl(["apply", "-f", v2]), "configmap/applied configured\n");
    const second = await getJson(["cm", "applied", "-n", "kc-apply"]);
    // b was in the last applied configuration and is not in the new one: apply removes it.
    assert.deepEqual(second.data, { a: "10", c: "3" });
    assert.equal(second.metadata.uid, first.metadata.uid);
    assert.notEqual(second.metadata.resourceVersion, first.metadata.resourceVersion);
    assert.deepEqual(
      json<ConfigMap>(second.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "")
        .data,
      { a: "10", c: "3" },
    );
  });

  test("apply of one file with a Namespace, a Secret, a Role and a RoleBinding", async () => {
    const manifest = await file(
      "multi.yaml",
      [
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kc-multi\n",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  namespace: kc-multi\ntype: Opaque\ndata:\n  password: aHVudGVyMg==\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n  namespace: kc-multi\n" +
          'rules:\n- apiGroups: [""]\n  resources: ["configmaps", "secrets"]\n  verbs: ["get", "list", "watch"]\n',
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: reader-binding\n  namespace: kc-multi\n" +
          "subjects:\n- kind: ServiceAccount\n  name: default\n  namespace: kc-multi\n- kind: User\n  name: alice\n" +
          "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: reader\n",
      ].join("---\n"),
    );
    assert.equal(
      await mp.kubectl(["apply", "-f", manifest]),
      "namespace/kc-multi created\nsecret/token created\n" +
        "role.rbac.authorization.k8s.io/reader created\nrolebinding.rbac.authorization.k8s.io/reader-binding created\n",
    );

    const ns = await getJson<{ metadata: Meta; status: { phase: string } }>(["namespace", "kc-multi"]);
    assert.equal(ns.status.phase, "Active");
    assert.equal(ns.metadata.labels?.["kubernetes.io/metadata.name"], "kc-multi");
    const secret = await getJson<{ metadata: Meta; type: string; data: Record<string, string> }>([
      "secret",
      "token",
      "-n",
      "kc-multi",
    ]);
    assert.equal(secret.type, "Opaque");
    assert.equal(Buffer.from(secret.data["password"] ?? "", "base64").toString(), "hunter2");
    assert.ok(secret.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]);
    const role = await getJson<{ rules: unknown[] }>(["role", "reader", "-n", "kc-multi"]);
    assert.deepEqual(role.rules, [
      { apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = await getJson<{ roleRef: unknown; subjects: Record<string, string>[] }>([
      "rolebinding",
      "reader-binding",
      "-n",
      "kc-multi",
    ]);
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "reader",
    });
    assert.equal(binding.subjects[0]?.["kind"], "ServiceAccount");
    assert.equal(binding.subjects[0]?.["namespace"], "kc-multi");
    assert.equal(binding.subjects[1]?.["apiGroup"], "rbac.authorization.k8s.io"); // defaulted for a User

    // Applying the same file again changes nothing (the RoleBinding is a known gap, see above).
    const again = await mp.kubectl(["apply", "-f", manifest]);
    assert.match(again, /^namespace\/kc-multi unchanged\nsecret\/token unchanged\n/);
    assert.match(again, /\nrole\.rbac\.authorization\.k8s\.io\/reader unchanged\n/);
  });

  test("diff exits 1 with a unified diff when the file differs and 0 when it does not", async () => {
    await mp.kubectl(["create", "namespace", "kc-diff"]);
    const same = await file("diff-same.yaml", configMap("diffed", "kc-diff", { a: "1" }));
    await mp.kubectl(["apply", "-f", same]);
    const unchanged = await kubectlResult(["diff", "-f", same]);
    assert.deepEqual(unchanged, { code: 0, stdout: "", stderr: "" });

    const changed = await file("diff-changed.yaml", configMap("diffed", "kc-diff", { a: "2" }));
    const different = await kubectlResult(["diff", "-f", changed]);
    assert.equal(different.code, 1, different.stderr);
    assert.match(different.stdout, /^diff -u -N .*\/LIVE-\d+\/v1\.ConfigMap\.kc-diff\.diffed /);
    assert.match(different.stdout, /\n-\s+a: "1"\n\+\s+a: "2"\n/);
    // diff is a server dry run: nothing changed.
    assert.deepEqual((await getJson(["cm", "diffed", "-n", "kc-diff"])).data, { a: "1" });

    const absent = await kubectlResult(["diff", "-f", "-"], {
      input: configMap("not-yet", "kc-diff", { k: "v" }),
    });
    assert.equal(absent.code, 1, absent.stderr);
    assert.match(absent.stdout, /\n\+\s+name: not-yet\n/);
    await assert.rejects(mp.kubectl(["get", "cm", "not-yet", "-n", "kc-diff"]), /not found/);
  });

  test("edit with KUBE_EDITOR changes the object", async () => {
    await mp.kubectl(["create", "namespace", "kc-edit"]);
    await mp.kubectl(["create", "configmap", "edited", "-n", "kc-edit", "--from-literal=color=red"]);
    const before = await getJson(["cm", "edited", "-n", "kc-edit"]);
    const editor = await file("editor.sh", "#!/bin/sh\nsed -i 's/color: red/color: blue/' \"$1\"\n");
    await chmod(editor, 0o755);
    const out = await mp.kubectl(["edit", "cm/edited", "-n", "kc-edit"], { env: { KUBE_EDITOR: editor } });
    assert.equal(out, "configmap/edited edited\n");
    const edited = await getJson(["cm", "edited", "-n", "kc-edit"]);
    assert.deepEqual(edited.data, { color: "blue" });
    assert.equal(edited.metadata.uid, before.metadata.uid);
    assert.notEqual(edited.metadata.resourceVersion, before.metadata.resourceVersion);

    // A second edit finds nothing to change and writes nothing.
    await mp.kubectl(["edit", "cm/edited", "-n", "kc-edit"], { env: { KUBE_EDITOR: editor } });
    const after = await getJson(["cm", "edited", "-n", "kc-edit"]);
    assert.equal(after.metadata.resourceVersion, edited.metadata.resourceVersion);
  });

  test("replace keeps the object; replace --force deletes it and creates a new one", async () => {
    await mp.kubectl(["create", "namespace", "kc-replace"]);
    await mp.kubectl(["create", "configmap", "replaced", "-n", "kc-replace", "--from-literal=v=1"]);
    const original = await getJson(["cm", "replaced", "-n", "kc-replace"]);

    const v2 = await file("replace-v2.yaml", configMap("replaced", "kc-replace", { v: "2" }));
    assert.equal(await mp.kubectl(["replace", "-f", v2]), "configmap/replaced replaced\n");
    const replaced = await getJson(["cm", "replaced", "-n", "kc-replace"]);
    assert.deepEqual(replaced.data, { v: "2" });
    assert.equal(replaced.metadata.uid, original.metadata.uid);

    const v3 = await file("replace-v3.yaml", configMap("replaced", "kc-replace", { v: "3" }));
    assert.equal(
      await mp.kubectl(["replace", "--force", "-f", v3]),
      'configmap "replaced" deleted\nconfigmap/replaced replaced\n',
    );
    const forced = await getJson(["cm", "replaced", "-n", "kc-replace"]);
    assert.deepEqual(forced.data, { v: "3" });
    assert.notEqual(forced.metadata.uid, original.metadata.uid);

    await assert.rejects(
      mp.kubectl(["replace", "-f", "-"], { input: configMap("missing", "kc-replace", { v: "1" }) }),
      /Error from server \(NotFound\): error when replacing "STDIN": configmaps "missing" not found/,
    );
  });

  test("replace with a stale resourceVersion is a Conflict", async () => {
    await mp.kubectl(["create", "namespace", "kc-conflict"]);
    await mp.kubectl(["create", "configmap", "stale", "-n", "kc-conflict", "--from-literal=v=1"]);
    const rv = await mp.kubectl([
      "get",
      "cm",
      "stale",
      "-n",
      "kc-conflict",
      "-o",
      "jsonpath={.metadata.resourceVersion}",
    ]);
    assert.match(rv, /^\d+$/);
    await mp.kubectl([
      "patch",
      "cm",
      "stale",
      "-n",
      "kc-conflict",
      "--type=merge",
      "-p",
      '{"data":{"v":"2"}}',
    ]);

    const stale = configMap("stale", "kc-conflict", { v: "3" }, `  resourceVersion: "${rv}"`);
    const result = await kubectlResult(["replace", "-f", "-"], { input: stale });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `Error from server (Conflict): error when replacing "STDIN": ${conflictMessage("stale")}\n`,
    );
    assert.deepEqual((await getJson(["cm", "stale", "-n", "kc-conflict"])).data, { v: "2" });

    // With the current resourceVersion the same replace goes through.
    const current = (await getJson(["cm", "stale", "-n", "kc-conflict"])).metadata.resourceVersion;
    await mp.kubectl(["replace", "-f", "-"], {
      input: configMap("stale", "kc-conflict", { v: "3" }, `  resourceVersion: "${current}"`),
    });
    assert.deepEqual((await getJson(["cm", "stale", "-n", "kc-conflict"])).data, { v: "3" });
  });

  test("wait for a jsonpath value, for a deletion and for a creation made by another client", async () => {
    await mp.kubectl(["create", "namespace", "kc-wait"]);
    await mp.kubectl(["create", "configmap", "x", "-n", "kc-wait", "--from-literal=ready=no"]);
    const [ready] = await Promise.all([
      mp.kubectl(["wait", "-n", "kc-wait", "--for=jsonpath={.data.ready}=yes", "cm/x", "--timeout=20s"]),
      delay(1000).then(() =>
        mp.kubectl(["patch", "cm", "x", "-n", "kc-wait", "--type=merge", "-p", '{"data":{"ready":"yes"}}']),
      ),
    ]);
    assert.equal(ready, "configmap/x condition met\n");

    await mp.kubectl(["create", "configmap", "y", "-n", "kc-wait"]);
    const [gone] = await Promise.all([
      mp.kubectl(["wait", "-n", "kc-wait", "--for=delete", "cm/y", "--timeout=20s"]),
      delay(1000).then(() => mp.kubectl(["delete", "cm", "y", "-n", "kc-wait"])),
    ]);
    assert.equal(gone, "configmap/y condition met\n");
    await assert.rejects(mp.kubectl(["get", "cm", "y", "-n", "kc-wait"]), /not found/);

    const [created] = await Promise.all([
      mp.kubectl(["wait", "-n", "kc-wait", "--for=create", "cm/z", "--timeout=20s"]),
      delay(1000).then(() => mp.kubectl(["create", "configmap", "z", "-n", "kc-wait"])),
    ]);
    assert.equal(created, "configmap/z condition met\n");

    await assert.rejects(
      mp.kubectl(["wait", "-n", "kc-wait", "--for=jsonpath={.data.ready}=never", "cm/x", "--timeout=1s"]),
      /error: timed out waiting for the condition on configmaps\/x/,
    );
  });

  test("--dry-run=server validates and answers the object but stores nothing", async () => {
    await mp.kubectl(["create", "namespace", "kc-dry"]);
    const manifest = await file("dry.yaml", configMap("dry", "kc-dry", { a: "b" }));
    const answered = json<ConfigMap>(
      await mp.kubectl(["create", "-f", manifest, "--dry-run=server", "-o", "json"]),
    );
    assert.equal(answered.metadata.name, "dry");
    assert.match(answered.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(answered.data, { a: "b" });
    await assert.rejects(mp.kubectl(["get", "cm", "dry", "-n", "kc-dry"]), /configmaps "dry" not found/);

    assert.equal(
      await mp.kubectl([
        "create",
        "configmap",
        "dry-gen",
        "-n",
        "kc-dry",
        "--from-literal=a=b",
        "--dry-run=server",
        "-o",
        "name",
      ]),
      "configmap/dry-gen\n",
    );
    assert.equal(
      await mp.kubectl(["apply", "-f", manifest, "--dry-run=server"]),
      "configmap/dry created (server dry run)\n",
    );
    // (kube-controller-manager would add kube-root-ca.crt to a namespace: look for ours only.)
    assert.doesNotMatch(await mp.kubectl(["get", "cm", "-n", "kc-dry", "-o", "name"]), /configmap\/dry/);

    // A server dry run still sees what exists and what is invalid.
    await mp.kubectl(["create", "-f", manifest]);
    await assert.rejects(
      mp.kubectl(["create", "-f", manifest, "--dry-run=server"]),
      /Error from server \(AlreadyExists\): error when creating ".*dry\.yaml": configmaps "dry" already exists/,
    );
    await assert.rejects(
      mp.kubectl(["create", "configmap", "Bad", "-n", "kc-dry", "--dry-run=server"]),
      /ConfigMap "Bad" is invalid: metadata\.name: Invalid value: "Bad"/,
    );
    await mp.kubectl([
      "apply",
      "-f",
      await file("dry-v2.yaml", configMap("dry", "kc-dry", { a: "c" })),
      "--dry-run=server",
    ]);
    assert.deepEqual((await getJson(["cm", "dry", "-n", "kc-dry"])).data, { a: "b" });
  });

  test("field validation of a replace: Strict refuses an unknown field, Warn drops it with a warning", async () => {
    await mp.kubectl(["create", "namespace", "kc-fields"]);
    await mp.kubectl(["create", "configmap", "fields", "-n", "kc-fields", "--from-literal=a=b"]);
    const unknown = configMap("fields", "kc-fields", { a: "c" }) + "foo: bar\n";

    const strict = await kubectlResult(["replace", "-f", "-", "--validate=strict"], { input: unknown });
    assert.equal(strict.code, 1);
    assert.match(
      strict.stderr,
      /^Error from server \(BadRequest\): error when replacing "STDIN": .*strict decoding error: unknown field "foo"\n$/,
    );
    assert.deepEqual((await getJson(["cm", "fields", "-n", "kc-fields"])).data, { a: "b" });

    const warn = await kubectlResult(["replace", "-f", "-", "--validate=warn"], { input: unknown });
    assert.equal(warn.code, 0, warn.stderr);
    assert.equal(warn.stderr, 'Warning: unknown field "foo"\n');
    const stored = await getJson<ConfigMap & { foo?: string }>(["cm", "fields", "-n", "kc-fields"]);
    assert.deepEqual(stored.data, { a: "c" });
    assert.equal(stored.foo, undefined);
  });

  test("an invalid name is a 422 with kube's message", async () => {
    await assert.rejects(mp.kubectl(["create", "configmap", "bad_name"]), (err: Error) => {
      assert.ok(
        err.message.endsWith(
          `error: failed to create configmap: ConfigMap "bad_name" is invalid: metadata.name: Invalid value: "bad_name": ${subdomainMessage}\n`,
        ),
        err.message,
      );
      return true;
    });
    const fromFile = await kubectlResult(["create", "-f", "-"], {
      input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad_name\n",
    });
    assert.equal(fromFile.code, 1);
    assert.equal(
      fromFile.stderr,
      `The ConfigMap "bad_name" is invalid: metadata.name: Invalid value: "bad_name": ${subdomainMessage}\n`,
    );
    await assert.rejects(mp.kubectl(["get", "cm", "bad_name"]), /not found/);
  });

  test("get with custom-columns, --show-labels and -L", async () => {
    await mp.kubectl(["create", "namespace", "kc-columns"]);
    await mp.kubectl(["create", "configmap", "c1", "-n", "kc-columns", "--from-literal=k=v"]);
    await mp.kubectl(["create", "configmap", "c2", "-n", "kc-columns"]);
    await mp.kubectl(["label", "cm", "c1", "-n", "kc-columns", "app=web", "tier=front"]);

    const columns = await mp.kubectl([
      "get",
      "configmaps",
      "-n",
      "kc-columns",
      "-o",
      "custom-columns=NAME:.metadata.name,KEYS:.data",
    ]);
    assert.match(columns, /^NAME\s+KEYS\n/);
    assert.match(columns, /\nc1\s+map\[k:v\]\n/);
    assert.match(columns, /\nc2\s+<none>\n/);

    const labels = await mp.kubectl(["get", "cm", "-n", "kc-columns", "--show-labels"]);
    assert.match(labels, /^NAME\s+DATA\s+AGE\s+LABELS\n/);
    assert.match(labels, /\nc1\s+1\s+\d+s\s+app=web,tier=front\n/);
    assert.match(labels, /\nc2\s+0\s+\d+s\s+<none>\n/);

    const byLabel = await mp.kubectl(["get", "cm", "-n", "kc-columns", "-L", "app", "-L", "tier"]);
    assert.match(byLabel, /^NAME\s+DATA\s+AGE\s+APP\s+TIER\n/);
    assert.match(byLabel, /\nc1\s+1\s+\d+s\s+web\s+front\n/);
    assert.match(byLabel, /\nc2\s+0\s+\d+s\s*\n/);
  });

  test("create generators for RBAC, quota and service (protobuf bodies), and a Lease from a file", async () => {
    await mp.kubectl(["create", "namespace", "kc-gen"]);
    const ns = ["-n", "kc-gen"];

    await mp.kubectl([
      "create",
      "role",
      "cm-reader",
      ...ns,
      "--verb=get,list",
      "--resource=configmaps,secrets",
    ]);
    assert.deepEqual((await getJson<{ rules: unknown[] }>(["role", "cm-reader", ...ns])).rules, [
      { apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "list"] },
    ]);
    await mp.kubectl([
      "create",
      "role",
      "one-cm",
      ...ns,
      "--verb=get",
      "--resource=configmaps",
      "--resource-name=x",
    ]);
    assert.deepEqual((await getJson<{ rules: unknown[] }>(["role", "one-cm", ...ns])).rules, [
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["x"], verbs: ["get"] },
    ]);
    // kube's RBAC validation: resource names apply to one resource only.
    await assert.rejects(
      mp.kubectl([
        "create",
        "role",
        "two",
        ...ns,
        "--verb=get",
        "--resource=configmaps,secrets",
        "--resource-name=x",
      ]),
      /The Role "two" is invalid: rules\[0\]\.resourceNames: Required value: resource names cannot apply to multiple resources/,
    );

    await mp.kubectl([
      "create",
      "clusterrole",
      "kc-cm-watcher",
      "--verb=get,list,watch",
      "--resource=configmaps,leases.coordination.k8s.io",
    ]);
    assert.deepEqual((await getJson<{ rules: unknown[] }>(["clusterrole", "kc-cm-watcher"])).rules, [
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch"] },
    ]);
    await mp.kubectl([
      "create",
      "clusterrole",
      "kc-health",
      "--verb=get",
      "--non-resource-url=/healthz",
      "--non-resource-url=/version",
    ]);
    assert.deepEqual((await getJson<{ rules: unknown[] }>(["clusterrole", "kc-health"])).rules, [
      { nonResourceURLs: ["/healthz", "/version"], verbs: ["get"] },
    ]);
    await mp.kubectl([
      "create",
      "clusterrole",
      "kc-aggregate",
      "--aggregation-rule=rbac.example.com/aggregate-to-kc=true",
    ]);
    assert.deepEqual(
      (await getJson<{ aggregationRule: unknown }>(["clusterrole", "kc-aggregate"])).aggregationRule,
      { clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-kc": "true" } }] },
    );

    await mp.kubectl([
      "create",
      "rolebinding",
      "cm-readers",
      ...ns,
      "--role=cm-reader",
      "--user=alice",
      "--group=devs",
      "--serviceaccount=kc-gen:robot",
    ]);
    const rb = await getJson<{ roleRef: unknown; subjects: Record<string, string>[] }>([
      "rolebinding",
      "cm-readers",
      ...ns,
    ]);
    assert.deepEqual(rb.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm-reader" });
    assert.deepEqual(rb.subjects.slice(0, 2), [
      { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" },
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "devs" },
    ]);
    assert.equal(rb.subjects[2]?.["kind"], "ServiceAccount");
    assert.equal(rb.subjects[2]?.["name"], "robot");
    assert.equal(rb.subjects[2]?.["namespace"], "kc-gen");

    await mp.kubectl([
      "create",
      "clusterrolebinding",
      "kc-watchers",
      "--clusterrole=kc-cm-watcher",
      "--user=bob",
    ]);
    assert.deepEqual(
      await getJson<Record<string, unknown>>(["clusterrolebinding", "kc-watchers"]).then((b) => [
        b["roleRef"],
        b["subjects"],
      ]),
      [
        { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "kc-cm-watcher" },
        [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "bob" }],
      ],
    );

    await mp.kubectl(["create", "quota", "counts", ...ns, "--hard=configmaps=10,secrets=5"]);
    assert.deepEqual((await getJson<{ spec: unknown }>(["quota", "counts", ...ns])).spec, {
      hard: { configmaps: "10", secrets: "5" },
    });
    await mp.kubectl([
      "create",
      "quota",
      "compute",
      ...ns,
      "--hard=requests.cpu=500m,limits.memory=1024Mi,pods=1k",
      "--scopes=NotTerminating",
    ]);
    // kube's validation: a NotTerminating scope is for pod resources only.
    await assert.rejects(
      mp.kubectl(["create", "quota", "scoped", ...ns, "--hard=configmaps=1", "--scopes=NotTerminating"]),
      /ResourceQuota "scoped" is invalid: spec\.scopes: Invalid value: \[\]core\.ResourceQuotaScope\{"NotTerminating"\}: unsupported scope applied to resource/,
    );
    const compute = await getJson<{ spec: unknown }>(["quota", "compute", ...ns]);
    // Quantities are stored in canonical form.
    assert.deepEqual(compute.spec, {
      hard: { "limits.memory": "1Gi", pods: "1k", "requests.cpu": "500m" },
      scopes: ["NotTerminating"],
    });

    await mp.kubectl(["create", "service", "clusterip", "web", ...ns, "--tcp=80:8080", "--tcp=443:8443"]);
    const svc = await getJson<{ metadata: Meta; spec: Record<string, unknown> }>(["service", "web", ...ns]);
    assert.deepEqual(svc.metadata.labels, { app: "web" });
    assert.equal(svc.spec["type"], "ClusterIP");
    assert.deepEqual(svc.spec["selector"], { app: "web" });
    assert.deepEqual(svc.spec["ports"], [
      { name: "80-8080", port: 80, protocol: "TCP", targetPort: 8080 },
      { name: "443-8443", port: 443, protocol: "TCP", targetPort: 8443 },
    ]);

    // There is no `create lease` generator: a Lease comes from a file.
    await mp.kubectl(["create", "-f", "-"], {
      input:
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: leader\n  namespace: kc-gen\n" +
        'spec:\n  holderIdentity: node-a\n  leaseDurationSeconds: 15\n  renewTime: "2026-01-02T03:04:05.123456Z"\n',
    });
    const lease = await getJson<{ spec: unknown }>(["lease", "leader", ...ns]);
    assert.deepEqual(lease.spec, {
      holderIdentity: "node-a",
      leaseDurationSeconds: 15,
      renewTime: "2026-01-02T03:04:05.123456Z",
    });
    assert.match(
      await mp.kubectl(["get", "lease", "leader", ...ns]),
      /^NAME\s+HOLDER\s+AGE\nleader\s+node-a\s+\d+s\n$/,
    );
  });

  test("delete --wait=false and delete -f", async () => {
    await mp.kubectl(["create", "namespace", "kc-delete"]);
    await mp.kubectl(["create", "configmap", "quick", "-n", "kc-delete"]);
    assert.equal(
      await mp.kubectl(["delete", "cm", "quick", "-n", "kc-delete", "--wait=false"]),
      'configmap "quick" deleted\n',
    );
    await assert.rejects(
      mp.kubectl(["get", "cm", "quick", "-n", "kc-delete"]),
      /configmaps "quick" not found/,
    );

    const manifest = await file(
      "delete.yaml",
      [configMap("f1", "kc-delete", { a: "1" }), configMap("f2", "kc-delete", { a: "2" })].join("---\n"),
    );
    await mp.kubectl(["create", "-f", manifest]);
    await mp.kubectl(["create", "configmap", "keep", "-n", "kc-delete"]);
    assert.equal(
      await mp.kubectl(["delete", "-f", manifest]),
      'configmap "f1" deleted\nconfigmap "f2" deleted\n',
    );
    const left = (await mp.kubectl(["get", "cm", "-n", "kc-delete", "-o", "name"])).trim().split("\n");
    assert.ok(
      left.includes("configmap/keep") && !left.includes("configmap/f1") && !left.includes("configmap/f2"),
    );

    await assert.rejects(
      mp.kubectl(["delete", "-f", manifest]),
      /Error from server \(NotFound\): error when deleting ".*delete\.yaml": configmaps "f1" not found/,
    );
    assert.equal(await mp.kubectl(["delete", "-f", manifest, "--ignore-not-found"]), "");
  });

  test("field validation on create and patch, Secret.stringData, ServiceAccount subjects", async () => {
    const unknown = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict-unk\nspec:\n  foo: bar\n";
    await assert.rejects(
      mp.kubectl(["create", "-f", "-", "--validate=strict"], { input: unknown }),
      /ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"/,
    );
    await assert.rejects(mp.kubectl(["get", "cm", "strict-unk"]), /not found/);
    await mp.kubectl(["create", "-f", "-", "--validate=warn"], { input: unknown });
    const stored = JSON.parse(await mp.kubectl(["get", "cm", "strict-unk", "-o", "json"])) as Record<
      string,
      unknown
    >;
    assert.equal(stored["spec"], undefined, "unknown fields of built-in kinds are dropped");
    await mp.kubectl([
      "patch",
      "cm",
      "strict-unk",
      "--type=merge",
      "-p",
      '{"extra":{"x":1},"data":{"k":"v"}}',
    ]);
    const patched = JSON.parse(await mp.kubectl(["get", "cm", "strict-unk", "-o", "json"])) as Record<
      string,
      unknown
    >;
    assert.equal(patched["extra"], undefined);
    assert.deepEqual(patched["data"], { k: "v" });

    await mp.kubectl(["create", "-f", "-"], {
      input:
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: string-data\nstringData:\n  password: hunter2\n",
    });
    const secret = JSON.parse(await mp.kubectl(["get", "secret", "string-data", "-o", "json"])) as Record<
      string,
      unknown
    >;
    assert.deepEqual(secret["data"], { password: "aHVudGVyMg==" });
    assert.equal(secret["stringData"], undefined);

    const rb =
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: sa-binding\nroleRef:\n" +
      "  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: r\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: default\n";
    assert.match(await mp.kubectl(["apply", "-f", "-"], { input: rb }), /created/);
    assert.match(await mp.kubectl(["apply", "-f", "-"], { input: rb }), /unchanged/);
  });

  test("Services get a cluster IP of their own, keep it on update, and headless ones none", async () => {
    await mp.kubectl(["create", "service", "clusterip", "ip-a", "--tcp=80:8080"]);
    await mp.kubectl(["create", "service", "clusterip", "ip-b", "--tcp=80:8080"]);
    await mp.kubectl(["create", "service", "clusterip", "ip-headless", "--clusterip=None"]);
    const ip = async (name: string): Promise<{ clusterIP: string; clusterIPs: string[] }> =>
      (
        JSON.parse(await mp.kubectl(["get", "svc", name, "-o", "json"])) as {
          spec: { clusterIP: string; clusterIPs: string[] };
        }
      ).spec;
    const a = await ip("ip-a");
    const b = await ip("ip-b");
    assert.match(a.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    assert.deepEqual(a.clusterIPs, [a.clusterIP]);
    assert.notEqual(a.clusterIP, b.clusterIP);
    assert.equal((await ip("ip-headless")).clusterIP, "None");
    await mp.kubectl(["label", "svc", "ip-a", "tier=web"]);
    assert.equal((await ip("ip-a")).clusterIP, a.clusterIP);
    await assert.rejects(
      mp.kubectl(["create", "-f", "-"], {
        input: `apiVersion: v1\nkind: Service\nmetadata:\n  name: ip-taken\nspec:\n  clusterIP: ${a.clusterIP}\n  ports:\n  - port: 80\n`,
      }),
      /provided IP is already allocated/,
    );
  });
});
