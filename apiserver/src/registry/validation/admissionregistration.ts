// admissionregistration.k8s.io validation as pkg/apis/admissionregistration/validation (v1.32):
// webhook configurations (names, rules, client config, side effects, review versions, policies,
// timeouts, selectors, match-condition structure) and the structure of ValidatingAdmissionPolicy
// and its bindings. CEL expressions are only checked for presence here; compiling them is done
// elsewhere. Expects v1 defaulting (failurePolicy, matchPolicy, selectors, timeout, service port).

import type { FieldError } from "../../apierrors/status.ts";
import * as field from "./field.ts";
import { GoRepr, Path, goQuote, goStringSlice, goStruct } from "./field.ts";
import {
  isDNS1035Label,
  isDNS1123Subdomain,
  isFullyQualifiedName,
  isValidPathSegmentName,
  isValidPortNum,
  nameIsDNSSubdomain,
} from "./names.ts";
import { validateLabelSelector, validateLabelName, validateObjectMetaCreate } from "./object-meta.ts";
import { Wire, byteLength, isObject, readRoot, type JsonObject } from "./wire.ts";

const failurePolicies = ["Fail", "Ignore"];
const matchPolicies = ["Equivalent", "Exact"];
const sideEffectClasses = ["None", "NoneOnDryRun", "Some", "Unknown"];
const noSideEffectClasses = ["None", "NoneOnDryRun"];
const operations = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const reinvocationPolicies = ["IfNeeded", "Never"];
const scopes = ["*", "Cluster", "Namespaced"];
const policyReasons = ["Forbidden", "Invalid", "RequestEntityTooLarge"];
const validationActions = ["Audit", "Deny", "Warn"];
/** AcceptedAdmissionReviewVersions. */
const acceptedReviewVersions = ["v1", "v1beta1"];
const maxMatchConditions = 64;
const maxAuditAnnotations = 20;
const maxAuditAnnotationValueExpressionLength = 5 * 1024;

interface Options {
  ignoreMatchConditions: boolean;
  requireNoSideEffects: boolean;
  requireRecognizedAdmissionReviewVersion: boolean;
  requireUniqueWebhookNames: boolean;
  allowInvalidLabelValueInSelector: boolean;
}

const createOptions: Options = {
  ignoreMatchConditions: false,
  requireNoSideEffects: true,
  requireRecognizedAdmissionReviewVersion: true,
  requireUniqueWebhookNames: true,
  allowInvalidLabelValueInSelector: false,
};

const genericMeta = { namespaced: false, nameValidator: nameIsDNSSubdomain };

// ---- rules --------------------------------------------------------------------------------

function validateResources(resources: string[], path: Path, allowSubresources: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (resources.length === 0) errs.push(field.required(path));
  if (!allowSubresources) {
    resources.forEach((r, i) => {
      if (r === "") errs.push(field.required(path.index(i)));
      if (r.includes("/")) errs.push(field.invalid(path.index(i), r, "must not specify subresources"));
    });
    if (resources.length > 1 && resources.includes("*")) {
      errs.push(
        field.invalid(
          path,
          goStringSlice("string", resources),
          "if '*' is present, must not specify other resources",
        ),
      );
    }
    return errs;
  }
  const withWildcardSub = new Set<string>();
  const subWithWildcardRes = new Set<string>();
  let doubleWildcard = false;
  let singleWildcard = false;
  let withoutSubresource = false;
  resources.forEach((r, i) => {
    if (r === "") {
      errs.push(field.required(path.index(i)));
      return;
    }
    if (r === "*/*") doubleWildcard = true;
    if (r === "*") singleWildcard = true;
    const slash = r.indexOf("/");
    if (slash < 0) {
      // Assigned, not or-ed, as upstream: ["*", "pods"] is refused, ["pods", "*"] is not.
      withoutSubresource = r !== "*";
      return;
    }
    const res = r.slice(0, slash);
    const sub = r.slice(slash + 1);
    if (withWildcardSub.has(res))
      errs.push(field.invalid(path.index(i), r, `if '${res}/*' is present, must not specify ${r}`));
    if (subWithWildcardRes.has(sub))
      errs.push(field.invalid(path.index(i), r, `if '*/${sub}' is present, must not specify ${r}`));
    if (sub === "*") withWildcardSub.add(res);
    if (res === "*") subWithWildcardRes.add(sub);
  });
  if (resources.length > 1 && doubleWildcard) {
    errs.push(
      field.invalid(
        path,
        goStringSlice("string", resources),
        "if '*/*' is present, must not specify other resources",
      ),
    );
  }
  if (singleWildcard && withoutSubresource) {
    errs.push(
      field.invalid(
        path,
        goStringSlice("string", resources),
        "if '*' is present, must not specify other resources without subresources",
      ),
    );
  }
  return errs;
}

