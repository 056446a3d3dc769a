// Cases ported from k8s.io/apimachinery pkg/labels/selector_test.go (TestSelectorParse,
// TestDeterministicParse, TestSelectorMatches, TestSetSelectorParser, TestToString,
// TestRequirementSelectorMatching, TestRequirementConstructor) and metav1 helpers/validation,
// with the error texts kube-apiserver v1.32 sends (checked against kubectl v1.32's parser).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError, type FieldError } from "../../apierrors/status.ts";
import {
  labelSelectorFromObject,
  parseLabelSelector,
  validateLabelSelectorObject,
  type LabelSelectorObject,
} from "./label-selector.ts";

const nameRegexMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const valueRegexMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const a63 = "a".repeat(63);
const a64 = "a".repeat(64);
const a254 = "a".repeat(254);

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

describe("parseLabelSelector: valid selectors and their canonical string", () => {
  // [input, String()]
  const cases: [string, string][] = [
    // TestSelectorParse: String() is the input without spaces.
    ["x=a,y=b,z=c", "x=a,y=b,z=c"],
    ["", ""],
    ["x!=a,y=b", "x!=a,y=b"],
    ["x=", "x="],
    ["x= ", "x="],
    ["x=,z= ", "x=,z="],
    ["x= ,z= ", "x=,z="],
    ["!x", "!x"],
    ["x>1", "x>1"],
    ["x>1,z<5", "x>1,z<5"],
    // TestDeterministicParse: sorted by key.
    ["x=a,a=x", "a=x,x=a"],
    ["a=x,x=a", "a=x,x=a"],
    // TestSetSelectorParser.
    ["\rx", "x"],
    ["this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"],
    [
      "this-is-another-dns.domain.com/key-with-dash in (so,what)",
      "this-is-another-dns.domain.com/key-with-dash in (so,what)",
    ],
    [
      "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
      "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)",
    ],
    ["foo  in\t (abc)", "foo in (abc)"],
    ["x notin\n (abc)", "x notin (abc)"],
    ["x  notin\t\t\t(abc,def)", "x notin (abc,def)"],
    ["x in (abc,def)", "x in (abc,def)"],
    ["x in (abc,)", "x in (,abc)"],
    ["x in ()", "x in ()"],
    ["x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"],
    ["x,y in (a)", "x,y in (a)"],
    ["x=a", "x=a"],
    ["x<7", "x<7"],
    ["x=a,y!=b", "x=a,y!=b"],
    ["x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"],
    ["x notin ( )", "x notin ()"],
    ["x notin (, a)", "x notin (,a)"],
    ["a ", "a"],
    ["a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"], // "in" and "notin" as values
    // TestToString, written as selectors.
    ["z,y notin (jkl),x in (def,abc)", "x in (abc,def),y notin (jkl),z"],
    ["!z,y!=jkl,x notin (def,abc)", "x notin (abc,def),y!=jkl,!z"],
    ["x notin (abc),y in (jkl,mno),z notin ()", "x notin (abc),y in (jkl,mno),z notin ()"],
    ["x=abc,y==jkl,z!=a,z", "x=abc,y==jkl,z!=a,z"],
    ["x>2,y<8,z", "x>2,y<8,z"],
    // Sets drop duplicates; keys equal in sort keep their order; keywords as keys and values.
    ["x in (b,a,b,a)", "x in (a,b)"],
    ["x in (a,a,)", "x in (,a)"],
    ["b,a,b=1,a!=2", "a,a!=2,b,b=1"],
    ["notin=in", "notin=in"],
    ["in in (in)", "in in (in)"],
    ["example.com/key==v", "example.com/key==v"],
    [`${a63}=${a63}`, `${a63}=${a63}`],
    ["x>007", "x>007"],
    // A NUL reads as the end of the input where a token would start, and ends an identifier.
    ["x\u0000", "x"],
    ["x \u0000 y=z", "x"],
  ];
  for (const [input, canonical] of cases) {
    test(JSON.stringify(input), () => {
      const s = parseLabelSelector(input);
      assert.equal(s.toString(), canonical);
      assert.equal(s.empty, canonical === "");
      assert.equal(s.selectable, true);
    });
  }

  test("requirements are sorted by key, set values sorted and unique", () => {
    const s = parseLabelSelector("z in (b,a,b), !y, x==1, w>3");
    assert.deepEqual(s.requirements, [
      { key: "w", operator: "gt", values: ["3"] },
      { key: "x", operator: "==", values: ["1"] },
      { key: "y", operator: "!", values: [] },
      { key: "z", operator: "in", values: ["a", "b"] },
    ]);
    assert.ok(Object.isFrozen(s.requirements));
  });

  test("requiresExactMatch: the first requirement on the key decides", () => {
    const s = parseLabelSelector("a=1,b in (2),c in (3,4),d!=5,e==6");
    assert.equal(s.requiresExactMatch("a"), "1");
    assert.equal(s.requiresExactMatch("b"), "2");
    assert.equal(s.requiresExactMatch("c"), undefined);
    assert.equal(s.requiresExactMatch("d"), undefined);
    assert.equal(s.requiresExactMatch("e"), "6");
    assert.equal(s.requiresExactMatch("f"), undefined);
  });
});

