// Audit and metrics end to end: N mutating requests give exactly N ResponseComplete events at
// the levels the policy names; an audit webhook that is down costs no request and its drops
// show in /metrics; /metrics carries kube's request series.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rawRequest, type RawResponse } from "../support/https.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

const policy = `
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    resources: [{ group: "coordination.k8s.io", resources: ["leases"] }]
  - level: RequestResponse
    resources: [{ group: "", resources: ["configmaps"] }]
  - level: Metadata
    resources: [{ group: "", resources: ["secrets"] }]
  - level: Request
    verbs: ["create", "update", "patch", "delete"]
`;

interface AuditEvent {
  level: string;
  stage: string;
  auditID: string;
  verb: string;
  user: { username: string };
  impersonatedUser?: { username: string };
  objectRef?: { resource: string; namespace?: string; name?: string };
  responseStatus?: { code: number };
  requestObject?: unknown;
  responseObject?: unknown;
  annotations?: Record<string, string>;
}

let mp: TestMultiplane;
let auditLog: string;
let ca: string;
let token: string;

before(async () => {
  mp = await startMultiplane({
    auditPolicy: policy,
    // Nothing listens there: the webhook sink retries, fills its small buffer and drops.
    auditWebhook: {
      url: "https://127.0.0.1:9/audit",
      bufferSize: 5,
      initialBackoffMs: 50,
      maxBatchWaitMs: 10,
    },
  });
  auditLog = join(mp.dataDir, "audit.log");
  ca = await readFile(join(mp.dataDir, "pki", "ca.crt"), "utf8");
  token = /token: (\S+)/.exec(await readFile(mp.kubeconfigPath, "utf8"))![1]!;
});
after(async () => {
  await mp?.destroy();
});