function validateRule(rule: JsonObject, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  const groups = w.strings(rule.apiGroups, path.child("apiGroups")) ?? [];
  const versions = w.strings(rule.apiVersions, path.child("apiVersions")) ?? [];
  if (groups.length === 0) errs.push(field.required(path.child("apiGroups")));
  if (groups.length > 1 && groups.includes("*")) {
    errs.push(
      field.invalid(
        path.child("apiGroups"),
        goStringSlice("string", groups),
        "if '*' is present, must not specify other API groups",
      ),
    );
  }
  if (versions.length === 0) errs.push(field.required(path.child("apiVersions")));
  if (versions.length > 1 && versions.includes("*")) {
    errs.push(
      field.invalid(
        path.child("apiVersions"),
        goStringSlice("string", versions),
        "if '*' is present, must not specify other API versions",
      ),
    );
  }
  versions.forEach((v, i) => {
    if (v === "") errs.push(field.required(path.child("apiVersions").index(i)));
  });
  errs.push(
    ...validateResources(
      w.strings(rule.resources, path.child("resources")) ?? [],
      path.child("resources"),
      true,
    ),
  );
  const scope = w.string(rule.scope, path.child("scope"));
  if (scope !== undefined && !scopes.includes(scope))
    errs.push(field.notSupported(path.child("scope"), scope, scopes));
  return errs;
}

function validateRuleWithOperations(rule: JsonObject, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  const ops = w.strings(rule.operations, path.child("operations")) ?? [];
  if (ops.length === 0) errs.push(field.required(path.child("operations")));
  if (ops.length > 1 && ops.includes("*")) {
    errs.push(
      field.invalid(
        path.child("operations"),
        goStringSlice("admissionregistration.OperationType", ops),
        "if '*' is present, must not specify other operations",
      ),
    );
  }
  ops.forEach((op, i) => {
    if (!operations.includes(op))
      errs.push(field.notSupported(path.child("operations").index(i), op, operations));
  });
  errs.push(...validateRule(rule, path, w));
  return errs;
}

// ---- client config ------------------------------------------------------------------------

interface GoURL {
  scheme: string;
  host: string;
  userinfo: string | undefined;
  fragment: string;
  rawQuery: string;
}

const isHexChar = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** url.unescape: the first malformed escape, or (hosts) the first character a host may not hold. */
function unescapeError(s: string, host: boolean): string | undefined {
  for (let i = 0; i < s.length;) {
    const c = s[i] ?? "";
    if (c === "%") {
      if (i + 2 >= s.length || !isHexChar(s[i + 1]) || !isHexChar(s[i + 2])) {
        return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
      }
      if (host && parseInt(s[i + 1] ?? "0", 16) < 8 && s.slice(i, i + 3) !== "%25") {
        return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
      }
      i += 3;
      continue;
    }
    if (host && c.charCodeAt(0) < 0x80 && !/^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/.test(c)) {
      return `invalid character ${goQuote(c)} in host name`;
    }
    i++;
  }
  return undefined;
}

const percentDecode = (s: string): string =>
  Buffer.from(
    s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    "latin1",
  ).toString("utf8");

const validOptionalPort = (port: string): boolean => port === "" || /^:[0-9]*$/.test(port);

function parseHost(host: string): string | { error: string } {
  if (host.startsWith("[")) {
    const i = host.lastIndexOf("]");
    if (i < 0) return { error: "missing ']' in host" };
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) return { error: `invalid port ${goQuote(colonPort)} after host` };
  } else {
    const i = host.lastIndexOf(":");
    if (i !== -1 && !validOptionalPort(host.slice(i))) {
      return { error: `invalid port ${goQuote(host.slice(i))} after host` };
    }
  }
  const bad = unescapeError(host, true);
  return bad === undefined ? percentDecode(host) : { error: bad };
}

