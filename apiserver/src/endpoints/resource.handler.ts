// Resource requests: GET/LIST/WATCH/POST/PUT/PATCH/DELETE/DELETECOLLECTION on
// /api/v1/… and /apis/<group>/<version>/…, for one tenant, through the generic store.

import type { ServerResponse } from "node:http";
import {
  badRequest,
  expired,
  isStatusError,
  methodNotAllowed,
  unsupportedMediaType,
  resourceNotFound,
  type Status,
} from "../apierrors/status.ts";
import type { RequestInfo } from "../request/request-info.ts";
import type { KubeObject } from "../registry/printers.ts";
import { readJsonPath } from "../registry/crd-resources.ts";
import { groupVersion, type ResourceDef } from "../registry/resources.ts";
import {
  GenericStore,
  qualified,
  servedAs,
  type DeleteOptions,
  type RequestAdmission,
} from "../registry/store.ts";
import type { CacheEvent } from "../registry/watch-cache.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import {
  bodyKind,
  negotiateOutput,
  objectMediaTypes,
  parseDocument,
  serialize,
  type Output,
} from "./negotiation.ts";
import { applyPatch } from "./patch-dispatch.ts";
import { handleApplyPatch, writeManager } from "./apply/index.ts";
import { decodeProtobufBody } from "./protobuf/decode.ts";
import {
  parseFieldSelector,
  requireSupportedFields,
  type FieldSelector,
} from "./selectors/field-selector.ts";
import { parseLabelSelector, type LabelSelector } from "./selectors/label-selector.ts";
import { toPartial, toTable, type TableOptions } from "./table.ts";
import { pruneUnknownFields } from "../registry/unknown-fields.ts";
import { deleteReturnsObject } from "./openapi/openapi.ts";
import { answerReview, type TokenReviewer } from "./reviews.handler.ts";
import { answerTokenRequest } from "./token-request.handler.ts";
import type { JwtIssuer } from "../authn/jwt-keys.ts";
import type { UserInfo } from "../authn/user.ts";
import { applyScale, pruneCustomResource, scaleOf } from "../registry/crd/index.ts";

export interface ResourceRequest {
  readonly instance: TenantInstance;
  /** Who the request acts as (after impersonation): for reviews and admission. */
  readonly user: UserInfo;
  /** How TokenReviews authenticate a token (the tenant's token authenticators). */
  readonly reviewToken?: TokenReviewer;
  /** Called when a watch has written its headers (the audit's ResponseStarted stage). */
  readonly onResponseStarted?: () => void;
  /** Signs ServiceAccount tokens (the serviceaccounts/token subresource). */
  readonly issuer?: JwtIssuer;
  /** [admission] The request's admission: its user, and the warnings and audit annotations plugins add. */
  readonly admission: RequestAdmission;
  readonly info: RequestInfo;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer | undefined;
}

export interface Response {
  status: number;
  body: unknown;
  output?: Output;
  warnings?: string[];
  headers?: Record<string, string>;
}

const header = (req: ResourceRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
};

function resolveDef(req: ResourceRequest): ResourceDef {
  const { info, instance } = req;
  const def = instance.resources.lookup(info.apiGroup, info.apiVersion, info.resource);
  // kube answers an unserved resource or subresource with a 404 NotFound Status.
  if (def === undefined) throw resourceNotFound();
  if (info.subresource !== "" && !def.subresources.includes(info.subresource)) throw resourceNotFound();
  return def;
}

function isDryRun(query: URLSearchParams): boolean {
  const values = query.getAll("dryRun");
  for (const v of values) {
    if (v !== "All") throw badRequest(`Invalid dry run value: ${v}`);
  }
  return values.length > 0;
}

