// The field manager a request is recorded for, and upstream's checks of fieldManager/force.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError, type Status } from "../../apierrors/status.ts";
import { applyOptions, managerFromUserAgent, writeManager } from "./field-manager.ts";

function statusOf(fn: () => unknown): Status {
  try {
    fn();
  } catch (err) {
    if (isStatusError(err)) return err.status;
    throw err;
  }
  assert.fail("expected a StatusError");
}

describe("field managers", () => {
  test("the User-Agent's prefix before '/' names a manager that did not name itself", () => {
    assert.equal(managerFromUserAgent("kubectl/v1.32.4 (linux/amd64) kubernetes/abcdef"), "kubectl");
    assert.equal(managerFromUserAgent("kube-controller-manager/v1.32.0"), "kube-controller-manager");
    assert.equal(managerFromUserAgent("curl\u0007/8.0"), "curl");
    assert.equal(managerFromUserAgent(undefined), "");
    assert.equal(managerFromUserAgent("x".repeat(200)).length, 128);
  });

  test("?fieldManager= wins over the User-Agent (kubectl names its commands: kubectl-edit, kubectl-label…)", () => {
    assert.equal(
      writeManager(new URLSearchParams("fieldManager=kubectl-edit"), "kubectl/v1.32", "UpdateOptions"),
      "kubectl-edit",
    );
    assert.equal(writeManager(new URLSearchParams(""), "kubectl/v1.32", "CreateOptions"), "kubectl");
  });

  test("apply requires fieldManager: 422 on PatchOptions, as upstream", () => {
    const status = statusOf(() => applyOptions(new URLSearchParams("force=true")));
    assert.equal(status.code, 422);
    assert.equal(
      status.message,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    assert.deepEqual(status.details?.causes, [
      {
        reason: "FieldValueRequired",
        message: "Required value: is required for apply patch",
        field: "fieldManager",
      },
    ]);
    assert.deepEqual(applyOptions(new URLSearchParams("fieldManager=kubectl&force=true")), {
      manager: "kubectl",
      force: true,
    });
    assert.deepEqual(applyOptions(new URLSearchParams("fieldManager=m")), { manager: "m", force: false });
  });

  test("force is forbidden on other patches; long or unprintable managers are invalid", () => {
    const force = statusOf(() => writeManager(new URLSearchParams("force=true"), "", "PatchOptions"));
    assert.equal(
      force.message,
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
    const long = statusOf(() =>
      writeManager(new URLSearchParams(`fieldManager=${"m".repeat(129)}`), "", "CreateOptions"),
    );
    assert.equal(
      long.message,
      'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
    );
    const bell = statusOf(() => writeManager(new URLSearchParams("fieldManager=a%07"), "", "UpdateOptions"));
    assert.equal(
      bell.message,
      'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\a": invalid character U+0007 (at position 1)',
    );
  });
});
