// Attempts to cross the tenant boundary. One Multiplane (shard + ControlPlane registry) with
// the front router in front of it; tenants made from ControlPlane objects: the organizations
// `a` and `ab` (one name the prefix of the other) and the project `a.x` (tenant `a:x`). Each
// tenant holds a sentinel ConfigMap whose data carries a marker unique to it. Every test is one
// attempt: it proves the credential or path works where it belongs (so a refusal is not
// vacuous), asserts the exact Status of the attempt (code, reason, message), that no other
// tenant's marker or object name is in what came back, and that every sentinel is unchanged
// (same data, same resourceVersion).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { request, type RequestOptions } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import YAML from "yaml";
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
  type RouterPKI,
  type RunningRouter,
} from "../../apiserver/src/router/index.ts";
import { issueCertificate } from "../../apiserver/src/server/pki.ts";
import { tenantPrefix } from "../../apiserver/src/storage/keys.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";
import { eventually } from "../support/eventually.ts";

const baseDomain = "mp.test";
/** Token-file users: alice is cluster-admin in `a` only, abby in `ab` only, bob nowhere. */
const alice = { token: `alice-${randomBytes(12).toString("hex")}`, name: "alice" };
const abby = { token: `abby-${randomBytes(12).toString("hex")}`, name: "abby" };
const bob = { token: `bob-${randomBytes(12).toString("hex")}`, name: "bob" };

const tenantNames = ["a", "ab", "a:x"] as const;
type TenantName = (typeof tenantNames)[number];

let mp: TestMultiplane;
let pki: RouterPKI;
let router: RunningRouter;
let issuer: JwtIssuer;
let adminToken: string;
const uid = new Map<string, string>();
/** Per tenant: a tenant JWT in system:masters (the tenant's admin) and one with no rights. */
const adminJwt = new Map<TenantName, string>();
const plainJwt = new Map<TenantName, string>();
/** Per tenant: a token of its `default` ServiceAccount (kubectl create token). */
const saToken = new Map<TenantName, string>();
/** Per tenant: the sentinel's marker and resourceVersion. */
const marker = new Map<TenantName, string>();
const sentinelRV = new Map<TenantName, string>();

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

interface SendOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  cert?: { certPem: string; keyPem: string };
}

