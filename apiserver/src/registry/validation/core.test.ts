import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FieldError } from "../../apierrors/status.ts";
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateCoreEvent,
  validateLimitRange,
  validateNamespace,
  validateResourceQuota,
  validateResourceQuotaUpdate,
  validateSecret,
  validateSecretUpdate,
  validateService,
  validateServiceAccount,
} from "./core.ts";
import { configKeyMsg, dns1035Msg, flat, labelMsg, meta } from "./upstream-messages.testdata.ts";

type Row = [string, () => FieldError[], [string, string, string][]];
const run = (rows: Row[]): void => {
  for (const [name, fn, want] of rows) test(name, () => assert.deepEqual(flat(fn()), want));
};
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const updated = (o: Record<string, unknown>): Record<string, unknown> => ({
  ...o,
  metadata: meta({ resourceVersion: "1" }),
});

describe("ConfigMap", () => {
  run([
    [
      "valid",
      () => validateConfigMap({ metadata: meta(), data: { "key.name": "v" }, binaryData: { bin: b64("x") } }),
      [],
    ],
    [
      "bad data key",
      () => validateConfigMap({ metadata: meta(), data: { "a/b": "v" } }),
      [["FieldValueInvalid", "data[a/b]", `Invalid value: "a/b": ${configKeyMsg}`]],
    ],
    [
      "bad binaryData key",
      () => validateConfigMap({ metadata: meta(), binaryData: { "a b": b64("x") } }),
      [["FieldValueInvalid", "binaryData[a b]", `Invalid value: "a b": ${configKeyMsg}`]],
    ],
    [
      "key in both data and binaryData",
      () => validateConfigMap({ metadata: meta(), data: { k: "v" }, binaryData: { k: b64("x") } }),
      [["FieldValueInvalid", "data[k]", 'Invalid value: "k": duplicate of key present in binaryData']],
    ],
    [
      "over 1 MiB in total is reported on the nameless path",
      () =>
        validateConfigMap({
          metadata: meta(),
          data: { a: "x".repeat(1024 * 1024) },
          binaryData: { b: b64("x") },
        }),
      [["FieldValueTooLong", "[]", "Too long: may not be more than 1048576 bytes"]],
    ],
    [
      "binaryData that is not base64",
      () => validateConfigMap({ metadata: meta(), binaryData: { b: "eA" } }),
      [
        [
          "FieldValueInvalid",
          "binaryData[b]",
          'Invalid value: "<value omitted>": illegal base64 data at input byte 0',
        ],
      ],
    ],
    [
      "data that is not a map",
      () => validateConfigMap({ metadata: meta(), data: "x" }),
      [["FieldValueTypeInvalid", "data", 'Invalid value: "string": must be of type object']],
    ],
    [
      "immutable stays immutable, data stays put",
      () =>
        validateConfigMapUpdate(
          updated({ immutable: false, data: { a: "2" } }),
          updated({ immutable: true, data: { a: "1" } }),
        ),
      [
        ["FieldValueForbidden", "immutable", "Forbidden: field is immutable when `immutable` is set"],
        ["FieldValueForbidden", "data", "Forbidden: field is immutable when `immutable` is set"],
      ],
    ],
    [
      "an immutable ConfigMap may be relabelled",
      () =>
        validateConfigMapUpdate(
          updated({ immutable: true, data: { a: "1" } }),
          updated({ immutable: true, data: { a: "1" } }),
        ),
      [],
    ],
  ]);
});

