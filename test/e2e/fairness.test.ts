// Fairness end to end (`multiplane up`: the router in front of a shard): tenant A saturates its
// share with writes that wait on its own slow validating webhook (a real HTTPS server that
// holds every review until the test lets it answer), and tenant B, through the same router and
// shard, is still served — by the real kubectl and raw requests — while every one of A's
// webhook calls is still pending. A request gives its shard seat back while its webhook
// answers (up's router hands requests to its in-process shard, which queues them itself).

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  hook,
  makePKI,
  startWebhookServer,
  type WebhookServer,
} from "../../apiserver/src/admission/webhook/webhook.fixture.ts";
import { parseTokenFile } from "../../apiserver/src/authn/token-file.authenticator.ts";
import { ensureRouterPKI } from "../../apiserver/src/router/index.ts";
import { defaultMaxTotalRequestsInFlight } from "../../apiserver/src/server/fairness.ts";
import { eventually } from "../support/eventually.ts";
import { rawRequest, type RawResponse } from "../support/https.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let mp: TestMultiplane;
let hooks: WebhookServer;
let caPem: string;
let adminToken: string;
/** Lets the slow webhook answer every review it holds (and every later one). */
let letAnswer: () => void = () => undefined;
const answering = new Promise<void>((r) => (letAnswer = r));
let answered = 0;

before(async () => {
  mp = await startMultiplane();
  mp.tenants.addTenant({ name: "fair-a", uid: "7f1c3a52-0000-4000-8000-0000000000aa" });
  mp.tenants.addTenant({ name: "fair-b", uid: "7f1c3a52-0000-4000-8000-0000000000bb" });
  caPem = (await ensureRouterPKI(join(mp.dataDir, "pki"), ["127.0.0.1"])).caPem;
  const tokens = parseTokenFile(await readFile(join(mp.dataDir, "tokens.csv"), "utf8"));
  adminToken = [...tokens.entries()].find(([, u]) => u.groups.includes("system:masters"))![0];
  hooks = await startWebhookServer(await makePKI(), {
    // Probes (the configuration taking effect) pass at once; everything else waits.
    "/slow": async (r) => {
      if (r.request.object?.metadata?.name?.startsWith("probe-") === true) return { allowed: true };
      await answering;
      answered++;
      return { allowed: true };
    },
  });
});
after(async () => {
  letAnswer();
  await hooks?.close();
  await mp?.destroy();
});

/** A request to the router (mp.url) as the admin, at `/clusters/<tenant><path>`. */
const call = (tenant: string, method: string, path: string, body?: unknown): Promise<RawResponse> =>
  rawRequest(mp.url, caPem, `/clusters/${tenant}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

const configMap = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
const configMaps = "/api/v1/namespaces/default/configmaps";
const waiting = () => hooks.received.filter((r) => !r.request.object?.metadata?.name?.startsWith("probe-"));

test("a tenant whose webhook is slow cannot starve another tenant", async () => {
  await mp.kubectl(["apply", "-f", "-"], {
    tenant: "fair-a",
    input: JSON.stringify({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "slow" },
      webhooks: [hook("slow.example.com", hooks.url("/slow"), hooks.caBundle, { timeoutSeconds: 30 })],
    }),
  });
  let probe = 0;
  await eventually(
    "tenant fair-a's webhook is called",
    async () => {
      const res = await call("fair-a", "POST", configMaps, configMap(`probe-${probe++}`));
      assert.equal(res.status, 201, res.body);
      return hooks.received.length > 0;
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );

  // A saturates: five times more writes than the shard has seats.
  const a = Array.from({ length: 40 }, (_, i) => call("fair-a", "POST", configMaps, configMap(`a-${i}`)));
  let aAnswered = 0;
  for (const p of a) void p.then(() => aAnswered++);
  // Every one of them waits on the webhook at once, as a seat is given back while a webhook
  // answers.
  assert.ok(a.length > defaultMaxTotalRequestsInFlight);
  await eventually("A's writes wait on its webhook", () => Promise.resolve(waiting().length === a.length), {
    timeoutMs: 20_000,
    intervalMs: 20,
  });

  // B is served while every one of A's webhook calls is still pending.
  assert.match(await mp.kubectl(["get", "namespaces"], { tenant: "fair-b" }), /default/);
  await mp.kubectl(["create", "configmap", "b-1", "--from-literal=k=v"], { tenant: "fair-b" });
  const created = await call("fair-b", "POST", configMaps, configMap("b-2"));
  assert.equal(created.status, 201, created.body);
  const listed = await call("fair-b", "GET", configMaps);
  assert.equal(listed.status, 200, listed.body);
  const names = (JSON.parse(listed.body) as { items: { metadata: { name: string } }[] }).items.map(
    (i) => i.metadata.name,
  );
  assert.ok(names.includes("b-1") && names.includes("b-2"), names.join(","));
  assert.equal(answered, 0, "B was served before any of A's webhook calls returned");
  assert.equal(aAnswered, 0, "none of A's writes was answered yet");

  // A's writes all succeed once its webhook answers.
  letAnswer();
  const results = await Promise.all(a);
  assert.deepEqual(
    results.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body}`),
    [],
  );
  assert.equal(waiting().length, 40);
});