/** Reads the request body as an object, from JSON, YAML or kubectl's protobuf. */
export function decodeBody(req: ResourceRequest): KubeObject {
  if (req.body === undefined || req.body.length === 0) throw badRequest("the body of the request is empty");
  const kind = bodyKind(header(req, "content-type"));
  if (kind === "protobuf") return decodeProtobufBody(req.body).object;
  if (kind !== "json" && kind !== "yaml") throw unsupportedMediaType(objectMediaTypes);
  return parseDocument(req.body, kind);
}

type FieldValidation = "Ignore" | "Warn" | "Strict";

function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const v = query.get("fieldValidation") ?? "";
  if (v === "") return "Warn";
  if (v === "Ignore" || v === "Warn" || v === "Strict") return v;
  throw badRequest(
    `fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`,
  );
}

/**
 * Drops fields a built-in kind does not declare (as kube's decoding into Go types does) and
 * reports them per fieldValidation: Strict → 400, Warn → warnings, Ignore → nothing.
 */
function dropUnknownFields(
  def: ResourceDef,
  obj: KubeObject,
  mode: FieldValidation,
  warnings: string[],
): KubeObject {
  // [crd] A custom resource is pruned by its version's schema (registry/crd/).
  const cannotHandle = `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}`;
  if (!isPlainObject(obj.metadata ?? {})) {
    throw badRequest(
      `${cannotHandle}: json: cannot unmarshal ${typeof obj.metadata} into Go struct field ${def.kind}.metadata of type v1.ObjectMeta`,
    );
  }
  if (def.crd !== undefined) return dropUnknown(cannotHandle, pruneCustomResource(def, obj), mode, warnings);
  const result = pruneUnknownFields(def.schemaName, obj);
  // Values of the wrong type cannot be decoded at all: 400, whatever fieldValidation says.
  if (result.mistyped.length > 0) throw badRequest(`${cannotHandle}: ${result.mistyped[0]!}`);
  return dropUnknown(cannotHandle, result, mode, warnings);
}

function isPlainObject(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function dropUnknown(
  cannotHandle: string,
  { obj: pruned, unknown }: { obj: KubeObject; unknown: string[] },
  mode: FieldValidation,
  warnings: string[],
): KubeObject {
  if (unknown.length > 0) {
    const messages = unknown.map((f) => `unknown field "${f}"`);
    if (mode === "Strict") {
      throw badRequest(`${cannotHandle}: strict decoding error: ${messages.join(", ")}`);
    }
    if (mode === "Warn") warnings.push(...messages);
  }
  return pruned;
}

function checkTypeMeta(def: ResourceDef, obj: KubeObject): void {
  const gv = groupVersion(def);
  if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
    throw badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`,
    );
  }
  if (obj.kind !== undefined && obj.kind !== def.kind) {
    throw badRequest(
      `the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`,
    );
  }
}

export function selectorsOf(
  def: ResourceDef,
  query: URLSearchParams,
): { labels: LabelSelector; fields: FieldSelector } {
  const labels = parseLabelSelector(query.get("labelSelector") ?? "");
  const fields = parseFieldSelector(query.get("fieldSelector") ?? "");
  const supported = ["metadata.name", "metadata.namespace", ...def.selectableFields];
  // Kinds with field-label conversions of their own (and custom resources) word the error differently.
  const converts =
    def.crd !== undefined ||
    (def.group === "" && ["Event", "Secret", "Service", "Namespace"].includes(def.kind));
  requireSupportedFields(fields, supported, converts ? "notSupported" : "default");
  return { labels, fields };
}

function fieldsOf(def: ResourceDef, obj: KubeObject): Record<string, string> {
  const fields: Record<string, string> = { "metadata.name": obj.metadata?.name ?? "" };
  if (def.namespaced) fields["metadata.namespace"] = obj.metadata?.namespace ?? "";
  for (const path of def.selectableFields) {
    const v = readJsonPath(obj, path);
    fields[path] = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : "";
  }
  return fields;
}

function matcher(def: ResourceDef, query: URLSearchParams): (obj: KubeObject) => boolean {
  const { labels, fields } = selectorsOf(def, query);
  if (labels.empty && fields.empty) return () => true;
  return (obj) => labels.matches(obj.metadata?.labels ?? {}) && fields.matches(fieldsOf(def, obj));
}

function parseLimit(query: URLSearchParams): number {
  const raw = query.get("limit");
  if (raw === null || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid limit: ${raw}`);
  return n;
}

