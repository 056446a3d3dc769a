// ObjectMeta validation as k8s.io/apimachinery/pkg/api/validation/objectmeta.go (v1.32), with the
// finalizer rule pkg/apis/core/validation adds for core-style kinds (`kubeFinalizers`), and the
// label-selector checks of pkg/apis/meta/v1/validation. Paths, cause types and messages are
// upstream's, including its quirks (label and owner-reference errors name the whole map or list,
// not the entry).

import type { FieldError } from "../../apierrors/status.ts";
import * as field from "./field.ts";
import { GoRepr, Path, goPointer, goQuote, goStringSlice, goStruct } from "./field.ts";
import { isDNS1123Label, isQualifiedName, isValidLabelValue, type NameValidator } from "./names.ts";
import { Wire, byteLength, goTimeString, sameTime, type JsonObject } from "./wire.ts";

export const fieldImmutableErrorMsg = "field is immutable";
export const isNegativeErrorMsg = "must be greater than or equal to 0";
/** TotalAnnotationSizeLimitB: keys plus values, in bytes. */
export const totalAnnotationSizeLimit = 256 * (1 << 10);

/** How a kind's metadata is validated; built by each kind's validator (read only, never changed). */
export interface ObjectMetaOptions {
  /** Whether the kind lives in a namespace (metadata.namespace required) or not (forbidden). */
  readonly namespaced: boolean;
  /** The kind's name rule; see nameValidatorFor. */
  readonly nameValidator: NameValidator;
  /**
   * Core-style kinds (core, RBAC, events.k8s.io) also require each metadata.finalizers[i] without
   * a "/" to be one of the standard finalizers.
   */
  readonly kubeFinalizers?: boolean;
}

const toPath = (p: string | Path): Path => (typeof p === "string" ? Path.root(p) : p);

/**
 * ValidateObjectMeta for a create. Expects name generation to have happened (a generateName is
 * checked as a prefix, the name in full). Called by every kind's validator; never changes `meta`.
 */
export function validateObjectMetaCreate(
  meta: unknown,
  opts: ObjectMetaOptions,
  fieldPath: string | Path = "metadata",
): FieldError[] {
  const p = toPath(fieldPath);
  const errs: FieldError[] = [];
  const w = new Wire(errs);
  const m = w.object(meta, p) ?? {};

  const generateName = w.string(m.generateName, p.child("generateName")) ?? "";
  if (generateName.length > 0) {
    for (const msg of opts.nameValidator(generateName, true)) {
      errs.push(field.invalid(p.child("generateName"), generateName, msg));
    }
  }
  const name = w.string(m.name, p.child("name")) ?? "";
  if (name.length === 0) errs.push(field.required(p.child("name"), "name or generateName is required"));
  else
    for (const msg of opts.nameValidator(name, false)) errs.push(field.invalid(p.child("name"), name, msg));

  const namespace = w.string(m.namespace, p.child("namespace")) ?? "";
  if (opts.namespaced) {
    if (namespace.length === 0) errs.push(field.required(p.child("namespace")));
    else
      for (const msg of isDNS1123Label(namespace))
        errs.push(field.invalid(p.child("namespace"), namespace, msg));
  } else if (namespace.length > 0) {
    errs.push(field.forbidden(p.child("namespace"), "not allowed on this type"));
  }

  const generation = w.int(m.generation, p.child("generation"), true) ?? 0;
  if (generation < 0) errs.push(field.invalid(p.child("generation"), generation, isNegativeErrorMsg));

  errs.push(...validateLabels(w.stringMap(m.labels, p.child("labels")), p.child("labels")));
  errs.push(
    ...validateAnnotations(w.stringMap(m.annotations, p.child("annotations")), p.child("annotations")),
  );
  errs.push(...validateOwnerReferences(m.ownerReferences, p.child("ownerReferences"), w));
  const finalizers = w.strings(m.finalizers, p.child("finalizers"));
  errs.push(...validateFinalizers(finalizers, p.child("finalizers")));
  errs.push(...validateManagedFields(m.managedFields, p.child("managedFields"), w));
  if (opts.kubeFinalizers === true) {
    (finalizers ?? []).forEach((f, i) =>
      errs.push(...validateKubeFinalizerName(f, p.child("finalizers").index(i))),
    );
  }
  return errs;
}