/** A request with the path sent byte for byte (no URL normalization), to the router or the shard. */
function send(to: "router" | "shard", path: string, opts: SendOptions = {}): Promise<Raw> {
  const port = to === "router" ? router.port : Number(new URL(mp.shardURL).port);
  return new Promise((resolve, reject) => {
    const options: RequestOptions = {
      host: "127.0.0.1",
      port,
      path,
      method: opts.method ?? "GET",
      ca: pki.caPem,
      headers: {
        ...(opts.body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...opts.headers,
      },
      // A Host under the base domain is not in the serving certificate (127.0.0.1): the chain
      // is still verified, the name is what the tests vary.
      checkServerIdentity: () => undefined,
      ...(opts.cert !== undefined ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}),
    };
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

interface StatusBody {
  kind: string;
  status: string;
  reason: string;
  code: number;
  message: string;
}

/** Asserts a Status answer: code, reason, and that its message matches `message`. */
function assertStatus(r: Raw, code: number, reason: string, message: RegExp | string): StatusBody {
  let s: StatusBody;
  try {
    s = JSON.parse(r.body) as StatusBody;
  } catch {
    assert.fail(`expected a ${code} Status, got ${r.status}: ${r.body.slice(0, 300)}`);
  }
  assert.equal(r.status, code, r.body);
  assert.equal(s.kind, "Status", r.body);
  assert.equal(s.status, "Failure", r.body);
  assert.equal(s.code, code, r.body);
  assert.equal(s.reason, reason, r.body);
  if (typeof message === "string") assert.equal(s.message, message);
  else assert.match(s.message, message);
  return s;
}

const unauthorized = (r: Raw): StatusBody => assertStatus(r, 401, "Unauthorized", "Unauthorized");

/** Nothing of `others` (their markers) is in `text`. */
function assertNoMarkers(text: string, others: readonly TenantName[]): void {
  for (const t of others) {
    assert.ok(!text.includes(marker.get(t)!), `tenant ${t}'s marker leaked: ${text.slice(0, 500)}`);
  }
}

const othersThan = (t: TenantName): TenantName[] => tenantNames.filter((n) => n !== t);

/** Every sentinel still holds its marker at the resourceVersion it was written with. */
async function assertSentinelsIntact(): Promise<void> {
  for (const t of tenantNames) {
    const r = await send("shard", `/clusters/${t}/api/v1/namespaces/default/configmaps/sentinel`, {
      headers: bearer(adminToken),
    });
    assert.equal(r.status, 200, `${t}: ${r.body}`);
    const cm = JSON.parse(r.body) as { data: { marker: string }; metadata: { resourceVersion: string } };
    assert.equal(cm.data.marker, marker.get(t), `tenant ${t}'s sentinel changed`);
    assert.equal(cm.metadata.resourceVersion, sentinelRV.get(t), `tenant ${t}'s sentinel was written`);
  }
}

/** The whole leak check of an attempt that came back as `r`, aimed at tenants other than `home`. */
async function assertNothingLeaked(r: Raw, home?: TenantName): Promise<void> {
  assertNoMarkers(r.body, home === undefined ? [...tenantNames] : othersThan(home));
  await assertSentinelsIntact();
}

/** A kubeconfig for `tenant` through the router (the admin's, its server the router's). */
async function routerKubeconfig(tenant: string): Promise<string> {
  const path = join(mp.dataDir, `iso-${tenant.replace(/:/g, "_")}.kubeconfig`);
  const admin = await readFile(mp.kubeconfigPath, "utf8");
  await writeFile(path, admin.replace(mp.url, `${router.url}/clusters/${tenant}`));
  return path;
}

/** kubectl through the router at `tenant`; stdout, or rejects with stderr. */
const viaRouter = async (
  tenant: string,
  args: readonly string[],
  opts: { token?: string; input?: string } = {},
) => mp.kubectl(args, { kubeconfig: await routerKubeconfig(tenant), ...opts });

/** kubectl's outcome whether it succeeded or not. */
async function kubectlOutcome(
  tenant: string,
  args: readonly string[],
  opts: { token?: string; input?: string } = {},
): Promise<{ ok: boolean; out: string }> {
  try {
    return { ok: true, out: await viaRouter(tenant, args, opts) };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

const controlPlane = (name: string, spec: Record<string, unknown>): string =>
  YAML.stringify({
    apiVersion: "core.multiplane.dev/v1alpha1",
    kind: "ControlPlane",
    metadata: { name },
    spec,
  });

async function createTenant(cpName: string, tenant: string, spec: Record<string, unknown>): Promise<string> {
  await mp.kubectl(["apply", "-f", "-"], { input: controlPlane(cpName, spec) });
  await eventually(`tenant ${tenant} Ready`, () => mp.registry.lookup(tenant)?.phase === "Ready");
  return mp.registry.lookup(tenant)!.uid;
}

const mintJwt = (tenant: string, subject: string, groups: string[]): Promise<string> =>
  issueTenantToken(issuer, {
    tenant: { name: tenant, uid: uid.get(tenant)! },
    subject,
    groups,
    extra: {},
    expiresInSeconds: 600,
  });

/** The user a credential is at `tenant` through the router (SelfSubjectReview), or the Raw answer. */
async function whoami(
  tenant: string,
  headers: Record<string, string | string[]>,
): Promise<{ r: Raw; user?: { username: string; groups?: string[]; extra?: Record<string, string[]> } }> {
  const r = await send("router", `/clusters/${tenant}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: "POST",
    headers,
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
  });
  if (r.status !== 201) return { r };
  return {
    r,
    user: (
      JSON.parse(r.body) as {
        status: { userInfo: { username: string; groups?: string[]; extra?: Record<string, string[]> } };
      }
    ).status.userInfo,
  };
}

/** Asserts `token` is `expected` at its own tenant: a refusal elsewhere is then about the tenant. */
async function assertWorksAtHome(tenant: string, token: string, expected: string): Promise<void> {
  const { r, user } = await whoami(tenant, bearer(token));
  assert.equal(user?.username, expected, `the credential works at ${tenant}: ${r.body}`);
}

const sentinelPath = (tenant: string): string =>
  `/clusters/${tenant}/api/v1/namespaces/default/configmaps/sentinel`;

before(async () => {
  mp = await startMultiplane({ users: [alice, abby, bob] });
  // The router shares the shard's data directory: its PKI, JWT key set and token file.
  pki = await ensureRouterPKI(join(mp.dataDir, "pki"), ["127.0.0.1"]);
  issuer = { url: "https://multiplane.local", keys: await JwtKeySet.load(join(mp.dataDir, "jwt")) };
  const tokens = parseTokenFile(await readFile(join(mp.dataDir, "tokens.csv"), "utf8"));
  adminToken = [...tokens.entries()].find(([, u]) => u.name === "admin")![0];
  router = await startRouter({
    host: "127.0.0.1",
    port: 0,
    serving: pki.serving,
    clientCAPem: pki.caPem,
    directory: mp.registry,
    authenticator: buildRouterAuthenticator({ tokens, issuer, clientCAs: parsePemBundle(pki.caPem) }),
    upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
    baseDomain,
    log: pino({ level: "silent" }),
  });

  uid.set("a", await createTenant("a", "a", { organization: "a" }));
  uid.set("ab", await createTenant("ab", "ab", { organization: "ab" }));
  uid.set("a:x", await createTenant("a.x", "a:x", { organization: "a", project: "x" }));
  for (const t of tenantNames) {
    adminJwt.set(t, await mintJwt(t, `${t}-admin`, ["system:masters"]));
    plainJwt.set(t, await mintJwt(t, `${t}-user`, []));
    marker.set(t, `marker-${t.replace(":", "-")}-${randomBytes(8).toString("hex")}`);
    // Sentinels in the order a, ab, a:x: resourceVersions of ab lie after a's (see the rv tests).
    const created = await send("router", `/clusters/${t}/api/v1/namespaces/default/configmaps`, {
      method: "POST",
      headers: bearer(adminJwt.get(t)!),
      body: JSON.stringify({ metadata: { name: "sentinel" }, data: { marker: marker.get(t) } }),
    });
    assert.equal(created.status, 201, created.body);
    sentinelRV.set(
      t,
      (JSON.parse(created.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion,
    );
    saToken.set(t, (await viaRouter(t, ["create", "token", "default", "-n", "default"])).trim());
  }
  await viaRouter("a", [
    "create",
    "clusterrolebinding",
    "alice-admin",
    "--clusterrole=cluster-admin",
    "--user=alice",
  ]);
  await viaRouter("ab", [
    "create",
    "clusterrolebinding",
    "abby-admin",
    "--clusterrole=cluster-admin",
    "--user=abby",
  ]);
  // Objects of ab with names of their own, to look for in a's answers.
  await viaRouter("ab", ["create", "namespace", "only-in-ab"]);
  await viaRouter("ab", [
    "create",
    "configmap",
    "ab-private",
    "-n",
    "only-in-ab",
    `--from-literal=m=${marker.get("ab")}`,
  ]);
});

after(async () => {
  await router?.close();
  await mp?.destroy();
});

describe("another tenant's credentials", () => {
  test("a's tenant JWT at ab: 401, ab's sentinel not returned", async () => {
    await assertWorksAtHome("a", adminJwt.get("a")!, "a-admin");
    const r = await send("router", sentinelPath("ab"), { headers: bearer(adminJwt.get("a")!) });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("ab's tenant JWT at a: 401", async () => {
    await assertWorksAtHome("ab", adminJwt.get("ab")!, "ab-admin");
    const r = await send("router", sentinelPath("a"), { headers: bearer(adminJwt.get("ab")!) });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("an organization's JWT at its project (a → a:x, also as a%3Ax): 401", async () => {
    for (const path of [sentinelPath("a:x"), sentinelPath("a%3Ax")]) {
      const r = await send("router", path, { headers: bearer(adminJwt.get("a")!) });
      unauthorized(r);
      await assertNothingLeaked(r);
    }
  });

  test("a project's JWT at its organization (a:x → a): 401", async () => {
    await assertWorksAtHome("a:x", adminJwt.get("a:x")!, "a:x-admin");
    const r = await send("router", sentinelPath("a"), { headers: bearer(adminJwt.get("a:x")!) });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("a tenant JWT at the root tenant (no tenant in the path): 401, no ControlPlane listed", async () => {
    const r = await send("router", "/apis/core.multiplane.dev/v1alpha1/controlplanes", {
      headers: bearer(adminJwt.get("a")!),
    });
    unauthorized(r);
    assert.ok(!r.body.includes(uid.get("ab")!));
    await assertNothingLeaked(r);
  });

  test("a's tenant JWT at ab by host (ab.mp.test, AB.MP.TEST., ab.mp.test:443): 401", async () => {
    for (const host of [`ab.${baseDomain}`, `AB.${baseDomain.toUpperCase()}.`, `ab.${baseDomain}:443`]) {
      const r = await send("router", "/api/v1/namespaces/default/configmaps/sentinel", {
        headers: { ...bearer(adminJwt.get("a")!), Host: host },
      });
      unauthorized(r);
      await assertNothingLeaked(r);
    }
    // The same host with ab's own token reaches ab (the host does route there).
    const own = await send("router", "/api/v1/namespaces/default/configmaps/sentinel", {
      headers: { ...bearer(adminJwt.get("ab")!), Host: `ab.${baseDomain}` },
    });
    assert.equal(own.status, 200);
    assert.ok(own.body.includes(marker.get("ab")!));
  });

  test("a ServiceAccount token of a at ab: 401", async () => {
    await assertWorksAtHome("a", saToken.get("a")!, "system:serviceaccount:default:default");
    const r = await send("router", sentinelPath("ab"), { headers: bearer(saToken.get("a")!) });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("a ServiceAccount token of a at its project a:x: 401", async () => {
    const r = await send("router", sentinelPath("a:x"), { headers: bearer(saToken.get("a")!) });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("a ServiceAccount token of a:x at its organization a: 401", async () => {
    await assertWorksAtHome("a:x", saToken.get("a:x")!, "system:serviceaccount:default:default");
    const r = await send("router", sentinelPath("a"), { headers: bearer(saToken.get("a:x")!) });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("a ServiceAccount token requested at a with ab's audience (multiplane:ab) is refused at ab", async () => {
    const token = (
      await viaRouter("a", ["create", "token", "default", "-n", "default", "--audience=multiplane:ab"])
    ).trim();
    const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as {
      aud: string[];
    };
    assert.deepEqual(payload.aud, ["multiplane:ab"]);
    const r = await send("router", sentinelPath("ab"), { headers: bearer(token) });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("a token-file user who administers a gets nothing at ab: 403 naming the user", async () => {
    const home = await send("router", sentinelPath("a"), { headers: bearer(alice.token) });
    assert.equal(home.status, 200);
    const r = await send("router", sentinelPath("ab"), { headers: bearer(alice.token) });
    assertStatus(
      r,
      403,
      "Forbidden",
      'configmaps "sentinel" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "default"',
    );
    await assertNothingLeaked(r);
  });
});

describe("identity headers and impersonation", () => {
  const spoof = {
    "X-Remote-User": "ab-admin",
    "X-Remote-Group": "system:masters",
    "X-Remote-Extra-Scopes": "all",
    "X-Multiplane-Tenant": "ab",
  };

  test("X-Remote-* sent to the router without credentials: 401", async () => {
    const r = await send("router", sentinelPath("ab"), { headers: spoof });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("X-Remote-* sent to the router with a rightless user's JWT: the JWT's user, 403", async () => {
    const r = await send("router", sentinelPath("ab"), {
      headers: { ...spoof, ...bearer(plainJwt.get("ab")!) },
    });
    assertStatus(r, 403, "Forbidden", /User "ab-user" cannot get resource "configmaps"/);
    const { user } = await whoami("ab", { ...spoof, ...bearer(plainJwt.get("ab")!) });
    assert.equal(user?.username, "ab-user");
    assert.deepEqual(user?.groups, ["system:authenticated"]);
    assert.equal(user?.extra?.["scopes"], undefined);
    await assertNothingLeaked(r);
  });

  test("X-Remote-* sent to the shard directly, no client certificate: 401", async () => {
    const r = await send("shard", sentinelPath("ab"), { headers: spoof });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("X-Remote-* to the shard with a client-CA certificate named like the router: that certificate's user, 403", async () => {
    const ca = { certPem: pki.caPem, keyPem: await readFile(join(mp.dataDir, "pki", "ca.key"), "utf8") };
    const cert = await issueCertificate(ca, { commonName: "multiplane-router", usage: "client" });
    const r = await send("shard", sentinelPath("ab"), { headers: spoof, cert });
    assertStatus(r, 403, "Forbidden", /User "multiplane-router" cannot get resource "configmaps"/);
    await assertNothingLeaked(r);
  });

  test("X-Remote-* to the shard with a requestheader-CA certificate of a name not allowed: 401", async () => {
    const rhCA = {
      certPem: await readFile(join(mp.dataDir, "pki", "requestheader-ca.crt"), "utf8"),
      keyPem: await readFile(join(mp.dataDir, "pki", "requestheader-ca.key"), "utf8"),
    };
    const cert = await issueCertificate(rhCA, { commonName: "not-the-router", usage: "client" });
    const r = await send("shard", sentinelPath("ab"), { headers: spoof, cert });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("Impersonate-User/Group to system:masters without the impersonate verb: 403", async () => {
    const r = await send("router", sentinelPath("a"), {
      headers: {
        ...bearer(plainJwt.get("a")!),
        "Impersonate-User": "system:admin",
        "Impersonate-Group": "system:masters",
      },
    });
    assertStatus(r, 403, "Forbidden", /User "a-user" cannot impersonate resource "users" in API group ""/);
    await assertNothingLeaked(r);
  });

  test("Impersonate-Group system:masters without Impersonate-User: 500 as kube, never a group added", async () => {
    const r = await send("router", sentinelPath("a"), {
      headers: { ...bearer(plainJwt.get("a")!), "Impersonate-Group": "system:masters" },
    });
    assertStatus(
      r,
      500,
      "InternalError",
      "Internal error occurred: requested [groups system:masters] without impersonating a user",
    );
    // Keeping one's own name does not help: impersonating any user needs the verb.
    const own = await send("router", sentinelPath("a"), {
      headers: {
        ...bearer(plainJwt.get("a")!),
        "Impersonate-User": "a-user",
        "Impersonate-Group": "system:masters",
      },
    });
    assertStatus(own, 403, "Forbidden", /User "a-user" cannot impersonate resource "users"/);
    await assertNothingLeaked(r);
    await assertNothingLeaked(own);
  });

  test("Impersonate-User naming ab's admin, by a's admin at a: acts as a rightless user of a", async () => {
    const r = await send("router", sentinelPath("a"), {
      headers: { ...bearer(alice.token), "Impersonate-User": "abby" },
    });
    assertStatus(r, 403, "Forbidden", /User "abby" cannot get resource "configmaps"/);
    // ab's admin impersonated at ab by a's admin: alice has no rights there at all.
    const atAB = await send("router", sentinelPath("ab"), {
      headers: { ...bearer(alice.token), "Impersonate-User": "abby" },
    });
    assertStatus(atAB, 403, "Forbidden", /User "alice" cannot impersonate resource "users"/);
    await assertNothingLeaked(r);
    await assertNothingLeaked(atAB);
  });
});

describe("tenant path tricks", () => {
  const token = (): Record<string, string> => bearer(adminJwt.get("a")!);

  test("/clusters/a/../ab/…: 400, dot segments refused", async () => {
    const r = await send("router", "/clusters/a/../ab/api/v1/namespaces/default/configmaps/sentinel", {
      headers: token(),
    });
    assertStatus(r, 400, "BadRequest", "the request path must not contain . or .. segments");
    await assertNothingLeaked(r);
  });

  test("%2e%2e and mixed .%2E segments: 400", async () => {
    for (const path of [
      "/clusters/a/%2e%2e/ab/api/v1/namespaces/default/configmaps/sentinel",
      "/clusters/a/.%2E/ab/api/v1/namespaces/default/configmaps/sentinel",
      "/clusters/a/api/v1/namespaces/default/configmaps/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/clusters/ab/api/v1/namespaces/default/configmaps/sentinel",
    ]) {
      const r = await send("router", path, { headers: token() });
      assertStatus(r, 400, "BadRequest", "the request path must not contain . or .. segments");
      await assertNothingLeaked(r);
    }
  });

  test("/clusters/a%2F..%2Fab/…: 400, encoded slashes refused", async () => {
    for (const path of [
      "/clusters/a%2F..%2Fab/api/v1/namespaces/default/configmaps/sentinel",
      "/clusters/a%2f%2e%2e%2fab/api/v1/namespaces/default/configmaps/sentinel",
      "/clusters/a%5C..%5Cab/api/v1/namespaces/default/configmaps/sentinel",
    ]) {
      const r = await send("router", path, { headers: token() });
      assertStatus(r, 400, "BadRequest", "the request path must not contain an encoded slash or backslash");
      await assertNothingLeaked(r);
    }
  });

  test("%3A is the project colon, and only it: a%3Ax = a:x, a%253Ax and a%3ax%3Ay name nothing", async () => {
    const asProject = await send("router", sentinelPath("a%3Ax"), { headers: bearer(adminJwt.get("a:x")!) });
    assert.equal(asProject.status, 200);
    assert.ok(asProject.body.includes(marker.get("a:x")!));
    assertNoMarkers(asProject.body, ["a", "ab"]);
    const doubled = await send("router", sentinelPath("a%253Ax"), { headers: token() });
    assertStatus(doubled, 404, "NotFound", 'tenants "a%253Ax" not found');
    const three = await send("router", sentinelPath("a%3ax%3Ay"), { headers: token() });
    assertStatus(three, 404, "NotFound", 'tenants "a:x:y" not found');
    await assertNothingLeaked(doubled);
    await assertNothingLeaked(three);
  });

  test("doubled slashes: 400, empty segments refused", async () => {
    for (const path of [
      "/clusters//ab/api/v1/namespaces/default/configmaps/sentinel",
      "/clusters/a//api/v1/namespaces/default/configmaps/sentinel",
      "//clusters/ab/api/v1/namespaces/default/configmaps/sentinel",
      "/clusters/a/api/v1/namespaces//configmaps",
    ]) {
      const r = await send("router", path, { headers: token() });
      assertStatus(r, 400, "BadRequest", "the request path must not contain empty segments");
      await assertNothingLeaked(r);
    }
  });

  test("trailing dots and upper case in the tenant segment: 404, no tenant by that name", async () => {
    for (const [segment, name] of [
      ["ab.", "ab."],
      ["a.", "a."],
      ["AB", "AB"],
      ["Ab", "Ab"],
      ["a.x", "a.x"],
      ["ab%00", "ab%00"],
    ] as const) {
      const r = await send("router", sentinelPath(segment), { headers: bearer(adminToken) });
      assertStatus(r, 404, "NotFound", `tenants "${name}" not found`);
      await assertNothingLeaked(r);
    }
  });

  test("host and path naming different tenants (ab host, a path; a host, a:x path): 400", async () => {
    for (const [host, tenant, path] of [
      [`ab.${baseDomain}`, "ab", "a"],
      [`a.${baseDomain}`, "a", "a:x"],
      [`a.x.${baseDomain}`, "a:x", "a"],
    ] as const) {
      const r = await send("router", sentinelPath(path), { headers: { ...bearer(adminToken), Host: host } });
      assertStatus(
        r,
        400,
        "BadRequest",
        `the host names tenant "${tenant}" and the path names tenant "${path}"`,
      );
      await assertNothingLeaked(r);
    }
  });

  test("host routing to ab with a's credentials and a path naming a's objects: 403 (token-file user) and 401 (a's JWT)", async () => {
    const r = await send("router", "/api/v1/namespaces/only-in-a/configmaps/sentinel", {
      headers: { ...bearer(alice.token), Host: `ab.${baseDomain}` },
    });
    assertStatus(
      r,
      403,
      "Forbidden",
      'configmaps "sentinel" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "only-in-a"',
    );
    const jwt = await send("router", "/api/v1/namespaces/default/configmaps/sentinel", {
      headers: { ...bearer(adminJwt.get("a")!), Host: `ab.${baseDomain}` },
    });
    unauthorized(jwt);
    await assertNothingLeaked(r);
    await assertNothingLeaked(jwt);
  });

  test("a ControlPlane UID as the tenant (/clusters/<uid>/…): 404, at the router and at the shard", async () => {
    for (const t of tenantNames) {
      const id = uid.get(t)!;
      for (const to of ["router", "shard"] as const) {
        const r = await send(to, `/clusters/${id}/api/v1/namespaces/default/configmaps/sentinel`, {
          headers: bearer(adminToken),
        });
        assertStatus(r, 404, "NotFound", `tenants "${id}" not found`);
        await assertNothingLeaked(r);
      }
    }
  });
});

describe("names that are not names", () => {
  test("kubectl get configmap .. (and a name with /): refused by kubectl before any request", async () => {
    const dots = await kubectlOutcome("a", ["get", "configmap", "..", "-n", "default"]);
    assert.equal(dots.ok, false);
    assert.match(dots.out, /invalid resource name "\.\.": \[may not be '\.\.'\]/);
    const dot = await kubectlOutcome("a", ["delete", "configmap", ".", "-n", "default"]);
    assert.equal(dot.ok, false);
    assert.match(dot.out, /invalid resource name "\.": \[may not be '\.'\]/);
    const slash = await kubectlOutcome("a", ["get", "configmap/../../ab/sentinel", "-n", "default"]);
    assert.equal(slash.ok, false);
    assert.match(slash.out, /arguments in resource\/name form may not have more than one slash/);
    await assertSentinelsIntact();
  });

  test("GET …/configmaps/%2E%2E and …/namespaces/%2E%2E/…: 400 at the router", async () => {
    for (const path of [
      "/clusters/a/api/v1/namespaces/default/configmaps/%2E%2E",
      "/clusters/a/api/v1/namespaces/%2E%2E/configmaps/sentinel",
      "/clusters/a/api/v1/namespaces/%2e/configmaps",
    ]) {
      const r = await send("router", path, { headers: bearer(adminJwt.get("a")!) });
      assertStatus(r, 400, "BadRequest", "the request path must not contain . or .. segments");
      await assertNothingLeaked(r);
    }
  });

  test("names with %2F straight to the shard (past the router): 404, never another key", async () => {
    for (const segment of [
      `..%2F..%2F..%2F${uid.get("ab")!}%2Fcore%2Fconfigmaps%2Fdefault%2Fsentinel`,
      "a%2Fb",
      "%252E%252E",
    ]) {
      const r = await send("shard", `/clusters/a/api/v1/namespaces/default/configmaps/${segment}`, {
        headers: bearer(adminToken),
      });
      // The name in the message as sent or decoded once (this shard keeps a segment's escapes).
      const either = [segment, decodeURIComponent(segment)].map((n) =>
        n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
      );
      assertStatus(r, 404, "NotFound", new RegExp(`^configmaps "(${either.join("|")})" not found$`));
      await assertNothingLeaked(r, "a");
    }
  });

  test("a namespace %2F'd into another tenant's key, straight to the shard: 404", async () => {
    const r = await send(
      "shard",
      `/clusters/a/api/v1/namespaces/..%2F..%2F..%2F${uid.get("ab")!}%2Fcore%2Fconfigmaps%2Fdefault/configmaps/sentinel`,
      {
        headers: bearer(adminToken),
      },
    );
    assertStatus(r, 404, "NotFound", /^configmaps "sentinel" not found$/);
    await assertNothingLeaked(r, "a");
  });

  test("creating an object named ../../ab/x or with / in its namespace: 422/400, nothing written anywhere", async () => {
    const before = (await mp.storage.list(tenantPrefix({ uid: uid.get("ab")! }))).items.length;
    const r = await send("router", "/clusters/a/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: bearer(adminJwt.get("a")!),
      body: JSON.stringify({ metadata: { name: "../../ab/sentinel" }, data: { x: "y" } }),
    });
    assertStatus(
      r,
      422,
      "Invalid",
      /ConfigMap "\.\.\/\.\.\/ab\/sentinel" is invalid: metadata.name: Invalid value/,
    );
    const ns = await send("router", "/clusters/a/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: bearer(adminJwt.get("a")!),
      body: JSON.stringify({ metadata: { name: "ok", namespace: "../ab" }, data: { x: "y" } }),
    });
    assertStatus(
      ns,
      400,
      "BadRequest",
      /the namespace of the provided object does not match the namespace sent on the request/,
    );
    assert.equal((await mp.storage.list(tenantPrefix({ uid: uid.get("ab")! }))).items.length, before);
    await assertNothingLeaked(r, "a");
  });
});

/** A watch through the router, its events collected as they arrive. */
interface OpenWatch {
  readonly events: { type: string; object: { metadata?: { name?: string; namespace?: string } } }[];
  readonly raw: () => string;
  close(): void;
}

function openWatch(path: string, headers: Record<string, string>): Promise<OpenWatch> {
  return new Promise((resolve, reject) => {
    let text = "";
    const events: OpenWatch["events"] = [];
    const req = request({ host: "127.0.0.1", port: router.port, path, ca: pki.caPem, headers }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch ${path}: ${res.statusCode}`));
        return;
      }
      let pending = "";
      res.on("data", (c: Buffer) => {
        text += c.toString();
        pending += c.toString();
        let nl: number;
        while ((nl = pending.indexOf("\n")) !== -1) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.trim() !== "") events.push(JSON.parse(line) as OpenWatch["events"][number]);
        }
      });
      res.on("error", () => undefined);
      resolve({ events, raw: () => text, close: () => req.destroy() });
    });
    req.on("error", () => undefined);
    req.end();
  });
}

