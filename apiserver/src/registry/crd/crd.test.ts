// Unit tests of custom resource validation, defaulting, pruning and CEL rules, and of CRD
// validation and naming, against upstream's paths and messages (v1.32).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FieldError } from "../../apierrors/status.ts";
import { calculateNames } from "./crd.reconcile.ts";
import { crdStrategy } from "./crd.strategy.ts";
import { customResourceStrategy } from "./cr.strategy.ts";
import { escapeName } from "./cel.ts";
import { pruneAndDefault, pruneUnknown } from "./pruning.ts";
import type { JSONSchemaProps } from "./schema.ts";
import { validateStructural } from "./structural.ts";
import { FieldPath } from "./schema.ts";
import type { KubeObject } from "../printers.ts";

const schema: JSONSchemaProps = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      required: ["size"],
      "x-kubernetes-validations": [
        { rule: "self.replicas <= self.maxReplicas", message: "replicas must not exceed maxReplicas" },
        {
          rule: "!has(self.name) || self.name.startsWith('w')",
          messageExpression: "'bad name ' + self.name",
        },
        {
          rule: "self.replicas == oldSelf.replicas || self.replicas > oldSelf.replicas",
          message: "no scaling down",
        },
      ],
      properties: {
        size: { type: "string", enum: ["small", "large"] },
        replicas: { type: "integer", minimum: 0, maximum: 50, default: 1 },
        maxReplicas: { type: "integer", default: 10 },
        ratio: { type: "number", exclusiveMinimum: true, minimum: 0 },
        name: { type: "string", minLength: 2, maxLength: 8, pattern: "^[a-z]+$" },
        when: { type: "string", format: "date-time" },
        port: { "x-kubernetes-int-or-string": true },
        tags: {
          type: "array",
          items: { type: "string" },
          maxItems: 3,
          minItems: 1,
          "x-kubernetes-list-type": "set",
        },
        ports: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          items: {
            type: "object",
            required: ["name"],
            properties: { name: { type: "string" }, port: { type: "integer", default: 80 } },
          },
        },
        labels: { type: "object", additionalProperties: { type: "string" }, maxProperties: 2 },
        nullableNote: { type: "string", nullable: true },
        note: { type: "string" },
        extra: {
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
          properties: { known: { type: "integer" } },
        },
        template: {
          type: "object",
          "x-kubernetes-embedded-resource": true,
          "x-kubernetes-preserve-unknown-fields": true,
        },
        mode: { type: "string", default: "auto" },
        nested: { type: "object", default: {}, properties: { level: { type: "integer", default: 3 } } },
      },
    },
    status: { type: "object", properties: { phase: { type: "string" } } },
  },
};

const strategy = customResourceStrategy({
  group: "example.com",
  kind: "Widget",
  version: "v1",
  namespaced: true,
  schema,
  statusSubresource: true,
  scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" },
  terminating: false,
});

const widget = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "example.com/v1",
  kind: "Widget",
  metadata: {
    name: "w",
    namespace: "default",
    uid: "u",
    creationTimestamp: "2024-01-01T00:00:00Z",
    generation: 1,
  },
  spec: { size: "small", ...spec },
});