function parseRevision(raw: string | null): number | undefined {
  if (raw === null || raw === "") return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw badRequest(`resourceVersion: Invalid value: "${raw}": must be a valid resourceVersion`);
  }
  return n;
}

function tableOptions(query: URLSearchParams): TableOptions {
  const include = query.get("includeObject") ?? "Metadata";
  if (include !== "None" && include !== "Metadata" && include !== "Object") {
    throw badRequest(
      `includeObject: Unsupported value: "${include}": supported values: "Metadata", "None", "Object"`,
    );
  }
  return { includeObject: include };
}

function listBody(
  def: ResourceDef,
  items: KubeObject[],
  meta: { resourceVersion: string; continue?: string; remainingItemCount?: number },
  output: Output,
  query: URLSearchParams,
): unknown {
  if (output.as === "table") return toTable(def, items, meta, tableOptions(query), output.metaVersion, true);
  if (output.as === "partial") {
    return {
      kind: "PartialObjectMetadataList",
      apiVersion: `meta.k8s.io/${output.metaVersion}`,
      metadata: meta,
      items: items.map((o) => toPartial(o, output.metaVersion)),
    };
  }
  return { kind: def.listKind, apiVersion: groupVersion(def), metadata: meta, items };
}

function objectBody(def: ResourceDef, obj: KubeObject, output: Output, query: URLSearchParams): unknown {
  if (output.as === "table") {
    return toTable(
      def,
      [obj],
      { resourceVersion: obj.metadata?.resourceVersion ?? "" },
      tableOptions(query),
      output.metaVersion,
      true,
    );
  }
  if (output.as === "partial") return toPartial(obj, output.metaVersion);
  return obj;
}

async function list(
  req: ResourceRequest,
  def: ResourceDef,
  store: GenericStore,
  output: Output,
): Promise<Response> {
  const { query, info } = req;
  const matches = matcher(def, query);
  const limit = parseLimit(query);
  const cont = query.get("continue") ?? "";
  const rv = query.get("resourceVersion");
  const rvMatch = query.get("resourceVersionMatch") ?? "";
  if (rvMatch !== "" && rvMatch !== "NotOlderThan" && rvMatch !== "Exact") {
    throw badRequest(
      `resourceVersionMatch: Unsupported value: "${rvMatch}": supported values: "Exact", "NotOlderThan"`,
    );
  }
  if (rvMatch !== "" && (rv === null || rv === "")) {
    throw badRequest(
      `resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided`,
    );
  }
  if (cont !== "" && rv !== null && rv !== "" && rv !== "0") {
    throw badRequest("specifying resource version is not allowed when using continue");
  }
  const revision = parseRevision(rv);
  if (rvMatch === "Exact" && revision === 0) {
    throw badRequest(
      `resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"`,
    );
  }

  // Pages and exact revisions come from storage, like kube; the rest from the watch cache.
  if (limit > 0 || cont !== "" || rvMatch === "Exact") {
    const items: KubeObject[] = [];
    let token = cont === "" ? undefined : cont;
    let listRevision: number | undefined = rvMatch === "Exact" ? revision : undefined;
    let remaining: number | undefined;
    let next: string | undefined;
    // Keep reading pages until `limit` matching items are found or the list ends (kube's behaviour with selectors).
    for (;;) {
      const want = limit > 0 ? limit - items.length : 0;
      const { items: page, result } = await store.listStorage(info.namespace, {
        ...(want > 0 ? { limit: want } : {}),
        ...(token !== undefined ? { continue: token } : {}),
        ...(token === undefined && listRevision !== undefined ? { revision: listRevision } : {}),
      });
      listRevision = result.revision;
      items.push(...page.filter(matches));
      next = result.continue;
      remaining = result.remainingItemCount;
      if (next === undefined || (limit > 0 && items.length >= limit)) break;
      token = next;
    }
    const meta = {
      resourceVersion: String(listRevision ?? 0),
      ...(next !== undefined ? { continue: next } : {}),
      ...(next !== undefined &&
      remaining !== undefined &&
      query.get("labelSelector") === null &&
      query.get("fieldSelector") === null
        ? { remainingItemCount: remaining }
        : {}),
    };
    return { status: 200, body: listBody(def, items, meta, output, query), output };
  }

  const consistent = revision === undefined;
  if (revision !== undefined && revision > 0) await req.instance.cache.waitFor(revision);
  const { items, revision: at } = await store.listCached(info.namespace, consistent);
  return {
    status: 200,
    body: listBody(def, items.filter(matches), { resourceVersion: String(at) }, output, query),
    output,
  };
}

