// Lease validation as pkg/apis/coordination/validation (v1.32). spec.strategy and
// spec.preferredHolder belong to the alpha CoordinatedLeaderElection gate: with default gates the
// Lease strategy drops them before validation, so callers that follow upstream strip them first.

import type { FieldError } from "../../apierrors/status.ts";
import * as field from "./field.ts";
import { Path } from "./field.ts";
import { isQualifiedName, nameIsDNSSubdomain } from "./names.ts";
import { validateObjectMetaCreate, validateObjectMetaUpdate } from "./object-meta.ts";
import { isObject, readRoot, type JsonObject, type Wire } from "./wire.ts";

const leaseStrategies = ["OldestEmulationVersion"];

/** ValidateCoordinatedLeaseStrategy; upstream reports on `<path>.strategy`, so spec.strategy.strategy. */
function validateStrategy(strategy: string, path: Path): FieldError[] {
  if (strategy.split("/").length === 1) {
    return leaseStrategies.includes(strategy)
      ? []
      : [field.notSupported(path.child("strategy"), strategy, leaseStrategies)];
  }
  return isQualifiedName(strategy).map((msg) => field.invalid(path.child("strategy"), strategy, msg));
}

/** ValidateLeaseSpec. */
export function validateLeaseSpec(spec: JsonObject, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  const duration = w.int(spec.leaseDurationSeconds, path.child("leaseDurationSeconds"));
  if (duration !== undefined && duration <= 0) {
    errs.push(field.invalid(path.child("leaseDurationSeconds"), duration, "must be greater than 0"));
  }
  const transitions = w.int(spec.leaseTransitions, path.child("leaseTransitions"));
  if (transitions !== undefined && transitions < 0) {
    errs.push(
      field.invalid(path.child("leaseTransitions"), transitions, "must be greater than or equal to 0"),
    );
  }
  w.string(spec.holderIdentity, path.child("holderIdentity"));
  w.time(spec.acquireTime, path.child("acquireTime"));
  w.time(spec.renewTime, path.child("renewTime"));
  const strategy = w.string(spec.strategy, path.child("strategy"));
  if (strategy !== undefined) errs.push(...validateStrategy(strategy, path.child("strategy")));
  const preferred = w.string(spec.preferredHolder, path.child("preferredHolder"));
  if (preferred !== undefined && preferred !== "" && (strategy === undefined || strategy === "")) {
    errs.push(
      field.forbidden(path.child("preferredHolder"), "may only be specified if `strategy` is defined"),
    );
  }
  return errs;
}

/** ValidateLease: metadata (DNS-1123 subdomain name) and spec. */
export function validateLease(obj: unknown): FieldError[] {
  const { errs, w, o } = readRoot(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, { namespaced: true, nameValidator: nameIsDNSSubdomain }));
  errs.push(...validateLeaseSpec(w.object(o.spec, Path.root("spec")) ?? {}, Path.root("spec"), w));
  return errs;
}

/** ValidateLeaseUpdate: the metadata update and the new spec. */
export function validateLeaseUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, w, o } = readRoot(obj);
  errs.push(...validateObjectMetaUpdate(o.metadata, isObject(old) ? old.metadata : undefined));
  errs.push(...validateLeaseSpec(w.object(o.spec, Path.root("spec")) ?? {}, Path.root("spec"), w));
  return errs;
}
