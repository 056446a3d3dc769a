// Name and identifier checks of k8s.io/apimachinery/pkg/util/validation and
// pkg/api/validation/path (v1.32). Each returns upstream's list of messages, empty when valid;
// callers wrap each message in a field error. Lengths are counted in UTF-8 bytes, as Go does.

import type { FieldError } from "../../apierrors/status.ts";
import * as field from "./field.ts";
import type { Path } from "./field.ts";
import { byteLength, isObject } from "./wire.ts";

/** A name validator: `prefix` is true for metadata.generateName (a trailing "-" is allowed). */
export type NameValidator = (name: string, prefix: boolean) => string[];

export const maxLenError = (length: number): string => `must be no more than ${length} characters`;

export const emptyError = (): string => "must be non-empty";

export const inclusiveRangeError = (lo: number, hi: number): string =>
  `must be between ${lo} and ${hi}, inclusive`;

/** RegexError: `msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')`, spacing as upstream. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((e, i) => {
    if (i > 0) out += " or ";
    out += `'${e}', `;
  });
  return `${out}regex used for validation is '${fmt}')`;
}

const anchored = (fmt: string): RegExp => new RegExp(`^${fmt}$`);

const qnameCharFmt = "[A-Za-z0-9]";
const qnameExtCharFmt = "[-A-Za-z0-9_.]";
const qualifiedNameFmt = `(${qnameCharFmt}${qnameExtCharFmt}*)?${qnameCharFmt}`;
const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const qualifiedNameMaxLength = 63;
const qualifiedNameRegexp = anchored(qualifiedNameFmt);

/** IsQualifiedName: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  switch (parts.length) {
    case 1:
      name = parts[0] ?? "";
      break;
    case 2: {
      const prefix = parts[0] ?? "";
      name = parts[1] ?? "";
      if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
      else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
      break;
    }
    default:
      return [
        `a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")}` +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > qualifiedNameMaxLength)
    errs.push(`name part ${maxLenError(qualifiedNameMaxLength)}`);
  if (!qualifiedNameRegexp.test(name)) {
    errs.push(
      `name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")}`,
    );
  }
  return errs;
}

const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const labelValueMaxLength = 63;
const labelValueRegexp = anchored(labelValueFmt);

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > labelValueMaxLength) errs.push(maxLenError(labelValueMaxLength));
  if (!labelValueRegexp.test(value)) {
    errs.push(regexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345"));
  }
  return errs;
}

const dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
export const dns1123LabelMaxLength = 63;
const dns1123LabelRegexp = anchored(dns1123LabelFmt);

const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
export const dns1123SubdomainMaxLength = 253;
const dns1123SubdomainRegexp = anchored(dns1123SubdomainFmt);

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > dns1123LabelMaxLength) errs.push(maxLenError(dns1123LabelMaxLength));
  if (!dns1123LabelRegexp.test(value)) {
    // A valid subdomain that is not a valid label: the length was checked, so it has dots.
    if (dns1123SubdomainRegexp.test(value)) errs.push("must not contain dots");
    else errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, "my-name", "123-abc"));
  }
  return errs;
}

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > dns1123SubdomainMaxLength) errs.push(maxLenError(dns1123SubdomainMaxLength));
  if (!dns1123SubdomainRegexp.test(value)) {
    errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, "example.com"));
  }
  return errs;
}

const dns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const dns1035LabelMaxLength = 63;
const dns1035LabelRegexp = anchored(dns1035LabelFmt);

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > dns1035LabelMaxLength) errs.push(maxLenError(dns1035LabelMaxLength));
  if (!dns1035LabelRegexp.test(value))
    errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, "my-name", "abc-123"));
  return errs;
}

const configMapKeyFmt = "[-._a-zA-Z0-9]+";
const configMapKeyErrMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const configMapKeyRegexp = anchored(configMapKeyFmt);

/** IsConfigMapKey: the keys of ConfigMap data/binaryData and Secret data. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > dns1123SubdomainMaxLength) errs.push(maxLenError(dns1123SubdomainMaxLength));
  if (!configMapKeyRegexp.test(value)) {
    errs.push(regexError(configMapKeyErrMsg, configMapKeyFmt, "key.name", "KEY_NAME", "key-name"));
  }
  if (value === ".") errs.push("must not be '.'");
  else if (value === "..") errs.push("must not be '..'");
  else if (value.startsWith("..")) errs.push("must not start with '..'");
  return errs;
}

/** IsValidPortNum: 1..65535. */
export const isValidPortNum = (port: number): string[] =>
  port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];

