// Cases ported from k8s.io/apimachinery pkg/fields/selector_test.go (TestSplitTerms,
// TestSplitTerm, TestEscapeValue, TestSelectorParse, TestDeterministicParse,
// TestSelectorMatches, TestRequiresExactMatch), plus kube-apiserver v1.32's answers to an
// unsupported field (runtime.DefaultMetaV1FieldSelectorConversion and the kinds' own ones).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError } from "../../apierrors/status.ts";
import {
  escapeFieldValue,
  parseFieldSelector,
  requireSupportedFields,
  singleValueFor,
  type FieldLabelRejection,
  type FieldRequirement,
} from "./field-selector.ts";

/** The 400 a call throws: [reason, message]. */
function badRequestOf(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (err) {
    assert.ok(isStatusError(err), `expected a StatusError, got ${String(err)}`);
    assert.equal(err.code, 400);
    return [err.reason, err.message];
  }
  assert.fail("expected an error");
}

const req = (field: string, operator: "=" | "!=", value: string): FieldRequirement => ({
  field,
  operator,
  value,
});

describe("parseFieldSelector: valid selectors", () => {
  // [input, String(), requirements]
  const cases: [string, string, FieldRequirement[]][] = [
    // TestSelectorParse good strings round-trip.
    ["x=a,y=b,z=c", "x=a,y=b,z=c", [req("x", "=", "a"), req("y", "=", "b"), req("z", "=", "c")]],
    ["", "", []],
    ["x!=a,y=b", "x!=a,y=b", [req("x", "!=", "a"), req("y", "=", "b")]],
    ["x=a||y\\=b", "x=a||y\\=b", [req("x", "=", "a||y=b")]],
    ["x=a\\=\\=b", "x=a\\=\\=b", [req("x", "=", "a==b")]],
    // TestDeterministicParse: the terms are sorted.
    ["x=a,a=x", "a=x,x=a", [req("a", "=", "x"), req("x", "=", "a")]],
    ["a=x,x=a", "a=x,x=a", [req("a", "=", "x"), req("x", "=", "a")]],
    // TestSplitTerms / TestSplitTerm: empty terms, escapes, multi-byte.
    ["a=a,", "a=a", [req("a", "=", "a")]],
    [",a=a", "a=a", [req("a", "=", "a")]],
    [",", "", []],
    ["k=\\,,k2=v2", "k2=v2,k=\\,", [req("k2", "=", "v2"), req("k", "=", ",")]], // "2" sorts before "="
    ["k=\\\\,k2=v2", "k2=v2,k=\\\\", [req("k2", "=", "v2"), req("k", "=", "\\")]],
    ["k=\\\\\\,,k2=v2", "k2=v2,k=\\\\\\,", [req("k2", "=", "v2"), req("k", "=", "\\,")]],
    ["k=\\=", "k=\\=", [req("k", "=", "=")]],
    ["함=수,목=록", "목=록,함=수", [req("목", "=", "록"), req("함", "=", "수")]],
    // "==" is "=", the field part has no escaping, the first operator splits.
    ["b==value", "b=value", [req("b", "=", "value")]],
    ["c!=value", "c!=value", [req("c", "!=", "value")]],
    ["a!b=c", "a!b=c", [req("a!b", "=", "c")]],
    ["x\\,y=z", "x\\,y=z", [req("x\\,y", "=", "z")]],
    ["=foo", "=foo", [req("", "=", "foo")]],
    ["x==a,x=b", "x=a,x=b", [req("x", "=", "a"), req("x", "=", "b")]],
    [
      "metadata.namespace!=kube-system,metadata.name=foo",
      "metadata.name=foo,metadata.namespace!=kube-system",
      [req("metadata.name", "=", "foo"), req("metadata.namespace", "!=", "kube-system")],
    ],
    ["spec.nodeName=", "spec.nodeName=", [req("spec.nodeName", "=", "")]],
  ];
  for (const [input, canonical, requirements] of cases) {
    test(JSON.stringify(input), () => {
      const s = parseFieldSelector(input);
      assert.equal(s.toString(), canonical);
      assert.deepEqual(s.requirements, requirements);
      assert.equal(s.empty, requirements.length === 0);
    });
  }
});

describe("parseFieldSelector: invalid selectors answer 400 with kube's message", () => {
  // [input, Status message]
  const cases: [string, string][] = [
    // TestSelectorParse bad strings.
    ["x=a||y=b", "invalid field selector: unescaped character in value: 61"],
    ["x==a==b", "invalid field selector: unescaped character in value: 61"],
    ["x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"],
    ["x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"],
    ["x in (a,b,c)", "invalid selector: 'x in (a,b,c)'; can't understand 'b'"],
    ["x", "invalid selector: 'x'; can't understand 'x'"],
    // TestEscapeValue invalid sequences.
    ["k=\\", "invalid field selector: invalid escape sequence: \\"],
    ["k=\\\\\\", "invalid field selector: invalid escape sequence: \\"],
    ["k=\\a", "invalid field selector: invalid escape sequence: \\a"],
    ["k=\\a\\b\\", "invalid field selector: invalid escape sequence: \\a"],
    ["k=\\수", "invalid field selector: invalid escape sequence: \\수"],
    // The value starts after the first operator.
    ["x!==a", "invalid field selector: unescaped character in value: 61"],
    // Terms are checked in sorted order.
    ["z=\\q,a", "invalid selector: 'z=\\q,a'; can't understand 'a'"],
  ];
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => {
      assert.deepEqual(
        badRequestOf(() => parseFieldSelector(input)),
        ["BadRequest", message],
      );
    });
  }
});

