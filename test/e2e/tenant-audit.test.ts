// A tenant's own audit webhook (its ControlPlane's spec.policy.audit.webhook), on top of the
// platform's log, through the real kubectl: a real HTTPS audit webhook started here receives
// tenant a's events (and those of its project a.x, which inherits) on a's path and tenant b's
// on b's, never one of the other's nor of a tenant without a webhook; the platform's log still
// has every event; a deleted tenant's sink receives nothing more.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import YAML from "yaml";
import { generateCA, issueCertificate } from "../../apiserver/src/server/pki.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";
import { eventually } from "../support/eventually.ts";

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  objectRef?: { resource?: string; name?: string };
  annotations?: Record<string, string>;
}

let mp: TestMultiplane;
let webhook: Server;
let webhookURL: string;
let caBundle: string;
/** EventLists received, by request path (`/a`, `/b`). */
const received = new Map<string, AuditEvent[]>();

before(async () => {
  const ca = await generateCA("tenant-audit-ca");
  const serving = await issueCertificate(ca, { commonName: "audit", hosts: ["127.0.0.1"], usage: "server" });
  caBundle = Buffer.from(ca.certPem).toString("base64");
  webhook = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const list = JSON.parse(Buffer.concat(chunks).toString()) as { kind: string; items: AuditEvent[] };
      assert.equal(list.kind, "EventList");
      const path = req.url ?? "";
      received.set(path, [...(received.get(path) ?? []), ...list.items]);
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
  webhookURL = `https://127.0.0.1:${(webhook.address() as AddressInfo).port}`;
  mp = await startMultiplane({ tenantAuditWebhook: { maxBatchWaitMs: 10, initialBackoffMs: 50 } });
});
after(async () => {
  await mp?.destroy();
  await new Promise((r) => webhook?.close(r));
});

const controlPlane = (name: string, spec: Record<string, unknown>): string =>
  YAML.stringify({
    apiVersion: "core.multiplane.dev/v1alpha1",
    kind: "ControlPlane",
    metadata: { name },
    spec,
  });

async function ready(name: string): Promise<void> {
  await eventually(`ControlPlane ${name} Ready`, async () => {
    const cp = JSON.parse(await mp.kubectl(["get", "controlplane", name, "-o", "json"])) as {
      status?: { phase?: string };
    };
    return cp.status?.phase === "Ready";
  });
}

const tenantsOf = (path: string): Set<string> =>
  new Set((received.get(path) ?? []).map((e) => e.annotations?.["multiplane.dev/tenant"] ?? "?"));
const namesOf = (path: string): Set<string> =>
  new Set(
    (received.get(path) ?? []).flatMap((e) => (e.objectRef?.name !== undefined ? [e.objectRef.name] : [])),
  );

describe("a tenant's own audit webhook", () => {
  test("receives its tenant's events (and its inheriting project's), never another tenant's", async () => {
    const hook = (path: string) => ({ audit: { webhook: { url: `${webhookURL}${path}`, caBundle } } });
    await mp.kubectl(["apply", "-f", "-"], {
      input: [
        controlPlane("aud-a", { organization: "aud-a", policy: hook("/a") }),
        controlPlane("aud-a.x", { organization: "aud-a", project: "x" }),
        controlPlane("aud-b", { organization: "aud-b", policy: hook("/b") }),
        controlPlane("aud-c", { organization: "aud-c" }),
      ].join("---\n"),
    });
    for (const name of ["aud-a", "aud-a.x", "aud-b", "aud-c"]) await ready(name);

    for (const [tenant, cm] of [
      ["aud-a", "cm-of-a"],
      ["aud-a:x", "cm-of-ax"],
      ["aud-b", "cm-of-b"],
      ["aud-c", "cm-of-c"],
    ] as const) {
      await mp.kubectl(["create", "configmap", cm, "-n", "default", "--from-literal=k=v"], { tenant });
      await mp.kubectl(["get", "configmap", cm, "-n", "default"], { tenant });
    }
    // A failed authentication at b is b's event too (audited at ResponseStarted).
    await assert.rejects(mp.kubectl(["get", "ns"], { tenant: "aud-b", token: "not-a-token" }));

    await eventually("a's and b's webhooks got their configmaps", () => {
      const a = namesOf("/a");
      const b = namesOf("/b");
      return a.has("cm-of-a") && a.has("cm-of-ax") && b.has("cm-of-b");
    });
    await eventually("b's webhook got the failed authentication", () =>
      (received.get("/b") ?? []).some(
        (e) => e.stage === "ResponseStarted" && e.requestURI.includes("/namespaces"),
      ),
    );
    assert.deepEqual([...tenantsOf("/a")].sort(), ["aud-a", "aud-a:x"]);
    assert.deepEqual([...tenantsOf("/b")], ["aud-b"]);
    assert.deepEqual([...received.keys()].sort(), ["/a", "/b"]);
    for (const other of ["cm-of-b", "cm-of-c"])
      assert.ok(!namesOf("/a").has(other), `${other} reached a's sink`);
    for (const other of ["cm-of-a", "cm-of-ax", "cm-of-c"])
      assert.ok(!namesOf("/b").has(other), `${other} reached b's sink`);

    // The platform's log has every tenant's events, as before.
    const log = await readFile(join(mp.dataDir, "audit.log"), "utf8");
    for (const cm of ["cm-of-a", "cm-of-ax", "cm-of-b", "cm-of-c"]) assert.match(log, new RegExp(`"${cm}"`));
  });

  test("a deleted tenant's sink receives nothing more; a re-created tenant without a webhook sends none", async () => {
    await mp.kubectl(["delete", "controlplane", "aud-b"]);
    await eventually("aud-b unregistered", () => mp.tenants.lookup("aud-b") === undefined);
    const before = (received.get("/b") ?? []).length;
    await mp.kubectl(["apply", "-f", "-"], { input: controlPlane("aud-b", { organization: "aud-b" }) });
    await ready("aud-b");
    await mp.kubectl(["create", "configmap", "cm-of-new-b", "-n", "default"], { tenant: "aud-b" });
    await mp.kubectl(["get", "configmap", "cm-of-new-b", "-n", "default"], { tenant: "aud-b" });
    // a's sink still works: its event arriving bounds the wait for a stray one at b's.
    await mp.kubectl(["create", "configmap", "cm-of-a-later", "-n", "default"], { tenant: "aud-a" });
    await mp.kubectl(["get", "configmap", "cm-of-a-later", "-n", "default"], { tenant: "aud-a" });
    await eventually("a's webhook got its later configmap", () => namesOf("/a").has("cm-of-a-later"));
    assert.equal((received.get("/b") ?? []).length, before);
    assert.ok(!namesOf("/a").has("cm-of-new-b"));
  });
});
