// The Kubernetes CEL environment both CRD validation rules and admission (policies, webhook
// matchConditions) compile against: the engine's standard library plus what
// k8s.io/apiserver/pkg/cel/library and cel-go's extensions add (v1.32), and cel-go's
// issue format for compile errors.

import { Environment, type EnvironmentOptions } from "@marcbachmann/cel-js";
import { registerCIDRLibrary } from "./cidr.library.ts";
import { registerFormatLibrary } from "./format.library.ts";
import { registerIPLibrary } from "./ip.library.ts";
import { registerListsLibrary } from "./lists.library.ts";
import { registerQuantityLibrary } from "./quantity.library.ts";
import { registerRegexLibrary } from "./regex.library.ts";
import { registerSetsLibrary } from "./sets.library.ts";
import { registerStringsLibrary } from "./strings.library.ts";
import { registerURLLibrary } from "./url.library.ts";

/** Engine options every Kubernetes environment uses (optional types, mixed literals). */
export const celEnvOptions = {
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
} as const satisfies EnvironmentOptions;

/**
 * Registers the Kubernetes libraries on `env`: lists, regex (find, findAll), the strings
 * extension, sets, url, quantity, ip, cidr and format. Called once per environment, before any variable.
 */
export function registerKubernetesLibraries(env: Environment): void {
  registerListsLibrary(env);
  registerRegexLibrary(env);
  registerStringsLibrary(env);
  registerSetsLibrary(env);
  registerURLLibrary(env);
  registerQuantityLibrary(env);
  registerIPLibrary(env);
  registerCIDRLibrary(env);
  registerFormatLibrary(env);
}

/** A new environment with the Kubernetes libraries and no variables yet. */
export function newKubernetesEnvironment(): Environment {
  const env = new Environment(celEnvOptions);
  registerKubernetesLibraries(env);
  return env;
}

/** cel-go's issue format: `ERROR: <input>:1:6: <message>` with the source line and a caret. */
export function celIssue(expr: string, err: unknown): string {
  const error = err as { message?: string; node?: { pos?: number }; range?: { start: number } };
  const first = (error.message ?? String(err)).split("\n")[0] ?? "";
  const pos = error.node?.pos ?? error.range?.start ?? 0;
  const before = expr.slice(0, pos);
  const line = before.split("\n").length;
  const col = pos - (before.lastIndexOf("\n") + 1);
  const src = expr.split("\n")[line - 1] ?? "";
  let msg = first.replace(/^No such key: (.*)$/, "undefined field '$1'");
  msg = msg.charAt(0).toLowerCase() + msg.slice(1);
  return `ERROR: <input>:${line}:${col + 1}: ${msg}\n | ${src}\n | ${".".repeat(col)}^`;
}

/** The first line of a runtime error, worded as cel-go words it ("no such key: x"). */
export function celRuntimeMessage(err: unknown): string {
  const first = ((err as { message?: string }).message ?? String(err)).split("\n")[0] ?? "";
  return first.replace(/^No such key/, "no such key");
}
