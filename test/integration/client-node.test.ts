// @kubernetes/client-node 1.x against Multiplane on a real etcd: typed CRUD (CoreV1Api),
// custom objects on a CRD, KubernetesObjectApi, Watch, an Informer that recovers from
// 410 Gone, and the exact Status of error answers over raw HTTPS (node's https, the CA
// from the kubeconfig and the admin bearer token).

import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubernetesObject,
  type V1ConfigMap,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import https from "node:https";
import { after, before, describe, test } from "node:test";
import { objectKey, resourcePrefix } from "../../apiserver/src/storage/keys.ts";
import { startEtcdProcess, type EtcdProcess } from "../support/etcd-process.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let etcd: EtcdProcess;
let mp: TestMultiplane;
let kc: KubeConfig;
/** The client under test. */
let core: CoreV1Api;
/** A second, independent client: "someone else" writing while the first one watches. */
let otherCore: CoreV1Api;

before(async () => {
  etcd = await startEtcdProcess();
  mp = await startMultiplane({ etcdEndpoints: [etcd.endpoint] });
  kc = new KubeConfig();
  kc.loadFromFile(mp.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  const otherKc = new KubeConfig();
  otherKc.loadFromFile(mp.kubeconfigPath);
  otherCore = otherKc.makeApiClient(CoreV1Api);
});

after(async () => {
  await mp?.destroy();
  await etcd?.destroy();
});

// ---------------------------------------------------------------------------
// Helpers

const suffix = (): string => randomBytes(3).toString("hex");

async function freshNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${suffix()}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

/** Polls `check` until it holds; fails with `what` and the last observation otherwise. */
async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  describeState: () => unknown = () => undefined,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      assert.fail(
        `timed out after ${timeoutMs} ms waiting for ${what}; last state: ${JSON.stringify(describeState())}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface WireStatus {
  kind: string;
  apiVersion: string;
  metadata: { continue?: string; resourceVersion?: string };
  status: string;
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason?: string; field?: string; message?: string }[];
  };
  code: number;
}

/** The Status a client-node call failed with (client-node 1.x keeps the body as text). */
async function statusOf(call: Promise<unknown>): Promise<WireStatus> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = err.body;
    return (typeof body === "string" ? JSON.parse(body) : body) as WireStatus;
  }
  return assert.fail("expected the call to fail");
}

/** A metav1.Status failure as kube-apiserver writes it; `details.group` is omitted for the core group. */
function assertFailure(
  actual: WireStatus,
  expected: {
    code: number;
    reason: string;
    message: string | RegExp;
    details?: { name: string; kind: string };
  },
): void {
  assert.equal(actual.kind, "Status");
  assert.equal(actual.apiVersion, "v1");
  assert.equal(actual.status, "Failure");
  assert.equal(actual.code, expected.code);
  assert.equal(actual.reason, expected.reason);
  if (typeof expected.message === "string") assert.equal(actual.message, expected.message);
  else assert.match(actual.message, expected.message);
  if (expected.details) {
    assert.equal(actual.details?.name, expected.details.name);
    assert.equal(actual.details?.kind, expected.details.kind);
    assert.equal(actual.details?.group ?? "", "");
  }
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTPS request to the server, outside client-node. `token: null` sends no
 * Authorization header. Resolves with the response even when the server answers before
 * reading the whole body (413) and closes the connection under the upload.
 */
function raw(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; token?: string | null } = {},
): Promise<RawResponse> {
  const url = new URL(path, mp.url);
  const token = opts.token === undefined ? kc.getCurrentUser()?.token : opts.token;
  const ca = Buffer.from(kc.getCurrentCluster()?.caData ?? "", "base64");
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = https.request(
      {
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        ca,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(opts.body !== undefined ? { "Content-Length": String(Buffer.byteLength(opts.body)) } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        answered = true;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    req.end(opts.body);
  });
}

/** Whether a read finds its object: false on 404, rethrows anything else. */
async function found(read: Promise<unknown>): Promise<boolean> {
  try {
    await read;
    return true;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return false;
    throw err;
  }
}

const json = <T>(r: RawResponse): T => JSON.parse(r.body) as T;

/** Opens a watch over raw HTTPS and resolves with its first event (then closes it). */
function firstWatchEvent(path: string): Promise<{ type: string; object: WireStatus & KubernetesObject }> {
  const url = new URL(path, mp.url);
  const ca = Buffer.from(kc.getCurrentCluster()?.caData ?? "", "base64");
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        ca,
        headers: { Authorization: `Bearer ${kc.getCurrentUser()?.token ?? ""}` },
      },
      (res) => {
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          buf += d;
          const nl = buf.indexOf("\n");
          if (nl < 0) return;
          resolve(JSON.parse(buf.slice(0, nl)) as { type: string; object: WireStatus & KubernetesObject });
          req.destroy();
        });
        res.on("end", () =>
          reject(new Error(`watch ${path} ended without an event (HTTP ${res.statusCode})`)),
        );
      },
    );
    req.on("error", (err) => {
      if (!req.destroyed) reject(err);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no watch event on ${path} in 10 s`)));
  });
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

