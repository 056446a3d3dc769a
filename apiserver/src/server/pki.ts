// The server's PKI: a self-signed CA and a serving certificate, generated once into a
// directory and reused on later starts (so kubeconfigs already handed out stay valid).
// ECDSA P-256 through WebCrypto, certificates built with @peculiar/x509.

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, webcrypto } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";

type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as never);

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const tenYears = 10 * 365 * 24 * 3600 * 1000;

export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

export interface ServingPKI {
  /** Signs the serving certificate and client certificates (kube's ca.crt, --client-ca-file). */
  ca: CertKeyPair;
  serving: CertKeyPair;
  /** Signs the router's client certificate only (kube's front-proxy-ca, --requestheader-client-ca-file). */
  requestHeaderCA: CertKeyPair;
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  const b64 = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

/** A P-256 signing key from PEM: PKCS#8 (ours, cert-manager's) or SEC 1 (Helm's genPrivateKey "ecdsa"). */
async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
  return webcrypto.subtle.importKey("pkcs8", der, algorithm, true, ["sign"]);
}

const serial = (): string =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString("hex")
    .replace(/^[89a-f]/, "1");

export async function generateCA(commonName: string): Promise<CertKeyPair> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + tenYears),
    signingAlgorithm: algorithm,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

export interface LeafOptions {
  commonName: string;
  /** Subject O= entries (Kubernetes reads them as groups on client certificates). */
  organizations?: readonly string[];
  /** DNS names and IP addresses for a serving certificate. */
  hosts?: readonly string[];
  usage: "server" | "client";
  validForMs?: number;
}

/** Issues a certificate signed by `ca`. */
export async function issueCertificate(ca: CertKeyPair, opts: LeafOptions): Promise<CertKeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKeyPem(ca.keyPem);
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const now = Date.now();
  const subject = [`CN=${opts.commonName}`, ...(opts.organizations ?? []).map((o) => `O=${o}`)].join(", ");
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(
      [opts.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  if (opts.hosts && opts.hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        opts.hosts.map((h) =>
          isIP(h) ? { type: "ip" as const, value: h } : { type: "dns" as const, value: h },
        ),
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + (opts.validForMs ?? tenYears)),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey as never,
    signingKey: caKey as never,
    extensions,
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

export async function loadOrCreate(
  dir: string,
  name: string,
  make: () => Promise<CertKeyPair>,
): Promise<CertKeyPair> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { certPem: await readFile(certPath, "utf8"), keyPem: await readFile(keyPath, "utf8") };
  }
  const pair = await make();
  await writeFile(keyPath, pair.keyPem, { mode: 0o600 });
  await writeFile(certPath, pair.certPem);
  return pair;
}

/** The CA and serving certificate in `dir`, created on first use. */
export async function ensureServingPKI(dir: string, hosts: readonly string[]): Promise<ServingPKI> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await loadOrCreate(dir, "ca", () => generateCA("multiplane-ca"));
  const serving = await loadOrCreate(dir, "serving", () =>
    issueCertificate(ca, { commonName: "multiplane-apiserver", hosts, usage: "server" }),
  );
  const requestHeaderCA = await loadOrCreate(dir, "requestheader-ca", () =>
    generateCA("multiplane-requestheader-ca"),
  );
  return { ca, serving, requestHeaderCA };
}
