// Admission through the real kubectl: a tenant's own mutating and validating webhooks (real
// HTTPS servers started here, trusted through caBundle) and a ValidatingAdmissionPolicy with
// params from a ConfigMap, each with kube's answers; TokenReview of a ServiceAccount token.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  jsonPatch,
  makePKI,
  startWebhookServer,
  type WebhookServer,
} from "../../apiserver/src/admission/webhook/webhook.fixture.ts";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let mp: TestMultiplane;
let hooks: WebhookServer;

before(async () => {
  mp = await startMultiplane();
  mp.tenants.addTenant({ name: "adm-a", uid: "8a1c3a52-0000-4000-8000-0000000000aa" });
  mp.tenants.addTenant({ name: "adm-b", uid: "8a1c3a52-0000-4000-8000-0000000000bb" });
  hooks = await startWebhookServer(await makePKI(), {
    // Adds a label to every ConfigMap.
    "/mutate": () => ({
      allowed: true,
      ...jsonPatch([{ op: "add", path: "/metadata/labels", value: { "stamped-by": "webhook" } }]),
      warnings: ["stamped by the test webhook"],
    }),
    // Refuses ConfigMaps named forbidden-*.
    "/validate": (r) => {
      const name = r.request.object?.metadata?.name ?? "";
      return name.startsWith("forbidden-")
        ? {
            allowed: false,
            status: { code: 403, message: `names starting with forbidden- are refused (${name})` },
          }
        : { allowed: true };
    },
  });
});
after(async () => {
  await hooks?.close();
  await mp?.destroy();
});

const apply = (doc: object, tenant?: string) =>
  mp.kubectl(["apply", "-f", "-"], { input: JSON.stringify(doc), ...(tenant ? { tenant } : {}) });

async function refused(
  args: readonly string[],
  opts: { input?: string; tenant?: string } = {},
): Promise<string> {
  try {
    await mp.kubectl(args, opts);
  } catch (err) {
    return String((err as Error).message);
  }
  return assert.fail(`kubectl ${args.join(" ")} succeeded`);
}

const configMapRule = {
  operations: ["CREATE", "UPDATE"],
  apiGroups: [""],
  apiVersions: ["v1"],
  resources: ["configmaps"],
};

describe("admission webhooks through kubectl", () => {
  test("a tenant's mutating webhook patches, its validating webhook refuses, only in that tenant", async () => {
    const a = "adm-a";
    await apply(
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: "stamp" },
        webhooks: [
          {
            name: "stamp.example.com",
            clientConfig: { url: hooks.url("/mutate"), caBundle: hooks.caBundle },
            rules: [configMapRule],
            sideEffects: "None",
            admissionReviewVersions: ["v1"],
            objectSelector: { matchExpressions: [{ key: "skip", operator: "DoesNotExist" }] },
          },
        ],
      },
      a,
    );
    await apply(
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: { name: "names" },
        webhooks: [
          {
            name: "names.example.com",
            clientConfig: { url: hooks.url("/validate"), caBundle: hooks.caBundle },
            rules: [configMapRule],
            sideEffects: "None",
            admissionReviewVersions: ["v1"],
            failurePolicy: "Fail",
          },
        ],
      },
      a,
    );
    // The configurations take effect as the tenant's cache sees them.
    let out: string;
    const deadline = Date.now() + 10_000;
    for (let i = 0; ; i++) {
      out = await mp.kubectl(["create", "configmap", `stamped-${i}`, "-o", "json"], { tenant: a });
      if ((JSON.parse(out) as { metadata: { labels?: Record<string, string> } }).metadata.labels) break;
      if (Date.now() > deadline) assert.fail("the mutating webhook never applied");
    }
    assert.deepEqual((JSON.parse(out) as { metadata: { labels: object } }).metadata.labels, {
      "stamped-by": "webhook",
    });
    const received = hooks.on("/mutate").at(-1)!;
    assert.equal(received.request.operation, "CREATE");
    assert.equal((received.request["userInfo"] as { username: string }).username, "admin");
    // A label selected out of the webhook: no patch.
    const skipped = JSON.parse(
      await mp.kubectl(["apply", "-o", "json", "-f", "-"], {
        tenant: a,
        input: JSON.stringify({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "skipped", labels: { skip: "1" } },
        }),
      }),
    ) as { metadata: { labels: Record<string, string> } };
    assert.deepEqual(skipped.metadata.labels, { skip: "1" });

    const message = await refused(["create", "configmap", "forbidden-one"], { tenant: a });
    assert.match(
      message,
      /admission webhook "names.example.com" denied the request: names starting with forbidden- are refused \(forbidden-one\)/,
    );
    assert.equal(
      (await mp.kubectl(["get", "configmaps", "-o", "name"], { tenant: a })).includes("forbidden-one"),
      false,
    );

    // Tenant b has no webhooks: the same names pass there, unlabelled.
    const inB = JSON.parse(
      await mp.kubectl(["create", "configmap", "forbidden-one", "-o", "json"], { tenant: "adm-b" }),
    ) as {
      metadata: { labels?: object };
    };
    assert.equal(inB.metadata.labels, undefined);
  });
});

