// AdmissionReview on the wire, as k8s.io/apiserver's webhook/request package writes and checks
// it: the request a webhook receives (v1, or v1beta1 when the webhook lists it first) and the
// verification of its answer (uid, apiVersion and kind, patch and patchType). Errors are thrown
// as plain Errors carrying kube's text; the caller wraps them into a WebhookCallError.

import { goJsonKind, goSyntaxError } from "../../endpoints/patch/go-json.decoder.ts";
import type { JsonValue } from "../../endpoints/patch/index.ts";
import type { AdmissionAttributes } from "../interface.ts";
import { requestNamespace, type Invocation } from "./webhook.matcher.ts";
import type { AdmissionResponseWire } from "./webhook.types.ts";

export type ReviewVersion = "v1" | "v1beta1";

/** The first AdmissionReview version the webhook accepts that we send (CreateAdmissionObjects). */
export function reviewVersionFor(versions: readonly string[] | undefined): ReviewVersion {
  for (const v of versions ?? []) if (v === "v1" || v === "v1beta1") return v;
  throw new Error("webhook does not accept known AdmissionReview versions (v1, v1beta1)");
}

/**
 * CreateV1AdmissionReview: fields in Go's order, empty optional ones left out as Go does. `a` is
 * the attributes as the webhook sees them (its version of the objects).
 */
export function admissionReview(
  version: ReviewVersion,
  uid: string,
  a: AdmissionAttributes,
  inv: Invocation,
): Record<string, unknown> {
  const namespace = requestNamespace(a);
  const user: Record<string, unknown> = {};
  if (a.user.name !== "") user["username"] = a.user.name;
  if (a.user.uid !== "") user["uid"] = a.user.uid;
  if (a.user.groups.length > 0) user["groups"] = [...a.user.groups];
  if (Object.keys(a.user.extra).length > 0) user["extra"] = a.user.extra;
  const request: Record<string, unknown> = {
    uid,
    kind: { group: inv.kind.group, version: inv.kind.version, kind: inv.kind.kind },
    resource: { group: inv.resource.group, version: inv.resource.version, resource: inv.resource.resource },
  };
  if (inv.subresource !== "") request["subResource"] = inv.subresource;
  request["requestKind"] = { group: a.kind.group, version: a.kind.version, kind: a.kind.kind };
  request["requestResource"] = {
    group: a.resource.group,
    version: a.resource.version,
    resource: a.resource.resource,
  };
  if (a.subresource !== "") request["requestSubResource"] = a.subresource;
  if (a.name !== "") request["name"] = a.name;
  return {
    kind: "AdmissionReview",
    apiVersion: `admission.k8s.io/${version}`,
    request: Object.assign(request, {
      ...(namespace !== "" ? { namespace } : {}),
      operation: a.operation,
      userInfo: user,
      // An absent object is a null RawExtension: Go writes `null`, never leaves the field out.
      object: a.object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: a.dryRun,
      options: Object.keys(a.options).length > 0 ? a.options : null,
    }),
  };
}

/** What a verified answer says (request.AdmissionResponse). */
export interface AdmissionResult {
  readonly allowed: boolean;
  /** The decoded patch bytes (mutating webhooks), empty when none. */
  readonly patch: Uint8Array;
  readonly patchType: string;
  /** The webhook's metav1.Status, as sent. */
  readonly result: unknown;
  readonly auditAnnotations: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const fieldTypeError = (v: unknown, field: string, goType: string): Error =>
  new Error(
    `json: cannot unmarshal ${goJsonKind(v as JsonValue)} into Go struct field AdmissionResponse.response.${field} of type ${goType}`,
  );

/** Go's base64.StdEncoding.DecodeString, strict: padding required, no other characters. */
function decodeBase64(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    const bad = s.search(/[^A-Za-z0-9+/=]/);
    throw new Error(`illegal base64 data at input byte ${bad >= 0 ? bad : s.length - (s.length % 4)}`);
  }
  return Buffer.from(s, "base64");
}