/** Go's url.Parse, reduced to what ValidateWebhookURL looks at; errors read `parse "<url>": …`. */
export function goParseURL(raw: string): GoURL | { error: string } {
  const hash = raw.indexOf("#");
  const u = hash < 0 ? raw : raw.slice(0, hash);
  const frag = hash < 0 ? "" : raw.slice(hash + 1);
  const fail = (url: string, err: string): { error: string } => ({ error: `parse ${goQuote(url)}: ${err}` });
  // parse(u)
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(u)) return fail(u, "net/url: invalid control character in URL");
  const result: GoURL = { scheme: "", host: "", userinfo: undefined, fragment: "", rawQuery: "" };
  if (u !== "*") {
    let rest = u;
    for (let i = 0; i < u.length; i++) {
      const c = u[i] ?? "";
      if (/[a-zA-Z]/.test(c)) continue;
      if (/[0-9+\-.]/.test(c)) {
        if (i === 0) break;
        continue;
      }
      if (c === ":") {
        if (i === 0) return fail(u, "missing protocol scheme");
        result.scheme = u.slice(0, i).toLowerCase();
        rest = u.slice(i + 1);
      }
      break;
    }
    if (rest.endsWith("?") && rest.split("?").length === 2) rest = rest.slice(0, -1);
    else {
      const q = rest.indexOf("?");
      if (q >= 0) {
        result.rawQuery = rest.slice(q + 1);
        rest = rest.slice(0, q);
      }
    }
    if (!rest.startsWith("/")) {
      if (result.scheme !== "") return finishFragment(result, frag, raw);
      const segment = rest.split("/")[0] ?? "";
      if (segment.includes(":")) return fail(u, "first path segment in URL cannot contain colon");
    }
    if ((result.scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
      let authority = rest.slice(2);
      rest = "";
      const slash = authority.indexOf("/");
      if (slash >= 0) {
        rest = authority.slice(slash);
        authority = authority.slice(0, slash);
      }
      const at = authority.lastIndexOf("@");
      const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
      if (typeof host !== "string") return fail(u, host.error);
      result.host = host;
      if (at >= 0) {
        const userinfo = authority.slice(0, at);
        if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) return fail(u, "net/url: invalid userinfo");
        for (const part of userinfo.split(":").slice(0, 2)) {
          const bad = unescapeError(part, false);
          if (bad !== undefined) return fail(u, bad);
        }
        result.userinfo = userinfo;
      }
    }
    const badPath = unescapeError(rest, false);
    if (badPath !== undefined) return fail(u, badPath);
  }
  return finishFragment(result, frag, raw);
}

function finishFragment(result: GoURL, frag: string, raw: string): GoURL | { error: string } {
  if (frag === "") return result;
  const bad = unescapeError(frag, false);
  if (bad !== undefined) return { error: `parse ${goQuote(raw)}: ${bad}` };
  return { ...result, fragment: percentDecode(frag) };
}

/** webhook.ValidateWebhookURL with forceHttps. */
function validateWebhookURL(path: Path, url: string): FieldError[] {
  const form = "; desired format: https://host[/path]";
  const u = goParseURL(url);
  if ("error" in u) return [field.required(path, `url must be a valid URL: ${u.error}${form}`)];
  const errs: FieldError[] = [];
  if (u.scheme !== "https")
    errs.push(field.invalid(path, u.scheme, `'https' is the only allowed URL scheme${form}`));
  if (u.host.length === 0) errs.push(field.invalid(path, u.host, `host must be provided${form}`));
  if (u.userinfo !== undefined)
    errs.push(field.invalid(path, u.userinfo, "user information is not permitted in the URL"));
  if (u.fragment.length > 0)
    errs.push(field.invalid(path, u.fragment, "fragments are not permitted in the URL"));
  if (u.rawQuery.length > 0)
    errs.push(field.invalid(path, u.rawQuery, "query parameters are not permitted in the URL"));
  return errs;
}

/**
 * webhook.ValidateWebhookService. Upstream calls it with the service's name and namespace swapped
 * (its parameters are namespace, name), so a missing name reads "service namespace is required"
 * on `.namespace` and vice versa; reproduced.
 */
function validateWebhookService(path: Path, service: JsonObject, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  const name = w.string(service.name, path.child("name")) ?? "";
  const namespace = w.string(service.namespace, path.child("namespace")) ?? "";
  const svcPath = w.string(service.path, path.child("path"));
  const port = w.int(service.port, path.child("port")) ?? 0;
  if (namespace.length === 0) errs.push(field.required(path.child("name"), "service name is required"));
  if (name.length === 0) errs.push(field.required(path.child("namespace"), "service namespace is required"));
  const portErrs = isValidPortNum(port);
  if (portErrs.length > 0)
    errs.push(field.invalid(path.child("port"), port, `port is not valid: ${portErrs.join(", ")}`));
  if (svcPath === undefined || svcPath === "/" || svcPath.length === 0) return errs;
  const pp = path.child("path");
  if (svcPath === "//") return [...errs, field.invalid(pp, svcPath, "segment[0] may not be empty")];
  if (!svcPath.startsWith("/")) errs.push(field.invalid(pp, svcPath, "must start with a '/'"));
  let check = svcPath.slice(1);
  if (check.endsWith("/")) check = check.slice(0, -1);
  check.split("/").forEach((step, i) => {
    if (step.length === 0) {
      errs.push(field.invalid(pp, svcPath, `segment[${i}] may not be empty`));
      return;
    }
    for (const failure of isDNS1123Subdomain(step))
      errs.push(field.invalid(pp, svcPath, `segment[${i}]: ${failure}`));
  });
  return errs;
}