/**
 * ValidateObjectMetaUpdate: immutable identity (name, namespace, uid, creation and deletion
 * timestamps, grace period), resourceVersion required, generation never decremented, no new
 * finalizers once deletion started, and the new labels, annotations, owner references and
 * managed fields. Never changes either argument.
 */
export function validateObjectMetaUpdate(
  newMeta: unknown,
  oldMeta: unknown,
  opts: Pick<ObjectMetaOptions, "kubeFinalizers"> = {},
  fieldPath: string | Path = "metadata",
): FieldError[] {
  const p = toPath(fieldPath);
  const errs: FieldError[] = [];
  const w = new Wire(errs);
  const n = w.object(newMeta, p) ?? {};
  // The old object is stored data: its shape is trusted and never reported on.
  const o = new Wire([]).object(oldMeta, p) ?? {};
  const ow = new Wire([]);

  const newFinalizers = w.strings(n.finalizers, p.child("finalizers"));
  if (o.deletionTimestamp !== undefined && o.deletionTimestamp !== null) {
    const old = new Set(ow.strings(o.finalizers, p) ?? []);
    const extra = [...new Set(newFinalizers ?? [])].filter((f) => !old.has(f)).sort();
    if (extra.length > 0) {
      errs.push(
        field.forbidden(
          p.child("finalizers"),
          `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice("string", extra).text}`,
        ),
      );
    }
  }

  const resourceVersion = w.string(n.resourceVersion, p.child("resourceVersion")) ?? "";
  if (resourceVersion.length === 0) {
    errs.push(field.invalid(p.child("resourceVersion"), resourceVersion, "must be specified for an update"));
  }
  const generation = w.int(n.generation, p.child("generation"), true) ?? 0;
  if (generation < (ow.int(o.generation, p, true) ?? 0)) {
    errs.push(field.invalid(p.child("generation"), generation, "must not be decremented"));
  }

  for (const key of ["name", "namespace", "uid"] as const) {
    const nv = w.string(n[key], p.child(key)) ?? "";
    if (nv !== (ow.string(o[key], p) ?? ""))
      errs.push(field.invalid(p.child(key), nv, fieldImmutableErrorMsg));
  }
  const nCreated = w.time(n.creationTimestamp, p.child("creationTimestamp"));
  if (!sameTime(nCreated, ow.time(o.creationTimestamp, p))) {
    errs.push(
      field.invalid(p.child("creationTimestamp"), new GoRepr(goTimeString(nCreated)), fieldImmutableErrorMsg),
    );
  }
  const nDeleted = w.time(n.deletionTimestamp, p.child("deletionTimestamp"));
  if (!sameTime(nDeleted, ow.time(o.deletionTimestamp, p))) {
    const bad = nDeleted === undefined ? null : new GoRepr(goTimeString(nDeleted));
    errs.push(field.invalid(p.child("deletionTimestamp"), bad, fieldImmutableErrorMsg));
  }
  const nGrace = w.int(n.deletionGracePeriodSeconds, p.child("deletionGracePeriodSeconds"), true);
  if (nGrace !== ow.int(o.deletionGracePeriodSeconds, p, true)) {
    errs.push(field.invalid(p.child("deletionGracePeriodSeconds"), nGrace ?? null, fieldImmutableErrorMsg));
  }

  errs.push(...validateLabels(w.stringMap(n.labels, p.child("labels")), p.child("labels")));
  errs.push(
    ...validateAnnotations(w.stringMap(n.annotations, p.child("annotations")), p.child("annotations")),
  );
  errs.push(...validateOwnerReferences(n.ownerReferences, p.child("ownerReferences"), w));
  errs.push(...validateManagedFields(n.managedFields, p.child("managedFields"), w));
  if (opts.kubeFinalizers === true) {
    (newFinalizers ?? []).forEach((f, i) =>
      errs.push(...validateKubeFinalizerName(f, p.child("finalizers").index(i))),
    );
  }
  return errs;
}

/** ValidateLabels: key errors and value errors both name the labels map itself. */
export function validateLabels(
  labels: readonly (readonly [string, string])[] | undefined,
  path: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of labels ?? []) {
    errs.push(...validateLabelName(k, path));
    for (const msg of isValidLabelValue(v)) errs.push(field.invalid(path, v, msg));
  }
  return errs;
}

