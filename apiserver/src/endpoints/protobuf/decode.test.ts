import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { describe, test } from "node:test";
import { isStatusError, type StatusError } from "../../apierrors/status.ts";
import { decodeProtobufBody, protobufMagic } from "./decode.ts";
import { kindMessages, kubernetesRoot, unknownMessage } from "./kubernetes.proto.ts";

// ---- fixtures: real kubectl request bodies, recorded by capture-fixtures.ts ----

interface CapturedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string;
  userAgent: string;
  bodyBase64: string;
}
interface Fixture {
  command: string[];
  requests: CapturedRequest[];
  jsonRequests: CapturedRequest[];
}

const fixtureDir = new URL("./fixtures/", import.meta.url);
const fixtures = new Map<string, Fixture>(
  readdirSync(fixtureDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [
      f.replace(/\.json$/, ""),
      JSON.parse(readFileSync(new URL(f, fixtureDir), "utf8")) as Fixture,
    ]),
);

function only<T>(xs: T[], what: string): T {
  assert.equal(xs.length, 1, `${what}: expected exactly one request`);
  return xs[0] as T;
}
const bodyOf = (r: CapturedRequest): Buffer => Buffer.from(r.bodyBase64, "base64");

const createdBy = { creationTimestamp: null };

/** What each protobuf fixture decodes to: the object as kubectl 1.31 sends it in JSON. */
const expected: Record<string, Record<string, unknown>> = {
  "create-configmap": {
    kind: "ConfigMap",
    apiVersion: "v1",
    metadata: { name: "c", ...createdBy },
    data: { a: "b", x: "y" },
  },
  "create-secret-generic": {
    kind: "Secret",
    apiVersion: "v1",
    metadata: { name: "s", ...createdBy },
    data: { k: "dg==" },
    type: "Opaque",
  },
  "create-namespace": {
    kind: "Namespace",
    apiVersion: "v1",
    metadata: { name: "n", ...createdBy },
    spec: {},
    status: {},
  },
  "create-serviceaccount": {
    kind: "ServiceAccount",
    apiVersion: "v1",
    metadata: { name: "sa", ...createdBy },
  },
  "auth-can-i-get-configmaps": {
    kind: "SelfSubjectAccessReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: createdBy,
    spec: { resourceAttributes: { namespace: "default", verb: "get", resource: "configmaps" } },
    status: { allowed: false },
  },
  "auth-can-i-list": {
    kind: "SelfSubjectRulesReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: createdBy,
    spec: { namespace: "default" },
    status: { resourceRules: null, nonResourceRules: null, incomplete: false },
  },
  "auth-whoami": {
    kind: "SelfSubjectReview",
    apiVersion: "authentication.k8s.io/v1",
    metadata: createdBy,
    status: { userInfo: {} },
  },
  "create-token": {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: createdBy,
    spec: { audiences: ["a"], expirationSeconds: 600, boundObjectRef: null },
    status: { token: "", expirationTimestamp: null },
  },
  "create-token-defaults": {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: createdBy,
    spec: { audiences: null, expirationSeconds: null, boundObjectRef: null },
    status: { token: "", expirationTimestamp: null },
  },
  "create-token-bound": {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: createdBy,
    spec: {
      audiences: ["x", "y"],
      expirationSeconds: null,
      boundObjectRef: {
        kind: "Pod",
        apiVersion: "v1",
        name: "p",
        uid: "9f0c1e0a-0000-4000-8000-000000000001",
      },
    },
    status: { token: "", expirationTimestamp: null },
  },
  "auth-can-i-subresource": {
    kind: "SelfSubjectAccessReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: createdBy,
    spec: {
      resourceAttributes: { namespace: "kube-system", verb: "create", resource: "pods", subresource: "exec" },
    },
    status: { allowed: false },
  },
  "auth-can-i-nonresource": {
    kind: "SelfSubjectAccessReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: createdBy,
    spec: { nonResourceAttributes: { path: "/healthz", verb: "get" } },
    status: { allowed: false },
  },
  "auth-can-i-list-namespace": {
    kind: "SelfSubjectRulesReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: createdBy,
    spec: { namespace: "kube-system" },
    status: { resourceRules: null, nonResourceRules: null, incomplete: false },
  },
  "create-configmap-binary-file": {
    kind: "ConfigMap",
    apiVersion: "v1",
    metadata: { name: "bin", ...createdBy },
    data: { text: "hello" },
    binaryData: { "blob.bin": Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41]).toString("base64") },
  },
  "create-secret-generic-unicode": {
    kind: "Secret",
    apiVersion: "v1",
    metadata: { name: "bin", ...createdBy },
    data: { u: Buffer.from("éü").toString("base64"), z: "" },
  },
  "create-secret-docker-registry": {
    kind: "Secret",
    apiVersion: "v1",
    metadata: { name: "reg", ...createdBy },
    data: {
      ".dockerconfigjson": Buffer.from(
        JSON.stringify({
          auths: {
            "registry.example.com": { username: "u", password: "p", email: "e@example.com", auth: "dTpw" },
          },
        }),
      ).toString("base64"),
    },
    type: "kubernetes.io/dockerconfigjson",
  },
  "create-role": {
    kind: "Role",
    apiVersion: "rbac.authorization.k8s.io/v1",
    metadata: { name: "r", ...createdBy },
    rules: [
      { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "configmaps"], resourceNames: ["x"] },
    ],
  },
  "create-clusterrole-aggregation": {
    kind: "ClusterRole",
    apiVersion: "rbac.authorization.k8s.io/v1",
    metadata: { name: "agg", ...createdBy },
    rules: null,
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate": "true" } }] },
  },
  "create-clusterrole-nonresource": {
    kind: "ClusterRole",
    apiVersion: "rbac.authorization.k8s.io/v1",
    metadata: { name: "nr", ...createdBy },
    rules: [{ verbs: ["get"], nonResourceURLs: ["/logs/*"] }],
  },
  "create-rolebinding": {
    kind: "RoleBinding",
    apiVersion: "rbac.authorization.k8s.io/v1",
    metadata: { name: "rb", ...createdBy },
    subjects: [
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice" },
      { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "devs" },
      { kind: "ServiceAccount", name: "sa", namespace: "default" },
    ],
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
  },
  "create-clusterrolebinding": {
    kind: "ClusterRoleBinding",
    apiVersion: "rbac.authorization.k8s.io/v1",
    metadata: { name: "crb", ...createdBy },
    subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "bob" }],
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
  },
  "create-service-clusterip": {
    kind: "Service",
    apiVersion: "v1",
    metadata: { name: "svc", ...createdBy, labels: { app: "svc" } },
    spec: {
      ports: [{ name: "80-8080", protocol: "TCP", port: 80, targetPort: 8080 }],
      selector: { app: "svc" },
      type: "ClusterIP",
    },
    status: { loadBalancer: {} },
  },
  "create-service-nodeport": {
    kind: "Service",
    apiVersion: "v1",
    metadata: { name: "np", ...createdBy, labels: { app: "np" } },
    spec: {
      ports: [{ name: "80-http", protocol: "TCP", port: 80, targetPort: "http", nodePort: 30080 }],
      selector: { app: "np" },
      type: "NodePort",
    },
    status: { loadBalancer: {} },
  },
  "create-service-externalname": {
    kind: "Service",
    apiVersion: "v1",
    metadata: { name: "ext", ...createdBy, labels: { app: "ext" } },
    spec: { selector: { app: "ext" }, type: "ExternalName", externalName: "example.com" },
    status: { loadBalancer: {} },
  },
  "create-quota": {
    kind: "ResourceQuota",
    apiVersion: "v1",
    metadata: { name: "q", ...createdBy },
    spec: { hard: { pods: "10", "requests.cpu": "500m" }, scopes: ["NotBestEffort"] },
    status: {},
  },
};