// ---- match conditions ---------------------------------------------------------------------

function validateMatchConditions(v: unknown, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  const items = w.objects(v, path) ?? [];
  if (items.length > maxMatchConditions) errs.push(field.tooMany(path, items.length, maxMatchConditions));
  const names = new Set<string>();
  for (const [mc, i] of items) {
    const p = path.index(i);
    const expression = (w.string(mc.expression, p.child("expression")) ?? "").trim();
    if (expression.length === 0) errs.push(field.required(p.child("expression")));
    // Compiling the expression (validateMatchConditionsExpression) is done by the CEL layer.
    const name = w.string(mc.name, p.child("name")) ?? "";
    if (name.length === 0) errs.push(field.required(p.child("name")));
    else errs.push(...validateLabelName(name, p.child("name")));
    if (name.length > 0) {
      if (names.has(name)) errs.push(field.duplicate(p.child("name"), name));
      else names.add(name);
    }
  }
  return errs;
}

// ---- webhooks -----------------------------------------------------------------------------

function validateReviewVersions(
  versions: string[] | undefined,
  requireRecognized: boolean,
  path: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  const list = versions ?? [];
  if (list.length < 1)
    return [field.required(path, `must specify one of ${acceptedReviewVersions.join(", ")}`)];
  const seen = new Set<string>();
  let accepted = false;
  list.forEach((v, i) => {
    if (seen.has(v)) {
      errs.push(field.invalid(path.index(i), v, "duplicate version"));
      return;
    }
    seen.add(v);
    for (const msg of isDNS1035Label(v)) errs.push(field.invalid(path.index(i), v, msg));
    if (acceptedReviewVersions.includes(v)) accepted = true;
  });
  if (requireRecognized && !accepted) {
    errs.push(
      field.invalid(
        path,
        goStringSlice("string", versions),
        `must include at least one of ${acceptedReviewVersions.join(", ")}`,
      ),
    );
  }
  return errs;
}

function validateWebhook(
  hook: JsonObject,
  mutating: boolean,
  opts: Options,
  path: Path,
  w: Wire,
): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...isFullyQualifiedName(path.child("name"), w.string(hook.name, path.child("name")) ?? ""));
  for (const [rule, i] of w.objects(hook.rules, path.child("rules")) ?? []) {
    errs.push(...validateRuleWithOperations(rule, path.child("rules").index(i), w));
  }
  const failurePolicy = w.string(hook.failurePolicy, path.child("failurePolicy"));
  if (failurePolicy !== undefined && !failurePolicies.includes(failurePolicy)) {
    errs.push(field.notSupported(path.child("failurePolicy"), failurePolicy, failurePolicies));
  }
  const matchPolicy = w.string(hook.matchPolicy, path.child("matchPolicy"));
  if (matchPolicy !== undefined && !matchPolicies.includes(matchPolicy)) {
    errs.push(field.notSupported(path.child("matchPolicy"), matchPolicy, matchPolicies));
  }
  const allowed = opts.requireNoSideEffects ? noSideEffectClasses : sideEffectClasses;
  const sideEffects = w.string(hook.sideEffects, path.child("sideEffects"));
  if (sideEffects === undefined) {
    errs.push(field.required(path.child("sideEffects"), `must specify one of ${allowed.join(", ")}`));
  } else if (!allowed.includes(sideEffects)) {
    errs.push(field.notSupported(path.child("sideEffects"), sideEffects, allowed));
  }
  const timeout = w.int(hook.timeoutSeconds, path.child("timeoutSeconds"));
  if (timeout !== undefined && (timeout > 30 || timeout < 1)) {
    errs.push(
      field.invalid(
        path.child("timeoutSeconds"),
        timeout,
        "the timeout value must be between 1 and 30 seconds",
      ),
    );
  }
  const selectorOpts = { allowInvalidLabelValueInSelector: opts.allowInvalidLabelValueInSelector };
  if (hook.namespaceSelector !== undefined && hook.namespaceSelector !== null) {
    errs.push(
      ...validateLabelSelector(hook.namespaceSelector, selectorOpts, path.child("namespaceSelector"), w),
    );
  }
  if (hook.objectSelector !== undefined && hook.objectSelector !== null) {
    errs.push(...validateLabelSelector(hook.objectSelector, selectorOpts, path.child("objectSelector"), w));
  }
  if (mutating) {
    const reinvocation = w.string(hook.reinvocationPolicy, path.child("reinvocationPolicy"));
    if (reinvocation !== undefined && !reinvocationPolicies.includes(reinvocation)) {
      errs.push(field.notSupported(path.child("reinvocationPolicy"), reinvocation, reinvocationPolicies));
    }
  }
  const ccPath = path.child("clientConfig");
  const cc = w.object(hook.clientConfig, ccPath) ?? {};
  const url = w.string(cc.url, ccPath.child("url"));
  const service = w.object(cc.service, ccPath.child("service"));
  if ((url === undefined) === (service === undefined)) {
    errs.push(field.required(ccPath, "exactly one of url or service is required"));
  } else if (url !== undefined) {
    errs.push(...validateWebhookURL(ccPath.child("url"), url));
  } else if (service !== undefined) {
    errs.push(...validateWebhookService(ccPath.child("service"), service, w));
  }
  if (!opts.ignoreMatchConditions)
    errs.push(...validateMatchConditions(hook.matchConditions, path.child("matchConditions"), w));
  return errs;
}