const lines = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${e.detail}`);

function validateCreate(spec: Record<string, unknown>): string[] {
  const obj = widget(spec);
  strategy.prepareForCreate!(obj);
  return lines(strategy.validate!(obj));
}

describe("custom resource schema validation", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["a valid object", { replicas: 2 }, []],
    [
      "wrong type",
      { replicas: "three" },
      [
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        ".spec.replicas: Invalid value: 0: .spec.replicas accessor error: three is of the type string, expected int64",
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      ],
    ],
    ["an integral float is an integer", { replicas: 2.0 }, []],
    [
      "a number where a string is wanted",
      { note: 5 },
      [
        'spec.note: Invalid value: "integer": spec.note in body must be of type string: "integer"',
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      ],
    ],
    ["required", { size: undefined }, ["spec.size: Required value"]],
    ["enum", { size: "huge" }, ['spec.size: Unsupported value: "huge": supported values: "small", "large"']],
    [
      "maximum",
      { replicas: 60, maxReplicas: 100 },
      ["spec.replicas: Invalid value: 60: spec.replicas in body should be less than or equal to 50"],
    ],
    [
      "minimum",
      { replicas: -1 },
      [
        "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
        ".spec.replicas: Invalid value: -1: should be a non-negative integer",
      ],
    ],
    [
      "exclusive minimum",
      { ratio: 0 },
      ["spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0"],
    ],
    [
      "minLength",
      { name: "w" },
      ['spec.name: Invalid value: "w": spec.name in body should be at least 2 chars long'],
    ],
    ["maxLength", { name: "wwwwwwwwww" }, ["spec.name: Too long: may not be more than 8 bytes"]],
    [
      "pattern",
      { name: "wA" },
      ["spec.name: Invalid value: \"wA\": spec.name in body should match '^[a-z]+$'"],
    ],
    [
      "format date-time",
      { when: "yesterday" },
      [
        'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      ],
    ],
    ["a valid date-time", { when: "2024-05-01T10:00:00Z" }, []],
    ["int-or-string as int", { port: 80 }, []],
    ["int-or-string as string", { port: "http" }, []],
    [
      "int-or-string as bool",
      { port: true },
      [
        'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      ],
    ],
    ["maxItems", { tags: ["a", "b", "c", "d"] }, ["spec.tags: Too many: 4: must have at most 3 items"]],
    [
      "minItems",
      { tags: [] },
      ["spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"],
    ],
    ["list-type set duplicates", { tags: ["a", "a"] }, ['spec.tags[1]: Duplicate value: "a"']],
    [
      "list-type map duplicates",
      { ports: [{ name: "a" }, { name: "a", port: 81 }] },
      ['spec.ports[1]: Duplicate value: map[string]interface {}{"name":"a"}'],
    ],
    ["item required", { ports: [{ port: 1 }] }, ["spec.ports[0].name: Required value"]],
    [
      "maxProperties",
      { labels: { a: "1", b: "2", c: "3" } },
      ["spec.labels: Too many: 3: must have at most 2 items"],
    ],
    [
      "additionalProperties type",
      { labels: { a: 1 } },
      [
        'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      ],
    ],
    ["nullable accepts null", { nullableNote: null }, []],
    [
      "embedded resource requires apiVersion and kind",
      { template: { metadata: { name: "x" } } },
      [
        "spec.template.apiVersion: Required value: must not be empty",
        "spec.template.kind: Required value: must not be empty",
      ],
    ],
    [
      "embedded resource kind",
      { template: { apiVersion: "v1", kind: "Pod_x" } },
      [
        `spec.template.kind: Invalid value: "Pod_x": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      ],
    ],
  ];
  for (const [name, spec, want] of cases) {
    test(name, () => {
      const s = { ...spec };
      for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
      const obj = widget(s);
      if ("size" in spec && spec["size"] === undefined)
        delete (obj["spec"] as Record<string, unknown>)["size"];
      strategy.prepareForCreate!(obj);
      assert.deepEqual(lines(strategy.validate!(obj)), want);
    });
  }

  test("metadata is validated as ObjectMeta", () => {
    const obj = widget({});
    obj.metadata!.labels = { "bad key!": "x" };
    strategy.prepareForCreate!(obj);
    assert.match(lines(strategy.validate!(obj)).join("\n"), /^metadata\.labels: Invalid value: "bad key!"/);
  });
});

