import assert from "node:assert/strict";
import { describe, test } from "node:test";

import type { UserInfo } from "../authn/user.ts";
import { parseRequestInfo } from "../request/request-info.ts";
import { Auditor, auditAnnotations, authorizationDecisions, type AuditRequest } from "./audit.recorder.ts";
import { encodeAuditEvent, formatMicroTime, sourceIPs, truncateUserAgent, type AuditEvent } from "./event.ts";
import {
  compileAuditPolicy,
  platformDefaultAuditPolicy,
  type AuditLevel,
  type AuditPolicy,
} from "./policy.ts";
import type { AuditMetrics, AuditSink } from "./sink.ts";

// A sink that keeps what it is given, and counters kept as plain numbers.
class MemorySink implements AuditSink {
  readonly events: AuditEvent[] = [];
  process(events: readonly AuditEvent[]): void {
    this.events.push(...events);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class CountingMetrics implements AuditMetrics {
  events = 0;
  readonly levels: Partial<Record<AuditLevel, number>> = {};
  readonly errors: Record<string, number> = {};
  event(): void {
    this.events++;
  }
  level(level: AuditLevel): void {
    this.levels[level] = (this.levels[level] ?? 0) + 1;
  }
  error(plugin: string, count: number): void {
    this.errors[plugin] = (this.errors[plugin] ?? 0) + count;
  }
}

const policyAt = (level: AuditLevel, extra: Record<string, unknown> = {}): AuditPolicy =>
  compileAuditPolicy({ apiVersion: "audit.k8s.io/v1", kind: "Policy", rules: [{ level }], ...extra });

const alice: UserInfo = { name: "alice", uid: "", groups: ["devs", "system:authenticated"], extra: {} };

// A clock that advances one millisecond per reading, from a fixed instant.
function clock(startMicros = Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 123_456): () => number {
  let t = startMicros;
  return () => (t += 1000);
}

function setup(policy: AuditPolicy) {
  const sink = new MemorySink();
  const metrics = new CountingMetrics();
  const auditor = new Auditor({ sink, metrics, now: clock() });
  const begin = (method: string, uri: string, more: Partial<AuditRequest> = {}) => {
    const url = new URL(uri, "https://x.invalid");
    return auditor.begin({
      auditId: "6f0b1c9e-0000-4000-8000-000000000001",
      tenant: "acme:web",
      policy,
      user: alice,
      info: parseRequestInfo(method, url.pathname, url.searchParams),
      requestURI: uri,
      sourceIPs: ["10.0.0.1"],
      userAgent: "kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd",
      receivedAtMicros: Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 7,
      ...more,
    });
  };
  return { sink, metrics, begin };
}

const pod = (extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-0",
    namespace: "default",
    uid: "b9f4e3a2-1111-4222-8333-444455556666",
    resourceVersion: "42",
    managedFields: [{ manager: "kubectl", operation: "Apply" }],
    ...extra,
  },
  spec: { containers: [{ name: "web", image: "nginx" }] },
});