const conflictMessage = (resource: string, name: string): string =>
  `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`;

// ---------------------------------------------------------------------------

describe("CoreV1Api", () => {
  test("ConfigMaps: create, read, replace, stale replace → 409 Conflict, merge patch, delete", async () => {
    const namespace = await freshNamespace("cm");
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "settings", labels: { app: "web" } }, data: { color: "blue", size: "m" } },
    });
    assert.ok(created.metadata?.uid, "uid assigned");
    assert.match(created.metadata?.resourceVersion ?? "", /^\d+$/);
    assert.ok(created.metadata?.creationTimestamp instanceof Date);

    const read = await core.readNamespacedConfigMap({ name: "settings", namespace });
    assert.deepEqual(read.data, { color: "blue", size: "m" });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);

    const replaced = await core.replaceNamespacedConfigMap({
      name: "settings",
      namespace,
      body: { ...read, data: { color: "red" } },
    });
    assert.deepEqual(replaced.data, { color: "red" });
    assert.ok(Number(replaced.metadata?.resourceVersion) > Number(read.metadata?.resourceVersion));

    // `read` still carries the resourceVersion the replace above made stale.
    const stale = await statusOf(
      core.replaceNamespacedConfigMap({
        name: "settings",
        namespace,
        body: { ...read, data: { color: "green" } },
      }),
    );
    assertFailure(stale, {
      code: 409,
      reason: "Conflict",
      message: conflictMessage("configmaps", "settings"),
      details: { name: "settings", kind: "configmaps" },
    });
    assert.deepEqual((await core.readNamespacedConfigMap({ name: "settings", namespace })).data, {
      color: "red",
    });

    // client-node 1.x sends PATCH as application/json-patch+json unless told otherwise.
    const patched = await core.patchNamespacedConfigMap(
      { name: "settings", namespace, body: { metadata: { labels: { tier: "front" } }, data: { size: "l" } } },
      mergePatch,
    );
    assert.deepEqual(patched.data, { color: "red", size: "l" });
    assert.deepEqual(patched.metadata?.labels, { app: "web", tier: "front" });
    const removed = await core.patchNamespacedConfigMap(
      { name: "settings", namespace, body: { data: { color: null } } },
      mergePatch,
    );
    assert.deepEqual(removed.data, { size: "l" });

    await core.deleteNamespacedConfigMap({ name: "settings", namespace });
    assert.equal(await found(core.readNamespacedConfigMap({ name: "settings", namespace })), false);
  });

  test("ConfigMaps: list with labelSelector, and limit/continue over every page", async () => {
    const namespace = await freshNamespace("list");
    const names = Array.from({ length: 7 }, (_, i) => `cm-${i}`);
    for (const [i, name] of names.entries()) {
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name, labels: { parity: i % 2 === 0 ? "even" : "odd", batch: "1" } } },
      });
    }
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "unlabelled" } } });

    const even = await core.listNamespacedConfigMap({ namespace, labelSelector: "parity=even" });
    assert.deepEqual(
      even.items.map((c) => c.metadata?.name),
      ["cm-0", "cm-2", "cm-4", "cm-6"],
    );
    const setBased = await core.listNamespacedConfigMap({
      namespace,
      labelSelector: "parity in (odd),batch",
    });
    assert.deepEqual(
      setBased.items.map((c) => c.metadata?.name),
      ["cm-1", "cm-3", "cm-5"],
    );
    const without = await core.listNamespacedConfigMap({ namespace, labelSelector: "!parity" });
    assert.deepEqual(
      without.items.map((c) => c.metadata?.name),
      ["unlabelled"],
    );

    // Pages of 3 over 8 objects: 3 + 3 + 2, one resourceVersion for all, no duplicates.
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cont: string | undefined;
    let listRv: string | undefined;
    do {
      const page = await core.listNamespacedConfigMap({
        namespace,
        limit: 3,
        ...(cont ? { _continue: cont } : {}),
      });
      pageSizes.push(page.items.length);
      seen.push(...page.items.map((c) => c.metadata?.name ?? ""));
      listRv ??= page.metadata?.resourceVersion;
      assert.equal(
        page.metadata?.resourceVersion,
        listRv,
        "every page is at the first page's resourceVersion",
      );
      cont = page.metadata?._continue;
      if (cont) assert.equal(page.metadata?.remainingItemCount, 8 - seen.length);
      // A write between pages does not show up in the pages that follow.
      if (pageSizes.length === 1) {
        await otherCore.createNamespacedConfigMap({
          namespace,
          body: { metadata: { name: "zz-after-page-1" } },
        });
      }
    } while (cont);
    assert.deepEqual(pageSizes, [3, 3, 2]);
    assert.deepEqual(seen, [...names, "unlabelled"]);

    // limit with a label selector still fills pages with matching objects only.
    const evenPage = await core.listNamespacedConfigMap({
      namespace,
      labelSelector: "parity=even",
      limit: 2,
    });
    assert.deepEqual(
      evenPage.items.map((c) => c.metadata?.name),
      ["cm-0", "cm-2"],
    );
    assert.ok(evenPage.metadata?._continue, "a continue token for the remaining even ones");
  });

  test("Secrets: create, read, replace, stale replace → 409, merge patch, delete", async () => {
    const namespace = await freshNamespace("secret");
    const b64 = (v: string): string => Buffer.from(v).toString("base64");
    const created = await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "creds" }, data: { user: b64("admin"), token: b64("t0k") } },
    });
    assert.equal(created.type, "Opaque", "type defaults to Opaque");

    const read = await core.readNamespacedSecret({ name: "creds", namespace });
    assert.deepEqual(read.data, { user: b64("admin"), token: b64("t0k") });
    await core.replaceNamespacedSecret({
      name: "creds",
      namespace,
      body: { ...read, data: { ...read.data, extra: b64("1") } },
    });
    const stale = await statusOf(core.replaceNamespacedSecret({ name: "creds", namespace, body: read }));
    assertFailure(stale, {
      code: 409,
      reason: "Conflict",
      message: conflictMessage("secrets", "creds"),
      details: { name: "creds", kind: "secrets" },
    });

    const patched = await core.patchNamespacedSecret(
      {
        name: "creds",
        namespace,
        body: { data: { token: null }, metadata: { annotations: { rotated: "yes" } } },
      },
      mergePatch,
    );
    assert.deepEqual(patched.data, { user: b64("admin"), extra: b64("1") });
    assert.equal(patched.metadata?.annotations?.["rotated"], "yes");

    await core.deleteNamespacedSecret({ name: "creds", namespace });
    assert.equal(await found(core.readNamespacedSecret({ name: "creds", namespace })), false);
  });

  test("Secrets: stringData is merged into data (winning over it) and never stored", async () => {
    const namespace = await freshNamespace("secret");
    const b64 = (v: string): string => Buffer.from(v).toString("base64");
    const created = await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: "mixed" },
        data: { user: b64("nobody"), token: b64("t0k") },
        stringData: { user: "admin" },
      },
    });
    const read = await core.readNamespacedSecret({ name: "mixed", namespace });
    for (const secret of [created, read]) {
      assert.deepEqual(secret.data, { user: b64("admin"), token: b64("t0k") });
      assert.equal(secret.stringData, undefined, "stringData is write-only");
    }
  });

  test("Namespaces: create, read, replace, stale replace → 409, merge patch, list by label, delete", async () => {
    const name = `ns-${suffix()}`;
    const created = await core.createNamespace({ body: { metadata: { name, labels: { team: "a" } } } });
    assert.equal(created.status?.phase, "Active");
    assert.equal(created.metadata?.labels?.["kubernetes.io/metadata.name"], name, "the name label is set");

    const read = await core.readNamespace({ name });
    const replaced = await core.replaceNamespace({
      name,
      body: { ...read, metadata: { ...read.metadata, labels: { ...read.metadata?.labels, team: "b" } } },
    });
    assert.equal(replaced.metadata?.labels?.["team"], "b");
    const stale = await statusOf(core.replaceNamespace({ name, body: read }));
    assertFailure(stale, {
      code: 409,
      reason: "Conflict",
      message: conflictMessage("namespaces", name),
      details: { name, kind: "namespaces" },
    });

    const patched = await core.patchNamespace(
      { name, body: { metadata: { annotations: { owner: "me" } } } },
      mergePatch,
    );
    assert.equal(patched.metadata?.annotations?.["owner"], "me");

    const byLabel = await core.listNamespace({ labelSelector: `kubernetes.io/metadata.name=${name},team=b` });
    assert.deepEqual(
      byLabel.items.map((n) => n.metadata?.name),
      [name],
    );

    // Deleting a namespace: kube marks it Terminating (its spec.finalizers hold "kubernetes"),
    // refuses new content, and the namespace controller deletes the content, then the
    // namespace. A finalizer on one configmap holds the namespace in Terminating until the
    // test lets go. client-node types the delete's answer as V1Status, so read it back.
    const hold = "client-node.example.com/hold";
    await core.createNamespacedConfigMap({
      namespace: name,
      body: { metadata: { name: "held", finalizers: [hold] } },
    });
    await core.deleteNamespace({ name });
    assert.ok(
      await found(core.readNamespace({ name })),
      `namespace ${name} was deleted at once, content and all`,
    );
    const terminating = await core.readNamespace({ name });
    assert.ok(terminating.metadata?.deletionTimestamp, "deletionTimestamp set");
    assert.equal(terminating.status?.phase, "Terminating");
    assertFailure(
      await statusOf(
        core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: "late" } } }),
      ),
      {
        code: 403,
        reason: "Forbidden",
        message: `configmaps "late" is forbidden: unable to create new content in namespace ${name} because it is being terminated`,
        details: { name: "late", kind: "configmaps" },
      },
    );
    let held: V1ConfigMap | undefined;
    await waitFor(
      "the namespace controller to delete the held configmap (it stays, marked, behind its finalizer)",
      async () => {
        held = await core.readNamespacedConfigMap({ name: "held", namespace: name });
        return held.metadata?.deletionTimestamp !== undefined;
      },
      () => held?.metadata,
    );
    await core.patchNamespacedConfigMap(
      { name: "held", namespace: name, body: { metadata: { finalizers: null } } },
      mergePatch,
    );
    await waitFor(
      `namespace ${name} and its configmap to be gone once the finalizer is removed`,
      async () =>
        !(await found(core.readNamespacedConfigMap({ name: "held", namespace: name }))) &&
        !(await found(core.readNamespace({ name }))),
      undefined,
      20_000,
    );
  });
});