describe("CEL rules", () => {
  test("a failed rule reports its message at the rule's node with the node's type", () => {
    assert.deepEqual(validateCreate({ replicas: 20 }), [
      'spec: Invalid value: "object": replicas must not exceed maxReplicas',
    ]);
  });
  test("messageExpression gives the message", () => {
    assert.deepEqual(validateCreate({ name: "abc" }), ['spec: Invalid value: "object": bad name abc']);
  });
  test("transition rules run only on update, with oldSelf", () => {
    const old = widget({ replicas: 5 });
    strategy.prepareForCreate!(old);
    assert.deepEqual(lines(strategy.validate!(old)), []);
    const next = widget({ replicas: 3 });
    strategy.prepareForUpdate!(next, old);
    assert.deepEqual(lines(strategy.validate!(next, old)), [
      'spec: Invalid value: "object": no scaling down',
    ]);
  });
  test("a rule without a message reports the rule; reason and fieldPath are honoured", () => {
    const s: JSONSchemaProps = {
      type: "object",
      "x-kubernetes-validations": [
        { rule: "self.spec.a > 0" },
        {
          rule: "self.spec.a > 1",
          message: "a too small",
          reason: "FieldValueForbidden",
          fieldPath: ".spec.a",
        },
        { rule: "self.metadata.name.startsWith('x')", message: "name must start with x" },
      ],
      properties: { spec: { type: "object", properties: { a: { type: "integer" } } } },
    };
    const st = customResourceStrategy({
      group: "g.io",
      kind: "K",
      version: "v1",
      namespaced: false,
      schema: s,
      statusSubresource: false,
      scale: undefined,
      terminating: false,
    });
    const obj: KubeObject = { apiVersion: "g.io/v1", kind: "K", metadata: { name: "w" }, spec: { a: 0 } };
    assert.deepEqual(lines(st.validate!(obj)), [
      '<nil>: Invalid value: "object": failed rule: self.spec.a > 0',
      "spec.a: Forbidden: a too small",
      '<nil>: Invalid value: "object": name must start with x',
    ]);
  });
  test("runtime errors are reported with the rule", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: {
        spec: {
          type: "object",
          "x-kubernetes-validations": [{ rule: "self.a / self.b > 0" }],
          properties: { a: { type: "integer" }, b: { type: "integer" } },
        },
      },
    };
    const st = customResourceStrategy({
      group: "g.io",
      kind: "K",
      version: "v1",
      namespaced: false,
      schema: s,
      statusSubresource: false,
      scale: undefined,
      terminating: false,
    });
    const obj: KubeObject = {
      apiVersion: "g.io/v1",
      kind: "K",
      metadata: { name: "w" },
      spec: { a: 1, b: 0 },
    };
    assert.deepEqual(lines(st.validate!(obj)), [
      'spec: Invalid value: "object": division by zero evaluating rule: self.a / self.b > 0',
    ]);
  });
  test("rules use the IP, CIDR and format libraries", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: {
        spec: {
          type: "object",
          "x-kubernetes-validations": [
            { rule: "cidr(self.net).containsIP(self.addr)", message: "addr outside net" },
            {
              rule: "!format.dns1123Label().validate(self.host).hasValue()",
              messageExpression: "format.dns1123Label().validate(self.host).value().join(', ')",
            },
            { rule: "ip(self.addr).family() == 4" },
          ],
          properties: { net: { type: "string" }, addr: { type: "string" }, host: { type: "string" } },
        },
      },
    };
    const st = customResourceStrategy({
      group: "g.io",
      kind: "K",
      version: "v1",
      namespaced: false,
      schema: s,
      statusSubresource: false,
      scale: undefined,
      terminating: false,
    });
    const obj = (spec: Record<string, string>): KubeObject => ({
      apiVersion: "g.io/v1",
      kind: "K",
      metadata: { name: "w" },
      spec,
    });
    assert.deepEqual(lines(st.validate!(obj({ net: "10.0.0.0/8", addr: "10.1.2.3", host: "web" }))), []);
    assert.deepEqual(lines(st.validate!(obj({ net: "10.0.0.0/8", addr: "::ffff:10.1.2.3", host: "Web" }))), [
      "spec: Invalid value: \"object\": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: addr outside net",
      "spec: Invalid value: \"object\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      'spec: Invalid value: "object": IPv4-mapped IPv6 address "::ffff:10.1.2.3" is not allowed evaluating rule: ip(self.addr).family() == 4',
    ]);
  });
  test("Kubernetes list, regex and string functions are available", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: {
        spec: {
          type: "object",
          "x-kubernetes-validations": [
            { rule: "self.xs.isSorted() && self.xs.sum() == 6 && self.xs.min() == 1 && self.xs.max() == 3" },
            { rule: "self.s.find('[0-9]+') == '42' && self.s.findAll('[a-z]') == ['a', 'b']" },
            {
              rule: "self.s.lowerAscii().upperAscii() == 'A42B' && self.s.replace('42', '') == 'ab' && self.s.charAt(0) == 'a'",
            },
            {
              rule: "self.s.matches('^a[0-9]+b$') && size(self.s) == 4 && self.xs.exists(x, x == 2) && self.xs.all(x, x > 0)",
            },
            { rule: "self.?missing.orValue('d') == 'd' && !has(self.missing)" },
          ],
          properties: {
            xs: { type: "array", items: { type: "integer" } },
            s: { type: "string" },
            missing: { type: "string" },
          },
        },
      },
    };
    const st = customResourceStrategy({
      group: "g.io",
      kind: "K",
      version: "v1",
      namespaced: false,
      schema: s,
      statusSubresource: false,
      scale: undefined,
      terminating: false,
    });
    const obj: KubeObject = {
      apiVersion: "g.io/v1",
      kind: "K",
      metadata: { name: "w" },
      spec: { xs: [1, 2, 3], s: "a42b" },
    };
    assert.deepEqual(lines(st.validate!(obj)), []);
  });
  test("optionalOldSelf rules also run on create", () => {
    const s: JSONSchemaProps = {
      type: "object",
      properties: {
        spec: {
          type: "object",
          "x-kubernetes-validations": [
            {
              rule: "!oldSelf.hasValue() || self.v >= oldSelf.value().v",
              optionalOldSelf: true,
              message: "v decreased",
            },
            { rule: "oldSelf.hasValue()", optionalOldSelf: true, message: "create" },
          ],
          properties: { v: { type: "integer" } },
        },
      },
    };
    const st = customResourceStrategy({
      group: "g.io",
      kind: "K",
      version: "v1",
      namespaced: false,
      schema: s,
      statusSubresource: false,
      scale: undefined,
      terminating: false,
    });
    const obj: KubeObject = {
      apiVersion: "g.io/v1",
      kind: "K",
      metadata: { name: "w", resourceVersion: "1" },
      spec: { v: 1 },
    };
    assert.deepEqual(lines(st.validate!(obj)), ['spec: Invalid value: "object": create']);
    const next: KubeObject = { ...obj, spec: { v: 0 } };
    assert.deepEqual(lines(st.validate!(next, obj)), ['spec: Invalid value: "object": v decreased']);
  });
  test("names are escaped as upstream does", () => {
    assert.equal(escapeName("foo-bar"), "foo__dash__bar");
    assert.equal(escapeName("namespace"), "__namespace__");
    assert.equal(escapeName("a.b/c"), "a__dot__b__slash__c");
    assert.equal(escapeName("a__b"), "a__underscores__b");
    assert.equal(escapeName("1abc"), undefined);
    assert.equal(escapeName("a@b"), undefined);
  });
  test("creating an object of a terminating CRD is refused", () => {
    const st = customResourceStrategy({
      group: "g.io",
      kind: "K",
      version: "v1",
      namespaced: false,
      schema,
      statusSubresource: false,
      scale: undefined,
      terminating: true,
    });
    assert.throws(
      () => st.prepareForCreate!(widget({})),
      /create not allowed while custom resource definition is terminating/,
    );
  });
});