describe("parseLabelSelector: invalid selectors answer 400 with kube's message", () => {
  // [input, Status message]
  const cases: [string, string][] = [
    // TestSelectorParse bad strings.
    ["x=a||y=b", `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${valueRegexMsg}`],
    ["x==a==b", "found '==', expected: ',' or 'end of string'"],
    ["!x=a", "found '=', expected: ',' or 'end of string'"],
    [
      "x<a",
      `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    // TestSetSelectorParser invalid ones.
    ["x,,y", "found ',', expected: identifier after ','"],
    [",x,y", "found ',', expected: !, identifier, or 'end of string'"],
    ["x nott in (y)", "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"],
    ["a in (xyz),", "found '', expected: identifier after ','"],
    ["a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"],
    ["a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"],
    ["a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ["a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ["(", "found '(', expected: !, identifier, or 'end of string'"],
    // Each error of the grammar.
    ["a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ["x in a", "unable to parse requirement: found 'a' expected: '('"],
    ["x in (a", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"],
    ["x in )", "unable to parse requirement: found ')' expected: '('"],
    ["x in (=", "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ["x=(a)", "unable to parse requirement: found '(', expected: identifier"],
    ["x=a b", "found 'b', expected: ',' or 'end of string'"],
    ["!", "unable to parse requirement: found '', expected: identifier"],
    ["!!x", "unable to parse requirement: found '!', expected: identifier"],
    ["!=a", "found '!=', expected: !, identifier, or 'end of string'"],
    ["x,", "found '', expected: identifier after ','"],
    [
      "x>",
      `unable to parse requirement: values[0]: Invalid value: "": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    [
      "x>99999999999999999999",
      `unable to parse requirement: values[0]: Invalid value: "99999999999999999999": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    // Keys: validated against a nil field path, hence "<nil>".
    [
      "a/b/c",
      `unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name ${nameRegexMsg} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
    [
      a64,
      `unable to parse requirement: <nil>: Invalid value: "${a64}": name part must be no more than 63 characters`,
    ],
    [
      "A_.com/x",
      `unable to parse requirement: <nil>: Invalid value: "A_.com/x": prefix part ${subdomainMsg}`,
    ],
    [
      `${a254}/x`,
      `unable to parse requirement: <nil>: Invalid value: "${a254}/x": prefix part must be no more than 253 characters`,
    ],
    ["/x", `unable to parse requirement: <nil>: Invalid value: "/x": prefix part must be non-empty`],
    [
      "x/",
      `unable to parse requirement: <nil>: Invalid value: "x/": name part must be non-empty; name part ${nameRegexMsg}`,
    ],
    ["-x", `unable to parse requirement: <nil>: Invalid value: "-x": name part ${nameRegexMsg}`],
    ['a"b', `unable to parse requirement: <nil>: Invalid value: "a\\"b": name part ${nameRegexMsg}`],
    // Values: the path names the (sorted) index and the key.
    ["x=-1", `unable to parse requirement: values[0][x]: Invalid value: "-1": ${valueRegexMsg}`],
    ["x in (a,-b)", `unable to parse requirement: values[0][x]: Invalid value: "-b": ${valueRegexMsg}`],
    [
      `x=${a64}`,
      `unable to parse requirement: values[0][x]: Invalid value: "${a64}": must be no more than 63 characters`,
    ],
    [
      "x<-a",
      `unable to parse requirement: [values[0]: Invalid value: "-a": for 'Gt', 'Lt' operators, the value must be an integer, values[0][x]: Invalid value: "-a": ${valueRegexMsg}]`,
    ],
    ["x=é", `unable to parse requirement: values[0][x]: Invalid value: "é": ${valueRegexMsg}`],
  ];
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => {
      assert.deepEqual(
        badRequestOf(() => parseLabelSelector(input)),
        ["BadRequest", message],
      );
    });
  }
});