// ---------------------------------------------------------------------------

describe("CustomObjectsApi on a CRD", () => {
  test("CRD becomes Established; custom objects: create, get, list, merge patch, delete", async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const crdName = "widgets.client-node.example.com";
    const group = "client-node.example.com";
    const crd: V1CustomResourceDefinition = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: crdName },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    properties: { size: { type: "integer" }, color: { type: "string" } },
                  },
                },
              },
            },
          },
        ],
      },
    };
    await ext.createCustomResourceDefinition({ body: crd });
    let last: V1CustomResourceDefinition | undefined;
    await waitFor(
      `CRD ${crdName} to report the condition Established=True (kube's establishing controller sets it within about a second)`,
      async () => {
        last = await ext.readCustomResourceDefinition({ name: crdName });
        return (last.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True");
      },
      () => ({ status: last?.status ?? "<no status>" }),
    );
    assert.equal(last?.status?.acceptedNames?.plural, "widgets");
    assert.deepEqual(last?.status?.storedVersions, ["v1"]);

    const namespace = await freshNamespace("cr");
    const custom = kc.makeApiClient(CustomObjectsApi);
    const where = { group, version: "v1", namespace, plural: "widgets" };
    type Widget = KubernetesObject & { spec?: { size?: number; color?: string } };

    const created = (await custom.createNamespacedCustomObject({
      ...where,
      body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 1 } },
    })) as Widget;
    assert.equal(created.metadata?.namespace, namespace);
    assert.equal(created.metadata?.generation, 1);

    const got = (await custom.getNamespacedCustomObject({ ...where, name: "w1" })) as Widget;
    assert.deepEqual(got.spec, { size: 1 });

    await custom.createNamespacedCustomObject({
      ...where,
      body: {
        apiVersion: `${group}/v1`,
        kind: "Widget",
        metadata: { name: "w2", labels: { big: "yes" } },
        spec: { size: 9 },
      },
    });
    const list = (await custom.listNamespacedCustomObject({ ...where })) as { kind: string; items: Widget[] };
    assert.equal(list.kind, "WidgetList");
    assert.deepEqual(
      list.items.map((w) => w.metadata?.name),
      ["w1", "w2"],
    );
    const big = (await custom.listNamespacedCustomObject({ ...where, labelSelector: "big=yes" })) as {
      items: Widget[];
    };
    assert.deepEqual(
      big.items.map((w) => w.metadata?.name),
      ["w2"],
    );

    const patched = (await custom.patchNamespacedCustomObject(
      { ...where, name: "w1", body: { spec: { color: "blue" } } },
      mergePatch,
    )) as Widget;
    assert.deepEqual(patched.spec, { size: 1, color: "blue" });
    assert.equal(patched.metadata?.generation, 2, "a spec change bumps generation");

    await custom.deleteNamespacedCustomObject({ ...where, name: "w1" });
    const gone = await statusOf(custom.getNamespacedCustomObject({ ...where, name: "w1" }));
    assertFailure(gone, {
      code: 404,
      reason: "NotFound",
      message: `widgets.${group} "w1" not found`,
    });
    assert.equal(gone.details?.group, group);
  });
});

