import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { test } from "node:test";

import { generateCA, issueCertificate } from "./pki.ts";

test("a CA key in SEC 1 PEM (Helm's genPrivateKey) signs certificates as a PKCS#8 one does", async () => {
  const ca = await generateCA("test-ca");
  const sec1 = createPrivateKey(ca.keyPem).export({ type: "sec1", format: "pem" }) as string;
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  for (const keyPem of [ca.keyPem, sec1]) {
    const leaf = await issueCertificate(
      { certPem: ca.certPem, keyPem },
      { commonName: "leaf", usage: "client" },
    );
    assert.ok(new X509Certificate(leaf.certPem).verify(new X509Certificate(ca.certPem).publicKey));
  }
});

test("a CA key of another kind is refused", async () => {
  const ca = await generateCA("test-ca");
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
  await assert.rejects(
    issueCertificate({ certPem: ca.certPem, keyPem: rsa }, { commonName: "x", usage: "client" }),
  );
});