describe("watches, lists and resourceVersions", () => {
  test("a watch on a (all namespaces, from before ab's sentinel) sees no event of ab while ab writes", async () => {
    // From the revision just before a's sentinel: the replay spans ab's sentinel and everything after.
    const from = Number(sentinelRV.get("a")) - 1;
    const atA = await openWatch(
      `/clusters/a/api/v1/configmaps?watch=1&resourceVersion=${from}&allowWatchBookmarks=true`,
      bearer(adminJwt.get("a")!),
    );
    const atAB = await openWatch("/clusters/ab/api/v1/configmaps?watch=1", bearer(adminJwt.get("ab")!));
    try {
      await viaRouter("ab", [
        "create",
        "configmap",
        "ab-during-watch",
        "-n",
        "default",
        `--from-literal=m=${marker.get("ab")}`,
      ]);
      await viaRouter("ab", ["label", "configmap", "ab-private", "-n", "only-in-ab", "touched=yes"]);
      // ab's own watch has seen both writes: the shard has dispatched them.
      await eventually(
        "ab's watch sees its writes",
        () =>
          atAB.events.some((e) => e.object.metadata?.name === "ab-during-watch") &&
          atAB.events.some((e) => e.type === "MODIFIED" && e.object.metadata?.name === "ab-private"),
      );
      // Sync point: a write in a after ab's, seen by a's watch.
      await viaRouter("a", ["create", "configmap", "a-sync", "-n", "default"]);
      await eventually("a's watch sees a-sync", () =>
        atA.events.some((e) => e.object.metadata?.name === "a-sync"),
      );
      const names = atA.events.map((e) => e.object.metadata?.name);
      assert.ok(names.includes("sentinel"), "the replay holds a's sentinel");
      for (const n of ["ab-during-watch", "ab-private"])
        assert.ok(!names.includes(n), `ab's ${n} in a's watch`);
      assert.ok(!atA.events.some((e) => e.object.metadata?.namespace === "only-in-ab"));
      assertNoMarkers(atA.raw(), ["ab", "a:x"]);
    } finally {
      atA.close();
      atAB.close();
    }
    await viaRouter("ab", ["delete", "configmap", "ab-during-watch", "-n", "default"]);
    await assertSentinelsIntact();
  });

  test("lists across all namespaces in a never return ab's objects or namespaces", async () => {
    for (const path of [
      "/clusters/a/api/v1/configmaps",
      "/clusters/a/api/v1/namespaces",
      "/clusters/a/api/v1/configmaps?limit=2",
    ]) {
      const r = await send("router", path, { headers: bearer(adminJwt.get("a")!) });
      assert.equal(r.status, 200, r.body);
      assert.ok(!r.body.includes("only-in-ab"), `${path}: ${r.body}`);
      assert.ok(!r.body.includes("ab-private"), path);
      await assertNothingLeaked(r, "a");
    }
    const cms = JSON.parse(
      (await send("router", "/clusters/a/api/v1/configmaps", { headers: bearer(adminJwt.get("a")!) })).body,
    ) as {
      items: { metadata: { name: string; uid: string } }[];
    };
    const sentinels = cms.items.filter((i) => i.metadata.name === "sentinel");
    assert.equal(sentinels.length, 1);
  });

  test("ab's resourceVersion used at a (list Exact, get at it): only a's data", async () => {
    const rv = sentinelRV.get("ab")!;
    const exact = await send(
      "router",
      `/clusters/a/api/v1/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`,
      {
        headers: bearer(adminJwt.get("a")!),
      },
    );
    assert.equal(exact.status, 200, exact.body);
    const list = JSON.parse(exact.body) as {
      metadata: { resourceVersion: string };
      items: { metadata: { name: string } }[];
    };
    assert.equal(list.metadata.resourceVersion, rv);
    assert.ok(list.items.some((i) => i.metadata.name === "sentinel"));
    await assertNothingLeaked(exact, "a");
    const got = await send("router", `${sentinelPath("a")}?resourceVersion=${rv}`, {
      headers: bearer(adminJwt.get("a")!),
    });
    assert.equal(got.status, 200);
    assert.ok(got.body.includes(marker.get("a")!));
    await assertNothingLeaked(got, "a");
  });

  test("a continue token of a replayed at ab: ab's own objects only; at ab with a's token: 401", async () => {
    const page = await send("router", "/clusters/a/api/v1/configmaps?limit=1", {
      headers: bearer(adminJwt.get("a")!),
    });
    const token = (JSON.parse(page.body) as { metadata: { continue?: string } }).metadata.continue;
    assert.ok(token !== undefined && token !== "", page.body);
    const cont = `/clusters/ab/api/v1/configmaps?limit=500&continue=${encodeURIComponent(token)}`;
    unauthorized(await send("router", cont, { headers: bearer(adminJwt.get("a")!) }));
    const r = await send("router", cont, { headers: bearer(adminJwt.get("ab")!) });
    assert.equal(r.status, 200, r.body);
    assertNoMarkers(r.body, ["a", "a:x"]);
    assert.ok(!r.body.includes("a-sync"));
    await assertNothingLeaked(r, "ab");
  });

  test("a forged continue token whose start climbs out of a's prefix: still only a's objects", async () => {
    const rv = Number(sentinelRV.get("a:x"));
    const start = `../../../${uid.get("ab")!}/core/configmaps/`;
    const forged = Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv, start })).toString("base64");
    const r = await send(
      "router",
      `/clusters/a/api/v1/configmaps?limit=500&continue=${encodeURIComponent(forged)}`,
      {
        headers: bearer(adminJwt.get("a")!),
      },
    );
    assert.equal(r.status, 200, r.body);
    const names = (
      JSON.parse(r.body) as { items: { metadata: { name: string; namespace: string } }[] }
    ).items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
    assert.ok(names.includes("default/sentinel"), names.join());
    assert.ok(!names.includes("only-in-ab/ab-private"));
    await assertNothingLeaked(r, "a");
  });
});

