// CustomResourceDefinitions → the resources a tenant serves for them. A CRD is per
// tenant: only the tenant's own cache feeds this. Each served version becomes a ResourceDef
// whose strategy validates against that version's schema (registry/crd/cr.strategy.ts);
// defs are built once per stored CRD object (the cache never mutates one) and reused.

import { customResourceStrategy } from "./crd/cr.strategy.ts";
import type { CRDVersionSpec, PrinterColumn } from "./crd/crd.validation.ts";
import { registerScale } from "./crd/scale.ts";
import type { JSONSchemaProps } from "./crd/schema.ts";
import { age, type KubeObject, type Printer, type TableColumn } from "./printers.ts";
import { allVerbs, type ResourceDef } from "./resources.ts";

export interface CRDObject extends KubeObject {
  spec?: {
    group?: string;
    scope?: "Namespaced" | "Cluster";
    names?: {
      plural?: string;
      singular?: string;
      kind?: string;
      listKind?: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions?: CRDVersionSpec[];
  };
}

const field = (v: unknown, name: string): unknown =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[name] : undefined;

/** One step of a path: `.name`, `[2]`, or a filter `[?(@.type=="Ready")]` (the first match). */
const stepPattern =
  /^(?:\.([^.[]+)|\[(\d+)\]|\[\?\(@\.([^=\s]+)\s*==\s*(?:"([^"]*)"|'([^']*)'|(-?\d+(?:\.\d+)?|true|false))\)\])/;

/**
 * Reads a JSONPath as printer columns use it (`.spec.replicas`, `.metadata.labels.app`,
 * `.items[0].name`, `.status.conditions[?(@.type=="Ready")].status`): kube's tableconvertor keeps
 * the first result, so a filter yields its first match. Undefined when nothing matches.
 */
export function readJsonPath(obj: unknown, path: string): unknown {
  let rest = path.replace(/^\{|\}$/g, "");
  if (!rest.startsWith(".") && !rest.startsWith("[")) rest = `.${rest}`;
  let cur = obj;
  while (rest !== "" && cur !== undefined) {
    const m = stepPattern.exec(rest);
    if (m === null) return undefined;
    rest = rest.slice(m[0].length);
    const [, name, index, filterField, dq, sq, literal] = m;
    if (name !== undefined) cur = field(cur, name);
    else if (index !== undefined) cur = Array.isArray(cur) ? cur[Number(index)] : undefined;
    else {
      const want: unknown =
        dq ?? sq ?? (literal === "true" ? true : literal === "false" ? false : Number(literal));
      cur = Array.isArray(cur) ? cur.find((item) => field(item, filterField!) === want) : undefined;
    }
  }
  return cur;
}

const creationTimestampDescription =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

const nameDescription =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/** A cell as apiextensions' tableconvertor computes it (cellForJSONValue). */
function cell(type: string, v: unknown, now: number): unknown {
  if (v === undefined || v === null) return null;
  switch (type) {
    case "string":
      return typeof v === "string" ? v : JSON.stringify(v);
    case "integer":
      return typeof v === "number" ? Math.trunc(v) : null;
    case "number":
      return typeof v === "number" ? v : null;
    case "boolean":
      return typeof v === "boolean" ? v : null;
    case "date":
      if (typeof v !== "string") return null;
      return Number.isNaN(Date.parse(v)) ? "<invalid>" : age(v, now);
    default:
      return null;
  }
}

/** The printer of one version: Name, then its additionalPrinterColumns (Age when it has none). */
function crdPrinter(version: CRDVersionSpec): Printer {
  const declared = version.additionalPrinterColumns ?? [];
  const extra: PrinterColumn[] =
    declared.length > 0
      ? declared
      : [
          {
            name: "Age",
            type: "date",
            description: creationTimestampDescription,
            jsonPath: ".metadata.creationTimestamp",
          },
        ];
  const columns: TableColumn[] = [
    { name: "Name", type: "string", format: "name", description: nameDescription, priority: 0 },
    ...extra.map((c) => ({
      name: c.name ?? "",
      type: c.type ?? "string",
      format: c.format ?? "",
      description:
        c.description !== undefined && c.description !== ""
          ? c.description
          : `Custom resource definition column (in JSONPath format): ${c.jsonPath ?? ""}`,
      priority: c.priority ?? 0,
    })),
  ];
  return {
    columns,
    cells: (o, now) => [
      o.metadata?.name ?? "",
      ...extra.map((c) => cell(c.type ?? "string", readJsonPath(o, c.jsonPath ?? ""), now)),
    ],
  };
}

interface Condition {
  type: string;
  status: string;
}

const conditionsOf = (crd: CRDObject): Condition[] =>
  (crd["status"] as { conditions?: Condition[] } | undefined)?.conditions ?? [];

/** True when the CRD has been accepted and established (its resources are served). */
export function isEstablished(crd: CRDObject): boolean {
  return conditionsOf(crd).some((c) => c.type === "Established" && c.status === "True");
}

/** True while the CRD is being deleted: its objects are served but no new ones are created. */
export function isTerminating(crd: CRDObject): boolean {
  return (
    crd.metadata?.deletionTimestamp !== undefined ||
    conditionsOf(crd).some((c) => c.type === "Terminating" && c.status === "True")
  );
}

/** The ResourceDef of one version of a CRD (served or not: cleanup uses the storage version's). */
function resourceOfVersion(crd: CRDObject, v: CRDVersionSpec, storage: string): ResourceDef | undefined {
  const spec = crd.spec;
  const names = spec?.names;
  if (!spec?.group || !names?.plural || !names.kind || v.name === undefined) return undefined;
  const namespaced = spec.scope !== "Cluster";
  const schema = v.schema?.openAPIV3Schema;
  const statusSubresource = v.subresources?.status !== undefined && v.subresources.status !== null;
  const scale = v.subresources?.scale ?? undefined;
  const def: ResourceDef = {
    group: spec.group,
    version: v.name,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    namespaced,
    verbs: allVerbs,
    subresources: [...(statusSubresource ? ["status"] : []), ...(scale ? ["scale"] : [])],
    strategy: customResourceStrategy({
      group: spec.group,
      kind: names.kind,
      version: v.name,
      namespaced,
      schema,
      schemas: schemasOf(crd),
      statusSubresource,
      scale,
      terminating: isTerminating(crd),
    }),
    printer: crdPrinter(v),
    selectableFields: (v.selectableFields ?? []).map((f) => (f.jsonPath ?? "").replace(/^\./, "")),
    crd: { uid: crd.metadata?.uid ?? "", storageVersion: storage },
    ...(schema !== undefined ? { schema: schema as Record<string, unknown> } : {}),
  };
  if (scale) registerScale(def, scale);
  return def;
}

/** Every version's openAPIV3Schema by version name. */
function schemasOf(crd: CRDObject): Map<string, JSONSchemaProps | undefined> {
  return new Map((crd.spec?.versions ?? []).map((v) => [v.name ?? "", v.schema?.openAPIV3Schema]));
}

const memo = new WeakMap<CRDObject, ResourceDef[]>();

/** The resources (one per served version) a CRD defines. Built once per CRD object. */
export function resourcesOfCRD(crd: CRDObject): ResourceDef[] {
  let defs = memo.get(crd);
  if (defs === undefined) {
    const versions = crd.spec?.versions ?? [];
    const storage = versions.find((v) => v.storage === true)?.name ?? versions[0]?.name ?? "";
    defs = versions
      .filter((v) => v.served === true)
      .map((v) => resourceOfVersion(crd, v, storage))
      .filter((d): d is ResourceDef => d !== undefined);
    memo.set(crd, defs);
  }
  return defs;
}

/** The storage version's resource, served or not: what the CRD controller deletes objects through. */
export function storageResourceOfCRD(crd: CRDObject): ResourceDef | undefined {
  const versions = crd.spec?.versions ?? [];
  const v = versions.find((x) => x.storage === true) ?? versions[0];
  return v === undefined ? undefined : resourceOfVersion(crd, v, v.name ?? "");
}
