// The `audit.k8s.io/v1` Event as kube-apiserver writes it (k8s.io/apiserver/pkg/apis/audit/v1
// types.go), and the small pure helpers that fill its fields the way kube does: MicroTime
// timestamps, source IPs, the User-Agent cap, the bounded copy of a response Status and
// the removal of metadata.managedFields.

import { isIP } from "node:net";
import type { AuditLevel, AuditStage } from "./policy.ts";

export const auditApiVersion = "audit.k8s.io/v1";

/** authentication/v1 UserInfo; every field is omitted when empty. */
export interface AuditUserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** audit/v1 ObjectReference; every field is omitted when empty. */
export interface AuditObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

/** metav1.Status as the audit event holds it: only the bounded fields, `metadata` always there. */
export interface AuditResponseStatus {
  metadata: Record<string, never>;
  status?: string;
  message?: string;
  reason?: string;
  details?: unknown;
  code?: number;
}

/**
 * One audit event, as sinks receive and write it. Field order is kube's JSON order. Sinks only
 * read it; the recorder makes a fresh object for every stage.
 */
export interface AuditEvent {
  kind: "Event";
  apiVersion: typeof auditApiVersion;
  level: AuditLevel;
  auditID: string;
  stage: AuditStage;
  requestURI: string;
  verb: string;
  user: AuditUserInfo;
  impersonatedUser?: AuditUserInfo;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus?: AuditResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  /** metav1.MicroTime: RFC 3339 in UTC with exactly six fractional digits. */
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

export interface AuditEventList {
  kind: "EventList";
  apiVersion: typeof auditApiVersion;
  metadata: Record<string, never>;
  items: readonly AuditEvent[];
}

export const eventList = (items: readonly AuditEvent[]): AuditEventList => ({
  kind: "EventList",
  apiVersion: auditApiVersion,
  metadata: {},
  items,
});

// ---------------------------------------------------------------------------------------
// Timestamps

/** Microseconds since the epoch, from the high-resolution clock. */
export const nowMicros = (): number => Math.floor((performance.timeOrigin + performance.now()) * 1000);

/** The last second formatted (`2006-01-02T15:04:05`): every event of a second shares it. */
let formattedSecond = { seconds: NaN, text: "" };

/** metav1.MicroTime's JSON form: `2006-01-02T15:04:05.000000Z`. */
export function formatMicroTime(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  if (formattedSecond.seconds !== seconds) {
    // …T15:04:05.000Z, cut before the milliseconds.
    formattedSecond = { seconds, text: new Date(seconds * 1000).toISOString().slice(0, 19) };
  }
  return `${formattedSecond.text}.${String(fraction).padStart(6, "0")}Z`;
}

// ---------------------------------------------------------------------------------------
// Request fields

const maxUserAgentLength = 1024;
const userAgentTruncateSuffix = "...TRUNCATED";

/** kube caps the User-Agent at 1024 characters and marks the cut. */
export function truncateUserAgent(ua: string): string {
  return ua.length > maxUserAgentLength ? ua.slice(0, maxUserAgentLength) + userAgentTruncateSuffix : ua;
}

/** `::ffff:10.0.0.1` is how Node reports an IPv4 peer on a dual-stack socket; Go prints 10.0.0.1. */
function normalizeIP(raw: string): string | undefined {
  let ip = raw.trim();
  if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
  if (isIP(ip) === 0) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1] : ip.toLowerCase();
}

/**
 * The client's addresses as kube's utilnet.SourceIPs reads them: every valid X-Forwarded-For
 * entry, then X-Real-Ip unless already there, then the peer address unless it repeats the last.
 */
export function sourceIPs(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  remoteAddress: string | undefined,
): string[] {
  const first = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h);
  const ips: string[] = [];
  const forwarded = first(headers["x-forwarded-for"]);
  if (forwarded) {
    for (const part of forwarded.split(",")) {
      const ip = normalizeIP(part);
      if (ip !== undefined) ips.push(ip);
    }
  }
  const realIP = first(headers["x-real-ip"]);
  if (realIP) {
    const ip = normalizeIP(realIP);
    if (ip !== undefined && !ips.includes(ip)) ips.push(ip);
  }
  const remote = remoteAddress === undefined ? undefined : normalizeIP(remoteAddress);
  if (remote !== undefined && ips[ips.length - 1] !== remote) ips.push(remote);
  return ips;
}