function validateWebhookConfiguration(obj: unknown, mutating: boolean, opts: Options): FieldError[] {
  const { errs, w, o } = readRoot(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, genericMeta));
  const hooksPath = Path.root("webhooks");
  const names = new Set<string>();
  for (const [hook, i] of w.objects(o.webhooks, hooksPath) ?? []) {
    const p = hooksPath.index(i);
    errs.push(...validateWebhook(hook, mutating, opts, p, w));
    const versions = w.strings(hook.admissionReviewVersions, p.child("admissionReviewVersions"));
    errs.push(
      ...validateReviewVersions(
        versions,
        opts.requireRecognizedAdmissionReviewVersion,
        p.child("admissionReviewVersions"),
      ),
    );
    const name = typeof hook.name === "string" ? hook.name : "";
    if (opts.requireUniqueWebhookNames && name.length > 0) {
      if (names.has(name)) errs.push(field.duplicate(p.child("name"), name));
      else names.add(name);
    }
  }
  return errs;
}

const hooksOf = (obj: unknown): JsonObject[] =>
  isObject(obj) && Array.isArray(obj.webhooks) ? obj.webhooks.filter(isObject) : [];

/** The relaxations an update gets from what the stored object already had. */
function updateOptions(obj: unknown, old: unknown): Options {
  const next = hooksOf(obj);
  const prev = hooksOf(old);
  const strings = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  const sameConditions =
    next.length === prev.length &&
    next.every(
      (h, i) =>
        JSON.stringify(h.matchConditions ?? null) === JSON.stringify(prev[i]?.matchConditions ?? null),
    );
  const quiet = new Wire([]);
  const strict = { allowInvalidLabelValueInSelector: false };
  return {
    ignoreMatchConditions: sameConditions,
    requireNoSideEffects: prev.every(
      (h) => typeof h.sideEffects === "string" && noSideEffectClasses.includes(h.sideEffects),
    ),
    requireRecognizedAdmissionReviewVersion: prev.every((h) => {
      const versions = strings(h.admissionReviewVersions);
      return versions.length === 0 || versions.some((v) => acceptedReviewVersions.includes(v));
    }),
    requireUniqueWebhookNames: new Set(prev.map((h) => h.name)).size === prev.length,
    allowInvalidLabelValueInSelector: prev.some(
      (h) =>
        (h.namespaceSelector != null &&
          validateLabelSelector(h.namespaceSelector, strict, Path.root(""), quiet).length > 0) ||
        (h.objectSelector != null &&
          validateLabelSelector(h.objectSelector, strict, Path.root(""), quiet).length > 0),
    ),
  };
}

export const validateValidatingWebhookConfiguration = (obj: unknown): FieldError[] =>
  validateWebhookConfiguration(obj, false, createOptions);

export const validateMutatingWebhookConfiguration = (obj: unknown): FieldError[] =>
  validateWebhookConfiguration(obj, true, createOptions);

