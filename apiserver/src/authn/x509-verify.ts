// Verifying a TLS client's certificate chain ourselves, as Go's x509.Verify does for kube's
// x509 and requestheader authenticators: the server asks for a certificate without verifying
// it (one TLS listener serves clients of several CAs), so each authenticator checks the
// presented chain against its own roots: signatures and issuer names link by link, validity
// dates, the CA flag of every issuer, and extended key usage clientAuth wherever a
// certificate restricts it.

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";

const clientAuthOid = "1.3.6.1.5.5.7.3.2";
const anyExtendedKeyUsageOid = "2.5.29.37.0";
/** Longest path walked from the leaf to a root (Go has no fixed limit; 10 is generous). */
const maxChainLength = 10;

/** Every certificate of a PEM bundle (a CA file), in order. */
export function parsePemBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/**
 * The certificates a TLS client presented on `socket`, leaf first (empty when it sent none).
 * For the server to hand every authenticator as AuthRequest.peerCertificates; the server must
 * listen with requestCert:true and rejectUnauthorized:false.
 */
export function peerCertificates(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let cur = socket.getPeerCertificate(true) as
    Partial<ReturnType<TLSSocket["getPeerCertificate"]>> | undefined;
  while (cur?.raw !== undefined && cur.fingerprint256 !== undefined && !seen.has(cur.fingerprint256)) {
    seen.add(cur.fingerprint256);
    out.push(new X509Certificate(cur.raw));
    cur = (cur as { issuerCertificate?: typeof cur }).issuerCertificate;
  }
  return out;
}

function validAt(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

/** No extended key usage means any; otherwise it must allow clientAuth (or any). */
function allowsClientAuth(cert: X509Certificate): boolean {
  // Node 20 names the extended key usages `keyUsage`; later versions add `extKeyUsage`.
  const eku = (cert as { extKeyUsage?: string[] }).extKeyUsage ?? cert.keyUsage;
  return (
    eku === undefined ||
    eku.length === 0 ||
    eku.includes(clientAuthOid) ||
    eku.includes(anyExtendedKeyUsageOid)
  );
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * The verified chain (leaf first, ending with one of `roots`), or null when the presented
 * certificates do not chain to a root for client authentication at `now`. Pure.
 */
export function verifyClientChain(
  presented: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: Date = new Date(),
): X509Certificate[] | null {
  const leaf = presented[0];
  if (leaf === undefined || roots.length === 0) return null;
  const t = now.getTime();
  if (!validAt(leaf, t) || !allowsClientAuth(leaf)) return null;
  const intermediates = presented.slice(1);
  const chain = [leaf];
  const used = new Set<X509Certificate>();
  let current = leaf;
  while (chain.length <= maxChainLength) {
    // A root first: the shortest path wins, and a root needs no further link.
    const root = roots.find((r) => issuedBy(current, r) && validAt(r, t) && allowsClientAuth(r));
    if (root !== undefined) return [...chain, root];
    const next = intermediates.find(
      (i) => !used.has(i) && i.ca && issuedBy(current, i) && validAt(i, t) && allowsClientAuth(i),
    );
    if (next === undefined) return null;
    used.add(next);
    chain.push(next);
    current = next;
  }
  return null;
}

/** The subject's common name and organizations (kube: user name and groups of a client certificate). */
export function subjectOf(cert: X509Certificate): { commonName: string; organizations: string[] } {
  const name = new x509.X509Certificate(cert.raw).subjectName;
  return { commonName: name.getField("CN")[0] ?? "", organizations: name.getField("O") };
}
