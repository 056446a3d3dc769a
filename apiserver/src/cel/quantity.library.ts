// k8s.io/apiserver/pkg/cel/library/quantity.go: resource.Quantity in CEL (`quantity("1.5Gi")`),
// kept as an exact rational so comparisons and arithmetic never round.

import type { Environment } from "@marcbachmann/cel-js";

const quantityPattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(.*)$/;
const binary: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const decimal: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const maxInt64 = 2n ** 63n - 1n;
const minInt64 = -(2n ** 63n);

const gcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
};

/** A resource.Quantity as an exact fraction num/den (den > 0), and the text it came from. */
export class Quantity {
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den: bigint) {
    const g = gcd(num, den);
    this.num = num / g;
    this.den = den / g;
  }

  /** resource.ParseQuantity; throws kube's message when `s` is not a quantity. */
  static parse(s: string): Quantity {
    const m = quantityPattern.exec(s.trim() === s ? s : "");
    if (m === null || s === "") throw new Error(quantityError);
    const [, sign, number = "", suffix = ""] = m;
    const [whole = "", frac = ""] = number.split(".");
    let num = BigInt((whole === "" ? "0" : whole) + frac);
    let den = 10n ** BigInt(frac.length);
    if (sign === "-") num = -num;
    const b = binary[suffix];
    const d = decimal[suffix];
    const exp = /^[eE]([+-]?\d+)$/.exec(suffix);
    if (b !== undefined) num *= 1024n ** BigInt(b);
    else if (d !== undefined || exp !== null) {
      const e = d ?? Number(exp![1]);
      if (Math.abs(e) > 1000) throw new Error(quantityError);
      if (e >= 0) num *= 10n ** BigInt(e);
      else den *= 10n ** BigInt(-e);
    } else throw new Error(quantityError);
    return new Quantity(num, den);
  }

  compare(o: Quantity): number {
    const a = this.num * o.den;
    const b = o.num * this.den;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equals(o: unknown): boolean {
    return o instanceof Quantity && this.compare(o) === 0;
  }

  add(o: Quantity): Quantity {
    return new Quantity(this.num * o.den + o.num * this.den, this.den * o.den);
  }

  negate(): Quantity {
    return new Quantity(-this.num, this.den);
  }

  isInteger(): boolean {
    return this.den === 1n && this.num >= minInt64 && this.num <= maxInt64;
  }
}

const quantityError =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const isQuantity = (s: string): boolean => {
  try {
    Quantity.parse(s);
    return true;
  } catch {
    return false;
  }
};

export function registerQuantityLibrary(env: Environment): void {
  env.registerType("kubernetes.Quantity", Quantity);
  env.registerFunction("quantity(string): kubernetes.Quantity", (s: string) => Quantity.parse(s));
  env.registerFunction("isQuantity(string): bool", isQuantity);
  env.registerFunction("kubernetes.Quantity.sign(): int", (q: Quantity) =>
    BigInt(q.compare(new Quantity(0n, 1n))),
  );
  env.registerFunction("kubernetes.Quantity.isInteger(): bool", (q: Quantity) => q.isInteger());
  env.registerFunction("kubernetes.Quantity.asInteger(): int", (q: Quantity) => {
    if (!q.isInteger()) throw new Error("cannot convert value to integer");
    return q.num;
  });
  env.registerFunction(
    "kubernetes.Quantity.asApproximateFloat(): double",
    (q: Quantity) => Number(q.num) / Number(q.den),
  );
  env.registerFunction(
    "kubernetes.Quantity.add(kubernetes.Quantity): kubernetes.Quantity",
    (q: Quantity, o: Quantity) => q.add(o),
  );
  env.registerFunction("kubernetes.Quantity.add(int): kubernetes.Quantity", (q: Quantity, n: bigint) =>
    q.add(new Quantity(n, 1n)),
  );
  env.registerFunction(
    "kubernetes.Quantity.sub(kubernetes.Quantity): kubernetes.Quantity",
    (q: Quantity, o: Quantity) => q.add(o.negate()),
  );
  env.registerFunction("kubernetes.Quantity.sub(int): kubernetes.Quantity", (q: Quantity, n: bigint) =>
    q.add(new Quantity(-n, 1n)),
  );
  env.registerFunction(
    "kubernetes.Quantity.isLessThan(kubernetes.Quantity): bool",
    (q: Quantity, o: Quantity) => q.compare(o) < 0,
  );
  env.registerFunction(
    "kubernetes.Quantity.isGreaterThan(kubernetes.Quantity): bool",
    (q: Quantity, o: Quantity) => q.compare(o) > 0,
  );
  env.registerFunction(
    "kubernetes.Quantity.compareTo(kubernetes.Quantity): int",
    (q: Quantity, o: Quantity) => BigInt(q.compare(o)),
  );
  env.registerOperator("kubernetes.Quantity == kubernetes.Quantity", (a: Quantity, b: Quantity) =>
    a.equals(b),
  );
}