/** Update: the new object, with the old object's grandfathered looseness. No metadata-update rules. */
export const validateValidatingWebhookConfigurationUpdate = (obj: unknown, old: unknown): FieldError[] =>
  validateWebhookConfiguration(obj, false, updateOptions(obj, old));

export const validateMutatingWebhookConfigurationUpdate = (obj: unknown, old: unknown): FieldError[] =>
  validateWebhookConfiguration(obj, true, updateOptions(obj, old));

// ---- ValidatingAdmissionPolicy ------------------------------------------------------------

function validateParamKind(pk: JsonObject, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  const apiVersion = w.string(pk.apiVersion, path.child("apiVersion")) ?? "";
  const kind = w.string(pk.kind, path.child("kind")) ?? "";
  const avPath = path.child("apiVersion");
  if (apiVersion.length === 0) errs.push(field.required(avPath));
  else {
    const slashes = apiVersion.split("/").length - 1;
    if (apiVersion !== "/" && slashes > 1) {
      errs.push(field.invalid(avPath, apiVersion, `unexpected GroupVersion string: ${apiVersion}`));
    } else {
      const [group, version] =
        apiVersion === "/" ? ["", ""] : slashes === 0 ? ["", apiVersion] : apiVersion.split("/");
      if ((group ?? "").length > 0) {
        const e = isDNS1123Subdomain(group ?? "");
        if (e.length > 0) errs.push(field.invalid(avPath, group ?? "", e.join(",")));
      }
      if ((version ?? "").length === 0)
        errs.push(field.invalid(avPath, apiVersion, "version must be specified"));
      else {
        const e = isDNS1035Label(version ?? "");
        if (e.length > 0) errs.push(field.invalid(avPath, version ?? "", e.join(",")));
      }
    }
  }
  if (kind.length === 0) errs.push(field.required(path.child("kind")));
  else {
    const e = isDNS1035Label(kind.toLowerCase());
    if (e.length > 0) {
      errs.push(
        field.invalid(
          path.child("kind"),
          kind,
          `may have mixed case, but should otherwise match: ${e.join(",")}`,
        ),
      );
    }
  }
  return errs;
}

function validateMatchResources(mr: JsonObject | undefined, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  if (mr === undefined) return errs;
  const matchPolicy = w.string(mr.matchPolicy, path.child("matchPolicy"));
  if (matchPolicy === undefined) errs.push(field.required(path.child("matchPolicy")));
  else if (!matchPolicies.includes(matchPolicy)) {
    errs.push(field.notSupported(path.child("matchPolicy"), matchPolicy, matchPolicies));
  }
  for (const sel of ["namespaceSelector", "objectSelector"] as const) {
    if (mr[sel] === undefined || mr[sel] === null) errs.push(field.required(path.child(sel)));
    else errs.push(...validateLabelSelector(mr[sel], {}, path.child(sel), w));
  }
  for (const part of ["resourceRules", "excludeResourceRules"] as const) {
    for (const [rule, i] of w.objects(mr[part], path.child(part)) ?? []) {
      const p = path.child(part).index(i);
      const names = new Set<string>();
      (w.strings(rule.resourceNames, p.child("resourceNames")) ?? []).forEach((n, j) => {
        const np = p.child("resourceNames").index(j);
        for (const msg of isValidPathSegmentName(n)) errs.push(field.invalid(np, n, msg));
        if (names.has(n)) errs.push(field.duplicate(np, n));
        else names.add(n);
      });
      errs.push(...validateRuleWithOperations(rule, p, w));
    }
  }
  return errs;
}

const celIdentifier = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
const celReserved = new Set(
  "true false null in as break const continue else for function if import let loop package namespace return var void while".split(
    " ",
  ),
);

