// Client certificates (kube's --client-ca-file): a presented chain that verifies against the
// client CAs for client authentication names the user by its subject's CN and its groups by
// the subject's O values. A request without a certificate, or whose certificate does not
// chain to a client CA, is not ours (another authenticator may know its bearer token).

import { createHash, type X509Certificate } from "node:crypto";
import type { Tenant } from "../tenancy/instance.ts";
import {
  credentialIdKey,
  withAuthenticatedGroup,
  type AuthRequest,
  type Authenticator,
  type UserInfo,
} from "./user.ts";
import { subjectOf, verifyClientChain } from "./x509-verify.ts";

export interface X509AuthenticatorOptions {
  /**
   * The client CAs: one list for every tenant, or the tenant's own (a certificate signed by
   * another tenant's CA is then not taken). Called on each request with a certificate; pure.
   */
  readonly clientCAs: readonly X509Certificate[] | ((tenant: Tenant) => readonly X509Certificate[]);
}

export class X509Authenticator implements Authenticator {
  constructor(private readonly options: X509AuthenticatorOptions) {}

  authenticate(req: AuthRequest): Promise<UserInfo | null> {
    return Promise.resolve(this.user(req));
  }

  private user(req: AuthRequest): UserInfo | null {
    const presented = req.peerCertificates ?? [];
    if (presented.length === 0) return null;
    const { clientCAs } = this.options;
    const roots = typeof clientCAs === "function" ? clientCAs(req.tenant) : clientCAs;
    const chain = verifyClientChain(presented, roots);
    if (chain === null) return null;
    const leaf = chain[0]!;
    const { commonName, organizations } = subjectOf(leaf);
    // kube's CommonNameUserConversion: no CN, no user.
    if (commonName === "") return null;
    const fingerprint = createHash("sha256").update(leaf.raw).digest("hex");
    return {
      name: commonName,
      uid: "",
      groups: withAuthenticatedGroup(organizations),
      extra: { [credentialIdKey]: [`X509SHA256=${fingerprint}`] },
    };
  }
}
