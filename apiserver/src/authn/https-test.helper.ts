// Test support for the authenticators' tests: real HTTPS servers with certificates from
// server/pki.ts, and the TLS client certificates a server sees. Not used by production code.

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, request, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { generateCA, issueCertificate, type CertKeyPair } from "../server/pki.ts";
import { peerCertificates } from "./x509-verify.ts";

export interface TestHttpsServer {
  readonly url: string;
  /** The CA the server's certificate chains to. */
  readonly ca: CertKeyPair;
  close(): Promise<void>;
}

/** Starts an HTTPS server on 127.0.0.1 that asks for (but does not verify) client certificates. */
export async function startHttpsServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<TestHttpsServer> {
  const ca = await generateCA("test-server-ca");
  const serving = await issueCertificate(ca, {
    commonName: "localhost",
    hosts: ["127.0.0.1", "localhost"],
    usage: "server",
  });
  const server: Server = createServer(
    { key: serving.keyPem, cert: serving.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      Promise.resolve(handler(req, res)).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    ca,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The certificates the TLS client presented on this request's connection, leaf first. */
export function clientCertificatesOf(req: IncomingMessage): ReturnType<typeof peerCertificates> {
  return peerCertificates(req.socket as TLSSocket);
}

/** A GET with optional client certificate and headers (repeated headers as arrays); answers status and JSON. */
export function getJson(
  url: string,
  opts: { ca: string; client?: CertKeyPair; chain?: string; headers?: Record<string, string | string[]> },
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const r = request(
      url,
      {
        ca: opts.ca,
        headers: opts.headers ?? {},
        agent: false,
        ...(opts.client === undefined
          ? {}
          : {
              key: opts.client.keyPem,
              cert: [opts.client.certPem, ...(opts.chain === undefined ? [] : [opts.chain])].join("\n"),
            }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            body: text === "" ? undefined : (JSON.parse(text) as unknown),
          });
        });
      },
    );
    r.on("error", reject);
    r.end();
  });
}

/** An intermediate CA signed by `parent` (server/pki.ts makes only roots and leaves). */
export async function issueIntermediateCA(parent: CertKeyPair, commonName: string): Promise<CertKeyPair> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const parentCert = new x509.X509Certificate(parent.certPem);
  const der = Buffer.from(parent.keyPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const parentKey = await webcrypto.subtle.importKey("pkcs8", der, algorithm, false, ["sign"]);
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber:
      "0" +
      Buffer.from(webcrypto.getRandomValues(new Uint8Array(8)))
        .toString("hex")
        .slice(1),
    subject: `CN=${commonName}`,
    issuer: parentCert.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 24 * 3600_000),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey as never,
    signingKey: parentKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.AuthorityKeyIdentifierExtension.create(parentCert, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  return {
    certPem: cert.toString("pem"),
    keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, "$1\n").trimEnd()}\n-----END PRIVATE KEY-----\n`,
  };
}