const widgetCRD = (props: Record<string, unknown>, scope: "Namespaced" | "Cluster"): string =>
  JSON.stringify({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.iso.example.com" },
    spec: {
      group: "iso.example.com",
      scope,
      names: { plural: "widgets", singular: "widget", kind: "Widget" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: props } } },
          },
        },
      ],
    },
  });

describe("CRDs of the same name", () => {
  before(async () => {
    await viaRouter("a", ["apply", "-f", "-"], {
      input: widgetCRD({ size: { type: "integer" } }, "Namespaced"),
    });
    await viaRouter("ab", ["apply", "-f", "-"], {
      input: widgetCRD({ color: { type: "string" } }, "Cluster"),
    });
    for (const t of ["a", "ab"]) {
      await viaRouter(t, [
        "wait",
        "--for=condition=Established",
        "crd/widgets.iso.example.com",
        "--timeout=15s",
      ]);
    }
    await viaRouter("a", ["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "iso.example.com/v1",
        kind: "Widget",
        metadata: { name: "w-a", namespace: "default" },
        spec: { size: 3 },
      }),
    });
    await viaRouter("ab", ["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "iso.example.com/v1",
        kind: "Widget",
        metadata: { name: "w-ab" },
        spec: { color: marker.get("ab") },
      }),
    });
  });

  test("each tenant sees its own schema and scope; a's objects only at a", async () => {
    const crdA = JSON.parse(
      await viaRouter("a", ["get", "crd", "widgets.iso.example.com", "-o", "json"]),
    ) as {
      spec: {
        scope: string;
        versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: object } } } } }[];
      };
    };
    assert.equal(crdA.spec.scope, "Namespaced");
    assert.deepEqual(Object.keys(crdA.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties), [
      "size",
    ]);
    const listA = await send("router", "/clusters/a/apis/iso.example.com/v1/widgets", {
      headers: bearer(adminJwt.get("a")!),
    });
    assert.equal(listA.status, 200);
    const names = (JSON.parse(listA.body) as { items: { metadata: { name: string } }[] }).items.map(
      (i) => i.metadata.name,
    );
    assert.deepEqual(names, ["w-a"]);
    await assertNothingLeaked(listA, "a");
  });

  test("ab's cluster-scoped widget path at a: 404 NotFound (a's widgets are namespaced)", async () => {
    const r = await send("router", "/clusters/a/apis/iso.example.com/v1/widgets/w-ab", {
      headers: bearer(adminJwt.get("a")!),
    });
    // kube answers "the server could not find the requested resource" (no cluster-scoped GET of a
    // namespaced kind); this shard answers with the name. Either way: 404, and not ab's widget.
    assertStatus(
      r,
      404,
      "NotFound",
      /^(widgets\.iso\.example\.com "w-ab" not found|the server could not find the requested resource)$/,
    );
    await assertNothingLeaked(r, "a");
  });

  test("a widget written at a with ab's field: pruned by a's schema, ab's widget untouched", async () => {
    const created = await send("router", "/clusters/a/apis/iso.example.com/v1/namespaces/default/widgets", {
      method: "POST",
      headers: bearer(adminJwt.get("a")!),
      body: JSON.stringify({
        apiVersion: "iso.example.com/v1",
        kind: "Widget",
        metadata: { name: "w-ab" },
        spec: { color: "red", size: 1 },
      }),
    });
    assert.equal(created.status, 201, created.body);
    assert.deepEqual((JSON.parse(created.body) as { spec: object }).spec, { size: 1 });
    const atAB = JSON.parse(await viaRouter("ab", ["get", "widget", "w-ab", "-o", "json"])) as {
      spec: { color: string };
    };
    assert.equal(atAB.spec.color, marker.get("ab"));
    await assertNothingLeaked(created, "a");
  });

  test("deleting the CRD at a leaves ab's CRD and widgets served", async () => {
    await viaRouter("a", ["delete", "crd", "widgets.iso.example.com"]);
    await eventually("a's widgets gone", async () => {
      const r = await send("router", "/clusters/a/apis/iso.example.com/v1/widgets", {
        headers: bearer(adminJwt.get("a")!),
      });
      return r.status === 404;
    });
    const atAB = await send("router", "/clusters/ab/apis/iso.example.com/v1/widgets/w-ab", {
      headers: bearer(adminJwt.get("ab")!),
    });
    assert.equal(atAB.status, 200, atAB.body);
    assert.ok(atAB.body.includes(marker.get("ab")!));
    await assertSentinelsIntact();
  });
});