function validatePolicySpec(
  name: string,
  spec: JsonObject,
  path: Path,
  w: Wire,
  ignoreMatchConditions: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const failurePolicy = w.string(spec.failurePolicy, path.child("failurePolicy"));
  if (failurePolicy === undefined) errs.push(field.required(path.child("failurePolicy")));
  else if (!failurePolicies.includes(failurePolicy)) {
    errs.push(field.notSupported(path.child("failurePolicy"), failurePolicy, failurePolicies));
  }
  const paramKind = w.object(spec.paramKind, path.child("paramKind"));
  if (paramKind !== undefined) errs.push(...validateParamKind(paramKind, path.child("paramKind"), w));
  const constraints = w.object(spec.matchConstraints, path.child("matchConstraints"));
  if (constraints === undefined) errs.push(field.required(path.child("matchConstraints")));
  else {
    errs.push(...validateMatchResources(constraints, path.child("matchConstraints"), w));
    if (!Array.isArray(constraints.resourceRules) || constraints.resourceRules.length === 0) {
      errs.push(field.required(path.child("matchConstraints", "resourceRules")));
    }
  }
  if (!ignoreMatchConditions)
    errs.push(...validateMatchConditions(spec.matchConditions, path.child("matchConditions"), w));
  for (const [v, i] of w.objects(spec.variables, path.child("variables")) ?? []) {
    const p = path.child("variables").index(i);
    const vname = w.string(v.name, p.child("name")) ?? "";
    if (vname.trim() === "") errs.push(field.required(p.child("name"), "name is not specified"));
    else if (!celIdentifier.test(vname) || celReserved.has(vname)) {
      errs.push(field.invalid(p.child("name"), vname, "name is not a valid CEL identifier"));
    }
    if ((w.string(v.expression, p.child("expression")) ?? "").trim() === "") {
      errs.push(field.required(p.child("expression"), "expression is not specified"));
    }
  }
  const validations = w.objects(spec.validations, path.child("validations")) ?? [];
  const audit = w.objects(spec.auditAnnotations, path.child("auditAnnotations"));
  if (validations.length === 0 && (audit ?? []).length === 0) {
    const msg = "validations or auditAnnotations must contain at least one item";
    errs.push(
      field.required(path.child("validations"), msg),
      field.required(path.child("auditAnnotations"), msg),
    );
    return errs;
  }
  for (const [v, i] of validations) {
    const p = path.child("validations").index(i);
    if ((w.string(v.expression, p.child("expression")) ?? "").trim() === "") {
      errs.push(field.required(p.child("expression"), "expression is not specified"));
    }
    const messageExpression = w.string(v.messageExpression, p.child("messageExpression")) ?? "";
    if (messageExpression.length > 0 && messageExpression.trim().length === 0) {
      errs.push(
        field.invalid(p.child("messageExpression"), messageExpression, "must be non-empty if specified"),
      );
    }
    const message = w.string(v.message, p.child("message")) ?? "";
    if (message.length > 0 && message.trim().length === 0) {
      errs.push(field.invalid(p.child("message"), message, "message must be non-empty if specified"));
    } else if (/[\n\r]/.test(message.trim())) {
      errs.push(field.invalid(p.child("message"), message, "message must not contain line breaks"));
    }
    const reason = w.string(v.reason, p.child("reason"));
    if (reason !== undefined && !policyReasons.includes(reason)) {
      errs.push(field.notSupported(p.child("reason"), reason, policyReasons));
    }
  }
  if (audit !== undefined) {
    const auditPath = path.child("auditAnnotations");
    if (audit.length > maxAuditAnnotations) {
      const str = (v: unknown): string => (typeof v === "string" ? v : "");
      const items = audit.map(([a]) =>
        goStruct("admissionregistration.AuditAnnotation", [
          ["Key", goQuote(str(a.key))],
          ["ValueExpression", goQuote(str(a.valueExpression))],
        ]),
      );
      errs.push(
        field.invalid(
          auditPath,
          new GoRepr(`[]admissionregistration.AuditAnnotation{${items.join(", ")}}`),
          `must not have more than ${maxAuditAnnotations} auditAnnotations`,
        ),
      );
    }
    const keys = new Set<string>();
    for (const [a, i] of audit) {
      const p = auditPath.index(i);
      const key = w.string(a.key, p.child("key")) ?? "";
      if (name.length > 0) {
        for (const msg of validateLabelName(`${name}/${key}`, p.child("key"))) errs.push(msg);
      } else errs.push(field.invalid(p.child("key"), key, "requires metadata.name be non-empty"));
      const valueExpression = (w.string(a.valueExpression, p.child("valueExpression")) ?? "").trim();
      if (valueExpression.length === 0) {
        errs.push(field.required(p.child("valueExpression"), "valueExpression is not specified"));
      } else if (byteLength(valueExpression) > maxAuditAnnotationValueExpressionLength) {
        errs.push(
          field.required(
            p.child("valueExpression"),
            `must not exceed ${maxAuditAnnotationValueExpressionLength} bytes in length`,
          ),
        );
      }
      if (keys.has(key)) errs.push(field.duplicate(p.child("key"), key));
      keys.add(key);
    }
  }
  return errs;
}

