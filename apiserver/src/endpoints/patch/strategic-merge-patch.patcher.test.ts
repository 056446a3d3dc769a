import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { isStatusError, type Status } from "../../apierrors/status.ts";
import type { JsonObject } from "./json.types.ts";
import { patchMetaFromOpenAPI, type PatchMeta } from "./patch-meta.ts";
import {
  createCases,
  customCases,
  customRawCases,
  mergeItemSchemas,
  rawCases,
} from "./strategic-merge-patch.cases.ts";
import { applyStrategicMergePatch } from "./strategic-merge-patch.patcher.ts";

interface SmpCase {
  description: string;
  original?: JsonObject;
  twoWay: JsonObject;
  modified?: JsonObject;
  twoWayResult?: JsonObject;
  current?: JsonObject;
  threeWay?: JsonObject;
  result?: JsonObject;
  expectedError?: string;
  status?: Pick<Status, "code" | "reason" | "message">;
}

const mergeItem = patchMetaFromOpenAPI(mergeItemSchemas, "mergeItem");

/** The Status a call throws, as code/reason/message; fails if it does not throw one. */
function statusOf(fn: () => unknown): Pick<Status, "code" | "reason" | "message"> {
  try {
    fn();
  } catch (err) {
    assert.ok(isStatusError(err), `expected a StatusError, got ${String(err)}`);
    return { code: err.status.code, reason: err.status.reason, message: err.status.message };
  }
  assert.fail("expected an error");
}

function runCases(title: string, yaml: string, meta: PatchMeta): void {
  const cases = parse(yaml) as SmpCase[];
  describe(title, () => {
    for (const c of cases) {
      test(`${c.description} (two-way)`, () => {
        const original = c.original ?? {};
        const before = structuredClone(original);
        const patchBefore = structuredClone(c.twoWay);
        if (c.expectedError !== undefined) {
          const status = statusOf(() => applyStrategicMergePatch(original, JSON.stringify(c.twoWay), meta));
          assert.ok(status.message.includes(c.expectedError), status.message);
          if (c.status !== undefined) assert.deepEqual(status, c.status);
          return;
        }
        const got = applyStrategicMergePatch(original, c.twoWay, meta);
        assert.deepEqual(got, c.twoWayResult ?? c.modified);
        assert.deepEqual(original, before, "original mutated");
        assert.deepEqual(c.twoWay, patchBefore, "patch mutated");
      });
      if (c.threeWay !== undefined && c.result !== undefined) {
        const { threeWay, result } = c;
        test(`${c.description} (three-way)`, () => {
          const got = applyStrategicMergePatch(c.current ?? {}, Buffer.from(JSON.stringify(threeWay)), meta);
          assert.deepEqual(got, result);
        });
      }
    }
  });
}

runCases("strategic merge patch: upstream customStrategicMergePatchTestCaseData", customCases, mergeItem);
runCases("strategic merge patch: upstream customStrategicMergePatchRawTestCases", customRawCases, mergeItem);
runCases("strategic merge patch: upstream createStrategicMergePatchTestCaseData", createCases, mergeItem);
runCases("strategic merge patch: upstream strategicMergePatchRawTestCases", rawCases, mergeItem);

