// The front router end to end: a Multiplane shard plus the router in process on another port,
// the real kubectl pointed at the router (`/clusters/<tenant>` with the router's CA). Proves
// routing, streaming watches, authentication at the router (and ServiceAccount tokens passed
// to the shard), identity headers from clients ignored, tenant JWTs bound to their tenant,
// refused paths, tenant phases, and that a client leaving a watch ends it on the shard.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import { issueCertificate } from "../../apiserver/src/server/pki.ts";
import {
  issueTenantToken,
  JwtKeySet,
  parsePemBundle,
  type JwtIssuer,
} from "../../apiserver/src/authn/index.ts";
import { parseTokenFile } from "../../apiserver/src/authn/token-file.authenticator.ts";
import {
  buildRouterAuthenticator,
  ensureRouterPKI,
  startRouter,
  StaticTenantDirectory,
  type RouterPKI,
  type RunningRouter,
} from "../../apiserver/src/router/index.ts";
import { kubectlBinary, startMultiplane, type TestMultiplane } from "../support/multiplane.ts";
import { eventually } from "../support/eventually.ts";

const alice = { token: "alice-router-token-0123456789ab", name: "alice", groups: ["dev"] };
const bob = { token: "bob-router-token-0123456789abcd", name: "bob" };
const tenantA = { name: "a", uid: "9e1c3a52-0000-4000-8000-00000000000a" };
const tenantAB = { name: "ab", uid: "9e1c3a52-0000-4000-8000-0000000000ab" };
const tenantAX = { name: "a:x", uid: "9e1c3a52-0000-4000-8000-00000000a0a0" };
const baseDomain = "mp.test";

let mp: TestMultiplane;
let pki: RouterPKI;
let directory: StaticTenantDirectory;
let router: RunningRouter;
let issuer: JwtIssuer;
let adminToken: string;
const quiet = pino({ level: "silent" });

before(async () => {
  mp = await startMultiplane({ users: [alice, bob] });
  for (const t of [tenantA, tenantAB, tenantAX]) mp.tenants.addTenant(t);
  // The router shares the shard's data directory: its PKI, JWT key set and token file.
  pki = await ensureRouterPKI(join(mp.dataDir, "pki"), ["127.0.0.1"]);
  issuer = { url: "https://multiplane.local", keys: await JwtKeySet.load(join(mp.dataDir, "jwt")) };
  const tokens = parseTokenFile(await readFile(join(mp.dataDir, "tokens.csv"), "utf8"));
  adminToken = [...tokens.entries()].find(([, u]) => u.name === "admin")![0];
  directory = new StaticTenantDirectory(mp.tenants, { name: "shard-0", url: mp.shardURL });
  router = await startRouter({
    host: "127.0.0.1",
    port: 0,
    serving: pki.serving,
    clientCAPem: pki.caPem,
    directory,
    authenticator: buildRouterAuthenticator({ tokens, issuer, clientCAs: parsePemBundle(pki.caPem) }),
    upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
    baseDomain,
    log: quiet,
  });
});
after(async () => {
  await router?.close();
  await mp?.destroy();
});

/** A kubeconfig for `tenant` through the router (the admin's, server and CA the router's). */
async function routerKubeconfig(tenant: string): Promise<string> {
  const path = join(mp.dataDir, `router-${tenant.replace(/:/g, "_")}.kubeconfig`);
  const admin = await readFile(mp.kubeconfigPath, "utf8");
  await writeFile(path, admin.replace(mp.url, `${router.url}/clusters/${tenant}`));
  return path;
}

const viaRouter = async (tenant: string, args: readonly string[], token?: string): Promise<string> =>
  mp.kubectl(args, { kubeconfig: await routerKubeconfig(tenant), ...(token !== undefined ? { token } : {}) });

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request to the router with the path sent byte for byte (no URL normalization). */
function raw(
  path: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    cert?: { certPem: string; keyPem: string };
  } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: router.port,
        path,
        method: opts.method ?? "GET",
        ca: pki.caPem,
        headers: opts.headers ?? {},
        // A Host under the base domain is not in the test's serving certificate (127.0.0.1):
        // the chain is still verified, the name is what the test varies.
        checkServerIdentity: () => undefined,
        ...(opts.cert !== undefined ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}),
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

function statusOf(r: Raw): { kind: string; reason: string; code: number; message: string } {
  return JSON.parse(r.body) as { kind: string; reason: string; code: number; message: string };
}

const whoamiBody = JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" });

