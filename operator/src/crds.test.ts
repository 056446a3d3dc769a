// The Organization and Project CRDs (crds/): their names, scopes and printer columns, and their
// spec.policy schema equal to the ControlPlane's (the operator copies one into the other).

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import YAML from "yaml";

interface CRD {
  spec: {
    scope: string;
    names: { kind: string; shortNames: string[] };
    versions: {
      additionalPrinterColumns: { name: string; jsonPath: string }[];
      schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } };
    }[];
  };
}

const load = async (file: string): Promise<CRD> =>
  YAML.parse(await readFile(new URL(`../../crds/${file}`, import.meta.url), "utf8")) as CRD;
const specOf = (crd: CRD) => crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties;

test("Organization is cluster-scoped (org), Project namespaced (proj), both with NAME READY ENDPOINT AGE", async () => {
  const org = await load("organization.yaml");
  const proj = await load("project.yaml");
  assert.equal(org.spec.scope, "Cluster");
  assert.ok(org.spec.names.shortNames.includes("org"));
  assert.equal(proj.spec.scope, "Namespaced");
  assert.deepEqual(proj.spec.names.shortNames, ["proj"]);
  for (const crd of [org, proj]) {
    const columns = crd.spec.versions[0]!.additionalPrinterColumns;
    assert.deepEqual(
      columns.map((c) => c.name),
      ["Ready", "Endpoint", "Age"],
    );
    assert.equal(columns[0]!.jsonPath, '.status.conditions[?(@.type=="Ready")].status');
  }
});

test("spec.policy of both is the ControlPlane's spec.policy schema", async () => {
  const cp = specOf(await load("controlplane.yaml"))["policy"];
  assert.ok(cp !== undefined);
  assert.deepEqual(specOf(await load("organization.yaml"))["policy"], cp);
  assert.deepEqual(specOf(await load("project.yaml"))["policy"], cp);
});
