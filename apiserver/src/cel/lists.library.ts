// k8s.io/apiserver/pkg/cel/library/lists.go: isSorted, sum, min, max, indexOf, lastIndexOf.

import type { Environment } from "@marcbachmann/cel-js";
import { celEquals, compareCel } from "./values.ts";

export function registerListsLibrary(env: Environment): void {
  env.registerFunction("list.isSorted(): bool", (l: unknown[]) =>
    l.every((x, i) => i === 0 || compareCel(l[i - 1], x) <= 0),
  );
  env.registerFunction("list.sum(): dyn", (l: unknown[]) => {
    if (l.length === 0) return 0n;
    return l.reduce((acc, x) =>
      typeof acc === "bigint" && typeof x === "bigint" ? acc + x : Number(acc) + Number(x),
    );
  });
  env.registerFunction("list.min(): dyn", (l: unknown[]) => {
    if (l.length === 0) throw new Error("min(list) called on an empty list");
    return l.reduce((a, b) => (compareCel(b, a) < 0 ? b : a));
  });
  env.registerFunction("list.max(): dyn", (l: unknown[]) => {
    if (l.length === 0) throw new Error("max(list) called on an empty list");
    return l.reduce((a, b) => (compareCel(b, a) > 0 ? b : a));
  });
  env.registerFunction("list.indexOf(dyn): int", (l: unknown[], x: unknown) =>
    BigInt(l.findIndex((y) => sameValue(y, x))),
  );
  env.registerFunction("list.lastIndexOf(dyn): int", (l: unknown[], x: unknown) =>
    BigInt(l.findLastIndex((y) => sameValue(y, x))),
  );
}

/** indexOf compares values of the same type only (an int never equals a double there). */
const sameValue = (a: unknown, b: unknown): boolean => a === b || (typeof a === typeof b && celEquals(a, b));
