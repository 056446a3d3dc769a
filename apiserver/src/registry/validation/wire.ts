// Reading objects as they arrive on the wire (plain JSON) without trusting their shape. kube
// rejects a wrongly typed field while decoding (400 BadRequest, before validation); here a wrong
// type becomes a FieldValueTypeInvalid error at that field and the field is treated as absent, so
// validation goes on and never throws. JSON null reads as absent, as Go's decoder treats it.

import type { FieldError } from "../../apierrors/status.ts";
import * as field from "./field.ts";
import { Path } from "./field.ts";

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The JSON type name of a value, as schema errors name it. */
export function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

const int32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/**
 * Typed reads of wire JSON. Each read pushes a type error into `errors` (the caller's list, which
 * it may therefore change) when the value is present with the wrong type, and returns undefined.
 */
export class Wire {
  constructor(readonly errors: FieldError[]) {}

  private wrong(path: Path, v: unknown, expected: string): undefined {
    this.errors.push(field.typeInvalid(path, jsonType(v), `must be of type ${expected}`));
    return undefined;
  }

  object(v: unknown, path: Path): JsonObject | undefined {
    if (v === undefined || v === null) return undefined;
    return isObject(v) ? v : this.wrong(path, v, "object");
  }

  string(v: unknown, path: Path): string | undefined {
    if (v === undefined || v === null) return undefined;
    return typeof v === "string" ? v : this.wrong(path, v, "string");
  }

  bool(v: unknown, path: Path): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    return typeof v === "boolean" ? v : this.wrong(path, v, "boolean");
  }

  /** An int32 (or, with `wide`, an int64 within JS's safe range). */
  int(v: unknown, path: Path, wide = false): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) return this.wrong(path, v, "integer");
    if (!wide && (v < int32.min || v > int32.max)) return this.wrong(path, v, "integer (int32)");
    return v;
  }

  array(v: unknown, path: Path): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    return Array.isArray(v) ? v : this.wrong(path, v, "array");
  }

  /** A list of strings; wrongly typed items are reported at their index and dropped. */
  strings(v: unknown, path: Path): string[] | undefined {
    const arr = this.array(v, path);
    if (arr === undefined) return undefined;
    const out: string[] = [];
    arr.forEach((item, i) => {
      const s = this.string(item, path.index(i));
      if (s !== undefined) out.push(s);
      else if (item === null) out.push("");
    });
    return out;
  }

  /** A list of objects with their original indexes; wrongly typed items are reported and dropped. */
  objects(v: unknown, path: Path): [JsonObject, number][] | undefined {
    const arr = this.array(v, path);
    if (arr === undefined) return undefined;
    const out: [JsonObject, number][] = [];
    arr.forEach((item, i) => {
      const o = this.object(item, path.index(i));
      out.push([o ?? {}, i]);
    });
    return out;
  }

  /** A map of strings in wire order; wrongly typed values are reported at their key and dropped. */
  stringMap(v: unknown, path: Path): [string, string][] | undefined {
    const o = this.object(v, path);
    if (o === undefined) return undefined;
    const out: [string, string][] = [];
    for (const [k, val] of Object.entries(o)) {
      const s = val === null ? "" : this.string(val, path.key(k));
      if (s !== undefined) out.push([k, s]);
    }
    return out;
  }

  /** An RFC 3339 timestamp (metav1.Time / MicroTime); undefined when absent. */
  time(v: unknown, path: Path): GoTime | undefined {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const t = parseRFC3339(s);
    if (t === undefined) {
      this.errors.push(field.typeInvalid(path, s, "must be a timestamp in RFC 3339 format"));
      return undefined;
    }
    return t;
  }
}

/**
 * Starts validating a wire object: a fresh error list, a reader that reports into it, and the
 * object itself ({} when it is not one, after reporting that on the nameless path "[]").
 */
export function readRoot(obj: unknown): { errs: FieldError[]; w: Wire; o: JsonObject } {
  const errs: FieldError[] = [];
  const w = new Wire(errs);
  return { errs, w, o: w.object(obj, Path.root("")) ?? {} };
}

/** UTF-8 length in bytes: Go's len(string). */
export const byteLength = (s: string): number => Buffer.byteLength(s, "utf8");

// ---- time ---------------------------------------------------------------------------------

/** A parsed timestamp: whole UTC seconds since the epoch plus the fraction digits as written. */
export interface GoTime {
  readonly seconds: number;
  readonly fraction: string;
}

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Go's time.Parse(time.RFC3339, s) (fractional seconds allowed), or undefined. */
export function parseRFC3339(s: string): GoTime | undefined {
  const m = rfc3339.exec(s);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(base) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  if (new Date(base).getUTCDate() !== Number(d) || new Date(base).getUTCMonth() !== Number(mo) - 1)
    return undefined;
  let offset = 0;
  if (zone !== undefined && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    offset = sign * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  }
  return { seconds: base / 1000 - offset, fraction: (frac ?? "").replace(/0+$/, "") };
}

export const sameTime = (a: GoTime | undefined, b: GoTime | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.seconds === b.seconds && a.fraction === b.fraction;

/**
 * time.Time.String() of a decoded metav1.Time in a UTC apiserver: `2024-01-02 03:04:05 +0000 UTC`;
 * the zero time for an absent one.
 */
export function goTimeString(t: GoTime | undefined): string {
  if (t === undefined) return "0001-01-01 00:00:00 +0000 UTC";
  const iso = new Date(t.seconds * 1000).toISOString(); // 2024-01-02T03:04:05.000Z
  const frac = t.fraction.length > 0 ? `.${t.fraction}` : "";
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}