// ---------------------------------------------------------------------------

describe("KubernetesObjectApi", () => {
  test("create, merge patch and read a ConfigMap by its manifest", async () => {
    const namespace = await freshNamespace("objapi");
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const manifest: V1ConfigMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "by-manifest", namespace, labels: { via: "object-api" } },
      data: { a: "1" },
    };
    const created = await objects.create(manifest);
    assert.ok(created.metadata?.uid);

    // A merge patch through KubernetesObjectApi (server-side apply has its own test below).
    const patched = await objects.patch<V1ConfigMap>(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "by-manifest", namespace }, data: { b: "2" } },
      undefined,
      undefined,
      "client-node-test",
      undefined,
      PatchStrategy.MergePatch,
    );
    assert.deepEqual(patched.data, { a: "1", b: "2" });

    const read = await objects.read<V1ConfigMap>({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "by-manifest", namespace },
    });
    assert.deepEqual(read.data, { a: "1", b: "2" });
    assert.deepEqual(read.metadata?.labels, { via: "object-api" });
    assert.equal(read.metadata?.resourceVersion, patched.metadata?.resourceVersion);
  });

  test("server-side apply with a fieldManager creates, then updates, and records managedFields", async () => {
    const namespace = await freshNamespace("ssa");
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const apply = (data: Record<string, string>): Promise<V1ConfigMap> =>
      objects.patch<V1ConfigMap>(
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "applied", namespace }, data },
        undefined,
        undefined,
        "client-node-test",
        true,
        PatchStrategy.ServerSideApply,
      );
    const first = await apply({ a: "1" });
    assert.deepEqual(first.data, { a: "1" });
    const second = await apply({ a: "2" });
    assert.deepEqual(second.data, { a: "2" });
    assert.ok(
      second.metadata?.managedFields?.some(
        (m) => m.manager === "client-node-test" && m.operation === "Apply",
      ),
    );
  });
});