describe("events by level", () => {
  test("Metadata: request metadata, no bodies, code only for a success, kube's field order", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("POST", "/api/v1/namespaces/default/pods?fieldManager=kubectl");
    rec.setRequestObject(pod());
    rec.annotate(auditAnnotations.authorizationDecision, authorizationDecisions.allow);
    rec.annotate(
      auditAnnotations.authorizationReason,
      'RBAC: allowed by RoleBinding "dev/default" of ClusterRole "edit"',
    );
    rec.complete(201, pod());

    assert.equal(sink.events.length, 2);
    const [received, complete] = sink.events as [AuditEvent, AuditEvent];
    assert.equal(received.stage, "RequestReceived");
    assert.equal(complete.stage, "ResponseComplete");
    assert.deepEqual(Object.keys(complete), [
      "kind",
      "apiVersion",
      "level",
      "auditID",
      "stage",
      "requestURI",
      "verb",
      "user",
      "sourceIPs",
      "userAgent",
      "objectRef",
      "responseStatus",
      "requestReceivedTimestamp",
      "stageTimestamp",
      "annotations",
    ]);
    assert.deepEqual(complete, {
      kind: "Event",
      apiVersion: "audit.k8s.io/v1",
      level: "Metadata",
      auditID: "6f0b1c9e-0000-4000-8000-000000000001",
      stage: "ResponseComplete",
      requestURI: "/api/v1/namespaces/default/pods?fieldManager=kubectl",
      verb: "create",
      user: { username: "alice", groups: ["devs", "system:authenticated"] },
      sourceIPs: ["10.0.0.1"],
      userAgent: "kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd",
      // The name, uid and resourceVersion come from the body: the URL of a create names none.
      objectRef: {
        resource: "pods",
        namespace: "default",
        name: "web-0",
        uid: "b9f4e3a2-1111-4222-8333-444455556666",
        apiVersion: "v1",
        resourceVersion: "42",
      },
      responseStatus: { metadata: {}, code: 201 },
      requestReceivedTimestamp: "2026-01-02T03:04:05.000007Z",
      stageTimestamp: complete.stageTimestamp,
      annotations: {
        "multiplane.dev/tenant": "acme:web",
        "authorization.k8s.io/decision": "allow",
        "authorization.k8s.io/reason": 'RBAC: allowed by RoleBinding "dev/default" of ClusterRole "edit"',
      },
    });
    assert.match(complete.stageTimestamp, /^2026-01-02T03:04:05\.\d{6}Z$/);
    // RequestReceived: stamped with the arrival time, before authorization annotated anything.
    assert.equal(received.stageTimestamp, received.requestReceivedTimestamp);
    assert.deepEqual(received.annotations, { "multiplane.dev/tenant": "acme:web" });
    assert.deepEqual(received.objectRef, { resource: "pods", namespace: "default", apiVersion: "v1" });
    assert.equal(received.responseStatus, undefined);
  });

  test("Request: the request body, a snapshot taken when it was set; no response body", () => {
    const { sink, begin } = setup(policyAt("Request"));
    const rec = begin("PUT", "/apis/apps/v1/namespaces/a/deployments/d");
    const body = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: { replicas: 1 },
    };
    rec.setRequestObject(body);
    body.spec.replicas = 5; // admission mutating the object later does not rewrite history
    rec.complete(200, { ...body, status: {} });
    const complete = sink.events[1]!;
    assert.deepEqual(complete.requestObject, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: { replicas: 1 },
    });
    assert.equal(complete.responseObject, undefined);
    assert.deepEqual(complete.objectRef, {
      resource: "deployments",
      namespace: "a",
      name: "d",
      apiGroup: "apps",
      apiVersion: "v1",
    });
  });

  test("a body that is not JSON (a cycle) is left out, never thrown", () => {
    const { sink, begin } = setup(policyAt("RequestResponse"));
    const rec = begin("POST", "/api/v1/namespaces/a/configmaps");
    const cyclic: Record<string, unknown> = { metadata: { name: "c" } };
    cyclic["self"] = cyclic;
    rec.setRequestObject(cyclic);
    rec.complete(201, cyclic);
    assert.equal(sink.events[1]!.requestObject, undefined);
    assert.equal(sink.events[1]!.responseObject, undefined);
    assert.equal(sink.events[1]!.objectRef?.name, "c");
  });

  test("a raw patch body is logged as the patch", () => {
    const { sink, begin } = setup(policyAt("Request"));
    const rec = begin("PATCH", "/api/v1/namespaces/a/configmaps/c");
    rec.setRequestObject(Buffer.from('{"data":{"k":"v"}}'));
    rec.complete(200);
    assert.deepEqual(sink.events[1]!.requestObject, { data: { k: "v" } });
  });

  test("RequestResponse: both bodies; a failure's Status is responseStatus and the response body", () => {
    const { sink, begin } = setup(policyAt("RequestResponse"));
    const rec = begin("GET", "/api/v1/namespaces/a/secrets/missing");
    const status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'secrets "missing" not found',
      reason: "NotFound",
      details: { name: "missing", kind: "secrets" },
      code: 404,
    };
    rec.complete(status);
    const complete = sink.events[1]!;
    assert.deepEqual(complete.responseStatus, {
      metadata: {},
      status: "Failure",
      message: 'secrets "missing" not found',
      reason: "NotFound",
      details: { name: "missing", kind: "secrets" },
      code: 404,
    });
    assert.deepEqual(complete.responseObject, status);
    assert.equal(complete.requestObject, undefined); // a GET has no body
  });

  test("a Status answered as the body (a delete's Success) fills responseStatus at Metadata", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("DELETE", "/api/v1/namespaces/a/configmaps/c");
    rec.complete(200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: "c", kind: "configmaps", uid: "u1" },
      code: 200,
    });
    assert.deepEqual(sink.events[1]!.responseStatus, {
      metadata: {},
      status: "Success",
      details: { name: "c", kind: "configmaps", uid: "u1" },
      code: 200,
    });
    assert.equal(sink.events[1]!.responseObject, undefined);
  });

  test("None: nothing is emitted and nothing is kept, but the level is counted", () => {
    const { sink, metrics, begin } = setup(
      compileAuditPolicy({
        apiVersion: "audit.k8s.io/v1",
        kind: "Policy",
        rules: [{ level: "None", nonResourceURLs: ["/healthz*"] }, { level: "Metadata" }],
      }),
    );
    const rec = begin("GET", "/healthz");
    assert.equal(rec.level, "None");
    rec.annotate("k", "v");
    rec.setRequestObject(pod());
    rec.responseStarted(200);
    rec.complete(200, pod());
    rec.panic(new Error("x"));
    assert.deepEqual(sink.events, []);
    begin("GET", "/api/v1/pods").complete(200);
    assert.deepEqual(metrics.levels, { None: 1, Metadata: 1 });
    assert.equal(metrics.events, 2);
  });
});