describe("LabelSelector.matches", () => {
  const labelset = { foo: "bar", baz: "blah" };
  // [selector, labels, matches]
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    // TestSelectorMatches.
    ["", { x: "y" }, true],
    ["x=y", { x: "y" }, true],
    ["x=y,z=w", { x: "y", z: "w" }, true],
    ["x!=y,z!=w", { x: "z", z: "a" }, true],
    ["notin=in", { notin: "in" }, true],
    ["x", { x: "z" }, true],
    ["!x", { y: "z" }, true],
    ["x>1", { x: "2" }, true],
    ["x<1", { x: "0" }, true],
    ["x=z", {}, false],
    ["x=y", { x: "z" }, false],
    ["x=y,z=w", { x: "w", z: "w" }, false],
    ["x!=y,z!=w", { x: "z", z: "w" }, false],
    ["x", { y: "z" }, false],
    ["!x", { x: "z" }, false],
    ["x>1", { x: "0" }, false],
    ["x<1", { x: "2" }, false],
    ["foo=bar", labelset, true],
    ["baz=blah", labelset, true],
    ["foo=bar,baz=blah", labelset, true],
    ["foo=blah", labelset, false],
    ["baz=bar", labelset, false],
    ["foo=bar,foobar=bar,baz=blah", labelset, false],
    // TestRequirementSelectorMatching.
    ["x in (foo),y notin (alpha)", { x: "foo", y: "baz" }, true],
    ["x in (foo),y in (alpha)", { x: "foo", y: "baz" }, false],
    ["x notin (),y", { y: "" }, true],
    ["!x,y", { y: "" }, true],
    ["x notin (),!y", { y: "" }, false],
    ["x in ()", { y: "baz" }, false],
    ["z>1", { z: "2" }, true],
    ["z>1", { z: "v2" }, false],
    // Edges: empty values, missing labels, int64 bounds, no labels at all, prototype keys.
    ["x=", { x: "" }, true],
    ["x=", {}, false],
    ["x!=a", {}, true],
    ["x notin (a)", {}, true],
    ["x in (a,b)", { x: "b" }, true],
    ["x>9223372036854775806", { x: "9223372036854775807" }, true],
    ["x>1", { x: "9223372036854775808" }, false],
    ["x<0", { x: "-9223372036854775808" }, true],
    ["x<1", { x: "+0" }, true],
    ["x>1", { x: "1_0" }, false],
    ["", undefined, true],
    ["!x", undefined, true],
    ["x", undefined, false],
    ["constructor", {}, false],
    ["!toString", {}, true],
  ];
  for (const [selector, labels, expected] of cases) {
    test(`${JSON.stringify(selector)} on ${JSON.stringify(labels)}`, () => {
      assert.equal(parseLabelSelector(selector).matches(labels), expected);
    });
  }
});

