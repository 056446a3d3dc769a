// Validation of CustomResourceDefinitions (apiextensions.k8s.io/v1) as
// apiextensions-apiserver's validation.ValidateCustomResourceDefinition(Update) does in v1.32.
// Upstream validates the internal version, into which v1 converts by moving per-version
// schemas, subresources, printer columns and selectable fields that are identical in every
// version to the top level; errors are reported at those paths (`spec.validation.…`,
// `spec.subresources.…`), so this file does the same. Pure functions: nothing is modified.

import type { FieldError } from "../../apierrors/status.ts";
import { goQuote } from "../validation/field.ts";
import { isDNS1035Label, isDNS1123Subdomain, crdNameValidator } from "../validation/names.ts";
import { validateObjectMetaCreate, validateObjectMetaUpdate } from "../validation/object-meta.ts";
import { compileRules, goRule } from "./cel.ts";
import { maxElements, mostExpensive, ruleCostError, ruleCostLowerBound, totalCostError } from "./cel-cost.ts";
import * as e from "./errors.ts";
import { pruneUnknown } from "./pruning.ts";
import {
  FieldPath,
  isObject,
  itemsSchema,
  jsonEqual,
  metaFields,
  type JSONSchemaProps,
  type ValidationRule,
} from "./schema.ts";
import { validateStructural } from "./structural.ts";
import { compileSchemaValidator } from "./validator.ts";