describe("stages", () => {
  test("omitStages drops the stage named by the policy (here: RequestReceived)", () => {
    const { sink, metrics, begin } = setup(policyAt("Metadata", { omitStages: ["RequestReceived"] }));
    begin("GET", "/api/v1/namespaces/a/pods/p").complete(200);
    assert.deepEqual(
      sink.events.map((e) => e.stage),
      ["ResponseComplete"],
    );
    assert.equal(metrics.events, 1); // an omitted stage is not an event
  });

  test("a watch: RequestReceived, ResponseStarted when headers go out, ResponseComplete when it ends", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("GET", "/api/v1/namespaces/a/pods?watch=true&resourceVersion=10");
    rec.responseStarted(200);
    rec.responseStarted(200); // once only
    rec.complete(200);
    assert.deepEqual(
      sink.events.map((e) => [e.stage, e.verb, e.responseStatus?.code]),
      [
        ["RequestReceived", "watch", undefined],
        ["ResponseStarted", "watch", 200],
        ["ResponseComplete", "watch", 200],
      ],
    );
    assert.ok(sink.events[1]!.stageTimestamp < sink.events[2]!.stageTimestamp);
  });

  test("a denied watch still gets ResponseStarted (code only), then the full Status", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("GET", "/api/v1/watch/namespaces/a/pods");
    rec.annotate(auditAnnotations.authorizationDecision, authorizationDecisions.forbid);
    rec.complete({
      kind: "Status",
      status: "Failure",
      message: 'pods is forbidden: User "alice" cannot watch resource "pods"',
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    });
    assert.deepEqual(
      sink.events.map((e) => [e.stage, e.responseStatus]),
      [
        ["RequestReceived", undefined],
        ["ResponseStarted", { metadata: {}, code: 403 }],
        [
          "ResponseComplete",
          {
            metadata: {},
            status: "Failure",
            message: 'pods is forbidden: User "alice" cannot watch resource "pods"',
            reason: "Forbidden",
            details: { kind: "pods" },
            code: 403,
          },
        ],
      ],
    );
    assert.equal(sink.events[2]!.annotations?.["authorization.k8s.io/decision"], "forbid");
  });

  test("a short request never emits ResponseStarted", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("GET", "/api/v1/namespaces");
    rec.responseStarted(200);
    rec.complete(200);
    assert.deepEqual(
      sink.events.map((e) => e.stage),
      ["RequestReceived", "ResponseComplete"],
    );
  });

  test("Panic replaces ResponseComplete, with kube's status; later calls change nothing", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("GET", "/api/v1/namespaces/a/pods/p");
    rec.panic(new TypeError("cannot read properties of undefined"));
    rec.complete(200);
    rec.annotate("late", "x");
    assert.deepEqual(
      sink.events.map((e) => e.stage),
      ["RequestReceived", "Panic"],
    );
    assert.deepEqual(sink.events[1]!.responseStatus, {
      metadata: {},
      status: "Failure",
      message: "APIServer panic'd: cannot read properties of undefined",
      reason: "InternalError",
      code: 500,
    });
  });
});

