// Decodes an `application/vnd.kubernetes.protobuf` request body into the object the same
// request would have carried as `application/json`, so the rest of the server only ever
// sees JSON. kubectl 1.32+ sends protobuf for `create configmap|secret|namespace|…`,
// `auth can-i`, `auth whoami` and `create token`, and does not fall back on a 415.
//
// The body is the magic "k8s\0" and a runtime.Unknown: {typeMeta {apiVersion, kind}, raw,
// contentEncoding, contentType}; raw is the kind's message without its TypeMeta. The JSON
// shape follows Go's encoding/json over the Kubernetes structs (see kubernetes.proto.ts for
// how each field's pointer/value and omitempty are recorded): zero-valued Go values and
// absent pointers are left out, struct values are always written, `metav1.Time` is RFC 3339
// (null when zero), bytes are base64, and so on.

import protobuf from "protobufjs";
import { badRequest, isStatusError } from "../../apierrors/status.ts";
import {
  anyVersionKindMessages,
  kindMessages,
  kubernetesRoot,
  specialMessages,
  unknownMessage,
} from "./kubernetes.proto.ts";

/** What decodeProtobufBody returns: the envelope's type and the JSON object (with both set). */
export interface DecodedBody {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

/** The four bytes every Kubernetes protobuf body opens with: "k8s\0". */
export const protobufMagic: Readonly<Uint8Array> = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

export const protobufContentType = "application/vnd.kubernetes.protobuf";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A decoded protobufjs message: own properties are exactly the fields that were on the wire. */
type Decoded = Record<string, unknown>;

const Unknown = kubernetesRoot.lookupType(unknownMessage);

/**
 * Decodes a protobuf request body. Called by the request-body reader for
 * `application/vnd.kubernetes.protobuf`; does not modify `body`. Throws a 400 BadRequest
 * StatusError for anything it cannot decode: a missing magic, malformed bytes, an encoded
 * or non-protobuf `raw`, or a kind it has no schema for.
 */
export function decodeProtobufBody(body: Uint8Array): DecodedBody {
  if (body.length < protobufMagic.length || protobufMagic.some((b, i) => body[i] !== b)) {
    throw badRequest(
      `the protobuf body does not start with the Kubernetes protobuf prefix "k8s\\x00" (got ${describePrefix(body)})`,
    );
  }
  const envelope = decodeMessage(Unknown, body.subarray(protobufMagic.length), "runtime.Unknown envelope");
  const typeMeta = (envelope["typeMeta"] ?? {}) as Decoded;
  const apiVersion = typeof typeMeta["apiVersion"] === "string" ? typeMeta["apiVersion"] : "";
  const kind = typeof typeMeta["kind"] === "string" ? typeMeta["kind"] : "";
  if (apiVersion === "" || kind === "") {
    throw badRequest(
      "the protobuf body's runtime.Unknown envelope has no apiVersion or kind in its typeMeta",
    );
  }
  const contentEncoding = envelope["contentEncoding"];
  if (typeof contentEncoding === "string" && contentEncoding !== "") {
    throw badRequest(`the protobuf body's content encoding "${contentEncoding}" is not supported`);
  }
  const contentType = envelope["contentType"];
  if (typeof contentType === "string" && contentType !== "" && contentType !== protobufContentType) {
    throw badRequest(`the protobuf body's inner content type "${contentType}" is not supported`);
  }

  const messageName = kindMessages[apiVersion]?.[kind] ?? anyVersionKindMessages[kind];
  if (messageName === undefined) {
    throw badRequest(
      `no protobuf decoding is available for kind "${kind}" in "${apiVersion}"; send it as application/json`,
    );
  }
  const type = kubernetesRoot.lookupType(messageName);
  const raw = envelope["raw"] instanceof Uint8Array ? envelope["raw"] : new Uint8Array();
  const message = decodeMessage(type, raw, `${kind} (${apiVersion})`);
  let converted: Json;
  try {
    converted = messageJson(type, message);
  } catch (err) {
    if (isStatusError(err)) throw err;
    throw badRequest(`unable to decode ${kind} (${apiVersion}) from protobuf: ${errorMessage(err)}`);
  }
  const object = { kind, apiVersion, ...(converted as Record<string, Json>) };
  return { apiVersion, kind, object };
}

function decodeMessage(type: protobuf.Type, bytes: Uint8Array, what: string): Decoded {
  try {
    return type.decode(bytes) as unknown as Decoded;
  } catch (err) {
    throw badRequest(`the protobuf body is malformed: cannot decode the ${what}: ${errorMessage(err)}`);
  }
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function describePrefix(body: Uint8Array): string {
  const head = Array.from(body.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return head === "" ? "an empty body" : `0x ${head}`;
}

// ---- messages ----

const hasOwn = (m: Decoded | null, name: string): boolean => m !== null && Object.hasOwn(m, name);

/** A field's value if it was on the wire, else undefined (not protobufjs's prototype default). */
const own = (m: Decoded | null, name: string): unknown =>
  m !== null && Object.hasOwn(m, name) ? m[name] : undefined;

/** A message as Go's JSON encoder writes it; `m` null is the Go zero value of the struct. */
function messageJson(type: protobuf.Type, m: Decoded | null): Json {
  switch (type.fullName.slice(1)) {
    case specialMessages.time:
      return timeJson(m, false);
    case specialMessages.microTime:
      return timeJson(m, true);
    case specialMessages.quantity:
      return quantityJson(m);
    case specialMessages.intOrString:
      return intOrStringJson(m);
    case specialMessages.fieldsV1:
      return fieldsV1Json(m);
    case specialMessages.authorizationExtraValue:
    case specialMessages.authenticationExtraValue: {
      // `type ExtraValue []string`: a nil slice is null.
      const items = own(m, "items");
      return Array.isArray(items) && items.length > 0 ? (items as string[]).slice() : null;
    }
    default:
      break;
  }
  const out: Record<string, Json> = {};
  for (const field of type.fieldsArray) {
    const value = fieldJson(field, m);
    if (value !== omit) out[jsonName(field)] = value;
  }
  return out;
}

const omit = Symbol("omit");

interface FieldOptions {
  ptr: boolean;
  value: boolean;
  keep: boolean;
}

function fieldOptions(field: protobuf.Field): FieldOptions {
  const o = field.options ?? {};
  return { ptr: o["(ptr)"] === true, value: o["(value)"] === true, keep: o["(keep)"] === true };
}

function jsonName(field: protobuf.Field): string {
  const name: unknown = field.options?.["(json)"];
  return typeof name === "string" ? name : field.name;
}

function fieldJson(field: protobuf.Field, m: Decoded | null): Json | typeof omit {
  const { ptr, value, keep } = fieldOptions(field);
  const present = hasOwn(m, field.name);
  const raw = present ? m?.[field.name] : undefined;
  const elementType = field.resolvedType instanceof protobuf.Type ? field.resolvedType : null;

  if (field.map) {
    const entries = raw !== null && typeof raw === "object" ? Object.entries(raw as Decoded) : [];
    if (entries.length === 0) return keep ? null : omit;
    // Go writes map keys sorted.
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const out: Record<string, Json> = {};
    for (const [k, v] of entries) out[k] = elementJson(field, elementType, v);
    return out;
  }
  if (field.repeated) {
    const items = Array.isArray(raw) ? (raw as unknown[]) : [];
    if (items.length === 0) return keep ? null : omit;
    return items.map((v) => elementJson(field, elementType, v));
  }
  if (elementType !== null) {
    // A struct held by value is always written; a pointer only when set.
    if (value) return messageJson(elementType, raw === undefined || raw === null ? null : (raw as Decoded));
    if (raw === undefined || raw === null) return keep ? null : omit;
    return messageJson(elementType, raw as Decoded);
  }
  if (ptr) return present ? scalarJson(field.type, raw) : keep ? null : omit;
  const v = scalarJson(field.type, present ? raw : undefined);
  if (!keep && isZero(v)) return omit;
  return v;
}

function elementJson(field: protobuf.Field, elementType: protobuf.Type | null, v: unknown): Json {
  if (elementType !== null)
    return messageJson(elementType, v === null || v === undefined ? null : (v as Decoded));
  return scalarJson(field.type, v);
}

const isZero = (v: Json): boolean => v === "" || v === 0 || v === false || v === null;

/** A scalar as JSON; `undefined` (not on the wire) is its Go zero value. */
function scalarJson(protoType: string, v: unknown): Json {
  switch (protoType) {
    case "string":
      return typeof v === "string" ? v : "";
    case "bool":
      return v === true;
    case "bytes":
      // encoding/json writes []byte as standard, padded base64.
      return v instanceof Uint8Array
        ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")
        : "";
    case "int32":
    case "uint32":
    case "sint32":
    case "fixed32":
    case "sfixed32":
    case "double":
    case "float":
      return typeof v === "number" ? v : 0;
    case "int64":
    case "uint64":
    case "sint64":
    case "fixed64":
    case "sfixed64":
      return int64(v, protoType === "uint64" || protoType === "fixed64");
    default:
      throw new Error(`unsupported protobuf field type ${protoType}`);
  }
}

/** protobufjs gives 64-bit integers as Long objects (or numbers); JSON carries a number. */
function int64(v: unknown, unsigned: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number") return v;
  return protobuf.util.LongBits.from(v as protobuf.Long).toNumber(unsigned);
}

// ---- the hand-serialized messages ----

/** 0001-01-01T00:00:00Z, Go's zero time.Time, which metav1.Time writes as null. */
const goZeroUnixSeconds = -62135596800;
const maxUnixSeconds = 253402300799; // 9999-12-31T23:59:59Z

/**
 * metav1.Time (whole seconds; its protobuf Unmarshal drops nanos) or metav1.MicroTime
 * (microseconds): an empty message or Go's zero time is null, anything else RFC 3339 in UTC.
 */
function timeJson(m: Decoded | null, micro: boolean): Json {
  if (!hasOwn(m, "seconds") && !hasOwn(m, "nanos")) return null;
  let seconds = int64(own(m, "seconds"), false);
  const wireNanos = own(m, "nanos");
  let nanos = micro && typeof wireNanos === "number" ? wireNanos : 0;
  // time.Unix normalizes nanoseconds outside [0, 1e9) into the seconds.
  seconds += Math.floor(nanos / 1e9);
  nanos = ((nanos % 1e9) + 1e9) % 1e9;
  if (seconds === goZeroUnixSeconds && nanos === 0) return null;
  if (!Number.isSafeInteger(seconds) || seconds < goZeroUnixSeconds || seconds > maxUnixSeconds) {
    throw badRequest(`the protobuf body holds a time out of range (${seconds} seconds since 1970)`);
  }
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${whole}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z` : `${whole}Z`;
}

const quantityFormat = "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** resource.Quantity: its canonical string, as Go clients already send it; the zero value is "0". */
function quantityJson(m: Decoded | null): Json {
  const s = own(m, "string");
  if (s === undefined) return "0";
  if (typeof s !== "string" || s === "") {
    throw badRequest(`quantities must match the regular expression ${quantityFormat}`);
  }
  return s;
}

/** intstr.IntOrString: type 0 is the integer intVal, type 1 the string strVal. */
function intOrStringJson(m: Decoded | null): Json {
  const type = int64(own(m, "type"), false);
  if (type === 0) return scalarJson("int32", own(m, "intVal"));
  if (type === 1) return scalarJson("string", own(m, "strVal"));
  throw badRequest(`the protobuf body holds an IntOrString of unknown type ${type}`);
}

/** metav1.FieldsV1: Raw is the JSON document itself. */
function fieldsV1Json(m: Decoded | null): Json {
  const raw = own(m, "Raw");
  if (!(raw instanceof Uint8Array) || raw.length === 0) return null;
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8");
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw badRequest(
      `the protobuf body holds a managedFields fieldsV1 that is not JSON: ${errorMessage(err)}`,
    );
  }
}
