// meta.k8s.io Table and PartialObjectMetadata renderings of objects.

import type { KubeObject } from "../registry/printers.ts";
import type { ResourceDef } from "../registry/resources.ts";

export interface TableOptions {
  includeObject: "None" | "Metadata" | "Object";
}

export function toPartial(obj: KubeObject, metaVersion: string): object {
  return {
    kind: "PartialObjectMetadata",
    apiVersion: `meta.k8s.io/${metaVersion}`,
    metadata: obj.metadata ?? {},
  };
}

export function toTable(
  def: ResourceDef,
  items: readonly KubeObject[],
  listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number },
  opts: TableOptions,
  metaVersion: string,
  withColumns: boolean,
): object {
  const now = Date.now();
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${metaVersion}`,
    metadata: listMeta,
    ...(withColumns ? { columnDefinitions: def.printer.columns } : { columnDefinitions: null }),
    rows: items.map((o) => ({
      cells: def.printer.cells(o, now),
      ...(opts.includeObject === "None"
        ? {}
        : { object: opts.includeObject === "Object" ? o : toPartial(o, metaVersion) }),
    })),
  };
}