describe("fields", () => {
  test("omitManagedFields strips managedFields from objects, list items and table rows, not the caller's", () => {
    const { sink, begin } = setup(policyAt("RequestResponse", { omitManagedFields: true }));
    const rec = begin("POST", "/api/v1/namespaces/default/pods");
    const body = pod();
    rec.setRequestObject(body);
    const list = {
      kind: "PodList",
      apiVersion: "v1",
      metadata: { resourceVersion: "9" },
      items: [pod(), pod()],
    };
    rec.complete(200, list);
    const ev = sink.events[1]!;
    assert.equal((ev.requestObject as ReturnType<typeof pod>).metadata.managedFields, undefined);
    for (const item of (ev.responseObject as typeof list).items)
      assert.equal(item.metadata.managedFields, undefined);
    assert.equal(body.metadata.managedFields.length, 1);
    assert.equal(list.items[0]!.metadata.managedFields.length, 1);

    const table = setup(policyAt("RequestResponse", { omitManagedFields: true }));
    const t = table.begin("GET", "/api/v1/namespaces/default/pods");
    t.complete(200, {
      kind: "Table",
      apiVersion: "meta.k8s.io/v1",
      rows: [{ cells: ["web-0"], object: pod() }],
    });
    const rows = (table.sink.events[1]!.responseObject as { rows: { object: ReturnType<typeof pod> }[] })
      .rows;
    assert.equal(rows[0]!.object.metadata.managedFields, undefined);
  });

  test("without omitManagedFields the bodies keep them", () => {
    const { sink, begin } = setup(policyAt("Request"));
    const rec = begin("POST", "/api/v1/namespaces/default/pods");
    rec.setRequestObject(pod());
    rec.complete(201);
    assert.equal((sink.events[1]!.requestObject as ReturnType<typeof pod>).metadata.managedFields.length, 1);
  });

  test("impersonation: user stays the requester, impersonatedUser whom it acts as", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("GET", "/api/v1/namespaces/a/pods/p");
    rec.impersonate({
      name: "bob",
      uid: "u-bob",
      groups: ["system:authenticated"],
      extra: { scopes: ["view"] },
    });
    rec.complete(200);
    assert.equal(sink.events[0]!.impersonatedUser, undefined);
    assert.deepEqual(sink.events[1]!.user, { username: "alice", groups: ["devs", "system:authenticated"] });
    assert.deepEqual(sink.events[1]!.impersonatedUser, {
      username: "bob",
      uid: "u-bob",
      groups: ["system:authenticated"],
      extra: { scopes: ["view"] },
    });
  });

  test("annotations: the first value of a key wins", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("GET", "/version");
    rec.annotate(auditAnnotations.tenant, "someone-else");
    rec.annotate("a", "1");
    rec.annotate("a", "2");
    rec.complete(200);
    assert.deepEqual(sink.events[1]!.annotations, { "multiplane.dev/tenant": "acme:web", a: "1" });
    assert.equal(sink.events[1]!.objectRef, undefined); // non-resource requests have none
    assert.equal(sink.events[1]!.verb, "get");
  });

  test("setObjectRef overrides fields the storage knows better", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("DELETE", "/api/v1/namespaces/a/configmaps/c");
    rec.setObjectRef({ uid: "u-1", resourceVersion: "77" });
    rec.complete(200);
    assert.deepEqual(sink.events[1]!.objectRef, {
      resource: "configmaps",
      namespace: "a",
      name: "c",
      uid: "u-1",
      apiVersion: "v1",
      resourceVersion: "77",
    });
  });

  test("a throwing sink is counted, never thrown into the request", () => {
    const metrics = new CountingMetrics();
    const auditor = new Auditor({
      sink: {
        process: () => {
          throw new Error("disk on fire");
        },
        close: () => Promise.resolve(),
      },
      metrics,
    });
    const rec = auditor.begin({
      auditId: "x",
      tenant: "root",
      policy: policyAt("Metadata"),
      user: alice,
      info: parseRequestInfo("GET", "/api", new URLSearchParams()),
      requestURI: "/api",
      sourceIPs: [],
    });
    rec.complete(200);
    assert.deepEqual(metrics.errors, { sink: 2 });
  });
});