// ---------------------------------------------------------------------------

describe("Watch and Informer", () => {
  test("Watch sees ADDED, MODIFIED and DELETED for writes made by another client", async () => {
    const namespace = await freshNamespace("watch");
    const listed = await core.listNamespacedConfigMap({ namespace });
    const events: { type: string; name: string; rv: string; data: Record<string, string> | undefined }[] = [];
    let ended = "still open";
    const controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      { resourceVersion: listed.metadata?.resourceVersion ?? "" },
      (type, obj: V1ConfigMap) => {
        events.push({
          type,
          name: obj.metadata?.name ?? "",
          rv: obj.metadata?.resourceVersion ?? "",
          data: obj.data,
        });
      },
      (err: unknown) => {
        ended = `ended: ${String(err)}`;
      },
    );
    try {
      await otherCore.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: "watched" }, data: { v: "1" } },
      });
      await otherCore.patchNamespacedConfigMap(
        { name: "watched", namespace, body: { data: { v: "2" } } },
        mergePatch,
      );
      await otherCore.deleteNamespacedConfigMap({ name: "watched", namespace });
      await waitFor(
        "three watch events",
        () => events.length >= 3,
        () => ({ events, ended }),
      );
      assert.deepEqual(
        events.map((e) => [e.type, e.name]),
        [
          ["ADDED", "watched"],
          ["MODIFIED", "watched"],
          ["DELETED", "watched"],
        ],
      );
      assert.deepEqual(events[1]?.data, { v: "2" });
      const rvs = events.map((e) => Number(e.rv));
      assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, `resourceVersions increase: ${rvs.join(", ")}`);
      assert.equal(ended, "still open");
    } finally {
      controller.abort();
    }
  });

  test("Informer sees add/update/delete and recovers from 410 Gone by relisting", async () => {
    const namespace = await freshNamespace("informer");
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const informer = makeInformer<V1ConfigMap>(kc, path, () => core.listNamespacedConfigMap({ namespace }));
    const log: string[] = [];
    const errors: unknown[] = [];
    let running = false;
    informer.on("add", (o) => log.push(`add ${o.metadata?.name}`));
    informer.on("update", (o) => log.push(`update ${o.metadata?.name} ${JSON.stringify(o.data)}`));
    informer.on("delete", (o) => log.push(`delete ${o.metadata?.name}`));
    // Stopping aborts the watch request, which client-node reports as an error too.
    informer.on("error", (err) => {
      if (running) errors.push(err);
    });
    const cached = (name: string): V1ConfigMap | undefined => informer.get(name, namespace);
    const state = (): unknown => ({
      cache: informer.list(namespace).map((c) => c.metadata?.name),
      log,
      errors,
    });

    running = true;
    await informer.start();
    try {
      await otherCore.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: "a" }, data: { v: "1" } },
      });
      await waitFor("the informer to add a", () => cached("a") !== undefined, state);
      await otherCore.patchNamespacedConfigMap(
        { name: "a", namespace, body: { data: { v: "2" } } },
        mergePatch,
      );
      await waitFor("the informer to update a", () => cached("a")?.data?.["v"] === "2", state);
      await otherCore.deleteNamespacedConfigMap({ name: "a", namespace });
      await waitFor("the informer to delete a", () => cached("a") === undefined, state);
      assert.deepEqual(log, ["add a", 'update a {"v":"2"}', "delete a"]);

      // 410: pause the informer at resourceVersion rv, change its namespace behind its back,
      // then push the tenant's watch-cache history past rv. Resuming, the informer watches
      // from rv, gets an ERROR event carrying 410 Expired, and must relist.
      await otherCore.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: "b" }, data: { v: "1" } },
      });
      await waitFor("the informer to add b", () => cached("b") !== undefined, state);
      // The informer resumes from the resourceVersion of the last event it saw: b's ADDED.
      const rv = cached("b")?.metadata?.resourceVersion ?? assert.fail("b has a resourceVersion");
      running = false;
      await informer.stop();
      await otherCore.deleteNamespacedConfigMap({ name: "b", namespace });
      await otherCore.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: "c" }, data: { v: "1" } },
      });
      const expiredEvent = await expireWatchHistory(`${path}?watch=true&resourceVersion=${rv}`);
      assert.equal(expiredEvent.type, "ERROR");
      assertFailure(expiredEvent.object, {
        code: 410,
        reason: "Expired",
        message: new RegExp(`^too old resource version: ${rv} \\(\\d+\\)$`),
      });

      log.length = 0;
      running = true;
      await informer.start();
      await waitFor(
        "the relisted informer to hold c and not b",
        () => cached("c") !== undefined && cached("b") === undefined,
        state,
      );
      assert.deepEqual([...log].sort(), ["add c", "delete b"]);

      // ... and keeps delivering events on the watch it opened after the relist.
      await otherCore.createNamespacedConfigMap({ namespace, body: { metadata: { name: "d" } } });
      await otherCore.patchNamespacedConfigMap(
        { name: "c", namespace, body: { data: { v: "9" } } },
        mergePatch,
      );
      await waitFor(
        "the informer to see d and c's update",
        () => cached("d") !== undefined && cached("c")?.data?.["v"] === "9",
        state,
      );
      assert.deepEqual(
        informer
          .list(namespace)
          .map((c) => c.metadata?.name)
          .sort(),
        ["c", "d"],
      );
      assert.deepEqual(errors, [], "no watch errors while running");
    } finally {
      running = false;
      await informer.stop();
    }
  });
});

