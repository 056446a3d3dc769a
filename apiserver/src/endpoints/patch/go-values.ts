// How Go sees a decoded JSON value: its dynamic type (map[string]interface{}, []interface{},
// string, bool, int64 or float64 as kube's PreserveInts decoding gives), `==` on interfaces,
// fmt's %v and %s, json.Marshal, and sort.SliceStable. Upstream's patch errors print values
// with fmt, and the strategic merge patch orders lists with SliceStable, so matching kube's
// answers byte for byte needs these.

import { isJsonObject, type JsonValue } from "./json.types.ts";

export type GoType = "nil" | "map" | "slice" | "string" | "bool" | "int64" | "float64";

/**
 * The Go type kube decodes a JSON value to. JSON.parse keeps no trace of "1.0" vs "1", so any
 * integral number in int64 range counts as int64 (kube: float64 when the text had a "." or an
 * exponent).
 */
export function goType(v: JsonValue): GoType {
  if (v === null) return "nil";
  if (Array.isArray(v)) return "slice";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? "int64" : "float64";
  return "map";
}

/** reflect.TypeOf(v).String(), as mergepatch.ErrBadArgType prints it; "%!s(<nil>)" for nil. */
export function goTypeName(v: JsonValue): string {
  switch (goType(v)) {
    case "nil":
      return "%!s(<nil>)";
    case "map":
      return "map[string]interface {}";
    case "slice":
      return "[]interface {}";
    case "string":
      return "string";
    case "bool":
      return "bool";
    case "int64":
      return "int64";
    case "float64":
      return "float64";
  }
}

/** A Go runtime panic, e.g. comparing two maps with `==`; the caller answers 500. */
export class GoPanic extends Error {
  override readonly name = "GoPanic";
}

/** Go's `a == b` on two interface{} values holding decoded JSON; maps and slices panic. */
export function goEqual(a: JsonValue, b: JsonValue): boolean {
  const ta = goType(a);
  const tb = goType(b);
  if (ta !== tb) return false;
  if (ta === "map" || ta === "slice") {
    throw new GoPanic(`runtime error: comparing uncomparable type ${goTypeName(a)}`);
  }
  return a === b;
}

/** strconv.FormatFloat(f, 'g', -1, 64), which fmt's %v uses for float64. */
export function goFloatG(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mantissa = "", expText = "0"] = x.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    return `${mantissa}e${exp < 0 ? "-" : "+"}${abs < 10 ? `0${abs}` : `${abs}`}`;
  }
  return String(x);
}

function goScalar(v: JsonValue, verb: "v" | "s"): string {
  if (v === null) return verb === "v" ? "<nil>" : "%!s(<nil>)";
  if (typeof v === "string") return v;
  if (typeof v === "boolean" || typeof v === "number") {
    const t = goType(v);
    const text = t === "float64" ? goFloatG(v as number) : String(v);
    return verb === "v" ? text : `%!s(${t}=${text})`;
  }
  throw new Error("not a scalar");
}

/** fmt's %v (or %s) of a decoded JSON value: `map[a:1 b:[x y]]`, keys sorted, as Go prints maps. */
export function goFormat(v: JsonValue, verb: "v" | "s" = "v"): string {
  if (Array.isArray(v)) return `[${v.map((e) => goFormat(e, verb)).join(" ")}]`;
  if (isJsonObject(v)) {
    const keys = Object.keys(v).sort(compareGoStrings);
    return `map[${keys.map((k) => `${k}:${goFormat(v[k] as JsonValue, verb)}`).join(" ")}]`;
  }
  return goScalar(v, verb);
}

/** Go compares strings by bytes (UTF-8); JS's default sort compares UTF-16 code units. */
export function compareGoStrings(a: string, b: string): number {
  const ea = Buffer.from(a, "utf8");
  const eb = Buffer.from(b, "utf8");
  return Buffer.compare(ea, eb);
}

function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

function goJsonFloat(x: number): string {
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // strconv 'e' format, then Go trims "e-07" to "e-7".
    return x
      .toExponential()
      .replace(/e([+-])(\d)$/, "e$10$2")
      .replace(/e([+-])0(\d)$/, "e$1$2");
  }
  return String(x);
}

/** json.Marshal of a decoded JSON value: keys sorted, HTML characters escaped, no spaces. */
export function goMarshal(v: JsonValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `[${v.map((e) => goMarshal(e)).join(",")}]`;
  if (isJsonObject(v)) {
    const keys = Object.keys(v).sort(compareGoStrings);
    return `{${keys.map((k) => `${goJsonString(k)}:${goMarshal(v[k] as JsonValue)}`).join(",")}}`;
  }
  if (typeof v === "string") return goJsonString(v);
  if (typeof v === "number") return goType(v) === "int64" ? String(v) : goJsonFloat(v);
  return v ? "true" : "false";
}

/**
 * Go's sort.SliceStable (insertion sort on blocks of 20, then SymMerge), in place. Upstream's
 * comparators are not always a strict weak order (an item missing from the order list is
 * "less" than anything), so only Go's exact algorithm gives Go's exact result.
 */
export function goSliceStable<T>(data: T[], less: (a: T, b: T) => boolean): void {
  const n = data.length;
  const lessAt = (i: number, j: number): boolean => less(data[i] as T, data[j] as T);
  const swap = (i: number, j: number): void => {
    const t = data[i] as T;
    data[i] = data[j] as T;
    data[j] = t;
  };
  const insertionSort = (a: number, b: number): void => {
    for (let i = a + 1; i < b; i++) {
      for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
    }
  };
  const swapRange = (a: number, b: number, k: number): void => {
    for (let i = 0; i < k; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number): void => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = nn - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = nn - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };

  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}
