// cel-go's strings extension as Kubernetes enables it (ext.Strings version 2), for what the
// engine lacks: charAt, replace, reverse and strings.quote. (lowerAscii, upperAscii, indexOf,
// lastIndexOf, split, substring, trim and join are the engine's own.)

import type { Environment } from "@marcbachmann/cel-js";

class StringsNamespace {}

export function registerStringsLibrary(env: Environment): void {
  env.registerFunction("string.charAt(int): string", (s: string, i: bigint) => {
    const chars = [...s];
    const n = Number(i);
    if (n < 0 || n > chars.length) throw new Error(`index out of range: ${n}`);
    return chars[n] ?? "";
  });
  env.registerFunction("string.replace(string, string): string", (s: string, a: string, b: string) =>
    s.split(a).join(b),
  );
  env.registerFunction(
    "string.replace(string, string, int): string",
    (s: string, a: string, b: string, n: bigint) => {
      let count = Number(n);
      if (count < 0) return s.split(a).join(b);
      let out = "";
      let rest = s;
      while (count > 0) {
        const at = rest.indexOf(a);
        if (at < 0) break;
        out += rest.slice(0, at) + b;
        rest = rest.slice(at + a.length);
        count--;
      }
      return out + rest;
    },
  );
  env.registerFunction("string.reverse(): string", (s: string) => [...s].reverse().join(""));
  env.registerType("StringsNamespace", StringsNamespace);
  env.registerConstant("strings", "StringsNamespace", new StringsNamespace());
  env.registerFunction("StringsNamespace.quote(string): string", (_: unknown, s: string) => quote(s));
}

/** strings.quote: a double-quoted CEL string literal with escapes. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case "\\":
        out += "\\\\";
        break;
      case '"':
        out += '\\"';
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\t":
        out += "\\t";
        break;
      case "\b":
        out += "\\b";
        break;
      case "\f":
        out += "\\f";
        break;
      case "\v":
        out += "\\v";
        break;
      case "\u0007":
        out += "\\a";
        break;
      default:
        out += ch;
    }
  }
  return `${out}"`;
}