describe("the registry of tenants", () => {
  test("ControlPlanes of the root tenant are not served in a: 404 for its admin", async () => {
    const r = await send("router", "/clusters/a/apis/core.multiplane.dev/v1alpha1/controlplanes", {
      headers: bearer(adminJwt.get("a")!),
    });
    assertStatus(r, 404, "NotFound", "the server could not find the requested resource");
    assert.ok(!r.body.includes(uid.get("ab")!));
    await assertNothingLeaked(r);
  });

  test("a's admin (token-file user) at the root tenant: 403 to list or create ControlPlanes", async () => {
    const list = await send("router", "/apis/core.multiplane.dev/v1alpha1/controlplanes", {
      headers: bearer(alice.token),
    });
    assertStatus(
      list,
      403,
      "Forbidden",
      /User "alice" cannot list resource "controlplanes" in API group "core.multiplane.dev" at the cluster scope/,
    );
    const create = await send("router", "/apis/core.multiplane.dev/v1alpha1/controlplanes", {
      method: "POST",
      headers: bearer(alice.token),
      body: JSON.stringify({
        apiVersion: "core.multiplane.dev/v1alpha1",
        kind: "ControlPlane",
        metadata: { name: "evil" },
        spec: { organization: "evil" },
      }),
    });
    assertStatus(
      create,
      403,
      "Forbidden",
      /User "alice" cannot create resource "controlplanes" in API group "core.multiplane.dev"/,
    );
    assert.equal(mp.registry.lookup("evil"), undefined);
    assert.ok(!list.body.includes(uid.get("ab")!));
    await assertNothingLeaked(list);
  });

  test("a ControlPlane CRD and object made inside tenant a create no tenant", async () => {
    const crd = await readFile(
      join(import.meta.dirname, "..", "..", "crds", "controlplane.yaml"),
      "utf8",
    ).catch(() => undefined);
    assert.ok(crd !== undefined, "crds/controlplane.yaml is missing");
    await viaRouter("a", ["apply", "-f", "-"], { input: crd });
    await viaRouter("a", [
      "wait",
      "--for=condition=Established",
      "crd/controlplanes.core.multiplane.dev",
      "--timeout=15s",
    ]);
    await viaRouter("a", ["apply", "-f", "-"], { input: controlPlane("evil", { organization: "evil" }) });
    // The root tenant's ControlPlanes are unchanged: the registry knows no tenant "evil".
    const rootCPs = (await mp.kubectl(["get", "controlplanes", "-o", "name"])).trim().split("\n").sort();
    assert.ok(!rootCPs.includes("controlplane.core.multiplane.dev/evil"), rootCPs.join());
    const r = await send("router", "/clusters/evil/api/v1/namespaces", { headers: bearer(adminToken) });
    assertStatus(r, 404, "NotFound", 'tenants "evil" not found');
    assert.equal(mp.registry.lookup("evil"), undefined);
    await assertNothingLeaked(r);
  });

  test("TokenReview at a of ab's JWT and ab's ServiceAccount token: not authenticated, no user", async () => {
    for (const token of [adminJwt.get("ab")!, saToken.get("ab")!]) {
      const r = await send("router", "/clusters/a/apis/authentication.k8s.io/v1/tokenreviews", {
        method: "POST",
        headers: bearer(adminJwt.get("a")!),
        body: JSON.stringify({
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token },
        }),
      });
      assert.equal(r.status, 201, r.body);
      const status = (
        JSON.parse(r.body) as { status: { authenticated?: boolean; user?: unknown; error?: string } }
      ).status;
      assert.notEqual(status.authenticated, true);
      // kube's answer for a token it cannot authenticate: an empty user, a generic error.
      assert.deepEqual(status, { authenticated: false, error: "invalid bearer token", user: {} });
      assert.ok(!r.body.includes("ab-admin") && !r.body.includes(uid.get("ab")!), r.body);
      await assertNothingLeaked(r);
    }
  });

  test("SubjectAccessReview at a about ab's admin: not allowed, nothing of ab's RBAC", async () => {
    const r = await send("router", "/clusters/a/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      method: "POST",
      headers: bearer(adminJwt.get("a")!),
      body: JSON.stringify({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: "abby",
          resourceAttributes: { verb: "get", resource: "configmaps", namespace: "default" },
        },
      }),
    });
    assert.equal(r.status, 201, r.body);
    const status = (JSON.parse(r.body) as { status: { allowed: boolean; reason?: string } }).status;
    assert.equal(status.allowed, false);
    assert.ok(!r.body.includes("abby-admin"), r.body);
    await assertNothingLeaked(r);
  });
});