// Directives and errors upstream's tests check elsewhere or not at all, on the same schema.
runCases(
  "strategic merge patch: directives and errors",
  `
- description: $retainKeys on a map clears the keys it does not list
  original:
    retainKeysMap:
      name: foo
      value: a
      other: b
  twoWay:
    retainKeysMap:
      $retainKeys: [name, value]
      value: c
  modified:
    retainKeysMap:
      name: foo
      value: c
- description: $retainKeys must list every key the patch sets
  original:
    retainKeysMap:
      name: foo
  twoWay:
    retainKeysMap:
      $retainKeys: [name]
      value: c
  expectedError: retainKeys
  status: { code: 400, reason: BadRequest, message: invalid patch format of retainKeys }
- description: $retainKeys must be a list
  original:
    retainKeysMap:
      name: foo
  twoWay:
    retainKeysMap:
      $retainKeys: name
  expectedError: retainKeys
  status: { code: 400, reason: BadRequest, message: invalid patch format of retainKeys }
- description: $patch replace on a nested map
  original:
    simpleMap:
      key1: "1"
      key2: "2"
  twoWay:
    simpleMap:
      $patch: replace
      key3: "3"
  modified:
    simpleMap:
      key3: "3"
- description: a map with the replace strategy is replaced
  original:
    replacingItem:
      a: 1
      b: 2
  twoWay:
    replacingItem:
      a: 3
  modified:
    replacingItem:
      a: 3
- description: fields unknown to the schema merge maps and replace lists
  original:
    unknown:
      a: 1
      list: [1, 2]
  twoWay:
    unknown:
      b: 2
      list: [3]
  modified:
    unknown:
      a: 1
      b: 2
      list: [3]
- description: a field the patch adds loses its nulls and directives
  original: {}
  twoWay:
    simpleMap:
      a: null
      b: "1"
    mergingList:
      - name: 1
      - name: 2
        $patch: delete
  modified:
    simpleMap:
      b: "1"
    mergingList:
      - name: 1
- description: a new list element keeps its nulls, and comes before unanchored live items (upstream quirks)
  original:
    mergingList:
      - name: 1
  twoWay:
    mergingList:
      - name: 2
        value: null
  modified:
    mergingList:
      - name: 2
        value: null
      - name: 1
- description: $deleteFromPrimitiveList needs a slash after the prefix
  original:
    mergingIntList: [1]
  twoWay:
    $deleteFromPrimitiveListmergingIntList: [1]
  expectedError: primitive list
  status: { code: 400, reason: BadRequest, message: invalid patch format of primitive list }
- description: $setElementOrder needs a slash after the prefix
  original:
    mergingIntList: [1]
  twoWay:
    $setElementOrdermergingIntList: [1]
  expectedError: setElementOrder
  status: { code: 400, reason: BadRequest, message: invalid patch format of setElementOrder list }
- description: $setElementOrder must be a list
  original:
    mergingIntList: [1]
  twoWay:
    $setElementOrder/mergingIntList: one
  expectedError: expected a
  status: { code: 500, reason: "", message: "expected a []interface {}, but received a string" }
- description: $patch merge is not supported in lists
  original:
    mergingList:
      - name: 1
  twoWay:
    mergingList:
      - $patch: merge
  expectedError: cannot yet
  status: { code: 500, reason: "", message: merging lists cannot yet be specified in the patch }
- description: an unknown $patch directive in a map
  original:
    mergeItemPtr:
      name: x
  twoWay:
    mergeItemPtr:
      $patch: foo
      name: x
  expectedError: unknown patch type
  status: { code: 500, reason: "", message: "unknown patch type: foo in map: map[$patch:foo name:x]" }
- description: an unknown $patch directive in a list
  original:
    mergingList:
      - name: 1
  twoWay:
    mergingList:
      - $patch: 1
        name: 1
  expectedError: unknown patch type
  status: { code: 500, reason: "", message: "unknown patch type: %!s(int64=1) in map: map[$patch:1 name:1]" }
- description: $patch delete in a list needs the merge key
  original:
    mergingList:
      - name: 1
  twoWay:
    mergingList:
      - $patch: delete
        value: 1
  expectedError: merge key
  status: { code: 500, reason: "", message: "map: map[$patch:delete value:1] does not contain declared merge key: name" }
- description: merged lists of lists are refused with the generic 422
  original:
    mergingIntList: [[1]]
  twoWay:
    mergingIntList: [[2]]
  expectedError: the server rejected
  status: { code: 422, reason: Invalid, message: the server rejected our request due to an error in our request }
- description: merged list elements must share one type
  original:
    mergingIntList: [1]
  twoWay:
    mergingIntList: [a]
  expectedError: not identical
  status: { code: 500, reason: "", message: "list element types are not identical: [[1] [a]]" }
- description: a merged list of maps needs its merge key in the live list too
  original:
    mergingList:
      - value: 1
  twoWay:
    mergingList:
      - name: 2
  expectedError: merge key
  status: { code: 500, reason: "", message: "map: map[value:1] does not contain declared merge key: name" }
- description: $patch delete on the whole object
  original:
    name: 1
  twoWay:
    $patch: delete
  modified: {}
`,
  mergeItem,
);

