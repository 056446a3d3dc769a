// k8s.io/apiserver/pkg/cel/library/format.go: named string formats as CEL values of type
// `kubernetes.NamedFormat` — `format.named(name)` (optional), `format.<name>()` and
// `<format>.validate(string)`, which answers optional.none() when the string is valid and
// otherwise the list of kube's validation messages.

import { type Environment, Optional } from "@marcbachmann/cel-js";
import { goParseURL } from "../registry/validation/admissionregistration.ts";
import { goQuote } from "../registry/validation/field.ts";
import {
  isQualifiedName,
  isValidLabelValue,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
} from "../registry/validation/names.ts";
import { formats } from "../registry/crd/formats.ts";

/** A CEL `kubernetes.NamedFormat` value. */
export class NamedFormat {
  constructor(
    readonly name: string,
    readonly validate: (s: string) => string[],
  ) {}

  equals(o: unknown): boolean {
    return o instanceof NamedFormat && o.name === this.name;
  }
}

/** The `format` namespace of `format.named(…)` and `format.<name>()`. */
class FormatNamespace {}

/** Go's url.ParseRequestURI: undefined when `raw` parses, else its error text. */
function parseRequestURIError(raw: string): string | undefined {
  const fail = (err: string): string => `parse ${goQuote(raw)}: ${err}`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) return fail("net/url: invalid control character in URL");
  if (raw === "") return fail("empty url");
  if (raw === "*") return undefined;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(raw);
  if (raw.startsWith(":")) return fail("missing protocol scheme");
  let rest = scheme === null ? raw : raw.slice(scheme[0].length);
  const query = rest.indexOf("?");
  if (query >= 0) rest = rest.slice(0, query);
  if (!rest.startsWith("/")) return scheme === null ? fail("invalid URI for request") : undefined;
  // A request URI has no fragment: "#" is part of the path or query.
  const parsed = goParseURL(raw.replaceAll("#", "%23"));
  return "error" in parsed ? fail(parsed.error.replace(/^parse "(?:[^"\\]|\\.)*": /, "")) : undefined;
}

const predicate =
  (name: keyof typeof formats, message: string) =>
  (s: string): string[] =>
    formats[name]?.(s) === true ? [] : [message];

/** ConstantFormats: the formats `format.named` knows, by CEL name. */
const namedFormats: ReadonlyMap<string, NamedFormat> = new Map(
  (
    [
      ["dns1123Label", "DNS1123Label", (s) => nameIsDNSLabel(s, false)],
      ["dns1123Subdomain", "DNS1123Subdomain", (s) => nameIsDNSSubdomain(s, false)],
      ["dns1035Label", "DNS1035Label", (s) => nameIsDNS1035Label(s, false)],
      ["qualifiedName", "QualifiedName", isQualifiedName],
      ["dns1123LabelPrefix", "DNS1123LabelPrefix", (s) => nameIsDNSLabel(s, true)],
      ["dns1123SubdomainPrefix", "DNS1123SubdomainPrefix", (s) => nameIsDNSSubdomain(s, true)],
      ["dns1035LabelPrefix", "DNS1035LabelPrefix", (s) => nameIsDNS1035Label(s, true)],
      ["labelValue", "LabelValue", isValidLabelValue],
      [
        "uri",
        "URI",
        (s) => {
          const err = parseRequestURIError(s);
          return err === undefined ? [] : [err];
        },
      ],
      ["uuid", "uuid", predicate("uuid", "does not match the UUID format")],
      ["byte", "byte", predicate("byte", "invalid base64")],
      ["date", "date", predicate("date", "invalid date")],
      ["datetime", "datetime", predicate("datetime", "invalid datetime")],
    ] as const satisfies readonly (readonly [string, string, (s: string) => string[]])[]
  ).map(([key, name, validate]) => [key, new NamedFormat(name, validate)]),
);

/** Registers the format library on `env`. */
export function registerFormatLibrary(env: Environment): void {
  env.registerType("kubernetes.NamedFormat", NamedFormat);
  env.registerType("FormatNamespace", FormatNamespace);
  env.registerConstant("format", "FormatNamespace", new FormatNamespace());
  env.registerFunction(
    "FormatNamespace.named(string): optional<kubernetes.NamedFormat>",
    (_: unknown, name: string) => {
      const f = namedFormats.get(name);
      return f === undefined ? Optional.none() : Optional.of(f);
    },
  );
  for (const [key, f] of namedFormats) {
    env.registerFunction(`FormatNamespace.${key}(): kubernetes.NamedFormat`, () => f);
  }
  env.registerFunction(
    "kubernetes.NamedFormat.validate(string): optional<list<string>>",
    (f: NamedFormat, s: string) => {
      const errs = f.validate(s);
      return errs.length === 0 ? Optional.none() : Optional.of(errs);
    },
  );
  env.registerOperator("kubernetes.NamedFormat == kubernetes.NamedFormat", (a: NamedFormat, b: NamedFormat) =>
    a.equals(b),
  );
}
