// CustomResourceDefinitions, per tenant: the CRD kind's strategy (defaulting, validation of
// its spec and structural schemas), the strategy of custom resources (pruning, defaulting,
// validation against the version's schema with ajv, list types, embedded resources and CEL
// rules with @marcbachmann/cel-js), the scale subresource, and the per-tenant CRD controller
// (names, Established, deletion of a deleted CRD's objects).

import type { KubeObject } from "../printers.ts";
import type { ResourceDef } from "../resources.ts";
import { pruneUnknown } from "./pruning.ts";

export { crdStrategy, cleanupFinalizer, defaultCRD } from "./crd.strategy.ts";
export { validateCRD } from "./crd.validation.ts";
export { customResourceStrategy, type CustomResourceStrategy } from "./cr.strategy.ts";
export { CRDController, startCRDController } from "./crd.controller.ts";
export { reconcileCRD, calculateNames } from "./crd.reconcile.ts";
export { applyScale, scaleOf, type Scale } from "./scale.ts";
export { pruneAndDefault, pruneUnknown, applyDefaults } from "./pruning.ts";
export { compileSchemaValidator } from "./validator.ts";
export { CelValidator, compileRules } from "./cel.ts";

/**
 * A custom resource as its version's schema keeps it: a copy without the undeclared fields, and
 * their paths (`spec.bogus`) for fieldValidation's warnings or strict errors. Pure.
 */
export function pruneCustomResource(
  def: ResourceDef,
  obj: KubeObject,
): { obj: KubeObject; unknown: string[] } {
  const copy = structuredClone(obj);
  const unknown = pruneUnknown(copy, def.schema);
  return { obj: copy, unknown };
}