describe("server shutdown", () => {
  test("stopping the server ends open watches cleanly, so clients re-watch elsewhere", async () => {
    // A server of its own (embedded storage): this test stops it.
    const own = await startMultiplane();
    const ownKc = new KubeConfig();
    ownKc.loadFromFile(own.kubeconfigPath);
    let ended: string | undefined;
    const controller = await new Watch(ownKc).watch(
      "/api/v1/namespaces/default/configmaps",
      {},
      () => {},
      (err: unknown) => {
        ended =
          err === null || err === undefined
            ? "cleanly"
            : `with an error: ${err instanceof Error ? err.message : JSON.stringify(err)}`;
      },
    );
    // kube-apiserver returns from every watch handler when shutdown begins
    // (k8s.io/apiserver/pkg/endpoints/handlers/watch.go, ServerShuttingDownCh), so
    // client-go and client-node see the stream end and re-watch.
    const stopped = own.destroy().then(() => "stopped");
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      stopped,
      new Promise((r) => (timer = setTimeout(() => r("still stopping"), 5000))),
    ]);
    clearTimeout(timer);
    controller.abort(); // lets a hung stop finish, so the test cleans up either way
    await stopped;
    assert.equal(outcome, "stopped", "stop() resolves within 5 s while a watch is open");
    assert.equal(ended, "cleanly", "the watch ended without an error");
  });
});