describe("a deleted and re-created tenant", () => {
  let oldJwt: string;
  let oldSA: string;
  let oldUID: string;
  before(async () => {
    oldUID = await createTenant("gone", "gone", { organization: "gone" });
    uid.set("gone", oldUID);
    oldJwt = await mintJwt("gone", "gone-admin", ["system:masters"]);
    oldSA = (await viaRouter("gone", ["create", "token", "default", "-n", "default"])).trim();
    await assertWorksAtHome("gone", oldJwt, "gone-admin");
    await assertWorksAtHome("gone", oldSA, "system:serviceaccount:default:default");
    await viaRouter("gone", ["create", "configmap", "old-data", "-n", "default", "--from-literal=m=old"]);
    await mp.kubectl(["delete", "controlplane", "gone"]);
    await eventually("gone unregistered", () => mp.registry.lookup("gone") === undefined);
    const newUID = await createTenant("gone", "gone", { organization: "gone" });
    assert.notEqual(newUID, oldUID);
    uid.set("gone", newUID);
  });

  test("its old tenant JWT: 401", async () => {
    const r = await send("router", "/clusters/gone/api/v1/namespaces/default/configmaps", {
      headers: bearer(oldJwt),
    });
    unauthorized(r);
    await assertWorksAtHome("gone", await mintJwt("gone", "gone-admin", ["system:masters"]), "gone-admin");
    await assertNothingLeaked(r);
  });

  test("its old ServiceAccount token (the new tenant has a default ServiceAccount too): 401", async () => {
    const r = await send("router", "/clusters/gone/api/v1/namespaces/default/configmaps", {
      headers: bearer(oldSA),
    });
    unauthorized(r);
    await assertNothingLeaked(r);
  });

  test("its old data is not there and its old prefix is empty", async () => {
    const r = await send("router", "/clusters/gone/api/v1/namespaces/default/configmaps/old-data", {
      headers: bearer(adminToken),
    });
    assertStatus(r, 404, "NotFound", 'configmaps "old-data" not found');
    assert.equal((await mp.storage.list(tenantPrefix({ uid: oldUID }))).items.length, 0);
    await assertNothingLeaked(r);
  });
});

