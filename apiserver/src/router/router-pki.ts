// The router's certificates, kept in the data directory's pki/ beside the shard's (pki.ts):
// its client certificate for the shards, issued by the requestheader CA with CN
// `multiplane-router` (the name the shards allow, kube's --requestheader-allowed-names), and
// what it serves with. Created on first use, reused on later starts.

import { ensureServingPKI, issueCertificate, loadOrCreate, type CertKeyPair } from "../server/pki.ts";

/** The CN of the router's client certificate; the shards' requestheader allowed names hold it. */
export const routerCommonName = "multiplane-router";

export interface RouterPKI {
  /** What the router serves with: the shards' serving certificate and CA, so one kubeconfig CA fits both. */
  readonly serving: CertKeyPair;
  /** The CA clients' kubeconfigs name (and that signs x509 client certificates). */
  readonly caPem: string;
  /** The CA the shards' serving certificates chain to. */
  readonly shardCAPem: string;
  /** The router's client certificate for the shards (requestheader CA, CN multiplane-router). */
  readonly client: CertKeyPair;
}

/**
 * The router's PKI in `dir` (a data directory's pki/): the CA, serving certificate and
 * requestheader CA as the shard makes them, plus `router-client.{crt,key}`. Hosts are the
 * serving certificate's names when it is created here.
 */
export async function ensureRouterPKI(dir: string, hosts: readonly string[]): Promise<RouterPKI> {
  const pki = await ensureServingPKI(dir, hosts);
  const client = await loadOrCreate(dir, "router-client", () =>
    issueCertificate(pki.requestHeaderCA, { commonName: routerCommonName, usage: "client" }),
  );
  return { serving: pki.serving, caPem: pki.ca.certPem, shardCAPem: pki.ca.certPem, client };
}