/** Commands kubectl 1.32 sends as JSON all the same (observed; see the fixtures). */
const sentAsJson = ["create-from-file-lease", "delete-configmap"];

describe("kubectl fixtures", () => {
  test("every fixture is accounted for", () => {
    assert.deepEqual([...fixtures.keys()].sort(), [...Object.keys(expected), ...sentAsJson].sort());
  });

  for (const [name, want] of Object.entries(expected)) {
    test(`${name}: kubectl 1.32's protobuf body decodes to the full object`, () => {
      const fixture = fixtures.get(name);
      assert.ok(fixture, `fixture ${name}.json`);
      const req = only(fixture.requests, name);
      assert.equal(req.contentType, "application/vnd.kubernetes.protobuf");
      assert.match(req.userAgent, /^kubectl\/v1\.32\./);
      const decoded = decodeProtobufBody(bodyOf(req));
      assert.equal(decoded.apiVersion, want["apiVersion"]);
      assert.equal(decoded.kind, want["kind"]);
      assert.deepStrictEqual(decoded.object, want);
    });

    test(`${name}: is byte for byte the JSON kubectl 1.31 sends for the same command`, () => {
      const fixture = fixtures.get(name);
      assert.ok(fixture);
      const json = only(fixture.jsonRequests, name);
      assert.equal(json.contentType, "application/json");
      assert.match(json.userAgent, /v1\.31\./);
      const decoded = decodeProtobufBody(bodyOf(only(fixture.requests, name)));
      // Same keys in the same order, too: Go writes struct fields in declaration order.
      assert.equal(JSON.stringify(decoded.object), bodyOf(json).toString("utf8").trim());
    });

    test(`${name}: the schema knows every field kubectl sent`, () => {
      // protobufjs drops unknown fields, so re-encoding reproduces the bytes only if none were.
      const fixture = fixtures.get(name);
      assert.ok(fixture);
      const body = bodyOf(only(fixture.requests, name)).subarray(protobufMagic.length);
      const envelope = Unknown.decode(body) as unknown as {
        typeMeta: { apiVersion: string; kind: string };
        raw: Uint8Array;
      };
      const messageName = kindMessages[envelope.typeMeta.apiVersion]?.[envelope.typeMeta.kind];
      assert.ok(messageName);
      const type = kubernetesRoot.lookupType(messageName);
      assert.deepEqual(
        Buffer.from(type.encode(type.decode(envelope.raw)).finish()),
        Buffer.from(envelope.raw),
      );
      assert.deepEqual(Buffer.from(Unknown.encode(Unknown.decode(body)).finish()), Buffer.from(body));
    });
  }

  for (const name of sentAsJson) {
    test(`${name}: kubectl 1.32 sends JSON`, () => {
      const fixture = fixtures.get(name);
      assert.ok(fixture);
      const req = only(fixture.requests, name);
      assert.equal(req.contentType, "application/json");
      assert.doesNotThrow(() => JSON.parse(bodyOf(req).toString("utf8")) as unknown);
    });
  }
});

// ---- round trips: objects encoded here with the same descriptors, then decoded ----

const Unknown = kubernetesRoot.lookupType(unknownMessage);

function encodeBody(
  apiVersion: string,
  kind: string,
  messageName: string,
  value: Record<string, unknown>,
): Buffer {
  const type = kubernetesRoot.lookupType(messageName);
  const problem = type.verify(value);
  assert.equal(problem, null, `${messageName}: ${problem ?? ""}`);
  const raw = type.encode(type.fromObject(value)).finish();
  const envelope = Unknown.encode(
    Unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: "", contentType: "" }),
  ).finish();
  return Buffer.concat([protobufMagic, envelope]);
}

/** Encodes `value` as kind `kind` of `apiVersion` (message found through the kind table). */
function roundTrip(
  apiVersion: string,
  kind: string,
  value: Record<string, unknown>,
  messageName?: string,
): Record<string, unknown> {
  const name = messageName ?? kindMessages[apiVersion]?.[kind];
  assert.ok(name, `${apiVersion} ${kind} is in the kind table`);
  const decoded = decodeProtobufBody(encodeBody(apiVersion, kind, name, value));
  assert.equal(decoded.apiVersion, apiVersion);
  assert.equal(decoded.kind, kind);
  return decoded.object;
}