describe("what the shard says about itself", () => {
  before(async () => {
    // A kind only ab has, used once at ab so that every shard-wide record of it exists.
    await viaRouter("ab", ["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "gadgets.abonly.example.com" },
        spec: {
          group: "abonly.example.com",
          scope: "Namespaced",
          names: { plural: "gadgets", singular: "gadget", kind: "Gadget" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
            },
          ],
        },
      }),
    });
    await viaRouter("ab", [
      "wait",
      "--for=condition=Established",
      "crd/gadgets.abonly.example.com",
      "--timeout=15s",
    ]);
    await viaRouter("ab", ["get", "gadgets", "-A"]);
    for (const path of ["/clusters/ab/apis", "/clusters/ab/openapi/v2", "/clusters/ab/openapi/v3"]) {
      assert.equal((await send("router", path, { headers: bearer(adminJwt.get("ab")!) })).status, 200, path);
    }
  });

  test("a's admin reading /metrics at a: 404, no other tenant's name or kinds", async () => {
    const r = await send("router", "/clusters/a/metrics", { headers: bearer(adminJwt.get("a")!) });
    assert.ok(!r.body.includes('tenant="ab"'), "ab's request series shown to a");
    assert.ok(!r.body.includes("abonly.example.com"), "ab's kinds shown to a");
    assertStatus(r, 404, "NotFound", "the server could not find the requested resource");
    // The platform's view (the root tenant) has them.
    const root = await send("router", "/metrics", { headers: bearer(adminToken) });
    assert.equal(root.status, 200);
    assert.match(root.body, /multiplane_tenant_requests_total\{tenant="ab"\}/);
    await assertNothingLeaked(r);
  });

  test("discovery and OpenAPI at a after ab served its own kind: nothing of ab's group", async () => {
    for (const [path, accept] of [
      ["/clusters/a/apis", "application/json"],
      ["/clusters/a/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"],
      ["/clusters/a/openapi/v2", "application/json"],
      ["/clusters/a/openapi/v3", "application/json"],
    ] as const) {
      const r = await send("router", path, { headers: { ...bearer(adminJwt.get("a")!), Accept: accept } });
      assert.equal(r.status, 200, `${path}: ${r.body.slice(0, 200)}`);
      assert.ok(!r.body.includes("abonly"), `${path} (${accept}) names ab's group`);
    }
    const group = await send("router", "/clusters/a/apis/abonly.example.com/v1", {
      headers: bearer(adminJwt.get("a")!),
    });
    assertStatus(group, 404, "NotFound", "the server could not find the requested resource");
    const gadgets = await send("router", "/clusters/a/apis/abonly.example.com/v1/gadgets", {
      headers: bearer(adminJwt.get("a")!),
    });
    assertStatus(gadgets, 404, "NotFound", "the server could not find the requested resource");
    await assertNothingLeaked(gadgets);
  });
});

