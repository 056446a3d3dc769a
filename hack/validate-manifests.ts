// Validates rendered Kubernetes manifests (helm template output) against the Kubernetes API
// schemas, two ways, both of which must pass for every document:
//  - kubernetes-models' validators (JSON Schema from the upstream OpenAPI: types, required
//    fields, enums, formats), by the document's apiVersion and kind;
//  - the same models' TypeScript types, with each document as an object literal: TypeScript's
//    excess property check rejects any field the schema does not have, at any depth (the
//    validators above accept unknown fields, as the upstream OpenAPI does not forbid them).
// A kind without a model fails. cert-manager and Prometheus Operator kinds use the
// @kubernetes-models packages for their CRDs.
//
//   node --import tsx hack/validate-manifests.ts --modules DIR FILE...
//
// DIR holds node_modules with kubernetes-models@4 and friends (hack/verify-chart.sh installs
// them there; they are not dependencies of the project).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

/** The package holding the models of an API group (the built-in groups are in kubernetes-models). */
const packageOfGroup: Readonly<Record<string, string>> = {
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

interface Doc {
  readonly label: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly body: Record<string, unknown>;
}

const moduleOf = (apiVersion: string): string => {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  return `${packageOfGroup[group] ?? "kubernetes-models"}/${apiVersion}`;
};

function readDocs(file: string, errors: string[]): Doc[] {
  const docs: Doc[] = [];
  for (const [i, parsed] of parseAllDocuments(readFileSync(file, "utf8")).entries()) {
    if (parsed.errors.length > 0) {
      errors.push(`${file} #${i}: YAML: ${parsed.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const body = parsed.toJS() as unknown;
    if (body === null || body === undefined) continue;
    if (typeof body !== "object" || Array.isArray(body)) {
      errors.push(`${file} #${i}: not an object`);
      continue;
    }
    const obj = body as Record<string, unknown>;
    const meta = (obj["metadata"] ?? {}) as { name?: string; namespace?: string };
    const label = `${file} #${i} ${String(obj["kind"])} ${meta.namespace ?? ""}/${meta.name ?? "?"}`;
    if (typeof obj["apiVersion"] !== "string" || typeof obj["kind"] !== "string") {
      errors.push(`${label}: apiVersion and kind are required`);
      continue;
    }
    docs.push({ label, apiVersion: obj["apiVersion"], kind: obj["kind"], body: obj });
  }
  return docs;
}

/** The models' runtime validators; unknown kinds are errors. */
function validateAtRuntime(modulesDir: string, docs: readonly Doc[], errors: string[]): void {
  const require = createRequire(join(modulesDir, "package.json"));
  for (const doc of docs) {
    let models: Record<string, unknown>;
    try {
      models = require(moduleOf(doc.apiVersion)) as Record<string, unknown>;
    } catch {
      errors.push(`${doc.label}: no schema for apiVersion ${doc.apiVersion}`);
      continue;
    }
    const Model = models[doc.kind] as (new (data: unknown) => { validate(): void }) | undefined;
    if (typeof Model !== "function") {
      errors.push(`${doc.label}: no schema for kind ${doc.kind} in ${doc.apiVersion}`);
      continue;
    }
    try {
      new Model(doc.body).validate();
    } catch (err) {
      errors.push(`${doc.label}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** Every document as a literal of its model's interface; TypeScript reports unknown and missing fields. */
function validateFields(modulesDir: string, docs: readonly Doc[], errors: string[]): void {
  const dir = mkdtempSync(join(modulesDir, ".check-"));
  try {
    const aliases = new Map<string, string>();
    const lines: string[] = [];
    const starts: { line: number; doc: Doc }[] = [];
    for (const doc of docs) {
      const mod = moduleOf(doc.apiVersion);
      if (!aliases.has(mod)) aliases.set(mod, `m${aliases.size}`);
    }
    for (const [mod, alias] of aliases) lines.push(`import type * as ${alias} from ${JSON.stringify(mod)};`);
    for (const [i, doc] of docs.entries()) {
      starts.push({ line: lines.length, doc });
      const alias = aliases.get(moduleOf(doc.apiVersion)) ?? "";
      lines.push(
        ...`export const d${i}: ${alias}.I${doc.kind} = ${JSON.stringify(doc.body, null, 1)};`.split("\n"),
      );
    }
    const file = join(dir, "manifests.mts");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: [],
    });
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, "\n  ");
      if (d.file === undefined || d.start === undefined || resolve(d.file.fileName) !== resolve(file)) {
        errors.push(`type check: ${message}`);
        continue;
      }
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const owner = [...starts].reverse().find((s) => s.line <= line);
      const text = lines[line]?.trim() ?? "";
      errors.push(`${owner?.doc.label ?? "?"}: ${message} (at ${text})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { modules: { type: "string" } },
  });
  if (values.modules === undefined || positionals.length === 0) {
    process.stderr.write("usage: validate-manifests.ts --modules DIR FILE...\n");
    return 2;
  }
  const modulesDir = resolve(values.modules);
  const errors: string[] = [];
  let total = 0;
  for (const file of positionals) {
    const docs = readDocs(file, errors);
    if (docs.length === 0) errors.push(`${file}: no documents`);
    validateAtRuntime(modulesDir, docs, errors);
    validateFields(modulesDir, docs, errors);
    total += docs.length;
    process.stderr.write(`[validate-manifests] ${file}: ${docs.length} documents\n`);
  }
  for (const e of errors) process.stderr.write(`[validate-manifests] ${e}\n`);
  process.stderr.write(`[validate-manifests] ${total} documents, ${errors.length} errors\n`);
  return errors.length === 0 ? 0 : 1;
}

process.exitCode = main();
