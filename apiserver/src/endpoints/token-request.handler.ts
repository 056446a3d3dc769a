// The TokenRequest subresource (POST serviceaccounts/<name>/token, `kubectl create token`):
// mints a bound ServiceAccount token for the tenant, with kube's validation and answer.

import { invalid, notFound, conflict } from "../apierrors/status.ts";
import {
  defaultExpirationSeconds,
  issueServiceAccountToken,
  minExpirationSeconds,
  tenantAudience,
  type BoundObjectRef,
  type JwtIssuer,
} from "../authn/index.ts";
import type { KubeObject } from "../registry/printers.ts";
import { invalid as invalidField, notSupported, Path } from "../registry/validation/field.ts";
import type { FieldError } from "../apierrors/status.ts";
import { objectKey } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";

interface TokenRequestSpec {
  audiences?: string[] | null;
  expirationSeconds?: number | null;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null;
}

const tokenRequestKind = { group: "authentication.k8s.io", kind: "TokenRequest" };

/** Answers a TokenRequest for the ServiceAccount `namespace/name` (201 with status.token). */
export async function answerTokenRequest(
  instance: TenantInstance,
  issuer: JwtIssuer,
  namespace: string,
  name: string,
  body: KubeObject,
): Promise<KubeObject> {
  const spec = (body["spec"] ?? {}) as TokenRequestSpec;
  const expirationSeconds = spec.expirationSeconds ?? defaultExpirationSeconds;
  const errors: FieldError[] = [];
  const path = Path.root("spec", "expirationSeconds");
  if (expirationSeconds < minExpirationSeconds) {
    errors.push(invalidField(path, expirationSeconds, "may not specify a duration less than 10 minutes"));
  } else if (expirationSeconds > 2 ** 32) {
    errors.push(invalidField(path, expirationSeconds, "may not specify a duration larger than 2^32 seconds"));
  }
  const ref = spec.boundObjectRef ?? undefined;
  if (ref !== undefined && ref.kind !== "Secret") {
    errors.push(notSupported(Path.root("spec", "boundObjectRef", "kind"), ref.kind ?? "", ["Secret"]));
  }
  if (errors.length > 0) throw invalid(tokenRequestKind, name, errors);

  const sa = instance.cache.get(
    objectKey({ uid: instance.tenant.uid }, { group: "", resource: "serviceaccounts" }, namespace, name),
  );
  if (sa === undefined) throw notFound({ group: "", resource: "serviceaccounts" }, name);
  let boundObject: BoundObjectRef | undefined;
  if (ref !== undefined) {
    const secretName = ref.name ?? "";
    const secret =
      secretName === ""
        ? undefined
        : instance.cache.get(
            objectKey(
              { uid: instance.tenant.uid },
              { group: "", resource: "secrets" },
              namespace,
              secretName,
            ),
          );
    if (secret === undefined) throw notFound({ group: "", resource: "secrets" }, secretName);
    const uid = secret.obj.metadata?.uid ?? "";
    if (ref.uid !== undefined && ref.uid !== "" && ref.uid !== uid) {
      throw conflict(
        { group: "", resource: "secrets" },
        secretName,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    boundObject = { kind: "Secret", name: secretName, uid };
  }
  const audiences =
    spec.audiences && spec.audiences.length > 0 ? spec.audiences : [tenantAudience(instance.tenant)];
  const minted = await issueServiceAccountToken(issuer, {
    tenant: instance.tenant,
    namespace,
    name,
    uid: sa.obj.metadata?.uid ?? "",
    audiences,
    expirationSeconds,
    ...(boundObject !== undefined ? { boundObject } : {}),
  });
  return {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: { name, namespace, creationTimestamp: null } as unknown as NonNullable<KubeObject["metadata"]>,
    spec: {
      audiences,
      expirationSeconds,
      boundObjectRef:
        boundObject === undefined
          ? null
          : { kind: "Secret", apiVersion: "v1", name: boundObject.name, uid: boundObject.uid },
    },
    status: { token: minted.token, expirationTimestamp: minted.expirationTimestamp },
  };
}
