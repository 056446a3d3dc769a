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

// ---------------------------------------------------------------------------------------
// What a workload's container sees: its args, and the files its Secret volumes put in place.

export interface Container extends Obj {
  name: string;
  args?: string[];
  command?: string[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface SecretProjection {
  secretName?: string;
  name?: string;
  items?: { key: string; path: string }[];
}
interface Volume {
  name: string;
  secret?: SecretProjection;
  projected?: { sources: { secret?: SecretProjection }[] };
}

export const podSpec = (w: K8sObject): Obj => at(w, "spec.template.spec") as Obj;
export const containers = (w: K8sObject): Container[] => podSpec(w)["containers"] as Container[];
export const volumes = (w: K8sObject): Volume[] => (podSpec(w)["volumes"] as Volume[] | undefined) ?? [];

/** The value of `--name=value` in a container's args (or command). */
export function flag(c: Container, name: string): string | undefined {
  const prefix = `--${name}=`;
  return [...(c.args ?? []), ...(c.command ?? [])].find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

/** A Secret's data, decoded. */
export function secretData(r: Rendering, name: string): Record<string, string> {
  const s = r.get("Secret", name);
  const data = Object.entries((s["data"] as Record<string, string> | undefined) ?? {}).map(
    ([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")] as const,
  );
  return { ...Object.fromEntries(data), ...((s["stringData"] as Record<string, string> | undefined) ?? {}) };
}

/** Which Secret key a container sees at `path` (through secret, projected and subPath mounts). */
export function mountedSecretKey(w: K8sObject, c: Container, path: string): { secret: string; key: string } {
  for (const m of c.volumeMounts ?? []) {
    const v = volumes(w).find((x) => x.name === m.name);
    if (v === undefined) continue;
    const sources: SecretProjection[] =
      v.secret !== undefined
        ? [v.secret]
        : (v.projected?.sources.flatMap((s) => (s.secret ? [s.secret] : [])) ?? []);
    for (const s of sources) {
      const secret = s.secretName ?? s.name ?? "";
      if (m.subPath !== undefined) {
        if (m.mountPath === path) return { secret, key: m.subPath };
        continue;
      }
      if (!path.startsWith(`${m.mountPath}/`)) continue;
      const rel = path.slice(m.mountPath.length + 1);
      const item = s.items?.find((i) => i.path === rel);
      if (item !== undefined) return { secret, key: item.key };
      if (s.items === undefined) return { secret, key: rel };
    }
  }
  throw new Error(`${w.metadata.name}/${c.name}: nothing mounted at ${path}`);
}

/** The contents of a file a container sees, from the rendered Secret behind it. */
export function mountedFile(r: Rendering, w: K8sObject, c: Container, path: string): string {
  const { secret, key } = mountedSecretKey(w, c, path);
  const value = secretData(r, secret)[key];
  if (value === undefined) throw new Error(`Secret ${secret} has no key ${key} (mounted at ${path})`);
  return value;
}
