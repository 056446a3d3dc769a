// The strategy of the CustomResourceDefinition kind itself (apiextensions-apiserver's
// registry/customresourcedefinition strategy): v1 defaulting, status reset on create,
// storedVersions kept, and validation. Names acceptance and the Established and Terminating
// conditions are the per-tenant CRD controller's (crd.controller.ts).

import type { FieldError } from "../../apierrors/status.ts";
import type { KubeObject } from "../printers.ts";
import type { Strategy } from "../resources.ts";
import { validateCRD } from "./crd.validation.ts";
import { isObject } from "./schema.ts";

/**
 * Held by every CRD until its custom resources are deleted. Upstream adds it when deletion
 * starts; here it is added on create (the generic store has no delete hook), and kept while
 * the CRD is not being deleted.
 */
export const cleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

/** SetDefaults_CustomResourceDefinition(Spec) of apiextensions/v1. Modifies `obj`. */
export function defaultCRD(obj: KubeObject): void {
  const spec = isObject(obj["spec"]) ? obj["spec"] : undefined;
  if (spec === undefined) return;
  const names = isObject(spec["names"]) ? spec["names"] : undefined;
  const kind = typeof names?.["kind"] === "string" ? names["kind"] : "";
  if (names !== undefined) {
    if (typeof names["singular"] !== "string" || names["singular"] === "")
      names["singular"] = kind.toLowerCase();
    if ((typeof names["listKind"] !== "string" || names["listKind"] === "") && kind !== "")
      names["listKind"] = `${kind}List`;
  }
  if (spec["conversion"] === undefined || spec["conversion"] === null)
    spec["conversion"] = { strategy: "None" };
  const conversion = spec["conversion"];
  if (isObject(conversion) && isObject(conversion["webhook"])) {
    const cc = conversion["webhook"]["clientConfig"];
    if (isObject(cc) && isObject(cc["service"])) cc["service"]["port"] ??= 443;
  }
}

const storageVersion = (obj: KubeObject): string | undefined => {
  const spec = isObject(obj["spec"]) ? obj["spec"] : {};
  const versions = Array.isArray(spec["versions"]) ? (spec["versions"] as unknown[]) : [];
  const v = versions.find((x) => isObject(x) && x["storage"] === true);
  return isObject(v) && typeof v["name"] === "string" ? v["name"] : undefined;
};

function recordStorageVersion(obj: KubeObject): void {
  const status = isObject(obj["status"]) ? obj["status"] : (obj["status"] = {});
  const stored = Array.isArray(status["storedVersions"]) ? (status["storedVersions"] as string[]) : [];
  const v = storageVersion(obj);
  if (v !== undefined && !stored.includes(v)) stored.push(v);
  status["storedVersions"] = stored;
}

function ensureFinalizer(obj: KubeObject): void {
  const meta = obj.metadata ?? (obj.metadata = {});
  if (meta.deletionTimestamp !== undefined) return;
  const finalizers = meta.finalizers ?? [];
  if (!finalizers.includes(cleanupFinalizer)) meta.finalizers = [...finalizers, cleanupFinalizer];
}

/** The CustomResourceDefinition kind's strategy; the builtin ResourceDef declares it. */
export const crdStrategy: Strategy = {
  generation: true,
  statusSubresource: true,
  prepareForCreate(obj: KubeObject): void {
    defaultCRD(obj);
    // Status is the server's: names and conditions come from the CRD controller.
    obj["status"] = { acceptedNames: { kind: "", plural: "" } };
    recordStorageVersion(obj);
    ensureFinalizer(obj);
  },
  prepareForUpdate(obj: KubeObject): void {
    defaultCRD(obj);
    recordStorageVersion(obj);
    ensureFinalizer(obj);
  },
  validate(obj: KubeObject, old?: KubeObject): FieldError[] {
    return validateCRD(obj, old);
  },
};