const meta = "k8s.io.apimachinery.pkg.apis.meta.v1";
// 2024-01-02T03:04:05Z
const t0 = 1704164645;
const bytes = (...xs: number[]): Buffer => Buffer.from(xs);

/** The metadata a gogo-protobuf client sends for a fresh object: every value field, zero or not. */
const wireMetadata = (name: string) => ({
  name,
  generateName: "",
  namespace: "",
  selfLink: "",
  uid: "",
  resourceVersion: "",
  generation: 0,
  creationTimestamp: {},
});

describe("round trips", () => {
  test("ObjectMeta, every field", () => {
    const object = roundTrip("v1", "ConfigMap", {
      metadata: {
        name: "c",
        generateName: "c-",
        namespace: "ns",
        selfLink: "/api/v1/namespaces/ns/configmaps/c",
        uid: "8d3e4f5a-0000-4000-8000-000000000000",
        resourceVersion: "42",
        generation: 2 ** 40,
        creationTimestamp: { seconds: t0, nanos: 999_999_999 },
        deletionTimestamp: { seconds: t0 + 60 },
        deletionGracePeriodSeconds: 0,
        labels: { b: "2", a: "1" },
        annotations: { "example.com/note": "" },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: "d",
            uid: "u1",
            controller: true,
            blockOwnerDeletion: false,
          },
          { apiVersion: "v1", kind: "Pod", name: "p", uid: "u2" },
        ],
        finalizers: ["example.com/a", "example.com/b"],
        managedFields: [
          {
            manager: "kubectl-create",
            operation: "Update",
            apiVersion: "v1",
            time: { seconds: t0 },
            fieldsType: "FieldsV1",
            fieldsV1: { Raw: Buffer.from('{"f:data":{".":{},"f:a":{}}}') },
            subresource: "",
          },
          { manager: "m", operation: "Apply", fieldsV1: {} },
        ],
      },
    });
    assert.deepStrictEqual(object, {
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: {
        name: "c",
        generateName: "c-",
        namespace: "ns",
        selfLink: "/api/v1/namespaces/ns/configmaps/c",
        uid: "8d3e4f5a-0000-4000-8000-000000000000",
        resourceVersion: "42",
        generation: 2 ** 40,
        // metav1.Time keeps whole seconds only.
        creationTimestamp: "2024-01-02T03:04:05Z",
        deletionTimestamp: "2024-01-02T03:05:05Z",
        // A pointer: zero is sent, and kept.
        deletionGracePeriodSeconds: 0,
        labels: { a: "1", b: "2" },
        annotations: { "example.com/note": "" },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: "d",
            uid: "u1",
            controller: true,
            blockOwnerDeletion: false,
          },
          { apiVersion: "v1", kind: "Pod", name: "p", uid: "u2" },
        ],
        finalizers: ["example.com/a", "example.com/b"],
        managedFields: [
          {
            manager: "kubectl-create",
            operation: "Update",
            apiVersion: "v1",
            time: "2024-01-02T03:04:05Z",
            fieldsType: "FieldsV1",
            fieldsV1: { "f:data": { ".": {}, "f:a": {} } },
          },
          { manager: "m", operation: "Apply", fieldsV1: null },
        ],
      },
    });
    // Go writes map keys sorted.
    assert.deepEqual(Object.keys((object["metadata"] as { labels: object }).labels), ["a", "b"]);
  });

  test("ObjectMeta: the zero values a Go client always sends are left out, the creation time is null", () => {
    assert.deepStrictEqual(roundTrip("v1", "ServiceAccount", { metadata: wireMetadata("sa") }), {
      kind: "ServiceAccount",
      apiVersion: "v1",
      metadata: { name: "sa", creationTimestamp: null },
    });
    // Without the field at all, the value struct is still written, as Go does.
    assert.deepStrictEqual(roundTrip("v1", "ServiceAccount", {}), {
      kind: "ServiceAccount",
      apiVersion: "v1",
      metadata: { creationTimestamp: null },
    });
  });

  test("ConfigMap: data, binaryData, immutable", () => {
    assert.deepStrictEqual(
      roundTrip("v1", "ConfigMap", {
        metadata: wireMetadata("c"),
        immutable: true,
        data: { "x.txt": "hello\nworld", empty: "" },
        binaryData: { "b.bin": bytes(0, 1, 2, 0xff), none: bytes() },
      }),
      {
        kind: "ConfigMap",
        apiVersion: "v1",
        metadata: { name: "c", creationTimestamp: null },
        immutable: true,
        data: { empty: "", "x.txt": "hello\nworld" },
        binaryData: { "b.bin": "AAEC/w==", none: "" },
      },
    );
  });

  test("Secret: data as base64, stringData, type, immutable false", () => {
    assert.deepStrictEqual(
      roundTrip("v1", "Secret", {
        metadata: wireMetadata("s"),
        immutable: false,
        data: { "tls.key": Buffer.from("-----BEGIN KEY-----"), bin: bytes(0xfb, 0xff) },
        stringData: { password: "hunter2" },
        type: "kubernetes.io/tls",
      }),
      {
        kind: "Secret",
        apiVersion: "v1",
        metadata: { name: "s", creationTimestamp: null },
        immutable: false,
        data: { bin: "+/8=", "tls.key": Buffer.from("-----BEGIN KEY-----").toString("base64") },
        stringData: { password: "hunter2" },
        type: "kubernetes.io/tls",
      },
    );
  });

  test("Namespace: spec.finalizers, status phase and conditions", () => {
    assert.deepStrictEqual(
      roundTrip("v1", "Namespace", {
        metadata: wireMetadata("n"),
        spec: { finalizers: ["kubernetes"] },
        status: {
          phase: "Terminating",
          conditions: [
            {
              type: "NamespaceDeletionContentFailure",
              status: "False",
              lastTransitionTime: { seconds: t0 },
              reason: "ContentDeleted",
              message: "",
            },
            { type: "X", status: "", lastTransitionTime: {} },
          ],
        },
      }),
      {
        kind: "Namespace",
        apiVersion: "v1",
        metadata: { name: "n", creationTimestamp: null },
        spec: { finalizers: ["kubernetes"] },
        status: {
          phase: "Terminating",
          conditions: [
            {
              type: "NamespaceDeletionContentFailure",
              status: "False",
              lastTransitionTime: "2024-01-02T03:04:05Z",
              reason: "ContentDeleted",
            },
            { type: "X", status: "", lastTransitionTime: null },
          ],
        },
      },
    );
  });

  test("ServiceAccount: secrets, imagePullSecrets, automountServiceAccountToken", () => {
    assert.deepStrictEqual(
      roundTrip("v1", "ServiceAccount", {
        metadata: wireMetadata("sa"),
        secrets: [
          {
            kind: "Secret",
            name: "tok",
            namespace: "",
            uid: "",
            apiVersion: "",
            resourceVersion: "",
            fieldPath: "",
          },
        ],
        imagePullSecrets: [{ name: "reg" }, { name: "" }],
        automountServiceAccountToken: false,
      }),
      {
        kind: "ServiceAccount",
        apiVersion: "v1",
        metadata: { name: "sa", creationTimestamp: null },
        secrets: [{ kind: "Secret", name: "tok" }],
        imagePullSecrets: [{ name: "reg" }, {}],
        automountServiceAccountToken: false,
      },
    );
  });

  test("SelfSubjectAccessReview: resource attributes with field and label selectors", () => {
    assert.deepStrictEqual(
      roundTrip("authorization.k8s.io/v1", "SelfSubjectAccessReview", {
        metadata: wireMetadata(""),
        spec: {
          resourceAttributes: {
            namespace: "default",
            verb: "list",
            group: "apps",
            version: "v1",
            resource: "deployments",
            subresource: "",
            name: "",
            fieldSelector: {
              rawSelector: "metadata.name=x",
              requirements: [{ key: "metadata.name", operator: "In", values: ["x", "y"] }],
            },
            labelSelector: {
              rawSelector: "",
              requirements: [{ key: "app", operator: "Exists", values: [] }],
            },
          },
        },
        status: { allowed: false, reason: "", evaluationError: "", denied: false },
      }),
      {
        kind: "SelfSubjectAccessReview",
        apiVersion: "authorization.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec: {
          resourceAttributes: {
            namespace: "default",
            verb: "list",
            group: "apps",
            version: "v1",
            resource: "deployments",
            fieldSelector: {
              rawSelector: "metadata.name=x",
              requirements: [{ key: "metadata.name", operator: "In", values: ["x", "y"] }],
            },
            labelSelector: { requirements: [{ key: "app", operator: "Exists" }] },
          },
        },
        status: { allowed: false },
      },
    );
  });

  test("SubjectAccessReview: user, groups, extra, uid, non-resource attributes, status", () => {
    assert.deepStrictEqual(
      roundTrip("authorization.k8s.io/v1", "SubjectAccessReview", {
        metadata: wireMetadata(""),
        spec: {
          nonResourceAttributes: { path: "/metrics", verb: "get" },
          user: "alice",
          groups: ["devs", "system:authenticated"],
          extra: { "scopes.example.com": { items: ["a", "b"] }, empty: { items: [] } },
          uid: "u-1",
        },
        status: {
          allowed: true,
          denied: false,
          reason: "RBAC: allowed by ClusterRoleBinding",
          evaluationError: "",
        },
      }),
      {
        kind: "SubjectAccessReview",
        apiVersion: "authorization.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec: {
          nonResourceAttributes: { path: "/metrics", verb: "get" },
          user: "alice",
          groups: ["devs", "system:authenticated"],
          // An ExtraValue with no items is a nil []string: null.
          extra: { empty: null, "scopes.example.com": ["a", "b"] },
          uid: "u-1",
        },
        status: { allowed: true, reason: "RBAC: allowed by ClusterRoleBinding" },
      },
    );
  });

  test("LocalSubjectAccessReview: spec is always written", () => {
    assert.deepStrictEqual(
      roundTrip("authorization.k8s.io/v1", "LocalSubjectAccessReview", {
        metadata: { ...wireMetadata(""), namespace: "ns" },
        spec: { resourceAttributes: { namespace: "ns", verb: "get", resource: "pods" }, user: "bob" },
      }),
      {
        kind: "LocalSubjectAccessReview",
        apiVersion: "authorization.k8s.io/v1",
        metadata: { namespace: "ns", creationTimestamp: null },
        spec: { resourceAttributes: { namespace: "ns", verb: "get", resource: "pods" }, user: "bob" },
        status: { allowed: false },
      },
    );
  });

  test("SelfSubjectRulesReview: status rules", () => {
    assert.deepStrictEqual(
      roundTrip("authorization.k8s.io/v1", "SelfSubjectRulesReview", {
        metadata: wireMetadata(""),
        spec: { namespace: "ns" },
        status: {
          resourceRules: [
            { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["p"] },
            { verbs: [], apiGroups: [], resources: [], resourceNames: [] },
          ],
          nonResourceRules: [{ verbs: ["get"], nonResourceURLs: ["/api", "/api/*"] }],
          incomplete: true,
          evaluationError: "webhook unavailable",
        },
      }),
      {
        kind: "SelfSubjectRulesReview",
        apiVersion: "authorization.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec: { namespace: "ns" },
        status: {
          resourceRules: [
            { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["p"] },
            { verbs: null },
          ],
          nonResourceRules: [{ verbs: ["get"], nonResourceURLs: ["/api", "/api/*"] }],
          incomplete: true,
          evaluationError: "webhook unavailable",
        },
      },
    );
  });

  test("SelfSubjectReview: user info with extra", () => {
    assert.deepStrictEqual(
      roundTrip("authentication.k8s.io/v1", "SelfSubjectReview", {
        metadata: wireMetadata(""),
        status: {
          userInfo: {
            username: "alice",
            uid: "1",
            groups: ["g"],
            extra: { "authentication.kubernetes.io/credential-id": { items: ["X509SHA256=ab"] } },
          },
        },
      }),
      {
        kind: "SelfSubjectReview",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { creationTimestamp: null },
        status: {
          userInfo: {
            username: "alice",
            uid: "1",
            groups: ["g"],
            extra: { "authentication.kubernetes.io/credential-id": ["X509SHA256=ab"] },
          },
        },
      },
    );
  });

  test("TokenReview: spec and status", () => {
    assert.deepStrictEqual(
      roundTrip("authentication.k8s.io/v1", "TokenReview", {
        metadata: wireMetadata(""),
        spec: { token: "abc.def.ghi", audiences: ["https://kubernetes.default.svc"] },
        status: {
          authenticated: true,
          user: {
            username: "system:serviceaccount:default:sa",
            uid: "u",
            groups: ["system:serviceaccounts"],
          },
          audiences: ["https://kubernetes.default.svc"],
          error: "",
        },
      }),
      {
        kind: "TokenReview",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec: { token: "abc.def.ghi", audiences: ["https://kubernetes.default.svc"] },
        status: {
          authenticated: true,
          user: {
            username: "system:serviceaccount:default:sa",
            uid: "u",
            groups: ["system:serviceaccounts"],
          },
          audiences: ["https://kubernetes.default.svc"],
        },
      },
    );
    // An empty review: spec is written (no omitempty), status and user are Go values.
    assert.deepStrictEqual(roundTrip("authentication.k8s.io/v1", "TokenReview", {}), {
      kind: "TokenReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec: {},
      status: { user: {} },
    });
  });

  test("TokenRequest: audiences, expirationSeconds, boundObjectRef (uID is uid), status time", () => {
    assert.deepStrictEqual(
      roundTrip("authentication.k8s.io/v1", "TokenRequest", {
        metadata: { ...wireMetadata("sa"), namespace: "default" },
        spec: {
          audiences: ["api", "vault"],
          expirationSeconds: 3600,
          boundObjectRef: { kind: "Secret", apiVersion: "v1", name: "s", uID: "uid-1" },
        },
        status: { token: "t", expirationTimestamp: { seconds: t0 } },
      }),
      {
        kind: "TokenRequest",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { name: "sa", namespace: "default", creationTimestamp: null },
        spec: {
          audiences: ["api", "vault"],
          expirationSeconds: 3600,
          boundObjectRef: { kind: "Secret", apiVersion: "v1", name: "s", uid: "uid-1" },
        },
        status: { token: "t", expirationTimestamp: "2024-01-02T03:04:05Z" },
      },
    );
  });

  test("DeleteOptions: in any group version", () => {
    const options = {
      gracePeriodSeconds: 0,
      preconditions: { uid: "u", resourceVersion: "7" },
      propagationPolicy: "Foreground",
      dryRun: ["All"],
    };
    const want = {
      gracePeriodSeconds: 0,
      preconditions: { uid: "u", resourceVersion: "7" },
      propagationPolicy: "Foreground",
      dryRun: ["All"],
    };
    for (const apiVersion of ["v1", "apps/v1", "meta.k8s.io/v1"]) {
      assert.deepStrictEqual(roundTrip(apiVersion, "DeleteOptions", options, `${meta}.DeleteOptions`), {
        kind: "DeleteOptions",
        apiVersion,
        ...want,
      });
    }
    assert.deepStrictEqual(
      roundTrip(
        "v1",
        "DeleteOptions",
        { orphanDependents: false, ignoreStoreReadErrorWithClusterBreakingPotential: true },
        `${meta}.DeleteOptions`,
      ),
      {
        kind: "DeleteOptions",
        apiVersion: "v1",
        orphanDependents: false,
        ignoreStoreReadErrorWithClusterBreakingPotential: true,
      },
    );
  });

  test("Role and RoleBinding", () => {
    assert.deepStrictEqual(
      roundTrip("rbac.authorization.k8s.io/v1", "Role", {
        metadata: { ...wireMetadata("r"), namespace: "ns" },
        rules: [
          { verbs: ["*"], apiGroups: ["", "apps"], resources: ["*"], resourceNames: [], nonResourceURLs: [] },
        ],
      }),
      {
        kind: "Role",
        apiVersion: "rbac.authorization.k8s.io/v1",
        metadata: { name: "r", namespace: "ns", creationTimestamp: null },
        rules: [{ verbs: ["*"], apiGroups: ["", "apps"], resources: ["*"] }],
      },
    );
    assert.deepStrictEqual(
      roundTrip("rbac.authorization.k8s.io/v1", "RoleBinding", {
        metadata: wireMetadata("rb"),
        subjects: [{ kind: "ServiceAccount", apiGroup: "", name: "sa", namespace: "ns" }],
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
      }),
      {
        kind: "RoleBinding",
        apiVersion: "rbac.authorization.k8s.io/v1",
        metadata: { name: "rb", creationTimestamp: null },
        subjects: [{ kind: "ServiceAccount", name: "sa", namespace: "ns" }],
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" },
      },
    );
    // No subjects and no roleRef on the wire: subjects left out, roleRef's strings written empty.
    assert.deepStrictEqual(roundTrip("rbac.authorization.k8s.io/v1", "RoleBinding", {}), {
      kind: "RoleBinding",
      apiVersion: "rbac.authorization.k8s.io/v1",
      metadata: { creationTimestamp: null },
      roleRef: { apiGroup: "", kind: "", name: "" },
    });
  });

  test("ClusterRole with an aggregation rule, and ClusterRoleBinding", () => {
    assert.deepStrictEqual(
      roundTrip("rbac.authorization.k8s.io/v1", "ClusterRole", {
        metadata: wireMetadata("admin"),
        rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }],
        aggregationRule: {
          clusterRoleSelectors: [
            { matchLabels: { "rbac.example.com/aggregate-to-admin": "true" } },
            {
              matchExpressions: [
                { key: "tier", operator: "In", values: ["a", "b"] },
                { key: "x", operator: "DoesNotExist" },
              ],
            },
            {},
          ],
        },
      }),
      {
        kind: "ClusterRole",
        apiVersion: "rbac.authorization.k8s.io/v1",
        metadata: { name: "admin", creationTimestamp: null },
        rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }],
        aggregationRule: {
          clusterRoleSelectors: [
            { matchLabels: { "rbac.example.com/aggregate-to-admin": "true" } },
            {
              matchExpressions: [
                { key: "tier", operator: "In", values: ["a", "b"] },
                { key: "x", operator: "DoesNotExist" },
              ],
            },
            {},
          ],
        },
      },
    );
    assert.deepStrictEqual(
      roundTrip("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", {
        metadata: wireMetadata("crb"),
        subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:masters" }],
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      }),
      {
        kind: "ClusterRoleBinding",
        apiVersion: "rbac.authorization.k8s.io/v1",
        metadata: { name: "crb", creationTimestamp: null },
        subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:masters" }],
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      },
    );
  });

  test("Lease: MicroTime keeps microseconds", () => {
    assert.deepStrictEqual(
      roundTrip("coordination.k8s.io/v1", "Lease", {
        metadata: { ...wireMetadata("l"), namespace: "kube-node-lease" },
        spec: {
          holderIdentity: "node-1",
          leaseDurationSeconds: 40,
          acquireTime: { seconds: t0, nanos: 123_456_789 },
          renewTime: { seconds: t0, nanos: 0 },
          leaseTransitions: 0,
          strategy: "OldestEmulationVersion",
          preferredHolder: "",
        },
      }),
      {
        kind: "Lease",
        apiVersion: "coordination.k8s.io/v1",
        metadata: { name: "l", namespace: "kube-node-lease", creationTimestamp: null },
        spec: {
          holderIdentity: "node-1",
          leaseDurationSeconds: 40,
          acquireTime: "2024-01-02T03:04:05.123456Z",
          renewTime: "2024-01-02T03:04:05.000000Z",
          leaseTransitions: 0,
          strategy: "OldestEmulationVersion",
          preferredHolder: "",
        },
      },
    );
    assert.deepStrictEqual(roundTrip("coordination.k8s.io/v1", "Lease", { spec: {} }), {
      kind: "Lease",
      apiVersion: "coordination.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec: {},
    });
  });

  test("Service: ports with int and named target ports, selector, status", () => {
    assert.deepStrictEqual(
      roundTrip("v1", "Service", {
        metadata: wireMetadata("web"),
        spec: {
          ports: [
            {
              name: "http",
              protocol: "TCP",
              appProtocol: "http",
              port: 80,
              targetPort: { type: 1, intVal: 0, strVal: "web" },
              nodePort: 0,
            },
            {
              name: "dns",
              protocol: "UDP",
              port: 53,
              targetPort: { type: 0, intVal: 5353, strVal: "" },
              nodePort: 30053,
            },
            { port: 0 },
          ],
          selector: { app: "web" },
          clusterIP: "10.0.0.10",
          clusterIPs: ["10.0.0.10", "fd00::a"],
          type: "LoadBalancer",
          externalIPs: [],
          sessionAffinity: "ClientIP",
          loadBalancerIP: "",
          loadBalancerSourceRanges: ["10.0.0.0/8"],
          externalName: "",
          externalTrafficPolicy: "Local",
          healthCheckNodePort: 32000,
          publishNotReadyAddresses: false,
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
          ipFamilies: ["IPv4", "IPv6"],
          ipFamilyPolicy: "PreferDualStack",
          allocateLoadBalancerNodePorts: false,
          loadBalancerClass: "example.com/lb",
          internalTrafficPolicy: "Cluster",
          trafficDistribution: "PreferClose",
        },
        status: {
          loadBalancer: {
            ingress: [
              {
                ip: "203.0.113.1",
                hostname: "",
                ipMode: "VIP",
                ports: [{ port: 80, protocol: "TCP", error: "" }],
              },
            ],
          },
          conditions: [
            {
              type: "Ready",
              status: "True",
              observedGeneration: 3,
              lastTransitionTime: { seconds: t0 },
              reason: "Provisioned",
              message: "",
            },
          ],
        },
      }),
      {
        kind: "Service",
        apiVersion: "v1",
        metadata: { name: "web", creationTimestamp: null },
        spec: {
          ports: [
            { name: "http", protocol: "TCP", appProtocol: "http", port: 80, targetPort: "web" },
            { name: "dns", protocol: "UDP", port: 53, targetPort: 5353, nodePort: 30053 },
            { port: 0, targetPort: 0 },
          ],
          selector: { app: "web" },
          clusterIP: "10.0.0.10",
          clusterIPs: ["10.0.0.10", "fd00::a"],
          type: "LoadBalancer",
          sessionAffinity: "ClientIP",
          loadBalancerSourceRanges: ["10.0.0.0/8"],
          externalTrafficPolicy: "Local",
          healthCheckNodePort: 32000,
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
          ipFamilies: ["IPv4", "IPv6"],
          ipFamilyPolicy: "PreferDualStack",
          allocateLoadBalancerNodePorts: false,
          loadBalancerClass: "example.com/lb",
          internalTrafficPolicy: "Cluster",
          trafficDistribution: "PreferClose",
        },
        status: {
          loadBalancer: {
            ingress: [
              { ip: "203.0.113.1", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP", error: "" }] },
            ],
          },
          conditions: [
            {
              type: "Ready",
              status: "True",
              observedGeneration: 3,
              lastTransitionTime: "2024-01-02T03:04:05Z",
              reason: "Provisioned",
              message: "",
            },
          ],
        },
      },
    );
  });

  test("ResourceQuota: quantities, scope selector, status", () => {
    assert.deepStrictEqual(
      roundTrip("v1", "ResourceQuota", {
        metadata: wireMetadata("q"),
        spec: {
          hard: { "requests.memory": { string: "1Gi" }, pods: { string: "10" }, cpu: {} },
          scopes: ["Terminating"],
          scopeSelector: {
            matchExpressions: [
              { scopeName: "PriorityClass", operator: "In", values: ["high"] },
              { scopeName: "BestEffort", operator: "Exists" },
            ],
          },
        },
        status: { hard: { pods: { string: "10" } }, used: { pods: { string: "3" } } },
      }),
      {
        kind: "ResourceQuota",
        apiVersion: "v1",
        metadata: { name: "q", creationTimestamp: null },
        spec: {
          // An empty Quantity is Go's zero Quantity: "0".
          hard: { cpu: "0", pods: "10", "requests.memory": "1Gi" },
          scopes: ["Terminating"],
          scopeSelector: {
            matchExpressions: [
              { scopeName: "PriorityClass", operator: "In", values: ["high"] },
              { scopeName: "BestEffort", operator: "Exists" },
            ],
          },
        },
        status: { hard: { pods: "10" }, used: { pods: "3" } },
      },
    );
  });

  test("LimitRange: limits with every quantity map", () => {
    assert.deepStrictEqual(
      roundTrip("v1", "LimitRange", {
        metadata: wireMetadata("lr"),
        spec: {
          limits: [
            {
              type: "Container",
              max: { cpu: { string: "2" } },
              min: { cpu: { string: "100m" } },
              default: { memory: { string: "512Mi" } },
              defaultRequest: { memory: { string: "256Mi" } },
              maxLimitRequestRatio: { cpu: { string: "4" } },
            },
            { type: "" },
          ],
        },
      }),
      {
        kind: "LimitRange",
        apiVersion: "v1",
        metadata: { name: "lr", creationTimestamp: null },
        spec: {
          limits: [
            {
              type: "Container",
              max: { cpu: "2" },
              min: { cpu: "100m" },
              default: { memory: "512Mi" },
              defaultRequest: { memory: "256Mi" },
              maxLimitRequestRatio: { cpu: "4" },
            },
            { type: "" },
          ],
        },
      },
    );
    // limits has no omitempty: an empty list is null.
    assert.deepStrictEqual(roundTrip("v1", "LimitRange", { spec: {} }), {
      kind: "LimitRange",
      apiVersion: "v1",
      metadata: { creationTimestamp: null },
      spec: { limits: null },
    });
  });

  test("Event: times, micro time, series, references", () => {
    assert.deepStrictEqual(
      roundTrip("v1", "Event", {
        metadata: { ...wireMetadata("pod.17a"), namespace: "default" },
        involvedObject: {
          kind: "Pod",
          namespace: "default",
          name: "pod",
          uid: "u",
          apiVersion: "v1",
          resourceVersion: "5",
          fieldPath: "spec.containers{app}",
        },
        reason: "Pulled",
        message: "Successfully pulled image",
        source: { component: "kubelet", host: "node-1" },
        firstTimestamp: { seconds: t0 },
        lastTimestamp: { seconds: t0 + 3600 },
        count: 2,
        type: "Normal",
        eventTime: { seconds: t0, nanos: 500_000 },
        series: { count: 2, lastObservedTime: { seconds: t0 + 1, nanos: 7_000 } },
        action: "Pulling",
        related: { kind: "Node", name: "node-1" },
        reportingComponent: "kubelet",
        reportingInstance: "node-1",
      }),
      {
        kind: "Event",
        apiVersion: "v1",
        metadata: { name: "pod.17a", namespace: "default", creationTimestamp: null },
        involvedObject: {
          kind: "Pod",
          namespace: "default",
          name: "pod",
          uid: "u",
          apiVersion: "v1",
          resourceVersion: "5",
          fieldPath: "spec.containers{app}",
        },
        reason: "Pulled",
        message: "Successfully pulled image",
        source: { component: "kubelet", host: "node-1" },
        firstTimestamp: "2024-01-02T03:04:05Z",
        lastTimestamp: "2024-01-02T04:04:05Z",
        count: 2,
        type: "Normal",
        eventTime: "2024-01-02T03:04:05.000500Z",
        series: { count: 2, lastObservedTime: "2024-01-02T03:04:06.000007Z" },
        action: "Pulling",
        related: { kind: "Node", name: "node-1" },
        reportingComponent: "kubelet",
        reportingInstance: "node-1",
      },
    );
    // What a fresh core/v1 Event looks like in Go's JSON: value structs and the tags without omitempty.
    assert.deepStrictEqual(roundTrip("v1", "Event", {}), {
      kind: "Event",
      apiVersion: "v1",
      metadata: { creationTimestamp: null },
      involvedObject: {},
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: null,
      reportingComponent: "",
      reportingInstance: "",
    });
  });

  test("times: Go's zero time and an empty message are null; nanoseconds normalize like time.Unix", () => {
    const lease = (renewTime: Record<string, unknown>): unknown =>
      (
        roundTrip("coordination.k8s.io/v1", "Lease", { spec: { renewTime } })["spec"] as {
          renewTime: unknown;
        }
      ).renewTime;
    assert.equal(lease({}), null);
    assert.equal(lease({ seconds: -62135596800 }), null);
    assert.equal(lease({ seconds: 0 }), "1970-01-01T00:00:00.000000Z");
    assert.equal(lease({ seconds: t0, nanos: -1000 }), "2024-01-02T03:04:04.999999Z");
    assert.equal(lease({ seconds: t0, nanos: 1_500_000_000 }), "2024-01-02T03:04:06.500000Z");
    assert.equal(lease({ seconds: -1 }), "1969-12-31T23:59:59.000000Z");
    assert.equal(lease({ seconds: 253402300799, nanos: 999_999_999 }), "9999-12-31T23:59:59.999999Z");
    const created = (creationTimestamp: Record<string, unknown>): unknown =>
      (
        roundTrip("v1", "ConfigMap", { metadata: { creationTimestamp } })["metadata"] as {
          creationTimestamp: unknown;
        }
      ).creationTimestamp;
    assert.equal(created({ seconds: t0, nanos: 999_999_999 }), "2024-01-02T03:04:05Z");
    assert.equal(created({ seconds: -62135596800 }), null);
    assert.equal(created({ seconds: -62135596799 }), "0001-01-01T00:00:01Z");
  });
});