describe("labelSelectorFromObject (metav1.LabelSelectorAsSelector)", () => {
  test("null and undefined select nothing", () => {
    for (const sel of [null, undefined]) {
      const s = labelSelectorFromObject(sel);
      assert.equal(s.matches({}), false);
      assert.equal(s.matches({ a: "b" }), false);
      assert.equal(s.empty, false);
      assert.equal(s.selectable, false);
      assert.equal(s.toString(), "");
      assert.deepEqual(s.requirements, []);
    }
  });

  test("an empty selector selects everything", () => {
    for (const sel of [{}, { matchLabels: {}, matchExpressions: [] }, { matchLabels: null }]) {
      const s = labelSelectorFromObject(sel);
      assert.equal(s.empty, true);
      assert.equal(s.selectable, true);
      assert.equal(s.matches({ a: "b" }), true);
      assert.equal(s.matches(undefined), true);
    }
  });

  // [object, String(), labels that match, labels that do not]
  const cases: [LabelSelectorObject, string, Record<string, string>, Record<string, string>][] = [
    [{ matchLabels: { b: "2", a: "1" } }, "a=1,b=2", { a: "1", b: "2", c: "3" }, { a: "1" }],
    [{ matchExpressions: [{ key: "x", operator: "In", values: ["foo"] }] }, "x in (foo)", { x: "foo" }, {}],
    [
      { matchExpressions: [{ key: "x", operator: "NotIn", values: ["foo"] }] },
      "x notin (foo)",
      {},
      { x: "foo" },
    ],
    [
      { matchExpressions: [{ key: "x", operator: "In", values: ["b", "a"] }] },
      "x in (a,b)",
      { x: "b" },
      { x: "c" },
    ],
    [
      {
        matchLabels: { z: "1" },
        matchExpressions: [
          { key: "y", operator: "DoesNotExist" },
          { key: "x", operator: "Exists", values: [] },
        ],
      },
      "x,!y,z=1",
      { x: "", z: "1" },
      { x: "", y: "", z: "1" },
    ],
  ];
  for (const [sel, canonical, yes, no] of cases) {
    test(JSON.stringify(sel), () => {
      const s = labelSelectorFromObject(sel);
      assert.equal(s.toString(), canonical);
      assert.equal(s.matches(yes), true);
      assert.equal(s.matches(no), false);
    });
  }

  test("values keep the object's order; the canonical string sorts them", () => {
    const s = labelSelectorFromObject({
      matchExpressions: [{ key: "x", operator: "In", values: ["b", "a", "b"] }],
    });
    assert.deepEqual(s.requirements[0]?.values, ["b", "a", "b"]);
    assert.equal(s.toString(), "x in (a,b,b)");
  });

  // TestRequirementConstructor and LabelSelectorAsSelector's errors: [object, message]
  const errors: [LabelSelectorObject, string][] = [
    [
      { matchExpressions: [{ key: "x1", operator: "In" }] },
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: "x2", operator: "NotIn", values: [] }] },
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: "x8", operator: "Exists", values: ["foo"] }] },
      `values: Invalid value: []string{"foo"}: values set must be empty for exists and does not exist`,
    ],
    [
      { matchExpressions: [{ key: a254, operator: "Exists" }] },
      `key: Invalid value: "${a254}": name part must be no more than 63 characters`,
    ],
    [
      { matchLabels: { x16: a254 } },
      `values[0][x16]: Invalid value: "${a254}": must be no more than 63 characters`,
    ],
    [{ matchLabels: { x17: "a b" } }, `values[0][x17]: Invalid value: "a b": ${valueRegexMsg}`],
    [
      { matchExpressions: [{ key: "x18", operator: "unsupportedOp" }] },
      `"unsupportedOp" is not a valid label selector operator`,
    ],
    [
      { matchExpressions: [{ key: "k", operator: "In", values: ["a b", "-c"] }] },
      `[values[0][k]: Invalid value: "a b": ${valueRegexMsg}, values[1][k]: Invalid value: "-c": ${valueRegexMsg}]`,
    ],
    [
      { matchExpressions: [{ key: "a b", operator: "Exists", values: ["v"] }] },
      `[key: Invalid value: "a b": name part ${nameRegexMsg}, values: Invalid value: []string{"v"}: values set must be empty for exists and does not exist]`,
    ],
  ];
  for (const [sel, message] of errors) {
    test(`rejects ${JSON.stringify(sel).slice(0, 80)}`, () => {
      assert.deepEqual(
        badRequestOf(() => labelSelectorFromObject(sel)),
        ["BadRequest", message],
      );
    });
  }
});