describe("Secret", () => {
  const secret = (type: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    metadata: meta(),
    type,
    ...extra,
  });
  run([
    ["Opaque", () => validateSecret(secret("Opaque", { data: { a: b64("x") }, stringData: { b: "y" } })), []],
    [
      "data key",
      () => validateSecret(secret("Opaque", { stringData: { "no/slash": "y" } })),
      [["FieldValueInvalid", "data[no/slash]", `Invalid value: "no/slash": ${configKeyMsg}`]],
    ],
    [
      "data over 1 MiB",
      () => validateSecret(secret("Opaque", { data: { a: b64("x".repeat(1024 * 1024 + 1)) } })),
      [["FieldValueTooLong", "data", "Too long: may not be more than 1048576 bytes"]],
    ],
    [
      "data not base64",
      () => validateSecret(secret("Opaque", { data: { a: "aGVsbG8" } })),
      [
        [
          "FieldValueInvalid",
          "data[a]",
          'Invalid value: "<secret contents redacted>": illegal base64 data at input byte 4',
        ],
      ],
    ],
    [
      "service-account-token needs the service account name annotation",
      () => validateSecret(secret("kubernetes.io/service-account-token")),
      [["FieldValueRequired", "metadata.annotations[kubernetes.io/service-account.name]", "Required value"]],
    ],
    [
      "service-account-token with the annotation",
      () =>
        validateSecret({
          metadata: meta({ annotations: { "kubernetes.io/service-account.name": "default" } }),
          type: "kubernetes.io/service-account-token",
        }),
      [],
    ],
    [
      "dockercfg needs .dockercfg",
      () => validateSecret(secret("kubernetes.io/dockercfg")),
      [["FieldValueRequired", "data[.dockercfg]", "Required value"]],
    ],
    [
      "dockerconfigjson must be JSON",
      () =>
        validateSecret(
          secret("kubernetes.io/dockerconfigjson", { data: { ".dockerconfigjson": b64("{bad") } }),
        ),
      [
        [
          "FieldValueInvalid",
          "data[.dockerconfigjson]",
          "Invalid value: \"<secret contents redacted>\": invalid character 'b' looking for beginning of object key string",
        ],
      ],
    ],
    [
      "dockerconfigjson must be an object",
      () =>
        validateSecret(
          secret("kubernetes.io/dockerconfigjson", { stringData: { ".dockerconfigjson": "[]" } }),
        ),
      [
        [
          "FieldValueInvalid",
          "data[.dockerconfigjson]",
          'Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}',
        ],
      ],
    ],
    [
      "basic-auth needs a username or a password",
      () => validateSecret(secret("kubernetes.io/basic-auth")),
      [
        ["FieldValueRequired", "data[username]", "Required value"],
        ["FieldValueRequired", "data[password]", "Required value"],
      ],
    ],
    [
      "basic-auth with only a password",
      () => validateSecret(secret("kubernetes.io/basic-auth", { stringData: { password: "" } })),
      [],
    ],
    [
      "ssh-auth needs a non-empty private key",
      () => validateSecret(secret("kubernetes.io/ssh-auth", { data: { "ssh-privatekey": "" } })),
      [["FieldValueRequired", "data[ssh-privatekey]", "Required value"]],
    ],
    [
      "tls needs tls.crt and tls.key",
      () => validateSecret(secret("kubernetes.io/tls", { data: { "tls.crt": b64("c") } })),
      [["FieldValueRequired", "data[tls.key]", "Required value"]],
    ],
    [
      "bootstrap tokens: nothing beyond the common rules",
      () => validateSecret(secret("bootstrap.kubernetes.io/token")),
      [],
    ],
    [
      "type is immutable",
      () => validateSecretUpdate(updated(secret("Opaque")), updated(secret("kubernetes.io/tls"))),
      [["FieldValueInvalid", "type", 'Invalid value: "Opaque": field is immutable']],
    ],
    [
      "an immutable Secret keeps its data",
      () =>
        validateSecretUpdate(
          updated(secret("Opaque", { immutable: true, stringData: { a: "2" } })),
          updated(secret("Opaque", { immutable: true, data: { a: b64("1") } })),
        ),
      [["FieldValueForbidden", "data", "Forbidden: field is immutable when `immutable` is set"]],
    ],
  ]);
});

