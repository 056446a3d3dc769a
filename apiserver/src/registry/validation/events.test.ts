import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FieldError } from "../../apierrors/status.ts";
import { validateLease, validateLeaseUpdate } from "./coordination.ts";
import { validateEvent, validateEventUpdate } from "./events.ts";
import { flat, qualifiedNamePartMsg } from "./upstream-messages.testdata.ts";

type Row = [string, () => FieldError[], [string, string, string][]];
const run = (rows: Row[]): void => {
  for (const [name, fn, want] of rows) test(name, () => assert.deepEqual(flat(fn()), want));
};

const event = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  metadata: { name: "e1", namespace: "default", resourceVersion: "1" },
  eventTime: "2024-01-01T00:00:00.000001Z",
  regarding: { kind: "Pod", namespace: "default", name: "p" },
  reportingController: "example.com/controller",
  reportingInstance: "controller-1",
  action: "Reconcile",
  reason: "Synced",
  type: "Normal",
  note: "ok",
  ...extra,
});

describe("events.k8s.io/v1 Event", () => {
  run([
    ["valid", () => validateEvent(event()), []],
    [
      "strict rules name the internal fields",
      () =>
        validateEvent(event({ eventTime: undefined, type: "Odd", deprecatedCount: 3, series: { count: 1 } })),
      [
        ["FieldValueInvalid", "series.count", 'Invalid value: "": should be at least 2'],
        ["FieldValueRequired", "series.lastObservedTime", "Required value"],
        ["FieldValueRequired", "eventTime", "Required value"],
        ["FieldValueInvalid", "type", 'Invalid value: "": has invalid value: Odd'],
        ["FieldValueInvalid", "count", 'Invalid value: "": needs to be unset'],
      ],
    ],
    [
      "reporting fields",
      () =>
        validateEvent(
          event({ reportingController: "bad controller", reportingInstance: "", note: "x".repeat(1025) }),
        ),
      [
        [
          "FieldValueInvalid",
          "reportingController",
          `Invalid value: "bad controller": ${qualifiedNamePartMsg}`,
        ],
        ["FieldValueRequired", "reportingInstance", "Required value"],
        ["FieldValueInvalid", "message", 'Invalid value: "": can have at most 1024 characters'],
      ],
    ],
    [
      "regarding must be in the event's namespace or default",
      () =>
        validateEvent(
          event({ metadata: { name: "e1", namespace: "team" }, regarding: { kind: "Node", name: "n" } }),
        ),
      [
        [
          "FieldValueInvalid",
          "involvedObject.namespace",
          'Invalid value: "": does not match event.namespace',
        ],
      ],
    ],
    [
      "most fields are immutable (reason is checked twice upstream)",
      () => validateEventUpdate(event({ reason: "Changed", note: "other" }), event()),
      [
        ["FieldValueInvalid", "reason", 'Invalid value: "Changed": field is immutable'],
        ["FieldValueInvalid", "message", 'Invalid value: "other": field is immutable'],
        ["FieldValueInvalid", "reason", 'Invalid value: "Changed": field is immutable'],
      ],
    ],
  ]);
});

describe("Lease", () => {
  const lease = (spec: Record<string, unknown>): Record<string, unknown> => ({
    metadata: { name: "kube-scheduler", namespace: "kube-system", resourceVersion: "1" },
    spec,
  });
  run([
    [
      "valid",
      () =>
        validateLease(
          lease({ holderIdentity: "a", leaseDurationSeconds: 15, renewTime: "2024-01-01T00:00:00.123456Z" }),
        ),
      [],
    ],
    [
      "durations and transitions",
      () => validateLease(lease({ leaseDurationSeconds: 0, leaseTransitions: -1 })),
      [
        ["FieldValueInvalid", "spec.leaseDurationSeconds", "Invalid value: 0: must be greater than 0"],
        [
          "FieldValueInvalid",
          "spec.leaseTransitions",
          "Invalid value: -1: must be greater than or equal to 0",
        ],
      ],
    ],
    [
      "strategy (reported on spec.strategy.strategy, as upstream)",
      () => validateLease(lease({ strategy: "Nope" })),
      [
        [
          "FieldValueNotSupported",
          "spec.strategy.strategy",
          'Unsupported value: "Nope": supported values: "OldestEmulationVersion"',
        ],
      ],
    ],
    [
      "preferredHolder needs a strategy",
      () => validateLease(lease({ preferredHolder: "x" })),
      [
        [
          "FieldValueForbidden",
          "spec.preferredHolder",
          "Forbidden: may only be specified if `strategy` is defined",
        ],
      ],
    ],
    [
      "a fractional duration is a type error",
      () => validateLeaseUpdate(lease({ leaseDurationSeconds: 1.5 }), lease({})),
      [
        [
          "FieldValueTypeInvalid",
          "spec.leaseDurationSeconds",
          'Invalid value: "number": must be of type integer',
        ],
      ],
    ],
  ]);
});
