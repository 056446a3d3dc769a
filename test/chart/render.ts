// Renders the Helm chart with the real helm binary (hack/install-helm.sh puts it in the tools
// directory) and gives the documents back as objects, with lookups by kind and name.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

export const chartDir = fileURLToPath(new URL("../../charts/multiplane/", import.meta.url));
export const namespace = "multiplane-system";
export const release = "multiplane";

export const helmBinary =
  process.env["MULTIPLANE_HELM"] ??
  `${process.env["MULTIPLANE_TOOLS_DIR"] ?? "/var/tmp/multiplane-tools"}/helm`;

// Loose shapes of the rendered objects: the chart checks read a few fields by path.
export type Obj = Record<string, unknown>;
export interface K8sObject extends Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

export interface Rendering {
  readonly docs: readonly K8sObject[];
  /** The one object of this kind and name; throws if absent. */
  get(kind: string, name: string): K8sObject;
  find(kind: string, name: string): K8sObject | undefined;
  all(kind: string): K8sObject[];
}

const run = promisify(execFile);

/** `helm template` with value files (relative to the chart) and --set pairs; rejects with helm's stderr. */
export async function render(
  valueFiles: readonly string[] = [],
  sets: readonly string[] = [],
): Promise<Rendering> {
  if (!existsSync(helmBinary)) {
    throw new Error(`helm not found at ${helmBinary}: run hack/install-helm.sh (or set MULTIPLANE_HELM)`);
  }
  const args = ["template", release, chartDir, "--namespace", namespace];
  for (const f of valueFiles) args.push("--values", `${chartDir}${f}`);
  for (const s of sets) args.push("--set", s);
  const { stdout } = await run(helmBinary, args, { maxBuffer: 64 * 1024 * 1024 });
  const docs = parseAllDocuments(stdout)
    .map((d) => d.toJS() as unknown)
    .filter((d): d is K8sObject => typeof d === "object" && d !== null);
  const find = (kind: string, name: string): K8sObject | undefined =>
    docs.find((d) => d.kind === kind && d.metadata.name === name);
  return {
    docs,
    find,
    get: (kind, name) => {
      const d = find(kind, name);
      if (d === undefined) throw new Error(`no ${kind} ${name} in the rendering`);
      return d;
    },
    all: (kind) => docs.filter((d) => d.kind === kind),
  };
}

/** The value at a dotted path (array indexes as numbers), or undefined. */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
