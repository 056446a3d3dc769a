// Field management with the real kubectl: server-side apply (create, change, conflict with a
// second manager, --force-conflicts), managedFields as kubectl shows them, client-side apply
// next to it, and server-side apply of a custom resource.

import { KubeConfig } from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import https from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let mp: TestMultiplane;

before(async () => {
  mp = await startMultiplane();
});
after(async () => {
  await mp?.destroy();
});

interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}
interface Obj {
  metadata: { annotations?: Record<string, string>; managedFields?: ManagedFieldsEntry[] };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

/** A request over HTTPS as the admin (the kubeconfig's CA and token): status and parsed body. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const kc = new KubeConfig();
  kc.loadFromFile(mp.kubeconfigPath);
  const url = new URL(path, mp.url);
  const token = kc.getCurrentUser()?.token;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        ca: Buffer.from(kc.getCurrentCluster()?.caData ?? "", "base64"),
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const file = async (name: string, content: string): Promise<string> => {
  const path = join(mp.dataDir, name);
  await writeFile(path, content);
  return path;
};
const getJson = async (args: string[]): Promise<Obj> =>
  JSON.parse(await mp.kubectl(["get", ...args, "-o", "json", "--show-managed-fields"])) as Obj;
const entry = (obj: Obj, manager: string): ManagedFieldsEntry | undefined =>
  obj.metadata.managedFields?.find((e) => e.manager === manager);
const configMap = (ns: string, data: Record<string, string>): string =>
  `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
  labels:
    app: demo
data:
${Object.entries(data)
  .map(([k, v]) => `  ${k}: "${v}"`)
  .join("\n")}
`;
/** kubectl's message on an apply conflict, after the server's "Apply failed with …" line. */
const conflictHelp = `Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the \`--force-conflicts\` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
`;

describe("server-side apply with kubectl", () => {
  test("create, change, conflict with a second manager, then --force-conflicts moves ownership", async () => {
    await mp.kubectl(["create", "namespace", "ssa"]);
    const v1 = await file("ssa-v1.yaml", configMap("ssa", { key: "one", other: "x" }));
    assert.equal(
      await mp.kubectl(["apply", "--server-side", "-f", v1]),
      "configmap/settings serverside-applied\n",
    );
    const created = await getJson(["cm", "settings", "-n", "ssa"]);
    assert.deepEqual(created.data, { key: "one", other: "x" });
    const kubectl = entry(created, "kubectl");
    assert.equal(kubectl?.operation, "Apply");
    assert.equal(kubectl?.apiVersion, "v1");
    assert.match(kubectl?.time ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(kubectl?.fieldsV1, {
      "f:data": { "f:key": {}, "f:other": {} },
      "f:metadata": { "f:labels": { "f:app": {} } },
    });

    // Applying again with a change; a key left out of the manifest is removed.
    const v2 = await file("ssa-v2.yaml", configMap("ssa", { key: "two" }));
    assert.equal(
      await mp.kubectl(["apply", "--server-side", "-f", v2]),
      "configmap/settings serverside-applied\n",
    );
    const changed = await getJson(["cm", "settings", "-n", "ssa"]);
    assert.deepEqual(changed.data, { key: "two" });
    assert.deepEqual(entry(changed, "kubectl")?.fieldsV1, {
      "f:data": { "f:key": {} },
      "f:metadata": { "f:labels": { "f:app": {} } },
    });

    // A second manager changing the same field conflicts, as kubectl prints it.
    const other = await file("ssa-other.yaml", configMap("ssa", { key: "three" }));
    await assert.rejects(
      mp.kubectl(["apply", "--server-side", "--field-manager=other", "-f", other]),
      (err: Error) => {
        assert.ok(
          err.message.endsWith(
            `error: Apply failed with 1 conflict: conflict with "kubectl": .data.key\n${conflictHelp}`,
          ),
          err.message,
        );
        return true;
      },
    );
    assert.deepEqual((await getJson(["cm", "settings", "-n", "ssa"])).data, { key: "two" });

    // --force-conflicts takes the field over.
    assert.equal(
      await mp.kubectl(["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", other]),
      "configmap/settings serverside-applied\n",
    );
    const yaml = await mp.kubectl([
      "get",
      "cm",
      "settings",
      "-n",
      "ssa",
      "-o",
      "yaml",
      "--show-managed-fields",
    ]);
    assert.match(yaml, /\n {2}key: three\n/);
    assert.match(
      yaml,
      / {2}managedFields:\n {2}- apiVersion: v1\n {4}fieldsType: FieldsV1\n {4}fieldsV1:\n {6}f:metadata:\n {8}f:labels:\n {10}f:app: \{\}\n {4}manager: kubectl\n {4}operation: Apply\n {4}time: .*\n {2}- apiVersion: v1\n {4}fieldsType: FieldsV1\n {4}fieldsV1:\n {6}f:data:\n {8}f:key: \{\}\n {6}f:metadata:\n {8}f:labels:\n {10}f:app: \{\}\n {4}manager: other\n {4}operation: Apply\n/,
    );
    // kubectl hides managedFields unless asked.
    assert.doesNotMatch(
      await mp.kubectl(["get", "cm", "settings", "-n", "ssa", "-o", "yaml"]),
      /managedFields/,
    );
  });

  test("client-side apply creates then patches, recorded as kubectl-client-side-apply", async () => {
    await mp.kubectl(["create", "namespace", "csa"]);
    const v1 = await file("csa-v1.yaml", configMap("csa", { a: "1", b: "2" }));
    assert.equal(await mp.kubectl(["apply", "-f", v1]), "configmap/settings created\n");
    const created = await getJson(["cm", "settings", "-n", "csa"]);
    assert.match(
      created.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "",
      /"a":"1"/,
    );
    assert.deepEqual(entry(created, "kubectl-client-side-apply")?.fieldsV1, {
      "f:data": { ".": {}, "f:a": {}, "f:b": {} },
      "f:metadata": {
        "f:annotations": { ".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {} },
        "f:labels": { ".": {}, "f:app": {} },
      },
    });
    assert.equal(entry(created, "kubectl-client-side-apply")?.operation, "Update");

    const v2 = await file("csa-v2.yaml", configMap("csa", { a: "10", c: "3" }));
    assert.equal(await mp.kubectl(["apply", "-f", v2]), "configmap/settings configured\n");
    const patched = await getJson(["cm", "settings", "-n", "csa"]);
    assert.deepEqual(patched.data, { a: "10", c: "3" });
    assert.match(
      patched.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "",
      /"c":"3"/,
    );
    assert.deepEqual(
      patched.metadata.managedFields?.map((e) => e.manager),
      ["kubectl-client-side-apply"],
    );
    assert.deepEqual(entry(patched, "kubectl-client-side-apply")?.fieldsV1, {
      "f:data": { ".": {}, "f:a": {}, "f:c": {} },
      "f:metadata": {
        "f:annotations": { ".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {} },
        "f:labels": { ".": {}, "f:app": {} },
      },
    });

    // kubectl apply --server-side takes over what its client-side apply managed, without conflicts.
    const v3 = await file("csa-v3.yaml", configMap("csa", { a: "11", c: "3" }));
    assert.equal(
      await mp.kubectl(["apply", "--server-side", "-f", v3]),
      "configmap/settings serverside-applied\n",
    );
    const upgraded = await getJson(["cm", "settings", "-n", "csa"]);
    assert.deepEqual(upgraded.data, { a: "11", c: "3" });
    assert.match(
      upgraded.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "",
      /"a":"11"/,
    );
  });

  test("kubectl label and edit-like writes record their own managers", async () => {
    await mp.kubectl(["create", "namespace", "labels"]);
    await mp.kubectl(["create", "configmap", "c", "-n", "labels", "--from-literal=k=v"]);
    await mp.kubectl(["label", "configmap", "c", "-n", "labels", "team=blue"]);
    const obj = await getJson(["cm", "c", "-n", "labels"]);
    assert.deepEqual(entry(obj, "kubectl-create")?.fieldsV1, { "f:data": { ".": {}, "f:k": {} } });
    assert.deepEqual(entry(obj, "kubectl-label")?.fieldsV1, {
      "f:metadata": { "f:labels": { ".": {}, "f:team": {} } },
    });
  });

  test("server-side apply of a custom resource uses the CRD's list types", async () => {
    await mp.kubectl(["apply", "-f", "-"], {
      input: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
`,
    });
    await mp.kubectl(["wait", "--for=condition=Established", "crd/gadgets.example.com", "--timeout=30s"]);
    const gadget = (ports: string): string => `apiVersion: example.com/v1
kind: Gadget
metadata:
  name: g
  namespace: default
spec:
  ports:
${ports}`;
    const first = await file("gadget-1.yaml", gadget("  - {name: http, port: 80}\n"));
    assert.equal(
      await mp.kubectl(["apply", "--server-side", "-f", first]),
      "gadget.example.com/g serverside-applied\n",
    );
    // A second manager adds an item by key: no conflict, both kept.
    const second = await file("gadget-2.yaml", gadget("  - {name: https, port: 443}\n"));
    await mp.kubectl(["apply", "--server-side", "--field-manager=tls", "-f", second]);
    const obj = await getJson(["gadget", "g", "-n", "default"]);
    assert.deepEqual(obj.spec, {
      ports: [
        { name: "http", port: 80 },
        { name: "https", port: 443 },
      ],
    });
    assert.deepEqual(entry(obj, "tls")?.fieldsV1, {
      "f:spec": { "f:ports": { 'k:{"name":"https"}': { ".": {}, "f:name": {}, "f:port": {} } } },
    });
    // Changing the other manager's item conflicts on that item's field.
    const clash = await file("gadget-3.yaml", gadget("  - {name: https, port: 8443}\n"));
    await assert.rejects(mp.kubectl(["apply", "--server-side", "-f", clash]), (err: Error) => {
      assert.match(
        err.message,
        /Apply failed with 1 conflict: conflict with "tls": \.spec\.ports\[name="https"\]\.port\n/,
      );
      return true;
    });
  });

  test("over HTTP: create-on-apply answers 201, then 200; fieldManager is required; Status of a conflict", async () => {
    await mp.kubectl(["create", "namespace", "raw"]);
    const path = "/api/v1/namespaces/raw/configmaps/r";
    const apply = (query: string, data: Record<string, string>) =>
      raw(
        "PATCH",
        `${path}?${query}`,
        { "Content-Type": "application/apply-patch+yaml" },
        JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "r" }, data }),
      );
    const missing = await apply("", { a: "1" });
    assert.equal(missing.status, 422);
    assert.equal(
      missing.body["message"],
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    assert.equal((await apply("fieldManager=one", { a: "1" })).status, 201);
    assert.equal((await apply("fieldManager=one", { a: "1", b: "2" })).status, 200);
    const conflict = await apply("fieldManager=two", { a: "2" });
    assert.equal(conflict.status, 409);
    assert.deepEqual(conflict.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Apply failed with 1 conflict: conflict with "one": .data.a',
      reason: "Conflict",
      details: {
        causes: [{ reason: "FieldManagerConflict", message: 'conflict with "one"', field: ".data.a" }],
      },
      code: 409,
    });
    // A write that names no manager is recorded for its User-Agent's prefix.
    const put = await raw(
      "PUT",
      path,
      { "Content-Type": "application/json", "User-Agent": "my-operator/1.2.3 (linux/amd64)" },
      JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "r" },
        data: { a: "3", b: "2" },
      }),
    );
    assert.equal(put.status, 200);
    const entries = (put.body["metadata"] as { managedFields: { manager: string; operation: string }[] })
      .managedFields;
    assert.deepEqual(
      entries.map((e) => `${e.operation}/${e.manager}`),
      ["Apply/one", "Update/my-operator"],
    );
  });
});
