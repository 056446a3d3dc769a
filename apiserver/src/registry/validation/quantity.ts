// resource.Quantity as k8s.io/apimachinery/pkg/api/resource (v1.32) parses, compares and prints it.
// A quantity is either the int64 fast form (value × 10^scale) or an arbitrary-precision decimal
// (unscaled × 10^-infScale, always rounded up to nano precision). The canonical string, the
// int64 projections (Value, MilliValue, with Go's wrap-around on overflow) and the %#v rendering
// that validation messages show all follow the upstream algorithms.

import { goQuote } from "./field.ts";

export const quantityRegexp = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** Upstream's parse errors (resource.ErrFormatWrong / ErrNumeric / ErrSuffix). */
export const quantityErrors = {
  formatWrong: `quantities must match the regular expression '${quantityRegexp}'`,
  numeric: "unable to parse numeric part of quantity",
  suffix: "unable to parse quantity's suffix",
} as const;

export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

export type Quantity =
  | {
      readonly form: "int64";
      readonly value: bigint;
      readonly scale: number;
      readonly format: QuantityFormat;
      readonly s: string;
    }
  | {
      readonly form: "dec";
      readonly unscaled: bigint;
      readonly infScale: number;
      readonly format: QuantityFormat;
    };

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
const wrap64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const pow10 = (n: number): bigint => 10n ** BigInt(n);

interface Parts {
  positive: boolean;
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** parseQuantityString: the fast scanner that splits sign, number and suffix. */
function parseQuantityString(str: string): Parts | undefined {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === "-") {
      positive = false;
      pos++;
    } else if (str[0] === "+") pos++;
  }
  // strip leading zeros
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value: "0", num: "0", denom: "", suffix: "" };
    if (str[i] === "0") pos++;
    else break;
  }
  let num: string;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value: str, num: str.slice(pos), denom: "", suffix: "" };
    if (!isDigit(str[i])) {
      num = str.slice(pos, i);
      pos = i;
      break;
    }
  }
  if (num.length === 0) num = "0";
  let denom = "";
  if (pos < end && str[pos] === ".") {
    pos++;
    let done = false;
    for (let i = pos; ; i++) {
      if (i >= end) {
        denom = str.slice(pos);
        done = true;
        break;
      }
      if (!isDigit(str[i])) {
        denom = str.slice(pos, i);
        pos = i;
        break;
      }
    }
    if (done) return { positive, value: str, num, denom, suffix: "" };
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
    if (!"eEinumkKMGTP".includes(str[i] ?? "")) {
      pos = i;
      break;
    }
  }
  if (pos < end && (str[pos] === "-" || str[pos] === "+")) pos++;
  for (let i = pos; ; i++) {
    if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
    if (!isDigit(str[i])) break;
  }
  return undefined; // a non-digit after the exponent: ErrFormatWrong
}

const decimalSuffixes: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** quantitySuffixer.interpret. */
function interpretSuffix(s: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  const dec = decimalSuffixes[s];
  if (dec !== undefined) return { base: 10, exponent: dec, format: "DecimalSI" };
  const bin = binarySuffixes[s];
  if (bin !== undefined) return { base: 2, exponent: bin, format: "BinarySI" };
  if (s.length > 1 && (s[0] === "e" || s[0] === "E")) {
    // strconv.ParseInt(s[1:], 10, 64), then int32(...)
    const digits = s.slice(1);
    if (!/^[+-]?[0-9]+$/.test(digits)) return undefined;
    const parsed = BigInt(digits);
    if (parsed > MAX_INT64 || parsed < MIN_INT64) return undefined;
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)), format: "DecimalExponent" };
  }
  return undefined;
}

/** inf.Dec.SetString on the numeric part ("-1.50", "+.5", "3."). */
function parseDec(value: string): { unscaled: bigint; infScale: number } | undefined {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(value);
  if (m === null) return undefined;
  const [, sign, int = "", frac = ""] = m;
  if (int.length + frac.length === 0) return undefined;
  const unscaled = BigInt(`${int}${frac}` || "0");
  return { unscaled: sign === "-" ? -unscaled : unscaled, infScale: frac.length };
}