/** IsValidPortName: an IANA service name. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port))
    errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(port)) errs.push("must contain at least one letter (a-z)");
  if (port.includes("--")) errs.push("must not contain consecutive hyphens");
  if (port.length > 0 && (port.startsWith("-") || port.endsWith("-"))) {
    errs.push("must not begin or end with a hyphen");
  }
  return errs;
}

/** path.IsValidPathSegmentName: what any name must be to sit in a URL path and a storage key. */
export function isValidPathSegmentName(name: string): string[] {
  for (const bad of [".", ".."]) if (name === bad) return [`may not be '${bad}'`];
  return isValidPathSegmentPrefix(name);
}

export function isValidPathSegmentPrefix(name: string): string[] {
  const errs: string[] = [];
  for (const bad of ["/", "%"]) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** IsFullyQualifiedName (webhook names): a DNS subdomain of at least three segments. */
export function isFullyQualifiedName(path: Path, name: string): FieldError[] {
  if (name.length === 0) return [field.required(path)];
  const errs = isDNS1123Subdomain(name);
  if (errs.length > 0) return [field.invalid(path, name, errs.join(","))];
  if (name.split(".").length < 3) {
    return [field.invalid(path, name, "should be a domain with at least three segments separated by dots")];
  }
  return [];
}

// ---- name validators (ValidateNameFunc) ---------------------------------------------------

/** maskTrailingDash: a generateName may end in "-"; upstream replaces the last two characters. */
const maskTrailingDash = (name: string): string =>
  name.length > 1 && name.endsWith("-") ? `${name.slice(0, -2)}a` : name;

export const nameIsDNSSubdomain: NameValidator = (name, prefix) =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);

export const nameIsDNSLabel: NameValidator = (name, prefix) =>
  isDNS1123Label(prefix ? maskTrailingDash(name) : name);

export const nameIsDNS1035Label: NameValidator = (name, prefix) =>
  isDNS1035Label(prefix ? maskTrailingDash(name) : name);

/** path.ValidatePathSegmentName: the generic check every kind's name passes (and RBAC's only one). */
export const pathSegmentName: NameValidator = (name, prefix) =>
  prefix ? isValidPathSegmentPrefix(name) : isValidPathSegmentName(name);

/** RBAC's minimalNameRequirements: path-segment rules for the name, even for generateName. */
export const rbacName: NameValidator = (name) => isValidPathSegmentName(name);

/** A CRD's name must be a DNS subdomain equal to `<spec.names.plural>.<spec.group>`. */
export function crdNameValidator(crd: unknown): NameValidator {
  const spec = isObject(crd) && isObject(crd.spec) ? crd.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  const plural = typeof names.plural === "string" ? names.plural : "";
  const group = typeof spec.group === "string" ? spec.group : "";
  return (name, prefix) => {
    const errs = nameIsDNSSubdomain(name, prefix);
    if (name !== `${plural}.${group}`) errs.push('must be spec.names.plural+"."+spec.group');
    return errs;
  };
}

const dnsLabelKinds = new Set(["/Namespace"]);
const dns1035Kinds = new Set(["/Service"]);
const rbacKinds = new Set([
  "rbac.authorization.k8s.io/Role",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/RoleBinding",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
]);

/**
 * The name rule of a kind, by `<group>/<Kind>` ("/ConfigMap" for the core group): DNS-1123
 * subdomain unless noted. Namespace: DNS-1123 label. Service: DNS-1035 label (upstream's
 * ValidateServiceName). RBAC roles and bindings: path-segment names. Core v1 Event: the generic
 * path-segment check only. CRD: `<plural>.<group>` of `obj`.
 */
export function nameValidatorFor(kind: string, obj?: unknown): NameValidator {
  if (dnsLabelKinds.has(kind)) return nameIsDNSLabel;
  if (dns1035Kinds.has(kind)) return nameIsDNS1035Label;
  if (rbacKinds.has(kind)) return rbacName;
  if (kind === "/Event") return pathSegmentName;
  if (kind === "apiextensions.k8s.io/CustomResourceDefinition") return crdNameValidator(obj);
  return nameIsDNSSubdomain;
}