describe("escapeFieldValue (TestEscapeValue)", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["a", "a"],
    ["=", "\\="],
    [",", "\\,"],
    ["\\", "\\\\"],
    ["\\=\\,\\", "\\\\\\=\\\\\\,\\\\"],
  ];
  for (const [raw, escaped] of cases) {
    test(JSON.stringify(raw), () => {
      assert.equal(escapeFieldValue(raw), escaped);
      assert.deepEqual(parseFieldSelector(`f=${escaped}`).requirements, [req("f", "=", raw)]);
    });
  }
});

describe("FieldSelector.matches (TestSelectorMatches)", () => {
  const fieldset = { foo: "bar", baz: "blah", complex: "=value\\,\\" };
  const cases: [string, Record<string, string>, boolean][] = [
    ["", { x: "y" }, true],
    ["x=y", { x: "y" }, true],
    ["x=y,z=w", { x: "y", z: "w" }, true],
    ["x!=y,z!=w", { x: "z", z: "a" }, true],
    ["notin=in", { notin: "in" }, true],
    ["x=y", { x: "z" }, false],
    ["x=y,z=w", { x: "w", z: "w" }, false],
    ["x!=y,z!=w", { x: "z", z: "w" }, false],
    ["foo=bar", fieldset, true],
    ["baz=blah", fieldset, true],
    ["foo=bar,baz=blah", fieldset, true],
    ["foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\", fieldset, true],
    ["foo=blah", fieldset, false],
    ["baz=bar", fieldset, false],
    ["foo=bar,foobar=bar,baz=blah", fieldset, false],
    // A missing field reads as "" (fields.Set.Get).
    ["x=", {}, true],
    ["x!=", {}, false],
    ["x!=a", {}, true],
    ["constructor=", {}, true],
  ];
  for (const [selector, fields, expected] of cases) {
    test(`${JSON.stringify(selector)} on ${JSON.stringify(fields)}`, () => {
      assert.equal(parseFieldSelector(selector).matches(fields), expected);
    });
  }
});

describe("singleValueFor (TestRequiresExactMatch)", () => {
  const cases: [string, string, string | undefined][] = [
    ["", "test", undefined],
    ["a=b", "test", undefined],
    ["test=b", "test", "b"],
    ["test=", "test", ""],
    ["test==b", "test", "b"],
    ["test!=b", "test", undefined],
    ["test!=", "test", undefined],
    ["a=,test=b", "test", "b"],
    ["test==b,test=a", "test", "b"], // the first term in sorted order ("==" sorts before "=a")
    ["metadata.namespace=ns,metadata.name=foo", "metadata.name", "foo"],
  ];
  for (const [selector, field, expected] of cases) {
    test(`${JSON.stringify(selector)} / ${field}`, () => {
      const s = parseFieldSelector(selector);
      assert.equal(singleValueFor(s, field), expected);
      assert.equal(s.requiresExactMatch(field), expected);
    });
  }
});

describe("requireSupportedFields (ListResource's ConvertFieldLabel)", () => {
  const metaOnly = ["metadata.name", "metadata.namespace"];
  const pod = [...metaOnly, "spec.nodeName", "status.phase"];
  // [selector, supported, rejection, message or undefined when accepted]
  const cases: [string, readonly string[], FieldLabelRejection, string | undefined][] = [
    // configmaps: no conversion of their own.
    [
      "foo=bar",
      metaOnly,
      "default",
      `"foo" is not a known field selector: only "metadata.name", "metadata.namespace"`,
    ],
    ["metadata.name=x,metadata.namespace!=y", metaOnly, "default", undefined],
    ["", metaOnly, "default", undefined],
    // pods and custom resources.
    ["status.hostIP=1.2.3.4", pod, "notSupported", "field label not supported: status.hostIP"],
    ["status.phase=Running,spec.nodeName=n1", pod, "notSupported", undefined],
    // The first unsupported term in sorted order is the one reported.
    ["z=1,a=2", metaOnly, "notSupported", "field label not supported: a"],
    // %q quoting of the field.
    [
      'a"b=1',
      metaOnly,
      "default",
      `"a\\"b" is not a known field selector: only "metadata.name", "metadata.namespace"`,
    ],
    [
      "=x",
      metaOnly,
      "default",
      `"" is not a known field selector: only "metadata.name", "metadata.namespace"`,
    ],
  ];
  for (const [selector, supported, rejection, message] of cases) {
    test(`${JSON.stringify(selector)} (${rejection})`, () => {
      const s = parseFieldSelector(selector);
      if (message === undefined) {
        requireSupportedFields(s, supported, rejection);
      } else {
        assert.deepEqual(
          badRequestOf(() => requireSupportedFields(s, supported, rejection)),
          ["BadRequest", message],
        );
      }
    });
  }

  test("rejection defaults to the metav1 default conversion's message", () => {
    assert.deepEqual(
      badRequestOf(() => requireSupportedFields(parseFieldSelector("spec.x=1"), metaOnly)),
      ["BadRequest", `"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"`],
    );
  });
});
