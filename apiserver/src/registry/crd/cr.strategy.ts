// The strategy of one served version of a custom resource (apiextensions-apiserver's
// customResourceStrategy): decoding's pruning and defaulting in prepare, then validation of
// metadata, the version's schema, scale paths, list types, embedded resources and CEL rules.
// Reads decode as kube's storage codec does: pruning and defaults of the schema of the version
// the object is stored in (a default added to the CRD later shows on old objects, unwritten).
// Compiled validators are built on first use and kept for the life of the strategy (which
// lives as long as the CRD object it was built from).

import { methodNotAllowed, type FieldError } from "../../apierrors/status.ts";
import { nameIsDNSSubdomain } from "../validation/names.ts";
import { validateObjectMetaCreate, validateObjectMetaUpdate } from "../validation/object-meta.ts";
import type { KubeObject } from "../printers.ts";
import type { Strategy } from "../resources.ts";
import { CelValidator } from "./cel.ts";
import type { ScaleSubresource } from "./crd.validation.ts";
import * as e from "./errors.ts";
import { validateEmbedded, validateListTypes } from "./list-type.ts";
import { pruneAndDefault } from "./pruning.ts";
import { readPath } from "./scale.ts";
import type { JSONSchemaProps } from "./schema.ts";
import { compileSchemaValidator, type SchemaValidator } from "./validator.ts";

export interface CustomResourceVersionInfo {
  readonly group: string;
  readonly kind: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly schema: JSONSchemaProps | undefined;
  /**
   * Every version's schema by version name: a stored object is decoded with its version's.
   * Absent: only this version's schema is known.
   */
  readonly schemas?: ReadonlyMap<string, JSONSchemaProps | undefined>;
  readonly statusSubresource: boolean;
  readonly scale: ScaleSubresource | undefined;
  /** The CRD is being deleted: no new objects. */
  readonly terminating: boolean;
}

/** A custom resource version's strategy, plus the pruning the handler reports for fieldValidation. */
export interface CustomResourceStrategy extends Strategy {
  /** Drops undeclared fields from `obj` (in place) and returns their paths. */
  pruneUnknownFields(obj: KubeObject): string[];
}

const maxInt32 = 2 ** 31 - 1;

/** Go's %v of a decoded JSON value, near enough for accessor errors. */
const goString = (v: unknown): string =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);

function validateScale(obj: KubeObject, scale: ScaleSubresource | undefined): FieldError[] {
  if (scale === undefined) return [];
  const errs: FieldError[] = [];
  for (const path of [scale.specReplicasPath ?? "", scale.statusReplicasPath ?? ""]) {
    if (path === "") continue;
    const v = readPath(obj, path);
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      errs.push(
        e.invalid(
          path,
          e.json(0),
          `${path} accessor error: ${goString(v)} is of the type ${typeof v}, expected int64`,
        ),
      );
    } else if (v < 0) {
      errs.push(e.invalid(path, e.json(v), "should be a non-negative integer"));
    } else if (v > maxInt32) {
      errs.push(e.invalid(path, e.json(v), `should be less than or equal to ${maxInt32}`));
    }
  }
  const selectorPath = scale.labelSelectorPath ?? "";
  if (selectorPath !== "") {
    const v = readPath(obj, selectorPath);
    if (v !== undefined && typeof v !== "string") {
      errs.push(
        e.invalid(
          selectorPath,
          e.json(""),
          `${selectorPath} accessor error: ${goString(v)} is of the type ${typeof v}, expected string`,
        ),
      );
    }
  }
  return errs;
}

export function customResourceStrategy(info: CustomResourceVersionInfo): CustomResourceStrategy {
  let validator: SchemaValidator | undefined;
  let cel: CelValidator | null | undefined;
  const schemaValidator = (): SchemaValidator | undefined => {
    if (info.schema === undefined) return undefined;
    validator ??= compileSchemaValidator(info.schema);
    return validator;
  };
  const celValidator = (): CelValidator | null => {
    if (cel === undefined) cel = CelValidator.hasRules(info.schema) ? new CelValidator(info.schema!) : null;
    return cel;
  };
  const prepare = (obj: KubeObject): void => {
    pruneAndDefault(obj, info.schema);
  };
  // Decoded cache entries, kept while the entry lives (kube's watch cache holds decoded objects).
  const decoded = new WeakMap<KubeObject, KubeObject>();
  return {
    generation: true,
    statusSubresource: info.statusSubresource,
    pruneUnknownFields(obj) {
      return pruneAndDefault(obj, info.schema);
    },
    prepareForCreate(obj) {
      if (info.terminating) {
        throw methodNotAllowed("create not allowed while custom resource definition is terminating");
      }
      prepare(obj);
    },
    prepareForUpdate(obj) {
      prepare(obj);
    },
    decode(obj) {
      const stored = (obj.apiVersion ?? "").split("/").at(-1) ?? "";
      const schema = info.schemas?.get(stored) ?? (stored === info.version ? info.schema : undefined);
      if (schema === undefined) return obj;
      let out = decoded.get(obj);
      if (out === undefined) {
        out = structuredClone(obj);
        pruneAndDefault(out, schema);
        decoded.set(obj, out);
      }
      return out;
    },
    validate(obj, old) {
      const errs: FieldError[] = [];
      const opts = { namespaced: info.namespaced, nameValidator: nameIsDNSSubdomain };
      if (old === undefined) errs.push(...validateObjectMetaCreate(obj.metadata, opts));
      else {
        const meta = { ...(obj.metadata ?? {}) };
        meta.resourceVersion ??= old.metadata?.resourceVersion ?? "0";
        errs.push(...validateObjectMetaCreate(meta, opts), ...validateObjectMetaUpdate(meta, old.metadata));
      }
      errs.push(...(schemaValidator()?.validate(obj) ?? []));
      errs.push(...validateScale(obj, info.scale));
      errs.push(...validateEmbedded(info.schema, obj));
      errs.push(...validateListTypes(info.schema, obj));
      const rules = celValidator();
      if (rules !== null) {
        if (errs.some((x) => x.type === "FieldValueTypeInvalid")) {
          errs.push(
            e.invalid(
              "<nil>",
              e.json(null),
              "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
            ),
          );
        } else {
          errs.push(...rules.validate(obj, old));
        }
      }
      return errs;
    },
  };
}
