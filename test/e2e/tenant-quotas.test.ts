// A tenant's quotas from its ControlPlane's policy, through the real kubectl and raw HTTPS:
// status.usage shows what the tenant stores; a create past maxObjects is refused with the quota
// message and a delete frees room; a watch past maxWatches and requests past
// maxRequestsInFlight (and the shard's short queue) are 429 TooManyRequests with Retry-After,
// while another tenant is still served. The burst's requests are held in flight by the tenant's
// authorization webhook (after the fairness stage) until the test lets them go: no timing.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Agent, createServer, request as httpsRequest, type Server } from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import YAML from "yaml";
import { generateCA, issueCertificate, type CertKeyPair } from "../../apiserver/src/server/pki.ts";
import { tenantPrefix } from "../../apiserver/src/storage/keys.ts";
import {
  startMultiplane,
  type KubectlOptions,
  type KubectlOutcome,
  type TestMultiplane,
} from "../support/multiplane.ts";
import { eventually } from "../support/eventually.ts";

const dev = { token: "quota-dev-token-0123456789abcdef", name: "dev" };

let mp: TestMultiplane;
let caPem: string;
let adminToken: string;
let webhookCA: CertKeyPair;
let sarServer: Server;
let sarURL: string;
/** Reviews the webhook received (it holds its answers until the gate opens). */
let reviews = 0;
let openGate: () => void = () => undefined;
const gate = new Promise<void>((resolve) => (openGate = resolve));

before(async () => {
  webhookCA = await generateCA("tenant-quotas-test-ca");
  const serving = await issueCertificate(webhookCA, {
    commonName: "sar",
    hosts: ["127.0.0.1"],
    usage: "server",
  });
  // Allows everything to `dev`, once the gate is open.
  sarServer = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      reviews++;
      const review = JSON.parse(Buffer.concat(chunks).toString()) as { spec: { user: string } };
      void gate.then(() => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ ...review, status: { allowed: review.spec.user === dev.name } }));
      });
    });
  });
  await new Promise<void>((r) => sarServer.listen(0, "127.0.0.1", r));
  sarURL = `https://127.0.0.1:${(sarServer.address() as AddressInfo).port}`;
  // Usage reported often, and a short queue so a burst overflows it.
  mp = await startMultiplane({ users: [dev], usageIntervalMs: 200, fairness: { maxQueued: 2 } });
  const kubeconfig = YAML.parse(await readFile(mp.kubeconfigPath, "utf8")) as {
    clusters: { cluster: { "certificate-authority-data": string } }[];
    users: { user: { token: string } }[];
  };
  caPem = Buffer.from(kubeconfig.clusters[0]!.cluster["certificate-authority-data"], "base64").toString();
  adminToken = kubeconfig.users[0]!.user.token;
});
after(async () => {
  openGate();
  await mp?.destroy();
  await new Promise((r) => sarServer?.close(r));
});

/** Polls `check` until it returns true (or fails the test after 15,000 ms). */

const outcome = (args: readonly string[], opts: KubectlOptions = {}): Promise<KubectlOutcome> =>
  mp.kubectlOutcome(args, opts);

const applyControlPlane = (
  name: string,
  quotas: Record<string, number>,
  policy: Record<string, unknown> = {},
): Promise<string> =>
  mp.kubectl(["apply", "-f", "-"], {
    input: YAML.stringify({
      apiVersion: "core.multiplane.dev/v1alpha1",
      kind: "ControlPlane",
      metadata: { name },
      spec: { organization: name, policy: { ...policy, quotas } },
    }),
  });

async function waitServedWith(tenant: string, quotas: Record<string, number>): Promise<string> {
  await eventually(`tenant ${tenant} served with ${JSON.stringify(quotas)}`, async () => {
    const phase = await mp.kubectl(["get", "controlplane", tenant, "-o", "jsonpath={.status.phase}"]);
    const served = mp.tenants.lookup(tenant)?.policy?.quotas;
    return phase === "Ready" && JSON.stringify(served ?? {}) === JSON.stringify(quotas);
  });
  return mp.tenants.lookup(tenant)!.uid;
}

/** What the tenant holds in storage: its keys and the bytes of their values. */
async function stored(uid: string): Promise<{ objects: number; storageBytes: number }> {
  const list = await mp.storage.list(tenantPrefix({ uid }));
  return {
    objects: list.items.length,
    storageBytes: list.items.reduce((n, kv) => n + kv.value.byteLength, 0),
  };
}

const reportedUsage = async (tenant: string): Promise<{ objects?: number; storageBytes?: number }> => {
  const text = await mp.kubectl(["get", "cp", tenant, "-o", "jsonpath={.status.usage}"]);
  return text === "" ? {} : (JSON.parse(text) as { objects?: number; storageBytes?: number });
};

