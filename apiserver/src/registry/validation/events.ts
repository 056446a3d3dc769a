// Event validation as pkg/apis/core/validation/events.go (v1.32). Both wire forms, core/v1 Event
// and events.k8s.io/v1 Event, are read into kube's internal Event, and errors name the internal
// fields as upstream does (involvedObject, message, source, reportingController…) whichever API
// the object came through. Requests through core/v1 get only the legacy checks; requests through
// events.k8s.io/v1 get the strict ones as well.

import type { FieldError } from "../../apierrors/status.ts";
import * as field from "./field.ts";
import { GoRepr, Path, goQuote, goStruct, type BadValue } from "./field.ts";
import { isDNS1123Subdomain, isQualifiedName, nameIsDNSSubdomain } from "./names.ts";
import { fieldImmutableErrorMsg, validateObjectMetaCreate, validateObjectMetaUpdate } from "./object-meta.ts";
import { Wire, byteLength, goTimeString, readRoot, sameTime, type GoTime, type JsonObject } from "./wire.ts";

const reportingInstanceLengthLimit = 128;
const actionLengthLimit = 128;
const reasonLengthLimit = 128;
const noteLengthLimit = 1024;

interface ObjectReference {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  apiVersion: string;
  resourceVersion: string;
  fieldPath: string;
}

/** kube's internal core.Event, the form both APIs convert to before validation. */
export interface InternalEvent {
  meta: unknown;
  namespace: string;
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  source: { component: string; host: string };
  firstTimestamp: GoTime | undefined;
  lastTimestamp: GoTime | undefined;
  count: number;
  type: string;
  eventTime: GoTime | undefined;
  series: { count: number; lastObservedTime: GoTime | undefined } | undefined;
  action: string;
  related: ObjectReference | undefined;
  reportingController: string;
  reportingInstance: string;
}

function readRef(v: unknown, p: Path, w: Wire): ObjectReference | undefined {
  const o = w.object(v, p);
  if (o === undefined) return undefined;
  const s = (k: string): string => w.string(o[k], p.child(k)) ?? "";
  return {
    kind: s("kind"),
    namespace: s("namespace"),
    name: s("name"),
    uid: s("uid"),
    apiVersion: s("apiVersion"),
    resourceVersion: s("resourceVersion"),
    fieldPath: s("fieldPath"),
  };
}

const emptyRef: ObjectReference = {
  kind: "",
  namespace: "",
  name: "",
  uid: "",
  apiVersion: "",
  resourceVersion: "",
  fieldPath: "",
};

/** Reads the wire fields shared by both forms, under their given wire names. */
function readCommon(
  obj: JsonObject,
  w: Wire,
  names: {
    involvedObject: string;
    message: string;
    source: string;
    first: string;
    last: string;
    count: string;
    reportingController: string;
  },
): InternalEvent {
  const root = (k: string): Path => Path.root(k);
  const str = (k: string): string => w.string(obj[k], root(k)) ?? "";
  const meta = obj.metadata;
  const m = w.object(meta, root("metadata")) ?? {};
  const src = w.object(obj[names.source], root(names.source)) ?? {};
  const seriesObj = w.object(obj.series, root("series"));
  return {
    meta,
    namespace: w.string(m.namespace, root("metadata").child("namespace")) ?? "",
    involvedObject: readRef(obj[names.involvedObject], root(names.involvedObject), w) ?? emptyRef,
    reason: str("reason"),
    message: str(names.message),
    source: {
      component: w.string(src.component, root(names.source).child("component")) ?? "",
      host: w.string(src.host, root(names.source).child("host")) ?? "",
    },
    firstTimestamp: w.time(obj[names.first], root(names.first)),
    lastTimestamp: w.time(obj[names.last], root(names.last)),
    count: w.int(obj[names.count], root(names.count)) ?? 0,
    type: str("type"),
    eventTime: w.time(obj.eventTime, root("eventTime")),
    series:
      seriesObj === undefined
        ? undefined
        : {
            count: w.int(seriesObj.count, root("series").child("count")) ?? 0,
            lastObservedTime: w.time(seriesObj.lastObservedTime, root("series").child("lastObservedTime")),
          },
    action: str("action"),
    related: readRef(obj.related, root("related"), w),
    reportingController: str(names.reportingController),
    reportingInstance: str("reportingInstance"),
  };
}

