// OpenAPI end to end with the real kubectl: the /openapi/v2 document (built-in kinds, a CRD,
// the create-only review kinds), `kubectl explain` of a built-in kind, a custom resource and the
// kinds the v1.32 schema overlay adds (ValidatingAdmissionPolicy, SelfSubjectReview), and
// server-side apply of a ValidatingAdmissionPolicy, which needs its schema.
//
// The protobuf form of /openapi/v2 (gnostic's Document) is what kubectl asks for in two places:
// client-side validation of a kind whose OpenAPI v3 document has no PATCH operation (the review
// kinds: kubectl cannot tell whether the server validates fields, so it validates itself with
// the v2 document), and `kubectl explain --output=plaintext-openapiv2`.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { serverVersion } from "../../apiserver/src/endpoints/discovery.ts";
import { kubectlBinary, startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

let mp: TestMultiplane;

before(async () => {
  mp = await startMultiplane();
});
after(async () => {
  await mp?.destroy();
});

type Json = Record<string, unknown>;

interface SwaggerOperation {
  operationId: string;
  consumes: string[];
  produces: string[];
  schemes: string[];
  parameters?: { name: string; in: string; required?: boolean; type?: string; schema?: Json }[];
  responses: Record<string, { description: string; schema?: { $ref?: string } }>;
  "x-kubernetes-action": string;
  "x-kubernetes-group-version-kind": { group: string; version: string; kind: string };
}

interface Swagger {
  swagger: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, SwaggerOperation> & { parameters?: { name: string }[] }>;
  definitions: Record<string, Json & { properties?: Record<string, Json>; required?: string[] }>;
  security: Json[];
  securityDefinitions: Record<string, Json>;
}

async function swagger(): Promise<Swagger> {
  return JSON.parse(await mp.kubectl(["get", "--raw", "/openapi/v2"])) as Swagger;
}

const gizmosCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size, note]
            properties:
              size:
                type: integer
                description: How big the gizmo is.
              note:
                type: string
                nullable: true
              port:
                x-kubernetes-int-or-string: true
              extra:
                type: object
                x-kubernetes-preserve-unknown-fields: true
                properties:
                  known: {type: string}
              choice:
                type: string
                anyOf:
                - enum: [a]
                - enum: [b]
`;

const policy = (message: string): string => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replicas-limit
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [configmaps]
  variables:
  - name: size
    expression: "size(object.data)"
  validations:
  - expression: "variables.size <= 3"
    message: ${message}
    reason: Invalid
`;