// ---- bodies that must be refused with a 400, never a crash ----

function assertBadRequest(fn: () => unknown, message?: RegExp): StatusError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(isStatusError(thrown), `expected a StatusError, got ${String(thrown)}`);
  assert.equal(thrown.code, 400);
  assert.equal(thrown.reason, "BadRequest");
  assert.equal(thrown.status.kind, "Status");
  if (message !== undefined) assert.match(thrown.message, message);
  return thrown;
}

const configMapBody = bodyOf(only(fixtures.get("create-configmap")?.requests ?? [], "create-configmap"));

function envelopeBody(fields: Record<string, unknown>): Buffer {
  return Buffer.concat([protobufMagic, Unknown.encode(Unknown.fromObject(fields)).finish()]);
}

describe("malformed bodies", () => {
  test("no magic, wrong magic, JSON sent as protobuf, empty", () => {
    assertBadRequest(() => decodeProtobufBody(new Uint8Array()), /prefix "k8s\\x00" \(got an empty body\)/);
    assertBadRequest(() => decodeProtobufBody(bytes(0x6b, 0x38)), /prefix/);
    assertBadRequest(
      () => decodeProtobufBody(Buffer.concat([bytes(0x6b, 0x38, 0x73, 0x01), configMapBody.subarray(4)])),
      /0x 6b 38 73 01/,
    );
    assertBadRequest(() => decodeProtobufBody(Buffer.from('{"kind":"ConfigMap"}')), /prefix/);
  });

  test("every truncation of a real body is decoded or refused with a 400", () => {
    let refused = 0;
    for (let n = 0; n < configMapBody.length; n++) {
      try {
        decodeProtobufBody(configMapBody.subarray(0, n));
      } catch (err) {
        assert.ok(isStatusError(err) && err.code === 400, `length ${n}: ${String(err)}`);
        refused++;
      }
    }
    assert.ok(refused > configMapBody.length / 2, `most truncations are refused (${refused})`);
    assertBadRequest(
      () => decodeProtobufBody(configMapBody.subarray(0, configMapBody.length - 10)),
      /malformed/,
    );
  });

  test("random bytes after the magic, and random corruption of real bodies, never crash", () => {
    // A seeded xorshift, so a failure reproduces.
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const bodies = [...fixtures.values()]
      .flatMap((f) => f.requests)
      .filter((r) => r.contentType.includes("protobuf"))
      .map(bodyOf);
    for (let i = 0; i < 3000; i++) {
      let body: Buffer;
      if (i % 2 === 0) {
        body = Buffer.concat([
          protobufMagic,
          Buffer.from(Array.from({ length: next() % 64 }, () => next() & 0xff)),
        ]);
      } else {
        const base = bodies[next() % bodies.length] ?? configMapBody;
        body = Buffer.from(base);
        for (let k = 0; k < 1 + (next() % 4); k++) {
          const at = protobufMagic.length + (next() % (body.length - protobufMagic.length));
          body[at] = next() & 0xff;
        }
      }
      try {
        decodeProtobufBody(body);
      } catch (err) {
        assert.ok(
          isStatusError(err) && err.code === 400,
          `case ${i} (${body.toString("hex")}): ${String(err)}`,
        );
      }
    }
  });

  test("an invalid wire type", () => {
    assertBadRequest(
      () => decodeProtobufBody(Buffer.concat([protobufMagic, bytes(0x0f, 0x01)])),
      /malformed.*runtime\.Unknown/,
    );
  });

  test("an unknown kind, an unknown version of a known kind, no type at all", () => {
    const pod = envelopeBody({ typeMeta: { apiVersion: "v1", kind: "Pod" }, raw: bytes() });
    assertBadRequest(
      () => decodeProtobufBody(pod),
      /no protobuf decoding is available for kind "Pod" in "v1"/,
    );
    const beta = envelopeBody({
      typeMeta: { apiVersion: "authorization.k8s.io/v1beta1", kind: "SelfSubjectAccessReview" },
      raw: bytes(),
    });
    assertBadRequest(
      () => decodeProtobufBody(beta),
      /"SelfSubjectAccessReview" in "authorization\.k8s\.io\/v1beta1"/,
    );
    assertBadRequest(() => decodeProtobufBody(envelopeBody({ raw: bytes() })), /no apiVersion or kind/);
    assertBadRequest(() => decodeProtobufBody(protobufMagic), /no apiVersion or kind/);
  });

  test("an encoded or non-protobuf inner body", () => {
    const typeMeta = { apiVersion: "v1", kind: "ConfigMap" };
    assertBadRequest(
      () => decodeProtobufBody(envelopeBody({ typeMeta, raw: bytes(), contentEncoding: "gzip" })),
      /content encoding "gzip"/,
    );
    assertBadRequest(
      () =>
        decodeProtobufBody(
          envelopeBody({ typeMeta, raw: Buffer.from("{}"), contentType: "application/json" }),
        ),
      /inner content type/,
    );
  });

  test("a raw object that is not the kind's message", () => {
    const raw = Buffer.from([0x0a, 0x05, 0x0a, 0x03]); // metadata claims 5 bytes, 2 follow
    const body = envelopeBody({ typeMeta: { apiVersion: "v1", kind: "ConfigMap" }, raw });
    assertBadRequest(() => decodeProtobufBody(body), /cannot decode the ConfigMap \(v1\)/);
  });

  test("values Go itself refuses: fieldsV1 that is not JSON, an IntOrString of type 2, an empty quantity", () => {
    const cm = (metadata: Record<string, unknown>): Buffer =>
      encodeBody("v1", "ConfigMap", "k8s.io.api.core.v1.ConfigMap", { metadata });
    assertBadRequest(
      () => decodeProtobufBody(cm({ managedFields: [{ fieldsV1: { Raw: Buffer.from("{not json") } }] })),
      /fieldsV1 that is not JSON/,
    );
    const svc = encodeBody("v1", "Service", "k8s.io.api.core.v1.Service", {
      spec: { ports: [{ port: 1, targetPort: { type: 2 } }] },
    });
    assertBadRequest(() => decodeProtobufBody(svc), /IntOrString of unknown type 2/);
    const quota = encodeBody("v1", "ResourceQuota", "k8s.io.api.core.v1.ResourceQuota", {
      spec: { hard: { cpu: { string: "" } } },
    });
    assertBadRequest(() => decodeProtobufBody(quota), /quantities must match/);
    const far = encodeBody("v1", "ConfigMap", "k8s.io.api.core.v1.ConfigMap", {
      metadata: { creationTimestamp: { seconds: 253402300800 } },
    });
    assertBadRequest(() => decodeProtobufBody(far), /time out of range/);
  });
});
