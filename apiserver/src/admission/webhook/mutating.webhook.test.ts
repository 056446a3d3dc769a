// MutatingAdmissionWebhook against real HTTPS webhook servers and a real tenant instance whose
// cache holds the configurations: what the webhook receives, JSON patches, order and
// reinvocation, selectors and matchConditions, failure policies, dry run, TLS trust and kube's
// errors and audit annotations.
//
// matchConditions: the CEL evaluator (admission/cel/, branch `vap`) is not merged yet, so these
// tests give the plugin a tiny evaluator of their own, which is what the wiring needs.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isStatusError, type StatusError } from "../../apierrors/status.ts";
import type { KubeObject } from "../../registry/printers.ts";
import { eventually, storeOf } from "../../controllers/tenant.fixture.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import { evaluateMatchConditions } from "../cel/index.ts";
import { mutatingWebhooks } from "./mutating.webhook.ts";
import {
  attrs,
  closedPort,
  configure,
  configureStored,
  hook,
  jsonPatch,
  makePKI,
  namespace,
  openTenants,
  RawReply,
  removeConfiguration,
  sleep,
  startWebhookServer,
  type PKI,
  type Tenants,
  type WebhookServer,
} from "./webhook.fixture.ts";

// matchConditions are evaluated by the real admission CEL (admission/cel).
const plugin = mutatingWebhooks({ matchConditions: evaluateMatchConditions });
const admit = async (a: ReturnType<typeof attrs>): Promise<void> => plugin.admit!(a);

let pki: PKI;
let tenants: Tenants;
let server: WebhookServer;
let t: TenantInstance;

const labelPatch = (key: string, value: string) => (r: { request: { object: KubeObject | null } }) =>
  jsonPatch([
    ...(r.request.object?.metadata?.labels === undefined
      ? [{ op: "add", path: "/metadata/labels", value: {} }]
      : []),
    { op: "add", path: `/metadata/labels/${key}`, value },
  ]);

before(async () => {
  pki = await makePKI();
  tenants = await openTenants();
  server = await startWebhookServer(pki, {
    "/allow": () => ({ allowed: true }),
    "/label-a": labelPatch("a", "1"),
    "/label-b": labelPatch("b", "2"),
    "/deny": () => ({
      allowed: false,
      status: { code: 403, reason: "Forbidden", message: "no configmaps today" },
    }),
    "/deny-bare": () => ({ allowed: false }),
    "/noted": () => ({
      allowed: true,
      warnings: ["first warning", "", "second warning"],
      auditAnnotations: { decision: "ok" },
    }),
    "/slow": async () => {
      await sleep(1500);
      return { allowed: true };
    },
    "/wrong-uid": () => ({ uid: "not-the-uid", allowed: true }),
    "/bad-patch": () => jsonPatch([{ op: "remove", path: "/spec/missing" }]),
    "/undecodable": () => ({
      allowed: true,
      patchType: "JSONPatch",
      patch: Buffer.from("{oops").toString("base64"),
    }),
    "/boom": () => new RawReply(500, "boom", "text/plain"),
  });
});
after(async () => {
  await server?.close();
  await tenants?.close();
});

const failed = async (p: Promise<void>): Promise<StatusError> => {
  try {
    await p;
  } catch (err) {
    if (isStatusError(err)) return err;
    throw err;
  }
  assert.fail("expected a StatusError");
};