/** A core/v1 Event as the internal Event. Type errors are pushed into `w.errors`. */
export const fromCoreV1 = (obj: JsonObject, w: Wire): InternalEvent =>
  readCommon(obj, w, {
    involvedObject: "involvedObject",
    message: "message",
    source: "source",
    first: "firstTimestamp",
    last: "lastTimestamp",
    count: "count",
    reportingController: "reportingComponent",
  });

/** An events.k8s.io/v1 Event as the internal Event (regarding → involvedObject, note → message…). */
export const fromEventsV1 = (obj: JsonObject, w: Wire): InternalEvent =>
  readCommon(obj, w, {
    involvedObject: "regarding",
    message: "note",
    source: "deprecatedSource",
    first: "deprecatedFirstTimestamp",
    last: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    reportingController: "reportingController",
  });

/** legacyValidateEvent: the checks every Event passes, whichever API it came through. */
export function legacyValidateEvent(e: InternalEvent): FieldError[] {
  const errs: FieldError[] = [];
  const involvedNamespace = Path.root("involvedObject", "namespace");
  const mismatch = (): FieldError =>
    field.invalid(involvedNamespace, e.involvedObject.namespace, "does not match event.namespace");
  if (e.eventTime === undefined) {
    if (e.involvedObject.namespace.length === 0) {
      if (e.namespace !== "" && e.namespace !== "default") errs.push(mismatch());
    } else if (e.namespace !== e.involvedObject.namespace) errs.push(mismatch());
  } else {
    if (
      e.involvedObject.namespace.length === 0 &&
      e.namespace !== "default" &&
      e.namespace !== "kube-system"
    ) {
      errs.push(mismatch());
    }
    const rc = Path.root("reportingController");
    if (e.reportingController.length === 0) errs.push(field.required(rc));
    for (const msg of isQualifiedName(e.reportingController))
      errs.push(field.invalid(rc, e.reportingController, msg));
    const limited = (path: string, value: string, limit: number): void => {
      if (value.length === 0) errs.push(field.required(Path.root(path)));
      if (byteLength(value) > limit) {
        errs.push(field.invalid(Path.root(path), "", `can have at most ${limit} characters`));
      }
    };
    limited("reportingInstance", e.reportingInstance, reportingInstanceLengthLimit);
    limited("action", e.action, actionLengthLimit);
    limited("reason", e.reason, reasonLengthLimit);
    if (byteLength(e.message) > noteLengthLimit) {
      errs.push(field.invalid(Path.root("message"), "", `can have at most ${noteLengthLimit} characters`));
    }
  }
  for (const msg of isDNS1123Subdomain(e.namespace))
    errs.push(field.invalid(Path.root("namespace"), e.namespace, msg));
  return errs;
}

function validateV1EventSeries(e: InternalEvent): FieldError[] {
  const errs: FieldError[] = [];
  if (e.series !== undefined) {
    if (e.series.count < 2) errs.push(field.invalid(Path.root("series.count"), "", "should be at least 2"));
    if (e.series.lastObservedTime === undefined)
      errs.push(field.required(Path.root("series.lastObservedTime")));
  }
  return errs;
}

/** ValidateEventCreate; `strict` for requests through events.k8s.io/v1. */
export function validateInternalEventCreate(e: InternalEvent, strict: boolean): FieldError[] {
  const errs = legacyValidateEvent(e);
  if (!strict) return errs;
  errs.push(
    ...validateObjectMetaCreate(e.meta, {
      namespaced: true,
      nameValidator: nameIsDNSSubdomain,
      kubeFinalizers: true,
    }),
  );
  errs.push(...validateV1EventSeries(e));
  if (e.eventTime === undefined) errs.push(field.required(Path.root("eventTime")));
  if (e.type !== "Normal" && e.type !== "Warning") {
    errs.push(field.invalid(Path.root("type"), "", `has invalid value: ${e.type}`));
  }
  if (e.firstTimestamp !== undefined)
    errs.push(field.invalid(Path.root("firstTimestamp"), "", "needs to be unset"));
  if (e.lastTimestamp !== undefined)
    errs.push(field.invalid(Path.root("lastTimestamp"), "", "needs to be unset"));
  if (e.count !== 0) errs.push(field.invalid(Path.root("count"), "", "needs to be unset"));
  if (e.source.component !== "" || e.source.host !== "") {
    errs.push(field.invalid(Path.root("source"), "", "needs to be unset"));
  }
  return errs;
}

