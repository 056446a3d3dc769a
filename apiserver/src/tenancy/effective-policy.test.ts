// A tenant's effective policy: an organization's as written, a project's merged with its
// organization's and never wider (quotas the minimum; inherited parts only with `inherit`).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ControlPlanePolicySpec, OIDCIssuerSpec } from "./controlplane.types.ts";
import { effectivePolicy, minQuotas } from "./effective-policy.ts";

const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const caBundle = Buffer.from(pem).toString("base64");
const issuer = (url: string): OIDCIssuerSpec => ({
  issuer: { url, audiences: ["a"] },
  claimMappings: { username: { claim: "sub", prefix: "" } },
});

const org: ControlPlanePolicySpec = {
  authentication: {
    oidcIssuers: [issuer("https://org.example")],
    tokenWebhook: { url: "https://org.example/review", caBundle },
  },
  authorization: { webhook: { url: "https://org.example/authz", caBundle } },
  audit: { policy: { rules: [{ level: "Metadata" }] } },
  quotas: { maxObjects: 100, maxStorageBytes: 1000, maxWatches: 5 },
};

describe("effectivePolicy", () => {
  test("an organization's policy is its own, caBundles decoded to PEM", () => {
    const p = effectivePolicy(org);
    assert.deepEqual(
      p.oidcIssuers?.map((i) => i.issuer.url),
      ["https://org.example"],
    );
    assert.deepEqual(p.tokenWebhook, { url: "https://org.example/review", certificateAuthority: pem });
    assert.deepEqual(p.authorizationWebhook, { url: "https://org.example/authz", caPem: pem });
    assert.equal(p.inheritedAuthorizationWebhook, undefined);
    assert.ok(p.auditPolicy);
    assert.deepEqual(p.quotas, { maxObjects: 100, maxStorageBytes: 1000, maxWatches: 5 });
  });

  test("no policy at all is an empty policy", () => {
    assert.deepEqual(effectivePolicy(undefined), {});
    assert.deepEqual(effectivePolicy(undefined, {}), {});
  });

  test("a project inherits by default: the organization's issuers, webhooks and audit policy", () => {
    const p = effectivePolicy({ authentication: { oidcIssuers: [issuer("https://web.example")] } }, org);
    assert.deepEqual(
      p.oidcIssuers?.map((i) => i.issuer.url),
      ["https://org.example", "https://web.example"],
    );
    assert.equal(p.tokenWebhook?.url, "https://org.example/review");
    assert.equal(p.inheritedAuthorizationWebhook?.url, "https://org.example/authz");
    assert.equal(p.authorizationWebhook, undefined);
    assert.ok(p.auditPolicy);
    assert.deepEqual(p.quotas, org.quotas);
  });

  test("a project's own webhooks are added after (authorization) or instead of (token) the organization's", () => {
    const p = effectivePolicy(
      {
        authentication: { tokenWebhook: { url: "https://web.example/review" } },
        authorization: { webhook: { url: "https://web.example/authz" } },
      },
      org,
    );
    assert.deepEqual(p.tokenWebhook, { url: "https://web.example/review" });
    assert.equal(p.inheritedAuthorizationWebhook?.url, "https://org.example/authz");
    assert.deepEqual(p.authorizationWebhook, { url: "https://web.example/authz" });
  });

  test("inherit: false keeps only the project's own authentication, authorization and audit", () => {
    const p = effectivePolicy(
      { inherit: false, authentication: { oidcIssuers: [issuer("https://web.example")] } },
      org,
    );
    assert.deepEqual(
      p.oidcIssuers?.map((i) => i.issuer.url),
      ["https://web.example"],
    );
    assert.equal(p.tokenWebhook, undefined);
    assert.equal(p.inheritedAuthorizationWebhook, undefined);
    assert.equal(p.auditPolicy, undefined);
  });

  test("quotas are never above the organization's, inherit or not", () => {
    const p = effectivePolicy(
      { inherit: false, quotas: { maxObjects: 1000, maxStorageBytes: 10, maxRequestsInFlight: 3 } },
      org,
    );
    assert.deepEqual(p.quotas, {
      maxObjects: 100,
      maxStorageBytes: 10,
      maxRequestsInFlight: 3,
      maxWatches: 5,
    });
  });

  test("an issuer URL the organization already has is counted once, the organization's configuration kept", () => {
    const mine = {
      ...issuer("https://org.example"),
      issuer: { url: "https://org.example", audiences: ["wider"] },
    };
    const p = effectivePolicy({ authentication: { oidcIssuers: [mine] } }, org);
    assert.deepEqual(
      p.oidcIssuers?.map((i) => i.issuer.audiences),
      [["a"]],
    );
  });

  test("a caBundle that is no PEM and a bad audit policy are refused with their field", () => {
    assert.throws(
      () => effectivePolicy({ authorization: { webhook: { url: "https://x", caBundle: "bm90IHBlbQ==" } } }),
      /spec.policy.authorization.webhook.caBundle/,
    );
    assert.throws(
      () => effectivePolicy({ audit: { policy: { rules: [] } } }),
      /spec.policy.audit.policy: .*0 rules/,
    );
  });

  test("audit webhooks: the organization's when inherited, then the project's own, a URL counted once", () => {
    const orgHook: ControlPlanePolicySpec = {
      audit: { webhook: { url: "https://org.example/audit", caBundle } },
    };
    assert.deepEqual(effectivePolicy(orgHook).auditWebhooks, [
      { url: "https://org.example/audit", caPem: pem },
    ]);
    const own = { audit: { webhook: { url: "https://project.example/audit" } } };
    assert.deepEqual(effectivePolicy(own, orgHook).auditWebhooks, [
      { url: "https://org.example/audit", caPem: pem },
      { url: "https://project.example/audit" },
    ]);
    assert.deepEqual(effectivePolicy({ ...own, inherit: false }, orgHook).auditWebhooks, [
      { url: "https://project.example/audit" },
    ]);
    assert.deepEqual(effectivePolicy(orgHook, orgHook).auditWebhooks?.length, 1);
    assert.equal(effectivePolicy({}, {}).auditWebhooks, undefined);
    assert.throws(
      () => effectivePolicy({ audit: { webhook: { url: "https://x", caBundle: "bm90IHBlbQ==" } } }),
      /spec.policy.audit.webhook.caBundle/,
    );
  });

  test("inputs are not modified", () => {
    const before = JSON.stringify(org);
    effectivePolicy({ quotas: { maxObjects: 1 } }, org);
    assert.equal(JSON.stringify(org), before);
  });
});

describe("minQuotas", () => {
  test("takes each limit's minimum and keeps one-sided limits", () => {
    assert.deepEqual(minQuotas({ maxObjects: 5 }, { maxObjects: 3, maxWatches: 1 }), {
      maxObjects: 3,
      maxWatches: 1,
    });
    assert.equal(minQuotas(undefined, undefined), undefined);
    assert.deepEqual(minQuotas({ maxStorageBytes: 0 }, undefined), { maxStorageBytes: 0 });
  });
});