describe("/openapi/v2 with kubectl", () => {
  test("is kube's Swagger 2.0 document for the built-in kinds", async () => {
    const doc = await swagger();
    assert.equal(doc.swagger, "2.0");
    assert.deepEqual(doc.info, { title: "Kubernetes", version: serverVersion.gitVersion });
    assert.deepEqual(doc.security, [{ BearerToken: [] }]);
    assert.deepEqual(doc.securityDefinitions["BearerToken"], {
      description: "Bearer Token authentication",
      in: "header",
      name: "authorization",
      type: "apiKey",
    });
    const text = JSON.stringify(doc);
    assert.ok(!text.includes("#/components/"), "every $ref points into #/definitions");

    const collection = doc.paths["/api/v1/namespaces/{namespace}/configmaps"]!;
    assert.equal(collection["get"]?.operationId, "listCoreV1NamespacedConfigMap");
    assert.equal(collection["post"]?.operationId, "createCoreV1NamespacedConfigMap");
    assert.equal(collection["delete"]?.operationId, "deleteCoreV1CollectionNamespacedConfigMap");
    assert.deepEqual(collection["post"]?.parameters?.[0], {
      in: "body",
      name: "body",
      required: true,
      schema: { $ref: "#/definitions/io.k8s.api.core.v1.ConfigMap" },
    });
    assert.deepEqual(collection["get"]?.produces, [
      "application/json",
      "application/yaml",
      "application/vnd.kubernetes.protobuf",
      "application/json;stream=watch",
      "application/vnd.kubernetes.protobuf;stream=watch",
    ]);
    const item = doc.paths["/api/v1/namespaces/{namespace}/configmaps/{name}"]!;
    assert.deepEqual(
      item.parameters?.map((p) => p.name),
      ["name", "namespace", "pretty"],
    );
    assert.deepEqual(item["patch"]?.consumes, [
      "application/json-patch+json",
      "application/merge-patch+json",
      "application/strategic-merge-patch+json",
      "application/apply-patch+yaml",
    ]);
    assert.equal(item["put"]?.["x-kubernetes-action"], "put");
    assert.deepEqual(item["get"]?.["x-kubernetes-group-version-kind"], {
      group: "",
      kind: "ConfigMap",
      version: "v1",
    });
    assert.equal(
      doc.definitions["io.k8s.api.core.v1.ConfigMap"]?.properties?.["metadata"]?.["$ref"],
      "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    );
    assert.ok(doc.paths["/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/{name}/status"]);
    assert.equal(
      doc.paths["/apis/rbac.authorization.k8s.io/"]?.["get"]?.operationId,
      "getRbacAuthorizationAPIGroup",
    );
  });

  test("lists the review kinds with POST only", async () => {
    const doc = await swagger();
    for (const [path, operationId] of [
      [
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        "createAuthorizationV1SelfSubjectAccessReview",
      ],
      ["/apis/authentication.k8s.io/v1/selfsubjectreviews", "createAuthenticationV1SelfSubjectReview"],
      [
        "/apis/authorization.k8s.io/v1/namespaces/{namespace}/localsubjectaccessreviews",
        "createAuthorizationV1NamespacedLocalSubjectAccessReview",
      ],
    ] as const) {
      const item = doc.paths[path];
      assert.ok(item, path);
      assert.deepEqual(
        Object.keys(item).filter((k) => k !== "parameters"),
        ["post"],
        path,
      );
      assert.equal(item["post"]?.operationId, operationId);
    }
    assert.equal(doc.paths["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/{name}"], undefined);
    const review = doc.definitions["io.k8s.api.authentication.v1.SelfSubjectReview"];
    assert.equal(
      review?.properties?.["status"]?.["$ref"],
      "#/definitions/io.k8s.api.authentication.v1.SelfSubjectReviewStatus",
    );
  });

  test("publishes a CRD the way kube's v2 builder does, and drops it with the CRD", async () => {
    await mp.kubectl(["create", "-f", "-"], { input: gizmosCRD });
    await mp.kubectl(["wait", "--for=condition=Established", "crd/gizmos.example.com", "--timeout=20s"]);
    const doc = await swagger();
    const list = doc.paths["/apis/example.com/v1/namespaces/{namespace}/gizmos"]!;
    assert.equal(list["get"]?.operationId, "listExampleComV1NamespacedGizmo");
    assert.deepEqual(list["get"]?.consumes, ["application/json", "application/yaml"]);
    assert.deepEqual(list["get"]?.produces, ["application/json", "application/yaml"]);
    assert.equal(
      doc.paths["/apis/example.com/v1/namespaces/{namespace}/gizmos/{name}/status"]?.["patch"]?.operationId,
      "patchExampleComV1NamespacedGizmoStatus",
    );
    assert.equal(
      doc.paths["/apis/example.com/v1/gizmos"]?.["get"]?.operationId,
      "listExampleComV1GizmoForAllNamespaces",
    );

    const gizmo = doc.definitions["com.example.v1.Gizmo"]!;
    assert.deepEqual(gizmo["x-kubernetes-group-version-kind"], [
      { group: "example.com", kind: "Gizmo", version: "v1" },
    ]);
    assert.equal(
      gizmo.properties?.["metadata"]?.["$ref"],
      "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    );
    const spec = gizmo.properties?.["spec"] as { properties: Record<string, Json>; required?: string[] };
    // nullable: untyped and no longer required; anyOf dropped; preserve-unknown-fields: untyped, no properties.
    assert.deepEqual(spec.properties["note"], {});
    assert.deepEqual(spec.required, ["size"]);
    assert.deepEqual(spec.properties["choice"], { type: "string" });
    assert.deepEqual(spec.properties["extra"], { "x-kubernetes-preserve-unknown-fields": true });
    assert.deepEqual(spec.properties["port"], { "x-kubernetes-int-or-string": true });
    assert.equal(doc.definitions["com.example.v1.GizmoList"]?.required?.[0], "items");

    await mp.kubectl(["delete", "crd", "gizmos.example.com", "--wait=true", "--timeout=30s"]);
    const after = await swagger();
    assert.equal(after.paths["/apis/example.com/v1/namespaces/{namespace}/gizmos"], undefined);
    assert.equal(after.definitions["com.example.v1.Gizmo"], undefined);
  });
});

describe("kubectl explain", () => {
  test("a built-in kind, a CRD, and kinds newer than the upstream snapshot", async () => {
    const lease = await mp.kubectl(["explain", "leases.spec.holderIdentity"]);
    assert.match(lease, /^GROUP: {6}coordination\.k8s\.io\nKIND: {7}Lease\nVERSION: {4}v1\n/);

    await mp.kubectl(["create", "-f", "-"], {
      input: gizmosCRD.replaceAll("gizmo", "doohickey").replaceAll("Gizmo", "Doohickey"),
    });
    await mp.kubectl(["wait", "--for=condition=Established", "crd/doohickeys.example.com", "--timeout=20s"]);
    const crd = await mp.kubectl(["explain", "doohickeys.spec.size"]);
    assert.match(crd, /KIND: {7}Doohickey/);
    assert.match(crd, /FIELD: size <integer>/);
    assert.match(crd, /How big the doohickey is\./);

    const vap = await mp.kubectl(["explain", "validatingadmissionpolicies.spec"]);
    assert.match(
      vap,
      /^GROUP: {6}admissionregistration\.k8s\.io\nKIND: {7}ValidatingAdmissionPolicy\nVERSION: {4}v1\n/,
    );
    assert.match(vap, /FIELD: spec <ValidatingAdmissionPolicySpec>/);
    assert.match(vap, /\n {2}matchConstraints\t<MatchResources>\n/);
    assert.match(vap, /\n {2}validations\t<\[\]Validation>\n/);
    assert.match(vap, /\n {2}variables\t<\[\]Variable>\n/);
    const validation = await mp.kubectl(["explain", "validatingadmissionpolicies.spec.validations"]);
    assert.match(validation, /FIELD: validations <\[\]Validation>/);
    assert.match(validation, /\n {2}expression\t<string> -required-\n/);

    const ssr = await mp.kubectl(["explain", "selfsubjectreviews"]);
    assert.match(ssr, /^GROUP: {6}authentication\.k8s\.io\nKIND: {7}SelfSubjectReview\nVERSION: {4}v1\n/);
    assert.match(ssr, /\n {2}status\t<SelfSubjectReviewStatus>\n/);
    const userInfo = await mp.kubectl(["explain", "selfsubjectreviews.status.userInfo.username"]);
    assert.match(userInfo, /FIELD: username <string>/);
  });
});

describe("server-side apply of a ValidatingAdmissionPolicy", () => {
  test("creates, then changes it, tracking kubectl's fields; the policy is enforced", async () => {
    assert.equal(
      await mp.kubectl(["apply", "--server-side", "-f", "-"], { input: policy("too many keys") }),
      "validatingadmissionpolicy.admissionregistration.k8s.io/replicas-limit serverside-applied\n",
    );
    assert.equal(
      await mp.kubectl(["apply", "--server-side", "-f", "-"], { input: policy("at most three keys") }),
      "validatingadmissionpolicy.admissionregistration.k8s.io/replicas-limit serverside-applied\n",
    );
    const stored = JSON.parse(
      await mp.kubectl([
        "get",
        "validatingadmissionpolicy",
        "replicas-limit",
        "-o",
        "json",
        "--show-managed-fields",
      ]),
    ) as {
      metadata: {
        generation: number;
        managedFields: { manager: string; operation: string; fieldsV1: Json }[];
      };
      spec: { validations: { message: string; reason: string }[]; variables: { name: string }[] };
    };
    assert.equal(stored.metadata.generation, 2);
    assert.deepEqual(stored.spec.validations, [
      { expression: "variables.size <= 3", message: "at most three keys", reason: "Invalid" },
    ]);
    assert.deepEqual(stored.spec.variables, [{ name: "size", expression: "size(object.data)" }]);
    const applied = stored.metadata.managedFields.find((m) => m.manager === "kubectl");
    assert.equal(applied?.operation, "Apply");
    const fields = applied?.fieldsV1 as { "f:spec"?: Json };
    assert.ok(fields["f:spec"]?.["f:validations"], JSON.stringify(fields));
    assert.ok(fields["f:spec"]?.["f:matchConstraints"], JSON.stringify(fields));

    await mp.kubectl(["apply", "--server-side", "-f", "-"], {
      input: `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicas-limit
spec:
  policyName: replicas-limit
  validationActions: [Deny]
`,
    });
    const binding = JSON.parse(
      await mp.kubectl(["get", "validatingadmissionpolicybinding", "replicas-limit", "-o", "json"]),
    ) as { spec: { validationActions: string[] } };
    assert.deepEqual(binding.spec.validationActions, ["Deny"]);

    // The applied policy is in force: four keys are one too many.
    const create = ["create", "configmap", "four-keys", "--from-literal=a=1", "--from-literal=b=2"];
    const tooMany = [...create, "--from-literal=c=3", "--from-literal=d=4"];
    let denial = "";
    for (let i = 0; i < 50 && denial === ""; i++) {
      try {
        await mp.kubectl(tooMany);
        await mp.kubectl(["delete", "configmap", "four-keys"]);
        await new Promise((r) => setTimeout(r, 100));
      } catch (err) {
        denial = (err as Error).message;
      }
    }
    assert.match(
      denial,
      /ValidatingAdmissionPolicy 'replicas-limit' with binding 'replicas-limit' denied request: at most three keys/,
    );
    assert.equal(await mp.kubectl(create), "configmap/four-keys created\n");
  });
});

describe("/openapi/v2 in protobuf with kubectl", () => {
  const protobufAccept = "Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
  const tokenReview = (spec: string): string => `apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec:
${spec}
`;

  /** kubectl at -v=8 (which logs each request and its headers to stderr); rejects on failure. */
  async function kubectlLogged(
    args: readonly string[],
    input: string,
  ): Promise<{ stdout: string; stderr: string }> {
    const child = promisify(execFile)(kubectlBinary, ["--kubeconfig", mp.kubeconfigPath, "-v=8", ...args], {
      env: { ...process.env, KUBECONFIG: mp.kubeconfigPath, HOME: mp.dataDir },
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    child.child.stdin?.end(input);
    return await child;
  }

  test("kubectl create -f validates a SelfSubjectAccessReview with it, and the review is answered", async () => {
    const file = join(mp.dataDir, "ssar.yaml");
    await writeFile(
      file,
      `apiVersion: authorization.k8s.io/v1
kind: SelfSubjectAccessReview
spec:
  resourceAttributes: {verb: list, resource: configmaps, namespace: default}
`,
    );
    // Default validation (strict): with no PATCH operation for the kind in /openapi/v3, kubectl
    // validates on its side, with the protobuf v2 document.
    const { stdout, stderr } = await kubectlLogged(["create", "-f", file, "-o", "json"], "");
    assert.match(stderr, /GET https:\/\/[^ ]+\/openapi\/v2\b/);
    assert.ok(stderr.includes(protobufAccept), "kubectl asked for the protobuf document");
    assert.match(stderr, /Content-Type: application\/com\.github\.proto-openapi\.spec\.v2\.v1\.0\+protobuf/);
    const review = JSON.parse(stdout) as {
      kind: string;
      spec: { resourceAttributes: { verb: string } };
      status: { allowed: boolean };
    };
    assert.equal(review.kind, "SelfSubjectAccessReview");
    assert.equal(review.spec.resourceAttributes.verb, "list");
    assert.equal(review.status.allowed, true);
  });

  test("kubectl create -f - of a TokenReview passes validation and returns its status", async () => {
    const out = await mp.kubectl(["create", "-f", "-", "-o", "json"], {
      input: tokenReview("  token: not-a-token\n  audiences: [api]"),
    });
    const review = JSON.parse(out) as {
      kind: string;
      spec: { token: string; audiences: string[] };
      status: { authenticated?: boolean; error?: string };
    };
    assert.equal(review.kind, "TokenReview");
    assert.deepEqual(review.spec.audiences, ["api"]);
    assert.equal(review.status.authenticated, false);
    assert.equal(typeof review.status.error, "string");
  });

  test("an unknown field fails kubectl's own validation, before anything is sent", async () => {
    const { stderr } = await kubectlLogged(["create", "-f", "-"], tokenReview("  token: t\n  bogus: 1")).then(
      () => assert.fail("kubectl accepted an unknown field"),
      (err: unknown) => err as { stderr: string },
    );
    assert.match(
      stderr,
      /error: error validating "STDIN": error validating data: ValidationError\(TokenReview\.spec\): unknown field "bogus" in io\.k8s\.api\.authentication\.v1\.TokenReviewSpec; if you choose to ignore these errors, turn validation off with --validate=false/,
    );
    assert.ok(!/POST https:\/\/[^ ]+\/tokenreviews/.test(stderr), "no TokenReview was sent");
    // Without validation, the server is asked (and answers).
    const out = await mp.kubectl(["create", "--validate=false", "-f", "-", "-o", "json"], {
      input: tokenReview("  token: t\n  bogus: 1"),
    });
    assert.equal((JSON.parse(out) as { kind: string }).kind, "TokenReview");
  });

  test("kubectl explain --output=plaintext-openapiv2: a built-in kind and a field", async () => {
    const configMaps = await mp.kubectl(["explain", "--output=plaintext-openapiv2", "configmaps"]);
    assert.match(
      configMaps,
      /^KIND: {5}ConfigMap\nVERSION: {2}v1\n\nDESCRIPTION:\n {5}ConfigMap holds configuration data for pods to consume\.\n/,
    );
    assert.match(configMaps, /\nFIELDS:\n {3}apiVersion\t<string>\n/);
    assert.match(configMaps, /\n {3}binaryData\t<map\[string\]string>\n/);
    assert.match(configMaps, /\n {3}data\t<map\[string\]string>\n/);
    assert.match(configMaps, /\n {3}immutable\t<boolean>\n/);
    // (No description under metadata: the built-in schema snapshot lost the `$ref`'s siblings.)
    assert.match(configMaps, /\n {3}metadata\t<Object>\n/);

    const ownerReferences = await mp.kubectl([
      "explain",
      "--output=plaintext-openapiv2",
      "configmaps.metadata.ownerReferences",
    ]);
    assert.match(ownerReferences, /RESOURCE: ownerReferences <\[\]Object>/);
    assert.match(ownerReferences, /\n {3}uid\t<string> -required-\n/);
  });

  test("kubectl explain --output=plaintext-openapiv2 of a custom resource", async () => {
    await mp.kubectl(["create", "-f", "-"], {
      input: gizmosCRD.replaceAll("gizmo", "sprocket").replaceAll("Gizmo", "Sprocket"),
    });
    await mp.kubectl(["wait", "--for=condition=Established", "crd/sprockets.example.com", "--timeout=20s"]);
    const out = await mp.kubectl(["explain", "--output=plaintext-openapiv2", "sprockets.spec.size"]);
    assert.match(out, /^KIND: {5}Sprocket\nVERSION: {2}example\.com\/v1\n/);
    assert.match(out, /FIELD: {4}size <integer>/);
    assert.match(out, /How big the sprocket is\./);
  });
});