const call = (
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> =>
  rawRequest(mp.url, ca, path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

async function events(): Promise<AuditEvent[]> {
  const text = await readFile(auditLog, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AuditEvent);
}

/** The log sink writes asynchronously: wait until `count` ResponseComplete events of `ids` are there. */
async function eventsFor(ids: readonly string[], count: number): Promise<AuditEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const all = (await events()).filter((e) => ids.includes(e.auditID));
    const complete = all.filter((e) => e.stage === "ResponseComplete");
    if (complete.length >= count || Date.now() > deadline) return all;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("audit", () => {
  test("N mutating requests give exactly N ResponseComplete events at the policy's levels", async () => {
    const ids: string[] = [];
    const expectOk = (r: RawResponse, code: number) => {
      assert.equal(r.status, code, r.body);
      ids.push(r.headers["audit-id"] as string);
    };
    const N = 12;
    for (let i = 0; i < N; i++) {
      expectOk(
        await call("POST", "/api/v1/namespaces/default/configmaps", {
          metadata: { name: `audit-cm-${i}` },
          data: { i: String(i) },
        }),
        201,
      );
    }
    for (let i = 0; i < 4; i++) {
      expectOk(
        await call("POST", "/api/v1/namespaces/default/secrets", {
          metadata: { name: `audit-secret-${i}` },
          stringData: { password: "hunter2" },
        }),
        201,
      );
    }
    for (let i = 0; i < 3; i++) {
      expectOk(
        await call("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", {
          metadata: { name: `audit-lease-${i}` },
        }),
        201,
      );
    }
    expectOk(
      await call("PUT", "/api/v1/namespaces/default/configmaps/audit-cm-0", {
        metadata: { name: "audit-cm-0" },
        data: { changed: "yes" },
      }),
      200,
    );
    expectOk(await call("DELETE", "/api/v1/namespaces/default/configmaps/audit-cm-1"), 200);
    // A denied request is audited too (impersonating someone without rights).
    const denied = await call(
      "POST",
      "/api/v1/namespaces/default/configmaps",
      { metadata: { name: "nope" } },
      {
        "Impersonate-User": "nobody",
      },
    );
    assert.equal(denied.status, 403);
    ids.push(denied.headers["audit-id"] as string);

    // Every request but the three at level None.
    const got = await eventsFor(ids, ids.length - 3);
    const complete = got.filter((e) => e.stage === "ResponseComplete");
    const byResource = (r: string) => complete.filter((e) => e.objectRef?.resource === r);
    // configmaps: N creates + 1 update + 1 delete + the denied create, each once, at RequestResponse.
    assert.equal(byResource("configmaps").length, N + 3);
    for (const e of byResource("configmaps")) assert.equal(e.level, "RequestResponse");
    const created = byResource("configmaps").find(
      (e) => e.verb === "create" && e.responseStatus?.code === 201,
    )!;
    assert.ok(created.requestObject !== undefined && created.responseObject !== undefined);
    // secrets: Metadata, no bodies (the password never reaches the log).
    assert.equal(byResource("secrets").length, 4);
    for (const e of byResource("secrets")) {
      assert.equal(e.level, "Metadata");
      assert.equal(e.requestObject, undefined);
      assert.equal(e.responseObject, undefined);
    }
    assert.ok(!(await readFile(auditLog, "utf8")).includes("hunter2"));
    // leases: level None, nothing.
    assert.equal(byResource("leases").length, 0);
    // RequestReceived is omitted by the policy; every event's ID is one a response carried.
    assert.equal(got.filter((e) => e.stage === "RequestReceived").length, 0);
    assert.equal(new Set(complete.map((e) => e.auditID)).size, complete.length);
    // The decision, and both identities of the impersonated request.
    assert.equal(created.annotations?.["authorization.k8s.io/decision"], "allow");
    assert.equal(created.annotations?.["multiplane.dev/tenant"], "root");
    const deniedEvent = complete.find((e) => e.auditID === denied.headers["audit-id"])!;
    assert.equal(deniedEvent.responseStatus?.code, 403);
    assert.equal(deniedEvent.user.username, "admin");
    assert.equal(deniedEvent.impersonatedUser?.username, "nobody");
    assert.equal(deniedEvent.annotations?.["authorization.k8s.io/decision"], "forbid");
  });

  test("an audit webhook that is down loses no request and reports its drops in /metrics", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await call("POST", "/api/v1/namespaces/default/configmaps", {
        metadata: { name: `burst-${i}` },
      });
      assert.equal(r.status, 201, r.body);
      ids.push(r.headers["audit-id"] as string);
    }
    const metrics = await call("GET", "/metrics");
    assert.equal(metrics.status, 200);
    const dropped = /apiserver_audit_error_total\{plugin="buffered"\} (\d+)/.exec(metrics.body);
    assert.ok(
      dropped !== null && Number(dropped[1]) > 0,
      `drops reported:\n${metrics.body
        .split("\n")
        .filter((l) => l.includes("audit"))
        .join("\n")}`,
    );
    // The log sink has every one of them all the same, once.
    const got = await eventsFor(ids, 30);
    assert.equal(got.filter((e) => e.stage === "ResponseComplete").length, 30);
  });

  test("/metrics carries kube's request series with bounded labels", async () => {
    const metrics = await call("GET", "/metrics");
    assert.match(metrics.headers["content-type"] as string, /^text\/plain/);
    const created = metrics.body
      .split("\n")
      .find(
        (l) =>
          l.startsWith("apiserver_request_total{") &&
          ['verb="POST"', 'resource="configmaps"', 'code="201"', 'scope="resource"', 'dry_run=""'].every(
            (x) => l.includes(x),
          ),
      );
    assert.ok(created !== undefined && Number(created.split(" ").at(-1)) >= 42, created);
    assert.match(metrics.body, /apiserver_request_duration_seconds_bucket\{/);
    assert.match(metrics.body, /apiserver_current_inflight_requests\{request_kind="mutating"\}/);
    assert.match(metrics.body, /authentication_attempts\{result="success"\}/);
    assert.match(
      metrics.body,
      /apiserver_admission_step_admission_duration_seconds_count\{[^}]*operation="CREATE"[^}]*\} \d+/,
    );
    assert.match(metrics.body, /authorization_attempts_total\{result="allowed"\}/);
    assert.match(metrics.body, /multiplane_tenant_requests_total\{tenant="root"\}/);
  });
});