/** ParseQuantity: the quantity, or one of quantityErrors. */
export function parseQuantity(str: string): Quantity | { error: string } {
  if (str.length === 0) return { error: quantityErrors.formatWrong };
  if (str === "0") return { form: "int64", value: 0n, scale: 0, format: "DecimalSI", s: str };
  const parts = parseQuantityString(str);
  if (parts === undefined) return { error: quantityErrors.formatWrong };
  const { positive, value, num, denom } = parts;
  const suf = interpretSuffix(parts.suffix);
  if (suf === undefined) return { error: quantityErrors.suffix };
  const { base, exponent } = suf;
  let format = suf.format;

  let precision: number;
  let scale = 0;
  let mantissa = 1n;
  if (format === "BinarySI") {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = BigInt.asIntN(64, 1n << BigInt(exponent));
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else precision = -1;
  } else {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  }

  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= -9) {
      const shifted = num + denom;
      const v = BigInt(shifted);
      if (v > MAX_INT64) return { error: quantityErrors.numeric };
      const product = v * mantissa;
      if (product <= MAX_INT64 && product >= MIN_INT64) {
        const result = positive ? product : -product;
        // Canonical input is cached and printed back as written.
        let canonical: boolean;
        if (format === "BinarySI") canonical = exponent % 10 === 0 && (v & 7n) !== 0n;
        else canonical = scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0";
        return { form: "int64", value: result, scale, format, s: canonical ? str : "" };
      }
    }
  }

  const dec = parseDec(value);
  if (dec === undefined) return { error: quantityErrors.numeric };
  let { unscaled, infScale } = dec;
  if (base === 10) infScale -= exponent;
  else unscaled *= 1n << BigInt(exponent);
  const negative = unscaled < 0n;
  if (negative) unscaled = -unscaled;
  // Round non-zero values up (away from zero) to nano precision.
  if (unscaled !== 0n) ({ unscaled, infScale } = roundUp(unscaled, infScale, 9));
  if (format === "BinarySI" && cmpDec(unscaled, infScale, MAX_INT64, 0) > 0) {
    unscaled = MAX_INT64;
    infScale = 0;
  }
  if (format === "BinarySI" && cmpDec(unscaled, infScale, 1n, 0) < 0 && unscaled > 0n) format = "DecimalSI";
  return { form: "dec", unscaled: negative ? -unscaled : unscaled, infScale, format };
}

/** inf.Dec.Round(x, scale, inf.RoundUp) for a non-negative x. */
function roundUp(unscaled: bigint, infScale: number, to: number): { unscaled: bigint; infScale: number } {
  if (infScale <= to) return { unscaled: unscaled * pow10(to - infScale), infScale: to };
  const d = pow10(infScale - to);
  const q = unscaled / d;
  return { unscaled: unscaled % d === 0n ? q : q + 1n, infScale: to };
}

