import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, test } from "node:test";

import { generateCA, issueCertificate, type CertKeyPair } from "../server/pki.ts";
import type { Tenant } from "../tenancy/instance.ts";
import {
  clientCertificatesOf,
  getJson,
  issueIntermediateCA,
  startHttpsServer,
  type TestHttpsServer,
} from "./https-test.helper.ts";
import type { UserInfo } from "./user.ts";
import { X509Authenticator } from "./x509.authenticator.ts";
import { parsePemBundle, verifyClientChain } from "./x509-verify.ts";

const acme: Tenant = { name: "acme", uid: "uid-a" };
const globex: Tenant = { name: "globex", uid: "uid-g" };
let clientCA: CertKeyPair;
let otherCA: CertKeyPair;
let server: TestHttpsServer;

before(async () => {
  clientCA = await generateCA("client-ca");
  otherCA = await generateCA("other-ca");
  const authn = new X509Authenticator({ clientCAs: parsePemBundle(clientCA.certPem) });
  // The server authenticates each request with what its TLS client presented.
  server = await startHttpsServer(async (req, res) => {
    const user = await authn.authenticate({
      headers: req.headers,
      tenant: acme,
      peerCertificates: clientCertificatesOf(req),
    });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(user));
  });
});
after(() => server.close());

const whoAmI = async (client?: CertKeyPair, chain?: string): Promise<UserInfo | null> => {
  const { status, body } = await getJson(server.url, {
    ca: server.ca.certPem,
    ...(client === undefined ? {} : { client }),
    ...(chain === undefined ? {} : { chain }),
  });
  assert.equal(status, 200);
  return body as UserInfo | null;
};

test("a client certificate from the client CA names the user by CN and the groups by O", async () => {
  const alice = await issueCertificate(clientCA, {
    commonName: "alice",
    organizations: ["dev", "ops"],
    usage: "client",
  });
  const user = await whoAmI(alice);
  assert.ok(user);
  assert.equal(user.name, "alice");
  assert.equal(user.uid, "");
  assert.deepEqual(user.groups, ["dev", "ops", "system:authenticated"]);
  const fingerprint = new X509Certificate(alice.certPem).fingerprint256.replaceAll(":", "").toLowerCase();
  assert.deepEqual(user.extra, {
    "authentication.kubernetes.io/credential-id": [`X509SHA256=${fingerprint}`],
  });
});

test("no certificate, an expired one, or one from another CA: not ours", async () => {
  assert.equal(await whoAmI(), null);
  assert.equal(
    await whoAmI(
      await issueCertificate(clientCA, { commonName: "old", usage: "client", validForMs: -60_000 }),
    ),
    null,
  );
  assert.equal(
    await whoAmI(await issueCertificate(otherCA, { commonName: "mallory", usage: "client" })),
    null,
  );
});

test("a serving certificate (extended key usage without clientAuth) does not authenticate a client", async () => {
  assert.equal(
    await whoAmI(await issueCertificate(clientCA, { commonName: "web", hosts: ["web"], usage: "server" })),
    null,
  );
});

test("a chain through an intermediate CA the client sends verifies; without it, it does not", async () => {
  const intermediate = await issueIntermediateCA(clientCA, "team-ca");
  const bob = await issueCertificate(intermediate, {
    commonName: "bob",
    organizations: ["team"],
    usage: "client",
  });
  assert.equal((await whoAmI(bob, intermediate.certPem))?.name, "bob");
  assert.equal(await whoAmI(bob), null);
});

test("a certificate that is not a CA cannot act as an intermediate", async () => {
  const carol = await issueCertificate(clientCA, { commonName: "carol", usage: "client" });
  const forged = await issueCertificate(carol, {
    commonName: "admin",
    organizations: ["system:masters"],
    usage: "client",
  });
  assert.equal(await whoAmI(forged, carol.certPem), null);
});

test("a certificate without a CN is not ours; per-tenant client CAs refuse other tenants' certificates", async () => {
  const chain = [
    new X509Certificate((await issueCertificate(clientCA, { commonName: "dave", usage: "client" })).certPem),
  ];
  const perTenant = new X509Authenticator({
    clientCAs: (t) =>
      t.uid === acme.uid ? parsePemBundle(clientCA.certPem) : parsePemBundle(otherCA.certPem),
  });
  assert.equal(
    (await perTenant.authenticate({ headers: {}, tenant: acme, peerCertificates: chain }))?.name,
    "dave",
  );
  assert.equal(await perTenant.authenticate({ headers: {}, tenant: globex, peerCertificates: chain }), null);
  // verifyClientChain checks the dates at the time it is given.
  assert.ok(verifyClientChain(chain, parsePemBundle(clientCA.certPem)));
  assert.equal(
    verifyClientChain(
      chain,
      parsePemBundle(clientCA.certPem),
      new Date(Date.now() + 20 * 365 * 24 * 3600_000),
    ),
    null,
  );
});