describe("defaulting and pruning", () => {
  test("defaults fill absent fields, nested objects and list items", () => {
    const obj = widget({ ports: [{ name: "a" }] });
    pruneAndDefault(obj, schema);
    assert.deepEqual(obj["spec"], {
      size: "small",
      ports: [{ name: "a", port: 80 }],
      replicas: 1,
      maxReplicas: 10,
      mode: "auto",
      nested: { level: 3 },
    });
  });
  test("a null replaced by its default; a null without default nor nullable dropped; nullable kept", () => {
    const obj = widget({ mode: null, note: null, nullableNote: null });
    pruneAndDefault(obj, schema);
    const spec = obj["spec"] as Record<string, unknown>;
    assert.equal(spec["mode"], "auto");
    assert.equal("note" in spec, false);
    assert.equal(spec["nullableNote"], null);
  });
  test("unknown fields are pruned and reported; metadata, apiVersion and kind are kept", () => {
    const obj: KubeObject = { ...widget({ bogus: 1, ports: [{ name: "a", x: 1 }] }), other: true };
    const unknown = pruneUnknown(obj, schema);
    assert.deepEqual(unknown, ["other", "spec.bogus", "spec.ports[0].x"]);
    assert.equal(obj.metadata?.name, "w");
    assert.equal("bogus" in (obj["spec"] as object), false);
  });
  test("x-kubernetes-preserve-unknown-fields keeps unknown fields but prunes declared ones inside", () => {
    const obj = widget({
      extra: { anything: { deep: 1 }, known: 1 },
      template: { apiVersion: "v1", kind: "Pod", spec: { x: 1 } },
    });
    assert.deepEqual(pruneUnknown(obj, schema), []);
    assert.deepEqual((obj["spec"] as Record<string, unknown>)["extra"], { anything: { deep: 1 }, known: 1 });
  });
  test("a /status write cannot change spec (the store keeps it) and status is pruned", () => {
    const obj = widget({});
    obj["status"] = { phase: "Ready", junk: 1 };
    strategy.prepareForUpdate!(obj, widget({}));
    assert.deepEqual(obj["status"], { phase: "Ready" });
  });
});

