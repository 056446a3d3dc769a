// PATCH: applies a JSON patch, merge patch or strategic merge patch to the current object.

import { unsupportedMediaType } from "../apierrors/status.ts";
import type { KubeObject } from "../registry/printers.ts";
import type { ResourceDef } from "../registry/resources.ts";
import { patchMediaTypes, type BodyKind } from "./negotiation.ts";
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from "./patch/index.ts";
import { patchMetaFor } from "./patch-meta.ts";

export function applyPatch(kind: BodyKind, def: ResourceDef, current: KubeObject, patch: Buffer): KubeObject {
  switch (kind) {
    case "json-patch":
      return applyJsonPatch(current, patch);
    case "merge-patch":
      return applyMergePatch(current, patch);
    case "strategic-merge-patch":
      // As upstream: custom resources have no patch strategies, so no strategic merge patch.
      if (def.crd !== undefined) throw unsupportedMediaType(patchMediaTypes(false));
      return applyStrategicMergePatch(current, patch, patchMetaFor(def));
    case "apply-patch":
    case "json":
    case "yaml":
    case "protobuf":
      throw unsupportedMediaType(patchMediaTypes(def.crd === undefined));
  }
}