function validatePolicy(obj: unknown, ignoreMatchConditions: boolean): FieldError[] {
  const { errs, w, o } = readRoot(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, genericMeta));
  const m = isObject(o.metadata) ? o.metadata : {};
  const name = typeof m.name === "string" ? m.name : "";
  errs.push(
    ...validatePolicySpec(
      name,
      w.object(o.spec, Path.root("spec")) ?? {},
      Path.root("spec"),
      w,
      ignoreMatchConditions,
    ),
  );
  return errs;
}

/** ValidateValidatingAdmissionPolicy (structure only; CEL compilation is elsewhere). */
export const validateValidatingAdmissionPolicy = (obj: unknown): FieldError[] => validatePolicy(obj, false);

/** Update: match conditions are not re-checked when neither they nor paramKind changed. */
export function validateValidatingAdmissionPolicyUpdate(obj: unknown, old: unknown): FieldError[] {
  const spec = (x: unknown): JsonObject => (isObject(x) && isObject(x.spec) ? x.spec : {});
  const same = (k: string): boolean =>
    JSON.stringify(spec(obj)[k] ?? null) === JSON.stringify(spec(old)[k] ?? null);
  return validatePolicy(obj, same("paramKind") && same("matchConditions"));
}

// ---- ValidatingAdmissionPolicyBinding -----------------------------------------------------

function validateParamRef(pr: JsonObject | undefined, path: Path, w: Wire): FieldError[] {
  const errs: FieldError[] = [];
  if (pr === undefined) return errs;
  const name = w.string(pr.name, path.child("name")) ?? "";
  const hasSelector = pr.selector !== undefined && pr.selector !== null;
  if (name.length > 0) {
    for (const msg of isValidPathSegmentName(name)) errs.push(field.invalid(path.child("name"), name, msg));
    if (hasSelector)
      errs.push(field.forbidden(path.child("name"), "name and selector are mutually exclusive"));
  }
  if (hasSelector) {
    errs.push(...validateLabelSelector(pr.selector, {}, path.child("selector"), w));
    if (name.length > 0)
      errs.push(field.forbidden(path.child("selector"), "name and selector are mutually exclusive"));
  }
  if (name.length === 0 && !hasSelector)
    errs.push(field.required(path, "one of name or selector must be specified"));
  const action = w.string(pr.parameterNotFoundAction, path.child("parameterNotFoundAction")) ?? "";
  if (action.length === 0) errs.push(field.required(path.child("parameterNotFoundAction")));
  else if (action !== "Deny" && action !== "Allow") {
    errs.push(field.notSupported(path.child("parameterNotFoundAction"), action, ["Deny", "Allow"]));
  }
  return errs;
}

/** ValidateValidatingAdmissionPolicyBinding (update validates the new object the same way). */
export function validateValidatingAdmissionPolicyBinding(obj: unknown): FieldError[] {
  const { errs, w, o } = readRoot(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, genericMeta));
  const specPath = Path.root("spec");
  const spec = w.object(o.spec, specPath) ?? {};
  const policyName = w.string(spec.policyName, specPath.child("policyName")) ?? "";
  if (policyName.length === 0) errs.push(field.required(specPath.child("policyName")));
  else {
    for (const msg of nameIsDNSSubdomain(policyName, false))
      errs.push(field.invalid(specPath.child("policyName"), policyName, msg));
  }
  errs.push(
    ...validateParamRef(w.object(spec.paramRef, specPath.child("paramRef")), specPath.child("paramRef"), w),
  );
  // Upstream's path is misspelt "matchResouces"; reproduced.
  errs.push(
    ...validateMatchResources(
      w.object(spec.matchResources, specPath.child("matchResources")),
      specPath.child("matchResouces"),
      w,
    ),
  );
  const actionsPath = specPath.child("validationActions");
  const actions = w.strings(spec.validationActions, actionsPath) ?? [];
  const seen = new Set<string>();
  actions.forEach((a, i) => {
    if (!validationActions.includes(a))
      errs.push(field.notSupported(actionsPath.index(i), a, validationActions));
    if (seen.has(a)) errs.push(field.duplicate(actionsPath.index(i), a));
    seen.add(a);
  });
  if (seen.has("Deny") && seen.has("Warn")) {
    errs.push(
      field.invalid(
        actionsPath,
        goStringSlice("admissionregistration.ValidationAction", actions),
        "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
      ),
    );
  }
  if (seen.size === 0) errs.push(field.required(actionsPath, "at least one validation action is required"));
  return errs;
}

export const validateValidatingAdmissionPolicyBindingUpdate = (obj: unknown, _old: unknown): FieldError[] =>
  validateValidatingAdmissionPolicyBinding(obj);