describe("requests no client library sends", () => {
  /** Writes `head` as is on a TLS connection to the router; answers the status line and body. */
  function rawHttp(head: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect(
        { host: "127.0.0.1", port: router.port, ca: pki.caPem, checkServerIdentity: () => undefined },
        () => {
          socket.end(head);
        },
      );
      let text = "";
      socket.on("data", (c: Buffer) => (text += c.toString()));
      socket.on("end", () => resolve(text));
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
  }

  test("an absolute-form request target naming ab, with a's Host: 400, the path must begin with /", async () => {
    const r = await send("router", `https://ab.${baseDomain}/api/v1/namespaces/default/configmaps/sentinel`, {
      headers: { ...bearer(adminToken), Host: `a.${baseDomain}` },
    });
    assertStatus(r, 400, "BadRequest", "the request path must begin with /");
    await assertNothingLeaked(r);
  });

  test("a raw tab inside a dot segment (.\\t.): refused before any tenant is reached", async () => {
    const answer = await rawHttp(
      `GET /clusters/a/.\t./ab/api/v1/namespaces/default/configmaps/sentinel HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${adminToken}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assertNoMarkers(answer, [...tenantNames]);
    await assertSentinelsIntact();
  });
});

describe("bulk deletion", () => {
  test("deletecollection and namespace deletion in a leave ab's namespace of the same name untouched", async () => {
    for (const t of ["a", "ab"] as const) {
      await viaRouter(t, ["create", "namespace", "sweep"]);
      await viaRouter(t, [
        "create",
        "configmap",
        `in-${t}`,
        "-n",
        "sweep",
        `--from-literal=m=${marker.get(t)}`,
      ]);
    }
    const before = await send("router", "/clusters/ab/api/v1/namespaces/sweep/configmaps/in-ab", {
      headers: bearer(adminJwt.get("ab")!),
    });
    assert.equal(before.status, 200);
    const swept = await send("router", "/clusters/a/api/v1/namespaces/sweep/configmaps", {
      method: "DELETE",
      headers: bearer(adminJwt.get("a")!),
    });
    assert.equal(swept.status, 200, swept.body);
    assertNoMarkers(swept.body, ["ab", "a:x"]);
    await viaRouter("a", ["delete", "namespace", "sweep", "--wait=true", "--timeout=15s"]);
    const after = await send("router", "/clusters/ab/api/v1/namespaces/sweep/configmaps/in-ab", {
      headers: bearer(adminJwt.get("ab")!),
    });
    assert.equal(after.status, 200, after.body);
    assert.equal(after.body, before.body);
    const ns = JSON.parse(
      (await send("router", "/clusters/ab/api/v1/namespaces/sweep", { headers: bearer(adminJwt.get("ab")!) }))
        .body,
    ) as { status: { phase: string } };
    assert.equal(ns.status.phase, "Active");
    const gone = await send("router", "/clusters/a/api/v1/namespaces/sweep/configmaps/in-a", {
      headers: bearer(adminJwt.get("a")!),
    });
    assertStatus(gone, 404, "NotFound", 'configmaps "in-a" not found');
    await assertSentinelsIntact();
  });

  test("a LocalSubjectAccessReview posted at ab with a's token: 401", async () => {
    const r = await send(
      "router",
      "/clusters/ab/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews",
      {
        method: "POST",
        headers: bearer(adminJwt.get("a")!),
        body: JSON.stringify({
          apiVersion: "authorization.k8s.io/v1",
          kind: "LocalSubjectAccessReview",
          metadata: { namespace: "default" },
          spec: {
            user: "abby",
            resourceAttributes: { verb: "get", resource: "configmaps", namespace: "default" },
          },
        }),
      },
    );
    unauthorized(r);
    await assertNothingLeaked(r);
  });
});
