// k8s.io/apiserver/pkg/cel/library/regex.go: `find` and `findAll` on strings, with RE2 patterns
// translated for JavaScript (inline flags such as `(?i)` become RegExp flags).

import type { Environment } from "@marcbachmann/cel-js";

/** An RE2 pattern as a JavaScript RegExp (unicode when the pattern allows it). */
export function compilePattern(pattern: string): RegExp {
  let p = pattern;
  let flags = "";
  const inline = /^\(\?([imsU]+)\)/.exec(p);
  if (inline) {
    p = p.slice(inline[0].length);
    for (const f of inline[1] ?? "") if (f === "i" || f === "s" || f === "m") flags += f;
  }
  try {
    return new RegExp(p, `${flags}u`);
  } catch {
    return new RegExp(p, flags);
  }
}

function findAll(s: string, re: string, limit: number): string[] {
  const r = compilePattern(re);
  const g = new RegExp(r.source, r.flags.includes("g") ? r.flags : `${r.flags}g`);
  const out: string[] = [];
  for (const m of s.matchAll(g)) {
    if (limit >= 0 && out.length >= limit) break;
    out.push(m[0]);
  }
  return out;
}

/** Registers `string.find(re)`, `string.findAll(re)` and `string.findAll(re, n)`. */
export function registerRegexLibrary(env: Environment): void {
  env.registerFunction(
    "string.find(string): string",
    (s: string, re: string) => compilePattern(re).exec(s)?.[0] ?? "",
  );
  env.registerFunction("string.findAll(string): list<string>", (s: string, re: string) => findAll(s, re, -1));
  env.registerFunction("string.findAll(string, int): list<string>", (s: string, re: string, n: bigint) =>
    findAll(s, re, Number(n)),
  );
}