export interface CRDNames {
  plural?: string;
  singular?: string;
  kind?: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

export interface PrinterColumn {
  name?: string;
  type?: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath?: string;
}

export interface ScaleSubresource {
  specReplicasPath?: string;
  statusReplicasPath?: string;
  labelSelectorPath?: string;
}

export interface Subresources {
  status?: Record<string, unknown>;
  scale?: ScaleSubresource;
}

export interface CRDVersionSpec {
  name?: string;
  served?: boolean;
  storage?: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: Subresources;
  additionalPrinterColumns?: PrinterColumn[];
  selectableFields?: { jsonPath?: string }[];
}

export interface CRDConversion {
  strategy?: string;
  webhook?: {
    conversionReviewVersions?: string[];
    clientConfig?: { url?: string; service?: Record<string, unknown>; caBundle?: string };
  };
}

export interface CRDSpec {
  group?: string;
  scope?: string;
  names?: CRDNames;
  versions?: CRDVersionSpec[];
  conversion?: CRDConversion;
  preserveUnknownFields?: boolean;
}

export interface CRDCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface CRDStatus {
  acceptedNames?: CRDNames;
  conditions?: CRDCondition[];
  storedVersions?: string[];
}

export interface CRD {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & {
    name?: string;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec?: CRDSpec;
  status?: CRDStatus;
}

export const conditionTrue = (crd: CRD, type: string): boolean =>
  (crd.status?.conditions ?? []).some((c) => c.type === type && c.status === "True");

// ---- the internal view ---------------------------------------------------------------------

type Str = string | undefined;

/** Where a per-version field lands in the internal version: top-level when identical everywhere. */
interface InternalView {
  validation?: { openAPIV3Schema?: JSONSchemaProps } | undefined;
  validationTop: boolean;
  subresources?: Subresources | undefined;
  subresourcesTop: boolean;
  columns?: PrinterColumn[] | undefined;
  columnsTop: boolean;
  selectableTop: boolean;
}

function internalView(versions: CRDVersionSpec[]): InternalView {
  const first = versions[0];
  const same = <T>(get: (v: CRDVersionSpec) => T): boolean =>
    versions.every((v) => jsonEqual(get(v), get(first!)));
  if (first === undefined) {
    return { validationTop: true, subresourcesTop: true, columnsTop: true, selectableTop: true };
  }
  const validationTop = same((v) => v.schema);
  const subresourcesTop = same((v) => v.subresources);
  const columnsTop = same((v) => v.additionalPrinterColumns ?? []);
  return {
    validation: validationTop ? first.schema : undefined,
    validationTop,
    subresources: subresourcesTop ? first.subresources : undefined,
    subresourcesTop,
    columns: columnsTop ? first.additionalPrinterColumns : undefined,
    columnsTop,
    selectableTop: validationTop && same((v) => v.selectableFields ?? []),
  };
}

// ---- Go renderings of bad values -------------------------------------------------------------

const goBool = (b: boolean | undefined): string => String(b === true);
const goPtr = (t: string, v: unknown): string => `(*${t})(${v === undefined ? "nil" : "0xc000000000"})`;

function goVersions(versions: CRDVersionSpec[]): string {
  const one = (v: CRDVersionSpec): string =>
    `apiextensions.CustomResourceDefinitionVersion{Name:${goQuote(v.name ?? "")}, Served:${goBool(v.served)}, Storage:${goBool(v.storage)}, Deprecated:${goBool(v.deprecated)}, DeprecationWarning:${goPtr("string", v.deprecationWarning)}, Schema:${goPtr("apiextensions.CustomResourceValidation", v.schema)}, Subresources:${goPtr("apiextensions.CustomResourceSubresources", v.subresources)}, AdditionalPrinterColumns:[]apiextensions.CustomResourceColumnDefinition(nil), SelectableFields:[]apiextensions.SelectableField(nil)}`;
  return `[]apiextensions.CustomResourceDefinitionVersion{${versions.map(one).join(", ")}}`;
}

const goStrings = (xs: readonly string[] | undefined): string =>
  xs === undefined ? "[]string(nil)" : `[]string{${xs.map(goQuote).join(", ")}}`;

// ---- names ----------------------------------------------------------------------------------

/** ValidateCustomResourceDefinitionNames: spec.names and status.acceptedNames. */
export function validateNames(names: CRDNames | undefined, path: FieldPath): FieldError[] {
  const n = names ?? {};
  const errs: FieldError[] = [];
  const label = (v: Str, p: FieldPath, prefix = ""): void => {
    if (v === undefined || v === "") return;
    const msgs = isDNS1035Label(prefix === "" ? v : v.toLowerCase());
    if (msgs.length > 0) errs.push(e.invalid(p, e.json(v), `${prefix}${msgs.join(",")}`));
  };
  label(n.plural, path.child("plural"));
  label(n.singular, path.child("singular"));
  label(n.kind, path.child("kind"), "may have mixed case, but should otherwise match: ");
  label(n.listKind, path.child("listKind"), "may have mixed case, but should otherwise match: ");
  (n.shortNames ?? []).forEach((s, i) => label(s, path.child("shortNames").index(i)));
  if (n.kind !== undefined && n.kind !== "" && n.kind === n.listKind) {
    errs.push(e.invalid(path.child("listKind"), e.json(n.listKind), "kind and listKind may not be the same"));
  }
  (n.categories ?? []).forEach((c, i) => label(c, path.child("categories").index(i)));
  return errs;
}

// ---- schemas --------------------------------------------------------------------------------

const openapiV3Types = ["array", "boolean", "integer", "number", "object", "string"];
const supportedReasons = [
  "FieldValueDuplicate",
  "FieldValueForbidden",
  "FieldValueInvalid",
  "FieldValueRequired",
];
const allowedAtRootWithStatus = new Set([
  "description",
  "type",
  "format",
  "title",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "multipleOf",
  "required",
  "items",
  "properties",
  "externalDocs",
  "example",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-validations",
]);
const allowedAtRootNames =
  "[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations]";

interface WalkOptions {
  allowDefaults: boolean;
  disallowDefaultsReason: string;
  insideResourceMeta: boolean;
  /** Set below a list or map whose elements cannot be correlated between revisions. */
  uncorrelatable?: string | undefined;
  /** At least how many times per object a rule at this node runs (1 when absent). */
  cardinality?: number;
  /** Where the rules' estimated costs add up, for the whole schema's limit (cel-cost.ts). */
  costs?: RuleCost[];
}

interface RuleCost {
  readonly path: FieldPath;
  readonly cost: number;
}

interface SchemaErrors {
  schema: FieldError[];
  cel: FieldError[];
}

const hasNewlines = (s: string): boolean => /[\n\r]/.test(s);

/** Whether a rule's fieldPath names a field of the schema (cel.ValidFieldPath). */
function pathValid(s: JSONSchemaProps, fieldPath: string): boolean {
  const re = /^(?:\.([^.[\]]+)|\[['"]([^'"]*)['"]\])/;
  let rest = fieldPath.trim();
  let cur: JSONSchemaProps | undefined = s;
  if (rest === "") return false;
  while (rest !== "") {
    const m = re.exec(rest);
    if (m === null || cur === undefined) return false;
    const key = m[1] ?? m[2] ?? "";
    const next: JSONSchemaProps | undefined =
      cur.properties?.[key] ?? (isObject(cur.additionalProperties) ? cur.additionalProperties : undefined);
    if (next === undefined) return false;
    cur = next;
    rest = rest.slice(m[0].length);
  }
  return true;
}

function validateRules(s: JSONSchemaProps, path: FieldPath, out: SchemaErrors): void {
  (s["x-kubernetes-validations"] ?? []).forEach((rule: ValidationRule, i) => {
    const p = path.child("x-kubernetes-validations").index(i);
    const trimmedRule = (rule.rule ?? "").trim();
    const msg = rule.message ?? "";
    const trimmedMsg = msg.trim();
    if (trimmedRule === "") out.schema.push(e.required(p.child("rule"), "rule is not specified"));
    else if (msg.length > 0 && trimmedMsg === "") {
      out.schema.push(e.invalid(p.child("message"), e.json(msg), "must be non-empty if specified"));
    } else if (hasNewlines(trimmedMsg)) {
      out.schema.push(e.invalid(p.child("message"), e.json(msg), "must not contain line breaks"));
    } else if (hasNewlines(trimmedRule) && trimmedMsg === "") {
      out.schema.push(
        e.required(p.child("message"), "message must be specified if rule contains line breaks"),
      );
    }
    const msgExpr = rule.messageExpression ?? "";
    if (msgExpr.length > 0 && msgExpr.trim() === "") {
      out.schema.push(
        e.required(p.child("messageExpression"), "messageExpression must be non-empty if specified"),
      );
    }
    if (rule.reason !== undefined && !supportedReasons.includes(rule.reason)) {
      out.schema.push(e.notSupported(p.child("reason"), e.json(rule.reason), supportedReasons));
    }
    const fp = rule.fieldPath ?? "";
    if (fp.length > 0 && fp.trim() === "")
      out.schema.push(e.invalid(p.child("fieldPath"), e.json(fp), "must be non-empty if specified"));
    if (hasNewlines(fp))
      out.schema.push(e.invalid(p.child("fieldPath"), e.json(fp), "must not contain line breaks"));
    if (fp.trim().length > 0 && !pathValid(s, fp)) {
      out.schema.push(e.invalid(p.child("fieldPath"), e.json(fp), "must be a valid path"));
    }
  });
}

function validateCEL(
  s: JSONSchemaProps,
  path: FieldPath,
  resourceRoot: boolean,
  o: WalkOptions,
  out: SchemaErrors,
): void {
  const rules = s["x-kubernetes-validations"] ?? [];
  if (rules.length === 0) return;
  const { compiled, errors } = compileRules(s, resourceRoot);
  rules.forEach((rule, i) => {
    const p = path.child("x-kubernetes-validations").index(i);
    if ((rule.rule ?? "").trim() === "") return;
    for (const err of errors[i] ?? []) {
      if (err === undefined) continue;
      const at = p.child(err.field);
      out.cel.push(
        err.required ? e.required(at, err.detail) : e.invalid(at, e.raw(goRule(rule)), err.detail),
      );
    }
    const c = compiled[i];
    if (c !== undefined) {
      const cost = ruleCostLowerBound(rule.rule ?? "", s, o.cardinality ?? 1);
      const costError = ruleCostError(cost);
      if (costError !== undefined) out.cel.push(e.forbidden(p.child("rule"), costError));
      o.costs?.push({ path: p.child("rule"), cost });
    }
    if (c?.usesOldSelf === true) {
      if (o.uncorrelatable !== undefined) {
        out.cel.push(
          e.invalid(
            p.child("rule"),
            e.json(rule.rule ?? ""),
            `oldSelf cannot be used on the uncorrelatable portion of the schema within ${o.uncorrelatable}`,
          ),
        );
      }
    } else if (c !== undefined && rule.optionalOldSelf !== undefined) {
      out.cel.push(
        e.invalid(
          p.child("optionalOldSelf"),
          e.json(rule.optionalOldSelf),
          "may not be set if oldSelf is not used in rule",
        ),
      );
    }
  });
}

/** ValidateCustomResourceDefinitionOpenAPISchema plus specStandardValidatorV3.validate. */
function validateOpenAPISchema(
  s: JSONSchemaProps | undefined,
  path: FieldPath,
  o: WalkOptions,
  isRoot: boolean,
  celEnabled: boolean,
): SchemaErrors {
  const out: SchemaErrors = { schema: [], cel: [] };
  if (s === undefined) return out;
  const se = out.schema;
  if (s.type !== undefined && s.type !== "" && !openapiV3Types.includes(s.type) && s.type !== "null") {
    se.push(e.notSupported(path.child("type"), e.json(s.type), openapiV3Types));
  }
  if (s.default !== undefined && !o.allowDefaults) {
    se.push(
      e.forbidden(
        path.child("default"),
        `must not be set${o.disallowDefaultsReason === "" ? "" : ` ${o.disallowDefaultsReason}`}`,
      ),
    );
  }
  if (s.id !== undefined && s.id !== "") se.push(e.forbidden(path.child("id"), "id is not supported"));
  if (s.additionalItems !== undefined)
    se.push(e.forbidden(path.child("additionalItems"), "additionalItems is not supported"));
  if (s.patternProperties !== undefined && Object.keys(s.patternProperties).length > 0) {
    se.push(e.forbidden(path.child("patternProperties"), "patternProperties is not supported"));
  }
  if (s.definitions !== undefined && Object.keys(s.definitions).length > 0) {
    se.push(e.forbidden(path.child("definitions"), "definitions is not supported"));
  }
  if (s.dependencies !== undefined)
    se.push(e.forbidden(path.child("dependencies"), "dependencies is not supported"));
  if (s.$ref !== undefined) se.push(e.forbidden(path.child("$ref"), "$ref is not supported"));
  if (s.type === "null")
    se.push(e.forbidden(path.child("type"), "type cannot be set to null, use nullable as an alternative"));
  if (Array.isArray(s.items))
    se.push(e.forbidden(path.child("items"), "items must be a schema object and not an array"));
  if (o.insideResourceMeta && s["x-kubernetes-embedded-resource"] === true) {
    se.push(
      e.forbidden(path.child("x-kubernetes-embedded-resource"), "must not be used inside of resource meta"),
    );
  }
  if (s.uniqueItems === true) {
    se.push(
      e.forbidden(
        path.child("uniqueItems"),
        "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
      ),
    );
  }
  const merge = (sub: SchemaErrors): void => {
    out.schema.push(...sub.schema);
    out.cel.push(...sub.cel);
  };
  const props = s.properties ?? {};
  if (s.additionalProperties !== undefined) {
    if (
      Object.keys(props).length > 0 &&
      (s.additionalProperties === false || isObject(s.additionalProperties))
    ) {
      se.push(
        e.forbidden(
          path.child("additionalProperties"),
          "additionalProperties and properties are mutual exclusive",
        ),
      );
    }
    if (isObject(s.additionalProperties)) {
      const each: WalkOptions = { ...o, cardinality: (o.cardinality ?? 1) * maxElements(s) };
      const sub: WalkOptions = o.insideResourceMeta
        ? {
            ...each,
            allowDefaults: false,
            disallowDefaultsReason: "inside additionalProperties applying to object metadata",
          }
        : each;
      merge(
        validateOpenAPISchema(
          s.additionalProperties,
          path.child("additionalProperties"),
          sub,
          false,
          celEnabled,
        ),
      );
    }
  }
  for (const k of Object.keys(props).sort()) {
    let sub: WalkOptions = o;
    if (s["x-kubernetes-map-type"] === "atomic" && sub.uncorrelatable === undefined)
      sub = { ...sub, uncorrelatable: path.toString() };
    if ((isRoot || s["x-kubernetes-embedded-resource"] === true) && metaFields.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = { ...sub, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
    }
    merge(validateOpenAPISchema(props[k], path.child("properties").key(k), sub, false, celEnabled));
  }
  if (s.not !== undefined) merge(validateOpenAPISchema(s.not, path.child("not"), o, false, false));
  for (const [kw, list] of [
    ["allOf", s.allOf],
    ["oneOf", s.oneOf],
    ["anyOf", s.anyOf],
  ] as const) {
    (list ?? []).forEach((x, i) => merge(validateOpenAPISchema(x, path.child(kw).index(i), o, false, false)));
  }
  const items = itemsSchema(s);
  if (items !== undefined) {
    let sub: WalkOptions = { ...o, cardinality: (o.cardinality ?? 1) * maxElements(s) };
    if (s["x-kubernetes-list-type"] !== "map" && sub.uncorrelatable === undefined)
      sub = { ...sub, uncorrelatable: path.toString() };
    merge(validateOpenAPISchema(items, path.child("items"), sub, false, celEnabled));
  }
  if (s["x-kubernetes-preserve-unknown-fields"] === false) {
    se.push(
      e.invalid(
        path.child("x-kubernetes-preserve-unknown-fields"),
        e.json(false),
        "must be true or undefined",
      ),
    );
  }
  const mapType = s["x-kubernetes-map-type"];
  if (mapType !== undefined && s.type !== "object") {
    if (s.type === undefined || s.type === "")
      se.push(e.required(path.child("type"), "must be object if x-kubernetes-map-type is specified"));
    else
      se.push(
        e.invalid(path.child("type"), e.json(s.type), "must be object if x-kubernetes-map-type is specified"),
      );
  }
  if (mapType !== undefined && mapType !== "atomic" && mapType !== "granular") {
    se.push(e.notSupported(path.child("x-kubernetes-map-type"), e.json(mapType), ["atomic", "granular"]));
  }
  const listType = s["x-kubernetes-list-type"];
  if (listType !== undefined && s.type !== "array") {
    if (s.type === undefined || s.type === "")
      se.push(e.required(path.child("type"), "must be array if x-kubernetes-list-type is specified"));
    else
      se.push(
        e.invalid(path.child("type"), e.json(s.type), "must be array if x-kubernetes-list-type is specified"),
      );
  } else if (listType === "set" && items !== undefined) {
    if (
      items.type === "array" &&
      items["x-kubernetes-list-type"] !== undefined &&
      items["x-kubernetes-list-type"] !== "atomic"
    ) {
      se.push(
        e.invalid(
          path.child("items").child("x-kubernetes-list-type"),
          e.raw("(*string)(0xc000000000)"),
          "must be atomic as item of a list with x-kubernetes-list-type=set",
        ),
      );
    }
    if (items.type === "object" && items["x-kubernetes-map-type"] !== "atomic") {
      se.push(
        e.invalid(
          path.child("items").child("x-kubernetes-map-type"),
          e.raw("(*string)(nil)"),
          "must be atomic as item of a list with x-kubernetes-list-type=set",
        ),
      );
    }
  }
  if (listType !== undefined && listType !== "atomic" && listType !== "set" && listType !== "map") {
    se.push(e.notSupported(path.child("x-kubernetes-list-type"), e.json(listType), ["atomic", "set", "map"]));
  }
  const mapKeys = s["x-kubernetes-list-map-keys"] ?? [];
  if (mapKeys.length > 0) {
    if (listType === undefined)
      se.push(
        e.required(
          path.child("x-kubernetes-list-type"),
          "must be map if x-kubernetes-list-map-keys is non-empty",
        ),
      );
    else if (listType !== "map")
      se.push(
        e.invalid(
          path.child("x-kubernetes-list-type"),
          e.json(listType),
          "must be map if x-kubernetes-list-map-keys is non-empty",
        ),
      );
  }
  if (listType === "map") {
    if (mapKeys.length === 0)
      se.push(
        e.required(
          path.child("x-kubernetes-list-map-keys"),
          "must not be empty if x-kubernetes-list-type is map",
        ),
      );
    if (s.items === undefined)
      se.push(e.required(path.child("items"), "must have a schema if x-kubernetes-list-type is map"));
    if (items !== undefined && items.type !== "object") {
      se.push(
        e.invalid(
          path.child("items").child("type"),
          e.json(items.type ?? ""),
          "must be object if parent array's x-kubernetes-list-type is map",
        ),
      );
    }
    if (items !== undefined && items.type === "object") {
      const seen = new Set<string>();
      for (const k of mapKeys) {
        const ks = items.properties?.[k];
        if (ks !== undefined) {
          if (ks.type === "array" || ks.type === "object") {
            se.push(
              e.invalid(
                path.child("items").child("properties").key(k).child("type"),
                e.json(items.type),
                "must be a scalar type if parent array's x-kubernetes-list-type is map",
              ),
            );
          }
        } else {
          se.push(
            e.invalid(
              path.child("x-kubernetes-list-map-keys"),
              e.raw(goStrings(mapKeys)),
              "entries must all be names of item properties",
            ),
          );
        }
        if (seen.has(k))
          se.push(
            e.invalid(
              path.child("x-kubernetes-list-map-keys"),
              e.raw(goStrings(mapKeys)),
              "must not contain duplicate entries",
            ),
          );
        seen.add(k);
      }
    }
  }
  // validateMapListKeysMapSet
  if (items !== undefined && (listType === "set" || listType === "map")) {
    if (items.nullable === true)
      se.push(
        e.forbidden(
          path.child("items").child("nullable"),
          `cannot be nullable when x-kubernetes-list-type is ${listType}`,
        ),
      );
    if (listType === "map") {
      const req = new Set(items.required ?? []);
      for (const k of mapKeys) {
        const ks = items.properties?.[k];
        if (ks === undefined) continue;
        if (!req.has(k) && ks.default === undefined) {
          se.push(
            e.required(
              path.child("items").child("properties").key(k).child("default"),
              "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            ),
          );
        }
        if (ks.nullable === true) {
          se.push(
            e.forbidden(
              path.child("items").child("properties").key(k).child("nullable"),
              "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
            ),
          );
        }
      }
    }
  }
  validateRules(s, path, out);
  if (out.schema.length === 0 && celEnabled) {
    validateCEL(s, path, isRoot || s["x-kubernetes-embedded-resource"] === true, o, out);
  }
  return out;
}

/** Defaults must validate against their schema and must not carry unknown fields. */
function validateDefaults(
  s: JSONSchemaProps | undefined,
  path: FieldPath,
  insideMeta: boolean,
  isRoot: boolean,
): FieldError[] {
  if (s === undefined) return [];
  const errs: FieldError[] = [];
  if (s.default !== undefined && !insideMeta) {
    const at = path.child("default");
    const value = structuredClone(s.default);
    if (isObject(value) || Array.isArray(value)) {
      const pruned = structuredClone(value);
      const wrapper = { x: pruned };
      pruneUnknown(wrapper, { properties: { x: s } });
      if (!jsonEqual(wrapper.x, value))
        errs.push(e.invalid(at, e.json(value), "must not have unknown fields"));
    }
    errs.push(...compileSchemaValidator(s).validate(value, at));
  }
  const items = itemsSchema(s);
  if (items !== undefined) errs.push(...validateDefaults(items, path.child("items"), insideMeta, false));
  for (const k of Object.keys(s.properties ?? {}).sort()) {
    const meta = (isRoot || s["x-kubernetes-embedded-resource"] === true) && metaFields.has(k);
    errs.push(
      ...validateDefaults(s.properties?.[k], path.child("properties").key(k), insideMeta || meta, false),
    );
  }
  return errs;
}

/** ValidateCustomResourceDefinitionValidation for one schema (spec.validation or a version's). */
function validateValidation(
  validation: { openAPIV3Schema?: JSONSchemaProps } | undefined,
  statusEnabled: boolean,
  path: FieldPath,
): FieldError[] {
  const schema = validation?.openAPIV3Schema;
  if (validation === undefined || schema === undefined) return [];
  const schemaPath = path.child("openAPIV3Schema");
  const errs: FieldError[] = [];
  if (!isObject(schema)) return [e.invalid(schemaPath, e.json(schema), "must be an object")];
  if (statusEnabled) {
    for (const k of Object.keys(schema)) {
      if (k === "type") {
        if (schema.type !== "object") {
          errs.push(
            e.invalid(
              path.child("openAPIV3Schema.type"),
              e.json(schema.type),
              `only "object" is allowed as the type at the root of the schema if the status subresource is enabled`,
            ),
          );
          break;
        }
        continue;
      }
      const v = (schema as Record<string, unknown>)[k];
      if (v === undefined || v === false || v === "" || (Array.isArray(v) && v.length === 0)) continue;
      if (!allowedAtRootWithStatus.has(k)) {
        errs.push(
          e.invalid(
            schemaPath,
            e.raw("apiextensions.JSONSchemaProps{…}"),
            `only ${allowedAtRootNames} fields are allowed at the root of the schema if the status subresource is enabled`,
          ),
        );
        break;
      }
    }
  }
  if (schema.nullable === true)
    errs.push(e.forbidden(path.child("openAPIV3Schema.nullable"), "nullable cannot be true at the root"));
  const structural = validateStructural(schema, schemaPath);
  let celEnabled = false;
  if (structural.length > 0) errs.push(...structural);
  else {
    const defaults = validateDefaults(schema, schemaPath, false, true);
    if (defaults.length > 0) errs.push(...defaults);
    else celEnabled = true;
  }
  const costs: RuleCost[] = [];
  const walked = validateOpenAPISchema(
    schema,
    schemaPath,
    { allowDefaults: true, disallowDefaultsReason: "", insideResourceMeta: false, costs },
    true,
    celEnabled,
  );
  const totalError = totalCostError(costs.reduce((sum, r) => sum + r.cost, 0));
  if (totalError !== undefined) {
    for (const r of mostExpensive(costs)) {
      walked.cel.push(
        e.forbidden(
          r.path,
          "contributed to estimated rule & messageExpression cost total exceeding cost limit for entire OpenAPIv3 schema",
        ),
      );
    }
    walked.cel.push(e.forbidden(schemaPath, totalError));
  }
  errs.push(...walked.schema, ...walked.cel);
  if (errs.length === 0) {
    const build = compileSchemaValidator(schema).validate({}, path);
    const buildErr = build.find((x) => x.detail.includes("error building validator"));
    if (buildErr !== undefined) errs.push(buildErr);
  }
  return errs;
}

// ---- subresources, columns, selectable fields, conversion ------------------------------------

function validateSimpleJSONPath(s: string, path: FieldPath): FieldError[] {
  if (s.length === 0) return [e.invalid(path, e.json(s), "must not be empty")];
  if (!s.startsWith(".")) return [e.invalid(path, e.json(s), "must be a simple json path starting with .")];
  return [];
}

function validateSubresources(sub: Subresources | undefined, path: FieldPath): FieldError[] {
  const scale = sub?.scale;
  if (scale === undefined || scale === null) return [];
  const errs: FieldError[] = [];
  const spec = scale.specReplicasPath ?? "";
  if (spec === "") errs.push(e.required(path.child("scale.specReplicasPath")));
  else {
    const pe = validateSimpleJSONPath(spec, path.child("scale.specReplicasPath"));
    if (pe.length > 0) errs.push(...pe);
    else if (!spec.startsWith(".spec."))
      errs.push(
        e.invalid(path.child("scale.specReplicasPath"), e.json(spec), "should be a json path under .spec"),
      );
  }
  const status = scale.statusReplicasPath ?? "";
  if (status === "") errs.push(e.required(path.child("scale.statusReplicasPath")));
  else {
    const pe = validateSimpleJSONPath(status, path.child("scale.statusReplicasPath"));
    if (pe.length > 0) errs.push(...pe);
    else if (!status.startsWith(".status."))
      errs.push(
        e.invalid(
          path.child("scale.statusReplicasPath"),
          e.json(status),
          "should be a json path under .status",
        ),
      );
  }
  const selector = scale.labelSelectorPath ?? "";
  if (selector !== "") {
    const pe = validateSimpleJSONPath(selector, path.child("scale.labelSelectorPath"));
    if (pe.length > 0) errs.push(...pe);
    else if (!selector.startsWith(".spec.") && !selector.startsWith(".status.")) {
      errs.push(
        e.invalid(
          path.child("scale.labelSelectorPath"),
          e.raw("(*string)(0xc000000000)"),
          "should be a json path under either .spec or .status",
        ),
      );
    }
  }
  return errs;
}

const columnTypes = ["boolean", "date", "integer", "number", "string"];
const columnFormats = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"];

function validateColumn(c: PrinterColumn, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if ((c.name ?? "") === "") errs.push(e.required(path.child("name")));
  if ((c.type ?? "") === "")
    errs.push(e.required(path.child("type"), `must be one of ${columnTypes.join(",")}`));
  else if (!columnTypes.includes(c.type!))
    errs.push(e.invalid(path.child("type"), e.json(c.type), `must be one of ${columnTypes.join(",")}`));
  if ((c.format ?? "") !== "" && !columnFormats.includes(c.format!)) {
    errs.push(e.invalid(path.child("format"), e.json(c.format), `must be one of ${columnFormats.join(",")}`));
  }
  if ((c.jsonPath ?? "") === "") errs.push(e.required(path.child("JSONPath")));
  else errs.push(...validateSimpleJSONPath(c.jsonPath!, path.child("JSONPath")));
  return errs;
}

const maxSelectableFields = 8;

function validateSelectableFields(
  fields: { jsonPath?: string }[],
  schema: JSONSchemaProps | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Set<string>();
  fields.forEach((f, i) => {
    const p = path.index(i).child("jsonPath");
    const jp = f.jsonPath ?? "";
    if (jp === "") {
      errs.push(e.required(p));
      return;
    }
    const segs = jp.startsWith(".") ? jp.slice(1).split(".") : undefined;
    let cur = schema;
    for (const s of segs ?? []) cur = cur?.properties?.[s];
    if (segs === undefined || segs.some((s) => s === "") || cur === undefined) {
      errs.push(
        e.invalid(
          p,
          e.json(jp),
          `is an invalid path: ${segs === undefined ? "expected [ or . at position 0" : `does not refer to a valid field`}`,
        ),
      );
      return;
    }
    if (segs[0] === "metadata") errs.push(e.invalid(p, e.json(jp), "must not point to fields in metadata"));
    if (!["string", "boolean", "integer"].includes(cur.type ?? "")) {
      errs.push(
        e.invalid(
          p,
          e.json(jp),
          "must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.",
        ),
      );
    }
    const norm = segs.join(".");
    if (unique.has(norm)) errs.push(e.duplicate(p, e.json(jp)));
    else unique.add(norm);
  });
  if (unique.size > maxSelectableFields) errs.push(e.tooMany(path, unique.size, maxSelectableFields));
  return errs;
}

function validateConversion(
  conv: CRDConversion | undefined,
  versions: number,
  path: FieldPath,
): FieldError[] {
  if (conv === undefined) return [];
  const errs: FieldError[] = [];
  const strategy = conv.strategy ?? "";
  if (strategy === "") errs.push(e.required(path.child("strategy")));
  else if (strategy !== "None" && strategy !== "Webhook")
    errs.push(e.notSupported(path.child("strategy"), e.json(strategy), ["None", "Webhook"]));
  if (strategy === "Webhook") {
    const cc = conv.webhook?.clientConfig;
    if (cc === undefined)
      errs.push(e.required(path.child("webhookClientConfig"), "required when strategy is set to Webhook"));
    else if ((cc.url === undefined) === (cc.service === undefined)) {
      errs.push(e.required(path.child("webhookClientConfig"), "exactly one of url or service is required"));
    }
    const rv = conv.webhook?.conversionReviewVersions ?? [];
    if (rv.length === 0) errs.push(e.required(path.child("conversionReviewVersions")));
    else if (!rv.some((v) => v === "v1" || v === "v1beta1")) {
      errs.push(
        e.invalid(
          path.child("conversionReviewVersions"),
          e.raw(goStrings(rv)),
          "must include at least one of v1, v1beta1",
        ),
      );
    }
    // Multiplane serves several versions with None conversion only: a webhook would never be called.
    if (versions > 1 && errs.length === 0) {
      errs.push(
        e.invalid(
          path.child("strategy"),
          e.json(strategy),
          "conversion webhooks are not supported by this server: use None, or serve a single version",
        ),
      );
    }
  } else if (conv.webhook !== undefined) {
    if (conv.webhook.clientConfig !== undefined)
      errs.push(
        e.forbidden(
          path.child("webhookClientConfig"),
          "should not be set when strategy is not set to Webhook",
        ),
      );
    if ((conv.webhook.conversionReviewVersions ?? []).length > 0) {
      errs.push(
        e.forbidden(
          path.child("conversionReviewVersions"),
          "should not be set when strategy is not set to Webhook",
        ),
      );
    }
  }
  return errs;
}

function validateDeprecationWarning(v: CRDVersionSpec, path: FieldPath): FieldError[] {
  const w = v.deprecationWarning;
  const p = path.child("deprecationWarning");
  if (v.deprecated !== true && w !== undefined)
    return [e.invalid(p, e.json(w), "can only be set for deprecated versions")];
  if (w === undefined) return [];
  const errs: FieldError[] = [];
  if (Buffer.byteLength(w) > 256) errs.push(e.invalid(p, e.json(w), "must be <= 256 characters long"));
  if (w.length === 0) errs.push(e.invalid(p, e.json(w), "must not be an empty string"));
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f-\u009f]/.exec(w);
  if (bad)
    errs.push(
      e.invalid(
        p,
        e.json(w),
        `must only contain printable UTF-8 characters; non-printable character found at index ${Buffer.byteLength(w.slice(0, bad.index))}`,
      ),
    );
  return errs;
}

// ---- spec -----------------------------------------------------------------------------------

const hasStatus = (sub: Subresources | undefined): boolean =>
  sub?.status !== undefined && sub.status !== null;

function validateSpec(spec: CRDSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const group = spec.group ?? "";
  if (group === "") errs.push(e.required(path.child("group")));
  else {
    const msgs = isDNS1123Subdomain(group);
    if (msgs.length > 0) errs.push(e.invalid(path.child("group"), e.json(group), msgs.join(",")));
    else if (group.split(".").length < 2)
      errs.push(e.invalid(path.child("group"), e.json(group), "should be a domain with at least one dot"));
  }
  const scope = spec.scope ?? "";
  if (scope === "") errs.push(e.required(path.child("scope")));
  else if (scope !== "Cluster" && scope !== "Namespaced")
    errs.push(e.notSupported(path.child("scope"), e.json(scope), ["Cluster", "Namespaced"]));

  const versions = spec.versions ?? [];
  const view = internalView(versions);
  if (view.validation?.openAPIV3Schema === undefined) {
    versions.forEach((v, i) => {
      if (v.schema?.openAPIV3Schema === undefined)
        errs.push(e.required(path.child("versions").index(i).child("schema").child("openAPIV3Schema")));
    });
  }
  let storage = 0;
  const names = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const vp = path.child("versions").index(i);
    if (v.storage === true) storage++;
    if (names.has(v.name ?? "")) unique = false;
    names.add(v.name ?? "");
    const msgs = isDNS1035Label(v.name ?? "");
    if (msgs.length > 0) errs.push(e.invalid(vp.child("name"), e.json(v.name ?? ""), msgs.join(",")));
    errs.push(...validateDeprecationWarning(v, vp));
    const statusEnabled = hasStatus(view.subresourcesTop ? view.subresources : v.subresources);
    if (!view.validationTop) errs.push(...validateValidation(v.schema, statusEnabled, vp.child("schema")));
    if (!view.subresourcesTop) errs.push(...validateSubresources(v.subresources, vp.child("subresources")));
    if (!view.columnsTop)
      (v.additionalPrinterColumns ?? []).forEach((c, j) =>
        errs.push(...validateColumn(c, vp.child("additionalPrinterColumns").index(j))),
      );
    if (!view.selectableTop && (v.selectableFields ?? []).length > 0) {
      if (v.schema?.openAPIV3Schema === undefined) {
        errs.push(
          e.invalid(
            vp.child("selectableFields"),
            e.json(""),
            "may only be set when `version.schema.openAPIV3Schema` is not included",
          ),
        );
      } else
        errs.push(
          ...validateSelectableFields(
            v.selectableFields ?? [],
            v.schema.openAPIV3Schema,
            vp.child("selectableFields"),
          ),
        );
    }
  });
  if (!unique)
    errs.push(
      e.invalid(path.child("versions"), e.raw(goVersions(versions)), "must contain unique version names"),
    );
  if (storage !== 1)
    errs.push(
      e.invalid(
        path.child("versions"),
        e.raw(goVersions(versions)),
        "must have exactly one version marked as storage version",
      ),
    );

