// CustomResourceDefinitions end to end with the real kubectl: establishing, schema validation,
// defaulting (on writes, and on reads of objects stored before a default was added), pruning,
// CEL rules, status and scale subresources, printer columns, short names, categories, two
// served versions, deletion of a CRD's objects, and two tenants apart.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";
import { objectKey } from "../../apiserver/src/storage/keys.ts";
import { KubeConfig } from "@kubernetes/client-node";
import { rawRequest } from "../support/https.ts";
import { rootTenant } from "../../apiserver/src/tenancy/instance.ts";
import { eventually } from "../support/eventually.ts";

let mp: TestMultiplane;

before(async () => {
  mp = await startMultiplane();
});
after(async () => {
  await mp?.destroy();
});

const json = <T = Record<string, unknown>>(text: string): T => JSON.parse(text) as T;

const widgetSchema = (withRules: boolean): string => `
        type: object
        properties:
          spec:
            type: object
            required: [size]
${
  withRules
    ? `            x-kubernetes-validations:
            - rule: "self.replicas <= self.maxReplicas"
              message: "replicas must not exceed maxReplicas"
            - rule: "!has(self.name) || self.name.startsWith('w')"
              messageExpression: "'name ' + self.name + ' must start with w'"
`
    : ""
}            properties:
              size:
                type: string
                enum: [small, medium, large]
              replicas:
                type: integer
                minimum: 0
                default: 1
              maxReplicas:
                type: integer
                default: 10
              color:
                type: string
                default: blue
              name:
                type: string
                maxLength: 12
          status:
            type: object
            properties:
              replicas:
                type: integer
              phase:
                type: string
              selector:
                type: string`;

const widgetsCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [gadgets]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:${widgetSchema(true)}
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Phase
      type: string
      jsonPath: .status.phase
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:${widgetSchema(false)}
    subresources:
      status: {}
