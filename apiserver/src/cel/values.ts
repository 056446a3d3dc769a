// Values as the CEL engine sees them: decoded JSON with integers as bigint (Go's unstructured
// int64) and other numbers as double, and CEL's heterogeneous equality between them.

/** A decoded JSON value for CEL: integers become bigint, absent becomes null. Never mutates `v`. */
export function jsonToCel(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(jsonToCel);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x !== undefined) out[k] = jsonToCel(x);
  }
  return out;
}

/** Orders two CEL scalars (numbers of any kind by value, strings by code unit). */
export function compareCel(a: unknown, b: unknown): number {
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  const x = typeof a === "bigint" ? Number(a) : (a as number);
  const y = typeof b === "bigint" ? Number(b) : (b as number);
  return x < y ? -1 : x > y ? 1 : 0;
}

const isNumber = (x: unknown): x is number | bigint => typeof x === "number" || typeof x === "bigint";

/** CEL's heterogeneous equality: 1 == 1.0, lists and maps element-wise. */
export function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isNumber(a) && isNumber(b)) {
    if (typeof a === "bigint" && typeof b === "bigint") return a === b;
    return Number(a) === Number(b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => celEquals(x, b[i]));
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !celEquals(v, b.get(k))) return false;
    return true;
  }
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && celEquals(a[k], b[k]));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const eq = (a as { equals?: (o: unknown) => boolean }).equals;
    if (typeof eq === "function") return eq.call(a, b);
  }
  return false;
}

function isPlain(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object" || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}
