// The three non-apply patch types of kube-apiserver v1.32 as pure functions over plain JSON:
// JSON patch (RFC 6902, json-patch.patcher.ts), JSON merge patch (RFC 7386,
// merge-patch.patcher.ts) and strategic merge patch (strategic-merge-patch.patcher.ts),
// driven by a PatchMeta schema lookup (patch-meta.ts). Each decodes the body and answers
// errors with the Status kube-apiserver sends (patch.errors.ts); go-*.ts reproduce the Go
// behaviours those answers depend on.

export { applyJsonPatch, jsonPatchMaxCopyBytes, maxJsonPatchOperations } from "./json-patch.patcher.ts";
export { applyMergePatch } from "./merge-patch.patcher.ts";
export { applyStrategicMergePatch } from "./strategic-merge-patch.patcher.ts";
export { patchMetaFromOpenAPI, unknownPatchMeta, type FieldPatchMeta, type PatchMeta } from "./patch-meta.ts";
export { patchNotAppliedMessage } from "./patch.errors.ts";
export type {
  FieldValidation,
  JsonObject,
  JsonPrimitive,
  JsonValue,
  PatchBody,
  PatchOptions,
  PatchTarget,
} from "./json.types.ts";