/**
 * Writes events into the tenant's storage (under a resource nobody watches here) until the
 * server answers a watch on `watchPath` with an ERROR event: a 410 for a resourceVersion
 * the watch cache's history no longer holds. Rounds of 2,500 creates and one prefix
 * delete (2,500 more events) through the server's own storage client, which is much faster
 * than 10,000+ API writes and feeds the tenant's watch cache the same way.
 */
async function expireWatchHistory(
  watchPath: string,
): Promise<{ type: string; object: WireStatus & KubernetesObject }> {
  const tenant = { uid: mp.tenants.lookup("root")?.uid ?? assert.fail("no root tenant") };
  const filler = { group: "history-filler.example.com", resource: "fillers" };
  const value = Buffer.from(JSON.stringify({ apiVersion: "history-filler.example.com/v1", kind: "Filler" }));
  for (let round = 0; round < 20; round++) {
    const event = await firstWatchEvent(watchPath);
    if (event.type === "ERROR") return event;
    let next = 0;
    const writer = async (): Promise<void> => {
      while (next < 2_500) {
        const i = next++;
        await mp.storage.create(objectKey(tenant, filler, undefined, `f-${round}-${i}`), value);
      }
    };
    await Promise.all(Array.from({ length: 64 }, writer));
    await mp.storage.deletePrefix(resourcePrefix(tenant, filler));
  }
  return assert.fail(`${watchPath} still replays history after 100,000 events`);
}

// ---------------------------------------------------------------------------

