// The chart's Secrets, laid out as its pods mount them, are a data directory the CLI runs on:
// a shard (`up`) and a router start on the chart-generated certificates (Helm's EC keys), JWT
// keys and token file, and a request with the operator's token goes through the router to the
// shard (router → shard mTLS with the chart's requestheader CA, shard serving certificate
// checked against the chart's CA).

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { parse as parseYaml } from "yaml";

import { router } from "../../apiserver/src/cli/router.ts";
import { up } from "../../apiserver/src/cli/up.ts";
import { at, containers, mountedFile, render, type K8sObject, type Rendering } from "./render.ts";

const dataDir = "/var/lib/multiplane";
const pkiFiles = [
  "ca.crt",
  "ca.key",
  "serving.crt",
  "serving.key",
  "requestheader-ca.crt",
  "requestheader-ca.key",
];

/** Writes the files a workload's first container sees under the data directory into `dir`. */
async function materialize(r: Rendering, w: K8sObject, files: readonly string[], dir: string): Promise<void> {
  const [c] = containers(w);
  assert.ok(c);
  for (const f of files) {
    const path = join(dir, f);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, mountedFile(r, w, c, `${dataDir}/${f}`), { mode: 0o600 });
  }
}

function get(url: string, caPem: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a shard and a router run on the chart's Secrets; the operator's token works through the router", async () => {
  const r = await render();
  const work = await mkdtemp(join(tmpdir(), "mp-chart-datadir-"));
  after(() => rm(work, { recursive: true, force: true }));
  const jwtFiles = Object.keys(
    (r.get("Secret", "multiplane-jwt")["data"] as Record<string, string>) ?? {},
  ).map((k) => `jwt/${k}`);
  const common = [...pkiFiles.map((f) => `pki/${f}`), ...jwtFiles, "tokens.csv"];
  const shardDir = join(work, "shard");
  const routerDir = join(work, "router");
  await materialize(r, r.get("StatefulSet", "multiplane-shard"), common, shardDir);
  await materialize(
    r,
    r.get("Deployment", "multiplane-router"),
    [...common, "pki/router-client.crt", "pki/router-client.key"],
    routerDir,
  );

  // `up`'s own router is not the chart's: the chart's router (below) goes straight to the shard.
  const shard = await up({
    dataDir: shardDir,
    host: "127.0.0.1",
    port: 0,
    quiet: true,
    auditLogPath: join(work, "audit.log"),
  });
  after(() => shard.stop());
  const front = await router({
    dataDir: routerDir,
    host: "127.0.0.1",
    port: 0,
    shards: new Map([["local", shard.shardURL]]),
    tenants: [],
    quiet: true,
  });
  after(() => front.close());

  const operatorKubeconfig = parseYaml(
    mountedFile(
      r,
      r.get("Deployment", "multiplane-operator"),
      containers(r.get("Deployment", "multiplane-operator"))[0]!,
      "/etc/multiplane/root/kubeconfig",
    ),
  ) as unknown;
  const token = at(operatorKubeconfig, "users.0.user.token") as string;
  const caPem = mountedFile(
    r,
    r.get("Deployment", "multiplane-operator"),
    containers(r.get("Deployment", "multiplane-operator"))[0]!,
    `${dataDir}/pki/ca.crt`,
  );

  // Straight to the shard, and through the router (which forwards with its client certificate).
  for (const base of [shard.shardURL, front.url]) {
    const res = await get(`${base}/api/v1/namespaces/default`, caPem, token);
    assert.equal(res.status, 200, `${base}: ${res.body}`);
    assert.equal((JSON.parse(res.body) as { metadata: { name: string } }).metadata.name, "default");
  }
  const denied = await get(`${front.url}/api/v1/namespaces`, caPem, "not-a-token");
  assert.equal(denied.status, 401);
});