`;

const widget = (name: string, spec: string, apiVersion = "example.com/v1"): string =>
  `apiVersion: ${apiVersion}\nkind: Widget\nmetadata:\n  name: ${name}\nspec:\n${spec}\n`;

async function kubectlFails(args: string[], input?: string, tenant?: string): Promise<string> {
  try {
    await mp.kubectl(args, {
      ...(input !== undefined ? { input } : {}),
      ...(tenant !== undefined ? { tenant } : {}),
    });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`kubectl ${args.join(" ")} succeeded`);
}

describe("CustomResourceDefinitions with kubectl", () => {
  test("a CRD is established and its status reports accepted names", async () => {
    await mp.kubectl(["create", "-f", "-"], { input: widgetsCRD });
    await mp.kubectl(["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"]);
    const crd = json<{
      metadata: { finalizers?: string[] };
      spec: { names: { listKind: string }; conversion: { strategy: string } };
      status: {
        acceptedNames: { plural: string; kind: string; shortNames: string[]; categories: string[] };
        storedVersions: string[];
        conditions: { type: string; status: string; reason: string }[];
      };
    }>(await mp.kubectl(["get", "crd", "widgets.example.com", "-o", "json"]));
    assert.equal(crd.spec.names.listKind, "WidgetList");
    assert.equal(crd.spec.conversion.strategy, "None");
    assert.deepEqual(crd.status.storedVersions, ["v1"]);
    assert.equal(crd.status.acceptedNames.kind, "Widget");
    assert.deepEqual(crd.status.acceptedNames.shortNames, ["wd"]);
    const byType = Object.fromEntries(crd.status.conditions.map((c) => [c.type, c]));
    assert.equal(byType["NamesAccepted"]?.status, "True");
    assert.equal(byType["NamesAccepted"]?.reason, "NoConflicts");
    assert.equal(byType["Established"]?.reason, "InitialNamesAccepted");
  });

  test("an invalid CRD is refused with upstream's messages", async () => {
    const bad = widgetsCRD
      .replace("name: widgets.example.com", "name: gizmos.example.com")
      .replace("plural: widgets", "plural: gizmos")
      .replace("type: integer\n                minimum: 0", "minimum: 0");
    const msg = await kubectlFails(["create", "-f", "-"], bad);
    assert.match(msg, /The CustomResourceDefinition "gizmos\.example\.com" is invalid/);
    assert.match(
      msg,
      /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.properties\[replicas\]\.type: Required value: must not be empty for specified object fields/,
    );
    const wrongName = widgetsCRD.replace("name: widgets.example.com", "name: things.example.com");
    assert.match(
      await kubectlFails(["create", "-f", "-"], wrongName),
      /metadata\.name: Invalid value: "things\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/,
    );
  });

  test("a name conflict with another CRD of the tenant is reported in NamesAccepted", async () => {
    const other = widgetsCRD
      .replace("name: widgets.example.com", "name: sprockets.example.com")
      .replace("plural: widgets", "plural: sprockets")
      .replace("singular: widget", "singular: sprocket")
      .replace("shortNames: [wd]", "shortNames: [spr]")
      .replace("kind: Widget\n", "kind: Widget\n    listKind: SprocketList\n");
    await mp.kubectl(["create", "-f", "-"], { input: other });
    await eventually("KindConflict", async () => {
      const out = await mp.kubectl([
        "get",
        "crd",
        "sprockets.example.com",
        "-o",
        "jsonpath={.status.conditions[?(@.type=='NamesAccepted')].reason}",
      ]);
      return out === "KindConflict";
    });
    const message = await mp.kubectl([
      "get",
      "crd",
      "sprockets.example.com",
      "-o",
      "jsonpath={.status.conditions[?(@.type=='NamesAccepted')].message}",
    ]);
    assert.equal(message, '"Widget" is already in use');
    await mp.kubectl(["delete", "crd", "sprockets.example.com", "--wait=true"]);
  });

  test("custom resources: defaults, pruning, table columns, short names and categories", async () => {
    await mp.kubectl(["create", "-f", "-"], { input: widget("alpha", "  size: small\n  replicas: 2") });
    // --validate=false: kubectl sends fieldValidation=Ignore and the unknown field is dropped.
    await mp.kubectl(["create", "--validate=false", "-f", "-"], {
      input: widget("beta", "  size: large\n  bogus: 1\n  name: wbeta"),
    });
    const alpha = json<{ spec: Record<string, unknown>; metadata: { generation: number } }>(
      await mp.kubectl(["get", "widget", "alpha", "-o", "json"]),
    );
    assert.deepEqual(alpha.spec, { size: "small", replicas: 2, maxReplicas: 10, color: "blue" });
    assert.equal(alpha.metadata.generation, 1);
    const beta = json<{ spec: Record<string, unknown> }>(
      await mp.kubectl(["get", "widget", "beta", "-o", "json"]),
    );
    assert.equal(beta.spec["bogus"], undefined);
    assert.equal(beta.spec["replicas"], 1);

    const table = await mp.kubectl(["get", "widgets"]);
    assert.match(table, /^NAME\s+SIZE\s+REPLICAS\s+PHASE\s+AGE\n/);
    // No phase yet: the cell is null, which kubectl prints empty.
    assert.match(table, /\nalpha\s+small\s+2\s+\d+s\n/);
    assert.equal(
      (await mp.kubectl(["get", "wd", "-o", "name"])).trim(),
      "widget.example.com/alpha\nwidget.example.com/beta",
    );
    assert.match(await mp.kubectl(["get", "gadgets", "-o", "name"]), /widget\.example\.com\/alpha/);
  });

  test("invalid custom resources get 422 with upstream's messages", async () => {
    const typeErr = await kubectlFails(
      ["create", "-f", "-"],
      widget("bad1", '  size: small\n  replicas: "three"'),
    );
    assert.match(
      typeErr,
      /The Widget "bad1" is invalid: [^]*spec\.replicas: Invalid value: "string": spec\.replicas in body must be of type integer: "string"/,
    );
    const required = await kubectlFails(["create", "-f", "-"], widget("bad2", "  replicas: 1"));
    assert.match(required, /spec\.size: Required value/);
    const enumErr = await kubectlFails(["create", "-f", "-"], widget("bad3", "  size: huge"));
    assert.match(
      enumErr,
      /spec\.size: Unsupported value: "huge": supported values: "small", "medium", "large"/,
    );
    const cel = await kubectlFails(["create", "-f", "-"], widget("bad4", "  size: small\n  replicas: 20"));
    assert.match(cel, /spec: Invalid value: "object": replicas must not exceed maxReplicas/);
    const msgExpr = await kubectlFails(["create", "-f", "-"], widget("bad5", "  size: small\n  name: gamma"));
    assert.match(msgExpr, /spec: Invalid value: "object": name gamma must start with w/);
    const tooLong = await kubectlFails(
      ["create", "-f", "-"],
      widget("bad6", "  size: small\n  name: wwwwwwwwwwwwwwww"),
    );
    assert.match(tooLong, /spec\.name: Too long: may not be more than 12 bytes/);
  });

  test("status and scale subresources", async () => {
    await mp.kubectl([
      "patch",
      "widget",
      "alpha",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"phase":"Ready","replicas":2},"spec":{"size":"large"}}',
    ]);
    const patched = json<{ spec: { size: string }; status: { phase: string } }>(
      await mp.kubectl(["get", "widget", "alpha", "-o", "json"]),
    );
    assert.equal(patched.status.phase, "Ready");
    assert.equal(patched.spec.size, "small", "a /status write changes status only");
    await mp.kubectl([
      "patch",
      "widget",
      "alpha",
      "--type=merge",
      "-p",
      '{"status":{"phase":"Gone"},"spec":{"size":"medium"}}',
    ]);
    const main = json<{
      spec: { size: string };
      status: { phase: string };
      metadata: { generation: number };
    }>(await mp.kubectl(["get", "widget", "alpha", "-o", "json"]));
    assert.equal(main.status.phase, "Ready", "a main-resource write keeps the stored status");
    assert.equal(main.spec.size, "medium");
    assert.equal(main.metadata.generation, 2);
    assert.match(await mp.kubectl(["get", "widgets", "alpha"]), /\nalpha\s+medium\s+2\s+Ready\s+/);

    await mp.kubectl(["scale", "widget", "alpha", "--replicas=3"]);
    assert.equal(await mp.kubectl(["get", "widget", "alpha", "-o", "jsonpath={.spec.replicas}"]), "3");
    const scale = json<{ kind: string; spec: { replicas: number }; status: { replicas: number } }>(
      await mp.kubectl(["get", "--raw", "/apis/example.com/v1/namespaces/default/widgets/alpha/scale"]),
    );
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.spec.replicas, 3);
    assert.equal(scale.status.replicas, 2);
  });

  test("a second served version rewrites apiVersion; explain reads the schema", async () => {
    assert.equal(
      await mp.kubectl(["get", "widgets.v1beta1.example.com", "alpha", "-o", "jsonpath={.apiVersion}"]),
      "example.com/v1beta1",
    );
    await mp.kubectl(["create", "-f", "-"], { input: widget("old", "  size: small", "example.com/v1beta1") });
    assert.equal(
      await mp.kubectl(["get", "widget", "old", "-o", "jsonpath={.apiVersion}"]),
      "example.com/v1",
    );
    const explain = await mp.kubectl(["explain", "widgets.spec"]);
    assert.match(explain, /maxReplicas\s+<integer>/);
    assert.match(explain, /size\s+<string> -required-/);
  });

  test("deleting the CRD deletes its custom resources", async () => {
    await mp.kubectl(["delete", "crd", "widgets.example.com", "--timeout=30s"]);
    await eventually("the CRD to be gone", async () => {
      const out = await mp.kubectl(["get", "crd", "-o", "name"]);
      return !out.includes("widgets.example.com");
    });
    // kubectl's discovery cache may still list the type: then the list itself is a 404.
    assert.match(
      await kubectlFails(["get", "widgets"]),
      /the server doesn't have a resource type "widgets"|the server could not find the requested resource/,
    );
    await mp.kubectl(["create", "-f", "-"], { input: widgetsCRD });
    await mp.kubectl(["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"]);
    await eventually("an empty list of widgets", async () => {
      try {
        return (await mp.kubectl(["get", "widgets", "-A", "-o", "name"])).trim() === "";
      } catch {
        return false;
      }
    });
  });

  test("two tenants on one server: one's types and objects are invisible to the other", async () => {
    mp.tenants.addTenant({ name: "crd-a", uid: "6e1c3a52-0000-4000-8000-00000000c0da" });
    mp.tenants.addTenant({ name: "crd-b", uid: "6e1c3a52-0000-4000-8000-00000000c0db" });
    const a = { tenant: "crd-a" };
    const b = { tenant: "crd-b" };
    await mp.kubectl(["create", "-f", "-"], { input: widgetsCRD, ...a });
    await mp.kubectl(["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"], a);
    await mp.kubectl(["create", "-f", "-"], { input: widget("in-a", "  size: small"), ...a });
    assert.equal((await mp.kubectl(["get", "widgets", "-o", "name"], a)).trim(), "widget.example.com/in-a");
    assert.match(
      await kubectlFails(["get", "widgets"], undefined, "crd-b"),
      /the server doesn't have a resource type "widgets"/,
    );
    assert.doesNotMatch(await mp.kubectl(["get", "crd", "-o", "name"], b), /widgets/);

    // The same CRD in B: its own objects only, and its own lifecycle.
    await mp.kubectl(["create", "-f", "-"], { input: widgetsCRD, ...b });
    await mp.kubectl(["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"], b);
    await mp.kubectl(["create", "-f", "-"], { input: widget("in-b", "  size: large"), ...b });
    assert.equal((await mp.kubectl(["get", "widgets", "-o", "name"], b)).trim(), "widget.example.com/in-b");
    await mp.kubectl(["delete", "crd", "widgets.example.com", "--timeout=30s"], b);
    await eventually(
      "B's CRD gone",
      async () => !(await mp.kubectl(["get", "crd", "-o", "name"], b)).includes("widgets"),
    );
    assert.equal((await mp.kubectl(["get", "widgets", "-o", "name"], a)).trim(), "widget.example.com/in-a");
  });

  test("selectableFields: custom resources can be listed with a field selector on them", async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: paints.colors.example.com
spec:
  group: colors.example.com
  scope: Namespaced
  names: {plural: paints, singular: paint, kind: Paint}
  versions:
  - name: v1
    served: true
    storage: true
    selectableFields:
    - jsonPath: .spec.color
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {type: string}
`;
    await mp.kubectl(["apply", "-f", "-"], { input: crd });
    await mp.kubectl([
      "wait",
      "--for=condition=Established",
      "crd/paints.colors.example.com",
      "--timeout=20s",
    ]);
    const stored = JSON.parse(
      await mp.kubectl(["get", "crd", "paints.colors.example.com", "-o", "json"]),
    ) as {
      spec: { versions: { selectableFields?: unknown }[] };
    };
    assert.deepEqual(stored.spec.versions[0]?.selectableFields, [{ jsonPath: ".spec.color" }]);
    for (const [name, color] of [
      ["p1", "red"],
      ["p2", "blue"],
      ["p3", "red"],
    ] as const) {
      await mp.kubectl(["apply", "-f", "-"], {
        input: `apiVersion: colors.example.com/v1\nkind: Paint\nmetadata:\n  name: ${name}\nspec:\n  color: ${color}\n`,
      });
    }
    const red = await mp.kubectl(["get", "paints", "--field-selector", "spec.color=red", "-o", "name"]);
    assert.deepEqual(red.trim().split("\n"), ["paint.colors.example.com/p1", "paint.colors.example.com/p3"]);
    await assert.rejects(
      mp.kubectl(["get", "paints", "--field-selector", "spec.size=big"]),
      /field label not supported: spec.size/,
    );
  });
  test("a default added to the CRD later shows on GET, LIST and WATCH of old objects, unwritten", async () => {
    const doohickeys = (withDefault: boolean): string => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: doohickeys.tools.example.com
spec:
  group: tools.example.com
  scope: Namespaced
  names: {plural: doohickeys, singular: doohickey, kind: Doohickey}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: string}
              mode: {type: string${withDefault ? ", default: fast" : ""}}
`;
    await mp.kubectl(["apply", "-f", "-"], { input: doohickeys(false) });
    await mp.kubectl([
      "wait",
      "--for=condition=Established",
      "crd/doohickeys.tools.example.com",
      "--timeout=20s",
    ]);
    await mp.kubectl(["apply", "-f", "-"], {
      input: "apiVersion: tools.example.com/v1\nkind: Doohickey\nmetadata:\n  name: g1\nspec:\n  size: big\n",
    });
    type Doohickey = { spec: { size: string; mode?: string }; metadata: { resourceVersion: string } };
    const before = json<Doohickey>(await mp.kubectl(["get", "doohickey", "g1", "-o", "json"]));
    assert.equal(before.spec.mode, undefined);

    await mp.kubectl(["apply", "-f", "-"], { input: doohickeys(true) });
    await eventually(
      "the new default on GET",
      async () =>
        json<Doohickey>(await mp.kubectl(["get", "doohickey", "g1", "-o", "json"])).spec.mode === "fast",
    );
    const got = json<Doohickey>(await mp.kubectl(["get", "doohickey", "g1", "-o", "json"]));
    assert.deepEqual(got.spec, { size: "big", mode: "fast" });
    assert.equal(
      got.metadata.resourceVersion,
      before.metadata.resourceVersion,
      "the object was not rewritten",
    );
    const list = json<{ items: Doohickey[] }>(await mp.kubectl(["get", "doohickeys", "-o", "json"]));
    assert.equal(list.items[0]?.spec.mode, "fast");
    const paged = json<{ items: Doohickey[] }>(
      await mp.kubectl(["get", "--raw", "/apis/tools.example.com/v1/namespaces/default/doohickeys?limit=1"]),
    );
    assert.equal(paged.items[0]?.spec.mode, "fast");
    const watched = await mp.kubectl([
      "get",
      "--raw",
      "/apis/tools.example.com/v1/namespaces/default/doohickeys?watch=true&resourceVersion=0&timeoutSeconds=1",
    ]);
    const event = json<{ type: string; object: Doohickey }>(watched.trim().split("\n")[0] ?? "");
    assert.equal(event.type, "ADDED");
    assert.equal(event.object.spec.mode, "fast");

    // The stored bytes keep the object as it was written.
    const key = objectKey(
      rootTenant,
      { group: "tools.example.com", resource: "doohickeys" },
      "default",
      "g1",
    );
    const raw = await mp.storage.get(key);
    const stored = JSON.parse(Buffer.from(raw.kv.value).toString("utf8")) as Doohickey;
    assert.deepEqual(stored.spec, { size: "big" });
  });
  test("CEL cost: a rule over a big list passes the per-call limit, many such rules the object's budget", async () => {
    const rules = (n: number): string =>
      Array.from({ length: n }, () => `                - rule: "self.all(x, self.all(y, true))"\n`).join("");
    const crd = (plural: string, kind: string, n: number): string => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.cost.example.com
spec:
  group: cost.example.com
  scope: Namespaced
  names: {plural: ${plural}, singular: ${kind.toLowerCase()}, kind: ${kind}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              items:
                type: array
                maxItems: 1000
                items: {type: string, maxLength: 8}
                x-kubernetes-validations:
${rules(n)}`;
    await mp.kubectl(["apply", "-f", "-"], { input: crd("onerules", "OneRule", 1) });
    await mp.kubectl(["apply", "-f", "-"], { input: crd("tenrules", "TenRule", 10) });
    await mp.kubectl([
      "wait",
      "--for=condition=Established",
      "crd/onerules.cost.example.com",
      "--timeout=20s",
    ]);
    await mp.kubectl([
      "wait",
      "--for=condition=Established",
      "crd/tenrules.cost.example.com",
      "--timeout=20s",
    ]);

    const kc = new KubeConfig();
    kc.loadFromFile(mp.kubeconfigPath);
    const ca = Buffer.from(kc.getCurrentCluster()?.caData ?? "", "base64").toString();
    const post = async (plural: string, kind: string, count: number) => {
      const body = {
        apiVersion: "cost.example.com/v1",
        kind,
        metadata: { name: "big" },
        spec: { items: Array.from({ length: count }, (_, i) => `i${i}`) },
      };
      const res = await rawRequest(mp.url, ca, `/apis/cost.example.com/v1/namespaces/default/${plural}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${kc.getCurrentUser()?.token ?? ""}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        body: json<{
          reason: string;
          code: number;
          message: string;
          details: { causes: { reason: string; message: string; field: string }[] };
        }>(res.body),
      };
    };

    // A small list is cheap.
    assert.equal((await post("onerules", "OneRule", 10)).status, 201);

    const callLimit =
      "Invalid value: \"array\": 'operation cancelled: actual cost limit exceeded': call cost exceeds limit for rule: self.all(x, self.all(y, true))";
    const one = await post("onerules", "OneRule", 1000);
    assert.equal(one.status, 422);
    assert.equal(one.body.reason, "Invalid");
    assert.equal(one.body.message, `OneRule.cost.example.com "big" is invalid: spec.items: ${callLimit}`);
    assert.deepEqual(one.body.details.causes, [
      { reason: "FieldValueInvalid", message: callLimit, field: "spec.items" },
    ]);

    const ten = await post("tenrules", "TenRule", 1000);
    assert.equal(ten.status, 422);
    const causes = ten.body.details.causes;
    assert.equal(causes.length, 10);
    assert.ok(causes.slice(0, 9).every((c) => c.message === callLimit && c.field === "spec.items"));
    assert.deepEqual(causes[9], {
      reason: "FieldValueInvalid",
      message:
        'Invalid value: "array": validation failed due to running out of cost budget, no further validation rules will be run',
      field: "spec.items",
    });
  });
});