/** POSTs a SelfSubjectReview at `tenant` through the router; the user name, or the status code. */
async function whoami(
  tenant: string,
  headers: Record<string, string>,
  extra: Record<string, string> = {},
  cert?: { certPem: string; keyPem: string },
) {
  const r = await raw(`/clusters/${tenant}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers, ...extra },
    body: whoamiBody,
    ...(cert !== undefined ? { cert } : {}),
  });
  if (r.status !== 201 && r.status !== 200) return { status: r.status, user: undefined };
  const review = JSON.parse(r.body) as { status: { userInfo: { username: string; groups?: string[] } } };
  return { status: r.status, user: review.status.userInfo };
}

/** Open configmap watches on the shard, from its /metrics (apiserver_longrunning_requests). */
async function shardConfigMapWatches(): Promise<number> {
  const text = await mp.kubectl(["get", "--raw", "/metrics"]);
  return text
    .split("\n")
    .filter((l) => l.startsWith("apiserver_longrunning_requests{") && l.includes('resource="configmaps"'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

describe("kubectl through the router", () => {
  test("create and get reach the tenant named in the path, and only it", async () => {
    await viaRouter("a", ["create", "configmap", "through-router", "-n", "default", "--from-literal=k=v"]);
    const got = JSON.parse(
      await viaRouter("a", ["get", "configmap", "through-router", "-n", "default", "-o", "json"]),
    ) as {
      data: { k: string };
    };
    assert.equal(got.data.k, "v");
    // Direct to the shard: it is tenant a's object, not ab's nor a:x's.
    assert.match(
      await mp.kubectl(["get", "cm", "-n", "default", "-o", "name"], { tenant: "a" }),
      /through-router/,
    );
    await assert.rejects(
      viaRouter("ab", ["get", "configmap", "through-router", "-n", "default"]),
      /not found/,
    );
    await assert.rejects(
      viaRouter("a:x", ["get", "configmap", "through-router", "-n", "default"]),
      /not found/,
    );
  });

  test("a project by path (raw and %3A) and an organization by host", async () => {
    await viaRouter("a:x", ["create", "namespace", "project-ns"]);
    const enc = await raw("/clusters/a%3Ax/api/v1/namespaces/project-ns", { headers: bearer(adminToken) });
    assert.equal(enc.status, 200);
    const byHost = await raw("/api/v1/namespaces/project-ns", {
      headers: { ...bearer(adminToken), Host: `a.x.${baseDomain}` },
    });
    assert.equal(byHost.status, 200);
    const otherHost = await raw("/api/v1/namespaces/project-ns", {
      headers: { ...bearer(adminToken), Host: `a.${baseDomain}` },
    });
    assert.equal(otherHost.status, 404);
    // No tenant anywhere: the root tenant.
    const root = await raw("/api/v1/namespaces/default", { headers: bearer(adminToken) });
    assert.equal(root.status, 200);
    assert.equal((await raw("/api/v1/namespaces/project-ns", { headers: bearer(adminToken) })).status, 404);
  });

  test("get --watch streams events as they happen, and a client leaving ends the shard's watch", async () => {
    assert.equal(await shardConfigMapWatches(), 0);
    await viaRouter("a", ["create", "namespace", "watched"]);
    const watcher = spawn(
      kubectlBinary,
      [
        "--kubeconfig",
        await routerKubeconfig("a"),
        "get",
        "configmaps",
        "-n",
        "watched",
        "--watch",
        "--output-watch-events",
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HOME: mp.dataDir } },
    );
    let seen = "";
    watcher.stdout.on("data", (d: Buffer) => (seen += d.toString()));
    const exited = new Promise<void>((r) => watcher.once("exit", () => r()));
    try {
      // The watch reached the shard through the router.
      await eventually("the watch to open on the shard", async () => (await shardConfigMapWatches()) === 1);
      await viaRouter("a", ["create", "configmap", "w1", "-n", "watched", "--from-literal=a=b"]);
      await eventually(`the ADDED event in ${seen}`, () => /ADDED\s+w1\s+1\s/.test(seen));
      await viaRouter("a", ["label", "configmap", "w1", "-n", "watched", "x=y"]);
      await eventually(`the MODIFIED event in ${seen}`, () => /MODIFIED\s+w1\s+1\s/.test(seen));
      assert.ok(router.upstreamRequests() >= 1, "the watch is held open upstream");
    } finally {
      watcher.kill();
    }
    await exited;
    await eventually("the shard's watch to end", async () => (await shardConfigMapWatches()) === 0);
    await eventually("the router's upstream request to end", () => router.upstreamRequests() === 0);
  });

  test("auth whoami shows the user the router authenticated", async () => {
    const out = JSON.parse(await viaRouter("a", ["auth", "whoami", "-o", "json"], alice.token)) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    assert.equal(out.status.userInfo.username, "alice");
    assert.deepEqual(out.status.userInfo.groups, ["dev", "system:authenticated"]);
  });

  test("RBAC of the tenant applies to the forwarded identity, impersonation included", async () => {
    await assert.rejects(
      viaRouter("a", ["get", "configmaps", "-n", "default"], bob.token),
      /User "bob" cannot list resource "configmaps"/,
    );
    const asBob = JSON.parse(await viaRouter("a", ["auth", "whoami", "-o", "json", "--as=bob"])) as {
      status: { userInfo: { username: string } };
    };
    assert.equal(asBob.status.userInfo.username, "bob");
    await assert.rejects(
      viaRouter("a", ["get", "ns", "--as=admin"], alice.token),
      /cannot impersonate resource "users"/,
    );
  });

  test("a ServiceAccount token, which the router cannot check, is passed to the shard and works", async () => {
    const token = (await viaRouter("a", ["create", "token", "default", "-n", "default"])).trim();
    const out = JSON.parse(await viaRouter("a", ["auth", "whoami", "-o", "json"], token)) as {
      status: { userInfo: { username: string } };
    };
    assert.equal(out.status.userInfo.username, "system:serviceaccount:default:default");
    // The same token at another tenant: refused by that tenant's shard.
    await assert.rejects(viaRouter("ab", ["auth", "whoami"], token), /Unauthorized|must be logged in/);
  });
});

describe("identity at the router", () => {
  const spoof = {
    "X-Remote-User": "admin",
    "X-Remote-Group": "system:masters",
    "X-Remote-Extra-Scopes": "all",
  };

  test("X-Remote-User and X-Remote-Group sent by a client are ignored", async () => {
    const none = await raw("/clusters/a/api/v1/namespaces", { headers: spoof });
    assert.equal(none.status, 401);
    assert.equal(statusOf(none).reason, "Unauthorized");
    const asBob = await raw("/clusters/a/api/v1/namespaces", { headers: { ...spoof, ...bearer(bob.token) } });
    assert.equal(asBob.status, 403);
    assert.match(asBob.body, /User \\"bob\\" cannot list resource \\"namespaces\\"/);
    const review = await whoami("a", bearer(alice.token), spoof);
    assert.equal(review.user?.username, "alice");
    assert.deepEqual(review.user?.groups, ["dev", "system:authenticated"]);
  });

  test("a client certificate is authenticated at the router; the router's own CA and name count for nothing from a client", async () => {
    const ca = { certPem: pki.caPem, keyPem: await readFile(join(mp.dataDir, "pki", "ca.key"), "utf8") };
    const cert = await issueCertificate(ca, {
      commonName: "cert-user",
      organizations: ["dev"],
      usage: "client",
    });
    const review = await whoami("a", {}, spoof, cert);
    assert.equal(review.user?.username, "cert-user");
    assert.deepEqual(review.user?.groups, ["dev", "system:authenticated"]);
    // A client holding a certificate like the router's (requestheader CA, CN multiplane-router)
    // gets nothing from its X-Remote-* headers at the router: the router is the edge.
    const requestHeaderCA = {
      certPem: await readFile(join(mp.dataDir, "pki", "requestheader-ca.crt"), "utf8"),
      keyPem: await readFile(join(mp.dataDir, "pki", "requestheader-ca.key"), "utf8"),
    };
    const fakeRouter = await issueCertificate(requestHeaderCA, {
      commonName: "multiplane-router",
      usage: "client",
    });
    assert.equal((await whoami("a", {}, spoof, fakeRouter)).status, 401);
  });

  test("a tenant JWT for a works at a and is refused at ab and at a:x (path or host)", async () => {
    const jwt = await issueTenantToken(issuer, {
      tenant: tenantA,
      subject: "jwt-user",
      groups: ["jwt-group"],
      extra: {},
      expiresInSeconds: 600,
    });
    const atA = await whoami("a", bearer(jwt));
    assert.equal(atA.user?.username, "jwt-user");
    assert.deepEqual(atA.user?.groups, ["jwt-group", "system:authenticated"]);
    assert.equal((await whoami("ab", bearer(jwt))).status, 401);
    assert.equal((await whoami("a:x", bearer(jwt))).status, 401);
    assert.equal((await whoami("a%3Ax", bearer(jwt))).status, 401);
    const byHost = await raw("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      method: "POST",
      headers: { ...bearer(jwt), Host: `ab.${baseDomain}`, "Content-Type": "application/json" },
      body: whoamiBody,
    });
    assert.equal(byHost.status, 401);
    // A token for a:x is no good at its organization either.
    const projectJwt = await issueTenantToken(issuer, {
      tenant: tenantAX,
      subject: "project-user",
      groups: [],
      extra: {},
      expiresInSeconds: 600,
    });
    assert.equal((await whoami("a:x", bearer(projectJwt))).user?.username, "project-user");
    assert.equal((await whoami("a", bearer(projectJwt))).status, 401);
  });
});

describe("refused routes", () => {
  test("dot segments, encoded slashes and doubled slashes: 400 Status", async () => {
    for (const path of [
      "/clusters/a/../ab/api/v1/namespaces",
      "/clusters/ab/%2e%2e/a/api/v1/namespaces",
      "/clusters/a%2Fb/api/v1/namespaces",
      "/clusters/a/api%2Fv1/namespaces",
      "/clusters//a/api/v1/namespaces",
      "/clusters/a//api/v1/namespaces",
    ]) {
      const r = await raw(path, { headers: bearer(adminToken) });
      assert.equal(r.status, 400, path);
      const s = statusOf(r);
      assert.equal(s.kind, "Status", path);
      assert.equal(s.reason, "BadRequest", path);
    }
  });

  test("an unknown tenant or a name no tenant can have: 404 NotFound Status", async () => {
    for (const path of [
      "/clusters/nobody/api",
      "/clusters/a:nope/api",
      "/clusters/A/api",
      "/clusters/a:b:c/api",
    ]) {
      const r = await raw(path, { headers: bearer(adminToken) });
      assert.equal(r.status, 404, path);
      assert.equal(statusOf(r).reason, "NotFound", path);
    }
    assert.equal(
      (await raw("/api", { headers: { ...bearer(adminToken), Host: `nobody.${baseDomain}` } })).status,
      404,
    );
    await assert.rejects(viaRouter("nobody", ["get", "ns"]), /not found|NotFound|could not find/i);
  });

  test("host and path naming different tenants: 400", async () => {
    const r = await raw("/clusters/a/api/v1/namespaces", {
      headers: { ...bearer(adminToken), Host: `ab.${baseDomain}` },
    });
    assert.equal(r.status, 400);
    assert.match(statusOf(r).message, /host names tenant "ab" and the path names tenant "a"/);
  });

  test("a Pending tenant is 503 with Retry-After; a Terminating one 503 without", async () => {
    directory.setPhase("ab", "Pending");
    try {
      const pending = await raw("/clusters/ab/api", { headers: bearer(adminToken) });
      assert.equal(pending.status, 503);
      assert.equal(pending.headers["retry-after"], "1");
      assert.equal(statusOf(pending).reason, "ServiceUnavailable");
      directory.setPhase("ab", "Terminating");
      const terminating = await raw("/clusters/ab/api", { headers: bearer(adminToken) });
      assert.equal(terminating.status, 503);
      assert.equal(terminating.headers["retry-after"], undefined);
      assert.match(statusOf(terminating).message, /being deleted/);
    } finally {
      directory.setPhase("ab", "Ready");
    }
    assert.equal((await raw("/clusters/ab/api", { headers: bearer(adminToken) })).status, 200);
  });

  test("a shard that cannot be reached: 503 ServiceUnavailable Status", async () => {
    const down = await startRouter({
      host: "127.0.0.1",
      port: 0,
      serving: pki.serving,
      clientCAPem: pki.caPem,
      directory: new StaticTenantDirectory(mp.tenants, { name: "gone", url: "https://127.0.0.1:1" }),
      authenticator: buildRouterAuthenticator({ tokens: new Map(), issuer, clientCAs: [] }),
      upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
      log: quiet,
    });
    try {
      const r = await new Promise<Raw>((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port: down.port, path: "/clusters/a/api", ca: pki.caPem },
          (res) => {
            let body = "";
            res.on("data", (c: Buffer) => (body += c.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        );
        req.on("error", reject);
        req.end();
      });
      assert.equal(r.status, 503);
      assert.equal(statusOf(r).reason, "ServiceUnavailable");
    } finally {
      await down.close();
    }
  });
});