interface UserFields {
  readonly name: string;
  readonly uid: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/**
 * The audit form of frozen users (a verified token's user is one object for every request
 * that presents the token): made once, frozen, and its JSON kept (encodeAuditEvent).
 */
const auditUsers = new WeakMap<UserFields, AuditUserInfo>();
const auditUserJSON = new WeakMap<AuditUserInfo, string>();

/**
 * A UserInfo in authentication/v1 form, empty fields omitted. Shared between events and
 * requests when `user` is frozen: callers never change it.
 */
export function auditUser(user: UserFields): AuditUserInfo {
  const known = auditUsers.get(user);
  if (known !== undefined) return known;
  const out: AuditUserInfo = {};
  if (user.name !== "") out.username = user.name;
  if (user.uid !== "") out.uid = user.uid;
  if (user.groups.length > 0) out.groups = [...user.groups];
  const keys = Object.keys(user.extra);
  if (keys.length > 0) {
    out.extra = {};
    for (const k of keys) out.extra[k] = [...user.extra[k]!];
  }
  if (Object.isFrozen(user) && Object.isFrozen(user.groups) && Object.isFrozen(user.extra)) {
    deepFreeze(out);
    auditUsers.set(user, out);
    auditUserJSON.set(out, JSON.stringify(out));
  }
  return out;
}

function deepFreeze(o: object): void {
  for (const v of Object.values(o)) if (typeof v === "object" && v !== null) deepFreeze(v as object);
  Object.freeze(o);
}

const q = JSON.stringify;

function userText(u: AuditUserInfo): string {
  return auditUserJSON.get(u) ?? q(u);
}

/**
 * One event as its JSON text: the text JSON.stringify gives for an event built in kube's
 * field order (the recorder's), made faster by reusing the JSON of shared audit users.
 */
export function encodeAuditEvent(ev: AuditEvent): string {
  let s =
    `{"kind":${q(ev.kind)},"apiVersion":${q(ev.apiVersion)},"level":${q(ev.level)},"auditID":${q(ev.auditID)}` +
    `,"stage":${q(ev.stage)},"requestURI":${q(ev.requestURI)},"verb":${q(ev.verb)},"user":${userText(ev.user)}`;
  if (ev.impersonatedUser !== undefined) s += `,"impersonatedUser":${userText(ev.impersonatedUser)}`;
  if (ev.sourceIPs !== undefined) s += `,"sourceIPs":${q(ev.sourceIPs)}`;
  if (ev.userAgent !== undefined) s += `,"userAgent":${q(ev.userAgent)}`;
  if (ev.objectRef !== undefined) s += `,"objectRef":${q(ev.objectRef)}`;
  if (ev.responseStatus !== undefined) s += `,"responseStatus":${q(ev.responseStatus)}`;
  if (ev.requestObject !== undefined) s += `,"requestObject":${q(ev.requestObject)}`;
  if (ev.responseObject !== undefined) s += `,"responseObject":${q(ev.responseObject)}`;
  s += `,"requestReceivedTimestamp":${q(ev.requestReceivedTimestamp)},"stageTimestamp":${q(ev.stageTimestamp)}`;
  if (ev.annotations !== undefined) s += `,"annotations":${q(ev.annotations)}`;
  return `${s}}`;
}

// ---------------------------------------------------------------------------------------
// Response status and objects

/** The Status fields kube copies into responseStatus ("selectively copy the bounded fields"). */
export interface StatusLike {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly details?: unknown;
  readonly code: number;
}

export const isStatusLike = (v: unknown): v is StatusLike =>
  typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status";

export function boundedStatus(s: StatusLike): AuditResponseStatus {
  const out: AuditResponseStatus = { metadata: {} };
  if (s.status) out.status = s.status;
  if (s.message) out.message = s.message;
  if (s.reason) out.reason = s.reason;
  if (s.details !== undefined) out.details = s.details;
  if (s.code) out.code = s.code;
  return out;
}

/**
 * A JSON copy of `obj` (what kube's encode-at-log-time amounts to), with metadata.managedFields
 * dropped from the object, from every item of a list and every row object of a Table when
 * `omitManagedFields` is set; undefined when `obj` cannot be encoded. Never changes `obj`, never throws.
 */
export function snapshotObject(obj: unknown, omitManagedFields: boolean): unknown {
  if (obj === undefined) return undefined;
  if (Buffer.isBuffer(obj)) obj = obj.toString("utf8");
  let copy: unknown;
  try {
    copy = typeof obj === "string" ? parseOrString(obj) : JSON.parse(JSON.stringify(obj));
  } catch {
    // Not JSON (a cycle, a BigInt): left out, as kube leaves out what it cannot encode.
    return undefined;
  }
  if (omitManagedFields) stripManagedFields(copy);
  return copy;
}

function parseOrString(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function stripManagedFields(obj: unknown): void {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return;
  const o = obj as Record<string, unknown>;
  const meta = o["metadata"];
  if (typeof meta === "object" && meta !== null) delete (meta as Record<string, unknown>)["managedFields"];
  const items = o["items"];
  if (Array.isArray(items)) for (const item of items) stripManagedFields(item);
  if (o["kind"] === "Table" && Array.isArray(o["rows"])) {
    for (const row of o["rows"] as unknown[]) {
      if (typeof row === "object" && row !== null)
        stripManagedFields((row as Record<string, unknown>)["object"]);
    }
  }
}
