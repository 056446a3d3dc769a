// ValidatingAdmissionWebhook against real HTTPS webhook servers and a real tenant instance:
// parallel calls, which refusal answers, warnings and annotations from all, failure policies,
// namespaceSelector and objectSelector, and what a validating webhook may not answer.

import assert from "node:assert/strict";
import { evaluateMatchConditions } from "../cel/index.ts";
import { after, before, describe, test } from "node:test";
import { isStatusError, type StatusError } from "../../apierrors/status.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import { validatingWebhooks } from "./validating.webhook.ts";
import {
  attrs,
  closedPort,
  configure,
  hook,
  jsonPatch,
  makePKI,
  namespace,
  openTenants,
  removeConfiguration,
  sleep,
  startWebhookServer,
  type PKI,
  type Tenants,
  type WebhookServer,
} from "./webhook.fixture.ts";

const plugin = validatingWebhooks({ matchConditions: evaluateMatchConditions });
const validate = async (a: ReturnType<typeof attrs>): Promise<void> => plugin.validate!(a);

let pki: PKI;
let tenants: Tenants;
let server: WebhookServer;
let t: TenantInstance;

before(async () => {
  pki = await makePKI();
  tenants = await openTenants();
  server = await startWebhookServer(pki, {
    "/allow": () => ({ allowed: true }),
    "/slow-allow": async () => {
      await sleep(400);
      return { allowed: true, warnings: ["slow says hi"], auditAnnotations: { seen: "slow" } };
    },
    "/slow-deny": async () => {
      await sleep(400);
      return {
        allowed: false,
        warnings: ["slow denies"],
        status: { code: 422, reason: "Invalid", message: "slow no" },
      };
    },
    "/fast-deny": () => ({ allowed: false, status: { message: "fast no" } }),
    "/patching": () => jsonPatch([{ op: "add", path: "/metadata/labels", value: {} }]),
    "/v1beta1": () => ({ uid: "", allowed: false, status: { message: "old-style no" } }),
  });
  t = await tenants.tenant();
  await namespace(t, "team-a", { team: "a" });
  await namespace(t, "team-b", { team: "b" });
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

const named = (name: string) => server.received.filter((r) => r.request.name === name);

describe("ValidatingAdmissionWebhook", () => {
  test("webhooks are called in parallel; one denial refuses; warnings and annotations of all are kept", async () => {
    await configure(t, "validating", "parallel", [
      hook("slow-allow.example.com", server.url("/slow-allow"), server.caBundle),
      hook("slow-deny.example.com", server.url("/slow-deny"), server.caBundle),
      hook("slow-allow-2.example.com", server.url("/slow-allow"), server.caBundle),
    ]);
    const a = attrs(t, { name: "parallel" });
    const started = Date.now();
    const err = await failed(validate(a));
    const took = Date.now() - started;
    assert.ok(took < 1000, `three 400 ms webhooks took ${took} ms: not in parallel`);
    assert.equal(err.code, 422);
    assert.equal(err.reason, "Invalid");
    assert.equal(err.message, 'admission webhook "slow-deny.example.com" denied the request: slow no');
    assert.deepEqual(a.warnings, ["slow says hi", "slow denies", "slow says hi"]);
    assert.deepEqual(a.auditAnnotations, {
      "slow-allow.example.com/seen": "slow",
      "slow-allow-2.example.com/seen": "slow",
    });
    assert.equal(named("parallel").length, 3);
    await removeConfiguration(t, "validating", "parallel");
  });

  test("with several denials the first webhook in order answers, not the fastest", async () => {
    await configure(t, "validating", "v-1", [
      hook("slow.example.com", server.url("/slow-deny"), server.caBundle),
    ]);
    await configure(t, "validating", "v-2", [
      hook("fast.example.com", server.url("/fast-deny"), server.caBundle),
    ]);
    const err = await failed(validate(attrs(t, { name: "two-denials" })));
    assert.equal(err.message, 'admission webhook "slow.example.com" denied the request: slow no');
    await removeConfiguration(t, "validating", "v-1");
    const fast = await failed(validate(attrs(t, { name: "one-denial" })));
    // No code from the webhook: 400, as kube v1.32 answers.
    assert.equal(fast.code, 400);
    assert.equal(fast.message, 'admission webhook "fast.example.com" denied the request: fast no');
    await removeConfiguration(t, "validating", "v-2");
  });

  test("failurePolicy: a down webhook refuses under Fail and is skipped under Ignore", async () => {
    const port = await closedPort(pki);
    const url = `https://127.0.0.1:${port}/validate`;
    await configure(t, "validating", "down", [
      hook("ok.example.com", server.url("/allow"), server.caBundle),
      hook("ignored.example.com", url, server.caBundle, { failurePolicy: "Ignore" }),
    ]);
    const a = attrs(t, { name: "down-ignored" });
    await validate(a);
    // The index counts the webhooks called for the write.
    assert.deepEqual(a.auditAnnotations, {
      "failed-open.validating.webhook.admission.k8s.io/round_0_index_1": "ignored.example.com",
    });
    await removeConfiguration(t, "validating", "down");
    await configure(t, "validating", "down-fail", [hook("fail.example.com", url, server.caBundle)]);
    const err = await failed(validate(attrs(t, { name: "down-fail" })));
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      `Internal error occurred: failed calling webhook "fail.example.com": failed to call webhook: Post "${url}?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
    await removeConfiguration(t, "validating", "down-fail");
  });

  test("namespaceSelector: the labels of the object's namespace", async () => {
    await configure(t, "validating", "ns", [
      hook("team-a.example.com", server.url("/fast-deny"), server.caBundle, {
        namespaceSelector: { matchExpressions: [{ key: "team", operator: "In", values: ["a"] }] },
      }),
    ]);
    const err = await failed(validate(attrs(t, { name: "in-a", namespace: "team-a" })));
    assert.equal(err.message, 'admission webhook "team-a.example.com" denied the request: fast no');
    await validate(attrs(t, { name: "in-b", namespace: "team-b" }));
    assert.equal(named("in-b").length, 0);
    // A namespace that does not exist: kube's 404.
    const missing = await failed(validate(attrs(t, { name: "in-missing", namespace: "missing" })));
    assert.equal(missing.code, 404);
    assert.equal(missing.message, 'namespaces "missing" not found');
    await removeConfiguration(t, "validating", "ns");
  });

  test("namespaceSelector: cluster-scoped objects always match", async () => {
    await configure(t, "validating", "ns-cluster", [
      hook("cluster.example.com", server.url("/fast-deny"), server.caBundle, {
        rules: [
          {
            operations: ["CREATE"],
            apiGroups: ["rbac.authorization.k8s.io"],
            apiVersions: ["v1"],
            resources: ["clusterroles"],
          },
        ],
        namespaceSelector: { matchLabels: { never: "there" } },
      }),
    ]);
    const err = await failed(
      validate(
        attrs(t, {
          name: "viewer",
          namespace: "",
          kind: { group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole" },
          resource: { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles" },
          object: {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: "viewer" },
          },
        }),
      ),
    );
    assert.equal(err.message, 'admission webhook "cluster.example.com" denied the request: fast no');
    await removeConfiguration(t, "validating", "ns-cluster");
  });

  test("objectSelector: the new object's labels, or the old one's", async () => {
    await configure(t, "validating", "objects", [
      hook("labelled.example.com", server.url("/fast-deny"), server.caBundle, {
        rules: [{ operations: ["*"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"] }],
        objectSelector: { matchLabels: { guarded: "yes" } },
      }),
    ]);
    const cm = (name: string, labels?: Record<string, string>) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: "default", ...(labels ? { labels } : {}) },
    });
    await validate(attrs(t, { name: "plain", object: cm("plain") }));
    assert.equal(named("plain").length, 0);
    await failed(validate(attrs(t, { name: "guarded", object: cm("guarded", { guarded: "yes" }) })));
    // Removing the label is judged by the old object.
    await failed(
      validate(
        attrs(t, {
          operation: "UPDATE",
          name: "unguard",
          object: cm("unguard"),
          oldObject: cm("unguard", { guarded: "yes" }),
        }),
      ),
    );
    // A delete has only the old object.
    await failed(
      validate(attrs(t, { operation: "DELETE", name: "del", oldObject: cm("del", { guarded: "yes" }) })),
    );
    assert.deepEqual(
      ["guarded", "unguard", "del"].map((n) => named(n).length),
      [1, 1, 1],
    );
    await removeConfiguration(t, "validating", "objects");
  });

  test("a validating webhook may not answer with a patch", async () => {
    await configure(t, "validating", "patching", [
      hook("patching.example.com", server.url("/patching"), server.caBundle),
    ]);
    const err = await failed(validate(attrs(t, { name: "patched" })));
    assert.equal(
      err.message,
      'Internal error occurred: failed calling webhook "patching.example.com": received invalid webhook response: validating webhook may not return response.patch',
    );
    await removeConfiguration(t, "validating", "patching");
  });

  test("admissionReviewVersions: v1beta1 first is spoken as v1beta1, without the uid check", async () => {
    await configure(t, "validating", "beta", [
      hook("beta.example.com", server.url("/v1beta1"), server.caBundle, {
        admissionReviewVersions: ["v1beta1", "v1"],
      }),
    ]);
    const err = await failed(validate(attrs(t, { name: "beta" })));
    assert.equal(err.message, 'admission webhook "beta.example.com" denied the request: old-style no');
    assert.equal(named("beta")[0]?.review["apiVersion"], "admission.k8s.io/v1beta1");
    await removeConfiguration(t, "validating", "beta");
  });
});
