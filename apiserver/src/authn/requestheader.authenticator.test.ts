import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { generateCA, issueCertificate, type CertKeyPair } from "../server/pki.ts";
import type { Tenant } from "../tenancy/instance.ts";
import {
  clientCertificatesOf,
  getJson,
  startHttpsServer,
  type TestHttpsServer,
} from "./https-test.helper.ts";
import { RequestHeaderAuthenticator, type RequestHeaderOptions } from "./requestheader.authenticator.ts";
import type { Authenticator, UserInfo } from "./user.ts";
import { parsePemBundle } from "./x509-verify.ts";

const acme: Tenant = { name: "acme", uid: "uid-a" };
let proxyCA: CertKeyPair;
let clientCA: CertKeyPair;
let proxy: CertKeyPair;
let server: TestHttpsServer;
/** The authenticator the test server uses; each test sets its own. */
let authn: Authenticator;

const options = (extra: Partial<RequestHeaderOptions> = {}): RequestHeaderOptions => ({
  clientCA: parsePemBundle(proxyCA.certPem),
  allowedNames: ["front-proxy"],
  ...extra,
});

before(async () => {
  proxyCA = await generateCA("requestheader-ca");
  clientCA = await generateCA("client-ca");
  proxy = await issueCertificate(proxyCA, { commonName: "front-proxy", usage: "client" });
  server = await startHttpsServer(async (req, res) => {
    const user = await authn.authenticate({
      headers: req.headers,
      headersDistinct: req.headersDistinct,
      tenant: acme,
      peerCertificates: clientCertificatesOf(req),
    });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(user));
  });
});
after(() => server.close());

const identityHeaders = {
  "X-Remote-User": "alice",
  "X-Remote-Group": ["dev", "ops, with a comma"],
  "X-Remote-Extra-Scopes": ["read", "write"],
  "X-Remote-Extra-Acme.com%2fProject": "web",
};
const send = async (
  client: CertKeyPair | undefined,
  headers: Record<string, string | string[]> = identityHeaders,
): Promise<UserInfo | null> => {
  const { status, body } = await getJson(server.url, {
    ca: server.ca.certPem,
    headers,
    ...(client === undefined ? {} : { client }),
  });
  assert.equal(status, 200);
  return body as UserInfo | null;
};

test("from the allowed proxy: user, every group header value, extra with lowercased %-decoded keys", async () => {
  authn = new RequestHeaderAuthenticator(options());
  assert.deepEqual(await send(proxy), {
    name: "alice",
    uid: "",
    groups: ["dev", "ops, with a comma", "system:authenticated"],
    extra: { scopes: ["read", "write"], "acme.com/project": ["web"] },
  });
});

test("the same headers from a client without a certificate are ignored", async () => {
  authn = new RequestHeaderAuthenticator(options());
  assert.equal(await send(undefined), null);
});

test("the same headers from a certificate of another CA, even with the allowed CN, are ignored", async () => {
  authn = new RequestHeaderAuthenticator(options());
  assert.equal(
    await send(await issueCertificate(clientCA, { commonName: "front-proxy", usage: "client" })),
    null,
  );
});

test("the same headers from the right CA but a CN not allowed are ignored; an empty list allows any CN", async () => {
  const other = await issueCertificate(proxyCA, { commonName: "someone-else", usage: "client" });
  authn = new RequestHeaderAuthenticator(options());
  assert.equal(await send(other), null);
  authn = new RequestHeaderAuthenticator(options({ allowedNames: [] }));
  assert.equal((await send(other))?.name, "alice");
});

test("an expired proxy certificate is not trusted", async () => {
  authn = new RequestHeaderAuthenticator(options());
  assert.equal(
    await send(
      await issueCertificate(proxyCA, { commonName: "front-proxy", usage: "client", validForMs: -1000 }),
    ),
    null,
  );
});

test("the proxy sending no user is not ours", async () => {
  authn = new RequestHeaderAuthenticator(options());
  assert.equal(await send(proxy, { "X-Remote-Group": "dev" }), null);
});

test("header names are configurable; the first non-empty user header wins", async () => {
  authn = new RequestHeaderAuthenticator(
    options({
      usernameHeaders: ["X-Proxy-User", "X-Remote-User"],
      uidHeaders: ["X-Remote-Uid"],
      groupHeaders: ["X-Proxy-Group"],
      extraHeaderPrefixes: ["X-Proxy-Extra-"],
    }),
  );
  assert.deepEqual(
    await send(proxy, {
      "X-Proxy-User": "",
      "X-Remote-User": "bob",
      "X-Remote-Uid": "u-7",
      "X-Proxy-Group": "admins",
      "X-Remote-Group": "ignored",
      "X-Proxy-Extra-Reason": "on-call",
    }),
    { name: "bob", uid: "u-7", groups: ["admins", "system:authenticated"], extra: { reason: ["on-call"] } },
  );
});
