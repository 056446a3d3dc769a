// An OIDC issuer for tests: discovery and JWKS over real HTTPS (its own CA), and ID tokens
// signed with its ES256 key, as a tenant's policy.authentication.oidcIssuers expects them.

import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { generateCA, issueCertificate, type CertKeyPair } from "../../apiserver/src/server/pki.ts";

export interface TestIssuer {
  /** The issuer URL (https://127.0.0.1:<port>). */
  readonly url: string;
  /** The CA of its serving certificate: the issuer's certificateAuthority. */
  readonly ca: CertKeyPair;
  /** A serving certificate of the same CA for 127.0.0.1, for the test's other HTTPS servers. */
  readonly serving: CertKeyPair;
  /** An ID token of this issuer for `audience` (email_verified true, 10 minutes), with `claims`. */
  idToken(claims: Record<string, unknown>, audience: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the issuer on a free port of 127.0.0.1. */
export async function startOIDCIssuer(caName: string): Promise<TestIssuer> {
  const ca = await generateCA(caName);
  const serving = await issueCertificate(ca, { commonName: "idp", hosts: ["127.0.0.1"], usage: "server" });
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  let url = "";
  const server: Server = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify(
        req.url === "/keys"
          ? { keys: [jwk] }
          : { issuer: url, jwks_uri: `${url}/keys`, id_token_signing_alg_values_supported: ["ES256"] },
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    ca,
    serving,
    idToken: (claims, audience) =>
      new SignJWT({ email_verified: true, ...claims })
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuer(url)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(privateKey),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