function deleteOptionsOf(req: ResourceRequest): DeleteOptions {
  const dryRun = isDryRun(req.query);
  let body: Record<string, unknown> = {};
  if (req.body !== undefined && req.body.length > 0) {
    const kind = bodyKind(header(req, "content-type"));
    body =
      kind === "protobuf"
        ? decodeProtobufBody(req.body).object
        : parseDocument(req.body, kind === "yaml" ? "yaml" : "json");
  }
  const policy = (body["propagationPolicy"] ?? req.query.get("propagationPolicy") ?? undefined) as
    string | undefined;
  if (policy !== undefined && policy !== "Orphan" && policy !== "Background" && policy !== "Foreground") {
    throw badRequest(
      `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  const orphan = body["orphanDependents"] ?? req.query.get("orphanDependents");
  const pre = body["preconditions"] as { uid?: string; resourceVersion?: string } | undefined;
  const bodyDryRun = Array.isArray(body["dryRun"]) && (body["dryRun"] as unknown[]).includes("All");
  return {
    dryRun: dryRun || bodyDryRun,
    ...(pre ? { preconditions: pre } : {}),
    ...(policy !== undefined
      ? { propagationPolicy: policy }
      : orphan === true || orphan === "true"
        ? { propagationPolicy: "Orphan" as const }
        : {}),
  };
}

/** Handles a resource request that is not a watch. */
export async function handleResource(req: ResourceRequest): Promise<Response> {
  const response = await serveResource(req);
  // [admission] Warnings from admission plugins follow the handler's own.
  if (req.admission.warnings.length > 0) {
    response.warnings = [...(response.warnings ?? []), ...req.admission.warnings];
  }
  return response;
}

async function serveResource(req: ResourceRequest): Promise<Response> {
  const { info, query } = req;
  const def = resolveDef(req);
  const store = new GenericStore(req.instance, def, req.admission);
  const output = negotiateOutput(header(req, "accept"), info.subresource === "");
  const dryRun = info.verb === "get" || info.verb === "list" ? false : isDryRun(query);

  switch (info.verb) {
    case "get":
      // [crd] The scale subresource of custom resources answers an autoscaling/v1 Scale.
      if (info.subresource === "scale") {
        return { status: 200, body: scaleOf(def, await store.get(info.namespace, info.name)), output };
      }
      return {
        status: 200,
        body: objectBody(def, await store.get(info.namespace, info.name), output, query),
        output,
      };
    case "list":
      return list(req, def, store, output);
    case "create": {
      if (def.review) {
        const review = await answerReview(def, decodeBody(req), {
          instance: req.instance,
          user: req.user,
          namespace: info.namespace,
          reviewToken: req.reviewToken,
        });
        return { status: 201, body: review, output };
      }
      if (info.subresource === "token" && def.group === "" && def.plural === "serviceaccounts") {
        if (req.issuer === undefined) throw methodNotAllowed("token requests are not enabled on this server");
        const answer = await answerTokenRequest(
          req.instance,
          req.issuer,
          info.namespace,
          info.name,
          decodeBody(req),
        );
        return { status: 201, body: answer, output };
      }
      if (info.subresource !== "")
        throw methodNotAllowed(`the server does not allow this method on the requested resource`);
      // [apply] Who the create is recorded for in managedFields (422 on a bad fieldManager).
      const fieldManager = writeManager(query, header(req, "user-agent"), "CreateOptions");
      const warnings: string[] = [];
      const obj = dropUnknownFields(def, decodeBody(req), fieldValidationOf(query), warnings);
      checkTypeMeta(def, obj);
      if (info.name !== "")
        throw methodNotAllowed("the server does not allow this method on the requested resource");
      // `obj` was decoded for this request alone: the store may change it.
      const created = await store.create(obj, info.namespace, { dryRun, fieldManager, inputOwned: true });
      return { status: 201, body: objectBody(def, created, output, query), output, warnings };
    }
    case "update": {
      if (info.subresource === "scale") {
        // [crd] A Scale's spec.replicas is written to the custom resource's specReplicasPath.
        const scale = decodeBody(req);
        const scaled = await store.update(info.namespace, info.name, (cur) => applyScale(def, cur, scale), {
          dryRun,
        });
        return { status: 200, body: scaleOf(def, scaled), output };
      }
      const fieldManager = writeManager(query, header(req, "user-agent"), "UpdateOptions"); // [apply]
      const warnings: string[] = [];
      const obj = dropUnknownFields(def, decodeBody(req), fieldValidationOf(query), warnings);
      checkTypeMeta(def, obj);
      const bodyName = obj.metadata?.name;
      if (bodyName !== undefined && bodyName !== info.name) {
        throw badRequest(
          `the name of the object (${bodyName}) does not match the name on the URL (${info.name})`,
        );
      }
      if (def.namespaced && obj.metadata?.namespace && obj.metadata.namespace !== info.namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      const updated = await store.update(info.namespace, info.name, () => obj, {
        dryRun,
        subresource: info.subresource,
        fieldManager,
      });
      return { status: 200, body: objectBody(def, updated, output, query), output, warnings };
    }
    case "patch": {
      const kind = bodyKind(header(req, "content-type"));
      const patch = req.body ?? Buffer.alloc(0);
      if (info.subresource === "scale") {
        // [crd] The patch applies to the Scale, whose spec.replicas is then written back.
        const scaled = await store.update(
          info.namespace,
          info.name,
          (cur) => applyScale(def, cur, applyPatch(kind, def, scaleOf(def, cur), patch)),
          { dryRun, expectedRevision: "" },
        );
        return { status: 200, body: scaleOf(def, scaled), output };
      }
      const mode = fieldValidationOf(query);
      let warnings: string[] = [];
      if (kind === "apply-patch") {
        // [apply] Server-side apply: merged and owned by ?fieldManager=; creates a missing object (201).
        const applied = await handleApplyPatch({
          def,
          store,
          namespace: info.namespace,
          name: info.name,
          subresource: info.subresource,
          query,
          body: req.body,
          dryRun,
          prune: (obj) => dropUnknownFields(def, obj, mode, warnings),
        });
        return {
          status: applied.status,
          body: objectBody(def, applied.object, output, query),
          output,
          warnings,
        };
      }
      const fieldManager = writeManager(query, header(req, "user-agent"), "PatchOptions"); // [apply]
      const updated = await store.update(
        info.namespace,
        info.name,
        (current) => {
          warnings = []; // a retry on conflict patches afresh
          const next = dropUnknownFields(def, applyPatch(kind, def, current, patch), mode, warnings);
          checkTypeMeta(def, next);
          return next;
        },
        { dryRun, subresource: info.subresource, expectedRevision: "", fieldManager },
      );
      return { status: 200, body: objectBody(def, updated, output, query), output, warnings };
    }
    case "delete": {
      const opts = deleteOptionsOf(req);
      const { obj, deleted } = await store.delete(info.namespace, info.name, opts);
      // Most built-in kinds answer a success Status; custom resources and a few kinds the object.
      if (deleted && def.crd === undefined && !deleteReturnsObject.has(def.schemaName ?? "")) {
        const status: Status = {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          message: "",
          reason: "",
          details: { name: info.name, group: def.group, kind: def.plural, uid: obj.metadata?.uid ?? "" },
          code: 200,
        };
        const { message: _m, reason: _r, code: _c, ...successStatus } = status;
        return { status: 200, body: { ...successStatus, details: status.details }, output };
      }
      return { status: 200, body: objectBody(def, obj, output, query), output };
    }
    case "deletecollection": {
      const opts = deleteOptionsOf(req);
      const matches = matcher(def, query);
      const { items } = await store.listCached(info.namespace, true);
      const deleted: KubeObject[] = [];
      for (const item of items.filter(matches)) {
        try {
          deleted.push(
            (await store.delete(item.metadata?.namespace ?? "", item.metadata?.name ?? "", opts)).obj,
          );
        } catch (err) {
          if (!(isStatusError(err) && err.code === 404)) throw err;
        }
      }
      return {
        status: 200,
        body: { kind: def.listKind, apiVersion: groupVersion(def), metadata: {}, items: deleted },
        output,
      };
    }
    default:
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}

// ---------------------------------------------------------------------------
// Watch

interface WatchFrame {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: unknown;
}

/**
 * Streams a watch to `res` until the client goes, `timeoutSeconds` passes or the tenant's
 * cache fails. Headers are flushed at once; one JSON event per line.
 */
export async function handleWatch(req: ResourceRequest, res: ServerResponse): Promise<void> {
  const { info, query, instance } = req;
  const def = resolveDef(req);
  const store = new GenericStore(instance, def);
  const output = negotiateOutput(header(req, "accept"), true);
  const matches = matcher(def, query);
  const prefix = store.prefix(info.namespace);
  const rv = query.get("resourceVersion") ?? "";
  const revision = parseRevision(rv);
  const sendInitialEvents = query.get("sendInitialEvents") === "true";
  const bookmarks = query.get("allowWatchBookmarks") === "true";
  // Without timeoutSeconds kube ends a watch after a random 30–60 min (--min-request-timeout=1800).
  const timeoutSeconds = Number(query.get("timeoutSeconds") ?? 0) || Math.round(1800 * (1 + Math.random()));
  const tableOpts = output.as === "table" ? tableOptions(query) : undefined;
  let sentColumns = false;

  // Latest consistent state when starting "now" with initial events.
  if (revision === undefined || sendInitialEvents) await instance.cache.consistent();
  else if (revision > 0) await instance.cache.waitFor(revision).catch(() => undefined);

  res.writeHead(200, {
    "Content-Type": output.format === "yaml" ? "application/yaml" : "application/json",
    "Cache-Control": "no-cache, private",
    "Transfer-Encoding": "chunked",
  });
  res.flushHeaders();
  req.onResponseStarted?.();

  const encode = (obj: KubeObject): unknown => {
    if (output.as === "table" && tableOpts) {
      const t = toTable(
        def,
        [obj],
        { resourceVersion: obj.metadata?.resourceVersion ?? "" },
        tableOpts,
        output.metaVersion,
        !sentColumns,
      );
      sentColumns = true;
      return t;
    }
    if (output.as === "partial") return toPartial(obj, output.metaVersion);
    return obj;
  };
  const write = (frames: WatchFrame[]): void => {
    if (frames.length === 0 || res.destroyed) return;
    res.write(frames.map((f) => `${serialize(f, "json")}\n`).join(""));
  };
  const bookmark = (resourceVersion: number, initialEventsEnd: boolean): WatchFrame => ({
    type: "BOOKMARK",
    object: {
      kind: def.kind,
      apiVersion: groupVersion(def),
      metadata: {
        resourceVersion: String(resourceVersion),
        ...(initialEventsEnd ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}),
      },
    },
  });

  const framesOf = (events: readonly CacheEvent[]): WatchFrame[] => {
    const out: WatchFrame[] = [];
    for (const e of events) {
      // Selectors see the objects as served (a custom resource's read defaults included).
      const served = servedAs(def, e.object.obj);
      const prev = e.prev === undefined ? undefined : servedAs(def, e.prev.obj);
      const now = e.type === "DELETED" ? false : matches(served);
      const before = prev !== undefined && matches(prev);
      let type: WatchFrame["type"] | undefined;
      if (e.type === "DELETED") type = before ? "DELETED" : undefined;
      else if (now && before) type = "MODIFIED";
      else if (now) type = "ADDED";
      else if (before) type = "DELETED"; // stopped matching the selector
      if (type === undefined) continue;
      const obj = e.type !== "DELETED" && !now && before ? withRv(prev, e.revision) : served;
      out.push({ type, object: encode(obj) });
    }
    return out;
  };

  let lastSent = revision ?? 0;
  const unsubscribe = instance.cache.subscribe(prefix, (events) => {
    const fresh = events.filter((e) => e.revision > lastSent);
    if (fresh.length === 0) return;
    lastSent = fresh.at(-1)!.revision;
    write(framesOf(fresh));
  });

  // Initial state or history, in the same tick as subscribing: nothing missed, nothing twice.
  // In a function of its own: the objects it lists must not stay in this async function's
  // frame for the watch's whole life (a resumed watch kept its history's objects — deleted
  // tenants' ControlPlanes in the root tenant — for up to an hour).
  const sendStart = (): boolean => {
    if (revision === undefined || revision === 0 || sendInitialEvents) {
      const at = instance.cache.revision;
      const initial = instance.cache
        .list(prefix)
        .map((c) => servedAs(def, c.obj))
        .filter(matches)
        .map((o): WatchFrame => ({ type: "ADDED", object: encode(o) }));
      lastSent = at;
      if (sendInitialEvents && bookmarks) initial.push(bookmark(at, true));
      write(initial);
      return true;
    }
    const history = instance.cache.eventsSince(prefix, revision);
    if (history === undefined) {
      const err = expired(`too old resource version: ${revision} (${instance.cache.oldestResumable})`);
      write([{ type: "ERROR", object: err.status }]);
      return false;
    }
    lastSent = Math.max(revision, instance.cache.revision);
    write(framesOf(history));
    return true;
  };
  if (!sendStart()) {
    unsubscribe();
    res.end();
    return;
  }

  await new Promise<void>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    let offClose = (): void => {};
    const finish = (): void => {
      for (const t of timers) clearTimeout(t);
      unsubscribe();
      offClose();
      if (!res.writableEnded) res.end();
      resolve();
    };
    timers.push(setTimeout(finish, timeoutSeconds * 1000));
    if (bookmarks) {
      const tick = setInterval(() => {
        if (instance.cache.revision > 0)
          write([bookmark(Math.max(lastSent, instance.cache.revision), false)]);
      }, 60_000);
      timers.push(tick);
    }
    res.once("close", finish);
    // The tenant's instance was dropped (removed, rebuilt, evicted): end cleanly; clients re-watch.
    offClose = instance.cache.onClose(finish);
  });
}

function withRv(obj: KubeObject, revision: number): KubeObject {
  return { ...obj, metadata: { ...(obj.metadata ?? {}), resourceVersion: String(revision) } };
}

export { qualified };