describe("MutatingAdmissionWebhook", () => {
  before(async () => {
    t = await tenants.tenant();
  });

  test("sends AdmissionReview v1 with kube's fields and applies a JSON patch", async () => {
    await configure(t, "mutating", "a-label", [
      hook("label.example.com", server.url("/label-a"), server.caBundle),
    ]);
    const a = attrs(t, { name: "cm1" });
    await admit(a);
    assert.deepEqual(a.object?.metadata?.labels, { a: "1" });
    const [got] = server.received.filter((r) => r.request.name === "cm1");
    assert.ok(got);
    assert.equal(got.query.get("timeout"), "10s");
    assert.equal(got.review["apiVersion"], "admission.k8s.io/v1");
    assert.equal(got.review["kind"], "AdmissionReview");
    const { uid, object, ...rest } = got.request;
    assert.match(uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(object, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cm1", namespace: "default" },
      data: { k: "v" },
    });
    assert.deepEqual(rest, {
      kind: { group: "", version: "v1", kind: "ConfigMap" },
      resource: { group: "", version: "v1", resource: "configmaps" },
      requestKind: { group: "", version: "v1", kind: "ConfigMap" },
      requestResource: { group: "", version: "v1", resource: "configmaps" },
      name: "cm1",
      namespace: "default",
      operation: "CREATE",
      userInfo: {
        username: "alice",
        uid: "u-1",
        groups: ["devs", "system:authenticated"],
        extra: { scopes: ["a"] },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    });
    assert.deepEqual(a.auditAnnotations, {
      "mutation.webhook.admission.k8s.io/round_0_index_0":
        '{"configuration":"a-label","webhook":"label.example.com","mutated":true}',
      "patch.webhook.admission.k8s.io/round_0_index_0":
        '{"configuration":"a-label","webhook":"label.example.com","patch":[{"op":"add","path":"/metadata/labels","value":{}},{"op":"add","path":"/metadata/labels/a","value":"1"}],"patchType":"JSONPatch"}',
    });
    await removeConfiguration(t, "mutating", "a-label");
  });

  test("webhooks run in order, each seeing the object as the previous left it", async () => {
    // Configurations are ordered by name: "m-1" before "m-2" whatever the creation order.
    await configure(t, "mutating", "m-2", [hook("b.example.com", server.url("/label-b"), server.caBundle)]);
    await configure(t, "mutating", "m-1", [hook("a.example.com", server.url("/label-a"), server.caBundle)]);
    const a = attrs(t, { name: "ordered" });
    await admit(a);
    assert.deepEqual(a.object?.metadata?.labels, { a: "1", b: "2" });
    const seen = server.received.filter((r) => r.request.name === "ordered");
    assert.deepEqual(
      seen.map((r) => r.path),
      ["/label-a", "/label-b"],
    );
    assert.deepEqual(seen[1]?.request.object?.metadata?.labels, { a: "1" });
    await removeConfiguration(t, "mutating", "m-1");
    await removeConfiguration(t, "mutating", "m-2");
  });

  test("rules: a write the rules do not name is not sent", async () => {
    await configure(t, "mutating", "rules", [
      hook("cm-create.example.com", server.url("/label-a"), server.caBundle, {
        rules: [
          {
            operations: ["CREATE"],
            apiGroups: [""],
            apiVersions: ["v1"],
            resources: ["configmaps"],
            scope: "Cluster",
          },
        ],
      }),
      hook("secrets.example.com", server.url("/label-b"), server.caBundle, {
        rules: [{ operations: ["*"], apiGroups: [""], apiVersions: ["v1"], resources: ["secrets"] }],
      }),
    ]);
    const a = attrs(t, { name: "not-named" });
    await admit(a);
    assert.equal(a.object?.metadata?.labels, undefined);
    assert.equal(server.received.filter((r) => r.request.name === "not-named").length, 0);
    assert.deepEqual(a.auditAnnotations, {});
    await removeConfiguration(t, "mutating", "rules");
  });

  test("reinvocation: an IfNeeded webhook runs again when a later one changed the object", async () => {
    await configure(t, "mutating", "r-1", [
      hook("again.example.com", server.url("/allow"), server.caBundle, { reinvocationPolicy: "IfNeeded" }),
      hook("once.example.com", server.url("/allow"), server.caBundle, { reinvocationPolicy: "Never" }),
    ]);
    await configure(t, "mutating", "r-2", [
      hook("changer.example.com", server.url("/label-b"), server.caBundle),
    ]);
    const a = attrs(t, { name: "reinvoked" });
    await admit(a);
    const paths = server.received.filter((r) => r.request.name === "reinvoked").map((r) => r.path);
    assert.deepEqual(paths, ["/allow", "/allow", "/label-b", "/allow"]);
    // The reinvoked webhook saw the later webhook's change.
    const last = server.received.filter((r) => r.request.name === "reinvoked").at(-1);
    assert.deepEqual(last?.request.object?.metadata?.labels, { b: "2" });
    assert.equal(
      a.auditAnnotations["mutation.webhook.admission.k8s.io/round_1_index_0"],
      '{"configuration":"r-1","webhook":"again.example.com","mutated":false}',
    );
    assert.equal(a.auditAnnotations["mutation.webhook.admission.k8s.io/round_1_index_1"], undefined);
    await removeConfiguration(t, "mutating", "r-1");
    await removeConfiguration(t, "mutating", "r-2");
  });

  test("reinvocation: nothing runs twice when no later webhook changed the object", async () => {
    await configure(t, "mutating", "r-none", [
      hook("first.example.com", server.url("/label-a"), server.caBundle),
      hook("again.example.com", server.url("/allow"), server.caBundle, { reinvocationPolicy: "IfNeeded" }),
    ]);
    const a = attrs(t, { name: "not-reinvoked" });
    await admit(a);
    const paths = server.received.filter((r) => r.request.name === "not-reinvoked").map((r) => r.path);
    // The IfNeeded webhook ran after the only change: no second round.
    assert.deepEqual(paths, ["/label-a", "/allow"]);
    await removeConfiguration(t, "mutating", "r-none");
  });

  test("a denial answers with the webhook's code and kube's message", async () => {
    await configure(t, "mutating", "deny", [hook("deny.example.com", server.url("/deny"), server.caBundle)]);
    const err = await failed(admit(attrs(t)));
    assert.equal(err.code, 403);
    assert.equal(err.reason, "Forbidden");
    assert.equal(err.message, 'admission webhook "deny.example.com" denied the request: no configmaps today');
    await removeConfiguration(t, "mutating", "deny");
    await configure(t, "mutating", "deny-bare", [
      hook("bare.example.com", server.url("/deny-bare"), server.caBundle),
    ]);
    const bare = await failed(admit(attrs(t)));
    assert.equal(bare.code, 400);
    assert.equal(bare.reason, "");
    assert.equal(bare.message, 'admission webhook "bare.example.com" denied the request without explanation');
    await removeConfiguration(t, "mutating", "deny-bare");
  });

  test("warnings and audit annotations of the answer reach the request", async () => {
    await configure(t, "mutating", "noted", [
      hook("noted.example.com", server.url("/noted"), server.caBundle),
    ]);
    const a = attrs(t);
    await admit(a);
    assert.deepEqual(a.warnings, ["first warning", "second warning"]);
    assert.equal(a.auditAnnotations["noted.example.com/decision"], "ok");
    assert.equal(
      a.auditAnnotations["mutation.webhook.admission.k8s.io/round_0_index_0"],
      '{"configuration":"noted","webhook":"noted.example.com","mutated":false}',
    );
    await removeConfiguration(t, "mutating", "noted");
  });

  test("failurePolicy Fail on a server that is down: 500 failed calling webhook", async () => {
    const port = await closedPort(pki);
    const url = `https://127.0.0.1:${port}/mutate`;
    await configure(t, "mutating", "down", [hook("down.example.com", url, server.caBundle)]);
    const err = await failed(admit(attrs(t)));
    assert.equal(err.code, 500);
    assert.equal(err.reason, "InternalError");
    const reason = `failed calling webhook "down.example.com": failed to call webhook: Post "${url}?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`;
    assert.equal(err.message, `Internal error occurred: ${reason}`);
    assert.deepEqual(err.status.details, { causes: [{ message: reason }] });
    await removeConfiguration(t, "mutating", "down");
  });

  test("failurePolicy Ignore on a server that is down: skipped, with kube's failed-open annotation", async () => {
    const port = await closedPort(pki);
    await configure(t, "mutating", "down-ignored", [
      hook("ok.example.com", server.url("/allow"), server.caBundle),
      hook("down.example.com", `https://127.0.0.1:${port}/mutate`, server.caBundle, {
        failurePolicy: "Ignore",
      }),
      hook("after.example.com", server.url("/label-a"), server.caBundle),
    ]);
    const a = attrs(t, { name: "fail-open" });
    await admit(a);
    assert.deepEqual(a.object?.metadata?.labels, { a: "1" });
    assert.equal(
      a.auditAnnotations["failed-open.mutation.webhook.admission.k8s.io/round_0_index_1"],
      "down.example.com",
    );
    assert.equal(
      a.auditAnnotations["mutation.webhook.admission.k8s.io/round_0_index_1"],
      '{"configuration":"down-ignored","webhook":"down.example.com","mutated":false}',
    );
    await removeConfiguration(t, "mutating", "down-ignored");
  });

  test("a webhook slower than timeoutSeconds: deadline exceeded under Fail, skipped under Ignore", async () => {
    const url = server.url("/slow");
    await configure(t, "mutating", "slow", [
      hook("slow.example.com", url, server.caBundle, { timeoutSeconds: 1 }),
    ]);
    const started = Date.now();
    const err = await failed(admit(attrs(t, { name: "slow-fail" })));
    assert.ok(Date.now() - started < 1400, "the call is cut at the timeout");
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      `Internal error occurred: failed calling webhook "slow.example.com": failed to call webhook: Post "${url}?timeout=1s": context deadline exceeded`,
    );
    assert.equal(server.received.find((r) => r.request.name === "slow-fail")?.query.get("timeout"), "1s");
    await removeConfiguration(t, "mutating", "slow");
    await configure(t, "mutating", "slow-ignored", [
      hook("slow.example.com", url, server.caBundle, { timeoutSeconds: 1, failurePolicy: "Ignore" }),
    ]);
    const a = attrs(t, { name: "slow-ignore" });
    await admit(a);
    assert.equal(
      a.auditAnnotations["failed-open.mutation.webhook.admission.k8s.io/round_0_index_0"],
      "slow.example.com",
    );
    await removeConfiguration(t, "mutating", "slow-ignored");
  });

  test("a caBundle that does not trust the server is a call error", async () => {
    const other = await makePKI();
    await configure(t, "mutating", "untrusted", [
      hook("untrusted.example.com", server.url("/allow"), other.caBundle),
    ]);
    const err = await failed(admit(attrs(t, { name: "untrusted" })));
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      `Internal error occurred: failed calling webhook "untrusted.example.com": failed to call webhook: Post "${server.url("/allow")}?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
    );
    assert.equal(server.received.filter((r) => r.request.name === "untrusted").length, 0);
    await removeConfiguration(t, "mutating", "untrusted");
  });

  test("an answer for another uid is a call error", async () => {
    await configure(t, "mutating", "wrong-uid", [
      hook("uid.example.com", server.url("/wrong-uid"), server.caBundle),
    ]);
    const err = await failed(admit(attrs(t, { name: "uid" })));
    const sent = server.received.find((r) => r.request.name === "uid")?.request.uid;
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      `Internal error occurred: failed calling webhook "uid.example.com": received invalid webhook response: expected response.uid="${sent}", got "not-the-uid"`,
    );
    await removeConfiguration(t, "mutating", "wrong-uid");
  });

  test("a patch that does not apply is a 500 whatever the failurePolicy", async () => {
    await configure(t, "mutating", "bad-patch", [
      hook("patch.example.com", server.url("/bad-patch"), server.caBundle, { failurePolicy: "Ignore" }),
    ]);
    const err = await failed(admit(attrs(t)));
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      'Internal error occurred: remove operation does not apply: doc is missing path: "/spec/missing"',
    );
    await removeConfiguration(t, "mutating", "bad-patch");
  });

  test("an undecodable patch is a call error: the failurePolicy decides", async () => {
    await configure(t, "mutating", "undecodable", [
      hook("undecodable.example.com", server.url("/undecodable"), server.caBundle),
    ]);
    const err = await failed(admit(attrs(t)));
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      `Internal error occurred: failed calling webhook "undecodable.example.com": received undecodable patch in webhook response: invalid character 'o' looking for beginning of object key string`,
    );
    await removeConfiguration(t, "mutating", "undecodable");
    await configure(t, "mutating", "undecodable-ignored", [
      hook("undecodable.example.com", server.url("/undecodable"), server.caBundle, {
        failurePolicy: "Ignore",
      }),
    ]);
    const a = attrs(t);
    await admit(a);
    assert.deepEqual(a.object?.metadata?.labels, undefined);
    await removeConfiguration(t, "mutating", "undecodable-ignored");
  });

  test("a patch for a DELETE, which has no object, is a 500", async () => {
    await configure(t, "mutating", "delete-patch", [
      hook("del.example.com", server.url("/label-a"), server.caBundle, {
        rules: [{ operations: ["DELETE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"] }],
      }),
    ]);
    const old = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "gone", namespace: "default" } };
    const err = await failed(admit(attrs(t, { operation: "DELETE", name: "gone", oldObject: old })));
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      'Internal error occurred: admission webhook "del.example.com" attempted to modify the object, which is not supported for this operation',
    );
    const got = server.received.find((r) => r.request.name === "gone");
    assert.equal(got?.request.object, null);
    assert.deepEqual(got?.request["oldObject"], old);
    await removeConfiguration(t, "mutating", "delete-patch");
  });

  test("a non-2xx answer quotes the body as client-go does", async () => {
    await configure(t, "mutating", "boom", [hook("boom.example.com", server.url("/boom"), server.caBundle)]);
    const err = await failed(admit(attrs(t)));
    assert.equal(
      err.message,
      'Internal error occurred: failed calling webhook "boom.example.com": failed to call webhook: an error on the server ("boom") has prevented the request from succeeding',
    );
    await removeConfiguration(t, "mutating", "boom");
  });

  test("clientConfig.service cannot be reached: a call error with a clear message", async () => {
    await configure(t, "mutating", "service", [
      {
        ...hook("svc.example.com", "", ""),
        clientConfig: { service: { namespace: "default", name: "hooks", path: "/mutate" } },
      },
    ]);
    const err = await failed(admit(attrs(t)));
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      'Internal error occurred: failed calling webhook "svc.example.com": could not get REST client: webhook service default/hooks cannot be reached from a virtual control plane: set clientConfig.url instead of clientConfig.service',
    );
    await removeConfiguration(t, "mutating", "service");
  });

  test("dry run: sideEffects None and NoneOnDryRun are called, Some and Unknown refuse with 400", async () => {
    await configure(t, "mutating", "dry", [
      hook("none.example.com", server.url("/allow"), server.caBundle),
      hook("ondryrun.example.com", server.url("/label-a"), server.caBundle, { sideEffects: "NoneOnDryRun" }),
    ]);
    const a = attrs(t, { name: "dry", dryRun: true });
    await admit(a);
    assert.deepEqual(a.object?.metadata?.labels, { a: "1" });
    assert.deepEqual(
      server.received.filter((r) => r.request.name === "dry").map((r) => r.request["dryRun"]),
      [true, true],
    );
    await removeConfiguration(t, "mutating", "dry");
    // v1 allows only None and NoneOnDryRun; Some and Unknown come from configurations stored
    // through v1beta1, which this server never served: written to storage directly.
    await configureStored(t, "mutating", "dry-some", [
      hook("some.example.com", server.url("/allow"), server.caBundle, {
        sideEffects: "Some",
        failurePolicy: "Ignore",
      }),
    ]);
    const err = await failed(admit(attrs(t, { name: "dry-some", dryRun: true })));
    assert.equal(err.code, 400);
    assert.equal(err.reason, "BadRequest");
    assert.equal(err.message, 'admission webhook "some.example.com" does not support dry run');
    assert.equal(server.received.filter((r) => r.request.name === "dry-some").length, 0);
    // Without dry run, a webhook with side effects is called.
    await admit(attrs(t, { name: "wet-some" }));
    assert.equal(server.received.filter((r) => r.request.name === "wet-some").length, 1);
    await removeConfiguration(t, "mutating", "dry-some");
    // No sideEffects at all: a call error, so the failurePolicy decides.
    const { sideEffects: _s, ...unknown } = hook(
      "unknown.example.com",
      server.url("/allow"),
      server.caBundle,
    );
    await configureStored(t, "mutating", "dry-unset", [unknown]);
    const unset = await failed(admit(attrs(t, { name: "dry-unset", dryRun: true })));
    assert.equal(unset.code, 500);
    assert.equal(
      unset.message,
      'Internal error occurred: failed calling webhook "unknown.example.com": Webhook SideEffects is nil',
    );
    await removeConfiguration(t, "mutating", "dry-unset");
  });

  test("matchConditions: false skips, true calls; an error refuses under Fail and skips under Ignore", async () => {
    const conditions = (expression: string) => [{ name: "only", expression }];
    await configure(t, "mutating", "conditions", [
      hook("named.example.com", server.url("/label-a"), server.caBundle, {
        matchConditions: conditions('request.name == "chosen"'),
      }),
    ]);
    const chosen = attrs(t, { name: "chosen" });
    await admit(chosen);
    assert.deepEqual(chosen.object?.metadata?.labels, { a: "1" });
    const other = attrs(t, { name: "other" });
    await admit(other);
    assert.equal(other.object?.metadata?.labels, undefined);
    assert.equal(server.received.filter((r) => r.request.name === "other").length, 0);
    await removeConfiguration(t, "mutating", "conditions");

    await configure(t, "mutating", "conditions-error", [
      hook("err.example.com", server.url("/allow"), server.caBundle, {
        matchConditions: conditions('object.metadata.nope == "x"'),
      }),
    ]);
    const err = await failed(admit(attrs(t, { name: "cond-error" })));
    assert.equal(err.code, 403);
    assert.equal(err.reason, "Forbidden");
    assert.match(err.message, /^configmaps "cond-error" is forbidden: .*nope/);
    await removeConfiguration(t, "mutating", "conditions-error");

    await configure(t, "mutating", "conditions-error-ignored", [
      hook("err.example.com", server.url("/allow"), server.caBundle, {
        matchConditions: conditions('object.metadata.nope == "x"'),
        failurePolicy: "Ignore",
      }),
    ]);
    await admit(attrs(t, { name: "cond-ignored" }));
    assert.equal(server.received.filter((r) => r.request.name === "cond-ignored").length, 0);
    await removeConfiguration(t, "mutating", "conditions-error-ignored");
  });

  test("webhook configurations themselves are never sent", async () => {
    await configure(t, "mutating", "everything", [
      hook("all.example.com", server.url("/label-a"), server.caBundle, {
        rules: [{ operations: ["*"], apiGroups: ["*"], apiVersions: ["*"], resources: ["*/*"] }],
      }),
    ]);
    const cfg = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: "another" },
    };
    const a = attrs(t, {
      name: "another",
      namespace: "",
      kind: { group: "admissionregistration.k8s.io", version: "v1", kind: "MutatingWebhookConfiguration" },
      resource: {
        group: "admissionregistration.k8s.io",
        version: "v1",
        resource: "mutatingwebhookconfigurations",
      },
      object: cfg,
    });
    await admit(a);
    assert.deepEqual(a.object, cfg);
    assert.equal(server.received.filter((r) => r.request.name === "another").length, 0);
    // Any other kind is: the rule matches everything.
    const b = attrs(t, { name: "any-other" });
    await admit(b);
    assert.deepEqual(b.object?.metadata?.labels, { a: "1" });
    await removeConfiguration(t, "mutating", "everything");
  });

  test("a deleted configuration stops applying at once (compiled per change)", async () => {
    await configure(t, "mutating", "short-lived", [
      hook("short.example.com", server.url("/label-a"), server.caBundle),
    ]);
    const before = attrs(t, { name: "while-configured" });
    await admit(before);
    assert.deepEqual(before.object?.metadata?.labels, { a: "1" });
    await removeConfiguration(t, "mutating", "short-lived");
    const after = attrs(t, { name: "after-removal" });
    await admit(after);
    assert.equal(after.object?.metadata?.labels, undefined);
    assert.equal(server.received.filter((r) => r.request.name === "after-removal").length, 0);
  });

  test("namespaceSelector on a Namespace judges its own labels", async () => {
    await namespace(t, "sel-on", { team: "a" });
    await configure(t, "mutating", "ns-self", [
      hook("ns.example.com", server.url("/allow"), server.caBundle, {
        rules: [
          {
            operations: ["*"],
            apiGroups: [""],
            apiVersions: ["v1"],
            resources: ["namespaces"],
          },
        ],
        namespaceSelector: { matchLabels: { team: "a" } },
      }),
    ]);
    const nsAttrs = (
      name: string,
      labels: Record<string, string>,
      operation: "CREATE" | "UPDATE" | "DELETE",
    ) => {
      const ns = (l: Record<string, string>) => ({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: l },
      });
      return attrs(t, {
        operation,
        name,
        namespace: "",
        kind: { group: "", version: "v1", kind: "Namespace" },
        resource: { group: "", version: "v1", resource: "namespaces" },
        object: operation === "DELETE" ? undefined : ns(labels),
        ...(operation === "CREATE" ? {} : { oldObject: ns({ team: "a" }) }),
      });
    };
    await admit(nsAttrs("new-team-a", { team: "a" }, "CREATE"));
    await admit(nsAttrs("new-team-b", { team: "b" }, "CREATE"));
    // An update is judged by the labels being written, not the stored ones.
    await admit(nsAttrs("sel-on", { team: "b" }, "UPDATE"));
    await admit(nsAttrs("sel-on", { team: "a", more: "x" }, "UPDATE"));
    // A delete by the stored namespace's labels.
    await admit(nsAttrs("sel-on", {}, "DELETE"));
    const calls = server.on("/allow").filter((r) => /^(new-team|sel-on)/.test(String(r.request.name)));
    // The request of a Namespace carries its name as namespace, except on create (as kube's).
    assert.deepEqual(
      calls.map((r) => [r.request.operation, r.request.name, r.request["namespace"] ?? ""]),
      [
        ["CREATE", "new-team-a", ""],
        ["UPDATE", "sel-on", "sel-on"],
        ["DELETE", "sel-on", "sel-on"],
      ],
    );
    await removeConfiguration(t, "mutating", "ns-self");
  });
  test("matchPolicy Equivalent: a rule for another served version gets the object in that version", async () => {
    const crds = storeOf(t, "customresourcedefinitions.apiextensions.k8s.io");
    const version = (name: string, storage: boolean) => ({
      name,
      served: true,
      storage,
      schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
    });
    await crds.create(
      {
        metadata: { name: "widgets.example.com" },
        spec: {
          group: "example.com",
          scope: "Namespaced",
          names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
          versions: [version("v1", true), version("v2", false)],
        },
      },
      "",
      { dryRun: false },
    );
    await eventually(
      "both versions served",
      () =>
        t.resources.lookup("example.com", "v1", "widgets") &&
        t.resources.lookup("example.com", "v2", "widgets"),
    );
    const rule = {
      operations: ["CREATE"],
      apiGroups: ["example.com"],
      apiVersions: ["v1"],
      resources: ["widgets"],
    };
    await configure(t, "mutating", "widgets", [
      hook("equivalent.example.com", server.url("/label-a"), server.caBundle, { rules: [rule] }),
      hook("exact.example.com", server.url("/label-b"), server.caBundle, {
        rules: [rule],
        matchPolicy: "Exact",
      }),
    ]);
    const a = attrs(t, {
      name: "w2",
      kind: { group: "example.com", version: "v2", kind: "Widget" },
      resource: { group: "example.com", version: "v2", resource: "widgets" },
      object: {
        apiVersion: "example.com/v2",
        kind: "Widget",
        metadata: { name: "w2", namespace: "default" },
      },
    });
    await admit(a);
    // Patched in v1, served back as v2; the Exact webhook was not called.
    assert.deepEqual(a.object, {
      apiVersion: "example.com/v2",
      kind: "Widget",
      metadata: { name: "w2", namespace: "default", labels: { a: "1" } },
    });
    const calls = server.received.filter((r) => r.request.name === "w2");
    assert.deepEqual(
      calls.map((r) => [r.path, r.request["kind"], r.request["requestKind"], r.request.object?.apiVersion]),
      [
        [
          "/label-a",
          { group: "example.com", version: "v1", kind: "Widget" },
          { group: "example.com", version: "v2", kind: "Widget" },
          "example.com/v1",
        ],
      ],
    );
    await removeConfiguration(t, "mutating", "widgets");
  });
});