const crd = (over: Record<string, unknown> = {}, schemaOver?: JSONSchemaProps): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com", uid: "u", creationTimestamp: "2024-01-01T00:00:00Z" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", kind: "Widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: schemaOver ?? {
            type: "object",
            properties: { spec: { type: "object", properties: { a: { type: "integer" } } } },
          },
        },
      },
    ],
    ...over,
  },
});

function validateCRDCreate(obj: KubeObject): string[] {
  crdStrategy.prepareForCreate!(obj);
  return lines(crdStrategy.validate!(obj));
}

describe("CustomResourceDefinition validation", () => {
  test("a valid CRD is defaulted and has no errors", () => {
    const obj = crd();
    assert.deepEqual(validateCRDCreate(obj), []);
    const spec = obj["spec"] as { names: Record<string, string>; conversion: unknown };
    assert.equal(spec.names["singular"], "widget");
    assert.equal(spec.names["listKind"], "WidgetList");
    assert.deepEqual(spec.conversion, { strategy: "None" });
    assert.deepEqual(obj["status"], { acceptedNames: { kind: "", plural: "" }, storedVersions: ["v1"] });
    assert.deepEqual(obj.metadata?.finalizers, ["customresourcecleanup.apiextensions.k8s.io"]);
  });
  test("group, scope and names", () => {
    const obj = crd({
      group: "example",
      scope: "Everywhere",
      names: { plural: "Widgets", kind: "widget_x" },
    });
    obj.metadata!.name = "Widgets.example";
    const errs = validateCRDCreate(obj);
    assert.ok(
      errs.includes('spec.group: Invalid value: "example": should be a domain with at least one dot'),
      errs.join("\n"),
    );
    assert.ok(
      errs.includes('spec.scope: Unsupported value: "Everywhere": supported values: "Cluster", "Namespaced"'),
    );
    assert.ok(
      errs.some((e) => e.startsWith('spec.names.plural: Invalid value: "Widgets": a DNS-1035 label')),
    );
    assert.ok(
      errs.some((e) =>
        e.startsWith(
          'spec.names.kind: Invalid value: "widget_x": may have mixed case, but should otherwise match: a DNS-1035 label',
        ),
      ),
    );
  });
  test("the name must be <plural>.<group>", () => {
    const obj = crd();
    obj.metadata!.name = "gadgets.example.com";
    assert.deepEqual(validateCRDCreate(obj), [
      'metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group',
    ]);
  });
  test("exactly one storage version", () => {
    const obj = crd({
      versions: [
        { name: "v1", served: true, storage: false, schema: { openAPIV3Schema: { type: "object" } } },
      ],
    });
    const errs = validateCRDCreate(obj);
    assert.ok(
      errs.some(
        (e) =>
          e.startsWith("spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{") &&
          e.endsWith("must have exactly one version marked as storage version"),
      ),
      errs.join("\n"),
    );
  });
  test("a schema is required for every version", () => {
    const obj = crd({ versions: [{ name: "v1", served: true, storage: true }] });
    assert.ok(validateCRDCreate(obj).includes("spec.versions[0].schema.openAPIV3Schema: Required value"));
  });
  test("structural schema: missing types", () => {
    const obj = crd({}, { type: "object", properties: { spec: { properties: { a: {} } } } });
    assert.deepEqual(validateCRDCreate(obj), [
      "spec.validation.openAPIV3Schema.properties[spec].properties[a].type: Required value: must not be empty for specified object fields",
      "spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
    ]);
  });
  test("structural schema: root type, metadata and value validations", () => {
    const errs = validateCRDCreate(
      crd(
        {},
        {
          type: "object",
          properties: {
            metadata: { type: "object", properties: { labels: { type: "object" } } },
            spec: { type: "object" },
          },
          anyOf: [{ properties: { spec: { type: "object" } } }],
        },
      ),
    );
    assert.ok(
      errs.includes(
        "spec.validation.openAPIV3Schema.anyOf[0].properties[spec].type: Forbidden: must be empty to be structural",
      ),
      errs.join("\n"),
    );
    assert.ok(
      errs.includes(
        "spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
      ),
    );
  });
  test("defaults must validate and be pruned", () => {
    const errs = validateCRDCreate(
      crd(
        {},
        {
          type: "object",
          properties: {
            spec: {
              type: "object",
              properties: {
                a: { type: "integer", default: "x" },
                o: { type: "object", default: { b: 1 }, properties: {} },
              },
            },
          },
        },
      ),
    );
    assert.deepEqual(errs, [
      'spec.validation.openAPIV3Schema.properties[spec].properties[a].default: Invalid value: "string": spec.validation.openAPIV3Schema.properties[spec].properties[a].default in body must be of type integer: "string"',
      'spec.validation.openAPIV3Schema.properties[spec].properties[o].default: Invalid value: map[string]interface {}{"b":1}: must not have unknown fields',
    ]);
  });
  test("list-type map needs keys that are required or defaulted", () => {
    const errs = validateCRDCreate(
      crd(
        {},
        {
          type: "object",
          properties: {
            l: {
              type: "array",
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["k"],
              items: { type: "object", properties: { k: { type: "string" } } },
            },
          },
        },
      ),
    );
    assert.deepEqual(errs, [
      "spec.validation.openAPIV3Schema.properties[l].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
    ]);
  });
  test("CEL rules must compile", () => {
    const errs = validateCRDCreate(
      crd(
        {},
        {
          type: "object",
          "x-kubernetes-validations": [{ rule: "self.nope == 1" }, { rule: "self.spec +" }],
          properties: { spec: { type: "object", properties: { a: { type: "integer" } } } },
        },
      ),
    );
    assert.equal(errs.length, 2, errs.join("\n"));
    assert.match(
      errs[0]!,
      /^spec\.validation\.openAPIV3Schema\.x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.nope == 1".*compilation failed: ERROR: <input>:1:\d+: undefined field 'nope'/s,
    );
    assert.match(
      errs[1]!,
      /x-kubernetes-validations\[1\]\.rule: Invalid value: .*compilation failed: ERROR: <input>:1:\d+:/s,
    );
  });
  test("a rule whose estimated cost surely passes 100x the limit is refused; bounded lists are not", () => {
    const schema = (maxItems?: number): JSONSchemaProps => ({
      type: "object",
      properties: {
        l: {
          type: "array",
          ...(maxItems !== undefined ? { maxItems } : {}),
          items: { type: "string", maxLength: 8 },
          "x-kubernetes-validations": [
            { rule: "self.all(x, self.exists_one(y, x == y))" },
            { rule: "self.all(x, x.size() < 8)" },
          ],
        },
      },
    });
    const hint =
      "(try simplifying the rule(s), or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";
    const rule = "spec.validation.openAPIV3Schema.properties[l].x-kubernetes-validations[0].rule";
    assert.deepEqual(validateCRDCreate(crd({}, schema())), [
      `${rule}: Forbidden: estimated rule cost exceeds budget by factor of more than 100x ${hint}`,
      `${rule}: Forbidden: contributed to estimated rule & messageExpression cost total exceeding cost limit for entire OpenAPIv3 schema`,
      `${rule.replace("[0]", "[1]")}: Forbidden: contributed to estimated rule & messageExpression cost total exceeding cost limit for entire OpenAPIv3 schema`,
      `spec.validation.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule & messageExpression cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x ${hint}`,
    ]);
    assert.deepEqual(validateCRDCreate(crd({}, schema(100))), []);
  });
  test("a rule is charged once per element of the unbounded lists above it", () => {
    const schema = (maxItems?: number): JSONSchemaProps => ({
      type: "object",
      properties: {
        rows: {
          type: "array",
          ...(maxItems !== undefined ? { maxItems } : {}),
          items: {
            type: "array",
            maxItems: 100_000,
            items: { type: "integer" },
            "x-kubernetes-validations": [{ rule: "self.all(x, x >= 0)" }],
          },
        },
      },
    });
    const errs = validateCRDCreate(crd({}, schema()));
    assert.equal(errs.length, 3, errs.join("\n"));
    assert.match(
      errs[0]!,
      /properties\[rows\]\.items\.x-kubernetes-validations\[0\]\.rule: Forbidden: estimated rule cost/,
    );
    assert.deepEqual(validateCRDCreate(crd({}, schema(10))), []);
  });
  test("oldSelf on an uncorrelatable list item is refused; optionalOldSelf needs oldSelf", () => {
    const errs = validateCRDCreate(
      crd(
        {},
        {
          type: "object",
          properties: {
            l: {
              type: "array",
              items: { type: "string", "x-kubernetes-validations": [{ rule: "self == oldSelf" }] },
            },
            s: {
              type: "string",
              "x-kubernetes-validations": [{ rule: "self != ''", optionalOldSelf: true }],
            },
          },
        },
      ),
    );
    assert.deepEqual(errs, [
      'spec.validation.openAPIV3Schema.properties[l].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[l]',
      "spec.validation.openAPIV3Schema.properties[s].x-kubernetes-validations[0].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule",
    ]);
  });
  test("with a status subresource only certain root fields are allowed", () => {
    const obj = crd();
    const v = (obj["spec"] as { versions: Record<string, unknown>[] }).versions[0]!;
    v["subresources"] = {
      status: {},
      scale: { specReplicasPath: "spec.replicas", statusReplicasPath: ".status.replicas" },
    };
    (v["schema"] as { openAPIV3Schema: JSONSchemaProps }).openAPIV3Schema.type = "object";
    assert.deepEqual(validateCRDCreate(obj), [
      'spec.subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a simple json path starting with .',
    ]);
  });
  test("printer columns", () => {
    const obj = crd();
    (obj["spec"] as { versions: Record<string, unknown>[] }).versions[0]!["additionalPrinterColumns"] = [
      { name: "A", type: "str", jsonPath: ".spec.a" },
      { name: "B", type: "integer" },
    ];
    assert.deepEqual(validateCRDCreate(obj), [
      'spec.additionalPrinterColumns[0].type: Invalid value: "str": must be one of boolean,date,integer,number,string',
      "spec.additionalPrinterColumns[1].JSONPath: Required value",
    ]);
  });
  test("per-version schemas that differ are validated at their own paths", () => {
    const obj = crd({
      versions: [
        { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
        {
          name: "v2",
          served: true,
          storage: false,
          schema: { openAPIV3Schema: { type: "array", items: { type: "string" } } },
        },
      ],
    });
    assert.deepEqual(validateCRDCreate(obj), [
      'spec.versions[1].schema.openAPIV3Schema.type: Invalid value: "array": must be object at the root',
    ]);
  });
  test("group and plural are immutable; scope and kind once established", () => {
    const old = crd();
    crdStrategy.prepareForCreate!(old);
    (old["status"] as Record<string, unknown>)["conditions"] = [{ type: "Established", status: "True" }];
    old.metadata!.resourceVersion = "5";
    const next = structuredClone(old);
    (next["spec"] as Record<string, unknown>)["scope"] = "Cluster";
    crdStrategy.prepareForUpdate!(next, old);
    assert.deepEqual(lines(crdStrategy.validate!(next, old)), [
      'spec.scope: Invalid value: "Cluster": field is immutable',
    ]);
  });
  test("protected groups need an approval annotation", () => {
    const obj = crd({ group: "x.k8s.io" });
    obj.metadata!.name = "widgets.x.k8s.io";
    assert.deepEqual(validateCRDCreate(obj), [
      'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
    ]);
  });
  test("structural errors are sorted as upstream sorts them", () => {
    const errs = validateStructural(
      { type: "object", properties: { b: {}, a: { type: "array" } } },
      FieldPath.of("x"),
    );
    assert.deepEqual(lines(errs), [
      "x.properties[a].items: Required value: must be specified",
      "x.properties[b].type: Required value: must not be empty for specified object fields",
    ]);
  });
});

describe("names acceptance", () => {
  const accepted = {
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      names: {
        plural: "widgets",
        singular: "widget",
        kind: "Widget",
        listKind: "WidgetList",
        shortNames: ["wd"],
      },
    },
    status: {
      acceptedNames: {
        plural: "widgets",
        singular: "widget",
        kind: "Widget",
        listKind: "WidgetList",
        shortNames: ["wd"],
      },
    },
  };
  test("fresh names are accepted and the CRD is established", () => {
    const c = {
      metadata: { name: "gadgets.example.com" },
      spec: {
        group: "example.com",
        names: { plural: "gadgets", singular: "gadget", kind: "Gadget", listKind: "GadgetList" },
      },
      status: {},
    };
    const r = calculateNames(c, [accepted, c]);
    assert.equal(r.namesAccepted.reason, "NoConflicts");
    assert.equal(r.established.status, "True");
    assert.equal(r.established.reason, "InitialNamesAccepted");
    assert.equal(r.names.kind, "Gadget");
  });
  test("a kind in use in the same group is a KindConflict; another group is fine", () => {
    const c = {
      metadata: { name: "gizmos.example.com" },
      spec: {
        group: "example.com",
        names: { plural: "gizmos", singular: "gizmo", kind: "Widget", listKind: "GizmoList" },
      },
      status: {},
    };
    const r = calculateNames(c, [accepted, c]);
    assert.deepEqual(
      [r.namesAccepted.status, r.namesAccepted.reason, r.namesAccepted.message],
      ["False", "KindConflict", '"Widget" is already in use'],
    );
    assert.equal(r.established.status, "False");
    const elsewhere = { ...c, spec: { ...c.spec, group: "other.com" } };
    assert.equal(calculateNames(elsewhere, [accepted, elsewhere]).namesAccepted.status, "True");
  });
  test("a short name in use is a ShortNamesConflict", () => {
    const c = {
      metadata: { name: "gizmos.example.com" },
      spec: {
        group: "example.com",
        names: {
          plural: "gizmos",
          singular: "gizmo",
          kind: "Gizmo",
          listKind: "GizmoList",
          shortNames: ["wd"],
        },
      },
      status: {},
    };
    assert.equal(calculateNames(c, [accepted, c]).namesAccepted.reason, "ShortNamesConflict");
  });
});