describe("failed authentication", () => {
  test("one ResponseStarted event with an empty user, code 401 and the credentials tried", () => {
    const sink = new MemorySink();
    const auditor = new Auditor({ sink, now: clock() });
    const policy = compileAuditPolicy({
      apiVersion: "audit.k8s.io/v1",
      kind: "Policy",
      // A rule naming groups cannot match a request nobody authenticated.
      rules: [{ level: "None", userGroups: ["system:unauthenticated"] }, { level: "RequestResponse" }],
    });
    auditor.failedAuthentication({
      auditId: "a1",
      tenant: "acme",
      policy,
      info: parseRequestInfo("GET", "/api/v1/namespaces/a/pods", new URLSearchParams()),
      requestURI: "/api/v1/namespaces/a/pods",
      sourceIPs: ["192.0.2.9"],
      headers: { authorization: "Bearer expired-token" },
      clientCertificate: true,
    });
    assert.equal(sink.events.length, 1);
    const ev = sink.events[0]!;
    assert.equal(ev.stage, "ResponseStarted");
    assert.equal(ev.level, "RequestResponse");
    assert.deepEqual(ev.user, {});
    assert.deepEqual(ev.responseStatus, {
      metadata: {},
      message: "Authentication failed, attempted: bearer, x509",
      code: 401,
    });
    assert.deepEqual(ev.annotations, { "multiplane.dev/tenant": "acme" });
  });

  test("no credentials at all", () => {
    const sink = new MemorySink();
    new Auditor({ sink }).failedAuthentication({
      auditId: "a2",
      tenant: "acme",
      policy: policyAt("Metadata"),
      info: parseRequestInfo("GET", "/api", new URLSearchParams()),
      requestURI: "/api",
      sourceIPs: [],
      headers: {},
    });
    assert.equal(sink.events[0]!.responseStatus?.message, "Authentication failed, no credentials provided");
  });
});

