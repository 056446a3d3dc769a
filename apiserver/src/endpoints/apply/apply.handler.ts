// PATCH with Content-Type application/apply-patch+yaml: server-side apply of one object,
// creating it when it does not exist (201), as kube-apiserver's patch handler does with its
// applyPatcher. Called by the resource handler; the store then prepares, validates and
// stores the result like any update (the managedFields computed here are kept as they are).

import { badRequest, isStatusError } from "../../apierrors/status.ts";
import type { KubeObject } from "../../registry/printers.ts";
import { nowTimestamp, type GenericStore } from "../../registry/store.ts";
import { parseDocument } from "../negotiation.ts";
import type { JsonObject } from "../patch/json.types.ts";
import { applyOptions } from "./field-manager.ts";
import { scopeFor, type ScopeSource } from "./managed-fields.ts";
import { applyConfig } from "./server-side-apply.ts";

export interface ApplyRequest {
  readonly def: ScopeSource;
  readonly store: GenericStore;
  readonly namespace: string;
  readonly name: string;
  /** "" or "status". */
  readonly subresource: string;
  readonly query: URLSearchParams;
  readonly body: Buffer | undefined;
  readonly dryRun: boolean;
  /**
   * The resource handler's unknown-field handling (fieldValidation): returns the object
   * without undeclared fields, or throws the 400 of fieldValidation=Strict. Must not change
   * its argument.
   */
  prune(obj: KubeObject): KubeObject;
}

/**
 * Applies the request's configuration; answers the stored object with 200, or 201 when the
 * apply created it. Throws the Status errors upstream answers (fieldManager missing: 422;
 * bad YAML, another kind or a name/namespace other than the URL's: 400; conflicts: 409).
 */
export async function handleApplyPatch(
  req: ApplyRequest,
): Promise<{ status: 200 | 201; object: KubeObject }> {
  const { manager, force } = applyOptions(req.query);
  if (req.body === undefined || req.body.length === 0) throw badRequest("the body of the request is empty");
  const parsed = parseDocument(req.body, "yaml") as KubeObject;
  const bodyName = parsed.metadata?.name;
  if (bodyName !== undefined && bodyName !== req.name) {
    throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${req.name})`);
  }
  const bodyNamespace = parsed.metadata?.namespace;
  if (bodyNamespace !== undefined && bodyNamespace !== "" && bodyNamespace !== req.namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  const applied = req.prune(parsed) as JsonObject;
  const scope = scopeFor(req.def, req.subresource);
  const apply = (current: KubeObject | undefined): KubeObject =>
    applyConfig({
      current: current as JsonObject | undefined,
      applied,
      manager,
      force,
      subresource: req.subresource,
      time: nowTimestamp(),
      scope,
    }).object;
  // A resourceVersion in the configuration is a precondition, as on any update.
  const expectedRevision =
    typeof parsed.metadata?.resourceVersion === "string" ? parsed.metadata.resourceVersion : "";
  const update = async (): Promise<KubeObject> =>
    req.store.update(req.namespace, req.name, (current) => apply(current), {
      dryRun: req.dryRun,
      subresource: req.subresource,
      expectedRevision,
    });

  try {
    return { status: 200, object: await update() };
  } catch (err) {
    // Create-on-apply: only the object itself, never through a subresource.
    if (!(isStatusError(err) && err.code === 404 && err.reason === "NotFound") || req.subresource !== "")
      throw err;
  }
  const created = apply(undefined);
  const meta = { ...(created.metadata ?? {}) };
  meta.name = req.name;
  try {
    return {
      status: 201,
      object: await req.store.create({ ...created, metadata: meta }, req.namespace, { dryRun: req.dryRun }),
    };
  } catch (err) {
    // Someone else created it meanwhile: apply to theirs.
    if (!(isStatusError(err) && err.reason === "AlreadyExists")) throw err;
    return { status: 200, object: await update() };
  }
}