describe("validateLabelSelectorObject (metav1validation.ValidateLabelSelector)", () => {
  const path = "spec.selector";
  // [object, causes]
  const cases: [LabelSelectorObject | null, FieldError[]][] = [
    [null, []],
    [{}, []],
    [
      {
        matchLabels: { "example.com/a": "b", c: "" },
        matchExpressions: [
          { key: "x", operator: "In", values: ["a", "b"] },
          { key: "y", operator: "Exists" },
        ],
      },
      [],
    ],
    [
      { matchExpressions: [{ key: "x", operator: "In" }] },
      [
        {
          type: "FieldValueRequired",
          field: "spec.selector.matchExpressions[0].values",
          detail: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        },
      ],
    ],
    [
      {
        matchExpressions: [
          { key: "x", operator: "In", values: ["a"] },
          { key: "y", operator: "DoesNotExist", values: ["a"] },
        ],
      },
      [
        {
          type: "FieldValueForbidden",
          field: "spec.selector.matchExpressions[1].values",
          detail: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        },
      ],
    ],
    [
      { matchExpressions: [{ key: "x", operator: "Foo" }] },
      [
        {
          type: "FieldValueInvalid",
          field: "spec.selector.matchExpressions[0].operator",
          detail: 'Invalid value: "Foo": not a valid selector operator',
        },
      ],
    ],
    [
      { matchExpressions: [{ key: "/", operator: "Exists" }] },
      [
        {
          type: "FieldValueInvalid",
          field: "spec.selector.matchExpressions[0].key",
          detail: 'Invalid value: "/": prefix part must be non-empty',
        },
        {
          type: "FieldValueInvalid",
          field: "spec.selector.matchExpressions[0].key",
          detail: 'Invalid value: "/": name part must be non-empty',
        },
        {
          type: "FieldValueInvalid",
          field: "spec.selector.matchExpressions[0].key",
          detail: `Invalid value: "/": name part ${nameRegexMsg}`,
        },
      ],
    ],
    [
      { matchExpressions: [{ key: "x", operator: "NotIn", values: ["ok", "not ok"] }] },
      [
        {
          type: "FieldValueInvalid",
          field: "spec.selector.matchExpressions[0].values[1]",
          detail: `Invalid value: "not ok": ${valueRegexMsg}`,
        },
      ],
    ],
    [
      { matchLabels: { "a b": "c d" } },
      [
        {
          type: "FieldValueInvalid",
          field: "spec.selector.matchLabels",
          detail: `Invalid value: "a b": name part ${nameRegexMsg}`,
        },
        {
          type: "FieldValueInvalid",
          field: "spec.selector.matchLabels",
          detail: `Invalid value: "c d": ${valueRegexMsg}`,
        },
      ],
    ],
  ];
  for (const [sel, causes] of cases) {
    test(JSON.stringify(sel), () => {
      assert.deepEqual(validateLabelSelectorObject(sel, path), causes);
    });
  }

  test("allowInvalidLabelValueInSelector skips the values of expressions only", () => {
    const sel = {
      matchLabels: { a: "-" },
      matchExpressions: [{ key: "x", operator: "In", values: ["not ok"] }],
    };
    assert.deepEqual(
      validateLabelSelectorObject(sel, "selector", { allowInvalidLabelValueInSelector: true }).map(
        (e) => e.field,
      ),
      ["selector.matchLabels"],
    );
  });
});
