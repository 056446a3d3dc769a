import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { register as globalRegistry } from "prom-client";

import { parseRequestInfo } from "../request/request-info.ts";
import { ApiserverMetrics, requestDurationBuckets } from "./apiserver.metrics.ts";
import { dryRunLabel, requestLabels, requestVerb, type RequestLabelInput } from "./request-labels.ts";

// ---------------------------------------------------------------------------------------
// The text exposition, parsed back into samples.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): {
  samples: Sample[];
  types: Map<string, string>;
  helps: Map<string, string>;
} {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === "HELP" ? helps : types).set(meta[2]!, meta[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types, helps };
}

async function scrape(metrics: ApiserverMetrics) {
  const { contentType, body } = await metrics.render();
  return { contentType, ...parseExposition(body) };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const req = (method: string, uri: string, contentType?: string): RequestLabelInput => {
  const url = new URL(uri, "https://x.invalid");
  return {
    info: parseRequestInfo(method, url.pathname, url.searchParams),
    method,
    query: url.searchParams,
    ...(contentType !== undefined ? { contentType } : {}),
  };
};

// ---------------------------------------------------------------------------------------

describe("verb, scope and dry_run as kube reports them", () => {
  const cases: [string, RequestLabelInput, string, string][] = [
    ["a collection GET is LIST", req("GET", "/api/v1/namespaces/a/pods"), "LIST", "namespace"],
    ["across namespaces", req("GET", "/api/v1/pods"), "LIST", "cluster"],
    ["a named GET", req("GET", "/api/v1/namespaces/a/pods/p"), "GET", "resource"],
    ["HEAD of an object", req("HEAD", "/api/v1/namespaces/a/pods/p"), "GET", "resource"],
    ["?watch=true", req("GET", "/api/v1/namespaces/a/pods?watch=true"), "WATCH", "namespace"],
    ["?watch=1", req("GET", "/apis/apps/v1/deployments?watch=1"), "WATCH", "cluster"],
    ["?watch=false is a LIST", req("GET", "/api/v1/namespaces/a/pods?watch=false"), "LIST", "namespace"],
    ["the /watch/ prefix", req("GET", "/api/v1/watch/namespaces/a/pods"), "WATCH", "namespace"],
    [
      "the /watch/ prefix on one object",
      req("GET", "/api/v1/watch/namespaces/a/pods/p"),
      "WATCH",
      "resource",
    ],
    [
      "a list narrowed to one name by field selector keeps LIST",
      req("GET", "/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dp"),
      "LIST",
      "namespace",
    ],
    ["create", req("POST", "/api/v1/namespaces/a/configmaps"), "POST", "resource"],
    ["update", req("PUT", "/api/v1/namespaces/a/configmaps/c"), "PUT", "resource"],
    [
      "a merge patch",
      req("PATCH", "/api/v1/namespaces/a/configmaps/c", "application/merge-patch+json"),
      "PATCH",
      "resource",
    ],
    [
      "server-side apply",
      req("PATCH", "/apis/apps/v1/namespaces/a/deployments/d", "application/apply-patch+yaml"),
      "APPLY",
      "resource",
    ],
    ["delete", req("DELETE", "/api/v1/namespaces/a/configmaps/c"), "DELETE", "resource"],
    [
      "deletecollection reports its method",
      req("DELETE", "/api/v1/namespaces/a/configmaps"),
      "DELETE",
      "namespace",
    ],
    ["pods/log is CONNECT", req("GET", "/api/v1/namespaces/a/pods/p/log"), "CONNECT", "resource"],
    ["pods/exec is CONNECT", req("POST", "/api/v1/namespaces/a/pods/p/exec"), "CONNECT", "resource"],
    ["a status update stays PUT", req("PUT", "/api/v1/namespaces/a/pods/p/status"), "PUT", "resource"],
    ["a non-resource GET", req("GET", "/healthz"), "GET", ""],
    ["an unknown method is other", req("BREW", "/api/v1/namespaces/a/pods/p"), "other", "resource"],
  ];
  for (const [name, input, verb, scope] of cases) {
    test(name, () => {
      const labels = requestLabels(input);
      assert.equal(labels.verb, verb);
      assert.equal(labels.scope, scope);
      assert.equal(requestVerb(input), verb);
    });
  }

  test("dry_run: empty, All, deduplicated, or invalid", () => {
    assert.equal(dryRunLabel(new URLSearchParams("")), "");
    assert.equal(dryRunLabel(new URLSearchParams("dryRun=All")), "All");
    assert.equal(dryRunLabel(new URLSearchParams("dryRun=All&dryRun=All")), "All");
    assert.equal(dryRunLabel(new URLSearchParams("dryRun=Some")), "invalid");
  });

  test("non-resource requests carry no group, version, resource or subresource", () => {
    assert.deepEqual(requestLabels(req("GET", "/apis")), {
      verb: "GET",
      group: "",
      version: "",
      resource: "",
      subresource: "",
      scope: "",
      component: "apiserver",
    });
  });
});

describe("the registry", () => {
  test("request total and duration under kube's names, labels and buckets", async () => {
    const m = new ApiserverMetrics();
    m.recordRequest({ ...req("GET", "/api/v1/namespaces/a/pods"), code: 200, durationSeconds: 0.03 });
    m.recordRequest({ ...req("GET", "/api/v1/namespaces/a/pods"), code: 200, durationSeconds: 0.7 });
    m.recordRequest({
      ...req("POST", "/apis/apps/v1/namespaces/a/deployments?dryRun=All"),
      code: 201,
      durationSeconds: 0.01,
    });
    m.recordRequest({ ...req("GET", "/api/v1/namespaces/a/secrets/s"), code: 403, durationSeconds: 0.001 });
    const { contentType, samples, types, helps } = await scrape(m);
    assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
    assert.equal(types.get("apiserver_request_total"), "counter");
    assert.equal(types.get("apiserver_request_duration_seconds"), "histogram");
    assert.match(helps.get("apiserver_request_total")!, /^\[STABLE\] Counter of apiserver requests/);

    assert.deepEqual(find(samples, "apiserver_request_total", { verb: "LIST" }), [
      {
        name: "apiserver_request_total",
        labels: {
          verb: "LIST",
          dry_run: "",
          group: "",
          version: "v1",
          resource: "pods",
          subresource: "",
          scope: "namespace",
          component: "apiserver",
          code: "200",
        },
        value: 2,
      },
    ]);
    assert.equal(
      find(samples, "apiserver_request_total", {
        verb: "POST",
        dry_run: "All",
        group: "apps",
        code: "201",
      })[0]?.value,
      1,
    );
    assert.equal(find(samples, "apiserver_request_total", { verb: "GET", code: "403" })[0]?.value, 1);

    const buckets = find(samples, "apiserver_request_duration_seconds_bucket", { verb: "LIST" });
    assert.deepEqual(
      buckets.map((b) => b.labels["le"]),
      [...requestDurationBuckets.map((b) => String(b)), "+Inf"],
    );
    const le = (v: string) => buckets.find((b) => b.labels["le"] === v)!.value;
    assert.equal(le("0.025"), 0);
    assert.equal(le("0.05"), 1);
    assert.equal(le("0.8"), 2);
    assert.equal(find(samples, "apiserver_request_duration_seconds_count", { verb: "LIST" })[0]?.value, 2);
    assert.ok(!("code" in buckets[0]!.labels));
  });

  test("the registry is our own, not prom-client's global one", async () => {
    const m = new ApiserverMetrics();
    m.recordRequest({ ...req("GET", "/api/v1/pods"), code: 200, durationSeconds: 0.1 });
    assert.equal(globalRegistry.getSingleMetric("apiserver_request_total"), undefined);
    assert.doesNotMatch(await globalRegistry.metrics(), /apiserver_/);
    // Two instances do not collide (each has its own registry).
    assert.doesNotThrow(() => new ApiserverMetrics());
  });

  test("in-flight: the highest count of about the last second, per request kind", async () => {
    let now = 1_000_000;
    const m = new ApiserverMetrics({ now: () => now });
    const a = m.inflight("readOnly");
    const b = m.inflight("readOnly");
    const c = m.inflight("mutating");
    b();
    b(); // done twice counts once
    c();
    const gauge = async (kind: string) =>
      find((await scrape(m)).samples, "apiserver_current_inflight_requests", { request_kind: kind })[0]
        ?.value;
    assert.equal(await gauge("readOnly"), 2);
    assert.equal(await gauge("mutating"), 1);
    assert.equal(m.inflightNow("readOnly"), 1);
    now += 2500; // a quiet window later, only what is still in flight
    assert.equal(await gauge("readOnly"), 1);
    assert.equal(await gauge("mutating"), 0);
    a();
  });

  test("long-running watches are a gauge that goes back down", async () => {
    const m = new ApiserverMetrics();
    const w1 = m.longRunning(req("GET", "/api/v1/namespaces/a/pods?watch=true"));
    const w2 = m.longRunning(req("GET", "/api/v1/namespaces/a/pods?watch=true"));
    const watching = async () =>
      find((await scrape(m)).samples, "apiserver_longrunning_requests", {
        verb: "WATCH",
        resource: "pods",
        scope: "namespace",
        component: "apiserver",
      })[0]?.value;
    assert.equal(await watching(), 2);
    w1();
    w1();
    assert.equal(await watching(), 1);
    w2();
    assert.equal(await watching(), 0);
  });

  test("authentication, authorization, admission and audit series", async () => {
    const m = new ApiserverMetrics();
    m.recordAuthentication("success", 0.002);
    m.recordAuthentication("failure", 0.0005);
    m.recordAuthorization("allowed", 0.001);
    m.recordAuthorizerDecision({ type: "RBAC", name: "rbac", decision: "allowed" });
    m.recordAdmissionStep({ type: "admit", operation: "CREATE", rejected: false, durationSeconds: 0.004 });
    m.recordAdmissionStep({ type: "validate", operation: "CREATE", rejected: true, durationSeconds: 0.2 });
    m.recordAdmissionWebhook({
      name: "policy.example.com",
      type: "validating",
      operation: "UPDATE",
      rejected: true,
      durationSeconds: 0.05,
      code: 200,
    });
    m.recordAdmissionWebhookRejection({
      name: "policy.example.com",
      type: "validating",
      operation: "UPDATE",
      errorType: "no_error",
      rejectionCode: 700,
    });
    m.audit.event();
    m.audit.event();
    m.audit.level("Metadata");
    m.audit.error("webhook", 3);
    m.audit.error("buffered", 0); // nothing lost: no series
    const { samples, types } = await scrape(m);

    assert.equal(types.get("authentication_attempts"), "counter");
    assert.equal(find(samples, "authentication_attempts", { result: "success" })[0]?.value, 1);
    assert.equal(find(samples, "authentication_attempts", { result: "failure" })[0]?.value, 1);
    assert.deepEqual(
      find(samples, "authentication_duration_seconds_bucket", { result: "success" }).map(
        (s) => s.labels["le"],
      ),
      [
        "0.001",
        "0.002",
        "0.004",
        "0.008",
        "0.016",
        "0.032",
        "0.064",
        "0.128",
        "0.256",
        "0.512",
        "1.024",
        "2.048",
        "4.096",
        "8.192",
        "16.384",
        "+Inf",
      ],
    );
    assert.equal(find(samples, "authorization_attempts_total", { result: "allowed" })[0]?.value, 1);
    assert.equal(find(samples, "authorization_duration_seconds_count", { result: "allowed" })[0]?.value, 1);
    assert.equal(
      find(samples, "apiserver_authorization_decisions_total", {
        type: "RBAC",
        name: "rbac",
        decision: "allowed",
      })[0]?.value,
      1,
    );
    assert.equal(
      find(samples, "apiserver_admission_step_admission_duration_seconds_count", {
        type: "validate",
        operation: "CREATE",
        rejected: "true",
      })[0]?.value,
      1,
    );
    assert.deepEqual(
      find(samples, "apiserver_admission_webhook_admission_duration_seconds_bucket", {
        name: "policy.example.com",
      }).map((s) => s.labels["le"]),
      ["0.005", "0.025", "0.1", "0.5", "1", "2.5", "10", "25", "+Inf"],
    );
    assert.equal(
      find(samples, "apiserver_admission_webhook_request_total", { code: "200", rejected: "true" })[0]?.value,
      1,
    );
    assert.equal(
      find(samples, "apiserver_admission_webhook_rejection_count", {
        error_type: "no_error",
        rejection_code: "600",
      })[0]?.value,
      1,
    );
    assert.equal(find(samples, "apiserver_audit_event_total")[0]?.value, 2);
    assert.equal(find(samples, "apiserver_audit_level_total", { level: "Metadata" })[0]?.value, 1);
    assert.deepEqual(
      find(samples, "apiserver_audit_error_total").map((s) => [s.labels["plugin"], s.value]),
      [["webhook", 3]],
    );
  });
});

describe("per-tenant series: only the busiest N", () => {
  const tenantSeries = async (m: ApiserverMetrics) =>
    new Map(
      find((await scrape(m)).samples, "multiplane_tenant_requests_total").map((s) => [
        s.labels["tenant"]!,
        s.value,
      ]),
    );

  test("1,000 tenants: never more than N + 1 series; the busiest win the labels at the window's end", async () => {
    let now = 0;
    const m = new ApiserverMetrics({ topTenants: 20, tenantWindowMs: 60_000, now: () => now });
    const name = (i: number) => `org-${String(i).padStart(4, "0")}`;
    // Tenants 0..979 are quiet (1 to 5 requests); 980..999 are busy (100 + i requests).
    const counts = Array.from({ length: 1000 }, (_, i) => (i < 980 ? 1 + (i % 5) : 100 + i));
    const total = counts.reduce((a, b) => a + b, 0);
    for (let round = 0; counts.some((c) => c > round); round++) {
      for (let i = 0; i < 1000; i++) {
        if (counts[i]! > round) {
          m.recordRequest({
            ...req("GET", "/api/v1/namespaces"),
            code: 200,
            durationSeconds: 0.001,
            tenant: name(i),
          });
        }
      }
    }
    const before = await tenantSeries(m);
    assert.ok(before.size <= 21, `series: ${before.size}`);
    assert.equal(
      [...before.values()].reduce((a, b) => a + b, 0),
      total,
    );
    // The first twenty seen got a label while there was room; everyone else is "other".
    assert.deepEqual(
      [...before.keys()].filter((t) => t !== "other").sort(),
      Array.from({ length: 20 }, (_, i) => name(i)),
    );

    now += 60_000; // the window ends: the next scrape re-chooses
    const after = await tenantSeries(m);
    assert.deepEqual([...after.keys()], ["other"]); // the quiet ones lost their series; newcomers start at 0
    for (let i = 0; i < 1000; i++) {
      m.recordRequest({
        ...req("GET", "/api/v1/namespaces"),
        code: 200,
        durationSeconds: 0.001,
        tenant: name(i),
      });
    }
    const next = await tenantSeries(m);
    assert.equal(next.size, 21);
    assert.deepEqual(
      [...next.keys()].filter((t) => t !== "other").sort(),
      Array.from({ length: 20 }, (_, i) => name(980 + i)),
    );
    for (const [t, v] of next) if (t !== "other") assert.equal(v, 1);
    // "other" only ever grew: its earlier count plus the 980 requests of this round.
    assert.equal(next.get("other"), before.get("other")! + 980);
  });

  test("forgetTenant drops the tenant's series; a tenant named other cannot get one", async () => {
    const m = new ApiserverMetrics({ topTenants: 3 });
    for (const t of ["acme", "acme:web", "other", "globex"]) {
      m.recordRequest({ ...req("GET", "/api/v1/pods"), code: 200, durationSeconds: 0.001, tenant: t });
    }
    assert.deepEqual([...(await tenantSeries(m)).keys()].sort(), ["acme", "acme:web", "globex", "other"]);
    m.forgetTenant("acme:web");
    assert.deepEqual([...(await tenantSeries(m)).keys()].sort(), ["acme", "globex", "other"]);
    // The freed label goes to the next tenant seen.
    m.recordRequest({ ...req("GET", "/api/v1/pods"), code: 200, durationSeconds: 0.001, tenant: "initech" });
    assert.deepEqual([...(await tenantSeries(m)).keys()].sort(), ["acme", "globex", "initech", "other"]);
  });
});