/** Decodes the body into an AdmissionReview as the rest client does; errors are kube's words. */
export function decodeReviewBody(body: Buffer): Record<string, unknown> {
  const syntax = goSyntaxError(body);
  if (syntax !== undefined) throw new Error(`couldn't get version/kind; json parse error: ${syntax}`);
  const v = JSON.parse(body.toString("utf8")) as unknown;
  if (!isRecord(v)) {
    throw new Error(
      `couldn't get version/kind; json parse error: json: cannot unmarshal ${goJsonKind(v as JsonValue)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
    );
  }
  return v;
}

const gvkString = (apiVersion: string, kind: string): string => {
  const slash = apiVersion.indexOf("/");
  const [group, version] =
    slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
  return `${group}/${version}, Kind=${kind}`;
};

/**
 * VerifyAdmissionResponse: checks the answer to request `uid` and returns what it says. Throws
 * an Error with kube's message when the answer is not acceptable.
 */
export function verifyAdmissionResponse(
  version: ReviewVersion,
  uid: string,
  mutating: boolean,
  review: Record<string, unknown>,
): AdmissionResult {
  const apiVersion = typeof review["apiVersion"] === "string" ? review["apiVersion"] : "";
  const kind = typeof review["kind"] === "string" ? review["kind"] : "";
  const raw = review["response"];
  if (raw !== undefined && raw !== null && !isRecord(raw)) {
    throw new Error(
      `json: cannot unmarshal ${goJsonKind(raw as JsonValue)} into Go struct field AdmissionReview.response of type ${version}.AdmissionResponse`,
    );
  }
  if (raw === undefined || raw === null) throw new Error("webhook response was absent");
  const r = raw as AdmissionResponseWire;
  const allowed = r.allowed ?? false;
  if (typeof allowed !== "boolean") throw fieldTypeError(allowed, "allowed", "bool");
  const gotUid = r.uid ?? "";
  if (typeof gotUid !== "string") throw fieldTypeError(gotUid, "uid", "types.UID");
  let patch: Uint8Array = new Uint8Array();
  if (r.patch !== undefined && r.patch !== null) {
    if (typeof r.patch !== "string") throw fieldTypeError(r.patch, "patch", "[]uint8");
    patch = decodeBase64(r.patch);
  }
  const patchTypeSet = r.patchType !== undefined && r.patchType !== null;
  if (patchTypeSet && typeof r.patchType !== "string")
    throw fieldTypeError(r.patchType, "patchType", `${version}.PatchType`);
  const auditAnnotations = stringMap(r.auditAnnotations, "auditAnnotations");
  const warnings = stringList(r.warnings, "warnings");
  if (r.status !== undefined && r.status !== null && !isRecord(r.status)) {
    throw fieldTypeError(r.status, "status", "v1.Status");
  }
  const result = { allowed, result: r.status ?? undefined, auditAnnotations, warnings };

  if (version === "v1beta1") {
    // v1beta1 answers were never checked for uid or kind; a patch is always a JSON patch.
    return {
      ...result,
      patch: mutating ? patch : new Uint8Array(),
      patchType: mutating && patch.length > 0 ? "JSONPatch" : "",
    };
  }
  if (gotUid !== uid)
    throw new Error(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(gotUid)}`);
  if (apiVersion !== "admission.k8s.io/v1" || kind !== "AdmissionReview") {
    throw new Error(
      `expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${gvkString(apiVersion, kind)}`,
    );
  }
  const patchType = typeof r.patchType === "string" ? r.patchType : "";
  if (mutating) {
    if (patch.length > 0 && !patchTypeSet)
      throw new Error("webhook returned response.patch but not response.patchType");
    if (patch.length === 0 && patchTypeSet)
      throw new Error("webhook returned response.patchType but not response.patch");
    if (patchTypeSet && patchType === "")
      throw new Error(`webhook returned invalid response.patchType of ""`);
    return { ...result, patch, patchType };
  }
  if (patch.length > 0) throw new Error("validating webhook may not return response.patch");
  if (patchTypeSet) throw new Error("validating webhook may not return response.patchType");
  return { ...result, patch, patchType: "" };
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw fieldTypeError(v, field, "map[string]string");
  for (const x of Object.values(v)) {
    if (typeof x !== "string") throw fieldTypeError(x, field, "string");
  }
  return v as Record<string, string>;
}

function stringList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw fieldTypeError(v, field, "[]string");
  for (const x of v) if (typeof x !== "string") throw fieldTypeError(x, field, "string");
  return v as string[];
}