describe("Namespace, ServiceAccount, Event", () => {
  run([
    [
      "namespace names are labels; no namespace; finalizers",
      () =>
        validateNamespace({
          metadata: { name: "Bad", namespace: "x" },
          spec: { finalizers: ["kubernetes", "custom", "a.io/b"] },
        }),
      [
        ["FieldValueInvalid", "metadata.name", `Invalid value: "Bad": ${labelMsg}`],
        ["FieldValueForbidden", "metadata.namespace", "Forbidden: not allowed on this type"],
        [
          "FieldValueInvalid",
          "spec.finalizers",
          'Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
        ],
      ],
    ],
    ["service account", () => validateServiceAccount({ metadata: meta({ name: "builder.bot" }) }), []],
    [
      "legacy event: involved object namespace must match",
      () => validateCoreEvent({ metadata: meta(), involvedObject: { kind: "Pod", namespace: "other" } }),
      [
        [
          "FieldValueInvalid",
          "involvedObject.namespace",
          'Invalid value: "other": does not match event.namespace',
        ],
      ],
    ],
    [
      "new-style event through core/v1 needs reporting fields",
      () =>
        validateCoreEvent({
          metadata: meta(),
          involvedObject: { namespace: "default" },
          eventTime: "2024-01-01T00:00:00.000000Z",
          reportingComponent: "kubelet",
          reportingInstance: "node-1",
          action: "Pulled",
          reason: "x".repeat(129),
        }),
      [["FieldValueInvalid", "reason", 'Invalid value: "": can have at most 128 characters']],
    ],
  ]);
});