/** A subset of kube's OpenAPI v3 components, shaped as /openapi/v3/api/v1 serves them. */
const builtinSchemas: Record<string, object> = {
  "io.k8s.api.core.v1.ConfigMap": {
    type: "object",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: {
        default: {},
        allOf: [{ $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" }],
      },
      data: { type: "object", additionalProperties: { type: "string", default: "" } },
      binaryData: { type: "object", additionalProperties: { type: "string", format: "byte" } },
    },
  },
  "io.k8s.api.core.v1.Pod": {
    type: "object",
    properties: {
      metadata: {
        default: {},
        allOf: [{ $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" }],
      },
      spec: { default: {}, allOf: [{ $ref: "#/components/schemas/io.k8s.api.core.v1.PodSpec" }] },
    },
  },
  "io.k8s.api.core.v1.PodSpec": {
    type: "object",
    properties: {
      containers: {
        type: "array",
        items: { default: {}, allOf: [{ $ref: "#/components/schemas/io.k8s.api.core.v1.Container" }] },
        "x-kubernetes-list-map-keys": ["name"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge",
      },
      volumes: {
        type: "array",
        items: { default: {}, allOf: [{ $ref: "#/components/schemas/io.k8s.api.core.v1.Volume" }] },
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge,retainKeys",
      },
      nodeSelector: { type: "object", additionalProperties: { type: "string", default: "" } },
    },
  },
  "io.k8s.api.core.v1.Container": {
    type: "object",
    properties: {
      name: { type: "string" },
      image: { type: "string" },
      args: { type: "array", items: { type: "string", default: "" } },
      env: {
        type: "array",
        items: { default: {}, allOf: [{ $ref: "#/components/schemas/io.k8s.api.core.v1.EnvVar" }] },
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge",
      },
      ports: {
        type: "array",
        items: { default: {}, allOf: [{ $ref: "#/components/schemas/io.k8s.api.core.v1.ContainerPort" }] },
        "x-kubernetes-patch-merge-key": "containerPort",
        "x-kubernetes-patch-strategy": "merge",
      },
    },
  },
  "io.k8s.api.core.v1.EnvVar": {
    type: "object",
    properties: { name: { type: "string" }, value: { type: "string" } },
  },
  "io.k8s.api.core.v1.ContainerPort": {
    type: "object",
    properties: {
      containerPort: { type: "integer" },
      name: { type: "string" },
      protocol: { type: "string" },
    },
  },
  "io.k8s.api.core.v1.Volume": {
    type: "object",
    properties: {
      name: { type: "string" },
      emptyDir: { type: "object" },
      hostPath: { type: "object", properties: { path: { type: "string" } } },
    },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
    type: "object",
    properties: {
      name: { type: "string" },
      labels: { type: "object", additionalProperties: { type: "string", default: "" } },
      finalizers: {
        type: "array",
        items: { type: "string", default: "" },
        "x-kubernetes-list-type": "set",
        "x-kubernetes-patch-strategy": "merge",
      },
      ownerReferences: {
        type: "array",
        items: {
          default: {},
          allOf: [{ $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference" }],
        },
        "x-kubernetes-list-map-keys": ["uid"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "uid",
        "x-kubernetes-patch-strategy": "merge",
      },
    },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": {
    type: "object",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      name: { type: "string" },
      uid: { type: "string" },
    },
  },
};

runCases(
  "strategic merge patch: ConfigMap",
  `
- description: data keys merge and null deletes one
  original:
    apiVersion: v1
    kind: ConfigMap
    metadata: { name: cm }
    data: { a: "1", b: "2" }
  twoWay:
    data: { b: null, c: "3" }
  modified:
    apiVersion: v1
    kind: ConfigMap
    metadata: { name: cm }
    data: { a: "1", c: "3" }
- description: finalizers (strategy merge) are merged, not replaced
  original:
    metadata: { name: cm, finalizers: [a, b] }
  twoWay:
    metadata: { finalizers: [b, c] }
  modified:
    metadata: { name: cm, finalizers: [a, b, c] }
- description: finalizers removed with $deleteFromPrimitiveList
  original:
    metadata: { name: cm, finalizers: [a, b] }
  twoWay:
    metadata:
      $deleteFromPrimitiveList/finalizers: [a]
  modified:
    metadata: { name: cm, finalizers: [b] }
- description: finalizers as kubectl patches them, order set by $setElementOrder
  original:
    metadata: { name: cm, finalizers: [a, b] }
  twoWay:
    metadata:
      $setElementOrder/finalizers: [c, b]
      $deleteFromPrimitiveList/finalizers: [a]
      finalizers: [c]
  modified:
    metadata: { name: cm, finalizers: [c, b] }
- description: ownerReferences merge by uid
  original:
    metadata:
      name: cm
      ownerReferences:
        - { uid: "1", kind: Deployment, name: a }
        - { uid: "2", kind: Deployment, name: b }
  twoWay:
    metadata:
      ownerReferences:
        - { uid: "2", name: b2 }
        - { uid: "3", kind: Job, name: c }
  modified:
    metadata:
      name: cm
      ownerReferences:
        - { uid: "1", kind: Deployment, name: a }
        - { uid: "2", kind: Deployment, name: b2 }
        - { uid: "3", kind: Job, name: c }
- description: ownerReferences deleted by uid with $patch delete
  original:
    metadata:
      name: cm
      ownerReferences:
        - { uid: "1", name: a }
        - { uid: "2", name: b }
  twoWay:
    metadata:
      ownerReferences:
        - { uid: "1", $patch: delete }
  modified:
    metadata:
      name: cm
      ownerReferences:
        - { uid: "2", name: b }
- description: an ownerReference without its uid
  original:
    metadata:
      name: cm
      ownerReferences:
        - { uid: "1", name: a }
  twoWay:
    metadata:
      ownerReferences:
        - { name: x }
  expectedError: merge key
  status: { code: 500, reason: "", message: "map: map[name:x] does not contain declared merge key: uid" }
- description: labels replaced with $patch replace
  original:
    metadata: { name: cm, labels: { a: "1", b: "2" } }
  twoWay:
    metadata:
      labels: { $patch: replace, c: "3" }
  modified:
    metadata: { name: cm, labels: { c: "3" } }
`,
  patchMetaFromOpenAPI(builtinSchemas, "io.k8s.api.core.v1.ConfigMap"),
);

runCases(
  "strategic merge patch: Pod",
  `
- description: containers merge by name, env by name, ports by containerPort; args replaced
  original:
    spec:
      containers:
        - name: app
          image: app:1
          args: [a, b]
          env:
            - { name: A, value: "1" }
            - { name: B, value: "2" }
          ports:
            - { containerPort: 80, name: http }
        - name: sidecar
          image: side:1
  twoWay:
    spec:
      containers:
        - name: app
          image: app:2
          args: [c]
          env:
            - { name: B, value: "3" }
            - { name: C, value: "4" }
          ports:
            - { containerPort: 443, name: https }
  modified:
    spec:
      containers:
        - name: app
          image: app:2
          args: [c]
          env:
            - { name: A, value: "1" }
            - { name: B, value: "3" }
            - { name: C, value: "4" }
          # Nothing in the patch anchors the live port, so the patch's comes first.
          ports:
            - { containerPort: 443, name: https }
            - { containerPort: 80, name: http }
        - name: sidecar
          image: side:1
- description: a container deleted and one added, order set by $setElementOrder
  original:
    spec:
      containers:
        - { name: a, image: a }
        - { name: b, image: b }
  twoWay:
    spec:
      $setElementOrder/containers:
        - name: c
        - name: b
      containers:
        - { name: c, image: c }
        - { name: a, $patch: delete }
  modified:
    spec:
      containers:
        - { name: c, image: c }
        - { name: b, image: b }
- description: a volume's source switched with $retainKeys (merge,retainKeys)
  original:
    spec:
      volumes:
        - name: data
          emptyDir: {}
  twoWay:
    spec:
      volumes:
        - name: data
          $retainKeys: [hostPath, name]
          hostPath: { path: /srv }
  modified:
    spec:
      volumes:
        - name: data
          hostPath: { path: /srv }
- description: nodeSelector (a plain map) replaced entry by entry
  original:
    spec:
      nodeSelector: { zone: a, disk: ssd }
  twoWay:
    spec:
      nodeSelector: { zone: b, disk: null }
  modified:
    spec:
      nodeSelector: { zone: b }
`,
  patchMetaFromOpenAPI(builtinSchemas, "io.k8s.api.core.v1.Pod"),
);

describe("strategic merge patch: request bodies", () => {
  const meta = patchMetaFromOpenAPI(builtinSchemas, "io.k8s.api.core.v1.ConfigMap");
  const cm = { metadata: { name: "cm" }, data: { a: "1" } };
  const cases: [string, string, Pick<Status, "code" | "reason" | "message">][] = [
    ["not JSON", "{", { code: 400, reason: "BadRequest", message: "unexpected end of JSON input" }],
    [
      "a syntax error",
      '{"data": nope}',
      { code: 400, reason: "BadRequest", message: "invalid character 'o' in literal null (expecting 'u')" },
    ],
    [
      "an array",
      "[]",
      {
        code: 400,
        reason: "BadRequest",
        message: "json: cannot unmarshal array into Go value of type map[string]interface {}",
      },
    ],
    [
      "a string",
      '"x"',
      {
        code: 400,
        reason: "BadRequest",
        message: "json: cannot unmarshal string into Go value of type map[string]interface {}",
      },
    ],
  ];
  for (const [name, body, want] of cases) {
    test(name, () =>
      assert.deepEqual(
        statusOf(() => applyStrategicMergePatch(cm, body, meta)),
        want,
      ),
    );
  }
  test("null changes nothing", () => assert.deepEqual(applyStrategicMergePatch(cm, "null", meta), cm));
  test("a Buffer body", () =>
    assert.deepEqual(applyStrategicMergePatch(cm, Buffer.from('{"data":{"b":"2"}}'), meta), {
      metadata: { name: "cm" },
      data: { a: "1", b: "2" },
    }));
  test("the 422 carries empty details", () => {
    try {
      applyStrategicMergePatch(
        { a: [[1]] },
        { a: [[2]] },
        patchMetaFromOpenAPI(
          { T: { properties: { a: { type: "array", "x-kubernetes-patch-strategy": "merge" } } } },
          "T",
        ),
      );
      assert.fail("expected an error");
    } catch (err) {
      assert.ok(isStatusError(err));
      assert.deepEqual(err.status, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "the server rejected our request due to an error in our request",
        reason: "Invalid",
        details: {},
        code: 422,
      });
    }
  });
});