/** Opens a watch and resolves once its response has started (the stream stays open). */
function openWatch(path: string): Promise<{ res: IncomingMessage; req: ClientRequest; body: () => string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, mp.url),
      { ca: caPem, headers: { Authorization: `Bearer ${adminToken}` } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("error", () => undefined); // destroyed by the test
        resolve({ res, req, body: () => text });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** A GET through `agent`: its code, Retry-After header and body. */
function get(
  agent: Agent,
  path: string,
  token = adminToken,
): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, mp.url),
      { ca: caPem, agent, headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers["retry-after"],
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("tenant quotas", () => {
  let acmeUID = "";
  let limit = 0;

  test("status.usage shows the tenant's objects and stored bytes", async () => {
    await applyControlPlane("acme", {});
    acmeUID = await waitServedWith("acme", {});
    await mp.kubectl(["create", "configmap", "first", "--from-literal=k=v"], { tenant: "acme" });
    let last: unknown;
    await eventually("status.usage is what storage holds", async () => {
      const [reported, actual] = await Promise.all([reportedUsage("acme"), stored(acmeUID)]);
      last = { reported, actual };
      return reported.objects === actual.objects && reported.storageBytes === actual.storageBytes;
    }).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(last)}`));
    const usage = await reportedUsage("acme");
    assert.ok((usage.objects ?? 0) > 1 && (usage.storageBytes ?? 0) > 0);
  });

  test("a create past maxObjects is refused with the quota message; a delete frees room", async () => {
    const before = await stored(acmeUID);
    limit = before.objects + 2;
    await applyControlPlane("acme", { maxObjects: limit, maxWatches: 2 });
    await waitServedWith("acme", { maxObjects: limit, maxWatches: 2 });

    await mp.kubectl(["create", "configmap", "second"], { tenant: "acme" });
    await mp.kubectl(["create", "configmap", "third"], { tenant: "acme" });
    const refused = await outcome(["create", "configmap", "fourth"], { tenant: "acme" });
    assert.equal(refused.ok, false);
    assert.ok(
      refused.stderr.includes(
        `configmaps "fourth" is forbidden: exceeded tenant quota: acme, requested: objects=1, used: objects=${limit}, limited: objects=${limit}`,
      ),
      refused.stderr,
    );
    // Any kind counts: a namespace is an object too.
    const ns = await outcome(["create", "namespace", "extra"], { tenant: "acme" });
    assert.equal(ns.ok, false);
    assert.match(ns.stderr, /namespaces "extra" is forbidden: exceeded tenant quota: acme/);

    await mp.kubectl(["delete", "configmap", "second"], { tenant: "acme" });
    await mp.kubectl(["create", "configmap", "fourth"], { tenant: "acme" });
    assert.equal((await stored(acmeUID)).objects, limit);
    await eventually("status.usage counts the objects at the limit", async () => {
      const usage = await reportedUsage("acme");
      return usage.objects === limit && usage.storageBytes === (await stored(acmeUID)).storageBytes;
    });
  });

  test("a watch past maxWatches is 429 TooManyRequests with Retry-After; an ended watch frees its slot", async () => {
    const path = "/clusters/acme/api/v1/namespaces/default/configmaps?watch=true";
    const first = await openWatch(path);
    const second = await openWatch(`${path}&labelSelector=a%3Db`);
    try {
      assert.equal(first.res.statusCode, 200);
      assert.equal(second.res.statusCode, 200);
      const third = await get(new Agent({ keepAlive: false }), "/clusters/acme/api/v1/secrets?watch=true");
      assert.equal(third.status, 429);
      assert.equal(third.retryAfter, "1");
      const status = JSON.parse(third.body) as {
        kind: string;
        reason: string;
        message: string;
        code: number;
      };
      assert.equal(status.kind, "Status");
      assert.equal(status.reason, "TooManyRequests");
      assert.equal(status.code, 429);
      assert.equal(status.message, "too many watches: tenant acme has 2 open, limited: 2");
      // Lists are not watches: still served.
      const list = await outcome(["get", "configmaps", "-o", "name"], { tenant: "acme" });
      assert.ok(list.ok, list.stderr);
      assert.match(list.stdout, /configmap\/fourth/);
    } finally {
      first.req.destroy();
    }
    // The first watch's slot comes back once the server sees it end.
    let fourth: Awaited<ReturnType<typeof openWatch>> | undefined;
    try {
      await eventually("a watch is admitted again", async () => {
        const w = await openWatch(path);
        if (w.res.statusCode === 200) {
          fourth = w;
          return true;
        }
        w.req.destroy();
        return false;
      });
    } finally {
      fourth?.req.destroy();
      second.req.destroy();
    }
  });

  test("a burst past maxRequestsInFlight is 429 with Retry-After; another tenant is still served", async () => {
    const webhook = {
      url: `${sarURL}/authorize`,
      caBundle: Buffer.from(webhookCA.certPem).toString("base64"),
    };
    await applyControlPlane("burst", { maxRequestsInFlight: 1 }, { authorization: { webhook } });
    await waitServedWith("burst", { maxRequestsInFlight: 1 });
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const burst = 20;
    const settled: Awaited<ReturnType<typeof get>>[] = [];
    try {
      // One request of dev holds the tenant's only slot (its authorization waits on the webhook),
      // two wait in the queue, and every other one is refused at once.
      const requests = Array.from({ length: burst }, () =>
        get(agent, "/clusters/burst/api/v1/namespaces/default/configmaps", dev.token).then((r) => {
          settled.push(r);
          return r;
        }),
      );
      await eventually("all but the held and the queued requests are answered", () =>
        Promise.resolve(settled.length === burst - 3),
      );
      assert.equal(reviews, 1, "only the request in flight reached authorization");
      assert.deepEqual(
        settled.map((r) => r.status),
        Array.from({ length: burst - 3 }, () => 429),
      );
      for (const r of settled) {
        assert.equal(r.retryAfter, "1");
        const status = JSON.parse(r.body) as { kind: string; reason: string; code: number };
        assert.equal(status.kind, "Status");
        assert.equal(status.reason, "TooManyRequests");
        assert.equal(status.code, 429);
      }
      // Meanwhile another tenant is served.
      const other = await outcome(["get", "configmaps", "-o", "name"], { tenant: "acme" });
      assert.ok(other.ok, other.stderr);

      // Let the held request go: it and the two queued ones are served, one after another.
      openGate();
      const all = await Promise.all(requests);
      assert.equal(all.filter((r) => r.status === 200).length, 3);
      assert.equal(all.filter((r) => r.status === 429).length, burst - 3);
    } finally {
      openGate();
      agent.destroy();
    }
  });
});