describe("ValidatingAdmissionPolicy through kubectl", () => {
  test("a policy with params from a ConfigMap refuses with kube's message, and its binding's actions apply", async () => {
    const b = "adm-b";
    await mp.kubectl(["create", "namespace", "limits"], { tenant: b });
    await mp.kubectl(["create", "configmap", "max-keys", "-n", "limits", "--from-literal=max=2"], {
      tenant: b,
    });
    await apply(
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: "max-keys" },
        spec: {
          failurePolicy: "Fail",
          paramKind: { apiVersion: "v1", kind: "ConfigMap" },
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [""],
                apiVersions: ["v1"],
                operations: ["CREATE", "UPDATE"],
                resources: ["configmaps"],
              },
            ],
          },
          matchConditions: [{ name: "not-params", expression: "object.metadata.namespace != 'limits'" }],
          validations: [
            {
              expression: "size(object.data) <= int(params.data.max)",
              messageExpression:
                "'a ConfigMap may hold at most ' + params.data.max + ' keys, not ' + string(size(object.data))",
              reason: "Invalid",
            },
          ],
        },
      },
      b,
    );
    await apply(
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: "max-keys-binding" },
        spec: {
          policyName: "max-keys",
          validationActions: ["Deny"],
          paramRef: { name: "max-keys", namespace: "limits", parameterNotFoundAction: "Deny" },
        },
      },
      b,
    );
    let message = "";
    const deadline = Date.now() + 10_000;
    for (let i = 0; message === ""; i++) {
      try {
        await mp.kubectl(
          [
            "create",
            "configmap",
            `big-${i}`,
            "--from-literal=a=1",
            "--from-literal=b=2",
            "--from-literal=c=3",
          ],
          {
            tenant: b,
          },
        );
      } catch (err) {
        message = String((err as Error).message);
      }
      if (message === "" && Date.now() > deadline) assert.fail("the policy never applied");
    }
    assert.match(
      message,
      /configmaps "big-\d+" is forbidden: ValidatingAdmissionPolicy 'max-keys' with binding 'max-keys-binding' denied request: a ConfigMap may hold at most 2 keys, not 3/,
    );
    await mp.kubectl(["create", "configmap", "small", "--from-literal=a=1"], { tenant: b });

    // Raising the param lets it through: params are read per request.
    await mp
      .kubectl(
        [
          "create",
          "configmap",
          "max-keys",
          "-n",
          "limits",
          "--from-literal=max=5",
          "--dry-run=client",
          "-o",
          "yaml",
        ],
        {
          tenant: b,
        },
      )
      .then((yaml) => mp.kubectl(["replace", "-f", "-"], { tenant: b, input: yaml }));
    await mp.kubectl(
      ["create", "configmap", "bigger", "--from-literal=a=1", "--from-literal=b=2", "--from-literal=c=3"],
      {
        tenant: b,
      },
    );

    // The status reports type checking of the policy's expressions.
    const policy = JSON.parse(
      await mp.kubectl(["get", "validatingadmissionpolicy", "max-keys", "-o", "json"], { tenant: b }),
    ) as {
      metadata: { generation: number };
      status?: { observedGeneration?: number };
    };
    assert.equal(policy.status?.observedGeneration, policy.metadata.generation);
  });
});
describe("TokenReview", () => {
  test("reviews a ServiceAccount token of the tenant", async () => {
    await mp.kubectl(["create", "serviceaccount", "reviewed"]);
    const token = (await mp.kubectl(["create", "token", "reviewed"])).trim();
    const review = JSON.parse(
      await mp.kubectl(["create", "--raw", "/apis/authentication.k8s.io/v1/tokenreviews", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token },
        }),
      }),
    ) as { status: { authenticated: boolean; user: { username: string; groups: string[] } } };
    assert.equal(review.status.authenticated, true);
    assert.equal(review.status.user.username, "system:serviceaccount:default:reviewed");
    const bad = JSON.parse(
      await mp.kubectl(["create", "--raw", "/apis/authentication.k8s.io/v1/tokenreviews", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token: "not-a-token" },
        }),
      }),
    ) as { status: { authenticated?: boolean } };
    assert.notEqual(bad.status.authenticated, true);
  });
});
