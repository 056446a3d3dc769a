// cel-go's sets extension (ext.Sets), enabled in Kubernetes since v1.29: sets.contains,
// sets.equivalent and sets.intersects over lists, with CEL's heterogeneous equality.

import type { Environment } from "@marcbachmann/cel-js";
import { celEquals } from "./values.ts";

class SetsNamespace {}

const has = (l: readonly unknown[], x: unknown): boolean => l.some((y) => celEquals(x, y));

export function registerSetsLibrary(env: Environment): void {
  env.registerType("SetsNamespace", SetsNamespace);
  env.registerConstant("sets", "SetsNamespace", new SetsNamespace());
  env.registerFunction("SetsNamespace.contains(list, list): bool", (_: unknown, a: unknown[], b: unknown[]) =>
    b.every((x) => has(a, x)),
  );
  env.registerFunction(
    "SetsNamespace.equivalent(list, list): bool",
    (_: unknown, a: unknown[], b: unknown[]) => b.every((x) => has(a, x)) && a.every((x) => has(b, x)),
  );
  env.registerFunction(
    "SetsNamespace.intersects(list, list): bool",
    (_: unknown, a: unknown[], b: unknown[]) => b.some((x) => has(a, x)),
  );
}