describe("error answers over raw HTTPS", () => {
  let namespace: string;
  let base: string;
  const postJson = (body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> =>
    raw("POST", base, {
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  before(async () => {
    namespace = await freshNamespace("errors");
    base = `/api/v1/namespaces/${namespace}/configmaps`;
  });

  test("404 NotFound for an unknown configmap", async () => {
    const res = await raw("GET", `${base}/nope`);
    assert.equal(res.status, 404);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    assertFailure(json(res), {
      code: 404,
      reason: "NotFound",
      message: 'configmaps "nope" not found',
      details: { name: "nope", kind: "configmaps" },
    });
  });

  test("409 AlreadyExists for a second create of the same name", async () => {
    assert.equal((await postJson({ metadata: { name: "twice" } })).status, 201);
    const res = await postJson({ metadata: { name: "twice" } });
    assert.equal(res.status, 409);
    assertFailure(json(res), {
      code: 409,
      reason: "AlreadyExists",
      message: 'configmaps "twice" already exists',
      details: { name: "twice", kind: "configmaps" },
    });
  });

  test("422 Invalid for a name that is not a DNS subdomain, with the field cause", async () => {
    const res = await postJson({ metadata: { name: "Bad_Name" } });
    assert.equal(res.status, 422);
    const status = json<WireStatus>(res);
    const detail =
      "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    assertFailure(status, {
      code: 422,
      reason: "Invalid",
      message: `ConfigMap "Bad_Name" is invalid: metadata.name: ${detail}`,
      details: { name: "Bad_Name", kind: "ConfigMap" },
    });
    assert.deepEqual(status.details?.causes, [
      { reason: "FieldValueInvalid", message: detail, field: "metadata.name" },
    ]);
  });

  test("400 BadRequest for a labelSelector that does not parse", async () => {
    const res = await raw("GET", `${base}?labelSelector=${encodeURIComponent("a b")}`);
    assert.equal(res.status, 400);
    assertFailure(json(res), {
      code: 400,
      reason: "BadRequest",
      message: "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
    });
  });

  test("410 Expired for a continue token after compaction, with a token to carry on", async () => {
    for (const name of ["p0", "p1", "p2", "p3"])
      assert.equal((await postJson({ metadata: { name } })).status, 201);
    const first = json<{ metadata: { continue?: string } }>(await raw("GET", `${base}?limit=2`));
    const token = first.metadata.continue ?? assert.fail("the first page has a continue token");
    // Move past the first page's revision, then compact everything before now.
    assert.equal((await postJson({ metadata: { name: "p4" } })).status, 201);
    await mp.storage.compact(await mp.storage.currentRevision());

    const res = await raw("GET", `${base}?limit=2&continue=${encodeURIComponent(token)}`);
    assert.equal(res.status, 410);
    const status = json<WireStatus>(res);
    assertFailure(status, {
      code: 410,
      reason: "Expired",
      message:
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
    });
    // kube (k8s.io/apiserver/pkg/storage/etcd3 handleCompactedErrorForPaging) puts a token in
    // the Status's ListMeta that continues the list at the latest revision.
    const carryOn = status.metadata.continue ?? assert.fail(`no metadata.continue in ${res.body}`);
    const rest = json<{ items: KubernetesObject[] }>(
      await raw("GET", `${base}?limit=10&continue=${encodeURIComponent(carryOn)}`),
    );
    assert.ok(
      rest.items.some((c) => c.metadata?.name === "p4"),
      "the rest of the list, at the latest revision",
    );
  });

  test("401 Unauthorized without a token and with a wrong one", async () => {
    for (const token of [null, "not-a-valid-token"]) {
      const res = await raw("GET", base, { token });
      assert.equal(res.status, 401, `token ${token}`);
      assertFailure(json(res), { code: 401, reason: "Unauthorized", message: "Unauthorized" });
    }
  });

  test("406 NotAcceptable when only protobuf is accepted", async () => {
    const res = await raw("GET", base, { headers: { Accept: "application/vnd.kubernetes.protobuf" } });
    assert.equal(res.status, 406);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    const status = json<WireStatus>(res);
    assertFailure(status, {
      code: 406,
      reason: "NotAcceptable",
      message: /^only the following media types are accepted: application\/json, application\/yaml/,
    });
    // The list names what this server can produce; it refused protobuf, so it must not offer it.
    assert.doesNotMatch(status.message, /protobuf/);
  });

  test("415 UnsupportedMediaType for a body in an unknown format", async () => {
    const res = await raw("POST", base, { headers: { "Content-Type": "text/plain" }, body: "name: x" });
    assert.equal(res.status, 415);
    assertFailure(json(res), {
      code: 415,
      reason: "UnsupportedMediaType",
      message:
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
    });
  });

  test("413 RequestEntityTooLarge for a 4 MiB body", async () => {
    const body = JSON.stringify({ metadata: { name: "huge" }, data: { blob: "x".repeat(4 * 1024 * 1024) } });
    const res = await raw("POST", base, { headers: { "Content-Type": "application/json" }, body });
    assert.equal(res.status, 413);
    assertFailure(json(res), {
      code: 413,
      reason: "RequestEntityTooLarge",
      message: "Request entity too large: limit is 3145728",
    });
    assert.equal((await raw("GET", `${base}/huge`)).status, 404, "nothing was stored");
  });
});
