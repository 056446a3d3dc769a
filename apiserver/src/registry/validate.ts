// Validation of an object before it is stored: built-in kinds through their upstream
// rules (validation/), other kinds (custom resources, CRDs) through the metadata rules;
// a kind's strategy may add its own after these. Returns field errors; the store turns
// them into 422 Invalid.

import type { FieldError } from "../apierrors/status.ts";
import type { KubeObject } from "./printers.ts";
import { kindKey, type ResourceDef } from "./resources.ts";
import {
  nameValidatorFor,
  validateObjectMetaCreate,
  validateObjectMetaUpdate,
  validatorsByKind,
} from "./validation/index.ts";

export function validateObject(def: ResourceDef, obj: KubeObject, old?: KubeObject): FieldError[] {
  const key = kindKey(def);
  const builtin = def.crd === undefined ? validatorsByKind[key] : undefined;
  if (builtin !== undefined) return old === undefined ? builtin.create(obj) : builtin.update(obj, old);
  const opts = { namespaced: def.namespaced, nameValidator: nameValidatorFor(key, obj) };
  const errors = validateObjectMetaCreate(obj.metadata, opts);
  if (old !== undefined) errors.push(...validateObjectMetaUpdate(obj.metadata, old.metadata));
  return errors;
}