function cmpDec(a: bigint, aScale: number, b: bigint, bScale: number): number {
  const s = Math.max(aScale, bScale);
  const x = a * pow10(s - aScale);
  const y = b * pow10(s - bScale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The exact value as unscaled × 10^-infScale. */
function asDec(q: Quantity): { unscaled: bigint; infScale: number } {
  return q.form === "dec"
    ? { unscaled: q.unscaled, infScale: q.infScale }
    : { unscaled: q.value, infScale: -q.scale };
}

/** Quantity.Cmp: -1, 0 or 1. */
export function quantityCmp(a: Quantity, b: Quantity): number {
  const x = asDec(a);
  const y = asDec(b);
  return cmpDec(x.unscaled, x.infScale, y.unscaled, y.infScale);
}

export const quantitySign = (q: Quantity): number => {
  const v = q.form === "dec" ? q.unscaled : q.value;
  return v < 0n ? -1 : v > 0n ? 1 : 0;
};

// ---- int64 projections --------------------------------------------------------------------

/** int64MultiplyScale and friends: a×b with Go's wrap-around; ok=false on overflow. */
function multiplyScale(a: bigint, b: bigint): [bigint, boolean] {
  if (a === 0n || a === 1n) return [a * b, true];
  if (a === MIN_INT64) return [0n, false];
  const c = wrap64(a * b);
  return [c, c / b === a];
}

function positiveScaleInt64(base: bigint, scale: number): [bigint, boolean] {
  switch (scale) {
    case 0:
      return [base, true];
    case 1:
      return multiplyScale(base, 10n);
    case 2:
      return multiplyScale(base, 100n);
    case 3:
      return multiplyScale(base, 1000n);
    case 6:
      return multiplyScale(base, 1000000n);
    case 9:
      return multiplyScale(base, 1000000000n);
    default: {
      let value = base;
      for (let i = 0; i < scale; i++) {
        const [v, ok] = multiplyScale(value, 10n);
        if (!ok) return [0n, false];
        value = v;
      }
      return [value, true];
    }
  }
}

/** negativeScaleInt64: divide by 10^scale rounding away from zero; exact=false when rounded. */
function negativeScaleInt64(base: bigint, scale: number): [bigint, boolean] {
  if (scale === 0) return [base, true];
  let value = base;
  let fraction = false;
  for (let i = 0; i < scale; i++) {
    if (!fraction && value % 10n !== 0n) fraction = true;
    value = value / 10n;
    if (value === 0n) {
      if (fraction) return [base > 0n ? 1n : -1n, false];
      return [0n, true];
    }
  }
  if (fraction) value += base > 0n ? 1n : -1n;
  return [value, !fraction];
}

/** Quantity.ScaledValue(scale): the value in units of 10^scale, rounded up, as Go's int64. */
export function quantityScaledValue(q: Quantity, scale: number): bigint {
  if (q.form === "int64") {
    if (q.scale < scale) return negativeScaleInt64(q.value, scale - q.scale)[0];
    return positiveScaleInt64(q.value, q.scale - scale)[0];
  }
  const dif = q.infScale + scale; // inf scale minus the target inf scale (-scale)
  const low64 = (v: bigint): bigint => wrap64(v);
  if (dif === 0) return low64(q.unscaled);
  if (dif < 0) return wrap64(low64(q.unscaled) * pow10(-dif));
  if (q.unscaled < MAX_INT64 && dif < 19) {
    const u = low64(q.unscaled);
    const d = pow10(dif);
    return u % d !== 0n ? u / d + 1n : u / d;
  }
  const d = pow10(dif);
  let r = q.unscaled / d;
  if (q.unscaled % d !== 0n && q.unscaled < 0n) r -= 1n; // big.Int DivMod is Euclidean
  const m = q.unscaled - r * d;
  return low64(m !== 0n ? r + 1n : r);
}

export const quantityValue = (q: Quantity): bigint => quantityScaledValue(q, 0);
export const quantityMilliValue = (q: Quantity): bigint => quantityScaledValue(q, -3);

// ---- canonical string ---------------------------------------------------------------------

function removeFactors(v: bigint, base: bigint): [bigint, number] {
  let times = 0;
  let r = v;
  while (r !== 0n && r % base === 0n) {
    r /= base;
    times++;
  }
  return [r, times];
}

function removeInt64Factors(v: bigint, base: bigint): [bigint, number] {
  const negative = v < 0n;
  let r = negative ? -v : v;
  let times = 0;
  while (r >= base && r % base === 0n) {
    r /= base;
    times++;
  }
  return [negative ? -r : r, times];
}

function decCanonical(unscaled: bigint, infScale: number): [string, number] {
  const [reduced, times] = removeFactors(unscaled, 10n);
  let amount = reduced;
  let exponent = -infScale + times;
  while (exponent % 3 !== 0) {
    amount *= 10n;
    exponent--;
  }
  return [amount.toString(), exponent];
}

function canonicalBytes(q: Quantity): [string, number] {
  if (q.form === "dec") return decCanonical(q.unscaled, q.infScale);
  const [reduced, times] = removeInt64Factors(q.value, 10n);
  let amount = reduced;
  let exponent = q.scale + times;
  const rem = exponent % 3;
  if (rem === 1 || rem === -2) {
    const [v, ok] = multiplyScale(amount, 10n);
    if (!ok) return decCanonical(q.value, -q.scale);
    amount = v;
    exponent -= 1;
  } else if (rem === 2 || rem === -1) {
    const [v, ok] = multiplyScale(amount, 100n);
    if (!ok) return decCanonical(q.value, -q.scale);
    amount = v;
    exponent -= 2;
  }
  return [amount.toString(), exponent];
}

const decimalSuffixFor = new Map(Object.entries(decimalSuffixes).map(([k, v]) => [v, k]));
const binarySuffixFor = new Map(Object.entries(binarySuffixes).map(([k, v]) => [v, k]));

/** Quantity.String(): the canonical form (or the input itself when it was already canonical). */
export function quantityString(q: Quantity): string {
  if (q.form === "int64" && q.s.length > 0) return q.s;
  if (quantitySign(q) === 0) return "0";
  let format = q.format;
  let rounded: bigint | undefined;
  if (format === "BinarySI") {
    const { unscaled, infScale } = asDec(q);
    if (cmpDec(unscaled, infScale, -1024n, 0) > 0 && cmpDec(unscaled, infScale, 1024n, 0) < 0)
      format = "DecimalSI";
    else {
      // AsScale(0): round up to an integer; show as DecimalSI when that would lose precision.
      const integral = infScale <= 0 ? unscaled * pow10(-infScale) : undefined;
      if (integral === undefined) {
        const d = pow10(infScale);
        if (unscaled % d !== 0n) format = "DecimalSI";
        else rounded = unscaled / d;
      } else rounded = integral;
    }
  }
  if (format === "BinarySI" && rounded !== undefined) {
    const [amount, exponent] = removeInt64Factors(rounded, 1024n);
    return amount.toString() + (binarySuffixFor.get(exponent * 10) ?? "");
  }
  const [number, exponent] = canonicalBytes(q);
  if (format === "DecimalExponent") return exponent === 0 ? number : `${number}e${exponent}`;
  return number + (decimalSuffixFor.get(exponent) ?? "");
}

/** %#v of a v1.32 resource.Quantity, as validation errors print quantity bad values. */
export function goQuantityRepr(q: Quantity): string {
  const i =
    q.form === "int64"
      ? `resource.int64Amount{value:${q.value}, scale:${q.scale}}`
      : "resource.int64Amount{value:0, scale:0}";
  const d = q.form === "int64" ? "(*inf.Dec)(nil)" : "(*inf.Dec)(0xc000000000)";
  const s = q.form === "int64" ? q.s : "";
  return `resource.Quantity{i:${i}, d:resource.infDecAmount{Dec:${d}}, s:${goQuote(s)}, Format:"${q.format}"}`;
}

/** A quantity as it arrives on the wire: a string, or a JSON number (which Go also accepts). */
export function quantityFromWire(v: unknown): Quantity | { error: string } {
  if (v === null) return parseQuantity("0");
  if (typeof v === "number" && Number.isFinite(v)) return parseQuantity(String(v));
  if (typeof v === "string") return parseQuantity(v.trim());
  return { error: quantityErrors.formatWrong };
}
