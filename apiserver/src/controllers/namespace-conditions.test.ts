// Namespace deletion conditions: upstream's wording, and how they merge into the status.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { failingConditions, mergeConditions, type NamespaceCondition } from "./namespace-conditions.ts";

const t0 = "2026-01-01T00:00:00Z";
const t1 = "2026-01-01T00:00:05Z";

describe("namespace conditions", () => {
  test("words what remains as upstream does, sorted", () => {
    const failing = failingConditions(
      {
        remaining: new Map([
          ["widgets.example.com", 2],
          ["configmaps.", 1],
        ]),
        finalizers: new Map([
          ["z.io/x", 1],
          ["a.io/y", 2],
        ]),
        errors: ["unexpected items still remain in namespace: n for gvr: /v1, Resource=secrets"],
      },
      t0,
    );
    assert.deepEqual(failing, [
      {
        type: "NamespaceDeletionContentFailure",
        status: "True",
        lastTransitionTime: t0,
        reason: "ContentDeletionFailed",
        message:
          "Failed to delete all resource types, 1 remaining: unexpected items still remain in namespace: n for gvr: /v1, Resource=secrets",
      },
      {
        type: "NamespaceContentRemaining",
        status: "True",
        lastTransitionTime: t0,
        reason: "SomeResourcesRemain",
        message:
          "Some resources are remaining: configmaps. has 1 resource instances, widgets.example.com has 2 resource instances",
      },
      {
        type: "NamespaceFinalizersRemaining",
        status: "True",
        lastTransitionTime: t0,
        reason: "SomeFinalizersRemain",
        message:
          "Some content in the namespace has finalizers remaining: a.io/y in 2 resource instances, z.io/x in 1 resource instances",
      },
    ]);
  });

  test("fills in every owned type, keeps others, and moves lastTransitionTime only on a flip", () => {
    const foreign: NamespaceCondition = {
      type: "Example",
      status: "True",
      lastTransitionTime: t0,
      reason: "R",
      message: "m",
    };
    const remaining = failingConditions(
      { remaining: new Map([["configmaps.", 1]]), finalizers: new Map([["f", 1]]), errors: [] },
      t0,
    );
    const first = mergeConditions([foreign], remaining, t0);
    assert.equal(first.changed, true);
    assert.deepEqual(
      first.conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ["Example", "True", "R"],
        ["NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered"],
        ["NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions"],
        ["NamespaceDeletionContentFailure", "False", "ContentDeleted"],
        ["NamespaceContentRemaining", "True", "SomeResourcesRemain"],
        ["NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain"],
      ],
    );
    assert.equal(mergeConditions(first.conditions, remaining, t1).changed, false);

    const done = mergeConditions(first.conditions, [], t1);
    assert.equal(done.changed, true);
    const contentRemaining = done.conditions.find((c) => c.type === "NamespaceContentRemaining");
    assert.deepEqual(contentRemaining, {
      type: "NamespaceContentRemaining",
      status: "False",
      lastTransitionTime: t1,
      reason: "ContentRemoved",
      message: "All content successfully removed",
    });
    const discovery = done.conditions.find((c) => c.type === "NamespaceDeletionDiscoveryFailure");
    assert.equal(discovery?.lastTransitionTime, t0, "unchanged status keeps its time");
    assert.equal(
      done.conditions.find((c) => c.type === "NamespaceFinalizersRemaining")?.message,
      "All content-preserving finalizers finished",
    );
    assert.equal(first.conditions[4]?.status, "True", "the input list is not modified");
  });
});