describe("the platform default policy", () => {
  test("no events for probes; Metadata without RequestReceived for the rest", () => {
    const { sink, begin } = setup(platformDefaultAuditPolicy);
    begin("GET", "/readyz").complete(200);
    begin("GET", "/healthz/etcd").complete(200);
    assert.equal(sink.events.length, 0);
    const rec = begin("POST", "/api/v1/namespaces/a/configmaps");
    rec.setRequestObject({ metadata: { name: "c" }, data: { secret: "do not log me" } });
    rec.complete(201);
    assert.deepEqual(
      sink.events.map((e) => [e.stage, e.level, e.requestObject]),
      [["ResponseComplete", "Metadata", undefined]],
    );
  });
});

describe("helpers", () => {
  test("MicroTime: six fractional digits in UTC", () => {
    assert.equal(formatMicroTime(Date.UTC(2026, 10, 23, 13, 1, 2) * 1000 + 5), "2026-11-23T13:01:02.000005Z");
    assert.equal(
      formatMicroTime(Date.UTC(2026, 10, 23, 13, 1, 2) * 1000 + 999_999),
      "2026-11-23T13:01:02.999999Z",
    );
  });

  test("sourceIPs: X-Forwarded-For, then X-Real-Ip, then the peer unless it repeats the last", () => {
    assert.deepEqual(
      sourceIPs(
        { "x-forwarded-for": "203.0.113.7, not-an-ip, 10.0.0.2", "x-real-ip": "10.0.0.2" },
        "::ffff:10.0.0.3",
      ),
      ["203.0.113.7", "10.0.0.2", "10.0.0.3"],
    );
    assert.deepEqual(sourceIPs({ "x-real-ip": "192.0.2.1" }, "192.0.2.1"), ["192.0.2.1"]);
    assert.deepEqual(sourceIPs({}, "::1"), ["::1"]);
  });

  test("User-Agent: capped at 1024 characters and marked", () => {
    const long = "a".repeat(2000);
    assert.equal(truncateUserAgent(long), "a".repeat(1024) + "...TRUNCATED");
    assert.equal(truncateUserAgent("kubectl"), "kubectl");
  });
});

describe("encodeAuditEvent", () => {
  test("writes what JSON.stringify writes, for every kind of event the recorder sends", () => {
    const { sink, begin } = setup(policyAt("RequestResponse"));
    // A verified token's user is frozen: its audit form and JSON are shared between requests.
    const frozen: UserInfo = Object.freeze({
      name: 'bob "the builder"',
      uid: "u-1",
      groups: Object.freeze(["devs", "system:authenticated"]) as string[],
      extra: Object.freeze({ "authentication.kubernetes.io/credential-id": ["JTI=1"] }),
    });
    for (const user of [alice, frozen, frozen]) {
      const rec = begin("POST", "/api/v1/namespaces/default/pods?dryRun=All", { user });
      rec.impersonate({ name: "system:serviceaccount:ns:sa", uid: "", groups: ["é"], extra: {} });
      rec.setRequestObject(pod());
      rec.annotate(auditAnnotations.authorizationReason, "line\nbreak \u2028 and \\ backslash");
      rec.complete({ kind: "Status", status: "Failure", reason: "AlreadyExists", code: 409, message: "x" });
    }
    begin("GET", "/api/v1/namespaces/default/pods?watch=1").responseStarted(200);
    begin("GET", "/version").complete(200, { major: "1" });
    assert.ok(sink.events.length >= 8);
    for (const ev of sink.events) assert.equal(encodeAuditEvent(ev), JSON.stringify(ev));
  });

  test("an event keeps what it was sent with when the recorder goes on", () => {
    const { sink, begin } = setup(policyAt("Metadata"));
    const rec = begin("GET", "/api/v1/namespaces/default/configmaps/a");
    const received = sink.events[0]!;
    const before = JSON.stringify(received);
    rec.annotate(auditAnnotations.authorizationDecision, authorizationDecisions.allow);
    rec.setObjectRef({ uid: "u" });
    rec.complete(200);
    assert.equal(JSON.stringify(received), before);
    assert.equal(sink.events[1]!.annotations?.[auditAnnotations.authorizationDecision], "allow");
  });
});
