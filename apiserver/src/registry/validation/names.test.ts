import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPortName,
  nameValidatorFor,
} from "./names.ts";
import {
  configKeyMsg,
  dns1035Msg,
  labelMsg,
  labelValueMsg,
  qualifiedNameSlashesMsg,
  qualifiedNamePartMsg,
  subdomainMsg,
} from "./upstream-messages.testdata.ts";

describe("name checks", () => {
  const cases: [string, (v: string) => string[], string, string[]][] = [
    ["subdomain ok", isDNS1123Subdomain, "example.com", []],
    ["subdomain upper case", isDNS1123Subdomain, "Foo", [subdomainMsg]],
    ["subdomain trailing dash", isDNS1123Subdomain, "foo-", [subdomainMsg]],
    ["subdomain too long", isDNS1123Subdomain, "a".repeat(254), ["must be no more than 253 characters"]],
    ["subdomain empty", isDNS1123Subdomain, "", [subdomainMsg]],
    ["label ok", isDNS1123Label, "my-name", []],
    ["label with dots", isDNS1123Label, "foo.bar", ["must not contain dots"]],
    ["label underscore", isDNS1123Label, "foo_bar", [labelMsg]],
    ["label too long", isDNS1123Label, "a".repeat(64), ["must be no more than 63 characters"]],
    ["dns-1035 leading digit", isDNS1035Label, "1abc", [dns1035Msg]],
    ["qualified name ok", isQualifiedName, "example.com/My_Name", []],
    ["qualified name bad char", isQualifiedName, "a b", [qualifiedNamePartMsg]],
    ["qualified name empty prefix", isQualifiedName, "/foo", ["prefix part must be non-empty"]],
    ["qualified name bad prefix", isQualifiedName, "Example.com/foo", [`prefix part ${subdomainMsg}`]],
    ["qualified name two slashes", isQualifiedName, "a/b/c", [qualifiedNameSlashesMsg]],
    [
      "qualified name empty name",
      isQualifiedName,
      "example.com/",
      ["name part must be non-empty", qualifiedNamePartMsg],
    ],
    [
      "qualified name too long",
      isQualifiedName,
      "a".repeat(64),
      ["name part must be no more than 63 characters"],
    ],
    ["label value empty ok", isValidLabelValue, "", []],
    ["label value bad", isValidLabelValue, "-x", [labelValueMsg]],
    ["config key ok", isConfigMapKey, "key.name", []],
    ["config key slash", isConfigMapKey, "a/b", [configKeyMsg]],
    ["config key dot dot", isConfigMapKey, "..", ["must not be '..'"]],
    ["config key ..prefix", isConfigMapKey, "..a", ["must not start with '..'"]],
    [
      "path segment slash and percent",
      isValidPathSegmentName,
      "a/b%",
      ["may not contain '/'", "may not contain '%'"],
    ],
    ["path segment dot", isValidPathSegmentName, ".", ["may not be '.'"]],
    [
      "port name",
      isValidPortName,
      "-Http--",
      [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must not contain consecutive hyphens",
        "must not begin or end with a hyphen",
      ],
    ],
  ];
  for (const [name, fn, value, want] of cases) {
    test(name, () => assert.deepEqual(fn(value), want));
  }
});

describe("nameValidatorFor", () => {
  const cases: [string, string, boolean, string[]][] = [
    ["/ConfigMap", "foo.bar", false, []],
    ["/ConfigMap", "Foo", false, [subdomainMsg]],
    ["/Namespace", "foo.bar", false, ["must not contain dots"]],
    ["/Service", "1abc", false, [dns1035Msg]],
    ["rbac.authorization.k8s.io/ClusterRole", "system:Admin", false, []],
    ["rbac.authorization.k8s.io/Role", "a/b", false, ["may not contain '/'"]],
    // generateName: a trailing dash is masked before the check
    ["/ConfigMap", "foo-", true, []],
    ["/Namespace", "Foo-", true, [labelMsg]],
  ];
  for (const [kind, name, prefix, want] of cases) {
    test(`${kind} ${name}${prefix ? " (prefix)" : ""}`, () =>
      assert.deepEqual(nameValidatorFor(kind)(name, prefix), want));
  }

  test("CRDs are named <plural>.<group>", () => {
    const crd = { spec: { group: "example.com", names: { plural: "widgets" } } };
    const validate = nameValidatorFor("apiextensions.k8s.io/CustomResourceDefinition", crd);
    assert.deepEqual(validate("widgets.example.com", false), []);
    assert.deepEqual(validate("gadgets.example.com", false), ['must be spec.names.plural+"."+spec.group']);
  });
});
