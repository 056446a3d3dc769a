import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FieldError } from "../../apierrors/status.ts";
import {
  goParseURL,
  validateMutatingWebhookConfiguration,
  validateValidatingAdmissionPolicy,
  validateValidatingAdmissionPolicyBinding,
  validateValidatingWebhookConfiguration,
  validateValidatingWebhookConfigurationUpdate,
} from "./admissionregistration.ts";
import { flat } from "./upstream-messages.testdata.ts";

type Row = [string, () => FieldError[], [string, string, string][]];
const run = (rows: Row[]): void => {
  for (const [name, fn, want] of rows) test(name, () => assert.deepEqual(flat(fn()), want));
};
const hook = (h: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: "check.example.com",
  sideEffects: "None",
  admissionReviewVersions: ["v1"],
  clientConfig: { url: "https://hooks.example.com/check" },
  rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
  ...h,
});
const config = (...webhooks: Record<string, unknown>[]): Record<string, unknown> => ({
  metadata: { name: "cfg" },
  webhooks,
});
const form = "; desired format: https://host[/path]";

describe("webhook configurations", () => {
  run([
    ["valid", () => validateValidatingWebhookConfiguration(config(hook())), []],
    [
      "names are fully qualified and unique",
      () => validateValidatingWebhookConfiguration(config(hook({ name: "short" }), hook(), hook())),
      [
        [
          "FieldValueInvalid",
          "webhooks[0].name",
          'Invalid value: "short": should be a domain with at least three segments separated by dots',
        ],
        ["FieldValueDuplicate", "webhooks[2].name", 'Duplicate value: "check.example.com"'],
      ],
    ],
    [
      "url XOR service",
      () => validateValidatingWebhookConfiguration(config(hook({ clientConfig: {} }))),
      [
        [
          "FieldValueRequired",
          "webhooks[0].clientConfig",
          "Required value: exactly one of url or service is required",
        ],
      ],
    ],
    [
      "https only, no user info, query or fragment",
      () =>
        validateValidatingWebhookConfiguration(
          config(hook({ clientConfig: { url: "http://u:p@x.io/y?q=1#f" } })),
        ),
      [
        [
          "FieldValueInvalid",
          "webhooks[0].clientConfig.url",
          `Invalid value: "http": 'https' is the only allowed URL scheme${form}`,
        ],
        [
          "FieldValueInvalid",
          "webhooks[0].clientConfig.url",
          'Invalid value: "u:p": user information is not permitted in the URL',
        ],
        [
          "FieldValueInvalid",
          "webhooks[0].clientConfig.url",
          'Invalid value: "f": fragments are not permitted in the URL',
        ],
        [
          "FieldValueInvalid",
          "webhooks[0].clientConfig.url",
          'Invalid value: "q=1": query parameters are not permitted in the URL',
        ],
      ],
    ],
    [
      "an unparsable url",
      () => validateValidatingWebhookConfiguration(config(hook({ clientConfig: { url: "https://x:abc/" } }))),
      [
        [
          "FieldValueRequired",
          "webhooks[0].clientConfig.url",
          `Required value: url must be a valid URL: parse "https://x:abc/": invalid port ":abc" after host${form}`,
        ],
      ],
    ],
    [
      "service reference (upstream swaps name and namespace messages)",
      () =>
        validateValidatingWebhookConfiguration(
          config(hook({ clientConfig: { service: { name: "svc", port: 70000, path: "x" } } })),
        ),
      [
        [
          "FieldValueRequired",
          "webhooks[0].clientConfig.service.name",
          "Required value: service name is required",
        ],
        [
          "FieldValueInvalid",
          "webhooks[0].clientConfig.service.port",
          "Invalid value: 70000: port is not valid: must be between 1 and 65535, inclusive",
        ],
        [
          "FieldValueInvalid",
          "webhooks[0].clientConfig.service.path",
          `Invalid value: "x": must start with a '/'`,
        ],
        [
          "FieldValueInvalid",
          "webhooks[0].clientConfig.service.path",
          'Invalid value: "x": segment[0] may not be empty',
        ],
      ],
    ],
    [
      "side effects, policies and timeout",
      () =>
        validateMutatingWebhookConfiguration(
          config(
            hook({
              sideEffects: "Some",
              failurePolicy: "Never",
              matchPolicy: "Fuzzy",
              timeoutSeconds: 31,
              reinvocationPolicy: "Sometimes",
            }),
          ),
        ),
      [
        [
          "FieldValueNotSupported",
          "webhooks[0].failurePolicy",
          'Unsupported value: "Never": supported values: "Fail", "Ignore"',
        ],
        [
          "FieldValueNotSupported",
          "webhooks[0].matchPolicy",
          'Unsupported value: "Fuzzy": supported values: "Equivalent", "Exact"',
        ],
        [
          "FieldValueNotSupported",
          "webhooks[0].sideEffects",
          'Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
        ],
        [
          "FieldValueInvalid",
          "webhooks[0].timeoutSeconds",
          "Invalid value: 31: the timeout value must be between 1 and 30 seconds",
        ],
        [
          "FieldValueNotSupported",
          "webhooks[0].reinvocationPolicy",
          'Unsupported value: "Sometimes": supported values: "IfNeeded", "Never"',
        ],
      ],
    ],
    [
      "sideEffects and admissionReviewVersions are required",
      () =>
        validateValidatingWebhookConfiguration(
          config(hook({ sideEffects: undefined, admissionReviewVersions: [] })),
        ),
      [
        [
          "FieldValueRequired",
          "webhooks[0].sideEffects",
          "Required value: must specify one of None, NoneOnDryRun",
        ],
        [
          "FieldValueRequired",
          "webhooks[0].admissionReviewVersions",
          "Required value: must specify one of v1, v1beta1",
        ],
      ],
    ],
    [
      "admissionReviewVersions must include v1 or v1beta1",
      () => validateValidatingWebhookConfiguration(config(hook({ admissionReviewVersions: ["v2", "v2"] }))),
      [
        [
          "FieldValueInvalid",
          "webhooks[0].admissionReviewVersions[1]",
          'Invalid value: "v2": duplicate version',
        ],
        [
          "FieldValueInvalid",
          "webhooks[0].admissionReviewVersions",
          'Invalid value: []string{"v2", "v2"}: must include at least one of v1, v1beta1',
        ],
      ],
    ],
    [
      "rules",
      () =>
        validateValidatingWebhookConfiguration(
          config(
            hook({
              rules: [
                {
                  operations: ["*", "CREATE"],
                  apiGroups: [],
                  apiVersions: ["v1"],
                  resources: ["*", "pods"],
                  scope: "Tenant",
                },
              ],
            }),
          ),
        ),
      [
        [
          "FieldValueInvalid",
          "webhooks[0].rules[0].operations",
          'Invalid value: []admissionregistration.OperationType{"*", "CREATE"}: if \'*\' is present, must not specify other operations',
        ],
        ["FieldValueRequired", "webhooks[0].rules[0].apiGroups", "Required value"],
        [
          "FieldValueInvalid",
          "webhooks[0].rules[0].resources",
          'Invalid value: []string{"*", "pods"}: if \'*\' is present, must not specify other resources without subresources',
        ],
        [
          "FieldValueNotSupported",
          "webhooks[0].rules[0].scope",
          'Unsupported value: "Tenant": supported values: "*", "Cluster", "Namespaced"',
        ],
      ],
    ],
    [
      "match conditions: structure only",
      () =>
        validateValidatingWebhookConfiguration(
          config(
            hook({
              matchConditions: [
                { name: "a", expression: "true" },
                { name: "a", expression: " " },
              ],
            }),
          ),
        ),
      [
        ["FieldValueRequired", "webhooks[0].matchConditions[1].expression", "Required value"],
        ["FieldValueDuplicate", "webhooks[0].matchConditions[1].name", 'Duplicate value: "a"'],
      ],
    ],
    [
      "updates keep what the stored object already had",
      () =>
        validateValidatingWebhookConfigurationUpdate(
          config(hook({ sideEffects: "Some" })),
          config(hook({ sideEffects: "Unknown" })),
        ),
      [],
    ],
  ]);

  test("Go url.Parse errors", () => {
    assert.deepEqual(goParseURL("::"), { error: 'parse "::": missing protocol scheme' });
    assert.deepEqual(goParseURL("https://[::1"), { error: `parse "https://[::1": missing ']' in host` });
    assert.deepEqual(goParseURL("https://a b/"), {
      error: 'parse "https://a b/": invalid character " " in host name',
    });
    assert.deepEqual(goParseURL("https://x/%zz"), {
      error: 'parse "https://x/%zz": invalid URL escape "%zz"',
    });
  });
});