describe("Service", () => {
  const svc = (spec: Record<string, unknown>, name = "web"): Record<string, unknown> => ({
    metadata: meta({ name }),
    spec: { type: "ClusterIP", sessionAffinity: "None", ...spec },
  });
  const port = (p: Record<string, unknown>): Record<string, unknown> => ({
    port: 80,
    protocol: "TCP",
    targetPort: 8080,
    ...p,
  });
  run([
    ["valid", () => validateService(svc({ ports: [port({})], selector: { app: "web" } })), []],
    [
      "names are DNS-1035 labels",
      () => validateService(svc({ ports: [port({})] }, "1web")),
      [["FieldValueInvalid", "metadata.name", `Invalid value: "1web": ${dns1035Msg}`]],
    ],
    [
      "ports required",
      () => validateService(svc({})),
      [["FieldValueRequired", "spec.ports", "Required value"]],
    ],
    ["headless needs no ports", () => validateService(svc({ clusterIP: "None" })), []],
    [
      "type",
      () => validateService(svc({ type: "Foo", ports: [port({})] })),
      [
        [
          "FieldValueNotSupported",
          "spec.type",
          'Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
        ],
      ],
    ],
    [
      "ports: names, numbers, protocols, duplicates",
      () =>
        validateService(
          svc({
            ports: [
              port({ port: 0 }),
              port({ name: "a", protocol: "HTTP", targetPort: "Http" }),
              port({ name: "b", nodePort: 30000 }),
              port({ name: "c" }),
            ],
          }),
        ),
      [
        ["FieldValueRequired", "spec.ports[0].name", "Required value"],
        [
          "FieldValueInvalid",
          "spec.ports[0].port",
          "Invalid value: 0: must be between 1 and 65535, inclusive",
        ],
        [
          "FieldValueNotSupported",
          "spec.ports[1].protocol",
          'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        ],
        [
          "FieldValueInvalid",
          "spec.ports[1].targetPort",
          'Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        ],
        [
          "FieldValueForbidden",
          "spec.ports[2].nodePort",
          "Forbidden: may not be used when `type` is 'ClusterIP'",
        ],
        [
          "FieldValueDuplicate",
          "spec.ports[3]",
          'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
        ],
      ],
    ],
    [
      "ExternalName needs a DNS name",
      () => validateService(svc({ type: "ExternalName", externalName: "Example.com." })),
      [
        [
          "FieldValueInvalid",
          "spec.externalName",
          `Invalid value: "Example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
        ],
      ],
    ],
    [
      "LoadBalancer must say whether it allocates node ports",
      () => validateService(svc({ type: "LoadBalancer", ports: [port({})] })),
      [["FieldValueRequired", "allocateLoadBalancerNodePorts", "Required value"]],
    ],
  ]);
});

describe("ResourceQuota and LimitRange", () => {
  run([
    [
      "valid quota",
      () =>
        validateResourceQuota({
          metadata: meta(),
          spec: { hard: { pods: "10", "requests.cpu": "2", "count/deployments.apps": 5 } },
        }),
      [],
    ],
    [
      "quota keys and quantities",
      () =>
        validateResourceQuota({
          metadata: meta(),
          spec: { hard: { pods: "1500m", cpu: "-1", foo: "1", memory: "1Q" } },
        }),
      [
        // kube rejects an unparsable quantity while decoding; here it comes first, at its key.
        [
          "FieldValueInvalid",
          "spec.hard[memory]",
          "Invalid value: \"1Q\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ],
        [
          "FieldValueInvalid",
          "spec.hard[pods]",
          'Invalid value: resource.Quantity{i:resource.int64Amount{value:1500, scale:-3}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"1500m", Format:"DecimalSI"}: must be an integer',
        ],
        ["FieldValueInvalid", "spec.hard[cpu]", 'Invalid value: "-1": must be greater than or equal to 0'],
        [
          "FieldValueInvalid",
          "spec.hard[foo]",
          'Invalid value: "foo": must be a standard resource type or fully qualified',
        ],
        [
          "FieldValueInvalid",
          "spec.hard[foo]",
          'Invalid value: "foo": must be a standard resource for quota',
        ],
      ],
    ],
    [
      "conflicting scopes",
      () =>
        validateResourceQuota({
          metadata: meta(),
          spec: { hard: { pods: "1" }, scopes: ["Terminating", "NotTerminating"] },
        }),
      [
        [
          "FieldValueInvalid",
          "spec.scopes",
          'Invalid value: []core.ResourceQuotaScope{"Terminating", "NotTerminating"}: conflicting scopes',
        ],
      ],
    ],
    [
      "scopes are immutable",
      () =>
        validateResourceQuotaUpdate(
          { metadata: meta({ resourceVersion: "1" }), spec: { hard: { pods: "1" }, scopes: ["BestEffort"] } },
          { metadata: meta({ resourceVersion: "1" }), spec: { hard: { pods: "1" } } },
        ),
      [
        [
          "FieldValueInvalid",
          "spec.scopes",
          'Invalid value: []core.ResourceQuotaScope{"BestEffort"}: field is immutable',
        ],
      ],
    ],
    [
      "limit range types and ordering",
      () =>
        validateLimitRange({
          metadata: meta(),
          spec: {
            limits: [
              { type: "Container", max: { cpu: "1" }, min: { cpu: "2" } },
              { type: "Pod", default: { cpu: "1" } },
              { type: "Foo" },
              { type: "Pod" },
            ],
          },
        }),
      [
        [
          "FieldValueInvalid",
          "spec.limits[0].min[cpu]",
          'Invalid value: resource.Quantity{i:resource.int64Amount{value:2, scale:0}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"2", Format:"DecimalSI"}: min value 2 is greater than max value 1',
        ],
        [
          "FieldValueForbidden",
          "spec.limits[1].default",
          "Forbidden: may not be specified when `type` is 'Pod'",
        ],
        [
          "FieldValueInvalid",
          "spec.limits[2].type",
          'Invalid value: "Foo": must be a standard limit type or fully qualified',
        ],
        ["FieldValueDuplicate", "spec.limits[3].type", 'Duplicate value: "Pod"'],
      ],
    ],
    [
      "PVC limits need a storage bound",
      () => validateLimitRange({ metadata: meta(), spec: { limits: [{ type: "PersistentVolumeClaim" }] } }),
      [
        [
          "FieldValueRequired",
          "spec.limits[0].limits",
          "Required value: either minimum or maximum storage value is required, but neither was provided",
        ],
      ],
    ],
  ]);
});
