// The Statuses a failed patch answers with, beyond apierrors' constructors. kube-apiserver sends
// two shapes here that status.ts cannot make: errors.NewGenericServerResponse(422, …) for a
// patch that does not apply, and the bare 500 that ErrorToAPIStatus makes of a plain Go error.

import { StatusError, invalid } from "../../apierrors/status.ts";

/** The fixed message of errors.NewGenericServerResponse for a 422. */
export const patchNotAppliedMessage = "the server rejected our request due to an error in our request";

/**
 * 422 Invalid with empty details, the answer to a JSON patch that fails to apply (a failed
 * `test`, a missing path…) and to a strategic merge patch with lists of lists: kube hides the
 * underlying error behind errors.NewGenericServerResponse's generic message.
 */
export const patchNotApplied = (): StatusError =>
  new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: patchNotAppliedMessage,
    reason: "Invalid",
    details: {},
    code: 422,
  });

/**
 * 500 with no reason: what kube's ErrorToAPIStatus answers for an error that is not a Status,
 * e.g. strategicpatch's "map: … does not contain declared merge key: name".
 */
export const patchInternalError = (message: string): StatusError =>
  new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "",
    code: 500,
  });

/**
 * 422 Invalid on field "patch", kube's answer when the patched JSON does not decode into an
 * object (errors.NewInvalid(schema.GroupKind{}, "", …) in patch.go). `patched` is the patched
 * document as Go marshals it.
 */
export const patchedObjectInvalid = (patched: string, detail: string): StatusError =>
  invalid({ group: "", kind: "" }, "", [
    {
      type: "FieldValueInvalid",
      field: "patch",
      detail: `Invalid value: ${JSON.stringify(patched)}: ${detail}`,
    },
  ]);

/**
 * The error kube's JSON serializer gives when the patched document is not an object: its
 * SimpleMetaFactory reads apiVersion and kind into an anonymous struct.
 */
export const notAnObjectDecodeError = (jsonKind: string): string =>
  `couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKind} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`;