const goRef = (r: ObjectReference): string =>
  goStruct("core.ObjectReference", [
    ["Kind", goQuote(r.kind)],
    ["Namespace", goQuote(r.namespace)],
    ["Name", goQuote(r.name)],
    ["UID", goQuote(r.uid)],
    ["APIVersion", goQuote(r.apiVersion)],
    ["ResourceVersion", goQuote(r.resourceVersion)],
    ["FieldPath", goQuote(r.fieldPath)],
  ]);

const sameRef = (a: ObjectReference | undefined, b: ObjectReference | undefined): boolean =>
  a === undefined || b === undefined ? a === b : goRef(a) === goRef(b);

/** ValidateEventUpdate; `strict` for requests through events.k8s.io/v1. */
export function validateInternalEventUpdate(
  n: InternalEvent,
  o: InternalEvent,
  strict: boolean,
): FieldError[] {
  const errs = legacyValidateEvent(n);
  if (!strict) return errs;
  errs.push(...validateObjectMetaUpdate(n.meta, o.meta, { kubeFinalizers: true }));
  const sameSeries =
    n.series === undefined || o.series === undefined
      ? n.series === o.series
      : n.series.count === o.series.count && sameTime(n.series.lastObservedTime, o.series.lastObservedTime);
  if (!sameSeries) errs.push(...validateV1EventSeries(n));

  const immutable = (path: string, changed: boolean, value: BadValue): void => {
    if (changed) errs.push(field.invalid(Path.root(path), value, fieldImmutableErrorMsg));
  };
  const time = (t: GoTime | undefined): GoRepr => new GoRepr(goTimeString(t));
  const source = (s: InternalEvent["source"]): string =>
    goStruct("core.EventSource", [
      ["Component", goQuote(s.component)],
      ["Host", goQuote(s.host)],
    ]);
  immutable(
    "involvedObject",
    !sameRef(n.involvedObject, o.involvedObject),
    new GoRepr(goRef(n.involvedObject)),
  );
  immutable("reason", n.reason !== o.reason, n.reason);
  immutable("message", n.message !== o.message, n.message);
  immutable("source", source(n.source) !== source(o.source), new GoRepr(source(n.source)));
  immutable("firstTimestamp", !sameTime(n.firstTimestamp, o.firstTimestamp), time(n.firstTimestamp));
  immutable("lastTimestamp", !sameTime(n.lastTimestamp, o.lastTimestamp), time(n.lastTimestamp));
  immutable("count", n.count !== o.count, n.count);
  immutable("reason", n.reason !== o.reason, n.reason);
  immutable("type", n.type !== o.type, n.type);
  immutable("eventTime", !sameTime(n.eventTime, o.eventTime), time(n.eventTime));
  immutable("action", n.action !== o.action, n.action);
  immutable(
    "related",
    !sameRef(n.related, o.related),
    n.related === undefined ? null : new GoRepr(goRef(n.related)),
  );
  immutable("reportingController", n.reportingController !== o.reportingController, n.reportingController);
  immutable("reportingInstance", n.reportingInstance !== o.reportingInstance, n.reportingInstance);
  return errs;
}

/** events.k8s.io/v1 Event, create. Never changes `obj`. */
export function validateEvent(obj: unknown): FieldError[] {
  const { errs, w, o } = readRoot(obj);
  const e = fromEventsV1(o, w);
  return [...errs, ...validateInternalEventCreate(e, true)];
}

/** events.k8s.io/v1 Event, update. Never changes either argument. */
export function validateEventUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, w, o } = readRoot(obj);
  const next = fromEventsV1(o, w);
  const prev = fromEventsV1(readRoot(old).o, new Wire([]));
  return [...errs, ...validateInternalEventUpdate(next, prev, true)];
}
