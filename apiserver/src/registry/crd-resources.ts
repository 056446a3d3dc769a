// CustomResourceDefinitions → the resources a tenant serves for them. A CRD is per
// tenant: only the tenant's own cache feeds this.

import { age, type KubeObject, type Printer, type TableColumn } from "./printers.ts";
import { allVerbs, type ResourceDef } from "./resources.ts";

interface CRDVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: Record<string, unknown> };
  subresources?: { status?: object; scale?: object };
  additionalPrinterColumns?: {
    name: string;
    type: string;
    format?: string;
    description?: string;
    priority?: number;
    jsonPath: string;
  }[];
  selectableFields?: { jsonPath: string }[];
}

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
    versions?: CRDVersion[];
  };
}

/** Reads a simple JSONPath (`.spec.replicas`, `.metadata.labels.app`) as kubectl's printer columns use. */
export function readJsonPath(obj: unknown, path: string): unknown {
  const parts = path
    .replace(/^\{|\}$/g, "")
    .replace(/^\./, "")
    .split(".")
    .filter(Boolean);
  let cur = obj;
  for (const p of parts) {
    const m = /^([^[]+)\[(\d+)\]$/.exec(p);
    if (m) {
      cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[m[1]!] : undefined;
      cur = Array.isArray(cur) ? cur[Number(m[2])] : undefined;
    } else {
      cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[p] : undefined;
    }
  }
  return cur;
}

function crdPrinter(version: CRDVersion): Printer {
  const extra = version.additionalPrinterColumns ?? [];
  const columns: TableColumn[] = [
    {
      name: "Name",
      type: "string",
      format: "name",
      description: "Name must be unique within a namespace.",
      priority: 0,
    },
    ...extra.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: c.description ?? "",
      priority: c.priority ?? 0,
    })),
  ];
  const hasAge = extra.some((c) => c.jsonPath === ".metadata.creationTimestamp");
  if (!hasAge) {
    columns.push({ name: "Age", type: "date", format: "", description: "CreationTimestamp", priority: 0 });
  }
  return {
    columns,
    cells: (o, now) => {
      const cells: unknown[] = [o.metadata?.name ?? ""];
      for (const c of extra) {
        const v = readJsonPath(o, c.jsonPath);
        if (c.type === "date") cells.push(v === undefined ? "<unknown>" : age(v, now));
        else cells.push(v === undefined ? null : typeof v === "object" ? JSON.stringify(v) : v);
      }
      if (!hasAge) cells.push(age(o.metadata?.creationTimestamp, now));
      return cells;
    },
  };
}

/** True when the CRD has been accepted and established (its resources are served). */
export function isEstablished(crd: CRDObject): boolean {
  const conditions =
    (crd["status"] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === "Established" && c.status === "True");
}

/** The resources (one per served version) a CRD defines. */
export function resourcesOfCRD(crd: CRDObject): ResourceDef[] {
  const spec = crd.spec;
  const names = spec?.names;
  if (!spec?.group || !names?.plural || !names.kind) return [];
  const storage = spec.versions?.find((v) => v.storage)?.name ?? spec.versions?.[0]?.name ?? "";
  return (spec.versions ?? [])
    .filter((v) => v.served !== false)
    .map((v) => ({
      group: spec.group!,
      version: v.name,
      kind: names.kind!,
      listKind: names.listKind ?? `${names.kind!}List`,
      plural: names.plural!,
      singular: names.singular ?? names.kind!.toLowerCase(),
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      namespaced: spec.scope !== "Cluster",
      verbs: allVerbs,
      subresources: [
        ...(v.subresources?.status ? ["status"] : []),
        ...(v.subresources?.scale ? ["scale"] : []),
      ],
      strategy: { generation: true, statusSubresource: v.subresources?.status !== undefined },
      printer: crdPrinter(v),
      selectableFields: (v.selectableFields ?? []).map((f) => f.jsonPath.replace(/^\./, "")),
      crd: { uid: crd.metadata?.uid ?? "", storageVersion: storage },
      ...(v.schema?.openAPIV3Schema ? { schema: v.schema.openAPIV3Schema } : {}),
    }));
}
