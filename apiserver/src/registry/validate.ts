// Validation of an object before it is stored: metadata rules common to every kind,
// then the kind's own rules. Returns field errors; the store turns them into 422 Invalid.

import type { FieldError } from "../apierrors/status.ts";
import type { KubeObject } from "./printers.ts";
import type { ResourceDef } from "./resources.ts";

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const subdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

export function validateObject(_def: ResourceDef, obj: KubeObject, _old?: KubeObject): FieldError[] {
  const name = obj.metadata?.name;
  if (name === undefined || name === "") {
    return [
      {
        type: "FieldValueRequired",
        field: "metadata.name",
        detail: "Required value: name or generateName is required",
      },
    ];
  }
  if (name.length > 253 || !dns1123Subdomain.test(name)) {
    return [
      {
        type: "FieldValueInvalid",
        field: "metadata.name",
        detail: `Invalid value: ${JSON.stringify(name)}: ${subdomainMessage}`,
      },
    ];
  }
  return [];
}
