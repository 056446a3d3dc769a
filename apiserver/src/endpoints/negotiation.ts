// Content negotiation: which representation a client accepts (JSON, YAML, Table,
// PartialObjectMetadata) and how to read a request body (JSON, YAML, protobuf).

import YAML from "yaml";
import { badRequest, notAcceptable, unsupportedMediaType } from "../apierrors/status.ts";

export type OutputKind = "object" | "table" | "partial";

export interface Output {
  /** Response Content-Type. */
  contentType: string;
  format: "json" | "yaml";
  /** object: the resource itself; table: meta.k8s.io Table; partial: PartialObjectMetadata(List). */
  as: OutputKind;
  /** The meta.k8s.io version the client asked the Table/PartialObjectMetadata in. */
  metaVersion: "v1" | "v1beta1";
}

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || header.trim() === "") return [{ type: "*/*", params: new Map(), q: 1 }];
  const out: MediaRange[] = [];
  for (const part of header.split(",")) {
    const [type, ...rest] = part.split(";").map((s) => s.trim());
    if (!type) continue;
    const params = new Map<string, string>();
    let q = 1;
    for (const p of rest) {
      const eq = p.indexOf("=");
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, "");
      if (k === "q") q = Number(v);
      else params.set(k, v);
    }
    out.push({ type: type.toLowerCase(), params, q: Number.isNaN(q) ? 0 : q });
  }
  // Stable sort by q, highest first.
  return out
    .map((m, i) => ({ m, i }))
    .sort((a, b) => b.m.q - a.m.q || a.i - b.i)
    .map((x) => x.m);
}

const jsonOut = (as: OutputKind, metaVersion: Output["metaVersion"] = "v1"): Output => ({
  contentType: "application/json",
  format: "json",
  as,
  metaVersion,
});

/**
 * Picks the representation for a resource response. `allowMeta` is false where a Table or
 * PartialObjectMetadata cannot be produced (e.g. a status answer).
 */
export function negotiateOutput(accept: string | undefined, allowMeta = true): Output {
  for (const m of parseAccept(accept)) {
    if (m.q <= 0) continue;
    const as = m.params.get("as");
    const isJson = m.type === "application/json" || m.type === "application/*" || m.type === "*/*";
    const isYaml = m.type === "application/yaml";
    if (!isJson && !isYaml) continue;
    if (as === undefined)
      return isYaml
        ? { ...jsonOut("object"), contentType: "application/yaml", format: "yaml" }
        : jsonOut("object");
    if (!allowMeta || m.params.get("g") !== "meta.k8s.io") continue;
    const v = m.params.get("v");
    if (v !== "v1" && v !== "v1beta1") continue;
    const kind: OutputKind | undefined =
      as === "Table"
        ? "table"
        : as === "PartialObjectMetadata" || as === "PartialObjectMetadataList"
          ? "partial"
          : undefined;
    if (kind === undefined) continue;
    const out = jsonOut(kind, v);
    return {
      ...out,
      format: isYaml ? "yaml" : "json",
      contentType: `${isYaml ? "application/yaml" : "application/json"};as=${as};g=meta.k8s.io;v=${v}`,
    };
  }
  throw notAcceptable(`only the following media types are accepted: application/json, application/yaml`);
}

/** A non-resource response (discovery, version): JSON or YAML. */
export function negotiatePlain(accept: string | undefined): "json" | "yaml" {
  for (const m of parseAccept(accept)) {
    if (m.q <= 0) continue;
    if (m.type === "application/yaml") return "yaml";
    if (m.type === "application/json" || m.type === "*/*" || m.type === "application/*") return "json";
    if (m.type === "application/vnd.kubernetes.protobuf") continue;
  }
  return "json";
}

export type BodyKind =
  "json" | "yaml" | "protobuf" | "json-patch" | "merge-patch" | "strategic-merge-patch" | "apply-patch";

const bodyKinds: Record<string, BodyKind> = {
  "application/json": "json",
  "application/yaml": "yaml",
  "application/vnd.kubernetes.protobuf": "protobuf",
  "application/json-patch+json": "json-patch",
  "application/merge-patch+json": "merge-patch",
  "application/strategic-merge-patch+json": "strategic-merge-patch",
  "application/apply-patch+yaml": "apply-patch",
};

/** Media types an object body (create, update) may use. */
export const objectMediaTypes = [
  "application/json",
  "application/yaml",
  "application/vnd.kubernetes.protobuf",
];

/** Media types a PATCH may use; strategic merge patch only for built-in kinds. */
export function patchMediaTypes(builtin: boolean): string[] {
  return [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
    ...(builtin ? ["application/strategic-merge-patch+json"] : []),
  ];
}

export function bodyKind(contentType: string | undefined): BodyKind {
  const type = (contentType ?? "application/json").split(";")[0]!.trim().toLowerCase();
  const kind = bodyKinds[type];
  if (kind === undefined) throw unsupportedMediaType(objectMediaTypes);
  return kind;
}

/** Parses a JSON or YAML document body into an object (400 on anything else). */
export function parseDocument(body: Buffer, kind: "json" | "yaml"): Record<string, unknown> {
  let value: unknown;
  const text = body.toString("utf8");
  try {
    value = kind === "json" ? JSON.parse(text) : YAML.parse(text, { schema: "core", intAsBigInt: false });
  } catch (err) {
    throw badRequest(`error decoding ${kind === "json" ? "JSON" : "YAML"}: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest(
      `the body of the request must be an object, got ${Array.isArray(value) ? "an array" : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Serializes a response body. */
export function serialize(obj: unknown, format: "json" | "yaml"): string {
  return format === "json" ? JSON.stringify(obj) : YAML.stringify(obj);
}