export const validateLabelName = (name: string, path: Path): FieldError[] =>
  isQualifiedName(name).map((msg) => field.invalid(path, name, msg));

/** ValidateAnnotations: keys are qualified names in any case; keys plus values at most 256 KiB. */
export function validateAnnotations(
  annotations: readonly (readonly [string, string])[] | undefined,
  path: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of annotations ?? []) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(field.invalid(path, k, msg));
    total += byteLength(k) + byteLength(v);
  }
  if (total > totalAnnotationSizeLimit) errs.push(field.tooLong(path, totalAnnotationSizeLimit));
  return errs;
}

const finalizerOrphan = "orphan";
const finalizerForeground = "foregroundDeletion";
const standardFinalizers = new Set(["kubernetes", finalizerOrphan, finalizerForeground]);

/** ValidateFinalizers: qualified names (reported on the list), never both orphan and foregroundDeletion. */
export function validateFinalizers(finalizers: readonly string[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of finalizers ?? []) errs.push(...validateFinalizerName(f, path));
  const list = finalizers ?? [];
  if (list.includes(finalizerOrphan) && list.includes(finalizerForeground)) {
    errs.push(
      field.invalid(
        path,
        goStringSlice("string", list),
        `finalizer ${finalizerOrphan} and ${finalizerForeground} cannot be both set`,
      ),
    );
  }
  return errs;
}

export const validateFinalizerName = (name: string, path: Path): FieldError[] =>
  isQualifiedName(name).map((msg) => field.invalid(path, name, msg));

/** validateKubeFinalizerName: a finalizer without a domain must be a standard one. */
export function validateKubeFinalizerName(name: string, path: Path): FieldError[] {
  if (name.split("/").length === 1 && !standardFinalizers.has(name)) {
    return [field.invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified")];
  }
  return [];
}

/** schema.ParseGroupVersion, as FromAPIVersionAndKind uses it. */
export function parseGroupVersion(gv: string): { group: string; version: string } | undefined {
  if (gv.length === 0 || gv === "/") return { group: "", version: "" };
  const parts = gv.split("/");
  if (parts.length === 1) return { group: "", version: gv };
  if (parts.length === 2) return { group: parts[0] ?? "", version: parts[1] ?? "" };
  return undefined;
}

interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean | undefined;
  blockOwnerDeletion: boolean | undefined;
}

const goOwnerRef = (r: OwnerRef): string =>
  goStruct("v1.OwnerReference", [
    ["APIVersion", goQuote(r.apiVersion)],
    ["Kind", goQuote(r.kind)],
    ["Name", goQuote(r.name)],
    ["UID", goQuote(r.uid)],
    ["Controller", goPointer("bool", r.controller === undefined)],
    ["BlockOwnerDeletion", goPointer("bool", r.blockOwnerDeletion === undefined)],
  ]);