describe("ValidatingAdmissionPolicy and bindings", () => {
  const rules = [
    { operations: ["CREATE"], apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments"] },
  ];
  const policy = (spec: Record<string, unknown>): Record<string, unknown> => ({
    metadata: { name: "replicas" },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        matchPolicy: "Equivalent",
        namespaceSelector: {},
        objectSelector: {},
        resourceRules: rules,
      },
      validations: [{ expression: "object.spec.replicas <= 5" }],
      ...spec,
    },
  });
  run([
    ["valid policy", () => validateValidatingAdmissionPolicy(policy({})), []],
    [
      "failurePolicy, matchConstraints, validations",
      () =>
        validateValidatingAdmissionPolicy(
          policy({ failurePolicy: undefined, matchConstraints: undefined, validations: [] }),
        ),
      [
        ["FieldValueRequired", "spec.failurePolicy", "Required value"],
        ["FieldValueRequired", "spec.matchConstraints", "Required value"],
        [
          "FieldValueRequired",
          "spec.validations",
          "Required value: validations or auditAnnotations must contain at least one item",
        ],
        [
          "FieldValueRequired",
          "spec.auditAnnotations",
          "Required value: validations or auditAnnotations must contain at least one item",
        ],
      ],
    ],
    [
      "paramKind, variables, validation messages",
      () =>
        validateValidatingAdmissionPolicy(
          policy({
            paramKind: { apiVersion: "a/b/c", kind: "" },
            variables: [{ name: "in", expression: "1" }],
            validations: [{ expression: "true", message: "a\nb", reason: "Nope" }],
          }),
        ),
      [
        [
          "FieldValueInvalid",
          "spec.paramKind.apiVersion",
          'Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c',
        ],
        ["FieldValueRequired", "spec.paramKind.kind", "Required value"],
        [
          "FieldValueInvalid",
          "spec.variables[0].name",
          'Invalid value: "in": name is not a valid CEL identifier',
        ],
        [
          "FieldValueInvalid",
          "spec.validations[0].message",
          'Invalid value: "a\\nb": message must not contain line breaks',
        ],
        [
          "FieldValueNotSupported",
          "spec.validations[0].reason",
          'Unsupported value: "Nope": supported values: "Forbidden", "Invalid", "RequestEntityTooLarge"',
        ],
      ],
    ],
    [
      "binding: policy name, param ref, actions (path spelt as upstream)",
      () =>
        validateValidatingAdmissionPolicyBinding({
          metadata: { name: "b" },
          spec: {
            paramRef: { name: "x", selector: {}, parameterNotFoundAction: "Maybe" },
            matchResources: { matchPolicy: "Exact" },
            validationActions: ["Deny", "Warn"],
          },
        }),
      [
        ["FieldValueRequired", "spec.policyName", "Required value"],
        ["FieldValueForbidden", "spec.paramRef.name", "Forbidden: name and selector are mutually exclusive"],
        [
          "FieldValueForbidden",
          "spec.paramRef.selector",
          "Forbidden: name and selector are mutually exclusive",
        ],
        [
          "FieldValueNotSupported",
          "spec.paramRef.parameterNotFoundAction",
          'Unsupported value: "Maybe": supported values: "Deny", "Allow"',
        ],
        ["FieldValueRequired", "spec.matchResouces.namespaceSelector", "Required value"],
        ["FieldValueRequired", "spec.matchResouces.objectSelector", "Required value"],
        [
          "FieldValueInvalid",
          "spec.validationActions",
          'Invalid value: []admissionregistration.ValidationAction{"Deny", "Warn"}: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)',
        ],
      ],
    ],
    [
      "binding: at least one action",
      () =>
        validateValidatingAdmissionPolicyBinding({
          metadata: { name: "b" },
          spec: { policyName: "replicas" },
        }),
      [
        [
          "FieldValueRequired",
          "spec.validationActions",
          "Required value: at least one validation action is required",
        ],
      ],
    ],
  ]);
});
