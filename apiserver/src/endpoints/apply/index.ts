// Field management and server-side apply, as kube-apiserver v1.32 does them on top of
// sigs.k8s.io/structured-merge-diff: field paths and sets (fieldpath.ts), types read from
// OpenAPI schemas (schema-types.ts), typed walks over objects (typed-value.ts),
// metadata.managedFields for every write (managed-fields.ts), apply itself
// (server-side-apply.ts), the fieldManager/force parameters (field-manager.ts) and the
// PATCH handling of application/apply-patch+yaml (apply.handler.ts).

export { FieldSet, pathString, type Path, type PathElement } from "./fieldpath.ts";
export { rootTypeOf, type FieldType } from "./schema-types.ts";
export { toFieldSet, compare, merge, removeItems } from "./typed-value.ts";
export {
  scopeFor,
  updateManagedFields,
  type FieldManagementScope,
  type ManagedFieldsEntry,
  type UpdateArgs,
} from "./managed-fields.ts";
export {
  applyConfig,
  conflictError,
  lastAppliedAnnotation,
  type ApplyArgs,
  type ApplyResult,
} from "./server-side-apply.ts";
export { applyOptions, managerFromUserAgent, writeManager } from "./field-manager.ts";
export { handleApplyPatch, type ApplyRequest } from "./apply.handler.ts";
