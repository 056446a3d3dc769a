// The scale subresource of custom resources: an autoscaling/v1 Scale read from and written to
// the paths the CRD names (specReplicasPath, statusReplicasPath, labelSelectorPath), as
// apiextensions-apiserver's scaleFromCustomResource and scaleUpdatedObjectInfo do.

import { badRequest, invalid, type FieldError } from "../../apierrors/status.ts";
import type { KubeObject } from "../printers.ts";
import type { ResourceDef } from "../resources.ts";
import type { ScaleSubresource } from "./crd.validation.ts";
import { isObject } from "./schema.ts";

/** The scale paths of each custom resource version that has a scale subresource. */
const scales = new WeakMap<ResourceDef, ScaleSubresource>();

/** Records a version's scale paths (crd-resources.ts does, when it builds the ResourceDef). */
export function registerScale(def: ResourceDef, scale: ScaleSubresource): void {
  scales.set(def, scale);
}

export const scaleSubresourceOf = (def: ResourceDef): ScaleSubresource | undefined => scales.get(def);

/** Reads a simple dotted path (`.spec.replicas`); undefined when absent. */
export function readPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of path.replace(/^\./, "").split(".")) {
    if (!isObject(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

function writePath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.replace(/^\./, "").split(".");
  let cur = obj;
  for (const seg of segs.slice(0, -1)) {
    const next = cur[seg];
    if (isObject(next)) cur = next;
    else {
      const created: Record<string, unknown> = {};
      cur[seg] = created;
      cur = created;
    }
  }
  cur[segs.at(-1) ?? ""] = value;
}

export type Scale = {
  kind: "Scale";
  apiVersion: "autoscaling/v1";
  metadata: Record<string, unknown>;
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
};

const int = (v: unknown): number => (typeof v === "number" && Number.isInteger(v) ? v : 0);

/** The Scale of a custom resource. Throws a 400 when the CRD has no scale subresource. */
export function scaleOf(def: ResourceDef, obj: KubeObject): Scale {
  const scale = scales.get(def);
  if (scale === undefined) throw badRequest(`the resource ${def.plural} has no scale subresource`);
  const meta = obj.metadata ?? {};
  const specReplicas = int(readPath(obj, scale.specReplicasPath ?? ""));
  const selector = scale.labelSelectorPath ? readPath(obj, scale.labelSelectorPath) : undefined;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: meta.name,
      ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}),
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: specReplicas === 0 ? {} : { replicas: specReplicas },
    status: {
      replicas: int(readPath(obj, scale.statusReplicasPath ?? "")),
      ...(typeof selector === "string" && selector !== "" ? { selector } : {}),
    },
  };
}

/**
 * Writes a Scale's spec.replicas into a copy of the custom resource (ValidateScale first: a
 * negative count is a 422 on the Scale). A resourceVersion on the Scale becomes the object's, so
 * the store's compare-and-swap checks it.
 */
export function applyScale(def: ResourceDef, obj: KubeObject, scale: unknown): KubeObject {
  const paths = scales.get(def);
  if (paths === undefined) throw badRequest(`the resource ${def.plural} has no scale subresource`);
  const s = isObject(scale) ? scale : {};
  const spec = isObject(s["spec"]) ? s["spec"] : {};
  const replicas = spec["replicas"] ?? 0;
  const name = obj.metadata?.name ?? "";
  if (typeof replicas !== "number" || !Number.isInteger(replicas)) {
    const errs: FieldError[] = [
      {
        type: "FieldValueTypeInvalid",
        field: "spec.replicas",
        detail: `Invalid value: ${JSON.stringify(replicas)}: must be an integer`,
      },
    ];
    throw invalid({ group: "autoscaling", kind: "Scale" }, name, errs);
  }
  if (replicas < 0) {
    throw invalid({ group: "autoscaling", kind: "Scale" }, name, [
      {
        type: "FieldValueInvalid",
        field: "spec.replicas",
        detail: `Invalid value: ${replicas}: must be greater than or equal to 0`,
      },
    ]);
  }
  const out = structuredClone(obj);
  writePath(out, paths.specReplicasPath ?? ".spec.replicas", replicas);
  const meta = isObject(s["metadata"]) ? s["metadata"] : {};
  if (typeof meta["resourceVersion"] === "string" && meta["resourceVersion"] !== "") {
    out.metadata = { ...(out.metadata ?? {}), resourceVersion: meta["resourceVersion"] };
  }
  return out;
}