/** ValidateOwnerReferences: each reference complete (errors name the list), at most one controller. */
export function validateOwnerReferences(refs: unknown, path: Path, w: Wire = new Wire([])): FieldError[] {
  const errs: FieldError[] = [];
  const items = w.objects(refs, path);
  if (items === undefined) return errs;
  const parsed: OwnerRef[] = items.map(([o, i]) => readOwnerRef(o, path.index(i), w));
  let firstController = "";
  for (const ref of parsed) {
    const gv = parseGroupVersion(ref.apiVersion);
    const version = gv?.version ?? "";
    if (version.length === 0) {
      errs.push(field.invalid(path.child("apiVersion"), ref.apiVersion, "version must not be empty"));
    }
    if (ref.kind.length === 0) errs.push(field.invalid(path.child("kind"), ref.kind, "must not be empty"));
    if (ref.name.length === 0) errs.push(field.invalid(path.child("name"), ref.name, "must not be empty"));
    if (ref.uid.length === 0) errs.push(field.invalid(path.child("uid"), ref.uid, "must not be empty"));
    if (gv !== undefined && gv.group === "" && version === "v1" && ref.kind === "Event") {
      errs.push(
        field.invalid(path, new GoRepr(goOwnerRef(ref)), "/v1, Kind=Event is disallowed from being an owner"),
      );
    }
    if (ref.controller === true) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController !== "") {
        const all = new GoRepr(`[]v1.OwnerReference{${parsed.map(goOwnerRef).join(", ")}}`);
        errs.push(
          field.invalid(
            path,
            all,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else firstController = current;
    }
  }
  return errs;
}

function readOwnerRef(o: JsonObject, p: Path, w: Wire): OwnerRef {
  return {
    apiVersion: w.string(o.apiVersion, p.child("apiVersion")) ?? "",
    kind: w.string(o.kind, p.child("kind")) ?? "",
    name: w.string(o.name, p.child("name")) ?? "",
    uid: w.string(o.uid, p.child("uid")) ?? "",
    controller: w.bool(o.controller, p.child("controller")),
    blockOwnerDeletion: w.bool(o.blockOwnerDeletion, p.child("blockOwnerDeletion")),
  };
}

const fieldManagerMaxLength = 128;
const maxSubresourceNameLength = 256;
const printableRune = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** ValidateFieldManager: at most 128 bytes, printable characters only. */
export function validateFieldManager(manager: string, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (byteLength(manager) > fieldManagerMaxLength) errs.push(field.tooLong(path, fieldManagerMaxLength));
  let pos = 0;
  for (const c of manager) {
    if (!printableRune.test(c)) {
      const cp = (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
      errs.push(field.invalid(path, manager, `invalid character U+${cp} (at position ${pos})`));
    }
    pos += byteLength(c);
  }
  return errs;
}

/** ValidateManagedFields: operation Apply|Update, fieldsType FieldsV1, a valid manager, a short subresource. */
export function validateManagedFields(entries: unknown, path: Path, w: Wire = new Wire([])): FieldError[] {
  const errs: FieldError[] = [];
  for (const [e, i] of w.objects(entries, path) ?? []) {
    const p = path.index(i);
    const operation = w.string(e.operation, p.child("operation")) ?? "";
    if (operation !== "Apply" && operation !== "Update") {
      errs.push(field.invalid(p.child("operation"), operation, "must be `Apply` or `Update`"));
    }
    const fieldsType = w.string(e.fieldsType, p.child("fieldsType")) ?? "";
    if (fieldsType.length > 0 && fieldsType !== "FieldsV1") {
      errs.push(field.invalid(p.child("fieldsType"), fieldsType, "must be `FieldsV1`"));
    }
    errs.push(...validateFieldManager(w.string(e.manager, p.child("manager")) ?? "", p.child("manager")));
    const subresource = w.string(e.subresource, p.child("subresource")) ?? "";
    if (byteLength(subresource) > maxSubresourceNameLength) {
      errs.push(field.tooLong(p.child("subresource"), maxSubresourceNameLength));
    }
  }
  return errs;
}

/** Options of validateLabelSelector, passed by webhook and policy validators (read only). */
export interface LabelSelectorOptions {
  /** Skip the label-value check of matchExpressions values (webhook updates of legacy objects). */
  readonly allowInvalidLabelValueInSelector?: boolean;
}

/** ValidateLabelSelector (metav1): matchLabels as labels, matchExpressions operators, keys and values. */
export function validateLabelSelector(
  selector: unknown,
  opts: LabelSelectorOptions,
  path: Path,
  w: Wire = new Wire([]),
): FieldError[] {
  const errs: FieldError[] = [];
  const s = w.object(selector, path);
  if (s === undefined) return errs;
  errs.push(
    ...validateLabels(w.stringMap(s.matchLabels, path.child("matchLabels")), path.child("matchLabels")),
  );
  for (const [e, i] of w.objects(s.matchExpressions, path.child("matchExpressions")) ?? []) {
    const p = path.child("matchExpressions").index(i);
    const operator = w.string(e.operator, p.child("operator")) ?? "";
    const values = w.strings(e.values, p.child("values")) ?? [];
    switch (operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) {
          errs.push(
            field.required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"),
          );
        }
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) {
          errs.push(
            field.forbidden(
              p.child("values"),
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        }
        break;
      default:
        errs.push(field.invalid(p.child("operator"), operator, "not a valid selector operator"));
    }
    errs.push(...validateLabelName(w.string(e.key, p.child("key")) ?? "", p.child("key")));
    if (opts.allowInvalidLabelValueInSelector !== true) {
      values.forEach((v, vi) => {
        for (const msg of isValidLabelValue(v)) errs.push(field.invalid(p.child("values").index(vi), v, msg));
      });
    }
  }
  return errs;
}
