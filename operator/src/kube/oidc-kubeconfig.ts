// The kubeconfig for people who sign in at a tenant's OIDC issuers (its spec.policy
// authentication.oidcIssuers): no credential in it, each user runs kubelogin as kubectl's exec
// credential plugin (`kubectl oidc-login get-token`, client.authentication.k8s.io/v1), the way
// kubelogin's own documentation writes it. Written by the operator into the tenant's second
// kubeconfig Secret.

import { kubeconfigOf } from "../../../apiserver/src/server/kubeconfig.ts";
import type { OIDCIssuerSpec } from "../../../apiserver/src/tenancy/controlplane.types.ts";

/** The kubeconfig `exec` block that gets an ID token from `issuer` with kubelogin. Pure. */
export function kubeloginExec(issuer: OIDCIssuerSpec): Record<string, unknown> {
  // The OAuth client is the audience the tenant accepts (kube's --oidc-client-id convention).
  const clientID = issuer.issuer.audiences[0] ?? "";
  // The CA is for the issuer's own URL only when no separate discovery URL is in between.
  const ca =
    issuer.issuer.certificateAuthority !== undefined && issuer.issuer.discoveryURL === undefined
      ? [`--certificate-authority-data=${Buffer.from(issuer.issuer.certificateAuthority).toString("base64")}`]
      : [];
  return {
    apiVersion: "client.authentication.k8s.io/v1",
    command: "kubectl",
    args: [
      "oidc-login",
      "get-token",
      `--oidc-issuer-url=${issuer.issuer.url}`,
      `--oidc-client-id=${clientID}`,
      ...ca,
    ],
    interactiveMode: "IfAvailable",
  };
}

/**
 * A kubeconfig of the tenant at `server` (whose serving certificate chains to `caPem`) with one
 * user and one context per issuer: the first issuer's context is `name` (the current one), the
 * others `name-2`, `name-3`…; users `oidc`, `oidc-2`… Pure.
 */
export function oidcKubeconfig(opts: {
  name: string;
  server: string;
  caPem: string;
  issuers: readonly OIDCIssuerSpec[];
}): string {
  const suffix = (i: number): string => (i === 0 ? "" : `-${i + 1}`);
  return kubeconfigOf({
    ...opts,
    users: opts.issuers.map((issuer, i) => ({
      name: `oidc${suffix(i)}`,
      context: `${opts.name}${suffix(i)}`,
      user: { exec: kubeloginExec(issuer) },
    })),
  });
}