  const n = spec.names ?? {};
  if ((n.plural ?? "") === "") errs.push(e.required(path.child("names").child("plural")));
  if ((n.singular ?? "") === "") errs.push(e.required(path.child("names").child("singular")));
  if ((n.kind ?? "") === "") errs.push(e.required(path.child("names").child("kind")));
  if ((n.listKind ?? "") === "") errs.push(e.required(path.child("names").child("listKind")));
  errs.push(...validateNames(n, path.child("names")));

  const anyStatus = versions.some((v) => hasStatus(v.subresources));
  if (view.validationTop)
    errs.push(...validateValidation(view.validation, anyStatus, path.child("validation")));
  if (view.subresourcesTop) errs.push(...validateSubresources(view.subresources, path.child("subresources")));
  if (view.columnsTop)
    (view.columns ?? []).forEach((c, j) =>
      errs.push(...validateColumn(c, path.child("additionalPrinterColumns").index(j))),
    );
  const topSelectable = view.selectableTop ? (versions[0]?.selectableFields ?? []) : [];
  if (topSelectable.length > 0) {
    if (view.validation?.openAPIV3Schema === undefined)
      errs.push(
        e.invalid(
          path.child("selectableFields"),
          e.json(""),
          "may only be set when validations.schema is included",
        ),
      );
    else
      errs.push(
        ...validateSelectableFields(
          topSelectable,
          view.validation.openAPIV3Schema,
          path.child("selectableFields"),
        ),
      );
  }
  errs.push(
    ...validateConversion(
      spec.conversion,
      versions.filter((v) => v.served !== false).length,
      path.child("conversion"),
    ),
  );
  return errs;
}

function validateStoredVersions(
  stored: string[] | undefined,
  versions: CRDVersionSpec[],
  path: FieldPath,
): FieldError[] {
  const sv = stored ?? [];
  if (sv.length === 0)
    return [e.invalid(path, e.raw(goStrings(stored)), "must have at least one stored version")];
  const errs: FieldError[] = [];
  const remaining = new Map(sv.map((v, i) => [v, i]));
  for (const v of versions) {
    const has = remaining.has(v.name ?? "");
    if (v.storage === true && !has)
      errs.push(e.invalid(path, e.raw(goStrings(sv)), `must have the storage version ${v.name ?? ""}`));
    if (has) remaining.delete(v.name ?? "");
  }
  for (const [v, i] of remaining) {
    errs.push(
      e.invalid(
        path.index(i),
        e.json(v),
        `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      ),
    );
  }
  return errs;
}

const approvalAnnotation = "api-approved.kubernetes.io";

type Approval = "Approved" | "Bypassed" | "Invalid" | "Missing";

function approvalState(annotations: Record<string, string> | undefined): { state: Approval; reason: string } {
  const v = annotations?.[approvalAnnotation];
  if (v === undefined) {
    return {
      state: "Missing",
      reason: `protected groups must have approval annotation "${approvalAnnotation}", see https://github.com/kubernetes/enhancements/pull/1111`,
    };
  }
  if (v.startsWith("unapproved")) return { state: "Bypassed", reason: "" };
  try {
    const u = new URL(v);
    if (u.protocol === "http:" || u.protocol === "https:") return { state: "Approved", reason: "" };
  } catch {
    // not a URL
  }
  return {
    state: "Invalid",
    reason: `protected groups must have approval annotation "${approvalAnnotation}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`,
  };
}

const isProtectedGroup = (g: string): boolean =>
  g === "k8s.io" || g.endsWith(".k8s.io") || g === "kubernetes.io" || g.endsWith(".kubernetes.io");

function validateApproval(crd: CRD, old: CRD | undefined): FieldError[] {
  if (!isProtectedGroup(crd.spec?.group ?? "")) return [];
  const next = approvalState(crd.metadata?.annotations);
  if (old !== undefined && approvalState(old.metadata?.annotations).state === next.state) return [];
  const p = FieldPath.of("metadata.annotations").key(approvalAnnotation);
  switch (next.state) {
    case "Missing":
      return [e.required(p, next.reason)];
    case "Invalid":
      return [e.invalid(p, e.json(crd.metadata?.annotations?.[approvalAnnotation] ?? ""), next.reason)];
    case "Approved":
    case "Bypassed":
      return [];
  }
}

function validatePreserveUnknownFields(crd: CRD, old: CRD | undefined): FieldError[] {
  if (old?.spec?.preserveUnknownFields === true) return [];
  if (crd.spec?.preserveUnknownFields === true) {
    return [
      e.invalid(
        "spec.preserveUnknownFields",
        e.raw("(*bool)(0xc000000000)"),
        "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
      ),
    ];
  }
  return [];
}

const immutable = (now: unknown, before: unknown, path: string): FieldError[] =>
  now === before ? [] : [e.invalid(path, e.json(now ?? ""), "field is immutable")];

/**
 * ValidateCustomResourceDefinition (old undefined) or …Update. The object has been defaulted
 * (singular, listKind, conversion, storedVersions). Never changes its arguments.
 */
export function validateCRD(crd: CRD, old?: CRD): FieldError[] {
  const errs: FieldError[] = [];
  const meta = crd.metadata ?? {};
  if (old === undefined) {
    errs.push(...validateObjectMetaCreate(meta, { namespaced: false, nameValidator: crdNameValidator(crd) }));
  } else {
    const oldMeta = old.metadata ?? {};
    const withRv =
      meta["resourceVersion"] === undefined
        ? { ...meta, resourceVersion: oldMeta["resourceVersion"] ?? "0" }
        : meta;
    errs.push(...validateObjectMetaUpdate(withRv, oldMeta));
  }
  const spec = crd.spec ?? {};
  errs.push(...validateSpec(spec, FieldPath.of("spec")));
  if (old !== undefined) {
    const oldSpec = old.spec ?? {};
    if (conditionTrue(old, "Established")) {
      errs.push(...immutable(spec.scope, oldSpec.scope, "spec.scope"));
      errs.push(...immutable(spec.names?.kind, oldSpec.names?.kind, "spec.names.kind"));
    }
    errs.push(...immutable(spec.group, oldSpec.group, "spec.group"));
    errs.push(...immutable(spec.names?.plural, oldSpec.names?.plural, "spec.names.plural"));
  }
  errs.push(...validateNames(crd.status?.acceptedNames, FieldPath.of("status.acceptedNames")));
  errs.push(
    ...validateStoredVersions(
      crd.status?.storedVersions,
      spec.versions ?? [],
      FieldPath.of("status.storedVersions"),
    ),
  );
  errs.push(...validateApproval(crd, old));
  errs.push(...validatePreserveUnknownFields(crd, old));
  return errs;
}
